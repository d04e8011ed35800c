package jose

import (
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwe"
)

var dataPlaintext = []byte(`{"data":{"account_id":"acc-1","current_balance":{"amount":{"amount":"25000.75","currency":"MYR"},"credit_debit_indicator":"credit"},"credit_lines_included":false},"meta":{}}`)

func TestEncryptDecrypt(t *testing.T) {
	enc := pubKey(t, kDCEncRSA, UseEnc)
	dcKey := loadKeys(t)[kDCEncRSA].key
	c, err := Encrypt(dataPlaintext, enc)
	if err != nil {
		t.Fatal(err)
	}
	seg := strings.Split(c, ".")
	if len(seg) != 5 {
		t.Fatalf("%d segments", len(seg))
	}
	hb, _ := base64.RawURLEncoding.DecodeString(seg[0])
	if want := `{"alg":"RSA-OAEP-256","cty":"JWT","enc":"A256GCM","kid":"` + enc.Thumbprint + `"}`; string(hb) != want {
		t.Fatalf("JWE header %s, want %s", hb, want)
	}
	pt, kid, err := Decrypt(c, dcKey)
	if err != nil || string(pt) != string(dataPlaintext) || kid != enc.Thumbprint {
		t.Fatalf("Decrypt: %v kid %q", err, kid)
	}
	if c2, _ := Encrypt(dataPlaintext, enc); c2 == c {
		t.Fatal("two encryptions are identical")
	}
}

func TestEncryptRefusesKeys(t *testing.T) {
	enc := pubKey(t, kDCEncRSA, UseEnc)
	sig := pubKey(t, kDCSigRSA, UseSig)
	ec := pubKey(t, kPayNetP384, UseSig)
	ec.Use = UseEnc
	noTP := enc
	noTP.Thumbprint = ""
	for name, k := range map[string]PublicKey{"sig key": sig, "EC key": ec, "no thumbprint": noTP, "zero": {}} {
		if _, err := Encrypt(dataPlaintext, k); !errors.Is(err, ErrKeyUse) {
			t.Errorf("%s: %v, want ErrKeyUse", name, err)
		}
	}
}

