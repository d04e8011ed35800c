package jose

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

var eventBody = []byte(`{"event_type":"consent_created","data":{"consent_id":"18ce19c8-85be-4049-899c-21cdc02cde79","dp_id":"DP9876543210","status":"awaiting_authorization"}}`)

// stdHeader is the protected header PayNet sends (design.md §3.2) for the named key.
func stdHeader(t testing.TB, keyName string) map[string]any {
	t.Helper()
	pk := pubKey(t, keyName, UseSig)
	return map[string]any{
		"alg": pk.Alg, "kid": pk.Kid, "iss": "paynet-ofp", "jti": fmt.Sprintf("jti-%d", time.Now().UnixNano()),
		"iat": fixedNow.Unix(), "crit": []string{"iat", "iss", "jti"},
	}
}

// forge signs header h with the oracle using the private key keyName and h["alg"]
// (HS256 uses a secret, none no signature). signB64 selects the signing input mode
// independently of what the header says.
func forge(t testing.TB, keyName string, h map[string]any, payload []byte, signB64, detached bool) string {
	t.Helper()
	alg, _ := h["alg"].(string)
	if alg == "" {
		alg = "PS256" // header without alg: sign anyway
	}
	return forgeRaw(t, keyName, alg, mustJSON(t, h), payload, signB64, detached)
}

