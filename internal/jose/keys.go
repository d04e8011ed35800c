package jose

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
)

// Algorithms and key uses of the PayNet profile (spec paynet-dp.md §4.2, §4.3;
// design.md §3.2, §3.4).
const (
	AlgPS256      = "PS256"        // RSASSA-PSS, SHA-256, salt = hash length (RFC 7518 §3.5)
	AlgES384      = "ES384"        // ECDSA P-384, SHA-384 (RFC 7518 §3.4)
	AlgES512      = "ES512"        // ECDSA P-521, SHA-512 (RFC 7518 §3.4)
	AlgRSAOAEP256 = "RSA-OAEP-256" // JWE key encryption (RFC 7518 §4.3)
	EncA256GCM    = "A256GCM"      // JWE content encryption (RFC 7518 §5.3)
	UseSig        = "sig"          // JWK "use" of signing keys (RFC 7517 §4.2)
	UseEnc        = "enc"          // JWK "use" of encryption keys
)

const (
	minRSABits     = 2048
	x5tS256Member  = "x5t#S256"
	thumbprintSize = sha256.Size
)

// ParsePrivateKeyPEM parses the one private key in pemBytes: PKCS#1 ("RSA PRIVATE KEY"),
// PKCS#8 ("PRIVATE KEY") or SEC1 ("EC PRIVATE KEY"; an "EC PARAMETERS" block is skipped).
// Other blocks (certificates) are ignored; encrypted keys, several keys and keys that
// cannot sign are refused. It does not apply the JWS profile (NewSigningKey and AlgForKey
// do), so it also loads e.g. a P-256 or Ed25519 TLS key.
func ParsePrivateKeyPEM(pemBytes []byte) (crypto.Signer, error) {
	var found crypto.Signer
	rest := pemBytes
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		var (
			key any
			err error
		)
		switch block.Type {
		case "RSA PRIVATE KEY":
			key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		case "PRIVATE KEY":
			key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		case "EC PRIVATE KEY":
			key, err = x509.ParseECPrivateKey(block.Bytes)
		case "ENCRYPTED PRIVATE KEY":
			return nil, fmt.Errorf("%w: encrypted private keys are not supported", ErrUnsupportedKey)
		default:
			continue
		}
		if _, ok := block.Headers["Proc-Type"]; ok {
			return nil, fmt.Errorf("%w: encrypted PEM private keys are not supported", ErrUnsupportedKey)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: parse %s: %v", ErrUnsupportedKey, block.Type, err)
		}
		if found != nil {
			return nil, fmt.Errorf("%w: more than one private key in PEM", ErrUnsupportedKey)
		}
		signer, ok := key.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("%w: private key of type %T cannot sign", ErrUnsupportedKey, key)
		}
		found = signer
	}
	if found == nil {
		return nil, fmt.Errorf("%w: no private key in PEM", ErrUnsupportedKey)
	}
	return found, nil
}

// ParseCertificatesPEM parses every "CERTIFICATE" block of pemBytes in order (a single
// certificate, a chain leaf first, or a CA bundle). Other blocks are ignored; no
// certificate at all is an error.
func ParseCertificatesPEM(pemBytes []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	rest := pemBytes
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("jose: parse certificate %d: %w", len(certs)+1, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, errors.New("jose: no certificate in PEM")
	}
	return certs, nil
}

