// Package consent is the consent domain of ofpdp: the Consent object PayNet sends in events
// (spec paynet-dp.md §5.1), its status lifecycle (§5.2), permissions and purposes, the parsing and
// validation of consent events (§3.1.1, design.md §3.6–3.7) and the customer identity hash
// (design.md §3.11). It holds no I/O: the store persists consents, the api package receives events.
package consent
