package stdjose

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
)

// ErrKey is a key or certificate file, or a JWK, that cannot be used.
var ErrKey = errors.New("stdjose: unusable key")

// LoadPrivateKeyFile reads the one private key of a PEM file (PKCS#1, PKCS#8 or SEC1).
func LoadPrivateKeyFile(path string) (crypto.Signer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var found crypto.Signer
	for rest := b; ; {
		var block *pem.Block
		if block, rest = pem.Decode(rest); block == nil {
			break
		}
		var key any
		switch block.Type {
		case "RSA PRIVATE KEY":
			key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		case "PRIVATE KEY":
			key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		case "EC PRIVATE KEY":
			key, err = x509.ParseECPrivateKey(block.Bytes)
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrKey, path, err)
		}
		s, ok := key.(crypto.Signer)
		if !ok || found != nil {
			return nil, fmt.Errorf("%w: %s: want exactly one private key", ErrKey, path)
		}
		found = s
	}
	if found == nil {
		return nil, fmt.Errorf("%w: %s: no private key", ErrKey, path)
	}
	return found, nil
}

// LoadCertificatesFile reads the certificates of a PEM file, leaf first.
func LoadCertificatesFile(path string) ([]*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []*x509.Certificate
	for rest := b; ; {
		var block *pem.Block
		if block, rest = pem.Decode(rest); block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrKey, path, err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: %s: no certificate", ErrKey, path)
	}
	return out, nil
}

// Thumbprint is x5t#S256 of a certificate: base64url SHA-256 of its DER (RFC 7515 §4.1.8).
// x-enc-kid is this value of the DC encryption certificate (spec §4.3); kids of the
// development PKI are the same value of the signing certificate (design.md §8).
func Thumbprint(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	return B64.EncodeToString(sum[:])
}

// PublicKey is one key of a JWKS.
type PublicKey struct {
	Kid, Use, Alg string
	// Thumbprint is x5t#S256 (given, or computed from x5c[0]).
	Thumbprint string
	Key        crypto.PublicKey
}

// KeySet is a parsed JWKS.
type KeySet struct{ Keys []PublicKey }

// ByKid returns the key named kid.
func (ks *KeySet) ByKid(kid string) (PublicKey, bool) {
	for _, k := range ks.Keys {
		if k.Kid == kid {
			return k, true
		}
	}
	return PublicKey{}, false
}

// ByThumbprint returns the key whose x5t#S256 is x5t and whose use is use.
func (ks *KeySet) ByThumbprint(x5t, use string) (PublicKey, bool) {
	for _, k := range ks.Keys {
		if k.Thumbprint == x5t && k.Use == use {
			return k, true
		}
	}
	return PublicKey{}, false
}

type jwkJSON struct {
	Kty     string   `json:"kty"`
	Kid     string   `json:"kid"`
	Use     string   `json:"use"`
	Alg     string   `json:"alg"`
	N       string   `json:"n"`
	E       string   `json:"e"`
	Crv     string   `json:"crv"`
	X       string   `json:"x"`
	Y       string   `json:"y"`
	X5c     []string `json:"x5c"`
	X5tS256 string   `json:"x5t#S256"`
	D       *string  `json:"d"`
}