func forgeRaw(t testing.TB, keyName, alg string, header, payload []byte, signB64, detached bool) string {
	t.Helper()
	var key any = loadKeys(t)[keyName].key
	if alg == "HS256" {
		key = loadKeys(t)[keyName].chain[0].RawSubjectPublicKeyInfo // key-confusion style secret
	}
	s, err := oracleSign(alg, key, header, payload, signB64, detached)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// with returns a copy of h with the changes applied; a nil value deletes the member.
func with(h map[string]any, kv ...any) map[string]any {
	out := make(map[string]any, len(h))
	for k, v := range h {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		k := kv[i].(string)
		if kv[i+1] == nil {
			delete(out, k)
		} else {
			out[k] = kv[i+1]
		}
	}
	return out
}

func isAny(err error, want []error) bool {
	for _, w := range want {
		if w == nil && err == nil || w != nil && errors.Is(err, w) {
			return true
		}
	}
	return false
}

func TestVerifyDetached(t *testing.T) {
	std := stdHeader(t, kPayNetRSA)
	det := func(h map[string]any) func(t *testing.T) string {
		return func(t *testing.T) string { return forge(t, kPayNetRSA, h, eventBody, true, true) }
	}
	good := forge(t, kPayNetRSA, std, eventBody, true, true)
	iat := func(d time.Duration) map[string]any { return with(std, "iat", fixedNow.Add(d).Unix()) }
	dcKid := pubKey(t, kDCSigRSA, UseSig).Kid
	encKid := pubKey(t, kDCEncRSA, UseEnc).Kid
	rogueKid := pubKey(t, kRogueRSA, UseSig).Kid
	p384 := pubKey(t, kPayNetP384, UseSig).Kid
	p521 := pubKey(t, kPayNetP521, UseSig).Kid

	tests := []struct {
		name   string
		sig    func(t *testing.T) string
		body   []byte // default eventBody
		issuer *string
		want   []error // any of; {nil} = success
	}{
		{"valid PS256", det(std), nil, nil, []error{nil}},
		{"valid ES384", func(t *testing.T) string {
			return forge(t, kPayNetP384, stdHeader(t, kPayNetP384), eventBody, true, true)
		}, nil, nil, []error{nil}},
		{"valid ES512", func(t *testing.T) string {
			return forge(t, kPayNetP521, stdHeader(t, kPayNetP521), eventBody, true, true)
		}, nil, nil, []error{nil}},
		{"valid b64=false", func(t *testing.T) string {
			return forge(t, kPayNetRSA, with(std, "b64", false, "crit", []string{"iat", "iss", "jti", "b64"}), eventBody, false, true)
		}, nil, nil, []error{nil}},
		{"valid explicit b64=true listed in crit", func(t *testing.T) string {
			return forge(t, kPayNetRSA, with(std, "b64", true, "crit", []string{"b64", "iat", "iss", "jti"}), eventBody, true, true)
		}, nil, nil, []error{nil}},
		{"valid empty body (GET)", func(t *testing.T) string { return forge(t, kPayNetRSA, std, nil, true, true) }, []byte{}, nil, []error{nil}},
		{"valid without iss when no issuer configured", det(with(std, "iss", nil, "crit", []string{"iat", "jti"})), nil, new(string), []error{nil}},

		{"raw header bytes: whitespace, member order, escapes", func(t *testing.T) string {
			raw := fmt.Sprintf(`{ "kid" : %q,"crit":["jti","iat","iss"], "iss":"\u0070aynet-ofp","jti":"raw-1","iat":%d ,"alg":"PS256" }`,
				std["kid"], fixedNow.Unix())
			return forgeRaw(t, kPayNetRSA, "PS256", []byte(raw), eventBody, true, true)
		}, nil, nil, []error{nil}},
		{"S1 empty", func(*testing.T) string { return "" }, nil, nil, []error{ErrMissing}},
		{"S2 char appended", func(*testing.T) string { return good + "A" }, nil, nil, []error{ErrMalformed, ErrSignature}},
		{"S2 last char removed", func(*testing.T) string { return good[:len(good)-1] }, nil, nil, []error{ErrMalformed, ErrSignature}},
		{"S2 char appended to header", func(*testing.T) string {
			h, rest, _ := strings.Cut(good, ".")
			return h + "A." + rest
		}, nil, nil, []error{ErrMalformed}},
		{"S3 unregistered key, own kid", func(t *testing.T) string {
			return forge(t, kRogueRSA, with(std, "kid", rogueKid), eventBody, true, true)
		}, nil, nil, []error{ErrUnknownKey}},
		{"S3 unregistered key, PayNet kid", func(t *testing.T) string {
			return forge(t, kRogueRSA, std, eventBody, true, true)
		}, nil, nil, []error{ErrSignature}},
		{"S4 body field changed", det(std), []byte(strings.Replace(string(eventBody), "18ce19c8", "28ce19c8", 1)), nil, []error{ErrSignature}},
		{"S4 body whitespace added", det(std), append(append([]byte{}, eventBody...), '\n'), nil, []error{ErrSignature}},
		{"S6 alg none", func(t *testing.T) string {
			return forge(t, kPayNetRSA, with(std, "alg", "none"), eventBody, true, true)
		}, nil, nil, []error{ErrAlgorithm}},
		{"S6 HS256", func(t *testing.T) string {
			return forge(t, kPayNetRSA, with(std, "alg", "HS256"), eventBody, true, true)
		}, nil, nil, []error{ErrAlgorithm}},
		{"S6 RS256 with the real PayNet RSA key", func(t *testing.T) string {
			return forge(t, kPayNetRSA, with(std, "alg", "RS256"), eventBody, true, true)
		}, nil, nil, []error{ErrAlgorithm}},
		{"alg missing", det(with(std, "alg", nil)), nil, nil, []error{ErrAlgorithm}},
		{"alg PS256 on a P-384 kid", func(t *testing.T) string {
			return forge(t, kPayNetRSA, with(std, "kid", p384), eventBody, true, true)
		}, nil, nil, []error{ErrAlgorithm}},
		{"alg ES384 on a P-521 kid", func(t *testing.T) string {
			return forge(t, kPayNetP384, with(stdHeader(t, kPayNetP384), "kid", p521), eventBody, true, true)
		}, nil, nil, []error{ErrAlgorithm}},
		{"S7 unknown kid", det(with(std, "kid", "no-such-kid")), nil, nil, []error{ErrUnknownKey}},
		{"S7 enc key used for signing", func(t *testing.T) string {
			return forge(t, kDCEncRSA, with(std, "kid", encKid), eventBody, true, true)
		}, nil, nil, []error{ErrKeyUse}},
		{"S8 iss missing", det(with(std, "iss", nil, "crit", []string{"iat", "jti"})), nil, nil, []error{ErrIssuer}},
		{"S8 jti missing", det(with(std, "jti", nil, "crit", []string{"iat", "iss"})), nil, nil, []error{ErrJti}},
		{"S8 iat missing", det(with(std, "iat", nil, "crit", []string{"iss", "jti"})), nil, nil, []error{ErrIat}},
		{"S8 kid missing", det(with(std, "kid", nil)), nil, nil, []error{ErrUnknownKey}},
		{"S8 crit missing", det(with(std, "crit", nil)), nil, nil, []error{ErrCrit}},
		{"S9 crit names an unknown header", det(with(std, "exp", fixedNow.Unix()+60, "crit", []string{"iat", "iss", "jti", "exp"})), nil, nil, []error{ErrCrit}},
		{"S9 crit omits iss", det(with(std, "crit", []string{"iat", "jti"})), nil, nil, []error{ErrCrit}},
		{"S9 crit omits iat", det(with(std, "crit", []string{"iss", "jti"})), nil, nil, []error{ErrCrit}},
		{"S9 crit omits jti", det(with(std, "crit", []string{"iat", "iss"})), nil, nil, []error{ErrCrit}},
		{"S9 crit empty", det(with(std, "crit", []string{})), nil, nil, []error{ErrCrit}},
		{"crit names an absent header", det(with(std, "iss", nil)), nil, new(string), []error{ErrCrit}},
		{"crit duplicate", det(with(std, "crit", []string{"iat", "iss", "jti", "iat"})), nil, nil, []error{ErrCrit}},
		{"crit not an array", det(with(std, "crit", "iat")), nil, nil, []error{ErrCrit}},
		{"crit with a non-string", det(with(std, "crit", []any{"iat", "iss", "jti", 1})), nil, nil, []error{ErrCrit}},
		{"S10 iat 301 s past", det(iat(-301 * time.Second)), nil, nil, []error{ErrIat}},
		{"S10 iat 301 s future", det(iat(301 * time.Second)), nil, nil, []error{ErrIat}},
		{"S10 iat 10 s future accepted", det(iat(10 * time.Second)), nil, nil, []error{nil}},
		{"iat 300 s past accepted", det(iat(-300 * time.Second)), nil, nil, []error{nil}},
		{"iat 300 s future accepted", det(iat(300 * time.Second)), nil, nil, []error{nil}},
		{"iat not a number", det(with(std, "iat", fmt.Sprint(fixedNow.Unix()))), nil, nil, []error{ErrIat}},
		{"iat fractional accepted", det(with(std, "iat", float64(fixedNow.Unix())+0.5)), nil, nil, []error{nil}},
		{"S12 iss PayNet, signed by a DC key not in the resolver", func(t *testing.T) string {
			return forge(t, kDCSigRSA, with(std, "kid", dcKid), eventBody, true, true)
		}, nil, nil, []error{ErrUnknownKey}},
		{"S12 iss PayNet, DC key, PayNet kid", func(t *testing.T) string {
			return forge(t, kDCSigRSA, std, eventBody, true, true)
		}, nil, nil, []error{ErrSignature}},
		{"iss of someone else", det(with(std, "iss", "DC1234")), nil, nil, []error{ErrIssuer}},
		{"iss not a string", det(with(std, "iss", 7)), nil, nil, []error{ErrIssuer}},
		{"S13 attached where detached required", func(t *testing.T) string {
			return forge(t, kPayNetRSA, std, eventBody, true, false)
		}, nil, nil, []error{ErrAttachedPayload}},
		{"S13 header b64:false, signature over the base64url form", func(t *testing.T) string {
			return forge(t, kPayNetRSA, with(std, "b64", false, "crit", []string{"iat", "iss", "jti", "b64"}), eventBody, true, true)
		}, nil, nil, []error{ErrSignature}},
		{"S13 header b64 default, signature over the raw body", func(t *testing.T) string {
			return forge(t, kPayNetRSA, std, eventBody, false, true)
		}, nil, nil, []error{ErrSignature}},
		{"b64:false not listed in crit", func(t *testing.T) string {
			return forge(t, kPayNetRSA, with(std, "b64", false), eventBody, false, true)
		}, nil, nil, []error{ErrB64}},
		{"b64 not a boolean", det(with(std, "b64", "false", "crit", []string{"iat", "iss", "jti", "b64"})), nil, nil, []error{ErrB64}},
		{"jti empty", det(with(std, "jti", "")), nil, nil, []error{ErrJti}},
		{"jti not a string", det(with(std, "jti", 42)), nil, nil, []error{ErrJti}},
		{"jti too long", det(with(std, "jti", strings.Repeat("j", 257))), nil, nil, []error{ErrJti}},
		{"kid not a string", det(with(std, "kid", 1)), nil, nil, []error{ErrUnknownKey}},
		{"alg in upper-case member name only", det(with(std, "alg", nil, "ALG", "PS256")), nil, nil, []error{ErrAlgorithm}},
		{"duplicate header member", func(t *testing.T) string {
			raw := strings.Replace(string(mustJSON(t, std)), `{"alg":"PS256",`, `{"alg":"PS256","alg":"PS256",`, 1)
			return forgeRaw(t, kPayNetRSA, "PS256", []byte(raw), eventBody, true, true)
		}, nil, nil, []error{ErrMalformed}},
		{"header not an object", func(t *testing.T) string {
			return forgeRaw(t, kPayNetRSA, "PS256", []byte(`["PS256"]`), eventBody, true, true)
		}, nil, nil, []error{ErrMalformed}},
		{"header trailing data", func(t *testing.T) string {
			return forgeRaw(t, kPayNetRSA, "PS256", append(mustJSON(t, std), []byte(`{}`)...), eventBody, true, true)
		}, nil, nil, []error{ErrMalformed}},
		{"header with padding", func(t *testing.T) string {
			h, rest, _ := strings.Cut(good, ".")
			return h + strings.Repeat("=", (4-len(h)%4)%4) + "x." + rest
		}, nil, nil, []error{ErrMalformed}},
		{"four segments", func(*testing.T) string { return good + ".x" }, nil, nil, []error{ErrMalformed}},
		{"too long", func(*testing.T) string { return strings.Repeat("a", maxCompactLen+1) }, nil, nil, []error{ErrMalformed}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := newVerifier(t)
			if tc.issuer != nil {
				v.Issuer = *tc.issuer
			}
			body := tc.body
			if body == nil {
				body = eventBody
			}
			h, err := v.VerifyDetached(bg, tc.sig(t), body)
			if !isAny(err, tc.want) {
				t.Fatalf("err = %v, want one of %v", err, tc.want)
			}
			if err == nil && (h == nil || h.Jti == "" || h.Iat.IsZero() || h.Kid == "") {
				t.Fatalf("header %+v", h)
			}
			if err != nil && h != nil {
				t.Fatal("header returned with an error")
			}
		})
	}
}

