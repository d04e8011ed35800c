// Package web is the customer authorization journey of the Data Provider: what a bank's customer
// sees on the web listener (design.md §2) after PayNet sends their browser to the DP.
//
// It implements:
//   - GET /v1/oauth/authorize and its Universal Link alias GET /OFM/MY/Authorize/AIS
//     (spec paynet-dp.md §3.1.2, §2.4): the redirect_uri allow-list is checked first, then PayNet's
//     attached `signature` over the raw consent_id (spec §4.4, design.md §3.3), then the consent's
//     status and 5-minute authorization window (spec §5.2);
//   - the journey pages of spec §7.5: login (username and password checked by the core bank,
//     lockout, design §3.11 identity match), the bank's second factor when authn.second_factor is
//     set (a one-time code, or approval in the bank's app awaited by a meta-refresh page), account
//     selection (only eligible accounts, spec §5.4), consent review, approve / reject / cancel,
//     success page with "Back to {DC}";
//   - the consent update (PATCH, spec §3.2.1) with the id_token of spec §4.5 and the user_identity
//     of spec §5.8, recorded locally only once PayNet accepted it;
//   - the redirect back to PayNet, always 303 (design.md §3.10): success → redirect_uri?consent_id=…,
//     anything negative → redirect_uri?error=access_denied&error_description=…&consent_id=…; an
//     invalid signature or a redirect_uri not on the allow-list gets a DP error page and never a
//     redirect (negative-tests U1, U2).
//
// Pages are server-rendered (html/template), in English and Bahasa Malaysia, with no JavaScript
// and no inline script or style, so a strict Content-Security-Policy holds. Every response carries
// anti-framing and no-store headers; every POST passes http.CrossOriginProtection and a
// session-bound CSRF token (negative-tests U10). Sessions are kept in the store under the SHA-256
// of a 256-bit random id; only the hash is stored.
//
// The journey's rules — which step is legal in which state, what ends it and how — are the state
// machine of internal/journey; this package routes each request to a step of that machine, does
// the I/O its Action names (core bank, store, PayNet) and renders the result.
//
// Dependencies are small interfaces owned here (Store, SignatureVerifier, ConsentUpdater,
// IDTokenSigner) so the handlers are tested with fakes; *store.Store, *jose.Verifier,
// *jose.Signer and *paynet.Client satisfy them.
package web