// ParseJWKS reads the public keys of a JWKS (RFC 7517 §5): RSA (RFC 7518 §6.3.1) and EC
// P-384/P-521 (§6.2.1). A key with private material, without kid, of another type, whose x5c
// leaf does not carry it, or whose x5t#S256 differs from its x5c leaf is refused, and so is a
// set with a duplicate kid.
func ParseJWKS(b []byte) (*KeySet, error) {
	var doc struct {
		Keys []jwkJSON `json:"keys"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%w: JWKS: %v", ErrKey, err)
	}
	if len(doc.Keys) == 0 {
		return nil, fmt.Errorf("%w: JWKS has no keys", ErrKey)
	}
	ks := &KeySet{}
	for i, j := range doc.Keys {
		pk, err := parseJWK(j)
		if err != nil {
			return nil, fmt.Errorf("%w: JWKS key %d: %v", ErrKey, i, err)
		}
		if _, dup := ks.ByKid(pk.Kid); dup {
			return nil, fmt.Errorf("%w: JWKS: duplicate kid %q", ErrKey, pk.Kid)
		}
		ks.Keys = append(ks.Keys, pk)
	}
	return ks, nil
}

func parseJWK(j jwkJSON) (PublicKey, error) {
	if j.D != nil {
		return PublicKey{}, errors.New("private member d present")
	}
	if j.Kid == "" {
		return PublicKey{}, errors.New("missing kid")
	}
	pk := PublicKey{Kid: j.Kid, Use: j.Use, Alg: j.Alg, Thumbprint: j.X5tS256}
	num := func(s string) (*big.Int, error) {
		b, err := B64.DecodeString(s)
		if err != nil || len(b) == 0 {
			return nil, fmt.Errorf("bad base64url integer %q", s)
		}
		return new(big.Int).SetBytes(b), nil
	}
	switch j.Kty {
	case "RSA":
		n, err := num(j.N)
		if err != nil {
			return PublicKey{}, err
		}
		e, err := num(j.E)
		if err != nil || !e.IsInt64() || e.Int64() < 3 || e.Int64() > 1<<31 {
			return PublicKey{}, errors.New("bad RSA exponent")
		}
		pk.Key = &rsa.PublicKey{N: n, E: int(e.Int64())}
	case "EC":
		var c elliptic.Curve
		switch j.Crv {
		case "P-384":
			c = elliptic.P384()
		case "P-521":
			c = elliptic.P521()
		default:
			return PublicKey{}, fmt.Errorf("unsupported crv %q", j.Crv)
		}
		// RFC 7518 §6.2.1.2–3: x and y are the full-length big-endian coordinates.
		size := (c.Params().BitSize + 7) / 8
		x, errX := B64.DecodeString(j.X)
		y, errY := B64.DecodeString(j.Y)
		if errX != nil || errY != nil || len(x) != size || len(y) != size {
			return PublicKey{}, fmt.Errorf("EC coordinates are not %d-byte base64url values", size)
		}
		k, err := ecdsa.ParseUncompressedPublicKey(c, append(append([]byte{4}, x...), y...))
		if err != nil {
			return PublicKey{}, fmt.Errorf("EC point not on %s", j.Crv)
		}
		pk.Key = k
	default:
		return PublicKey{}, fmt.Errorf("unsupported kty %q", j.Kty)
	}
	if pk.Use == "" {
		pk.Use = "sig"
		if pk.Alg == AlgRSAOAEP256 {
			pk.Use = "enc"
		}
	}
	if len(j.X5c) > 0 {
		der, err := base64.StdEncoding.DecodeString(j.X5c[0]) // RFC 7517 §4.7: base64, not base64url
		if err != nil {
			return PublicKey{}, fmt.Errorf("x5c[0]: %v", err)
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return PublicKey{}, fmt.Errorf("x5c[0]: %v", err)
		}
		eq, ok := pk.Key.(interface{ Equal(crypto.PublicKey) bool })
		if !ok || !eq.Equal(cert.PublicKey) {
			return PublicKey{}, errors.New("x5c[0] does not carry the JWK's key")
		}
		if t := Thumbprint(cert); pk.Thumbprint != "" && pk.Thumbprint != t {
			return PublicKey{}, errors.New("x5t#S256 is not the thumbprint of x5c[0]")
		} else {
			pk.Thumbprint = t
		}
	}
	return pk, nil
}

// ReadJWKSFile reads and parses a JWKS file.
func ReadJWKSFile(path string) (*KeySet, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	ks, err := ParseJWKS(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ks, nil
}
