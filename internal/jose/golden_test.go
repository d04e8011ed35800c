package jose

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Golden PayNet-shaped messages (design.md §7.5). PS256/ECDSA signatures are randomized,
// so these tests verify the checked-in messages and compare their headers and JSON;
// `go test -run TestGolden -update` regenerates them (and the fuzz seeds).

const goldenDir = "testdata/golden"

func goldenPath(name string) string { return filepath.Join(goldenDir, name) }

func readGolden(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(goldenPath(name))
	if err != nil {
		t.Fatalf("%v (run go test -run TestGolden -update)", err)
	}
	return b
}

func writeGolden(t testing.TB, name string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(goldenDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(goldenPath(name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// golden returns the checked-in file, regenerating it first under -update.
func golden(t testing.TB, name string, gen func() []byte) []byte {
	t.Helper()
	if *update {
		writeGolden(t, name, gen())
	}
	return readGolden(t, name)
}

func headerJSON(t testing.TB, compact string) string {
	t.Helper()
	h, _, _ := strings.Cut(compact, ".")
	b, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func must[T any](t testing.TB) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// TestGoldenAuthorizeSignature: PayNet's authorize `signature` in the exact shape of its
// published example (spec §2.4): header {"alg":"PS256","kid":…}, payload the raw consent_id.
func TestGoldenAuthorizeSignature(t *testing.T) {
	s := payNetSigner(t, kPayNetRSA)
	sig := strings.TrimSpace(string(golden(t, "authorize-signature.jws", func() []byte {
		return []byte(must[string](t)(s.SignAttached([]byte(consentID))) + "\n")
	})))
	if got, want := headerJSON(t, sig), `{"alg":"PS256","kid":"`+s.Key.Kid+`"}`; got != want {
		t.Fatalf("header %s, want %s", got, want)
	}
	if _, p, _ := strings.Cut(sig, "."); !strings.HasPrefix(p, "MThjZTE5YzgtODViZS00MDQ5LTg5OWMtMjFjZGMwMmNkZTc5.") {
		t.Fatal("payload segment differs from PayNet's example")
	}
	h, payload, err := newVerifier(t).VerifyAttached(bg, sig)
	if err != nil || string(payload) != consentID || h.Alg != "PS256" || h.Kid != Thumbprint(loadKeys(t)[kPayNetRSA].chain[0]) {
		t.Fatalf("verify: %v %q %+v", err, payload, h)
	}
}

// TestGoldenEventSignature: a consent event with its detached x-fapi-signature
// (design.md §3.2), in both b64 modes.
func TestGoldenEventSignature(t *testing.T) {
	body := golden(t, "event-body.json", func() []byte { return eventBody })
	for _, tc := range []struct {
		file, header string
		sign         func(*Signer, []byte) (string, error)
	}{
		{"event-signature.jws", `{"alg":"PS256","crit":["iat","iss","jti"],"iat":%d,"iss":"paynet-ofp","jti":"jti-test-paynet-sig-rsa2048-1","kid":"%s"}`, (*Signer).SignDetached},
		{"event-signature-b64false.jws", `{"alg":"PS256","b64":false,"crit":["iat","iss","jti","b64"],"iat":%d,"iss":"paynet-ofp","jti":"jti-test-paynet-sig-rsa2048-1","kid":"%s"}`, (*Signer).SignDetachedUnencoded},
	} {
		t.Run(tc.file, func(t *testing.T) {
			s := payNetSigner(t, kPayNetRSA)
			sig := strings.TrimSpace(string(golden(t, tc.file, func() []byte {
				return []byte(must[string](t)(tc.sign(s, body)) + "\n")
			})))
			if got, want := headerJSON(t, sig), fmt.Sprintf(tc.header, fixedNow.Unix(), s.Key.Kid); got != want {
				t.Fatalf("header\n%s\nwant\n%s", got, want)
			}
			if _, err := newVerifier(t).VerifyDetached(bg, sig, body); err != nil {
				t.Fatal(err)
			}
			if _, err := newVerifier(t).VerifyDetached(bg, sig, bytes.TrimSpace(append(body, ' '))[1:]); err == nil {
				t.Fatal("verified over another body")
			}
			if _, _, err := oracleVerify(sig, s.Key.Key.Public(), body); err != nil {
				t.Fatalf("oracle: %v", err)
			}
		})
	}
}

// TestGoldenJWKS: the JWKS PayNet would publish for its test keys (spec §3.2.2). JSON()
// is deterministic, so the bytes are compared.
func TestGoldenJWKS(t *testing.T) {
	fresh := must[[]byte](t)(payNetKeys(t).JSON())
	b := golden(t, "paynet.jwks.json", func() []byte { return append(append([]byte{}, fresh...), '\n') })
	if !bytes.Equal(bytes.TrimSpace(b), fresh) {
		t.Fatalf("JWKS differs from golden:\n%s\nwant\n%s", fresh, b)
	}
	ks := must[*KeySet](t)(ParseJWKS(b))
	if len(ks.Keys) != 4 || ks.Keys[0].Kid != Thumbprint(loadKeys(t)[kPayNetRSA].chain[0]) {
		t.Fatalf("%+v", ks.Keys)
	}
}

// TestGoldenDataResponse: a sealed balances response (design.md §3.5), opened as a DC.
func TestGoldenDataResponse(t *testing.T) {
	s := &Signer{Key: signingKey(t, kDPRSA), Issuer: "DP9876543210", Now: clock, NewID: seqIDs("resp")}
	plain := golden(t, "data-response.plaintext.json", func() []byte { return dataPlaintext })
	msg := golden(t, "data-response.jws", func() []byte {
		return must[[]byte](t)(s.Seal(plain, pubKey(t, kDCEncRSA, UseEnc), []string{"Paynet OFP", "DC1"}))
	})
	if got, want := headerJSON(t, string(msg)), `{"alg":"PS256","kid":"`+s.Key.Kid+`","typ":"JWT"}`; got != want {
		t.Fatalf("header %s, want %s", got, want)
	}
	dpKeys := StaticKeys{Set: &KeySet{Keys: []PublicKey{pubKey(t, kDPRSA, UseSig)}}}
	c, pt, err := OpenResponse(bg, msg, dpKeys, loadKeys(t)[kDCEncRSA].key, fixedNow)
	if err != nil || !bytes.Equal(pt, plain) || c.Iss != "DP9876543210" || c.Exp-c.Iat != 3600 {
		t.Fatalf("%v %+v", err, c)
	}
	if got := headerJSON(t, c.Data); got != `{"alg":"RSA-OAEP-256","cty":"JWT","enc":"A256GCM","kid":"`+pubKey(t, kDCEncRSA, UseEnc).Thumbprint+`"}` {
		t.Fatalf("JWE header %s", got)
	}
}

// TestGoldenFuzzSeeds writes the checked-in seed corpus under -update and checks that
// the valid seeds are still the golden messages.
func TestGoldenFuzzSeeds(t *testing.T) {
	sig := strings.TrimSpace(string(readGolden(t, "event-signature.jws")))
	sigRaw := strings.TrimSpace(string(readGolden(t, "event-signature-b64false.jws")))
	body := readGolden(t, "event-body.json")
	att := strings.TrimSpace(string(readGolden(t, "authorize-signature.jws")))
	jwks := readGolden(t, "paynet.jwks.json")
	seeds := map[string]map[string][]any{
		"FuzzVerifyDetached": {
			"valid":          {sig, body},
			"valid-b64false": {sigRaw, body},
			"attached":       {att, []byte(consentID)},
			"alg-none":       {forge(t, kPayNetRSA, with(stdHeader(t, kPayNetRSA), "alg", "none"), body, true, true), body},
			"empty":          {"", []byte{}},
		},
		"FuzzVerifyAttached": {
			"valid":    {att},
			"detached": {sig},
			"garbage":  {"a.b.c"},
		},
		"FuzzParseJWKS": {
			"valid":   {jwks},
			"private": {[]byte(`{"keys":[{"kty":"RSA","kid":"k","use":"sig","n":"AQAB","e":"AQAB","d":"AQAB"}]}`)},
			"empty":   {[]byte(`{"keys":[]}`)},
		},
	}
	for target, files := range seeds {
		for name, args := range files {
			path := filepath.Join("testdata", "fuzz", target, name)
			want := fuzzFile(args)
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, want, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if strings.HasPrefix(name, "valid") {
				got, err := os.ReadFile(path)
				if err != nil || !bytes.Equal(got, want) {
					t.Errorf("%s is stale (run with -update): %v", path, err)
				}
			}
		}
	}
}

// fuzzFile encodes arguments in the "go test fuzz v1" corpus format.
func fuzzFile(args []any) []byte {
	var b strings.Builder
	b.WriteString("go test fuzz v1\n")
	for _, a := range args {
		switch v := a.(type) {
		case string:
			b.WriteString("string(" + strconv.Quote(v) + ")\n")
		case []byte:
			b.WriteString("[]byte(" + strconv.Quote(string(v)) + ")\n")
		}
	}
	return []byte(b.String())
}
