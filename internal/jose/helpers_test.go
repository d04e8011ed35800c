package jose

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"flag"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// -update regenerates the golden messages and fuzz seeds in testdata/. The test keys in
// testdata/keys/ are generated only when missing (delete them to rotate).
var update = flag.Bool("update", false, "regenerate golden files in testdata/")

// fixedNow is the clock of every test (golden messages are signed at this instant).
var fixedNow = time.Date(2026, time.January, 30, 12, 0, 0, 0, time.UTC)

func clock() time.Time { return fixedNow }

// testKey is one checked-in TEST key with its certificate chain (leaf first).
type testKey struct {
	name  string
	key   crypto.Signer
	chain []*x509.Certificate
}

// Names of the checked-in test keys (testdata/keys/<name>.key, .crt). TEST KEYS ONLY.
const (
	kCA         = "test-ca-p384"
	kPayNetRSA  = "test-paynet-sig-rsa2048"
	kPayNetP384 = "test-paynet-sig-p384"
	kPayNetP521 = "test-paynet-sig-p521"
	kDPRSA      = "test-dp-sig-rsa2048"
	kDPP384     = "test-dp-sig-p384"
	kDCEncRSA   = "test-dc-enc-rsa2048"
	kDCSigRSA   = "test-dc-sig-rsa2048"
	kRogueRSA   = "test-rogue-unregistered-rsa2048"
	keysDir     = "testdata/keys"
)

var (
	keysOnce sync.Once
	keys     map[string]*testKey
	keysErr  error
)

// loadKeys returns the checked-in test keys, generating missing ones under -update.
func loadKeys(t testing.TB) map[string]*testKey {
	t.Helper()
	keysOnce.Do(func() { keys, keysErr = readOrMakeKeys() })
	if keysErr != nil {
		t.Fatalf("test keys: %v", keysErr)
	}
	return keys
}

type keySpec struct {
	name   string
	gen    func() (crypto.Signer, error)
	issuer string // "" = self-signed
}

func rsaGen() (crypto.Signer, error) { return rsa.GenerateKey(rand.Reader, 2048) }
func ecGen(c elliptic.Curve) func() (crypto.Signer, error) {
	return func() (crypto.Signer, error) { return ecdsa.GenerateKey(c, rand.Reader) }
}

var keySpecs = []keySpec{
	{kCA, ecGen(elliptic.P384()), ""},
	{kPayNetRSA, rsaGen, kCA},
	{kPayNetP384, ecGen(elliptic.P384()), kCA},
	{kPayNetP521, ecGen(elliptic.P521()), kCA},
	{kDPRSA, rsaGen, kCA},
	{kDPP384, ecGen(elliptic.P384()), kCA},
	{kDCEncRSA, rsaGen, kCA},
	{kDCSigRSA, rsaGen, kCA},
	{kRogueRSA, rsaGen, ""},
}

func readOrMakeKeys() (map[string]*testKey, error) {
	out := make(map[string]*testKey)
	for i, spec := range keySpecs {
		kf := filepath.Join(keysDir, spec.name+".key")
		cf := filepath.Join(keysDir, spec.name+".crt")
		if _, err := os.Stat(kf); os.IsNotExist(err) && *update {
			if err := makeKey(spec, i, out, kf, cf); err != nil {
				return nil, err
			}
		}
		key, err := LoadPrivateKeyFile(kf)
		if err != nil {
			return nil, err
		}
		chain, err := LoadCertificatesFile(cf)
		if err != nil {
			return nil, err
		}
		out[spec.name] = &testKey{name: spec.name, key: key, chain: chain}
	}
	return out, nil
}

func makeKey(spec keySpec, serial int, have map[string]*testKey, kf, cf string) error {
	key, err := spec.gen()
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(int64(1000 + serial)),
		Subject:      pkix.Name{CommonName: spec.name + " (TEST KEY, NOT FOR PRODUCTION)", Organization: []string{"ofpdp tests"}},
		NotBefore:    time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:     time.Date(2125, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	parent, parentKey := tmpl, key
	var rest []*x509.Certificate
	if spec.issuer == "" && spec.name == kCA {
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature
	} else if spec.issuer != "" {
		ca := have[spec.issuer]
		parent, parentKey, rest = ca.chain[0], ca.key, ca.chain
	}
	if spec.name == kDCEncRSA {
		tmpl.KeyUsage = x509.KeyUsageKeyEncipherment
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey)
	if err != nil {
		return err
	}
	var keyPEM []byte
	switch k := key.(type) {
	case *rsa.PrivateKey:
		b, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			return err
		}
		keyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: b})
	case *ecdsa.PrivateKey:
		b, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			return err
		}
		keyPEM = pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: b})
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	for _, c := range rest {
		certPEM = append(certPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	if err := os.MkdirAll(keysDir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(kf, keyPEM, 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(cf, certPEM, 0o644); err != nil {
		return err
	}
	// Make the new key visible to keys issued after it.
	k, err := ParsePrivateKeyPEM(keyPEM)
	if err != nil {
		return err
	}
	chain, err := ParseCertificatesPEM(certPEM)
	if err != nil {
		return err
	}
	have[spec.name] = &testKey{name: spec.name, key: k, chain: chain}
	return nil
}

// signingKey returns the SigningKey of a test key.
func signingKey(t testing.TB, name string) *SigningKey {
	t.Helper()
	k := loadKeys(t)[name]
	sk, err := NewSigningKey(k.key, k.chain)
	if err != nil {
		t.Fatalf("NewSigningKey(%s): %v", name, err)
	}
	return sk
}

// pubKey returns the JWKS entry of a test key.
func pubKey(t testing.TB, name, use string) PublicKey {
	t.Helper()
	pk, err := PublicKeyFromChain(loadKeys(t)[name].chain, use, "")
	if err != nil {
		t.Fatalf("PublicKeyFromChain(%s): %v", name, err)
	}
	return pk
}

// payNetKeys is the resolver a DP would build from PayNet's JWKS: PayNet's three signing
// keys and, to provoke ErrKeyUse, the DC encryption key.
func payNetKeys(t testing.TB) *KeySet {
	t.Helper()
	return &KeySet{Keys: []PublicKey{
		pubKey(t, kPayNetRSA, UseSig),
		pubKey(t, kPayNetP384, UseSig),
		pubKey(t, kPayNetP521, UseSig),
		pubKey(t, kDCEncRSA, UseEnc),
	}}
}

// seqIDs returns a NewID that yields distinct deterministic ids.
func seqIDs(prefix string) func() string {
	var mu sync.Mutex
	n := 0
	return func() string {
		mu.Lock()
		defer mu.Unlock()
		n++
		return prefix + "-" + big.NewInt(int64(n)).String()
	}
}

// newVerifier returns a Verifier over PayNet's test keys with a fixed clock and a fresh
// in-memory replay cache.
func newVerifier(t testing.TB) *Verifier {
	t.Helper()
	return &Verifier{
		Keys:   StaticKeys{Set: payNetKeys(t)},
		Replay: NewMemoryReplay(clock),
		Now:    clock,
		Issuer: "paynet-ofp",
	}
}

// payNetSigner signs like PayNet with the named test key.
func payNetSigner(t testing.TB, name string) *Signer {
	t.Helper()
	return &Signer{Key: signingKey(t, name), Issuer: "paynet-ofp", Now: clock, NewID: seqIDs("jti-" + name)}
}

var bg = context.Background()