// TestVerifyDetachedNonCanonicalBase64 flips unused trailing bits of the signature
// segment: the same bytes decode leniently, but the segment is not what was signed.
func TestVerifyDetachedNonCanonicalBase64(t *testing.T) {
	good := forge(t, kPayNetP384, stdHeader(t, kPayNetP384), eventBody, true, true) // 96-byte sig: 128 chars, no slack
	v := newVerifier(t)
	if _, err := v.VerifyDetached(bg, good, eventBody); err != nil {
		t.Fatal(err)
	}
	rsa := forge(t, kPayNetRSA, stdHeader(t, kPayNetRSA), eventBody, true, true) // 256 bytes: 342 chars, 4 unused bits
	last := rsa[len(rsa)-1]
	idx := strings.IndexByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", last)
	flipped := rsa[:len(rsa)-1] + string("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[idx^1])
	if _, err := newVerifier(t).VerifyDetached(bg, flipped, eventBody); !errors.Is(err, ErrMalformed) {
		t.Fatalf("non-canonical signature segment: %v, want ErrMalformed", err)
	}
}

func TestVerifyDetachedReplay(t *testing.T) {
	std := stdHeader(t, kPayNetRSA)
	sig := forge(t, kPayNetRSA, std, eventBody, true, true)
	v := newVerifier(t)

	// A forgery carrying the same jti must not burn it: jti is checked last.
	forged := forge(t, kRogueRSA, std, eventBody, true, true)
	if _, err := v.VerifyDetached(bg, forged, eventBody); !errors.Is(err, ErrSignature) {
		t.Fatalf("forged: %v", err)
	}
	if _, err := v.VerifyDetached(bg, sig, []byte(`{}`)); !errors.Is(err, ErrSignature) {
		t.Fatalf("wrong body: %v", err)
	}
	if _, err := v.VerifyDetached(bg, sig, eventBody); err != nil {
		t.Fatalf("first use: %v", err)
	}
	_, err := v.VerifyDetached(bg, sig, eventBody)
	if !errors.Is(err, ErrReplay) || !IsClaimError(err) {
		t.Fatalf("second use: %v, want ErrReplay", err)
	}
	// A fresh signature (new jti) of the same body is accepted (redelivery, design.md §3.6).
	if _, err := v.VerifyDetached(bg, forge(t, kPayNetRSA, stdHeader(t, kPayNetRSA), eventBody, true, true), eventBody); err != nil {
		t.Fatalf("redelivery with a new jti: %v", err)
	}
}

// TestVerifyDetachedReplayWindow: a jti is remembered at least as long as its message can
// pass the iat window, even with a short ReplayTTL.
func TestVerifyDetachedReplayWindow(t *testing.T) {
	now := fixedNow
	v := newVerifier(t)
	v.Now = func() time.Time { return now }
	v.Replay = NewMemoryReplay(func() time.Time { return now })
	v.ReplayTTL = time.Second
	sig := forge(t, kPayNetRSA, with(stdHeader(t, kPayNetRSA), "iat", fixedNow.Add(200*time.Second).Unix()), eventBody, true, true)
	if _, err := v.VerifyDetached(bg, sig, eventBody); err != nil {
		t.Fatal(err)
	}
	now = fixedNow.Add(400 * time.Second) // iat is 200 s in the past: still inside the window
	if _, err := v.VerifyDetached(bg, sig, eventBody); !errors.Is(err, ErrReplay) {
		t.Fatalf("replay inside the iat window: %v", err)
	}
	now = fixedNow.Add(501 * time.Second)
	if _, err := v.VerifyDetached(bg, sig, eventBody); !errors.Is(err, ErrIat) {
		t.Fatalf("after the window: %v", err)
	}
}

type failingResolver struct{ err error }

func (f failingResolver) SigningKey(context.Context, string) (PublicKey, error) {
	return PublicKey{}, f.err
}

type failingReplay struct{}

func (failingReplay) UseOnce(context.Context, string, time.Time) (bool, error) {
	return false, errors.New("store down")
}

func TestVerifierConfigurationErrors(t *testing.T) {
	sig := forge(t, kPayNetRSA, stdHeader(t, kPayNetRSA), eventBody, true, true)
	down := errors.New("jwks fetch failed")

	v := newVerifier(t)
	v.Keys = failingResolver{down}
	if _, err := v.VerifyDetached(bg, sig, eventBody); !errors.Is(err, down) || IsClaimError(err) {
		t.Fatalf("resolver failure: %v", err)
	}
	v = newVerifier(t)
	v.Keys = failingResolver{fmt.Errorf("refresh: %w", ErrUnknownKey)}
	if _, err := v.VerifyDetached(bg, sig, eventBody); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("resolver unknown kid: %v", err)
	}
	v = newVerifier(t)
	v.Replay = nil
	if _, err := v.VerifyDetached(bg, sig, eventBody); err == nil {
		t.Fatal("nil Replay accepted")
	}
	v = newVerifier(t)
	v.Replay = failingReplay{}
	if _, err := v.VerifyDetached(bg, sig, eventBody); err == nil || IsClaimError(err) {
		t.Fatalf("replay store failure: %v", err)
	}
	v = newVerifier(t)
	v.Keys = nil
	if _, err := v.VerifyDetached(bg, sig, eventBody); err == nil {
		t.Fatal("nil Keys accepted")
	}
	ctx, cancel := context.WithCancel(bg)
	cancel()
	if _, err := newVerifier(t).VerifyDetached(ctx, sig, eventBody); err == nil {
		t.Fatal("cancelled context accepted")
	}
}

