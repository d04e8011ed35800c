package jose

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/big"

	"github.com/lestrrat-go/jwx/v3/jwk"
)

// PublicKey is one public key of a JWKS (spec paynet-dp.md §3.2.2, §4.6).
type PublicKey struct {
	Kid        string
	Use        string           // "sig" or "enc"
	Alg        string           // "PS256","ES384","ES512" for sig; "RSA-OAEP-256" for enc
	Key        crypto.PublicKey // *rsa.PublicKey or *ecdsa.PublicKey
	Chain      []*x509.Certificate
	Thumbprint string // x5t#S256 (of Chain[0] when present)
}

// PublicKeyFromChain builds the public key carried by chain[0] with Kid = Thumbprint =
// Thumbprint(chain[0]). alg may be empty: it then defaults to AlgForKey for "sig" and
// RSA-OAEP-256 for "enc". The alg must fit the key (checkKey).
func PublicKeyFromChain(chain []*x509.Certificate, use, alg string) (PublicKey, error) {
	if len(chain) == 0 || chain[0] == nil {
		return PublicKey{}, fmt.Errorf("%w: empty certificate chain", ErrUnsupportedKey)
	}
	tp := Thumbprint(chain[0])
	pk := PublicKey{Kid: tp, Use: use, Alg: alg, Key: chain[0].PublicKey, Chain: chain, Thumbprint: tp}
	if err := pk.fill(); err != nil {
		return PublicKey{}, err
	}
	return pk, nil
}

// fill defaults Alg from Use and the key type, then checks the combination.
func (pk *PublicKey) fill() error {
	if pk.Alg == "" {
		switch pk.Use {
		case UseSig:
			alg, err := AlgForKey(pk.Key)
			if err != nil {
				return err
			}
			pk.Alg = alg
		case UseEnc:
			pk.Alg = AlgRSAOAEP256
		}
	}
	return checkKey(pk.Key, pk.Use, pk.Alg)
}

// checkKey enforces the profile: sig keys are RSA ≥ 2048 (PS256), P-384 (ES384) or P-521
// (ES512) with the matching alg; enc keys are RSA ≥ 2048 with RSA-OAEP-256.
func checkKey(key crypto.PublicKey, use, alg string) error {
	switch use {
	case UseSig:
		want, err := AlgForKey(key)
		if err != nil {
			return err
		}
		if alg != want {
			return fmt.Errorf("%w: alg %q does not fit the %s key (want %s)", ErrAlgorithm, truncate(alg), keyKind(key), want)
		}
	case UseEnc:
		rk, ok := key.(*rsa.PublicKey)
		if !ok {
			return fmt.Errorf("%w: enc key must be RSA, got %s", ErrUnsupportedKey, keyKind(key))
		}
		if _, err := AlgForKey(rk); err != nil {
			return err
		}
		if alg != AlgRSAOAEP256 {
			return fmt.Errorf("%w: enc alg %q, want %s", ErrAlgorithm, truncate(alg), AlgRSAOAEP256)
		}
	default:
		return fmt.Errorf("%w: use %q, want sig or enc", ErrKeyUse, truncate(use))
	}
	return nil
}

func keyKind(key crypto.PublicKey) string {
	switch k := key.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA-%d", k.N.BitLen())
	case *ecdsa.PublicKey:
		return "EC " + k.Curve.Params().Name
	default:
		return fmt.Sprintf("%T", key)
	}
}

// KeySet is a parsed JWKS.
type KeySet struct {
	Keys []PublicKey
	// Skipped are the keys ParseJWKS left out as unusable (see LogSkipped).
	Skipped []SkippedKey
}

// SkippedKey is a key of a JWKS that ParseJWKS could not use: its position, its kid (empty
// when it has none) and why. It never holds key material.
type SkippedKey struct {
	Index  int
	Kid    string
	Reason string
}

