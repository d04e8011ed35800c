package pki

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"github.com/ofpdp/ofpdp/internal/mtls"
	"io/fs"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ofpdp/ofpdp/internal/jose"
)

var fixedNow = time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)

// shared is one generated set, read-only, reused by the tests that only look.
var shared struct {
	once sync.Once
	dir  string
	res  *Result
	err  error
}

func sharedPKI(t *testing.T) (string, *Result) {
	t.Helper()
	shared.once.Do(func() {
		shared.dir, shared.err = os.MkdirTemp("", "ofpdp-pki-test-")
		if shared.err == nil {
			shared.dir = filepath.Join(shared.dir, "pki")
			shared.res, shared.err = Generate(shared.dir, Options{})
		}
	})
	if shared.err != nil {
		t.Fatalf("Generate: %v", shared.err)
	}
	return shared.dir, shared.res
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.dir != "" {
		os.RemoveAll(filepath.Dir(shared.dir))
	}
	os.Exit(code)
}

func readCert(t *testing.T, dir, name string) *x509.Certificate {
	t.Helper()
	certs, err := jose.LoadCertificatesFile(filepath.Join(dir, name+".crt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(certs) != 1 {
		t.Fatalf("%s.crt holds %d certificates, want 1", name, len(certs))
	}
	return certs[0]
}

func snapshot(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = b
	}
	return out
}

func TestGenerateLayout(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "pki")
	res, err := Generate(dir, Options{Now: func() time.Time { return fixedNow }})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"ca.crt", "ca.key",
		"paynet-mtls.crt", "paynet-mtls.key", "paynet-sig.crt", "paynet-sig.key", "paynet-server.crt", "paynet-server.key",
		"dp-server.crt", "dp-server.key", "dp-mtls.crt", "dp-mtls.key", "dp-sig.crt", "dp-sig.key",
		"dc-enc.crt", "dc-enc.key", "dc-sig.crt", "dc-sig.key",
		"paynet.jwks.json", "dp.jwks.json", "dc.jwks.json",
	}
	if got := FileNames(); !slices.Equal(got, want) {
		t.Fatalf("FileNames() = %v, want %v", got, want)
	}
	got := slices.Sorted(maps.Keys(snapshot(t, dir)))
	if !slices.Equal(got, slices.Sorted(slices.Values(want))) {
		t.Fatalf("directory holds %v, want exactly %v (no temporary leftovers)", got, want)
	}
	st, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o700 {
		t.Errorf("dir mode %v, want 0700", st.Mode().Perm())
	}
	for _, name := range want {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		wantMode := fs.FileMode(0o644)
		if strings.HasSuffix(name, ".key") {
			wantMode = 0o600
		}
		if st.Mode().Perm() != wantMode {
			t.Errorf("%s mode %v, want %v", name, st.Mode().Perm(), wantMode)
		}
	}

	ca := readCert(t, dir, "ca")
	if !ca.IsCA || !ca.BasicConstraintsValid || ca.KeyUsage&x509.KeyUsageCertSign == 0 {
		t.Errorf("ca.crt: IsCA=%v BasicConstraintsValid=%v KeyUsage=%b, want a CA with CertSign", ca.IsCA, ca.BasicConstraintsValid, ca.KeyUsage)
	}
	if err := ca.CheckSignatureFrom(ca); err != nil {
		t.Errorf("ca.crt is not self-signed: %v", err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)

	tests := []struct {
		name     string
		ext      []x509.ExtKeyUsage
		usage    x509.KeyUsage
		noUsage  x509.KeyUsage
		server   bool
		verifyAs x509.ExtKeyUsage
	}{
		{name: "paynet-mtls", ext: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, usage: x509.KeyUsageDigitalSignature, verifyAs: x509.ExtKeyUsageClientAuth},
		{name: "paynet-sig", usage: x509.KeyUsageDigitalSignature, noUsage: x509.KeyUsageKeyEncipherment, verifyAs: x509.ExtKeyUsageAny},
		{name: "paynet-server", ext: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, usage: x509.KeyUsageDigitalSignature, server: true, verifyAs: x509.ExtKeyUsageServerAuth},
		{name: "dp-server", ext: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, usage: x509.KeyUsageDigitalSignature, server: true, verifyAs: x509.ExtKeyUsageServerAuth},
		{name: "dp-mtls", ext: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, usage: x509.KeyUsageDigitalSignature, verifyAs: x509.ExtKeyUsageClientAuth},
		{name: "dp-sig", usage: x509.KeyUsageDigitalSignature, noUsage: x509.KeyUsageKeyEncipherment, verifyAs: x509.ExtKeyUsageAny},
		{name: "dc-enc", usage: x509.KeyUsageKeyEncipherment, noUsage: x509.KeyUsageDigitalSignature, verifyAs: x509.ExtKeyUsageAny},
		{name: "dc-sig", usage: x509.KeyUsageDigitalSignature, noUsage: x509.KeyUsageKeyEncipherment, verifyAs: x509.ExtKeyUsageAny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := readCert(t, dir, tt.name)
			opts := x509.VerifyOptions{Roots: roots, CurrentTime: fixedNow, KeyUsages: []x509.ExtKeyUsage{tt.verifyAs}}
			if tt.server {
				opts.DNSName = "localhost"
			}
			if _, err := c.Verify(opts); err != nil {
				t.Errorf("does not verify against ca.crt: %v", err)
			}
			if c.IsCA {
				t.Error("leaf is a CA")
			}
			if !slices.Equal(c.ExtKeyUsage, tt.ext) {
				t.Errorf("ExtKeyUsage %v, want %v", c.ExtKeyUsage, tt.ext)
			}
			if c.KeyUsage&tt.usage != tt.usage || c.KeyUsage&tt.noUsage != 0 {
				t.Errorf("KeyUsage %b, want %b set and %b clear", c.KeyUsage, tt.usage, tt.noUsage)
			}
			if !c.NotAfter.Equal(fixedNow.AddDate(0, 13, 0)) || c.NotBefore.After(fixedNow) {
				t.Errorf("validity %s – %s, want until %s (13 months)", c.NotBefore, c.NotAfter, fixedNow.AddDate(0, 13, 0))
			}
			if tt.server {
				if !slices.Equal(c.DNSNames, []string{"localhost"}) || len(c.IPAddresses) != 1 || !c.IPAddresses[0].Equal(net.ParseIP("127.0.0.1")) {
					t.Errorf("SANs %v %v, want localhost and IP 127.0.0.1", c.DNSNames, c.IPAddresses)
				}
			} else if len(c.DNSNames)+len(c.IPAddresses) != 0 {
				t.Errorf("unexpected SANs %v %v", c.DNSNames, c.IPAddresses)
			}
			rk, ok := c.PublicKey.(*rsa.PublicKey)
			if !ok || rk.N.BitLen() != 2048 {
				t.Errorf("public key %T, want RSA-2048 by default", c.PublicKey)
			}
			keyPEM, err := os.ReadFile(filepath.Join(dir, tt.name+".key"))
			if err != nil {
				t.Fatal(err)
			}
			if b, _ := pem.Decode(keyPEM); b == nil || b.Type != "PRIVATE KEY" {
				t.Errorf("%s.key is not a PKCS#8 PEM", tt.name)
			}
			key, err := jose.ParsePrivateKeyPEM(keyPEM)
			if err != nil {
				t.Fatal(err)
			}
			if !key.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(c.PublicKey) {
				t.Errorf("%s.key does not match %s.crt", tt.name, tt.name)
			}
			sum, ok := res.Cert(tt.name)
			if !ok || sum.Subject != c.Subject.String() || sum.Fingerprint != mtls.Fingerprint(c) || sum.Thumbprint != jose.Thumbprint(c) {
				t.Errorf("Result.Cert(%q) = %+v, does not describe the file", tt.name, sum)
			}
		})
	}
}

