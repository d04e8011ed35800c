package stdjose

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"testing"
	"time"
)

var now = time.Unix(1_800_000_000, 0)

func keys(t *testing.T) map[string]crypto.Signer {
	t.Helper()
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	e384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	e521, _ := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	return map[string]crypto.Signer{"PS256": rk, "ES384": e384, "ES512": e521}
}

func signer(k crypto.Signer, alg string) *Signer {
	n := 0
	return &Signer{Key: k, Kid: "kid-" + alg, Issuer: "dp-1", Now: func() time.Time { return now },
		NewID: func() string { n++; return fmt.Sprint("jti-", n) }}
}

func verifier(ks map[string]crypto.Signer) *Verifier {
	set := &KeySet{}
	for alg, k := range ks {
		set.Keys = append(set.Keys, PublicKey{Kid: "kid-" + alg, Use: "sig", Key: k.Public()})
	}
	return &Verifier{Keys: set, Now: func() time.Time { return now }, Issuer: "dp-1"}
}

// TestDetachedRules signs with each profile algorithm and both b64 modes, then breaks one rule
// of design.md §3.2 per case and checks the error it is refused with.
func TestDetachedRules(t *testing.T) {
	ks := keys(t)
	body := []byte(`{"status":"authorized"}`)
	for alg, k := range ks {
		s := signer(k, alg)
		for _, b64 := range []bool{true, false} {
			v := verifier(ks)
			sig, err := s.SignDetached(body)
			if !b64 {
				sig, err = s.SignDetachedUnencoded(body)
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, err := v.VerifyDetached(sig, body); err != nil {
				t.Fatalf("%s b64=%v: %v", alg, b64, err)
			}
			if _, err := v.VerifyDetached(sig, body); !errors.Is(err, ErrReplay) {
				t.Fatalf("%s replay: %v", alg, err)
			}
			sig2, _ := s.SignDetached(body)
			if _, err := v.VerifyDetached(sig2, append([]byte(" "), body...)); !errors.Is(err, ErrSignature) {
				t.Fatalf("%s other body: %v", alg, err)
			}
		}
	}
	k := ks["PS256"]
	base, _ := signer(k, "PS256").DetachedHeader(true)
	for _, tc := range []struct {
		name string
		spec Spec
		want error
	}{
		{"iat old", Spec{Header: base.With("iat", now.Add(-301*time.Second).Unix())}, ErrIat},
		{"iss other", Spec{Header: base.With("iss", "dp-2")}, ErrIssuer},
		{"crit unknown", Spec{Header: base.With("crit", []string{"iat", "iss", "jti", "x"}).With("x", 1)}, ErrCrit},
		{"crit missing", Spec{Header: base.Without("crit")}, ErrCrit},
		{"b64 not in crit", Spec{Header: base.With("b64", false), Unencoded: true}, ErrB64},
		{"alg RS256", Spec{Header: base.With("alg", "RS256"), Alg: "RS256"}, ErrAlgorithm},
		{"alg none", Spec{Header: base.With("alg", "none"), Alg: "none"}, ErrAlgorithm},
		{"HS256 with the public key", Spec{Header: base.With("alg", "HS256"), Alg: "HS256", Key: []byte("x")}, ErrAlgorithm},
		{"unknown kid", Spec{Header: base.With("kid", "nope")}, ErrUnknownKey},
		{"header lies about b64", Spec{Header: base, Unencoded: true}, ErrSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sp := tc.spec
			sp.Payload, sp.Detached = []byte("{}"), true
			if sp.Alg == "" {
				sp.Alg = "PS256"
			}
			if sp.Key == nil {
				sp.Key = k
			}
			sig, err := sp.Build()
			if err != nil {
				t.Fatal(err)
			}
			_, err = verifier(ks).VerifyDetached(sig, []byte("{}"))
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if IsClaimError(err) != IsClaimError(tc.want) {
				t.Fatalf("IsClaimError(%v) = %v", err, IsClaimError(err))
			}
		})
	}
}

// TestSealOpen round-trips a sealed response and checks that a wrong key, a forged JWE
// algorithm and a stale exp are refused (design.md §3.5; negative-tests D12, D13).
func TestSealOpen(t *testing.T) {
	ks := keys(t)
	dc, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	s := signer(ks["ES384"], "ES384")
	seal := func(hdr []byte, exp int64) []byte {
		var jwe string
		if hdr == nil {
			jwe, err = Encrypt([]byte(`{"data":{"a":1}}`), &dc.PublicKey, "enc-kid")
		} else {
			jwe, err = EncryptHeader([]byte(`{"data":{}}`), &dc.PublicKey, hdr)
		}
		if err != nil {
			t.Fatal(err)
		}
		out, err := s.SignJWT(ResponseClaims{Iss: "dp-1", Aud: []string{"Paynet OFP", "dc"}, Data: jwe, Iat: now.Unix(), Nbf: now.Unix(), Exp: exp, Jti: "j"})
		if err != nil {
			t.Fatal(err)
		}
		return []byte(out)
	}
	set := verifier(ks).Keys
	o, err := OpenResponse(seal(nil, now.Unix()+3600), set, dc, now)
	if err != nil || string(o.Plaintext) != `{"data":{"a":1}}` || o.Claims.Iss != "dp-1" {
		t.Fatalf("open: %v %+v", err, o)
	}
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	if _, err := OpenResponse(seal(nil, now.Unix()+3600), set, other, now); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("wrong key: %v", err)
	}
	if _, err := OpenResponse(seal([]byte(`{"alg":"RSA1_5","enc":"A256GCM"}`), now.Unix()+3600), set, dc, now); !errors.Is(err, ErrAlgorithm) {
		t.Fatalf("RSA1_5: %v", err)
	}
	if _, err := OpenResponse(seal(nil, now.Unix()-301), set, dc, now); !errors.Is(err, ErrExpired) {
		t.Fatalf("expired: %v", err)
	}
}
