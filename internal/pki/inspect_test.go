package pki

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"github.com/ofpdp/ofpdp/internal/mtls"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ofpdp/ofpdp/internal/jose"
)

func TestInspect(t *testing.T) {
	dir, _ := sharedPKI(t)
	read := func(names ...string) []byte {
		var b []byte
		for _, n := range names {
			data, err := os.ReadFile(filepath.Join(dir, n))
			if err != nil {
				t.Fatal(err)
			}
			b = append(b, data...)
		}
		return b
	}
	dpSig := readCert(t, dir, "dp-sig")
	dcEnc := readCert(t, dir, "dc-enc")
	ca := readCert(t, dir, "ca")
	now := time.Now()
	tests := []struct {
		name      string
		data      []byte
		kind      string
		subjects  []string
		uses      []string // "use" member of each JWK
		wantKids  bool
		warnings  int
		expired   int
		inspectAt time.Time
	}{
		{name: "one certificate", data: read("dp-sig.crt"), kind: "PEM", subjects: []string{dpSig.Subject.String()}, uses: []string{"sig"}},
		{name: "chain", data: read("dp-sig.crt", "ca.crt"), kind: "PEM", subjects: []string{dpSig.Subject.String(), ca.Subject.String()}, uses: []string{"sig", "sig"}},
		{name: "encryption certificate", data: read("dc-enc.crt"), kind: "PEM", subjects: []string{dcEnc.Subject.String()}, uses: []string{"enc"}},
		{name: "JWKS", data: read("dc.jwks.json"), kind: "JWKS", subjects: []string{"CN=dc-sig,OU=Data Consumer,O=ofpdp development", dcEnc.Subject.String()}, uses: []string{"sig", "enc"}, wantKids: true},
		{name: "expires in 10 days", data: read("dp-sig.crt"), kind: "PEM", subjects: []string{dpSig.Subject.String()}, uses: []string{"sig"}, warnings: 1, inspectAt: dpSig.NotAfter.Add(-10 * 24 * time.Hour)},
		{name: "expired", data: read("dp-sig.crt", "ca.crt"), kind: "PEM", subjects: []string{dpSig.Subject.String(), ca.Subject.String()}, uses: []string{"sig", "sig"}, expired: 2, inspectAt: dpSig.NotAfter.Add(time.Second)},
		{name: "not yet valid", data: read("dp-sig.crt"), kind: "PEM", subjects: []string{dpSig.Subject.String()}, uses: []string{"sig"}, warnings: 1, inspectAt: dpSig.NotBefore.Add(-time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at := now
			if !tt.inspectAt.IsZero() {
				at = tt.inspectAt
			}
			r, err := Inspect(tt.data, at)
			if err != nil {
				t.Fatal(err)
			}
			if r.Kind != tt.kind || len(r.Items) != len(tt.subjects) {
				t.Fatalf("kind %s with %d items, want %s with %d", r.Kind, len(r.Items), tt.kind, len(tt.subjects))
			}
			if len(r.Warnings) != tt.warnings || len(r.Expired) != tt.expired {
				t.Errorf("warnings %q, expired %q; want %d and %d", r.Warnings, r.Expired, tt.warnings, tt.expired)
			}
			var out bytes.Buffer
			if err := r.Write(&out); err != nil {
				t.Fatal(err)
			}
			for i, it := range r.Items {
				if it.Cert.Subject.String() != tt.subjects[i] {
					t.Errorf("item %d subject %q, want %q", i, it.Cert.Subject, tt.subjects[i])
				}
				if it.Fingerprint != mtls.Fingerprint(it.Cert) || it.Thumbprint != jose.Thumbprint(it.Cert) {
					t.Errorf("item %d fingerprint/thumbprint do not match the certificate", i)
				}
				if !strings.Contains(it.JWK, `"use":"`+tt.uses[i]+`"`) || !strings.Contains(it.JWK, `"x5t#S256":"`+it.Thumbprint+`"`) || strings.Contains(it.JWK, `"x5c":`) {
					t.Errorf("item %d JWK %s: want use %s, x5t#S256, no x5c", i, it.JWK, tt.uses[i])
				}
				if tt.wantKids && it.Kid != it.Thumbprint {
					t.Errorf("item %d kid %q, want x5t#S256", i, it.Kid)
				}
				for _, want := range []string{it.Cert.Subject.String(), it.Cert.Issuer.String(), it.Fingerprint, it.Thumbprint, it.JWK,
					it.Cert.NotAfter.UTC().Format(time.RFC3339), it.Cert.NotBefore.UTC().Format(time.RFC3339)} {
					if !strings.Contains(out.String(), want) {
						t.Errorf("output lacks %q:\n%s", want, out.String())
					}
				}
			}
		})
	}
}

func TestInspectErrors(t *testing.T) {
	dir, _ := sharedPKI(t)
	key, err := os.ReadFile(filepath.Join(dir, "dp-sig.key"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		data string
		want error
	}{
		{"private key", string(key), ErrNotInspectable},
		{"empty", "", ErrNotInspectable},
		{"text", "hello", ErrNotInspectable},
		{"JWKS without keys", `{"keys":[]}`, jose.ErrJWKS},
		{"JWKS with a private member", `{"keys":[{"kty":"oct","kid":"a","k":"AAAA"}]}`, jose.ErrJWKS},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Inspect([]byte(tt.data), time.Now()); !errors.Is(err, tt.want) {
				t.Errorf("Inspect = %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := Inspect([]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), time.Now()); err == nil {
		t.Error("a broken certificate was accepted")
	}
	if _, err := InspectFile(filepath.Join(dir, "missing.crt"), time.Now()); err == nil {
		t.Error("InspectFile of a missing file succeeded")
	}
}

// TestInspectForeignKey: a certificate whose key the PayNet profile refuses
// (P-256) is still described, with the reason instead of a JWK.
func TestInspectForeignKey(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "p256"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Inspect(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if it := r.Items[0]; it.JWK != "" || !strings.Contains(it.JWKError, "P-256") {
		t.Errorf("JWK %q, error %q: want no JWK and a reason naming P-256", it.JWK, it.JWKError)
	}
	if len(r.Warnings) != 1 {
		t.Errorf("warnings %q, want one (expires within 30 days)", r.Warnings)
	}
	var out bytes.Buffer
	if err := r.Write(&out); err != nil || !strings.Contains(out.String(), "JWK:         none (jose: unsupported key") {
		t.Errorf("Write: %v\n%s", err, out.String())
	}
}

// FuzzInspect: pki inspect reads files people pass it (certificates and JWKS
// from third parties); it must never panic.
func FuzzInspect(f *testing.F) {
	f.Add([]byte(`{"keys":[{"kty":"RSA","kid":"k","n":"AQAB","e":"AQAB"}]}`))
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n"))
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Inspect(data, now)
		if err != nil {
			return
		}
		if len(r.Items) == 0 {
			t.Fatal("a report without items")
		}
		var out bytes.Buffer
		if err := r.Write(&out); err != nil {
			t.Fatal(err)
		}
	})
}
