package jose

// A small, independent JWS signer/verifier written only on the standard library
// (design.md §7.5): RSASSA-PSS with SHA-256 and salt length = hash length (RFC 7518 §3.5),
// ECDSA with raw r||s of the curve size and SHA-384/SHA-512 (RFC 7518 §3.4), and the
// RFC 7797 unencoded payload. It shares no code with the package under test, so the
// differential tests catch a bug on either side. It also signs with algorithms the
// profile refuses (RS256, HS256, none) to forge negative cases.

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"
)

var oracleB64 = base64.RawURLEncoding

// oracleInput is the JWS Signing Input: ASCII(BASE64URL(header) || '.' || payload part).
func oracleInput(headerSeg string, payload []byte, b64 bool) []byte {
	if b64 {
		return []byte(headerSeg + "." + oracleB64.EncodeToString(payload))
	}
	return append([]byte(headerSeg+"."), payload...)
}

// oracleSign signs header (exact JSON bytes) and payload with alg and key.
func oracleSign(alg string, key any, header, payload []byte, b64, detached bool) (string, error) {
	headerSeg := oracleB64.EncodeToString(header)
	input := oracleInput(headerSeg, payload, b64)
	var sig []byte
	var err error
	switch alg {
	case "PS256", "RS256":
		k, ok := key.(*rsa.PrivateKey)
		if !ok {
			return "", fmt.Errorf("oracle: %s needs an RSA key", alg)
		}
		d := sha256.Sum256(input)
		if alg == "PS256" {
			sig, err = rsa.SignPSS(rand.Reader, k, crypto.SHA256, d[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		} else {
			sig, err = rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, d[:])
		}
	case "ES384", "ES512":
		k, ok := key.(*ecdsa.PrivateKey)
		if !ok {
			return "", fmt.Errorf("oracle: %s needs an EC key", alg)
		}
		var digest []byte
		if alg == "ES384" {
			d := sha512.Sum384(input)
			digest = d[:]
		} else {
			d := sha512.Sum512(input)
			digest = d[:]
		}
		r, s, e := ecdsa.Sign(rand.Reader, k, digest)
		if e != nil {
			return "", e
		}
		size := (k.Curve.Params().BitSize + 7) / 8
		sig = make([]byte, 2*size)
		r.FillBytes(sig[:size])
		s.FillBytes(sig[size:])
	case "HS256":
		secret, ok := key.([]byte)
		if !ok {
			return "", errors.New("oracle: HS256 needs a []byte key")
		}
		m := hmac.New(sha256.New, secret)
		m.Write(input)
		sig = m.Sum(nil)
	case "none":
	default:
		return "", fmt.Errorf("oracle: alg %q", alg)
	}
	if err != nil {
		return "", err
	}
	payloadSeg := ""
	if !detached {
		if b64 {
			payloadSeg = oracleB64.EncodeToString(payload)
		} else {
			payloadSeg = string(payload)
		}
	}
	return headerSeg + "." + payloadSeg + "." + oracleB64.EncodeToString(sig), nil
}

// oracleVerify verifies a compact JWS with pub; detached != nil supplies the payload of a
// detached JWS. It returns the decoded header and the payload.
func oracleVerify(compact string, pub any, detached []byte) (map[string]any, []byte, error) {
	seg := strings.Split(compact, ".")
	if len(seg) != 3 {
		return nil, nil, errors.New("oracle: not three segments")
	}
	hb, err := oracleB64.DecodeString(seg[0])
	if err != nil {
		return nil, nil, err
	}
	var h map[string]any
	if err := json.Unmarshal(hb, &h); err != nil {
		return nil, nil, err
	}
	b64 := true
	if v, ok := h["b64"]; ok {
		b64, ok = v.(bool)
		if !ok {
			return nil, nil, errors.New("oracle: b64 not boolean")
		}
	}
	var payload []byte
	switch {
	case seg[1] == "" && detached != nil:
		payload = detached
	case b64:
		if payload, err = oracleB64.DecodeString(seg[1]); err != nil {
			return nil, nil, err
		}
	default:
		payload = []byte(seg[1])
	}
	input := oracleInput(seg[0], payload, b64)
	sig, err := oracleB64.DecodeString(seg[2])
	if err != nil {
		return nil, nil, err
	}
	alg, _ := h["alg"].(string)
	switch alg {
	case "PS256":
		k, ok := pub.(*rsa.PublicKey)
		if !ok {
			return nil, nil, errors.New("oracle: PS256 needs an RSA key")
		}
		d := sha256.Sum256(input)
		if err := rsa.VerifyPSS(k, crypto.SHA256, d[:], sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}); err != nil {
			return nil, nil, err
		}
	case "ES384", "ES512":
		k, ok := pub.(*ecdsa.PublicKey)
		if !ok {
			return nil, nil, errors.New("oracle: ES* needs an EC key")
		}
		size := (k.Curve.Params().BitSize + 7) / 8
		if len(sig) != 2*size {
			return nil, nil, errors.New("oracle: bad ECDSA signature length")
		}
		var digest []byte
		if alg == "ES384" {
			d := sha512.Sum384(input)
			digest = d[:]
		} else {
			d := sha512.Sum512(input)
			digest = d[:]
		}
		r, s := new(big.Int).SetBytes(sig[:size]), new(big.Int).SetBytes(sig[size:])
		if !ecdsa.Verify(k, digest, r, s) {
			return nil, nil, errors.New("oracle: ECDSA verification failed")
		}
	default:
		return nil, nil, fmt.Errorf("oracle: alg %q not verified", alg)
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
