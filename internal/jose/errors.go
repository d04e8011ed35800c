package jose

import "errors"

// Sentinel errors. Every error returned by this package wraps exactly one of them
// (plus, for resolver failures, the resolver's own error), so callers use errors.Is.
var (
	// ErrMissing: the signature is absent (negative-tests S1).
	ErrMissing = errors.New("jose: signature missing")
	// ErrMalformed: not a compact JWS/JWE, bad base64url, bad or duplicate header JSON.
	ErrMalformed = errors.New("jose: malformed")
	// ErrAlgorithm: alg not in {PS256, ES384, ES512} (JWE: not RSA-OAEP-256/A256GCM, or zip),
	// or the alg does not fit the key type (design.md §3.2, negative-tests S6, D13).
	ErrAlgorithm = errors.New("jose: algorithm not allowed")
	// ErrUnknownKey: kid missing or not known to the key resolver (negative-tests S3, S7, S8).
	ErrUnknownKey = errors.New("jose: unknown key")
	// ErrKeyUse: a key used for what it is not for (enc key used to sign, sig key to encrypt).
	ErrKeyUse = errors.New("jose: key use mismatch")
	// ErrSignature: the signature does not verify over the bytes received.
	ErrSignature = errors.New("jose: signature invalid")
	// ErrAttachedPayload: an attached payload where a detached one is required (S13).
	ErrAttachedPayload = errors.New("jose: attached payload not allowed")
	// ErrIat: iat missing, not a NumericDate, or outside the allowed window (S8, S10).
	ErrIat = errors.New("jose: iat invalid")
	// ErrJti: jti missing or not a usable string (S8).
	ErrJti = errors.New("jose: jti invalid")
	// ErrReplay: jti already seen within the replay window.
	ErrReplay = errors.New("jose: jti replayed")
	// ErrIssuer: iss missing (when an issuer is configured) or different (S8, S12).
	ErrIssuer = errors.New("jose: iss invalid")
	// ErrCrit: crit missing, empty, naming an unknown or absent header, or omitting one (S9).
	ErrCrit = errors.New("jose: crit invalid")
	// ErrB64: RFC 7797 b64 misused (not a boolean, not listed in crit, unencoded attached payload).
	ErrB64 = errors.New("jose: b64 invalid")
	// ErrURLMismatch: the attached claims' url/qpm do not match the request (S14).
	ErrURLMismatch = errors.New("jose: url mismatch")
	// ErrExpired: exp in the past or nbf in the future (response JWS, claims form).
	ErrExpired = errors.New("jose: token expired or not yet valid")

	// ErrUnsupportedKey: a key that is not RSA ≥ 2048, P-384 or P-521, or a key/certificate mismatch.
	ErrUnsupportedKey = errors.New("jose: unsupported key")
	// ErrJWKS: a JWKS that violates the profile (see ParseJWKS).
	ErrJWKS = errors.New("jose: invalid JWKS")
	// ErrDecrypt: a JWE that cannot be decrypted with the given key (negative-tests D13).
	ErrDecrypt = errors.New("jose: decryption failed")
)

var claimErrors = []error{ErrIat, ErrJti, ErrReplay, ErrIssuer, ErrCrit, ErrB64, ErrURLMismatch, ErrExpired}

// IsClaimError reports whether err is a claim-rule failure (ErrIat, ErrJti, ErrReplay,
// ErrIssuer, ErrCrit, ErrB64, ErrURLMismatch, ErrExpired): the api answers those with 401
// JWS.InvalidClaim and every other verification error with 401 JWS.InvalidSignature
// (design.md §4).
func IsClaimError(err error) bool {
	if err == nil {
		return false
	}
	for _, c := range claimErrors {
		if errors.Is(err, c) {
			return true
		}
	}
	return false
}
