package jose

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwe"
)

// Encrypt returns a compact JWE (RFC 7516 §7.1) of plaintext to key: alg RSA-OAEP-256,
// enc A256GCM, protected header {alg, enc, cty:"JWT", kid: key.Thumbprint}, which is the
// x-enc-kid PayNet sent (design.md §3.5, spec paynet-dp.md §4.3). Never compressed.
// key must be an RSA ≥ 2048 key with Use "enc" and a thumbprint (else ErrKeyUse).
func Encrypt(plaintext []byte, key PublicKey) (string, error) {
	if key.Use != UseEnc {
		return "", fmt.Errorf("%w: key %q has use %q, not enc", ErrKeyUse, truncate(key.Kid), key.Use)
	}
	rk, ok := key.Key.(*rsa.PublicKey)
	if !ok {
		return "", fmt.Errorf("%w: encryption key must be RSA, got %s", ErrKeyUse, keyKind(key.Key))
	}
	if err := checkKey(rk, UseEnc, AlgRSAOAEP256); err != nil {
		return "", fmt.Errorf("%w: %w", ErrKeyUse, err)
	}
	if key.Thumbprint == "" {
		return "", fmt.Errorf("%w: encryption key without x5t#S256", ErrKeyUse)
	}
	h := jwe.NewHeaders()
	if err := h.Set(jwe.ContentTypeKey, "JWT"); err != nil {
		return "", fmt.Errorf("jose: jwe header cty: %w", err)
	}
	if err := h.Set(jwe.KeyIDKey, key.Thumbprint); err != nil {
		return "", fmt.Errorf("jose: jwe header kid: %w", err)
	}
	out, err := jwe.Encrypt(plaintext,
		jwe.WithKey(jwa.RSA_OAEP_256(), rk),
		jwe.WithContentEncryption(jwa.A256GCM()),
		jwe.WithProtectedHeaders(h),
		jwe.WithCompact(),
	)
	if err != nil {
		return "", fmt.Errorf("jose: encrypt: %w", err)
	}
	return string(out), nil
}

// Decrypt decrypts a compact JWE (RFC 7516 §7.1) with key, an *rsa.PrivateKey. It accepts
// only alg RSA-OAEP-256 with enc A256GCM, no "zip" and no "crit" (negative-tests D13:
// RSA1_5, dir and compression are refused before the key is used), and returns the
// plaintext and the protected header's kid.
func Decrypt(compact string, key crypto.PrivateKey) (plaintext []byte, kid string, err error) {
	if strings.Count(compact, ".") != 4 {
		return nil, "", fmt.Errorf("%w: compact JWE must have five segments", ErrMalformed)
	}
	seg := strings.SplitN(compact, ".", 5)
	hb, err := strictB64.DecodeString(seg[0])
	if err != nil {
		return nil, "", fmt.Errorf("%w: JWE header is not base64url", ErrMalformed)
	}
	m, err := members(hb)
	if err != nil {
		return nil, "", fmt.Errorf("%w: JWE header: %v", ErrMalformed, err)
	}
	alg, _, _ := stringMember(m, "alg")
	enc, _, _ := stringMember(m, "enc")
	if alg != AlgRSAOAEP256 || enc != EncA256GCM {
		return nil, "", fmt.Errorf("%w: JWE alg %q enc %q (want %s, %s)", ErrAlgorithm, truncate(alg), truncate(enc), AlgRSAOAEP256, EncA256GCM)
	}
	if _, ok := m["zip"]; ok {
		return nil, "", fmt.Errorf("%w: compressed JWE (zip) is not allowed", ErrAlgorithm)
	}
	if _, ok := m["crit"]; ok {
		return nil, "", fmt.Errorf("%w: JWE crit is not supported", ErrCrit)
	}
	if kid, _, err = stringMember(m, "kid"); err != nil {
		return nil, "", fmt.Errorf("%w: JWE kid is not a string", ErrMalformed)
	}
	for i, s := range seg[1:] {
		// Encrypted key, IV and tag are never empty; the ciphertext may be (empty plaintext).
		if _, err := strictB64.DecodeString(s); err != nil || (s == "" && i != 2) {
			return nil, "", fmt.Errorf("%w: JWE segment %d is empty or not base64url", ErrMalformed, i+2)
		}
	}
	rk, ok := key.(*rsa.PrivateKey)
	if !ok || rk == nil {
		return nil, "", fmt.Errorf("%w: decryption key must be an *rsa.PrivateKey, got %T", ErrKeyUse, key)
	}
	pt, err := jwe.Decrypt([]byte(compact),
		jwe.WithKey(jwa.RSA_OAEP_256(), rk),
		jwe.WithCritValidation(true),
	)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %v", ErrDecrypt, err)
	}
	return pt, kid, nil
}

// ResponseClaims are the claims of the sealed data response (design.md §3.5, spec §3.1.8).
type ResponseClaims struct {
	Iss  string   `json:"iss"`
	Aud  []string `json:"aud"`
	Data string   `json:"data"`
	Iat  int64    `json:"iat"`
	Nbf  int64    `json:"nbf"`
	Exp  int64    `json:"exp"`
	Jti  string   `json:"jti"`
}

