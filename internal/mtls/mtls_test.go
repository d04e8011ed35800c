package mtls

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"
)

var testNow = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newCA(t *testing.T, name string) testCA {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: testNow.Add(-time.Hour), NotAfter: testNow.Add(24 * time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return testCA{cert: cert, key: key, pool: pool}
}

func (ca testCA) client(t *testing.T, cn string, notBefore, notAfter time.Time) *x509.Certificate {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn, Organization: []string{"PayNet"}},
		NotBefore: notBefore, NotAfter: notAfter, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c
}

func escapedPEM(c *x509.Certificate) string {
	return url.QueryEscape(string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})))
}

func reqWith(remote string, peer *x509.Certificate, header string, more ...string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "https://dp.example/v1/consents/events", nil)
	r.RemoteAddr = remote
	if peer != nil {
		r.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{peer}}
	} else {
		r.TLS = nil
	}
	if header != "" {
		r.Header.Set("X-Client-Cert", header)
	}
	for _, v := range more {
		r.Header.Add("X-Client-Cert", v)
	}
	return r
}

func TestGate(t *testing.T) {
	ca := newCA(t, "PayNet CA")
	other := newCA(t, "Evil CA")
	paynet := ca.client(t, "ofp.paynet.my", testNow.Add(-time.Hour), testNow.Add(time.Hour))
	stranger := ca.client(t, "someone-else", testNow.Add(-time.Hour), testNow.Add(time.Hour))
	forged := other.client(t, "ofp.paynet.my", testNow.Add(-time.Hour), testNow.Add(time.Hour))
	expired := ca.client(t, "ofp.paynet.my", testNow.Add(-48*time.Hour), testNow.Add(-24*time.Hour))

	gate, err := NewGate(GateOptions{Fingerprints: []string{Fingerprint(paynet)}, Roots: ca.pool,
		Header: "X-Client-Cert", Proxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		req  *http.Request
		want error
	}{
		{"allowed peer certificate", reqWith("203.0.113.5:1234", paynet, ""), nil},
		{"no certificate (T1)", reqWith("203.0.113.5:1234", nil, ""), ErrNoCertificate},
		{"valid chain but not allow-listed (T2)", reqWith("203.0.113.5:1234", stranger, ""), ErrNotAllowed},
		{"header from a trusted proxy", reqWith("10.1.2.3:1234", nil, escapedPEM(paynet)), nil},
		{"header from anyone else is ignored (T5)", reqWith("203.0.113.5:1234", nil, escapedPEM(paynet)), ErrNoCertificate},
		{"header with a certificate from another CA (T2)", reqWith("10.1.2.3:1234", nil, escapedPEM(forged)), ErrNotAllowed},
		{"header with an expired certificate (T6)", reqWith("10.1.2.3:1234", nil, escapedPEM(expired)), ErrNotAllowed},
		{"header that is not PEM", reqWith("10.1.2.3:1234", nil, "garbage"), ErrNotAllowed},
		{"header with a stranger's certificate", reqWith("10.1.2.3:1234", nil, escapedPEM(stranger)), ErrNotAllowed},
		// A second value (the proxy appended to a client-sent header, or a client smuggled one
		// past it) makes the certificate ambiguous: refused, whichever value comes first.
		{"two header values, allowed first", reqWith("10.1.2.3:1234", nil, escapedPEM(paynet), escapedPEM(stranger)), ErrAmbiguousCertificate},
		{"two header values, allowed last", reqWith("10.1.2.3:1234", nil, escapedPEM(stranger), escapedPEM(paynet)), ErrAmbiguousCertificate},
		{"two values folded into one header line", reqWith("10.1.2.3:1234", nil, escapedPEM(paynet)+", "+escapedPEM(paynet)), ErrAmbiguousCertificate},
		{"an empty second value", reqWith("10.1.2.3:1234", nil, escapedPEM(paynet), ""), ErrAmbiguousCertificate},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := gate.Check(c.req)
			if !errors.Is(err, c.want) || (c.want == nil && err != nil) {
				t.Fatalf("Check = %v, want %v", err, c.want)
			}
		})
	}

	bySubject, err := NewGate(GateOptions{Subjects: []string{paynet.Subject.String()}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bySubject.Check(reqWith("1.2.3.4:1", paynet, "")); err != nil {
		t.Fatalf("subject allow-list: %v", err)
	}
	if _, err := bySubject.Check(reqWith("1.2.3.4:1", stranger, "")); !errors.Is(err, ErrNotAllowed) {
		t.Fatalf("subject allow-list let a stranger in: %v", err)
	}
}

func TestFingerprintFormats(t *testing.T) {
	ca := newCA(t, "CA")
	c := ca.client(t, "x", testNow.Add(-time.Hour), testNow.Add(time.Hour))
	fp := Fingerprint(c)
	colons := ""
	for i := 0; i < len(fp); i += 2 {
		if i > 0 {
			colons += ":"
		}
		colons += fp[i : i+2]
	}
	for _, f := range []string{fp, colons, "  " + fp + " "} {
		g, err := NewGate(GateOptions{Fingerprints: []string{f}})
		if err != nil {
			t.Fatalf("%q: %v", f, err)
		}
		if _, err := g.Check(reqWith("1.2.3.4:1", c, "")); err != nil {
			t.Fatalf("%q: %v", f, err)
		}
	}
	// T8: a SHA-1 fingerprint is not a SHA-256 one and must not be accepted as configuration.
	sum := sha1.Sum(c.Raw)
	if _, err := NewGate(GateOptions{Fingerprints: []string{hex.EncodeToString(sum[:])}}); err == nil {
		t.Fatal("a SHA-1 fingerprint was accepted")
	}
	if _, err := NewGate(GateOptions{Header: "X-Client-Cert"}); err == nil {
		t.Fatal("a proxy header without a CA bundle was accepted")
	}
}

func TestServerConfig(t *testing.T) {
	c := ServerConfig(tls.Certificate{}, x509.NewCertPool())
	if c.MinVersion != tls.VersionTLS12 || c.ClientAuth != tls.RequireAndVerifyClientCert {
		t.Fatalf("min version %x, client auth %v", c.MinVersion, c.ClientAuth)
	}
	for _, s := range c.CipherSuites {
		name := tls.CipherSuiteName(s)
		if !strings.HasPrefix(name, "TLS_ECDHE_") || !strings.Contains(name, "_GCM_") {
			t.Errorf("suite %s is not ECDHE + AES-GCM", name)
		}
	}
	if ServerConfig(tls.Certificate{}, nil).ClientAuth != tls.NoClientCert {
		t.Fatal("web listener must not ask for client certificates")
	}
}

func TestParseFingerprint(t *testing.T) {
	if fp, err := ParseFingerprint(" AB:cd:" + strings.Repeat("00", 30) + " "); err != nil || fp != "abcd"+strings.Repeat("00", 30) {
		t.Errorf("ParseFingerprint = %q, %v", fp, err)
	}
	for _, bad := range []string{"", "abcd", strings.Repeat("zz", 32), strings.Repeat("00", 33), strings.Repeat("00", 20)} {
		if _, err := ParseFingerprint(bad); err == nil {
			t.Errorf("ParseFingerprint(%q) accepted", bad)
		}
	}
}