// privateMembers are the JWK members that carry private or symmetric key material
// (RFC 7518 §6.2.2, §6.3.2, §6.4.1). A published JWKS must not contain them (O2).
var privateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// ParseJWKS parses a JWKS {"keys":[…]} (RFC 7517 §5) under the PayNet profile. The set is
// refused for bad JSON (including duplicate members), a missing or empty "keys", duplicate kids,
// or when no key is usable. A single key is skipped (listed in KeySet.Skipped; see LogSkipped)
// when it is not a JSON object or has duplicate members, has no kid, carries private members, has
// a kty other than RSA/EC, a curve other than P-384/P-521, RSA below 2048 bits, a use other than
// sig/enc, an alg that does not fit the key, x5c[0] whose key differs from the JWK key, or an
// x5t#S256 that is not the thumbprint of x5c[0]. When use is absent it is inferred from alg
// (RSA-OAEP-256 → enc, else sig).
func ParseJWKS(b []byte) (*KeySet, error) {
	top, err := members(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrJWKS, err)
	}
	rawKeys, ok := top["keys"]
	if !ok {
		return nil, fmt.Errorf("%w: no \"keys\" member", ErrJWKS)
	}
	var list []json.RawMessage
	if err := json.Unmarshal(rawKeys, &list); err != nil || bytes.TrimSpace(rawKeys)[0] != '[' {
		return nil, fmt.Errorf("%w: \"keys\" is not an array", ErrJWKS)
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("%w: \"keys\" is empty", ErrJWKS)
	}
	ks := &KeySet{Keys: make([]PublicKey, 0, len(list))}
	seen := make(map[string]bool, len(list))
	for i, raw := range list {
		pk, err := parseJWK(raw)
		if err != nil {
			// One bad key (a type we do not use, a key being rotated in by a newer tool) must
			// not make every other key of the issuer unusable (RFC 7517 §5: "implementations
			// SHOULD ignore JWKs within a JWK Set that use kty values that are not understood").
			ks.Skipped = append(ks.Skipped, SkippedKey{Index: i, Kid: kidOf(raw), Reason: err.Error()})
			continue
		}
		if seen[pk.Kid] {
			return nil, fmt.Errorf("%w: duplicate kid %q", ErrJWKS, truncate(pk.Kid))
		}
		seen[pk.Kid] = true
		ks.Keys = append(ks.Keys, pk)
	}
	if len(ks.Keys) == 0 {
		first := ks.Skipped[0]
		return nil, fmt.Errorf("%w: no usable key (key %d: %s)", ErrJWKS, first.Index, first.Reason)
	}
	return ks, nil
}

// kidOf returns the kid of a JWK that did not parse, when it has a string one (truncated).
func kidOf(raw json.RawMessage) string {
	var k struct {
		Kid any `json:"kid"`
	}
	if json.Unmarshal(raw, &k) != nil {
		return ""
	}
	s, _ := k.Kid.(string)
	return truncate(s)
}

