// Package pki generates and inspects the development PKI of design §8: one
// directory of PEM files with fixed names (ca.crt/.key; paynet-mtls,
// paynet-sig, paynet-server; dp-server, dp-mtls, dp-sig; dc-enc, dc-sig) and
// the public JWKS files paynet.jwks.json, dp.jwks.json and dc.jwks.json, so
// that ofpdp, its PayNet simulator, its mock DC and curl (as in PayNet's
// examples, spec §4.1) can all use them.
//
// Certificates follow spec §4.1 (RSA ≥ 2048 bits, valid ≥ 12 months: 13 months
// here) and the key-use split of spec §4.2 (mTLS, signature, encryption keys
// kept apart). JWKs are built by internal/jose (kid = x5t#S256, RFC 7517,
// RFC 7515 §4.1.8). It is a development tool: production keys come from the
// bank's own CA and HSM.
//
// It backs `ofpdp pki init` and `ofpdp pki inspect` and is used by
// `ofpdp sandbox`.
package pki
