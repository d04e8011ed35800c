package jose

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func pemOf(t *testing.T, typ string, der []byte) []byte {
	t.Helper()
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func TestParsePrivateKeyPEM(t *testing.T) {
	ks := loadKeys(t)
	rk := ks[kPayNetRSA].key.(*rsa.PrivateKey)
	ek := ks[kPayNetP384].key.(*ecdsa.PrivateKey)
	pkcs8RSA, _ := x509.MarshalPKCS8PrivateKey(rk)
	pkcs8EC, _ := x509.MarshalPKCS8PrivateKey(ek)
	sec1, _ := x509.MarshalECPrivateKey(ek)
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p256der, _ := x509.MarshalECPrivateKey(p256)
	_, edk, _ := ed25519.GenerateKey(rand.Reader)
	ed8, _ := x509.MarshalPKCS8PrivateKey(edk)
	certPEM, _ := os.ReadFile(filepath.Join(keysDir, kPayNetRSA+".crt"))
	ecParams := pemOf(t, "EC PARAMETERS", []byte{0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22})

	tests := []struct {
		name string
		pem  []byte
		ok   bool
	}{
		{"PKCS#1 RSA", pemOf(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rk)), true},
		{"PKCS#8 RSA", pemOf(t, "PRIVATE KEY", pkcs8RSA), true},
		{"PKCS#8 EC", pemOf(t, "PRIVATE KEY", pkcs8EC), true},
		{"SEC1 EC after EC PARAMETERS", append(ecParams, pemOf(t, "EC PRIVATE KEY", sec1)...), true},
		{"key after a certificate", append(certPEM, pemOf(t, "PRIVATE KEY", pkcs8RSA)...), true},
		{"no key", certPEM, false},
		{"garbage", []byte("not pem"), false},
		{"two keys", append(pemOf(t, "PRIVATE KEY", pkcs8RSA), pemOf(t, "EC PRIVATE KEY", sec1)...), false},
		{"encrypted PKCS#8", pemOf(t, "ENCRYPTED PRIVATE KEY", []byte{1, 2, 3}), false},
		{"legacy encrypted PEM", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED"}, Bytes: []byte{1}}), false},
		{"RSA 1024 (parses; NewSigningKey refuses)", pemOf(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(small)), true},
		{"P-256 (parses; NewSigningKey refuses)", pemOf(t, "EC PRIVATE KEY", p256der), true},
		{"Ed25519 (parses; NewSigningKey refuses)", pemOf(t, "PRIVATE KEY", ed8), true},
		{"corrupt DER", pemOf(t, "PRIVATE KEY", []byte{0x30, 0x01}), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k, err := ParsePrivateKeyPEM(tc.pem)
			if tc.ok != (err == nil) {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
			if err != nil && !errors.Is(err, ErrUnsupportedKey) {
				t.Fatalf("err %v does not wrap ErrUnsupportedKey", err)
			}
			if err == nil && k == nil {
				t.Fatal("nil key")
			}
		})
	}
}

func TestParseCertificatesPEM(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(keysDir, kPayNetRSA+".crt"))
	if err != nil {
		t.Fatal(err)
	}
	chain, err := ParseCertificatesPEM(b)
	if err != nil || len(chain) != 2 {
		t.Fatalf("chain %d %v", len(chain), err)
	}
	if err := chain[0].CheckSignatureFrom(chain[1]); err != nil {
		t.Fatalf("leaf first: %v", err)
	}
	if _, err := ParseCertificatesPEM([]byte("nothing")); err == nil {
		t.Fatal("no certificate accepted")
	}
	if _, err := ParseCertificatesPEM(pemOf(t, "CERTIFICATE", []byte{0x30, 0x00})); err == nil {
		t.Fatal("corrupt certificate accepted")
	}
	if _, err := LoadCertificatesFile(filepath.Join(keysDir, "missing.crt")); err == nil {
		t.Fatal("missing file")
	}
	if _, err := LoadPrivateKeyFile(filepath.Join(keysDir, "missing.key")); err == nil {
		t.Fatal("missing file")
	}
	if _, err := LoadPrivateKeyFile(filepath.Join(keysDir, kPayNetRSA+".crt")); !errors.Is(err, ErrUnsupportedKey) {
		t.Fatalf("certificate as key: %v", err)
	}
}

// TestThumbprint is negative-tests T8: base64url(SHA-256(DER)), computed independently
// with `openssl x509 -outform DER | openssl dgst -sha256 -binary | base64url`.
func TestThumbprint(t *testing.T) {
	leaf := loadKeys(t)[kPayNetRSA].chain[0]
	const want = "V0D_D2F6-PNI98f5fmPgysp-UYeOLPnvgf-Qt4a7aGU"
	const sha1Hex = "986f7719c70b375fa46d8bfa56bf0209c36c4c06"
	got := Thumbprint(leaf)
	if got != want {
		t.Fatalf("Thumbprint = %s, want %s", got, want)
	}
	if got == sha1Hex {
		t.Fatal("SHA-1 hex must not match")
	}
}

