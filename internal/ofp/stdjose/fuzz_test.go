package stdjose

import (
	"crypto/rand"
	"crypto/rsa"
	"testing"
	"time"
)

// FuzzUntrusted feeds what a DP sends the PayNet side — compact JWS (PATCH signatures, id_tokens,
// data responses), JWE and JWKS — to the parsers; none may panic.
func FuzzUntrusted(f *testing.F) {
	for _, s := range []string{
		"eyJhbGciOiJQUzI1NiIsImtpZCI6ImsifQ..c2ln",
		"eyJhbGciOiJQUzI1NiIsImtpZCI6ImsiLCJiNjQiOmZhbHNlLCJjcml0IjpbImI2NCJdfQ.{}.c2ln",
		"eyJhbGciOiJSU0EtT0FFUC0yNTYiLCJlbmMiOiJBMjU2R0NNIn0.a.b.c.d",
		`{"keys":[{"kty":"RSA","kid":"k","n":"AQAB","e":"AQAB"}]}`,
		`{"keys":[{"kty":"EC","kid":"k","crv":"P-384","x":"AA","y":"AA"}]}`,
		"",
	} {
		f.Add(s)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		f.Fatal(err)
	}
	v := &Verifier{Keys: &KeySet{Keys: []PublicKey{{Kid: "k", Use: "sig", Key: &key.PublicKey}}}, Now: time.Now}
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = v.VerifyDetached(s, []byte("{}"))
		_, _, _ = v.VerifyAttached(s)
		_, _, _ = Decrypt(s, key)
		_, _ = ParseJWKS([]byte(s))
		_, _ = OpenResponse([]byte(s), v.Keys, key, time.Now())
	})
}
