//go:build pkcs11 && cgo

package keysource

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"testing"

	"github.com/ofpdp/ofpdp/internal/jose"
	"github.com/ofpdp/ofpdp/internal/keysource/softhsm"
)

// BenchmarkSignDetached is the PATCH signature (jose.Signer.SignDetached) with the key in a PEM
// file against the key in a SoftHSM2 token, for RSA-2048 (PS256) and P-384 (ES384), one
// goroutine and in parallel (the session pool). Figures: docs/performance.md.
func BenchmarkSignDetached(b *testing.B) {
	tok := softhsm.NewForTest(b, "ofpdp-bench")
	ca := newTestCA(b)
	body := []byte(`{"status":"authorized","id_token":"…","accounts":[]}`)
	for _, kind := range []string{softhsm.RSA2048, softhsm.P384} {
		var fileKey crypto.Signer
		if kind == softhsm.RSA2048 {
			fileKey, _ = rsa.GenerateKey(rand.Reader, 2048)
		} else {
			fileKey, _ = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		}
		pub, err := tok.GenerateKey("bench-"+kind, kind)
		if err != nil {
			b.Fatal(err)
		}
		hsm, err := Open(b.Context(), tok.URI("bench-"+kind), Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { hsm.Close() })
		for _, src := range []struct {
			name string
			key  crypto.Signer
			pub  crypto.PublicKey
		}{{"file", fileKey, fileKey.Public()}, {"softhsm2", hsm, pub}} {
			cert, _ := ca.issue(b, b.TempDir(), "bench", src.pub)
			sk, err := jose.NewSigningKey(src.key, []*x509.Certificate{cert})
			if err != nil {
				b.Fatal(err)
			}
			s := &jose.Signer{Key: sk, Issuer: "DP0000000001"}
			b.Run(kind+"/"+src.name, func(b *testing.B) {
				for b.Loop() {
					if _, err := s.SignDetached(body); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(kind+"/"+src.name+"/parallel", func(b *testing.B) {
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, err := s.SignDetached(body); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		}
	}
}
