package jose

import (
	"context"
	"testing"
	"time"
)

// alwaysFresh is a ReplayCache that never refuses, so that benchmarks measure verification.
type alwaysFresh struct{}

func (alwaysFresh) UseOnce(context.Context, string, time.Time) (bool, error) { return true, nil }

var benchKeys = []struct{ name, key string }{{"RSA-2048", kDPRSA}, {"P-384", kDPP384}}

func BenchmarkSignDetached(b *testing.B) {
	for _, bk := range benchKeys {
		b.Run(bk.name, func(b *testing.B) {
			s := &Signer{Key: signingKey(b, bk.key), Issuer: "DP9876543210", Now: clock}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.SignDetached(eventBody); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkVerifyDetached(b *testing.B) {
	for _, bk := range benchKeys {
		b.Run(bk.name, func(b *testing.B) {
			s := &Signer{Key: signingKey(b, bk.key), Issuer: "paynet-ofp", Now: clock}
			sig, err := s.SignDetached(eventBody)
			if err != nil {
				b.Fatal(err)
			}
			v := &Verifier{Keys: StaticKeys{Set: &KeySet{Keys: []PublicKey{pubKey(b, bk.key, UseSig)}}}, Replay: alwaysFresh{}, Now: clock, Issuer: "paynet-ofp"}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.VerifyDetached(bg, sig, eventBody); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkEncrypt(b *testing.B) {
	enc := pubKey(b, kDCEncRSA, UseEnc)
	b.Run("RSA-2048", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Encrypt(dataPlaintext, enc); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkSeal(b *testing.B) {
	enc := pubKey(b, kDCEncRSA, UseEnc)
	for _, bk := range benchKeys {
		b.Run(bk.name, func(b *testing.B) {
			s := &Signer{Key: signingKey(b, bk.key), Issuer: "DP9876543210", Now: clock}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Seal(dataPlaintext, enc, []string{"Paynet OFP", "DC1"}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
