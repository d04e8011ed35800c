package server_test

// Certificates rotate without a restart (design §8): the TLS server certificate and the mTLS
// client certificate are replaced on disk while the server serves.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/ofpdp/ofpdp/internal/jose"
	"github.com/ofpdp/ofpdp/internal/mtls"
	"github.com/ofpdp/ofpdp/internal/pki"
	"github.com/ofpdp/ofpdp/internal/storetest"
)

// TestCertificateRotation: while PayNet's events keep arriving over fresh connections, a broken
// server certificate file is refused (the old one stays in use), then a new server certificate
// and a new mTLS client certificate are put in place; new handshakes present them and no
// request fails.
func TestCertificateRotation(t *testing.T) {
	in := newInstall(t, storetest.Engines()[0], false)
	next := t.TempDir()
	if _, err := pki.Generate(next, pki.Options{}); err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool() // PayNet trusts the old CA and the new one
	for _, dir := range []string{in.pkiDir, next} {
		b, err := os.ReadFile(filepath.Join(dir, "ca.crt"))
		if err != nil || !roots.AppendCertsFromPEM(b) {
			t.Fatalf("ca.crt: %v", err)
		}
	}
	fingerprintOf := func(dir, name string) string {
		t.Helper()
		chain, err := jose.LoadCertificatesFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return mtls.Fingerprint(chain[0])
	}

	// PayNet's JWKS endpoint, which sees the DP's mTLS client certificate.
	jwks, err := os.ReadFile(filepath.Join(in.pkiDir, "paynet.jwks.json"))
	if err != nil {
		t.Fatal(err)
	}
	var seenMu sync.Mutex
	seen := map[string]bool{}
	payNet := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seenMu.Lock()
		seen[mtls.Fingerprint(r.TLS.PeerCertificates[0])] = true
		seenMu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write(jwks)
	}))
	payNetCert, err := tls.LoadX509KeyPair(filepath.Join(in.pkiDir, "paynet-server.crt"), filepath.Join(in.pkiDir, "paynet-server.key"))
	if err != nil {
		t.Fatal(err)
	}
	payNet.TLS = &tls.Config{Certificates: []tls.Certificate{payNetCert}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: roots}
	payNet.StartTLS()
	t.Cleanup(payNet.Close)
	sawClientCert := func(fp string) bool { seenMu.Lock(); defer seenMu.Unlock(); return seen[fp] }

	cfg := in.config(t)
	cfg.Keys.ReloadInterval = 200 * time.Millisecond
	cfg.PayNet.JWKSURL = "https://localhost:" + fmt.Sprint(payNet.Listener.Addr().(*net.TCPAddr).Port)
	cfg.PayNet.JWKSCacheTTL = 400 * time.Millisecond
	r := startConfig(t, cfg)

	var serverFPs sync.Map // the api listener's certificates seen in handshakes
	tlsConf := in.tlsConfig(t, true)
	tlsConf.RootCAs = roots
	tlsConf.VerifyConnection = func(cs tls.ConnectionState) error {
		serverFPs.Store(mtls.Fingerprint(cs.PeerCertificates[0]), true)
		return nil
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConf, DisableKeepAlives: true}, Timeout: 10 * time.Second}
	var (
		stop     atomic.Bool
		wg       sync.WaitGroup
		requests atomic.Int64
		failMu   sync.Mutex
		failures []string
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !stop.Load() {
			created := time.Now().Add(-time.Minute)
			body, err := buildEvent("consent_created", uuid.NewString(), "awaiting_authorization", created, created)
			if err == nil {
				var status int
				var b []byte
				status, b, err = in.postEvent(context.Background(), client, r.apiAddr, body)
				if err == nil && status != http.StatusOK {
					err = fmt.Errorf("%d %s", status, b)
				}
			}
			requests.Add(1)
			if err != nil {
				failMu.Lock()
				failures = append(failures, err.Error())
				failMu.Unlock()
			}
		}
	}()
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				stop.Store(true)
				wg.Wait()
				t.Fatalf("%s: not within 15 s", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	oldServer := fingerprintOf(in.pkiDir, "dp-server.crt")
	waitFor("events over the old certificate", func() bool { _, ok := serverFPs.Load(oldServer); return ok && requests.Load() > 3 })

	// A broken certificate file: logged, the old certificate stays in use.
	certPath := filepath.Join(in.pkiDir, "dp-server.crt")
	goodCert, err := os.ReadFile(certPath)
	if err != nil {
		t.Fatal(err)
	}
	replace(t, certPath, []byte("-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n"))
	before := requests.Load()
	waitFor("requests while the file is broken", func() bool { return requests.Load() > before+10 })
	replace(t, certPath, goodCert)

	for _, name := range []string{"dp-server.key", "dp-server.crt", "dp-mtls.key", "dp-mtls.crt"} {
		b, err := os.ReadFile(filepath.Join(next, name))
		if err != nil {
			t.Fatal(err)
		}
		replace(t, filepath.Join(in.pkiDir, name), b)
	}
	newServer, newClient := fingerprintOf(next, "dp-server.crt"), fingerprintOf(next, "dp-mtls.crt")
	waitFor("a handshake with the new server certificate", func() bool { _, ok := serverFPs.Load(newServer); return ok })
	waitFor("PayNet sees the new mTLS client certificate", func() bool { return sawClientCert(newClient) })

	stop.Store(true)
	wg.Wait()
	if len(failures) > 0 {
		t.Fatalf("%d of %d requests failed during the rotation, first: %s", len(failures), requests.Load(), failures[0])
	}

	// The expiry gauge follows the certificate in use; PayNet calls and the pool are measured.
	newChain, err := jose.LoadCertificatesFile(filepath.Join(next, "dp-server.crt"))
	if err != nil {
		t.Fatal(err)
	}
	_, metrics, err := get("http://"+r.opsAddr+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		fmt.Sprintf(`ofpdp_certificate_expiry_timestamp_seconds{name="tls_server"} %s`, strconv.FormatFloat(float64(newChain[0].NotAfter.Unix()), 'g', -1, 64)),
		`ofpdp_outbound_request_duration_seconds_count{outcome="ok",peer="paynet"}`,
		"ofpdp_db_open_connections ",
		"ofpdp_db_wait_count_total ",
	} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// replace puts data at path the way a Secret update does: a new file renamed over the old one.
func replace(t *testing.T, path string, data []byte) {
	t.Helper()
	tmp := path + ".new"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}
