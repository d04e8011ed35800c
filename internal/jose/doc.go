// Package jose is ofpdp's PayNet JOSE profile: keys and certificates, JWKS, the JWS
// signatures PayNet and the DP exchange, the JWE that carries resource data, and the
// sealed (JWE inside JWS) data response.
//
// It is the only package of ofpdp that imports a JOSE library
// (github.com/lestrrat-go/jwx/v3, design.md §7.2). Every verification parses the
// protected header itself (strict base64url, no duplicate members), applies the PayNet
// rules that jwx cannot express (alg allow-list PS256/ES384/ES512 fitted to the key type,
// crit naming iat/iss/jti, RFC 7797 b64, iat window, jti replay, iss) and then lets jwx
// verify the signature over the exact bytes received, with jws.WithCritValidation(true).
//
// What it implements:
//   - inbound x-fapi-signature, detached (b64 true or false) and, for GET, the attached
//     claims form with url/qpm: design.md §3.2, spec paynet-dp.md §4.2, §9 items 9–10;
//   - the authorize `signature` (attached, payload = raw consent_id): design.md §3.3,
//     spec §2.4, §4.4;
//   - outbound detached signatures, id_token and JWTs: design.md §3.4, spec §4.5;
//   - the data response JWS(JWE): design.md §3.5, spec §3.1.8, §4.3;
//   - JWKS parsing and publishing: spec §3.2.2, §4.6, negative-tests.md O2;
//   - x5t#S256 thumbprints: RFC 7515 §4.1.8, RFC 8705 §3.1.
//
// Errors are sentinel values (ErrMissing, ErrAlgorithm, …) wrapped with context;
// IsClaimError splits them into JWS.InvalidClaim and JWS.InvalidSignature (design.md §4).
package jose
