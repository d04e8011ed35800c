package conformance

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ofpdp/ofpdp/internal/jose"
)

// The runner's hand-built JWS are checked against internal/jose's verifier (design.md §7.5: an
// independent implementation as the oracle): the valid ones must verify, the broken ones must be
// refused for the reason the case names.

func testKeys(t *testing.T) map[string]crypto.Signer {
	t.Helper()
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	e384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	e521, err := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]crypto.Signer{"PS256": rk, "ES384": e384, "ES512": e521}
}

func verifierFor(keys map[string]crypto.Signer, now time.Time) *jose.Verifier {
	set := &jose.KeySet{}
	for alg, k := range keys {
		set.Keys = append(set.Keys, jose.PublicKey{Kid: "kid-" + alg, Use: jose.UseSig, Alg: alg, Key: k.Public()})
	}
	return &jose.Verifier{Keys: jose.StaticKeys{Set: set}, Replay: jose.NewMemoryReplay(func() time.Time { return now }),
		Now: func() time.Time { return now }, Issuer: "paynet"}
}

func header(alg string, now time.Time) jwsHeader {
	return jwsHeader{{"alg", alg}, {"kid", "kid-" + alg}, {"iss", "paynet"}, {"jti", newID()}, {"iat", now.Unix()},
		{"crit", []string{"iat", "iss", "jti"}}}
}

func TestForgeValidSignaturesVerify(t *testing.T) {
	now := time.Now()
	keys := testKeys(t)
	v := verifierFor(keys, now)
	body := []byte(`{"event_type":"consent_created","data":{"x":"é"}}`)
	for alg, k := range keys {
		t.Run(alg, func(t *testing.T) {
			sig, err := jwsSpec{header: header(alg, now), payload: body, detached: true, alg: alg, key: k}.build()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := v.VerifyDetached(context.Background(), sig, body); err != nil {
				t.Errorf("detached: %v", err)
			}
			h := header(alg, now).with("b64", false).with("crit", []string{"iat", "iss", "jti", "b64"})
			sig, err = jwsSpec{header: h, payload: body, detached: true, unencoded: true, alg: alg, key: k}.build()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := v.VerifyDetached(context.Background(), sig, body); err != nil {
				t.Errorf("detached, b64 false: %v", err)
			}
			att, err := jwsSpec{header: jwsHeader{{"alg", alg}, {"kid", "kid-" + alg}}, payload: []byte("consent-1"), alg: alg, key: k}.build()
			if err != nil {
				t.Fatal(err)
			}
			_, payload, err := v.VerifyAttached(context.Background(), att)
			if err != nil || string(payload) != "consent-1" {
				t.Errorf("attached: %v %q", err, payload)
			}
		})
	}
}

func TestForgeBrokenSignaturesRefused(t *testing.T) {
	now := time.Now()
	keys := testKeys(t)
	rk := keys["PS256"]
	body := []byte(`{"a":1}`)
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		spec jwsSpec
		want error
	}{
		{"alg none", jwsSpec{header: header("PS256", now).with("alg", "none"), alg: "none"}, jose.ErrAlgorithm},
		{"HS256", jwsSpec{header: header("PS256", now).with("alg", "HS256"), alg: "HS256", key: []byte("secret")}, jose.ErrAlgorithm},
		{"RS256", jwsSpec{header: header("PS256", now).with("alg", "RS256"), alg: "RS256", key: rk}, jose.ErrAlgorithm},
		{"other key", jwsSpec{header: header("PS256", now), alg: "PS256", key: other}, jose.ErrSignature},
		{"iat past", jwsSpec{header: header("PS256", now).with("iat", now.Unix()-301), alg: "PS256", key: rk}, jose.ErrIat},
		{"no jti", jwsSpec{header: header("PS256", now).without("jti").with("crit", []string{"iat", "iss"}), alg: "PS256", key: rk}, jose.ErrJti},
		{"b64 false over encoded", jwsSpec{header: header("PS256", now).with("b64", false).with("crit", []string{"iat", "iss", "jti", "b64"}),
			alg: "PS256", key: rk}, jose.ErrSignature},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.spec.payload, tc.spec.detached = body, true
			sig, err := tc.spec.build()
			if err != nil {
				t.Fatal(err)
			}
			_, err = verifierFor(keys, now).VerifyDetached(context.Background(), sig, body)
			if !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestForgeHeaderOrderAndErrors(t *testing.T) {
	h := jwsHeader{{"alg", "PS256"}, {"kid", "k"}}.with("iss", "p").with("kid", "k2").without("alg")
	b, err := h.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"kid":"k2","iss":"p"}` {
		t.Errorf("header = %s", b)
	}
	if v, ok := h.get("iss"); !ok || v != "p" {
		t.Errorf("get iss = %v %v", v, ok)
	}
	if _, err := (jwsSpec{header: h, alg: "PS256", key: []byte("x")}).build(); !errors.Is(err, errForge) {
		t.Errorf("PS256 with a []byte key: %v", err)
	}
	if _, err := (jwsSpec{header: h, alg: "EdDSA"}).build(); !errors.Is(err, errForge) {
		t.Errorf("unknown alg: %v", err)
	}
	s, err := (jwsSpec{header: h, payload: []byte("p"), alg: "none"}).build()
	if err != nil || !strings.HasSuffix(s, ".") || strings.Count(s, ".") != 2 {
		t.Errorf("alg none: %q %v", s, err)
	}
}