func TestAlgForKey(t *testing.T) {
	ks := loadKeys(t)
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	tests := []struct {
		name string
		pub  any
		want string
	}{
		{"RSA-2048", ks[kPayNetRSA].key.Public(), "PS256"},
		{"P-384", ks[kPayNetP384].key.Public(), "ES384"},
		{"P-521", ks[kPayNetP521].key.Public(), "ES512"},
		{"RSA-1024", small.Public(), ""},
		{"P-256", p256.Public(), ""},
		{"Ed25519", edPub, ""},
		{"nil RSA", (*rsa.PublicKey)(nil), ""},
		{"private key", ks[kPayNetRSA].key, ""},
	}
	for _, tc := range tests {
		got, err := AlgForKey(tc.pub)
		if got != tc.want || (tc.want == "") != errors.Is(err, ErrUnsupportedKey) {
			t.Errorf("%s: %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
}

func TestSigningKey(t *testing.T) {
	ks := loadKeys(t)
	sk, err := NewSigningKey(ks[kDPRSA].key, ks[kDPRSA].chain)
	if err != nil {
		t.Fatal(err)
	}
	if sk.Kid != Thumbprint(ks[kDPRSA].chain[0]) || sk.Alg != "PS256" || len(sk.Chain) != 2 {
		t.Fatalf("%+v", sk)
	}
	if _, err := NewSigningKey(ks[kDPRSA].key, ks[kDPP384].chain); !errors.Is(err, ErrUnsupportedKey) {
		t.Fatalf("mismatched certificate: %v", err)
	}
	if _, err := NewSigningKey(ks[kDPRSA].key, ks[kDPRSA].chain[1:]); !errors.Is(err, ErrUnsupportedKey) {
		t.Fatalf("chain in the wrong order (CA first): %v", err)
	}
	if _, err := NewSigningKey(ks[kDPRSA].key, nil); err == nil {
		t.Fatal("no chain")
	}
	if _, err := NewSigningKey(nil, ks[kDPRSA].chain); err == nil {
		t.Fatal("nil key")
	}
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if _, err := NewSigningKey(p256, ks[kDPRSA].chain); !errors.Is(err, ErrUnsupportedKey) {
		t.Fatalf("P-256 signing key: %v", err)
	}
	lk, err := LoadSigningKey(filepath.Join(keysDir, kDPP384+".key"), filepath.Join(keysDir, kDPP384+".crt"))
	if err != nil || lk.Alg != "ES384" {
		t.Fatalf("LoadSigningKey: %v", err)
	}
	if _, err := LoadSigningKey(filepath.Join(keysDir, kDPP384+".key"), filepath.Join(keysDir, kDPRSA+".crt")); err == nil {
		t.Fatal("LoadSigningKey with another key's certificate")
	}
	pk, err := lk.PublicKey()
	if err != nil || pk.Use != UseSig || pk.Kid != lk.Kid || pk.Thumbprint != lk.Kid {
		t.Fatalf("PublicKey: %+v %v", pk, err)
	}

	// Hand-built keys (explicit kid, no chain) are checked when used.
	s := &Signer{Key: &SigningKey{Key: ks[kDPRSA].key, Kid: "dp-key-id-001", Alg: "PS256"}, Issuer: "DP1", Now: clock}
	if _, err := s.SignAttached([]byte("x")); err != nil {
		t.Fatalf("explicit kid without chain: %v", err)
	}
	for name, bad := range map[string]*SigningKey{
		"no kid":        {Key: ks[kDPRSA].key, Alg: "PS256"},
		"wrong alg":     {Key: ks[kDPRSA].key, Kid: "k", Alg: "ES384"},
		"RS256":         {Key: ks[kDPRSA].key, Kid: "k", Alg: "RS256"},
		"no key":        {Kid: "k", Alg: "PS256"},
		"foreign chain": {Key: ks[kDPRSA].key, Kid: "k", Alg: "PS256", Chain: ks[kDPP384].chain},
	} {
		s := &Signer{Key: bad, Issuer: "DP1"}
		if _, err := s.SignDetached([]byte("x")); err == nil {
			t.Errorf("%s: signed", name)
		}
	}
	if _, err := (&Signer{Issuer: "DP1"}).SignJWT(map[string]any{}); err == nil {
		t.Error("nil SigningKey signed")
	}
}
