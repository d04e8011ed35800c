package stdjose

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"
)

// The one JWE algorithm pair of the profile (spec §4.3, design.md §3.5).
const (
	AlgRSAOAEP256 = "RSA-OAEP-256" // RFC 7518 §4.3
	EncA256GCM    = "A256GCM"      // RFC 7518 §5.3
)

// Encrypt returns the compact JWE (RFC 7516 §7.1) of plaintext to pub with the header
// {alg:"RSA-OAEP-256", enc:"A256GCM", cty:"JWT", kid} (design.md §3.5).
func Encrypt(plaintext []byte, pub *rsa.PublicKey, kid string) (string, error) {
	hb, err := json.Marshal(Header{{"alg", AlgRSAOAEP256}, {"enc", EncA256GCM}, {"cty", "JWT"}, {"kid", kid}})
	if err != nil {
		return "", err
	}
	return EncryptHeader(plaintext, pub, hb)
}

// EncryptHeader is Encrypt with the protected header given verbatim (it must name
// RSA-OAEP-256/A256GCM for the result to be decryptable; tests forge others).
func EncryptHeader(plaintext []byte, pub *rsa.PublicKey, header []byte) (string, error) {
	cek := make([]byte, 32)
	iv := make([]byte, 12)
	if _, err := rand.Read(cek); err != nil {
		return "", err
	}
	if _, err := rand.Read(iv); err != nil {
		return "", err
	}
	ek, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, pub, cek, nil)
	if err != nil {
		return "", fmt.Errorf("stdjose: encrypt key: %w", err)
	}
	hseg := B64.EncodeToString(header)
	gcm, err := newGCM(cek)
	if err != nil {
		return "", err
	}
	// RFC 7516 §5.1 step 14: the AAD is ASCII(BASE64URL(protected header)).
	sealed := gcm.Seal(nil, iv, plaintext, []byte(hseg))
	ct, tag := sealed[:len(sealed)-16], sealed[len(sealed)-16:]
	return strings.Join([]string{hseg, B64.EncodeToString(ek), B64.EncodeToString(iv), B64.EncodeToString(ct), B64.EncodeToString(tag)}, "."), nil
}

func newGCM(cek []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(cek)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// Decrypt opens a compact JWE with key, an *rsa.PrivateKey. Only alg RSA-OAEP-256 with enc
// A256GCM is accepted, without zip or crit (spec §4.3; negative-tests D13): anything else is
// ErrAlgorithm before the key is used. It returns the plaintext and the protected header.
func Decrypt(compact string, key crypto.PrivateKey) ([]byte, map[string]json.RawMessage, error) {
	seg := strings.Split(compact, ".")
	if len(seg) != 5 {
		return nil, nil, fmt.Errorf("%w: JWE has %d segments, want 5", ErrMalformed, len(seg))
	}
	hb, err := B64.DecodeString(seg[0])
	if err != nil {
		return nil, nil, fmt.Errorf("%w: JWE header: %v", ErrMalformed, err)
	}
	h, err := objectMembers(hb)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: JWE header: %v", ErrMalformed, err)
	}
	var alg, enc string
	_ = json.Unmarshal(h["alg"], &alg)
	_ = json.Unmarshal(h["enc"], &enc)
	_, zip := h["zip"]
	_, crit := h["crit"]
	if alg != AlgRSAOAEP256 || enc != EncA256GCM || zip || crit {
		return nil, h, fmt.Errorf("%w: JWE alg %q enc %q (zip %v, crit %v)", ErrAlgorithm, alg, enc, zip, crit)
	}
	rk, ok := key.(*rsa.PrivateKey)
	if !ok {
		return nil, h, fmt.Errorf("%w: need an RSA private key, have %T", ErrDecrypt, key)
	}
	var parts [4][]byte
	for i := range parts {
		if parts[i], err = B64.DecodeString(seg[i+1]); err != nil {
			return nil, h, fmt.Errorf("%w: JWE segment %d: %v", ErrMalformed, i+2, err)
		}
	}
	cek, err := rsa.DecryptOAEP(sha256.New(), nil, rk, parts[0], nil)
	if err != nil || len(cek) != 32 {
		return nil, h, fmt.Errorf("%w: content key", ErrDecrypt)
	}
	if len(parts[1]) != 12 || len(parts[3]) != 16 {
		return nil, h, fmt.Errorf("%w: iv or tag length", ErrDecrypt)
	}
	gcm, err := newGCM(cek)
	if err != nil {
		return nil, h, fmt.Errorf("%w: %v", ErrDecrypt, err)
	}
	pt, err := gcm.Open(nil, parts[1], append(parts[2], parts[3]...), []byte(seg[0]))
	if err != nil {
		return nil, h, fmt.Errorf("%w: %v", ErrDecrypt, err)
	}
	return pt, h, nil
}
