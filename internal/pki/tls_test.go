package pki

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ofpdp/ofpdp/internal/jose"
)

// TestOpenSSLVerify checks every certificate with an independent X.509
// implementation.
func TestOpenSSLVerify(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed: cannot cross-check the certificates with OpenSSL (apt-get install openssl)")
	}
	dir, _ := sharedPKI(t)
	for _, name := range FileNames() {
		if !strings.HasSuffix(name, ".crt") {
			continue
		}
		t.Run(name, func(t *testing.T) {
			out, err := exec.Command(openssl, "verify", "-CAfile", filepath.Join(dir, "ca.crt"), filepath.Join(dir, name)).CombinedOutput()
			if err != nil || !strings.Contains(string(out), ": OK") {
				t.Errorf("openssl verify %s: %v\n%s", name, err, out)
			}
		})
	}
	// The server and client purposes as OpenSSL understands them.
	for name, purpose := range map[string]string{"dp-server.crt": "sslserver", "paynet-server.crt": "sslserver", "paynet-mtls.crt": "sslclient", "dp-mtls.crt": "sslclient"} {
		out, err := exec.Command(openssl, "verify", "-purpose", purpose, "-CAfile", filepath.Join(dir, "ca.crt"), filepath.Join(dir, name)).CombinedOutput()
		if err != nil {
			t.Errorf("openssl verify -purpose %s %s: %v\n%s", purpose, name, err, out)
		}
	}
}

// mtlsServer starts an httptest TLS server with dp-server's certificate that
// requires a client certificate chaining to ca.crt, and answers with the
// x5t#S256 of the certificate it received.
func mtlsServer(t *testing.T, dir string) *httptest.Server {
	t.Helper()
	pair, err := tls.LoadX509KeyPair(filepath.Join(dir, "dp-server.crt"), filepath.Join(dir, "dp-server.key"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, jose.Thumbprint(r.TLS.PeerCertificates[0]))
	}))
	srv.TLS = &tls.Config{
		Certificates: []tls.Certificate{pair},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    caPool(t, dir),
		MinVersion:   tls.VersionTLS12,
	}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are expected
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

func caPool(t *testing.T, dir string) *x509.CertPool {
	t.Helper()
	pem, err := os.ReadFile(filepath.Join(dir, "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatal("ca.crt: no certificate")
	}
	return pool
}

// TestMTLSHandshake: PayNet (paynet-mtls) calls the DP (dp-server) over mTLS,
// by IP and by host name, with TLS 1.2 and 1.3.
func TestMTLSHandshake(t *testing.T) {
	dir, res := sharedPKI(t)
	srv := mtlsServer(t, dir)
	client, err := tls.LoadX509KeyPair(filepath.Join(dir, "paynet-mtls.crt"), filepath.Join(dir, "paynet-mtls.key"))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := res.Cert("paynet-mtls")
	port := srv.Listener.Addr().(interface{ String() string }).String()
	port = port[strings.LastIndex(port, ":")+1:]
	for _, tt := range []struct {
		name    string
		url     string
		version uint16
	}{
		{"127.0.0.1 TLS1.3", "https://127.0.0.1:" + port + "/", tls.VersionTLS13},
		{"localhost TLS1.2", "https://localhost:" + port + "/", tls.VersionTLS12},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
				RootCAs: caPool(t, dir), Certificates: []tls.Certificate{client}, MinVersion: tt.version, MaxVersion: tt.version,
			}}}
			resp, err := c.Get(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if string(body) != want.Thumbprint {
				t.Errorf("server saw client %q, want paynet-mtls %q", body, want.Thumbprint)
			}
			if resp.TLS.Version != tt.version {
				t.Errorf("TLS version %x, want %x", resp.TLS.Version, tt.version)
			}
		})
	}
	t.Run("no client certificate is refused", func(t *testing.T) {
		c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: caPool(t, dir)}}}
		if resp, err := c.Get(srv.URL); err == nil {
			resp.Body.Close()
			t.Fatal("request without a client certificate succeeded")
		}
	})
	t.Run("server certificate is checked", func(t *testing.T) {
		c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{Certificates: []tls.Certificate{client}}}}
		if resp, err := c.Get(srv.URL); err == nil {
			resp.Body.Close()
			t.Fatal("client trusted dp-server without ca.crt")
		}
	})
}

// TestCurlMTLS runs the curl command of PayNet's examples against the DP's
// certificate: curl --cert paynet-mtls.crt --key paynet-mtls.key --cacert ca.crt.
func TestCurlMTLS(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl not installed: cannot run PayNet's curl example (apt-get install curl)")
	}
	dir, res := sharedPKI(t)
	srv := mtlsServer(t, dir)
	port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]
	want, _ := res.Cert("paynet-mtls")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, curl, "--silent", "--show-error", "--fail", "--noproxy", "*",
		"--cert", filepath.Join(dir, "paynet-mtls.crt"), "--key", filepath.Join(dir, "paynet-mtls.key"),
		"--cacert", filepath.Join(dir, "ca.crt"), "https://localhost:"+port+"/v1/consents/events").CombinedOutput()
	if err != nil {
		t.Fatalf("curl: %v\n%s", err, out)
	}
	if string(out) != want.Thumbprint {
		t.Errorf("server saw %q, want paynet-mtls %q", out, want.Thumbprint)
	}
	out, err = exec.CommandContext(ctx, curl, "--silent", "--show-error", "--fail", "--noproxy", "*",
		"--cacert", filepath.Join(dir, "ca.crt"), "https://localhost:"+port+"/").CombinedOutput()
	if err == nil {
		t.Errorf("curl without --cert succeeded: %s", out)
	}
}