func TestGenerateJWKS(t *testing.T) {
	dir, res := sharedPKI(t)
	tests := []struct {
		file string
		keys map[string]string // cert stem → use
	}{
		{"paynet.jwks.json", map[string]string{"paynet-sig": "sig"}},
		{"dp.jwks.json", map[string]string{"dp-sig": "sig"}},
		{"dc.jwks.json", map[string]string{"dc-sig": "sig", "dc-enc": "enc"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(dir, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			ks, err := jose.ParseJWKS(b)
			if err != nil {
				t.Fatalf("ParseJWKS: %v", err)
			}
			if len(ks.Keys) != len(tt.keys) {
				t.Fatalf("%d keys, want %d", len(ks.Keys), len(tt.keys))
			}
			for stem, use := range tt.keys {
				c := readCert(t, dir, stem)
				k, ok := ks.ByThumbprint(jose.Thumbprint(c), use)
				if !ok {
					t.Fatalf("no %s key with the x5t#S256 of %s.crt", use, stem)
				}
				if k.Kid != jose.Thumbprint(c) {
					t.Errorf("%s kid %q, want its x5t#S256", stem, k.Kid)
				}
				wantAlg := "PS256"
				if use == "enc" {
					wantAlg = "RSA-OAEP-256"
				}
				if k.Alg != wantAlg {
					t.Errorf("%s alg %q, want %q", stem, k.Alg, wantAlg)
				}
				if len(k.Chain) != 2 || !k.Chain[0].Equal(c) || !k.Chain[1].Equal(readCert(t, dir, "ca")) {
					t.Errorf("%s x5c is not [%s.crt, ca.crt]", stem, stem)
				}
			}
			for _, member := range []string{`"d"`, `"p"`, `"q"`, `"dp"`, `"dq"`, `"qi"`} {
				if bytes.Contains(b, []byte(member+":")) {
					t.Errorf("JWKS holds private member %s", member)
				}
			}
		})
	}
	var sum bytes.Buffer
	if err := res.WriteSummary(&sum); err != nil {
		t.Fatal(err)
	}
	for _, c := range res.Certs {
		for _, want := range []string{strings.TrimSuffix(c.File, ".crt") + ".crt/.key", c.Subject, c.Fingerprint, c.Thumbprint} {
			if !strings.Contains(sum.String(), want) {
				t.Errorf("summary lacks %q", want)
			}
		}
	}
	for _, f := range []string{"paynet.jwks.json", "dp.jwks.json", "dc.jwks.json", "dc-enc enc/RSA-OAEP-256"} {
		if !strings.Contains(sum.String(), f) {
			t.Errorf("summary lacks %q:\n%s", f, sum.String())
		}
	}
}

func TestGenerateSigAlg(t *testing.T) {
	tests := []struct {
		alg   string
		curve elliptic.Curve // nil = RSA-2048
	}{
		{"PS256", nil},
		{"ES384", elliptic.P384()},
		{"ES512", elliptic.P521()},
	}
	for _, tt := range tests {
		t.Run(tt.alg, func(t *testing.T) {
			dir := t.TempDir()
			if _, err := Generate(dir, Options{SigAlg: tt.alg, Hosts: []string{"dp.example", "::1", "10.1.2.3"}}); err != nil {
				t.Fatal(err)
			}
			for _, stem := range []string{"paynet-sig", "dp-sig", "dc-sig"} {
				c := readCert(t, dir, stem)
				switch k := c.PublicKey.(type) {
				case *ecdsa.PublicKey:
					if tt.curve == nil || k.Curve != tt.curve {
						t.Errorf("%s: EC %s, want %v", stem, k.Curve.Params().Name, tt.curve)
					}
				case *rsa.PublicKey:
					if tt.curve != nil || k.N.BitLen() != 2048 {
						t.Errorf("%s: RSA-%d, want %v", stem, k.N.BitLen(), tt.curve)
					}
				}
				if _, err := jose.LoadSigningKey(filepath.Join(dir, stem+".key"), filepath.Join(dir, stem+".crt")); err != nil {
					t.Errorf("%s: %v", stem, err)
				}
			}
			if k, ok := readCert(t, dir, "dc-enc").PublicKey.(*rsa.PublicKey); !ok || k.N.BitLen() != 2048 {
				t.Errorf("dc-enc is %T, want RSA-2048 whatever the sig alg", readCert(t, dir, "dc-enc").PublicKey)
			}
			b, err := os.ReadFile(filepath.Join(dir, "dp.jwks.json"))
			if err != nil {
				t.Fatal(err)
			}
			ks, err := jose.ParseJWKS(b)
			if err != nil || ks.Keys[0].Alg != tt.alg {
				t.Errorf("dp.jwks.json: %v, alg %v, want %s", err, ks, tt.alg)
			}
			server := readCert(t, dir, "dp-server")
			if !slices.Equal(server.DNSNames, []string{"dp.example"}) || len(server.IPAddresses) != 2 {
				t.Errorf("dp-server SANs %v %v, want dp.example, ::1, 10.1.2.3", server.DNSNames, server.IPAddresses)
			}
		})
	}
}

func TestGenerateOptionsErrors(t *testing.T) {
	for _, opts := range []Options{
		{SigAlg: "RS256"},
		{SigAlg: "ES256"},
		{Hosts: []string{"bad host"}},
		{Hosts: []string{""}},
	} {
		dir := filepath.Join(t.TempDir(), "pki")
		if _, err := Generate(dir, opts); !errors.Is(err, ErrOptions) {
			t.Errorf("Generate(%+v) = %v, want ErrOptions", opts, err)
		}
		if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Generate(%+v) created %s", opts, dir)
		}
	}
}

