package paynet

import (
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/ofpdp/ofpdp/internal/mtls"
)

// tlsServer starts a server with a certificate from p that requires a client certificate from
// p, and answers with the client certificate's common name.
func tlsServer(t *testing.T, p *testPKI, mutate func(*tls.Config)) *httptest.Server {
	t.Helper()
	key := ecKey(t, elliptic.P256())
	cert := p.issue(t, "paynet-server", key.Public(), kindServer)
	pool := x509.NewCertPool()
	pool.AddCert(p.ca)
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(r.TLS.PeerCertificates[0].Subject.CommonName))
	}))
	s.TLS = &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{cert.Raw}, PrivateKey: key}},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pool,
	}
	if mutate != nil {
		mutate(s.TLS)
	}
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}

// TestMTLSClient (spec §4.1): the client presents its certificate, trusts only the given CA and
// refuses TLS below 1.2.
func TestMTLSClient(t *testing.T) {
	p := newTestPKI(t)
	dir := t.TempDir()
	certFile, keyFile, caFile := p.tlsFiles(t, dir, "dp-mtls")
	hc, err := NewMTLSClient(certFile, keyFile, caFile, 5*time.Second)
	if err == nil {
		// Outbound TLS 1.2 is held to the same FAPI suites the api listener accepts.
		tc := hc.Transport.(*http.Transport).TLSClientConfig
		if tc.MinVersion != tls.VersionTLS12 || !slices.Equal(tc.CipherSuites, mtls.FAPICipherSuites) {
			t.Errorf("client TLS: min %x, suites %v", tc.MinVersion, tc.CipherSuites)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	if hc.Timeout != 5*time.Second {
		t.Errorf("timeout = %v", hc.Timeout)
	}
	if v := hc.Transport.(*http.Transport).TLSClientConfig.MinVersion; v != tls.VersionTLS12 {
		t.Errorf("MinVersion = %x", v)
	}

	get := func(s *httptest.Server) (string, error) {
		resp, err := hc.Get(s.URL)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b := make([]byte, 64)
		n, _ := resp.Body.Read(b)
		return string(b[:n]), nil
	}

	if cn, err := get(tlsServer(t, p, nil)); err != nil || cn != "dp-mtls" {
		t.Errorf("server saw client %q, err %v", cn, err)
	}
	if _, err := get(tlsServer(t, newTestPKI(t), nil)); err == nil {
		t.Error("server certificate from another CA accepted")
	}
	old := tlsServer(t, p, func(c *tls.Config) { c.MinVersion, c.MaxVersion = tls.VersionTLS10, tls.VersionTLS11 })
	if _, err := get(old); err == nil {
		t.Error("TLS 1.1 accepted")
	}
}

func TestNewMTLSClientErrors(t *testing.T) {
	p := newTestPKI(t)
	dir := t.TempDir()
	certFile, keyFile, caFile := p.tlsFiles(t, dir, "dp-mtls")
	empty := filepath.Join(dir, "empty.crt")
	if err := os.WriteFile(empty, []byte("no PEM here\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing")
	cases := map[string][3]string{
		"missing cert":   {missing, keyFile, caFile},
		"missing key":    {certFile, missing, caFile},
		"key for cert":   {certFile, caFile, caFile},
		"missing CA":     {certFile, keyFile, missing},
		"CA without PEM": {certFile, keyFile, empty},
	}
	for name, f := range cases {
		if _, err := NewMTLSClient(f[0], f[1], f[2], time.Second); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := NewMTLSClient(certFile, keyFile, caFile, -time.Second); err == nil {
		t.Error("negative timeout accepted")
	}
}
