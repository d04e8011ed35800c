package jose

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"math/big"
	"strings"
	"testing"
)

// jwksMaps returns the JSON() of payNetKeys as generic maps, to be mutated by tests.
func jwksMaps(t *testing.T) []map[string]any {
	t.Helper()
	b, err := payNetKeys(t).JSON()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Keys
}

func jwksOf(t *testing.T, keys ...map[string]any) []byte {
	return mustJSON(t, map[string]any{"keys": keys})
}

func TestJWKSRoundTrip(t *testing.T) {
	ks := payNetKeys(t)
	b, err := ks.JSON()
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseJWKS(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Keys) != len(ks.Keys) {
		t.Fatalf("%d keys", len(back.Keys))
	}
	for i, want := range ks.Keys {
		got := back.Keys[i]
		if got.Kid != want.Kid || got.Use != want.Use || got.Alg != want.Alg || got.Thumbprint != want.Thumbprint ||
			!publicKeysEqual(got.Key, want.Key) || len(got.Chain) != len(want.Chain) {
			t.Errorf("key %d: got %+v want %+v", i, got, want)
		}
	}
	again, err := back.JSON()
	if err != nil || string(again) != string(b) {
		t.Fatalf("JSON not stable: %v", err)
	}
}

// TestJWKSPublishedO2 is negative-tests O2: only public parts, use/alg set, distinct kids.
func TestJWKSPublishedO2(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range jwksMaps(t) {
		for _, priv := range privateMembers {
			if _, ok := k[priv]; ok {
				t.Errorf("kid %v publishes private member %q", k["kid"], priv)
			}
		}
		for _, m := range []string{"kty", "kid", "use", "alg", "x5c", "x5t#S256"} {
			if _, ok := k[m]; !ok {
				t.Errorf("kid %v lacks %q", k["kid"], m)
			}
		}
		kid := k["kid"].(string)
		if seen[kid] {
			t.Errorf("duplicate kid %s", kid)
		}
		seen[kid] = true
	}
	dup := &KeySet{Keys: []PublicKey{pubKey(t, kDPRSA, UseSig), pubKey(t, kDPRSA, UseSig)}}
	if _, err := dup.JSON(); !errors.Is(err, ErrJWKS) {
		t.Fatalf("duplicate kid published: %v", err)
	}
	bad := pubKey(t, kDPRSA, UseSig)
	bad.Alg = "RS256"
	if _, err := (&KeySet{Keys: []PublicKey{bad}}).JSON(); !errors.Is(err, ErrJWKS) {
		t.Fatalf("RS256 key published: %v", err)
	}
}

