package jose

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// sentinels are the errors a verification may end in; fuzzing checks that every failure
// is classified as one of them (so the api can map it to 401 InvalidSignature/InvalidClaim).
var sentinels = []error{ErrMissing, ErrMalformed, ErrAlgorithm, ErrUnknownKey, ErrKeyUse, ErrSignature,
	ErrAttachedPayload, ErrIat, ErrJti, ErrReplay, ErrIssuer, ErrCrit, ErrB64, ErrURLMismatch, ErrExpired}

func classified(err error) bool {
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

func FuzzVerifyDetached(f *testing.F) {
	validSig := strings.TrimSpace(string(readGolden(f, "event-signature.jws")))
	validRaw := strings.TrimSpace(string(readGolden(f, "event-signature-b64false.jws")))
	validBody := readGolden(f, "event-body.json")
	f.Add(validSig, validBody)
	keys := StaticKeys{Set: payNetKeys(f)}
	f.Fuzz(func(t *testing.T, sig string, body []byte) {
		v := &Verifier{Keys: keys, Replay: NewMemoryReplay(clock), Now: clock, Issuer: "paynet-ofp"}
		h, err := v.VerifyDetached(bg, sig, body)
		if (sig == validSig || sig == validRaw) && bytes.Equal(body, validBody) && err != nil {
			t.Fatalf("golden detached signature no longer verifies: %v", err)
		}
		if err != nil {
			if h != nil || !classified(err) {
				t.Fatalf("unclassified error or header with error: %v", err)
			}
			return
		}
		if h == nil || h.Jti == "" || h.Kid == "" {
			t.Fatalf("accepted with header %+v", h)
		}
		if _, err := v.VerifyDetached(bg, sig, body); !errors.Is(err, ErrReplay) {
			t.Fatalf("second use: %v, want ErrReplay", err)
		}
	})
}

func FuzzVerifyAttached(f *testing.F) {
	valid := strings.TrimSpace(string(readGolden(f, "authorize-signature.jws")))
	f.Add(valid)
	keys := StaticKeys{Set: payNetKeys(f)}
	f.Fuzz(func(t *testing.T, sig string) {
		v := &Verifier{Keys: keys, Replay: NewMemoryReplay(clock), Now: clock, Issuer: "paynet-ofp"}
		h, payload, err := v.VerifyAttached(bg, sig)
		if sig == valid && (err != nil || string(payload) != consentID) {
			t.Fatalf("golden authorize signature no longer verifies: %v", err)
		}
		if err != nil {
			if h != nil || payload != nil || !classified(err) {
				t.Fatalf("unclassified error or result with error: %v", err)
			}
			return
		}
		if h == nil || h.Kid == "" {
			t.Fatalf("accepted with header %+v", h)
		}
	})
}

func FuzzParseJWKS(f *testing.F) {
	valid := readGolden(f, "paynet.jwks.json")
	f.Add(valid)
	f.Fuzz(func(t *testing.T, b []byte) {
		ks, err := ParseJWKS(b)
		if bytes.Equal(b, valid) && err != nil {
			t.Fatalf("golden JWKS no longer parses: %v", err)
		}
		if err != nil {
			if ks != nil || !errors.Is(err, ErrJWKS) {
				t.Fatalf("error %v not wrapping ErrJWKS or set returned", err)
			}
			return
		}
		// Whatever parses can be published and parses again to the same keys.
		out, err := ks.JSON()
		if err != nil {
			t.Fatalf("parsed set does not publish: %v", err)
		}
		back, err := ParseJWKS(out)
		if err != nil || len(back.Keys) != len(ks.Keys) {
			t.Fatalf("round trip: %v", err)
		}
		for i := range ks.Keys {
			a, b := ks.Keys[i], back.Keys[i]
			if a.Kid != b.Kid || a.Use != b.Use || a.Alg != b.Alg || a.Thumbprint != b.Thumbprint || !publicKeysEqual(a.Key, b.Key) {
				t.Fatalf("key %d changed in the round trip", i)
			}
		}
	})
}