func TestVerifierDefaults(t *testing.T) {
	v := &Verifier{Keys: StaticKeys{Set: payNetKeys(t)}, Replay: NewMemoryReplay(nil)}
	s := &Signer{Key: signingKey(t, kPayNetRSA), Issuer: "paynet-ofp"} // real clock, uuid jti
	sig, err := s.SignDetached(eventBody)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.VerifyDetached(bg, sig, eventBody); err != nil {
		t.Fatalf("default clock/skew: %v", err)
	}
	if v.skew() != 300*time.Second || v.replayTTL() != 10*time.Minute {
		t.Fatal("defaults")
	}
}

const consentID = "18ce19c8-85be-4049-899c-21cdc02cde79"

func TestVerifyAttached(t *testing.T) {
	pk := pubKey(t, kPayNetRSA, UseSig)
	min := map[string]any{"alg": "PS256", "kid": pk.Kid}
	att := func(h map[string]any) func(t *testing.T) string {
		return func(t *testing.T) string { return forge(t, kPayNetRSA, h, []byte(consentID), true, false) }
	}
	good := forge(t, kPayNetRSA, min, []byte(consentID), true, false)
	encKid := pubKey(t, kDCEncRSA, UseEnc).Kid
	tests := []struct {
		name string
		sig  func(t *testing.T) string
		want []error
	}{
		{"valid PayNet shape {alg,kid}", att(min), []error{nil}},
		{"valid ES384", func(t *testing.T) string {
			p := pubKey(t, kPayNetP384, UseSig)
			return forge(t, kPayNetP384, map[string]any{"alg": p.Alg, "kid": p.Kid}, []byte(consentID), true, false)
		}, []error{nil}},
		{"valid ES512", func(t *testing.T) string {
			p := pubKey(t, kPayNetP521, UseSig)
			return forge(t, kPayNetP521, map[string]any{"alg": p.Alg, "kid": p.Kid}, []byte(consentID), true, false)
		}, []error{nil}},
		{"valid full header", att(stdHeader(t, kPayNetRSA)), []error{nil}},
		{"valid iat without crit", att(with(min, "iat", fixedNow.Unix())), []error{nil}},
		{"empty", func(*testing.T) string { return "" }, []error{ErrMissing}},
		{"detached where attached expected", func(t *testing.T) string {
			return forge(t, kPayNetRSA, min, []byte(consentID), true, true)
		}, []error{ErrMalformed}},
		{"S2 char appended", func(*testing.T) string { return good + "A" }, []error{ErrMalformed, ErrSignature}},
		{"S2 last char removed", func(*testing.T) string { return good[:len(good)-1] }, []error{ErrMalformed, ErrSignature}},
		{"payload swapped to another consent", func(*testing.T) string {
			h, _, _ := strings.Cut(good, ".")
			_, s, _ := strings.Cut(good[len(h)+1:], ".")
			return h + "." + base64.RawURLEncoding.EncodeToString([]byte("28ce19c8-85be-4049-899c-21cdc02cde79")) + "." + s
		}, []error{ErrSignature}},
		{"S3 unregistered key", func(t *testing.T) string { return forge(t, kRogueRSA, min, []byte(consentID), true, false) }, []error{ErrSignature}},
		{"S6 none", att(with(min, "alg", "none")), []error{ErrAlgorithm}},
		{"S6 HS256", att(with(min, "alg", "HS256")), []error{ErrAlgorithm}},
		{"S6 RS256", att(with(min, "alg", "RS256")), []error{ErrAlgorithm}},
		{"S7 unknown kid", att(with(min, "kid", "nope")), []error{ErrUnknownKey}},
		{"S7 enc key", func(t *testing.T) string {
			return forge(t, kDCEncRSA, with(min, "kid", encKid), []byte(consentID), true, false)
		}, []error{ErrKeyUse}},
		{"kid missing", att(with(min, "kid", nil)), []error{ErrUnknownKey}},
		{"crit unknown", att(with(min, "x", 1, "crit", []string{"x"})), []error{ErrCrit}},
		{"crit empty", att(with(min, "crit", []string{})), []error{ErrCrit}},
		{"crit omits a present iat", att(with(stdHeader(t, kPayNetRSA), "crit", []string{"iss", "jti"})), []error{ErrCrit}},
		{"iat outside window", att(with(min, "iat", fixedNow.Add(-301*time.Second).Unix())), []error{ErrIat}},
		{"iss of someone else", att(with(min, "iss", "DC1")), []error{ErrIssuer}},
		{"b64:false attached", func(t *testing.T) string {
			return forge(t, kPayNetRSA, with(min, "b64", false, "crit", []string{"b64"}), []byte(consentID), false, false)
		}, []error{ErrB64}},
		{"b64 without crit", att(with(min, "b64", true)), []error{ErrB64}},
		{"payload not base64url", func(*testing.T) string {
			h, _, _ := strings.Cut(good, ".")
			_, s, _ := strings.Cut(good[len(h)+1:], ".")
			return h + ".a+b." + s
		}, []error{ErrMalformed}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, payload, err := newVerifier(t).VerifyAttached(bg, tc.sig(t))
			if !isAny(err, tc.want) {
				t.Fatalf("err = %v, want one of %v", err, tc.want)
			}
			if err == nil && (string(payload) != consentID || h.Kid == "") {
				t.Fatalf("payload %q header %+v", payload, h)
			}
		})
	}
	// No jti is recorded: the authorize page may be reloaded.
	v := newVerifier(t)
	full := forge(t, kPayNetRSA, stdHeader(t, kPayNetRSA), []byte(consentID), true, false)
	for i := 0; i < 2; i++ {
		if _, _, err := v.VerifyAttached(bg, full); err != nil {
			t.Fatalf("use %d: %v", i, err)
		}
	}
}