// jweWith encrypts with jwx directly, to build JWEs our Encrypt never makes.
func jweWith(t *testing.T, alg jwa.KeyEncryptionAlgorithm, enc jwa.ContentEncryptionAlgorithm, key any, zip bool) string {
	t.Helper()
	opts := []jwe.EncryptOption{jwe.WithKey(alg, key), jwe.WithContentEncryption(enc), jwe.WithCompact()}
	if zip {
		opts = append(opts, jwe.WithCompress(jwa.Deflate()))
	}
	out, err := jwe.Encrypt(dataPlaintext, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// TestDecryptD13 is negative-tests D13.
func TestDecryptD13(t *testing.T) {
	ks := loadKeys(t)
	dcKey := ks[kDCEncRSA].key
	dcPub := dcKey.Public().(*rsa.PublicKey)
	good, err := Encrypt(dataPlaintext, pubKey(t, kDCEncRSA, UseEnc))
	if err != nil {
		t.Fatal(err)
	}
	seg := strings.Split(good, ".")
	hdr := func(h string) string {
		return base64.RawURLEncoding.EncodeToString([]byte(h)) + "." + strings.Join(seg[1:], ".")
	}
	flip := func(i int) string {
		s := append([]string{}, seg...)
		b, _ := base64.RawURLEncoding.DecodeString(s[i])
		b[0] ^= 1
		s[i] = base64.RawURLEncoding.EncodeToString(b)
		return strings.Join(s, ".")
	}
	tests := []struct {
		name string
		jwe  string
		key  any
		want error
	}{
		{"wrong DC key", good, ks[kDCSigRSA].key, ErrDecrypt},
		{"EC key", good, ks[kPayNetP384].key, ErrKeyUse},
		{"zip", jweWith(t, jwa.RSA_OAEP_256(), jwa.A256GCM(), dcPub, true), dcKey, ErrAlgorithm},
		{"RSA1_5", jweWith(t, jwa.RSA1_5(), jwa.A256GCM(), dcPub, false), dcKey, ErrAlgorithm},
		{"RSA-OAEP (SHA-1)", jweWith(t, jwa.RSA_OAEP(), jwa.A256GCM(), dcPub, false), dcKey, ErrAlgorithm},
		{"A128CBC-HS256", jweWith(t, jwa.RSA_OAEP_256(), jwa.A128CBC_HS256(), dcPub, false), dcKey, ErrAlgorithm},
		{"dir", hdr(`{"alg":"dir","enc":"A256GCM"}`), dcKey, ErrAlgorithm},
		{"crit", hdr(`{"alg":"RSA-OAEP-256","enc":"A256GCM","crit":["x"],"x":1}`), dcKey, ErrCrit},
		{"header changed (kid)", hdr(`{"alg":"RSA-OAEP-256","cty":"JWT","enc":"A256GCM","kid":"other"}`), dcKey, ErrDecrypt},
		{"duplicate header member", hdr(`{"alg":"RSA-OAEP-256","alg":"RSA-OAEP-256","enc":"A256GCM"}`), dcKey, ErrMalformed},
		{"ciphertext flipped", flip(3), dcKey, ErrDecrypt},
		{"tag flipped", flip(4), dcKey, ErrDecrypt},
		{"encrypted key flipped", flip(1), dcKey, ErrDecrypt},
		{"no encrypted key", strings.Join([]string{seg[0], "", seg[2], seg[3], seg[4]}, "."), dcKey, ErrMalformed},
		{"four segments", strings.Join(seg[:4], "."), dcKey, ErrMalformed},
		{"JWS, not JWE", forge(t, kPayNetRSA, stdHeader(t, kPayNetRSA), eventBody, true, false), dcKey, ErrMalformed},
		{"header not base64url", "!!." + strings.Join(seg[1:], "."), dcKey, ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pt, _, err := Decrypt(tc.jwe, tc.key)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if pt != nil {
				t.Fatal("plaintext returned with an error")
			}
		})
	}
}

func TestSealOpenResponse(t *testing.T) {
	enc := pubKey(t, kDCEncRSA, UseEnc)
	dcKey := loadKeys(t)[kDCEncRSA].key
	aud := []string{"Paynet OFP", "DC1"}
	for _, kn := range []string{kDPRSA, kDPP384} {
		t.Run(kn, func(t *testing.T) {
			s := &Signer{Key: signingKey(t, kn), Issuer: "DP9876543210", Now: clock, NewID: seqIDs("r")}
			dpKeys := StaticKeys{Set: &KeySet{Keys: []PublicKey{pubKey(t, kn, UseSig)}}}
			out, err := s.Seal(dataPlaintext, enc, aud)
			if err != nil {
				t.Fatal(err)
			}
			seg := strings.Split(string(out), ".")
			if len(seg) != 3 || seg[1] == "" {
				t.Fatal("not an attached compact JWS")
			}
			hb, _ := base64.RawURLEncoding.DecodeString(seg[0])
			if want := `{"alg":"` + s.Key.Alg + `","kid":"` + s.Key.Kid + `","typ":"JWT"}`; string(hb) != want {
				t.Fatalf("header %s, want %s", hb, want)
			}
			c, pt, err := OpenResponse(bg, out, dpKeys, dcKey, fixedNow)
			if err != nil {
				t.Fatal(err)
			}
			iat := fixedNow.Unix()
			if c.Iss != "DP9876543210" || strings.Join(c.Aud, ",") != "Paynet OFP,DC1" || c.Iat != iat || c.Nbf != iat ||
				c.Exp != iat+3600 || c.Jti != "r-1" || string(pt) != string(dataPlaintext) {
				t.Fatalf("claims %+v plaintext %s", c, pt)
			}
			if _, kid, _ := Decrypt(c.Data, dcKey); kid != enc.Thumbprint {
				t.Fatalf("inner kid %q is not x-enc-kid", kid)
			}
			// D12 negatives.
			if _, _, err := OpenResponse(bg, out, StaticKeys{Set: payNetKeys(t)}, dcKey, fixedNow); !errors.Is(err, ErrUnknownKey) {
				t.Fatalf("unknown DP kid: %v", err)
			}
			if _, _, err := OpenResponse(bg, out, dpKeys, loadKeys(t)[kDCSigRSA].key, fixedNow); !errors.Is(err, ErrDecrypt) {
				t.Fatalf("wrong DC key: %v", err)
			}
			if _, _, err := OpenResponse(bg, out, dpKeys, dcKey, fixedNow.Add(3901*time.Second)); !errors.Is(err, ErrExpired) {
				t.Fatalf("expired: %v", err)
			}
			if _, _, err := OpenResponse(bg, out, dpKeys, dcKey, fixedNow.Add(3899*time.Second)); err != nil {
				t.Fatalf("within skew: %v", err)
			}
			if _, _, err := OpenResponse(bg, out, dpKeys, dcKey, fixedNow.Add(-301*time.Second)); !errors.Is(err, ErrExpired) {
				t.Fatalf("not yet valid: %v", err)
			}
			tampered := seg[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"x"}`)) + "." + seg[2]
			if _, _, err := OpenResponse(bg, []byte(tampered), dpKeys, dcKey, fixedNow); !errors.Is(err, ErrSignature) {
				t.Fatalf("tampered: %v", err)
			}
		})
	}
	s := &Signer{Key: signingKey(t, kDPRSA), Issuer: "DP1", Now: clock}
	if _, err := s.Seal(dataPlaintext, pubKey(t, kDCSigRSA, UseSig), aud); !errors.Is(err, ErrKeyUse) {
		t.Fatalf("seal to a sig key: %v", err)
	}
	if _, err := s.Seal(dataPlaintext, enc, nil); err == nil {
		t.Fatal("seal without aud")
	}
	if _, err := (&Signer{Key: signingKey(t, kDPRSA)}).Seal(dataPlaintext, enc, aud); err == nil {
		t.Fatal("seal without issuer")
	}
}

// TestOpenResponseRefuses forges responses with the oracle.
func TestOpenResponseRefuses(t *testing.T) {
	enc := pubKey(t, kDCEncRSA, UseEnc)
	dcKey := loadKeys(t)[kDCEncRSA].key
	dp := pubKey(t, kDPRSA, UseSig)
	dpKeys := StaticKeys{Set: &KeySet{Keys: []PublicKey{dp, pubKey(t, kDCEncRSA, UseEnc)}}}
	inner, _ := Encrypt(dataPlaintext, enc)
	claims := map[string]any{"iss": "DP1", "aud": []string{"Paynet OFP", "DC1"}, "data": inner, "iat": fixedNow.Unix(),
		"nbf": fixedNow.Unix(), "exp": fixedNow.Unix() + 3600, "jti": "j"}
	hdr := map[string]any{"alg": "PS256", "kid": dp.Kid, "typ": "JWT"}
	mk := func(key string, h, c map[string]any) []byte {
		return []byte(forge(t, key, h, mustJSON(t, c), true, false))
	}
	tests := []struct {
		name string
		msg  []byte
		want error
	}{
		{"valid (oracle)", mk(kDPRSA, hdr, claims), nil},
		{"RS256", mk(kDPRSA, with(hdr, "alg", "RS256"), claims), ErrAlgorithm},
		{"none", mk(kDPRSA, with(hdr, "alg", "none"), claims), ErrAlgorithm},
		{"enc key signs", mk(kDCEncRSA, with(hdr, "kid", enc.Kid), claims), ErrKeyUse},
		{"typ JOSE", mk(kDPRSA, with(hdr, "typ", "JOSE"), claims), ErrMalformed},
		{"crit", mk(kDPRSA, with(hdr, "crit", []string{"iat"}, "iat", 1), claims), ErrCrit},
		{"no kid", mk(kDPRSA, with(hdr, "kid", nil), claims), ErrUnknownKey},
		{"exp missing", mk(kDPRSA, hdr, with(claims, "exp", nil)), ErrMalformed},
		{"data missing", mk(kDPRSA, hdr, with(claims, "data", nil)), ErrMalformed},
		{"aud a string", mk(kDPRSA, hdr, with(claims, "aud", "DC1")), ErrMalformed},
		{"EXP shadowing exp", mk(kDPRSA, hdr, with(claims, "exp", fixedNow.Unix()-4000, "EXP", fixedNow.Unix()+3600)), ErrExpired},
		{"detached", []byte(forge(t, kDPRSA, hdr, mustJSON(t, claims), true, true)), ErrMalformed},
		{"empty", nil, ErrMissing},
		{"data not a JWE", mk(kDPRSA, hdr, with(claims, "data", "plain")), ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, pt, err := OpenResponse(bg, tc.msg, dpKeys, dcKey, fixedNow)
			if tc.want == nil {
				if err != nil || string(pt) != string(dataPlaintext) {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
	if _, _, err := OpenResponse(bg, mk(kDPRSA, hdr, claims), failingResolver{errors.New("down")}, dcKey, fixedNow); err == nil || errors.Is(err, ErrUnknownKey) {
		t.Fatalf("resolver failure: %v", err)
	}
}
