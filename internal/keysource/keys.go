package keysource

import (
	"crypto"
	"crypto/rsa"
	"os"
)

// sameKey reports whether two public keys are equal.
func sameKey(a, b crypto.PublicKey) bool {
	e, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && e.Equal(b)
}

// pssOpts are the RSASSA-PSS options of PS256 (RFC 7518 §3.5: SHA-256, salt = hash length).
func pssOpts() crypto.SignerOpts {
	return &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256}
}

var osGetenv = os.Getenv

// cryptoSHA384 is the hash of ES384.
var cryptoSHA384 = crypto.SHA384
