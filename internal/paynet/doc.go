// Package paynet holds ofpdp's calls to PayNet's Open Finance Platform (OFP), where the DP is the
// client rather than the server:
//
//   - the consent update, PATCH {consent_base_url}/v1/consents/{consent_id} over mTLS with a
//     DP-signed detached JWS (spec paynet-dp.md §3.2.1, §4.1, §4.2, §5.8; design.md §3.1, §3.4,
//     §3.7, §3.9), with bounded retries inside a time budget and every attempt handed to an
//     AttemptRecorder for the outbound_calls table (design.md §5; negative-tests C11);
//   - the key sets PayNet publishes: PayNet's own signing keys, resolved by kid for inbound
//     signature verification, and each DC's JWKS, from which the DC encryption key named by
//     x-enc-kid (its x5t#S256) is taken (spec §3.2.2, §4.3; design.md §3.2, §3.5). Both are cached
//     for at most 15 minutes, refreshed at most once per interval on an unknown kid, served from
//     cache while a refresh fails and until their TTL ends, then failed closed (negative-tests
//     S7, O1, D12).
//
// JOSE itself (signing, JWKS parsing, verification) lives in internal/jose; this package only
// moves bytes and keeps caches.
package paynet