func parseJWK(raw json.RawMessage) (PublicKey, error) {
	m, err := members(raw)
	if err != nil {
		return PublicKey{}, err
	}
	for _, name := range privateMembers {
		if _, ok := m[name]; ok {
			return PublicKey{}, fmt.Errorf("private member %q present", name)
		}
	}
	var pk PublicKey
	str := func(name string, dst *string) error {
		s, _, err := stringMember(m, name)
		*dst = s
		return err
	}
	var kty, crv, x5tS256 string
	for _, f := range []struct {
		name string
		dst  *string
	}{{"kty", &kty}, {"crv", &crv}, {"kid", &pk.Kid}, {"use", &pk.Use}, {"alg", &pk.Alg}, {x5tS256Member, &x5tS256}} {
		if err := str(f.name, f.dst); err != nil {
			return PublicKey{}, err
		}
	}
	if pk.Kid == "" {
		return PublicKey{}, fmt.Errorf("missing kid")
	}
	switch kty {
	case "RSA":
	case "EC":
		if crv != "P-384" && crv != "P-521" {
			return PublicKey{}, fmt.Errorf("unsupported crv %q", truncate(crv))
		}
	default:
		return PublicKey{}, fmt.Errorf("unsupported kty %q", truncate(kty))
	}
	if pk.Use == "" {
		switch pk.Alg {
		case "":
			return PublicKey{}, fmt.Errorf("neither use nor alg given")
		case AlgRSAOAEP256:
			pk.Use = UseEnc
		default:
			pk.Use = UseSig
		}
	}
	key, err := jwk.ParseKey(raw)
	if err != nil {
		// jwx's message may quote member values; the reason is logged, so it stays generic.
		return PublicKey{}, fmt.Errorf("the %s key material does not parse", kty)
	}
	var rawKey any
	if err := jwk.Export(key, &rawKey); err != nil {
		return PublicKey{}, fmt.Errorf("export key: %v", err)
	}
	switch k := rawKey.(type) {
	case *rsa.PublicKey:
		if kty != "RSA" {
			return PublicKey{}, fmt.Errorf("kty %q with an RSA key", kty)
		}
		if k.E < 3 || k.E%2 == 0 {
			return PublicKey{}, fmt.Errorf("bad RSA exponent")
		}
		pk.Key = k
	case *ecdsa.PublicKey:
		if kty != "EC" || k.Curve.Params().Name != crv {
			return PublicKey{}, fmt.Errorf("kty/crv do not match the key")
		}
		if _, err := k.ECDH(); err != nil {
			return PublicKey{}, fmt.Errorf("EC point: %v", err)
		}
		pk.Key = k
	default:
		return PublicKey{}, fmt.Errorf("unsupported key material %T", rawKey)
	}
	if err := pk.fill(); err != nil {
		return PublicKey{}, err
	}
	if rawX5c, ok := m["x5c"]; ok {
		var chain []string
		if err := json.Unmarshal(rawX5c, &chain); err != nil || len(chain) == 0 {
			return PublicKey{}, fmt.Errorf("x5c is not a non-empty array of strings")
		}
		for i, c := range chain {
			der, err := base64.StdEncoding.DecodeString(c) // RFC 7517 §4.7: base64, not base64url
			if err != nil {
				return PublicKey{}, fmt.Errorf("x5c[%d]: %v", i, err)
			}
			cert, err := x509.ParseCertificate(der)
			if err != nil {
				return PublicKey{}, fmt.Errorf("x5c[%d]: %v", i, err)
			}
			pk.Chain = append(pk.Chain, cert)
		}
		if !publicKeysEqual(pk.Key, pk.Chain[0].PublicKey) {
			return PublicKey{}, fmt.Errorf("x5c[0] does not carry the JWK's key")
		}
		pk.Thumbprint = Thumbprint(pk.Chain[0])
		if x5tS256 != "" && x5tS256 != pk.Thumbprint {
			return PublicKey{}, fmt.Errorf("x5t#S256 does not match x5c[0]")
		}
	} else if x5tS256 != "" {
		d, err := base64.RawURLEncoding.Strict().DecodeString(x5tS256)
		if err != nil || len(d) != thumbprintSize {
			return PublicKey{}, fmt.Errorf("x5t#S256 is not a base64url SHA-256")
		}
		pk.Thumbprint = x5tS256
	}
	return pk, nil
}

// jwkJSON is the published form of a key: public members only, in a fixed order.
type jwkJSON struct {
	Kty     string   `json:"kty"`
	Kid     string   `json:"kid"`
	Use     string   `json:"use"`
	Alg     string   `json:"alg"`
	N       string   `json:"n,omitempty"`
	E       string   `json:"e,omitempty"`
	Crv     string   `json:"crv,omitempty"`
	X       string   `json:"x,omitempty"`
	Y       string   `json:"y,omitempty"`
	X5c     []string `json:"x5c,omitempty"`
	X5tS256 string   `json:"x5t#S256,omitempty"`
}

