// Package consent is the consent domain of ofpdp: the Consent object PayNet sends in events
// (spec paynet-dp.md §5.1), its status lifecycle (§5.2), permissions and purposes, the parsing and
// validation of consent events (§3.1.1, design.md §3.6–3.7), the customer identity hash
// (design.md §3.11), and the rules around the customer's decision (design.md §3.9): what the
// customer approved (Approved), which later events would widen it (Approved.Widened), the
// effective consent data is served on (Effective), and from which status a decision may be
// recorded (DecisionFrom). It holds no I/O: the store persists consents, the api package
// receives events.
package consent
