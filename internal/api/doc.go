// Package api is ofpdp's PayNet-facing listener (design.md §2 "api"): every request arrives over
// mTLS from PayNet and carries a signed x-fapi-signature. It implements
//   - POST /v1/consents/events (spec paynet-dp.md §3.1.1; design.md §3.6–3.7),
//   - the resource endpoints GET /v1/accounts/{account_id}[/balances|/transactions] and
//     GET /v1/oauth/userinfo (spec §3.1.3, §3.1.5–3.1.8; design.md §3.1, §3.5, §3.12, §3.14),
//
// behind one middleware chain: access log → interaction id → client-certificate allow-list →
// route → signature verification (design.md §3.2) → handler. Every refusal is a protoerr.Error (design.md §4).
package api