// JSON returns {"keys":[{kty,kid,use,alg,n,e | crv,x,y, x5c, x5t#S256}]} with public
// parts only (negative-tests O2). Kids must be distinct and every key must fit its
// use/alg, so that what we publish would pass ParseJWKS.
func (ks *KeySet) JSON() ([]byte, error) {
	out := struct {
		Keys []jwkJSON `json:"keys"`
	}{Keys: make([]jwkJSON, 0, len(ks.Keys))}
	seen := make(map[string]bool, len(ks.Keys))
	for _, pk := range ks.Keys {
		if pk.Kid == "" || seen[pk.Kid] {
			return nil, fmt.Errorf("%w: empty or duplicate kid %q", ErrJWKS, pk.Kid)
		}
		seen[pk.Kid] = true
		if err := checkKey(pk.Key, pk.Use, pk.Alg); err != nil {
			return nil, fmt.Errorf("%w: kid %q: %w", ErrJWKS, pk.Kid, err)
		}
		j := jwkJSON{Kid: pk.Kid, Use: pk.Use, Alg: pk.Alg, X5tS256: pk.Thumbprint}
		switch k := pk.Key.(type) {
		case *rsa.PublicKey:
			j.Kty = "RSA"
			j.N = b64u(k.N.Bytes())
			j.E = b64u(big.NewInt(int64(k.E)).Bytes())
		case *ecdsa.PublicKey:
			j.Kty = "EC"
			j.Crv = k.Curve.Params().Name
			x, y, err := ecPoint(k)
			if err != nil {
				return nil, fmt.Errorf("%w: kid %q: %v", ErrJWKS, pk.Kid, err)
			}
			j.X, j.Y = b64u(x), b64u(y)
		}
		for _, c := range pk.Chain {
			j.X5c = append(j.X5c, base64.StdEncoding.EncodeToString(c.Raw))
		}
		if len(pk.Chain) > 0 {
			j.X5tS256 = Thumbprint(pk.Chain[0])
		}
		out.Keys = append(out.Keys, j)
	}
	return json.Marshal(out)
}

// ecPoint returns the fixed-size X and Y coordinates of k (RFC 7518 §6.2.1.2).
func ecPoint(k *ecdsa.PublicKey) (x, y []byte, err error) {
	ek, err := k.ECDH()
	if err != nil {
		return nil, nil, err
	}
	b := ek.Bytes() // 0x04 || X || Y
	size := (len(b) - 1) / 2
	return b[1 : 1+size], b[1+size:], nil
}

func b64u(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// ByKid returns the key named kid.
func (ks *KeySet) ByKid(kid string) (PublicKey, bool) {
	if ks == nil {
		return PublicKey{}, false
	}
	for _, k := range ks.Keys {
		if k.Kid == kid {
			return k, true
		}
	}
	return PublicKey{}, false
}

// ByThumbprint returns the key whose x5t#S256 is x5t and, when use is not empty, whose
// use is use. PayNet names the DC encryption key this way (x-enc-kid, spec §4.3).
func (ks *KeySet) ByThumbprint(x5t, use string) (PublicKey, bool) {
	if ks == nil || x5t == "" {
		return PublicKey{}, false
	}
	for _, k := range ks.Keys {
		if k.Thumbprint == x5t && (use == "" || k.Use == use) {
			return k, true
		}
	}
	return PublicKey{}, false
}

// LogSkipped warns once per key ParseJWKS skipped, naming the source, the kid and the reason;
// never key material.
func (ks *KeySet) LogSkipped(ctx context.Context, logger *slog.Logger, source string) {
	if ks == nil || logger == nil {
		return
	}
	for _, s := range ks.Skipped {
		logger.WarnContext(ctx, "jose: JWKS key skipped", "source", source, "index", s.Index, "kid", s.Kid, "reason", s.Reason)
	}
}
