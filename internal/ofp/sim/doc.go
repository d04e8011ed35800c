// Package sim is the PayNet OFP simulator of `ofpdp sandbox` and `ofpdp conformance` (design.md §1):
// it plays PayNet's authorization server (AS), resource server (RS) and key service against a DP
// that it reaches only over the network, exactly as PayNet would.
//
// AS side (spec paynet-dp.md §2.2 steps 3–10, §3.1.1, §3.1.2, §3.2.1, §5.1–5.2):
//   - creates consents as PayNet does (uuid consent_id, awaiting_authorization, expiration_datetime
//     at 23:59:59 +08:00 of the last validity day) and pushes them to the DP's
//     POST /v1/consents/events over mTLS with a detached x-fapi-signature (design.md §3.2, §3.6);
//   - builds the DP authorize URL with PayNet's attached `signature` over the raw consent_id
//     (spec §2.4, §4.4; design.md §3.3);
//   - receives the DP's PATCH /v1/consents/{consent_id} and checks it the way PayNet must: the DP's
//     client certificate, the detached JWS over the exact body (design.md §3.4), the body schema
//     (spec §3.2.1, §5.8), the id_token (spec §4.5) and the consent's state (spec §5.2); then sends
//     the consent_status_updated event;
//   - serves the browser callback (the redirect_uri, design.md §3.10) and forwards the outcome to the
//     data consumer's own callback;
//   - sends lifecycle events on request: revoke, suspend, reinstate, expire (spec §5.2, §7.3).
//
// RS side (spec §2.2 step 12, §3.1.5–3.1.8, §4.3): forwards account, balance, transaction and
// userinfo requests to the DP with PayNet's mTLS certificate, a detached x-fapi-signature over the
// empty body and x-enc-kid naming the DC's encryption certificate, then verifies the DP's response
// JWS and decrypts the JWE as the DC would (design.md §3.5).
//
// Key service (spec §3.2.2): PayNet's JWKS and the DC's JWKS at GET /v1/jwks/paynet and
// GET /v1/jwks/{dc_id} on the mTLS listener.
//
// The simulator has two listeners: `mtls` (HTTPS, the routes the DP calls, which require the DP's
// client certificate) and `public` (plain HTTP on loopback: the JSON API under /sim/ that people,
// tests, the mock DC and the conformance runner drive, and the browser callback). Client is the Go
// client of that JSON API; docs/sandbox.md describes it with curl examples. State is kept in memory
// and bounded.
package sim