func TestGenerateRefusesExisting(t *testing.T) {
	dir := t.TempDir()
	if _, err := Generate(dir, Options{}); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, dir)
	_, err := Generate(dir, Options{})
	if !errors.Is(err, ErrExists) {
		t.Fatalf("second Generate = %v, want ErrExists", err)
	}
	if !strings.Contains(err.Error(), "ca.crt") || !strings.Contains(err.Error(), "--force") {
		t.Errorf("error %q should name the files and --force", err)
	}
	if after := snapshot(t, dir); !maps.EqualFunc(before, after, bytes.Equal) {
		t.Fatal("a refused run changed the directory")
	}

	// One stray file is enough to refuse.
	dir2 := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir2, "dc.jwks.json"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Generate(dir2, Options{}); !errors.Is(err, ErrExists) {
		t.Fatalf("Generate over dc.jwks.json = %v, want ErrExists", err)
	}
	if got := snapshot(t, dir2); len(got) != 1 || string(got["dc.jwks.json"]) != "mine" {
		t.Fatalf("refused run left %v", slices.Collect(maps.Keys(got)))
	}

	// --force replaces every file.
	if _, err := Generate(dir, Options{Force: true}); err != nil {
		t.Fatal(err)
	}
	after := snapshot(t, dir)
	if len(after) != len(before) {
		t.Fatalf("forced run left %d files, want %d", len(after), len(before))
	}
	for name := range before {
		if bytes.Equal(before[name], after[name]) {
			t.Errorf("--force kept the old %s", name)
		}
	}
}