// LoadPrivateKeyFile reads and parses a PEM private key file (see ParsePrivateKeyPEM).
func LoadPrivateKeyFile(path string) (crypto.Signer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("jose: read private key: %w", err)
	}
	k, err := ParsePrivateKeyPEM(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// LoadCertificatesFile reads and parses a PEM certificate file (see ParseCertificatesPEM).
func LoadCertificatesFile(path string) ([]*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("jose: read certificates: %w", err)
	}
	c, err := ParseCertificatesPEM(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Thumbprint returns the x5t#S256 of cert: base64url without padding of the SHA-256 of
// its DER encoding (RFC 7515 §4.1.8, RFC 8705 §3.1). PayNet's x-enc-kid is this value of
// the DC encryption certificate (spec paynet-dp.md §4.3).
func Thumbprint(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// AlgForKey returns the JWS alg the profile uses for a public key (design.md §3.4):
// RSA of at least 2048 bits → PS256, P-384 → ES384, P-521 → ES512. Anything else
// (P-256, smaller RSA, Ed25519, …) is an error wrapping ErrUnsupportedKey.
func AlgForKey(pub crypto.PublicKey) (string, error) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if k == nil || k.N == nil {
			return "", fmt.Errorf("%w: nil RSA key", ErrUnsupportedKey)
		}
		if k.N.BitLen() < minRSABits {
			return "", fmt.Errorf("%w: RSA key of %d bits, need at least %d", ErrUnsupportedKey, k.N.BitLen(), minRSABits)
		}
		return AlgPS256, nil
	case *ecdsa.PublicKey:
		if k == nil || k.Curve == nil {
			return "", fmt.Errorf("%w: nil EC key", ErrUnsupportedKey)
		}
		switch k.Curve {
		case elliptic.P384():
			return AlgES384, nil
		case elliptic.P521():
			return AlgES512, nil
		}
		return "", fmt.Errorf("%w: EC curve %s", ErrUnsupportedKey, k.Curve.Params().Name)
	default:
		return "", fmt.Errorf("%w: key type %T", ErrUnsupportedKey, pub)
	}
}

// SigningKey is a private signing key with its kid, alg and certificate chain.
type SigningKey struct {
	Key   crypto.Signer
	Kid   string              // default Thumbprint(Chain[0])
	Alg   string              // AlgForKey(Key.Public())
	Chain []*x509.Certificate // leaf first; may be empty only when Kid is set explicitly
}

// NewSigningKey checks that chain[0] carries key's public key and returns the signing key
// with Kid = Thumbprint(chain[0]) and Alg = AlgForKey(key.Public()).
func NewSigningKey(key crypto.Signer, chain []*x509.Certificate) (*SigningKey, error) {
	if key == nil {
		return nil, fmt.Errorf("%w: nil signing key", ErrUnsupportedKey)
	}
	alg, err := AlgForKey(key.Public())
	if err != nil {
		return nil, err
	}
	if len(chain) == 0 || chain[0] == nil {
		return nil, fmt.Errorf("%w: signing key needs a certificate (leaf first)", ErrUnsupportedKey)
	}
	if !publicKeysEqual(key.Public(), chain[0].PublicKey) {
		return nil, fmt.Errorf("%w: certificate %q does not carry the signing key's public key", ErrUnsupportedKey, chain[0].Subject.String())
	}
	return &SigningKey{Key: key, Kid: Thumbprint(chain[0]), Alg: alg, Chain: chain}, nil
}

// LoadSigningKey loads a PEM private key and its PEM certificate chain (leaf first).
func LoadSigningKey(keyFile, certFile string) (*SigningKey, error) {
	key, err := LoadPrivateKeyFile(keyFile)
	if err != nil {
		return nil, err
	}
	chain, err := LoadCertificatesFile(certFile)
	if err != nil {
		return nil, err
	}
	sk, err := NewSigningKey(key, chain)
	if err != nil {
		return nil, fmt.Errorf("%s, %s: %w", keyFile, certFile, err)
	}
	return sk, nil
}

// PublicKey returns the verification key of k (Use "sig"), as it appears in a JWKS.
func (k *SigningKey) PublicKey() (PublicKey, error) {
	if err := k.check(); err != nil {
		return PublicKey{}, err
	}
	pk := PublicKey{Kid: k.Kid, Use: UseSig, Alg: k.Alg, Key: k.Key.Public(), Chain: k.Chain}
	if len(k.Chain) > 0 {
		pk.Thumbprint = Thumbprint(k.Chain[0])
	}
	return pk, nil
}

// check validates a SigningKey built by hand: key present, kid set, alg = AlgForKey.
func (k *SigningKey) check() error {
	if k == nil || k.Key == nil {
		return fmt.Errorf("%w: no signing key", ErrUnsupportedKey)
	}
	alg, err := AlgForKey(k.Key.Public())
	if err != nil {
		return err
	}
	if k.Alg != alg {
		return fmt.Errorf("%w: signing key alg %q, key needs %q", ErrAlgorithm, k.Alg, alg)
	}
	if k.Kid == "" {
		return fmt.Errorf("%w: signing key without kid", ErrUnsupportedKey)
	}
	if len(k.Chain) > 0 && !publicKeysEqual(k.Key.Public(), k.Chain[0].PublicKey) {
		return fmt.Errorf("%w: certificate does not carry the signing key's public key", ErrUnsupportedKey)
	}
	return nil
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	ea, ok := a.(equaler)
	return ok && b != nil && ea.Equal(b)
}
