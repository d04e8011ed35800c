// Package stdjose is the PayNet side's JOSE, written on the Go standard library only: compact
// JWS signing and verification (RFC 7515) with detached payloads (Appendix F) and unencoded
// payloads (RFC 7797), the algorithms of design.md §3.2 (PS256, ES384, ES512 — RFC 7518 §3.4,
// §3.5), compact JWE with RSA-OAEP-256 and A256GCM (RFC 7516, RFC 7518 §4.3, §5.3), public JWKS
// (RFC 7517) and the sealed data response of design.md §3.5 / spec/paynet-dp.md §3.1.8.
//
// The DP's JOSE is internal/jose, over jwx (design.md §7.2). This package shares no code with
// it: the simulator and the conformance runner check the DP with a second implementation
// (design.md §7.8), and internal/jose's differential tests use this one as their oracle
// (design.md §7.5). It also builds the malformed values of spec/negative-tests.md §5 that no
// JOSE library will produce (alg none, HS256 keyed with a public key, crit lies, b64 mismatches):
// Spec signs with whatever algorithm it is told, whatever the header claims.
package stdjose