// TestWriteAllRollback makes the move into place fail half-way and checks the
// directory is exactly as before, for a fresh and for a forced run.
func TestWriteAllRollback(t *testing.T) {
	files, _, err := build(Options{})
	if err != nil {
		t.Fatal(err)
	}
	failAfter := func(n int) func(src, dst string) error {
		calls := 0
		return func(src, dst string) error {
			if calls++; calls > n {
				return errors.New("disk full")
			}
			return placeFile(src, dst)
		}
	}
	t.Run("fresh", func(t *testing.T) {
		dir := t.TempDir()
		if err := writeAll(dir, files, false, failAfter(7)); err == nil {
			t.Fatal("writeAll succeeded, want the injected failure")
		}
		if got := snapshot(t, dir); len(got) != 0 {
			t.Fatalf("failed run left %v", slices.Collect(maps.Keys(got)))
		}
		newDir := filepath.Join(dir, "pki")
		if err := writeAll(newDir, files, false, failAfter(0)); err == nil {
			t.Fatal("writeAll succeeded, want the injected failure")
		}
		if _, err := os.Stat(newDir); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("failed run left the directory it created: %v", err)
		}
	})
	t.Run("force", func(t *testing.T) {
		dir := t.TempDir()
		if err := writeAll(dir, files, false, placeFile); err != nil {
			t.Fatal(err)
		}
		before := snapshot(t, dir)
		newFiles := make([]file, len(files))
		for i, f := range files {
			newFiles[i] = file{name: f.name, data: append([]byte("new "), f.data...), mode: f.mode}
		}
		if err := writeAll(dir, newFiles, true, failAfter(12)); err == nil {
			t.Fatal("writeAll succeeded, want the injected failure")
		}
		if after := snapshot(t, dir); !maps.EqualFunc(before, after, bytes.Equal) {
			t.Fatal("failed forced run did not restore the previous files")
		}
	})
	t.Run("file appears meanwhile", func(t *testing.T) {
		dir := t.TempDir()
		intruder := func(src, dst string) error {
			if filepath.Base(dst) == "dp-sig.crt" {
				if err := os.WriteFile(dst, []byte("someone else"), 0o644); err != nil {
					return err
				}
			}
			return placeFile(src, dst)
		}
		if err := writeAll(dir, files, false, intruder); !errors.Is(err, ErrExists) {
			t.Fatalf("writeAll = %v, want ErrExists", err)
		}
		got := snapshot(t, dir)
		if len(got) != 1 || string(got["dp-sig.crt"]) != "someone else" {
			t.Fatalf("left %v, want only the intruder's file untouched", slices.Collect(maps.Keys(got)))
		}
	})
}

func TestSerialNumbersDiffer(t *testing.T) {
	_, res := sharedPKI(t)
	dir, _ := sharedPKI(t)
	seen := map[string]string{}
	for _, c := range res.Certs {
		cert := readCert(t, dir, strings.TrimSuffix(c.File, ".crt"))
		s := cert.SerialNumber.String()
		if prev, ok := seen[s]; ok {
			t.Errorf("%s and %s share serial %s", prev, c.File, s)
		}
		seen[s] = c.File
		if cert.SerialNumber.Sign() <= 0 || len(cert.SerialNumber.Bytes()) > 20 {
			t.Errorf("%s serial %s out of RFC 5280 bounds", c.File, s)
		}
		if len(cert.SubjectKeyId) == 0 {
			t.Errorf("%s has no SubjectKeyId", c.File)
		}
	}
}