func TestVerifyRequest(t *testing.T) {
	pk := pubKey(t, kPayNetRSA, UseSig)
	reqURL, _ := url.Parse("/v1/accounts/acc-1/transactions?consent_id=c-1&page_size=5&from_date=2026-01-01")
	jwtHdr := map[string]any{"alg": "PS256", "kid": pk.Kid, "typ": "JWT"}
	claims := func(kv ...any) []byte {
		c := map[string]any{
			"iss": "paynet-ofp", "iat": fixedNow.Unix(), "nbf": fixedNow.Unix(), "exp": fixedNow.Unix() + 300,
			"jti": fmt.Sprintf("cj-%d", time.Now().UnixNano()),
			"url": "https://dp.example/v1/accounts/acc-1/transactions?page_size=5&consent_id=c-1&from_date=2026-01-01",
			"qpm": map[string]any{"consent_id": "c-1", "page_size": "5", "from_date": "2026-01-01"},
		}
		return mustJSON(t, with(c, kv...))
	}
	claimsSig := func(h map[string]any, c []byte) func(t *testing.T) string {
		return func(t *testing.T) string { return forge(t, kPayNetRSA, h, c, true, false) }
	}
	tests := []struct {
		name   string
		method string
		sig    func(t *testing.T) string
		body   []byte
		url    *url.URL
		want   []error
	}{
		{"S1 empty", "GET", func(*testing.T) string { return "" }, nil, reqURL, []error{ErrMissing}},
		{"detached POST", "POST", func(t *testing.T) string {
			return forge(t, kPayNetRSA, stdHeader(t, kPayNetRSA), eventBody, true, true)
		}, eventBody, reqURL, []error{nil}},
		{"detached GET over empty body", "GET", func(t *testing.T) string {
			return forge(t, kPayNetRSA, stdHeader(t, kPayNetRSA), nil, true, true)
		}, nil, reqURL, []error{nil}},
		{"detached GET, body changed", "GET", func(t *testing.T) string {
			return forge(t, kPayNetRSA, stdHeader(t, kPayNetRSA), nil, true, true)
		}, []byte("x"), reqURL, []error{ErrSignature}},
		{"claims GET", "GET", claimsSig(jwtHdr, claims()), nil, reqURL, []error{nil}},
		{"claims HEAD", "HEAD", claimsSig(jwtHdr, claims()), nil, reqURL, []error{nil}},
		{"claims relative url, no qpm", "GET", claimsSig(jwtHdr, claims("url", reqURL.String(), "qpm", nil)), nil, reqURL, []error{nil}},
		{"claims iat/jti/iss in header with crit", "GET", claimsSig(stdHeader(t, kPayNetRSA), claims("iat", nil, "jti", nil, "iss", nil)), nil, reqURL, []error{nil}},
		{"claims qpm array value", "GET", claimsSig(jwtHdr, claims("url", "/v1/x?a=1&a=2", "qpm", map[string]any{"a": []string{"2", "1"}})), nil, mustURL("/v1/x?a=2&a=1"), []error{nil}},
		{"S13 claims on POST", "POST", claimsSig(jwtHdr, claims()), nil, reqURL, []error{ErrAttachedPayload}},
		{"claims with a request body", "GET", claimsSig(jwtHdr, claims()), []byte("{}"), reqURL, []error{ErrAttachedPayload}},
		{"S14 path differs", "GET", claimsSig(jwtHdr, claims()), nil, mustURL("/v1/accounts/acc-2/transactions?consent_id=c-1&page_size=5&from_date=2026-01-01"), []error{ErrURLMismatch}},
		{"S14 path differs by encoding", "GET", claimsSig(jwtHdr, claims("url", "/v1/accounts/a%2Fb", "qpm", nil)), nil, mustURL("/v1/accounts/a/b"), []error{ErrURLMismatch}},
		{"S14 query value differs", "GET", claimsSig(jwtHdr, claims()), nil, mustURL("/v1/accounts/acc-1/transactions?consent_id=c-1&page_size=500&from_date=2026-01-01"), []error{ErrURLMismatch}},
		{"S14 query param added", "GET", claimsSig(jwtHdr, claims()), nil, mustURL(reqURL.String() + "&to_date=2026-02-01"), []error{ErrURLMismatch}},
		{"S14 qpm differs", "GET", claimsSig(jwtHdr, claims("qpm", map[string]any{"consent_id": "c-2", "page_size": "5", "from_date": "2026-01-01"})), nil, reqURL, []error{ErrURLMismatch}},
		{"qpm malformed", "GET", claimsSig(jwtHdr, claims("qpm", []string{"a"})), nil, reqURL, []error{ErrURLMismatch}},
		{"url missing", "GET", claimsSig(jwtHdr, claims("url", nil)), nil, reqURL, []error{ErrURLMismatch}},
		{"iat missing everywhere", "GET", claimsSig(jwtHdr, claims("iat", nil)), nil, reqURL, []error{ErrIat}},
		{"claims iat too old", "GET", claimsSig(jwtHdr, claims("iat", fixedNow.Unix()-301)), nil, reqURL, []error{ErrIat}},
		{"jti missing everywhere", "GET", claimsSig(jwtHdr, claims("jti", nil)), nil, reqURL, []error{ErrJti}},
		{"iss missing everywhere", "GET", claimsSig(jwtHdr, claims("iss", nil)), nil, reqURL, []error{ErrIssuer}},
		{"iss wrong in claims", "GET", claimsSig(jwtHdr, claims("iss", "DC1")), nil, reqURL, []error{ErrIssuer}},
		{"exp long past", "GET", claimsSig(jwtHdr, claims("exp", fixedNow.Unix()-301)), nil, reqURL, []error{ErrExpired}},
		{"nbf far future", "GET", claimsSig(jwtHdr, claims("nbf", fixedNow.Unix()+301)), nil, reqURL, []error{ErrExpired}},
		{"header iat without crit", "GET", claimsSig(with(jwtHdr, "iat", fixedNow.Unix()), claims()), nil, reqURL, []error{ErrCrit}},
		{"claims not an object", "GET", claimsSig(jwtHdr, []byte(`"x"`)), nil, reqURL, []error{ErrMalformed}},
		{"claims signed by a stranger", "GET", func(t *testing.T) string { return forge(t, kRogueRSA, jwtHdr, claims(), true, false) }, nil, reqURL, []error{ErrSignature}},
		{"no request URL", "GET", claimsSig(jwtHdr, claims()), nil, nil, []error{ErrURLMismatch}},
		{"claims RS256", "GET", claimsSig(with(jwtHdr, "alg", "RS256"), claims()), nil, reqURL, []error{ErrAlgorithm}},
		{"claims unknown kid", "GET", claimsSig(with(jwtHdr, "kid", "nope"), claims()), nil, reqURL, []error{ErrUnknownKey}},
		{"claims signed with the enc key", "GET", func(t *testing.T) string {
			return forge(t, kDCEncRSA, with(jwtHdr, "kid", pubKey(t, kDCEncRSA, UseEnc).Kid), claims(), true, false)
		}, nil, reqURL, []error{ErrKeyUse}},
		{"claims b64:false", "GET", func(t *testing.T) string {
			return forge(t, kPayNetRSA, with(jwtHdr, "b64", false, "crit", []string{"b64"}), []byte("x"), false, false)
		}, nil, reqURL, []error{ErrB64}},
		{"claims header crit unknown", "GET", claimsSig(with(jwtHdr, "crit", []string{"url"}, "url", "/"), claims()), nil, reqURL, []error{ErrCrit}},
		{"claims iss wrong in header", "GET", claimsSig(with(stdHeader(t, kPayNetRSA), "iss", "DC1"), claims("iat", nil, "jti", nil, "iss", nil)), nil, reqURL, []error{ErrIssuer}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := newVerifier(t).VerifyRequest(bg, tc.sig(t), tc.method, tc.url, tc.body)
			if !isAny(err, tc.want) {
				t.Fatalf("err = %v, want one of %v", err, tc.want)
			}
			if err == nil && (h.Jti == "" || h.Iat.IsZero() || h.Iss != "paynet-ofp") {
				t.Fatalf("effective header %+v", h)
			}
		})
	}
	// Replay applies to the claims form.
	v := newVerifier(t)
	sig := forge(t, kPayNetRSA, jwtHdr, claims(), true, false)
	if _, err := v.VerifyRequest(bg, sig, "GET", reqURL, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := v.VerifyRequest(bg, sig, "GET", reqURL, nil); !errors.Is(err, ErrReplay) {
		t.Fatalf("claims replay: %v", err)
	}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

func TestIsClaimError(t *testing.T) {
	for _, e := range []error{ErrIat, ErrJti, ErrReplay, ErrIssuer, ErrCrit, ErrB64, ErrURLMismatch, ErrExpired} {
		if !IsClaimError(fmt.Errorf("ctx: %w", e)) {
			t.Errorf("%v is a claim error", e)
		}
	}
	for _, e := range []error{nil, ErrMissing, ErrMalformed, ErrAlgorithm, ErrUnknownKey, ErrKeyUse, ErrSignature, ErrAttachedPayload, errors.New("x")} {
		if IsClaimError(e) {
			t.Errorf("%v is not a claim error", e)
		}
	}
}

func TestMemoryReplay(t *testing.T) {
	now := fixedNow
	var mu sync.Mutex
	clk := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	m := NewMemoryReplay(clk)
	if fresh, err := m.UseOnce(bg, "a", fixedNow.Add(time.Minute)); !fresh || err != nil {
		t.Fatal("first use")
	}
	if fresh, _ := m.UseOnce(bg, "a", fixedNow.Add(time.Minute)); fresh {
		t.Fatal("second use is fresh")
	}
	mu.Lock()
	now = fixedNow.Add(time.Minute)
	mu.Unlock()
	if fresh, _ := m.UseOnce(bg, "a", now.Add(time.Minute)); !fresh {
		t.Fatal("expired entry not reusable")
	}
	mu.Lock()
	now = fixedNow.Add(10 * time.Minute)
	mu.Unlock()
	m.UseOnce(bg, "b", now.Add(time.Minute))
	if m.Len() != 1 {
		t.Fatalf("expired entries not purged: %d", m.Len())
	}
	ctx, cancel := context.WithCancel(bg)
	cancel()
	if _, err := m.UseOnce(ctx, "c", now); err == nil {
		t.Fatal("cancelled context")
	}
	// Concurrent use: exactly one winner per jti.
	var wg sync.WaitGroup
	wins := make(chan bool, 64)
	for i := 0; i < 64; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fresh, _ := m.UseOnce(bg, "race", now.Add(time.Minute))
			wins <- fresh
		}()
	}
	wg.Wait()
	close(wins)
	n := 0
	for w := range wins {
		if w {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d winners", n)
	}
}
