package paynet

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
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ofpdp/ofpdp/internal/jose"
)

// t0 is the fake clock's start, on a whole second so HTTP-dates round-trip.
var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// fakeClock is an injected clock; Sleep advances it instead of waiting.
type fakeClock struct {
	mu     sync.Mutex
	t      time.Time
	sleeps []time.Duration
}

func newClock() *fakeClock { return &fakeClock{t: t0} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sleeps = append(c.sleeps, d)
	c.t = c.t.Add(d)
	return nil
}

func (c *fakeClock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// testPKI is a small CA issuing the TLS and signing certificates the tests need (it does not use
// internal/pki on purpose).
type testPKI struct {
	ca     *x509.Certificate
	caKey  *ecdsa.PrivateKey
	serial atomic.Int64
}

func newTestPKI(t testing.TB) *testPKI {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "ofpdp paynet test CA"},
		NotBefore:             t0.Add(-24 * time.Hour),
		NotAfter:              t0.Add(10 * 365 * 24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	p := &testPKI{ca: ca, caKey: key}
	p.serial.Store(1)
	return p
}

type certKind int

const (
	kindServer certKind = iota
	kindClient
	kindSigning
	kindEncryption
)

// issue signs a leaf for pub. Validity covers both the fake clock and the real one.
func (p *testPKI) issue(t testing.TB, cn string, pub crypto.PublicKey, kind certKind) *x509.Certificate {
	t.Helper()
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(p.serial.Add(1)),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    minTime(t0, now).Add(-time.Hour),
		NotAfter:     maxTime(t0, now).Add(365 * 24 * time.Hour),
	}
	switch kind {
	case kindServer:
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.DNSNames = []string{"localhost"}
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	case kindClient:
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	case kindSigning:
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	case kindEncryption:
		tmpl.KeyUsage = x509.KeyUsageKeyEncipherment
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca, pub, p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func ecKey(t testing.TB, c elliptic.Curve) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// rsaKeys are generated once per test binary: RSA generation is slow under -race.
var rsaKeys = sync.OnceValues(func() ([]*rsa.PrivateKey, error) {
	var ks []*rsa.PrivateKey
	for range 3 {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, err
		}
		ks = append(ks, k)
	}
	return ks, nil
})

func rsaKey(t testing.TB, i int) *rsa.PrivateKey {
	t.Helper()
	ks, err := rsaKeys()
	if err != nil {
		t.Fatal(err)
	}
	return ks[i]
}

func writePEM(t testing.TB, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

func writeKey(t testing.TB, path string, key crypto.Signer) {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, path, "PRIVATE KEY", der)
}

// tlsFiles writes a client certificate, its key and the CA to dir, in the layout of design.md §8.
func (p *testPKI) tlsFiles(t testing.TB, dir, name string) (certFile, keyFile, caFile string) {
	t.Helper()
	key := ecKey(t, elliptic.P256())
	cert := p.issue(t, name, key.Public(), kindClient)
	certFile = filepath.Join(dir, name+".crt")
	keyFile = filepath.Join(dir, name+".key")
	caFile = filepath.Join(dir, "ca.crt")
	writePEM(t, certFile, "CERTIFICATE", cert.Raw)
	writeKey(t, keyFile, key)
	writePEM(t, caFile, "CERTIFICATE", p.ca.Raw)
	return certFile, keyFile, caFile
}

// signingKey returns a P-384 signing key with a certificate from p (ES384).
func (p *testPKI) signingKey(t testing.TB, cn string) *jose.SigningKey {
	t.Helper()
	key := ecKey(t, elliptic.P384())
	cert := p.issue(t, cn, key.Public(), kindSigning)
	sk, err := jose.NewSigningKey(key, []*x509.Certificate{cert})
	if err != nil {
		t.Fatal(err)
	}
	return sk
}

// publicOf returns the JWKS entry of a signing key.
func publicOf(t testing.TB, sk *jose.SigningKey, use string) jose.PublicKey {
	t.Helper()
	pk, err := jose.PublicKeyFromChain(sk.Chain, use, sk.Alg)
	if err != nil {
		t.Fatal(err)
	}
	return pk
}

// encKey returns an RSA-2048 DC encryption key pair (RSA-OAEP-256) with a certificate from p.
func (p *testPKI) encKey(t testing.TB, cn string, i int) (*rsa.PrivateKey, jose.PublicKey) {
	t.Helper()
	key := rsaKey(t, i)
	cert := p.issue(t, cn, key.Public(), kindEncryption)
	pk, err := jose.PublicKeyFromChain([]*x509.Certificate{cert}, "enc", "RSA-OAEP-256")
	if err != nil {
		t.Fatal(err)
	}
	return key, pk
}

func jwksJSON(t testing.TB, keys ...jose.PublicKey) []byte {
	t.Helper()
	b, err := (&jose.KeySet{Keys: keys}).JSON()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newTestLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(&lockedWriter{w: w}, nil))
}