func TestParseJWKS(t *testing.T) {
	base := jwksMaps(t) // [rsa sig (x5c of 2), p384 sig, p521 sig, rsa enc]
	rsaSig, p384, encKey := base[0], base[1], base[3]
	mod := func(k map[string]any, kv ...any) map[string]any { return with(k, kv...) }
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	b64 := base64.RawURLEncoding.EncodeToString

	tests := []struct {
		name string
		doc  []byte
		ok   bool
	}{
		{"valid", jwksOf(t, base...), true},
		{"use inferred from alg", jwksOf(t, mod(rsaSig, "use", nil), mod(encKey, "use", nil)), true},
		{"alg defaulted from use", jwksOf(t, mod(rsaSig, "alg", nil), mod(encKey, "alg", nil)), true},
		{"x5t#S256 without x5c", jwksOf(t, mod(p384, "x5c", nil)), true},
		{"no x5c, no thumbprint", jwksOf(t, mod(p384, "x5c", nil, "x5t#S256", nil)), true},
		{"extra members ignored", jwksOf(t, mod(rsaSig, "x5u", "https://example/x", "key_ops", []string{"verify"}, "x5t", "abc")), true},
		{"other top-level members ignored", mustJSON(t, map[string]any{"keys": base, "cache": 1}), true},

		{"bad JSON", []byte(`{"keys":[`), false},
		{"not an object", []byte(`[]`), false},
		{"trailing data", append(jwksOf(t, base...), '{', '}'), false},
		{"duplicate top-level member", []byte(`{"keys":[],"keys":[]}`), false},
		{"no keys member", []byte(`{"key":[]}`), false},
		{"keys not an array", []byte(`{"keys":{}}`), false},
		{"keys null", []byte(`{"keys":null}`), false},
		{"keys empty", []byte(`{"keys":[]}`), false},
		{"x5t#S256 does not match x5c[0]", jwksOf(t, mod(rsaSig, "x5t#S256", p384["x5t#S256"])), false},
		{"x5c[0] carries another key", jwksOf(t, mod(rsaSig, "x5c", encKey["x5c"], "x5t#S256", encKey["x5t#S256"])), false},
		{"x5c not base64", jwksOf(t, mod(rsaSig, "x5c", []string{"***"})), false},
		{"x5c not a certificate", jwksOf(t, mod(rsaSig, "x5c", []string{"MAA="})), false},
		{"x5c empty", jwksOf(t, mod(rsaSig, "x5c", []string{})), false},
		{"x5t#S256 malformed without x5c", jwksOf(t, mod(p384, "x5c", nil, "x5t#S256", "short")), false},
		{"duplicate kid", jwksOf(t, rsaSig, mod(p384, "kid", rsaSig["kid"])), false},
		{"missing kid", jwksOf(t, mod(rsaSig, "kid", nil)), false},
		{"private member d", jwksOf(t, mod(rsaSig, "d", "AQAB")), false},
		{"private member p", jwksOf(t, mod(rsaSig, "p", "AQAB")), false},
		{"private member k", jwksOf(t, mod(rsaSig, "k", "AQAB")), false},
		{"kty oct", jwksOf(t, map[string]any{"kty": "oct", "kid": "h", "use": "sig", "alg": "HS256"}), false},
		{"kty OKP", jwksOf(t, map[string]any{"kty": "OKP", "crv": "Ed25519", "kid": "e", "use": "sig", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}), false},
		{"kty missing", jwksOf(t, mod(rsaSig, "kty", nil)), false},
		{"EC P-256", jwksOf(t, mod(p384, "crv", "P-256", "x5c", nil, "x5t#S256", nil)), false},
		{"EC crv does not match the coordinates", jwksOf(t, mod(p384, "crv", "P-521", "x5c", nil, "x5t#S256", nil)), false},
		{"EC point not on the curve", jwksOf(t, mod(p384, "y", p384["x"], "x5c", nil, "x5t#S256", nil)), false},
		{"RSA 1024", jwksOf(t, map[string]any{"kty": "RSA", "kid": "s", "use": "sig", "alg": "PS256", "n": b64(small.N.Bytes()), "e": "AQAB"}), false},
		{"RSA even exponent", jwksOf(t, mod(rsaSig, "e", b64(big.NewInt(65536).Bytes()), "x5c", nil, "x5t#S256", nil)), false},
		{"use foo", jwksOf(t, mod(rsaSig, "use", "foo")), false},
		{"sig alg RS256", jwksOf(t, mod(rsaSig, "alg", "RS256")), false},
		{"sig alg ES384 on RSA", jwksOf(t, mod(rsaSig, "alg", "ES384")), false},
		{"enc alg RSA-OAEP", jwksOf(t, mod(encKey, "alg", "RSA-OAEP")), false},
		{"enc alg RSA1_5", jwksOf(t, mod(encKey, "alg", "RSA1_5")), false},
		{"enc key on EC", jwksOf(t, mod(p384, "use", "enc", "alg", nil)), false},
		{"neither use nor alg", jwksOf(t, mod(rsaSig, "use", nil, "alg", nil)), false},
		{"kid not a string", jwksOf(t, mod(rsaSig, "kid", 5)), false},
		{"duplicate member in a key", []byte(strings.Replace(string(jwksOf(t, rsaSig)), `"kty":"RSA"`, `"kty":"RSA","kty":"RSA"`, 1)), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ks, err := ParseJWKS(tc.doc)
			if tc.ok != (err == nil) {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
			if err != nil && !errors.Is(err, ErrJWKS) {
				t.Fatalf("%v does not wrap ErrJWKS", err)
			}
			if err == nil {
				for _, k := range ks.Keys {
					if k.Kid == "" || (k.Use != UseSig && k.Use != UseEnc) || k.Alg == "" || k.Key == nil {
						t.Fatalf("incomplete key %+v", k)
					}
				}
			}
		})
	}
}

func TestKeySetLookups(t *testing.T) {
	ks := payNetKeys(t)
	enc := pubKey(t, kDCEncRSA, UseEnc)
	if k, ok := ks.ByKid(enc.Kid); !ok || k.Use != UseEnc {
		t.Fatal("ByKid")
	}
	if _, ok := ks.ByKid("nope"); ok {
		t.Fatal("ByKid unknown")
	}
	if k, ok := ks.ByThumbprint(enc.Thumbprint, UseEnc); !ok || k.Kid != enc.Kid {
		t.Fatal("ByThumbprint enc")
	}
	if _, ok := ks.ByThumbprint(enc.Thumbprint, UseSig); ok {
		t.Fatal("ByThumbprint must filter on use")
	}
	if _, ok := ks.ByThumbprint(enc.Thumbprint, ""); !ok {
		t.Fatal("ByThumbprint any use")
	}
	if _, ok := ks.ByThumbprint("", ""); ok {
		t.Fatal("empty thumbprint matched")
	}
	var nilSet *KeySet
	if _, ok := nilSet.ByKid("x"); ok {
		t.Fatal("nil set")
	}
	if _, err := (StaticKeys{}).SigningKey(bg, "x"); !errors.Is(err, ErrUnknownKey) {
		t.Fatal("empty StaticKeys")
	}
}

