package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ofpdp/ofpdp/internal/jose"
)

func TestCreateCSR(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	subject := `CN=ofp.bank.com.my,O=Bank Contoh Berhad,OU=Open Finance\, Data Provider,C=my,L=Kuala Lumpur`
	for _, tc := range []struct {
		name    string
		key     crypto.Signer
		opts    CSROptions
		wantErr string
	}{
		{"mtls rsa", rsaKey, CSROptions{Kind: CSRMTLS, Subject: subject}, ""},
		{"signing p384", p384, CSROptions{Kind: CSRSigning, Subject: subject}, ""},
		{"server", rsaKey, CSROptions{Kind: CSRServer, Subject: subject, Hosts: []string{"ofp.bank.com.my", "192.0.2.10"}}, ""},
		{"server without hosts", rsaKey, CSROptions{Kind: CSRServer, Subject: subject}, "needs the hosts"},
		{"signing p256", p256, CSROptions{Kind: CSRSigning, Subject: subject}, "EC curve P-256"},
		{"unknown kind", rsaKey, CSROptions{Kind: "ca", Subject: subject}, `CSR kind "ca"`},
		{"no CN", rsaKey, CSROptions{Kind: CSRMTLS, Subject: "O=Bank"}, "needs a CN"},
		{"bad country", rsaKey, CSROptions{Kind: CSRMTLS, Subject: "CN=x,C=MYS"}, "two-letter"},
		{"unknown attribute", rsaKey, CSROptions{Kind: CSRMTLS, Subject: "CN=x,EMAIL=a@b"}, `"EMAIL"`},
		{"not a DN", rsaKey, CSROptions{Kind: CSRMTLS, Subject: "ofp.bank.com.my"}, "not TYPE=value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := CreateCSR(tc.key, tc.opts)
			if tc.wantErr != "" {
				if !errors.Is(err, ErrOptions) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want ErrOptions saying %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			block, _ := pem.Decode(out)
			if block == nil || block.Type != "CERTIFICATE REQUEST" {
				t.Fatalf("not a PEM CSR: %s", out)
			}
			csr, err := x509.ParseCertificateRequest(block.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			if err := csr.CheckSignature(); err != nil {
				t.Fatalf("CSR signature: %v", err)
			}
			if got := csr.Subject.String(); got != "CN=ofp.bank.com.my,OU=Open Finance\\, Data Provider,O=Bank Contoh Berhad,L=Kuala Lumpur,C=MY" {
				t.Fatalf("subject %s", got)
			}
			// A CA that copies the requested extensions issues a certificate of the right kind.
			caKey, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
			ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "CA"}, IsCA: true, BasicConstraintsValid: true,
				KeyUsage: x509.KeyUsageCertSign, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
			tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: csr.Subject, ExtraExtensions: csr.Extensions,
				DNSNames: csr.DNSNames, IPAddresses: csr.IPAddresses, NotBefore: ca.NotBefore, NotAfter: ca.NotAfter}
			der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, csr.PublicKey, caKey)
			if err != nil {
				t.Fatal(err)
			}
			cert, _ := x509.ParseCertificate(der)
			want := map[string][]x509.ExtKeyUsage{CSRMTLS: {x509.ExtKeyUsageClientAuth}, CSRServer: {x509.ExtKeyUsageServerAuth}}[tc.opts.Kind]
			if !slices.Equal(cert.ExtKeyUsage, want) || cert.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
				t.Fatalf("issued certificate: EKU %v, key usage %b", cert.ExtKeyUsage, cert.KeyUsage)
			}
			if tc.opts.Kind == CSRServer && (len(cert.DNSNames) != 1 || len(cert.IPAddresses) != 1) {
				t.Fatalf("SANs %v %v", cert.DNSNames, cert.IPAddresses)
			}
			if tc.opts.Kind == CSRSigning {
				if _, err := jose.NewSigningKey(tc.key, []*x509.Certificate{cert}); err != nil {
					t.Fatalf("certificate from the signing CSR cannot sign: %v", err)
				}
			}
		})
	}
}

// TestReissue: a key kept outside the PKI directory gets a certificate from the development CA,
// and the JWKS that publishes it is rendered again.
func TestReissue(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	if _, err := Generate(dir, Options{}); err != nil {
		t.Fatal(err)
	}
	generated, _ := os.ReadFile(filepath.Join(dir, "dp.jwks.json"))
	if err := RestoreJWKS(dir); err != nil {
		t.Fatal(err)
	}
	if restored, _ := os.ReadFile(filepath.Join(dir, "dp.jwks.json")); string(restored) != string(generated) {
		t.Fatalf("RestoreJWKS changed dp.jwks.json:\n%s\n%s", generated, restored)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	cert, err := Reissue(dir, "dp-sig", key.Public(), nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "dp-sig.key")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("dp-sig.key left behind: %v", err)
	}
	onDisk, err := jose.LoadCertificatesFile(filepath.Join(dir, "dp-sig.crt"))
	if err != nil || !onDisk[0].Equal(cert) {
		t.Fatalf("dp-sig.crt: %v", err)
	}
	ca, _ := jose.LoadCertificatesFile(filepath.Join(dir, "ca.crt"))
	roots := x509.NewCertPool()
	roots.AddCert(ca[0])
	if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, "dp.jwks.json"))
	ks, err := jose.ParseJWKS(raw)
	if err != nil {
		t.Fatal(err)
	}
	if pk, ok := ks.ByKid(jose.Thumbprint(cert)); !ok || pk.Alg != jose.AlgES384 {
		t.Fatalf("dp.jwks.json does not publish the new certificate: %+v", ks.Keys)
	}
	if _, err := Reissue(dir, "dp-nope", key.Public(), nil, time.Now()); !errors.Is(err, ErrOptions) {
		t.Fatalf("unknown identity: %v", err)
	}
}
