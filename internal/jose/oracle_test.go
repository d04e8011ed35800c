package jose

// The oracle of the differential tests (design.md §7.5) is the PayNet side's JOSE,
// internal/ofp/stdjose: written on the standard library only, sharing no code with this
// package, so a bug on either side shows as a disagreement. It also signs with algorithms the
// profile refuses (RS256, HS256, none) to forge negative cases.

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/ofpdp/ofpdp/internal/ofp/stdjose"
)

// oracleSign signs header (exact JSON bytes) and payload with alg and key.
func oracleSign(alg string, key any, header, payload []byte, b64, detached bool) (string, error) {
	return stdjose.Spec{RawHeader: header, Payload: payload, Detached: detached, Unencoded: !b64, Alg: alg, Key: key}.Build()
}

// oracleVerify verifies a compact JWS with pub; detached != nil supplies the payload of a
// detached JWS. It returns the decoded header and the payload.
func oracleVerify(compact string, pub any, detached []byte) (map[string]any, []byte, error) {
	raw, payload, err := stdjose.Verify(compact, pub, detached)
	if err != nil {
		return nil, nil, err
	}
	h := make(map[string]any, len(raw))
	for k, v := range raw {
		var x any
		if err := json.Unmarshal(v, &x); err != nil {
			return nil, nil, err
		}
		h[k] = x
	}
	return h, payload, nil
}

// mustJSON marshals v (sorted map keys).
func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDifferentialOracle: sign with ours → verify with the oracle, sign with the oracle →
// verify with ours; all three algs, both b64 modes; detached and attached.
func TestDifferentialOracle(t *testing.T) {
	body := []byte(`{"event_type":"consent_created","data":{"consent_id":"c-1","note":"a.b/c?d=e"}}`)
	for _, kn := range []string{kPayNetRSA, kPayNetP384, kPayNetP521} {
		for _, b64 := range []bool{true, false} {
			name := fmt.Sprintf("%s/b64=%v", kn, b64)
			t.Run("ours→oracle/"+name, func(t *testing.T) {
				s := payNetSigner(t, kn)
				var sig string
				var err error
				if b64 {
					sig, err = s.SignDetached(body)
				} else {
					sig, err = s.SignDetachedUnencoded(body)
				}
				if err != nil {
					t.Fatal(err)
				}
				h, _, err := oracleVerify(sig, s.Key.Key.Public(), body)
				if err != nil {
					t.Fatalf("oracle rejects our signature: %v", err)
				}
				if h["alg"] != s.Key.Alg || h["kid"] != s.Key.Kid || h["iss"] != "paynet-ofp" {
					t.Fatalf("header %v", h)
				}
				if _, _, err := oracleVerify(sig, s.Key.Key.Public(), append([]byte{' '}, body...)); err == nil {
					t.Fatal("oracle accepted our signature over a different body")
				}
				if b64 {
					att, err := s.SignAttached(body)
					if err != nil {
						t.Fatal(err)
					}
					if _, p, err := oracleVerify(att, s.Key.Key.Public(), nil); err != nil || string(p) != string(body) {
						t.Fatalf("oracle on attached: %v %q", err, p)
					}
				}
			})
			t.Run("oracle→ours/"+name, func(t *testing.T) {
				k := loadKeys(t)[kn]
				pk := pubKey(t, kn, UseSig)
				h := map[string]any{"alg": pk.Alg, "kid": pk.Kid, "iat": fixedNow.Unix(), "iss": "paynet-ofp", "jti": "oracle-" + name, "crit": []string{"iat", "iss", "jti"}}
				if !b64 {
					h["b64"] = false
					h["crit"] = []string{"b64", "iat", "iss", "jti"}
				}
				sig, err := oracleSign(pk.Alg, k.key, mustJSON(t, h), body, b64, true)
				if err != nil {
					t.Fatal(err)
				}
				v := newVerifier(t)
				got, err := v.VerifyDetached(bg, sig, body)
				if err != nil {
					t.Fatalf("ours rejects the oracle's signature: %v", err)
				}
				if got.B64 != b64 || got.Jti != "oracle-"+name || !got.Iat.Equal(fixedNow) {
					t.Fatalf("header %+v", got)
				}
				if _, err := newVerifier(t).VerifyDetached(bg, sig, body[1:]); !errors.Is(err, ErrSignature) {
					t.Fatalf("different body: %v, want ErrSignature", err)
				}
				if b64 {
					att, err := oracleSign(pk.Alg, k.key, mustJSON(t, map[string]any{"alg": pk.Alg, "kid": pk.Kid}), []byte("consent-1"), true, false)
					if err != nil {
						t.Fatal(err)
					}
					if _, p, err := v.VerifyAttached(bg, att); err != nil || string(p) != "consent-1" {
						t.Fatalf("attached: %v %q", err, p)
					}
				}
			})
		}
	}
}

// TestOracleForgedRefused: signatures the oracle forges outside the profile (design.md §3.2;
// negative-tests S6, S8, S10) are refused by ours for the reason each case names.
func TestOracleForgedRefused(t *testing.T) {
	body := []byte(`{"a":1}`)
	k := loadKeys(t)[kPayNetRSA]
	pk := pubKey(t, kPayNetRSA, UseSig)
	std := stdjose.H("alg", pk.Alg, "kid", pk.Kid, "iss", "paynet-ofp", "jti", "forged",
		"iat", fixedNow.Unix(), "crit", []string{"iat", "iss", "jti"})
	other := loadKeys(t)[kPayNetP384]
	for _, tc := range []struct {
		name string
		spec stdjose.Spec
		want error
	}{
		{"alg none", stdjose.Spec{Header: std.With("alg", "none"), Alg: "none"}, ErrAlgorithm},
		{"HS256", stdjose.Spec{Header: std.With("alg", "HS256"), Alg: "HS256", Key: []byte("secret")}, ErrAlgorithm},
		{"RS256", stdjose.Spec{Header: std.With("alg", "RS256"), Alg: "RS256"}, ErrAlgorithm},
		{"ES384 under an RSA kid", stdjose.Spec{Header: std.With("alg", "ES384"), Alg: "ES384", Key: other.key}, ErrAlgorithm},
		{"iat past", stdjose.Spec{Header: std.With("iat", fixedNow.Unix()-301)}, ErrIat},
		{"no jti", stdjose.Spec{Header: std.Without("jti").With("crit", []string{"iat", "iss"})}, ErrJti},
		{"b64 false over encoded", stdjose.Spec{Header: std.With("b64", false).With("crit", []string{"iat", "iss", "jti", "b64"})}, ErrSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sp := tc.spec
			sp.Payload, sp.Detached = body, true
			if sp.Alg == "" {
				sp.Alg = pk.Alg
			}
			if sp.Key == nil {
				sp.Key = k.key
			}
			sig, err := sp.Build()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := newVerifier(t).VerifyDetached(bg, sig, body); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}