func TestPublicKeyFromChain(t *testing.T) {
	ks := loadKeys(t)
	if _, err := PublicKeyFromChain(nil, UseSig, ""); err == nil {
		t.Fatal("empty chain")
	}
	if _, err := PublicKeyFromChain(ks[kPayNetP384].chain, UseEnc, ""); err == nil {
		t.Fatal("EC enc key")
	}
	if _, err := PublicKeyFromChain(ks[kPayNetRSA].chain, UseSig, "ES512"); !errors.Is(err, ErrAlgorithm) {
		t.Fatalf("misfit alg: %v", err)
	}
	if _, err := PublicKeyFromChain(ks[kPayNetRSA].chain, "both", ""); !errors.Is(err, ErrKeyUse) {
		t.Fatalf("bad use: %v", err)
	}
	pk, err := PublicKeyFromChain(ks[kDCEncRSA].chain, UseEnc, "")
	if err != nil || pk.Alg != AlgRSAOAEP256 || pk.Kid != pk.Thumbprint || pk.Thumbprint != Thumbprint(ks[kDCEncRSA].chain[0]) {
		t.Fatalf("%+v %v", pk, err)
	}
}

// One unusable key does not take the whole set down: it is skipped (its kid and why are kept
// for a warning, never its material) and the other keys stay usable; a set in which no key is
// usable, or that is malformed as a whole, is still an error.
func TestParseJWKSSkipsBadKeys(t *testing.T) {
	base := jwksMaps(t) // [rsa sig (x5c of 2), p384 sig, p521 sig, rsa enc]
	rsaSig, p384, encKey := base[0], base[1], base[3]
	mod := func(k map[string]any, kv ...any) map[string]any { return with(k, kv...) }
	tests := []struct {
		name     string
		doc      []byte
		wantKids []string // usable keys, in order
		skipped  []string // kids of skipped keys, in order
		ok       bool
	}{
		{"kty oct among good keys", jwksOf(t, rsaSig, map[string]any{"kty": "oct", "kid": "hmac-1", "k": "c2VjcmV0"}, p384),
			[]string{rsaSig["kid"].(string), p384["kid"].(string)}, []string{"hmac-1"}, true},
		{"unparseable RSA key first", jwksOf(t, mod(rsaSig, "kid", "broken-n", "n", "***", "x5c", nil, "x5t#S256", nil), encKey),
			[]string{encKey["kid"].(string)}, []string{"broken-n"}, true},
		{"wrong alg for the key type", jwksOf(t, mod(p384, "kid", "misfit", "alg", "PS256"), encKey),
			[]string{encKey["kid"].(string)}, []string{"misfit"}, true},
		{"key without kid", jwksOf(t, mod(rsaSig, "kid", nil), p384), []string{p384["kid"].(string)}, []string{""}, true},
		{"a key that is not an object", []byte(`{"keys":["nope",` + string(mustJSON(t, p384)) + `]}`),
			[]string{p384["kid"].(string)}, []string{""}, true},
		{"private member published by mistake", jwksOf(t, mod(rsaSig, "kid", "leaked", "d", "AQAB"), encKey),
			[]string{encKey["kid"].(string)}, []string{"leaked"}, true},
		{"every key unusable", jwksOf(t, mod(rsaSig, "alg", "RS256"), map[string]any{"kty": "oct", "kid": "h"}), nil, nil, false},
		{"duplicate kid stays fatal", jwksOf(t, rsaSig, mod(p384, "kid", rsaSig["kid"])), nil, nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ks, err := ParseJWKS(tc.doc)
			if tc.ok != (err == nil) {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
			if err != nil {
				if !errors.Is(err, ErrJWKS) {
					t.Fatalf("%v does not wrap ErrJWKS", err)
				}
				return
			}
			var kids, skipped []string
			for _, k := range ks.Keys {
				kids = append(kids, k.Kid)
			}
			for _, s := range ks.Skipped {
				skipped = append(skipped, s.Kid)
				if s.Reason == "" {
					t.Errorf("skipped key %q without a reason", s.Kid)
				}
			}
			if strings.Join(kids, ",") != strings.Join(tc.wantKids, ",") || strings.Join(skipped, ",") != strings.Join(tc.skipped, ",") {
				t.Fatalf("usable %v skipped %v, want %v and %v", kids, skipped, tc.wantKids, tc.skipped)
			}
		})
	}
}

// The warning of a skipped key names its kid and why, never its key material.
func TestKeySetLogSkipped(t *testing.T) {
	p384 := jwksMaps(t)[1]
	secret := "c2VjcmV0LWhtYWMta2V5LW1hdGVyaWFs"
	ks, err := ParseJWKS(jwksOf(t, p384, map[string]any{"kty": "oct", "kid": "hmac-1", "k": secret},
		with(p384, "kid", "private-1", "d", "QUJDREVGRw")))
	if err != nil {
		t.Fatal(err)
	}
	var buf strings.Builder
	ks.LogSkipped(bg, slog.New(slog.NewTextHandler(&buf, nil)), "test jwks")
	out := buf.String()
	if strings.Count(out, "level=WARN") != 2 || !strings.Contains(out, "kid=hmac-1") || !strings.Contains(out, "kid=private-1") ||
		!strings.Contains(out, `source="test jwks"`) {
		t.Fatalf("log: %s", out)
	}
	for _, material := range []string{secret, "QUJDREVGRw", p384["x"].(string)} {
		if strings.Contains(out, material) {
			t.Fatalf("log leaks key material %q: %s", material, out)
		}
	}
}