// responseLifetime is exp - iat of a sealed response (design.md §3.5).
const responseLifetime = 3600

// Seal builds the data response of design.md §3.5: the JWE of plaintext to encKey inside a
// JWS with header {alg, kid, typ:"JWT"} and claims {iss: s.Issuer, aud, data, iat,
// nbf = iat, exp = iat + 3600, jti}. It returns the compact JWS, the body of an
// application/jose response.
func (s *Signer) Seal(plaintext []byte, encKey PublicKey, aud []string) ([]byte, error) {
	if s.Issuer == "" {
		return nil, errors.New("jose: Signer.Issuer is not configured")
	}
	if len(aud) == 0 {
		return nil, errors.New("jose: seal: empty aud")
	}
	data, err := Encrypt(plaintext, encKey)
	if err != nil {
		return nil, err
	}
	iat := s.now().Unix()
	c := ResponseClaims{Iss: s.Issuer, Aud: aud, Data: data, Iat: iat, Nbf: iat, Exp: iat + responseLifetime, Jti: s.newID()}
	if c.Jti == "" {
		return nil, errors.New("jose: Signer.NewID returned an empty id")
	}
	b, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("jose: marshal response claims: %w", err)
	}
	return s.signJWT(b)
}

// responseSkew is the clock tolerance of OpenResponse for exp and nbf.
const responseSkew = 300 * time.Second

// OpenResponse verifies a sealed response with dpKeys (alg allow-list fitted to the key,
// kid, use sig, crit refused, typ JWT when present, exp and nbf against now with 300 s skew)
// and decrypts the inner JWE with decKey (negative-tests D12, D13). The simulator, the
// conformance runner and the tests use it in the DC's place; callers check iss and aud.
func OpenResponse(ctx context.Context, jwsCompact []byte, dpKeys KeyResolver, decKey crypto.PrivateKey, now time.Time) (ResponseClaims, []byte, error) {
	var c ResponseClaims
	p, err := splitJWS(string(bytes.TrimSpace(jwsCompact)), 0)
	if err != nil {
		return c, nil, err
	}
	h := &p.hdr
	if p.payload == "" {
		return c, nil, fmt.Errorf("%w: response JWS has no payload", ErrMalformed)
	}
	if _, err := sigAlg(h.Alg); err != nil {
		return c, nil, err
	}
	if h.Kid == "" {
		return c, nil, fmt.Errorf("%w: kid missing", ErrUnknownKey)
	}
	if h.hasCrit || h.hasB64 {
		return c, nil, fmt.Errorf("%w: response JWS must not carry crit or b64", ErrCrit)
	}
	if h.Typ != "" && h.Typ != "JWT" {
		return c, nil, fmt.Errorf("%w: typ %q", ErrMalformed, truncate(h.Typ))
	}
	key, err := dpKeys.SigningKey(ctx, h.Kid)
	if err != nil {
		if errors.Is(err, ErrUnknownKey) {
			return c, nil, err
		}
		return c, nil, fmt.Errorf("jose: resolve kid %q: %w", truncate(h.Kid), err)
	}
	if err := verifyKeyFits(key, h.Alg); err != nil {
		return c, nil, err
	}
	payload, err := jwxVerify(ctx, p.raw, h.Alg, key.Key, nil)
	if err != nil {
		return c, nil, err
	}
	m, err := members(payload)
	if err != nil {
		return c, nil, fmt.Errorf("%w: response claims: %v", ErrMalformed, err)
	}
	// Each claim is read from its exact member (encoding/json alone matches names
	// case-insensitively); all but nbf are required.
	for _, f := range []struct {
		name string
		dst  any
	}{{"iss", &c.Iss}, {"aud", &c.Aud}, {"data", &c.Data}, {"iat", &c.Iat}, {"exp", &c.Exp}, {"jti", &c.Jti}, {"nbf", &c.Nbf}} {
		raw, ok := m[f.name]
		if !ok {
			if f.name == "nbf" {
				continue
			}
			return c, nil, fmt.Errorf("%w: response claim %q missing", ErrMalformed, f.name)
		}
		if err := json.Unmarshal(raw, f.dst); err != nil {
			return c, nil, fmt.Errorf("%w: response claim %q: %v", ErrMalformed, f.name, err)
		}
	}
	if now.After(time.Unix(c.Exp, 0).Add(responseSkew)) {
		return c, nil, fmt.Errorf("%w: exp %d is past", ErrExpired, c.Exp)
	}
	if _, ok := m["nbf"]; ok && now.Before(time.Unix(c.Nbf, 0).Add(-responseSkew)) {
		return c, nil, fmt.Errorf("%w: nbf %d is in the future", ErrExpired, c.Nbf)
	}
	pt, _, err := Decrypt(c.Data, decKey)
	if err != nil {
		return c, nil, err
	}
	return c, pt, nil
}
