package server_test

// Tests of the assembled DP (design §2, §5): server.New from a configuration file written the
// way an operator writes it (PKI from internal/pki, server secret file, client-certificate
// allow-list, SQLite file or PostgreSQL), server.Run on 127.0.0.1 listeners, PayNet-signed
// consent events over mTLS, and graceful shutdown. crash_test.go runs the same configuration
// through the ofpdp binary.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"github.com/ofpdp/ofpdp/internal/storetest"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/ofpdp/ofpdp/internal/config"
	"github.com/ofpdp/ofpdp/internal/jose"
	"github.com/ofpdp/ofpdp/internal/mtls"
	"github.com/ofpdp/ofpdp/internal/pki"
	"github.com/ofpdp/ofpdp/internal/server"
	"github.com/ofpdp/ofpdp/internal/store"
)

const (
	testDPID     = "DP9876543210"
	payNetIssuer = "paynet"
)

// ---- database engines ----

// ---- a DP installation on disk ----

// install is what an operator prepares before `ofpdp serve`: a PKI directory, a server secret,
// an admin token, a configuration file, and PayNet's side of the keys.
type install struct {
	dir     string
	pkiDir  string
	dbURL   string
	cfgPath string
	// addresses written into the configuration (crash_test.go); the in-process tests pass their
	// own listeners instead.
	apiAddr, webAddr, opsAddr string
	adminToken                string

	caPool *x509.CertPool
	signer *jose.Signer // PayNet's paynet-sig, iss "paynet"
	client *http.Client // PayNet's paynet-mtls
}

// newInstall writes a sandbox-like installation for a database of eng. With freePorts, the
// listener addresses are free 127.0.0.1 ports (for the binary); otherwise 127.0.0.1:0.
func newInstall(t testing.TB, eng storetest.Engine, freePorts bool) *install {
	t.Helper()
	in := &install{dir: t.TempDir(), dbURL: eng.URL(t)}
	in.pkiDir = filepath.Join(in.dir, "pki")
	res, err := pki.Generate(in.pkiDir, pki.Options{})
	if err != nil {
		t.Fatalf("pki.Generate: %v", err)
	}
	payNetMTLS, ok := res.Cert("paynet-mtls")
	if !ok {
		t.Fatal("no paynet-mtls certificate")
	}
	in.apiAddr, in.webAddr, in.opsAddr = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	if freePorts {
		in.apiAddr, in.webAddr, in.opsAddr = freeAddr(t), freeAddr(t), freeAddr(t)
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		t.Fatal(err)
	}
	// Hex: raw bytes ending in a space or newline would be trimmed below the 32 needed.
	writeFile(t, filepath.Join(in.dir, "server.secret"), []byte(hex.EncodeToString(secret)), 0o600)
	in.adminToken = hex.EncodeToString(secret[:24]) + "-admin"
	writeFile(t, filepath.Join(in.dir, "admin.token"), []byte(in.adminToken+"\n"), 0o600)

	p := func(name string) string { return filepath.Join(in.pkiDir, name) }
	cfg := map[string]any{
		"dp_id":       testDPID,
		"environment": "development", // the demo connector and PayNet on localhost
		"log":         map[string]any{"level": "warn", "format": "json"},
		"database":    map[string]any{"url": in.dbURL},
		"api":         map[string]any{"addr": in.apiAddr},
		"web":         map[string]any{"addr": in.webAddr, "public_url": "https://localhost:8444"},
		"ops":         map[string]any{"addr": in.opsAddr, "admin_token_file": filepath.Join(in.dir, "admin.token")},
		"tls":         map[string]any{"cert_file": p("dp-server.crt"), "key_file": p("dp-server.key")},
		"paynet": map[string]any{
			"ca_file":                  p("ca.crt"),
			"client_cert_fingerprints": []string{payNetMTLS.Fingerprint},
			"issuer":                   payNetIssuer,
			"jwks_file":                p("paynet.jwks.json"),
			"consent_base_url":         "https://localhost:8445",
			"dc_jwks_url_template":     "https://localhost:8445/v1/jwks/{dc_id}",
		},
		"keys": map[string]any{
			"signing_key_file": p("dp-sig.key"), "signing_cert_file": p("dp-sig.crt"),
			"mtls_cert_file": p("dp-mtls.crt"), "mtls_key_file": p("dp-mtls.key"),
		},
		"secrets":   map[string]any{"server_secret_file": filepath.Join(in.dir, "server.secret")},
		"authorize": map[string]any{"redirect_uri_allowlist": []string{"https://localhost:8445/callback"}},
		// No load balancer to leave; TestShutdownDrains covers the delay.
		"shutdown": map[string]any{"drain_delay": "0s"},
	}
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	in.cfgPath = filepath.Join(in.dir, "ofpdp.json")
	writeFile(t, in.cfgPath, b, 0o600)

	in.caPool, err = mtls.LoadCAPool(p("ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	sk, err := jose.LoadSigningKey(p("paynet-sig.key"), p("paynet-sig.crt"))
	if err != nil {
		t.Fatal(err)
	}
	in.signer = &jose.Signer{Key: sk, Issuer: payNetIssuer}
	in.client = in.newClient(t, true)
	return in
}

func writeFile(t testing.TB, path string, b []byte, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, b, mode); err != nil {
		t.Fatal(err)
	}
}

// freeAddr returns a 127.0.0.1 address that was free a moment ago.
func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// config loads and validates the installation's configuration as `ofpdp serve` does.
func (in *install) config(t testing.TB) *config.Config {
	t.Helper()
	cfg, err := config.Load(in.cfgPath, nil)
	if err != nil {
		t.Fatalf("config.Load: %v", err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("config.Validate: %v", err)
	}
	return cfg
}

// tlsConfig trusts the development CA, with PayNet's client certificate when withCert.
func (in *install) tlsConfig(t testing.TB, withCert bool) *tls.Config {
	t.Helper()
	c := &tls.Config{RootCAs: in.caPool}
	if withCert {
		cert, err := tls.LoadX509KeyPair(filepath.Join(in.pkiDir, "paynet-mtls.crt"), filepath.Join(in.pkiDir, "paynet-mtls.key"))
		if err != nil {
			t.Fatal(err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c
}

func (in *install) newClient(t testing.TB, withCert bool) *http.Client {
	t.Helper()
	tr := &http.Transport{TLSClientConfig: in.tlsConfig(t, withCert), MaxIdleConnsPerHost: 8}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// eventBody is a consent event for consentID (spec §3.1.1, §5.1).
func eventBody(t testing.TB, typ, consentID, status string, created, updated time.Time) []byte {
	t.Helper()
	b, err := buildEvent(typ, consentID, status, created, updated)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func buildEvent(typ, consentID, status string, created, updated time.Time) ([]byte, error) {
	data := map[string]any{
		"consent_id": consentID, "dc_id": "DC1234567890", "dp_id": testDPID,
		"id_type": "nric", "hashed_id_number": "IuxxlKFtsBIXkKDQvSyOfgP9RTQnsOiBo1uF4VE8dx8=",
		"consent_type": "urn:openfinance-ml:account-access-consent:v1.2", "consent_purpose": "pfm",
		"permissions":         []string{"read_accounts", "read_balances", "read_transactions"},
		"expiration_datetime": created.AddDate(1, 0, 0).UTC().Format(time.RFC3339),
		"status":              status,
		"created_at":          created.UTC().Format(time.RFC3339Nano),
		"updated_at":          updated.UTC().Format(time.RFC3339Nano),
		"updated_by":          "ofp",
	}
	return json.Marshal(map[string]any{"event_type": typ, "data": data})
}

// createdEvent is a consent_created event for a new consent, created now.
func createdEvent(t testing.TB, consentID string) []byte {
	now := time.Now()
	return eventBody(t, "consent_created", consentID, "awaiting_authorization", now, now)
}

// postEvent sends a PayNet-signed event to the api listener at addr.
func (in *install) postEvent(ctx context.Context, client *http.Client, addr string, body []byte) (int, []byte, error) {
	sig, err := in.signer.SignDetached(body)
	if err != nil {
		return 0, nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "https://"+addr+"/v1/consents/events", bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("x-fapi-signature", sig)
	req.Header.Set("x-fapi-interaction-id", uuid.NewString())
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// mustPostEvent is postEvent for events that must be acknowledged with 200 {}.
func (in *install) mustPostEvent(t testing.TB, addr string, body []byte) {
	t.Helper()
	status, b, err := in.postEvent(context.Background(), in.client, addr, body)
	if err != nil || status != http.StatusOK || string(b) != "{}" {
		t.Fatalf("POST /v1/consents/events: %d %s %v, want 200 {}", status, b, err)
	}
}

// get fetches a plain-HTTP ops URL.
func get(url string, header http.Header) (int, []byte, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return 0, nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// waitReady polls /readyz on the ops listener until 200, failing after the timeout or when
// exited reports that the process is gone.
func waitReady(t testing.TB, opsAddr string, timeout time.Duration, exited func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		status, body, err := get("http://"+opsAddr+"/readyz", nil)
		if err == nil && status == http.StatusOK {
			return
		}
		if exited != nil {
			if e := exited(); e != nil {
				t.Fatalf("server exited before it was ready: %v", e)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready after %s: %d %s %v", timeout, status, body, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// slowEvent is one event request written by hand over its own mTLS connection, so that the
// test decides when the body is complete (an in-flight request during shutdown).
type slowEvent struct {
	conn   *tls.Conn
	body   []byte
	sent   int
	result chan slowResult
}

type slowResult struct {
	status int
	body   string
	err    error
}

// startSlowEvent connects to the api listener, sends the headers and the first half of a
// signed event, and waits until the server must have started reading it.
func (in *install) startSlowEvent(t testing.TB, apiAddr string, body []byte) *slowEvent {
	t.Helper()
	cfg := in.tlsConfig(t, true)
	cfg.ServerName = "127.0.0.1"
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", apiAddr, cfg)
	if err != nil {
		t.Fatalf("dial api listener: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	sig, err := in.signer.SignDetached(body)
	if err != nil {
		t.Fatal(err)
	}
	head := fmt.Sprintf("POST /v1/consents/events HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"+
		"Content-Length: %d\r\nx-fapi-signature: %s\r\nx-fapi-interaction-id: %s\r\n\r\n", apiAddr, len(body), sig, uuid.NewString())
	s := &slowEvent{conn: conn, body: body, sent: len(body) / 2, result: make(chan slowResult, 1)}
	if _, err := io.WriteString(conn, head); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Write(body[:s.sent]); err != nil {
		t.Fatal(err)
	}
	go func() {
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			s.result <- slowResult{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		s.result <- slowResult{status: resp.StatusCode, body: string(b), err: err}
	}()
	// The server reads the headers and blocks reading the body; give it time to get there, so
	// that the connection is active (not idle) when the shutdown starts.
	time.Sleep(300 * time.Millisecond)
	select {
	case r := <-s.result:
		t.Fatalf("the half-sent request was answered early: %+v", r)
	default:
	}
	return s
}

// finish sends the rest of the body and returns the response.
func (s *slowEvent) finish(t testing.TB) slowResult {
	t.Helper()
	if _, err := s.conn.Write(s.body[s.sent:]); err != nil {
		t.Fatalf("writing the rest of the body: %v", err)
	}
	select {
	case r := <-s.result:
		return r
	case <-time.After(15 * time.Second):
		t.Fatal("no response to the in-flight request")
		return slowResult{}
	}
}

// waitDraining polls /readyz until it answers 503 {"status":"draining"}.
func waitDraining(t testing.TB, opsAddr string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		status, body, err := get("http://"+opsAddr+"/readyz", nil)
		if err == nil && status == http.StatusServiceUnavailable && strings.Contains(string(body), "draining") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz did not report draining: %d %s %v", status, body, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ---- in-process server ----

// running is a server.Server serving on 127.0.0.1 listeners.
type running struct {
	srv                       *server.Server
	apiAddr, webAddr, opsAddr string
	cancel                    context.CancelFunc
	done                      chan error
}

func listen(t testing.TB) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// start builds the server from the installation's configuration and runs it.
func (in *install) start(t testing.TB) *running {
	t.Helper()
	return startConfig(t, in.config(t))
}

// startConfig builds the server from cfg, runs it until the test ends, and waits until it is
// ready.
func startConfig(t testing.TB, cfg *config.Config) *running {
	t.Helper()
	r := startConfigUnready(t, cfg)
	waitReady(t, r.opsAddr, 20*time.Second, nil)
	return r
}

// stop cancels the server's context and returns what Run returned.
func (r *running) stop(t testing.TB) error {
	t.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		r.done <- err // for the cleanup
		return err
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return after the context ended")
		return nil
	}
}

// TestServerEvents runs the DP built from a configuration file and sends PayNet-signed events
// to its api listener: acknowledged only once stored (design §5), visible through the admin API
// on the ops listener, refused without PayNet's client certificate (negative-tests T1), and the
// ops endpoints are not on the api listener (O3). The web listener serves TLS without a client
// certificate (design §2).
func TestServerEvents(t *testing.T) {
	for _, eng := range storetest.Engines() {
		t.Run(eng.Name, func(t *testing.T) {
			in := newInstall(t, eng, false)
			r := in.start(t)

			id := uuid.NewString()
			created := time.Now().Add(-time.Minute)
			in.mustPostEvent(t, r.apiAddr, eventBody(t, "consent_created", id, "awaiting_authorization", created, created))
			in.mustPostEvent(t, r.apiAddr, eventBody(t, "consent_status_updated", id, "rejected", created, created.Add(time.Second)))
			rec, err := r.srv.Store().GetConsent(context.Background(), id)
			if err != nil || rec.Consent.Status != "rejected" || rec.Version != 2 {
				t.Fatalf("stored %+v, %v; want rejected at version 2", rec, err)
			}

			auth := http.Header{"Authorization": {"Bearer " + in.adminToken}}
			status, body, err := get("http://"+r.opsAddr+"/admin/v1/consents/"+id+"/events", auth)
			if err != nil || status != http.StatusOK || strings.Count(string(body), `"seq"`) != 2 {
				t.Errorf("admin events: %d %s %v", status, body, err)
			}
			if status, _, _ := get("http://"+r.opsAddr+"/admin/v1/consents/"+id, nil); status != http.StatusUnauthorized {
				t.Errorf("admin API without the token: %d, want 401", status)
			}
			status, body, err = get("http://"+r.opsAddr+"/metrics", nil)
			if err != nil || status != http.StatusOK ||
				!strings.Contains(string(body), `ofpdp_consent_events_total{outcome="insert",type="consent_created"} 1`) {
				t.Errorf("metrics: %d %v, want the inserted event counted", status, err)
			}
			for name, file := range map[string]string{"tls_server": "dp-server.crt", "mtls_client": "dp-mtls.crt",
				"signing": "dp-sig.crt", "paynet_ca": "ca.crt"} {
				certs, err := jose.LoadCertificatesFile(filepath.Join(in.pkiDir, file))
				if err != nil {
					t.Fatal(err)
				}
				earliest := certs[0].NotAfter
				for _, c := range certs {
					if c.NotAfter.Before(earliest) {
						earliest = c.NotAfter
					}
				}
				want := fmt.Sprintf("ofpdp_certificate_expiry_timestamp_seconds{name=%q} %s", name,
					strconv.FormatFloat(float64(earliest.Unix()), 'g', -1, 64))
				if !strings.Contains(string(body), want) {
					t.Errorf("metrics lack %q", want)
				}
			}
			if !strings.Contains(string(body), "ofpdp_build_info{build_date=") {
				t.Error("metrics lack ofpdp_build_info")
			}

			noCert := in.newClient(t, false)
			if status, b, err := in.postEvent(context.Background(), noCert, r.apiAddr, createdEvent(t, uuid.NewString())); err == nil {
				t.Errorf("api listener answered %d %s without a client certificate", status, b)
			}
			for _, path := range []string{"/metrics", "/readyz", "/admin/v1/consents/" + id} {
				resp, err := in.client.Get("https://" + r.apiAddr + path)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusNotFound {
					t.Errorf("api listener GET %s: %d, want 404", path, resp.StatusCode)
				}
			}
			resp, err := noCert.Get("https://" + r.webAddr + "/")
			if err != nil {
				t.Fatalf("web listener without a client certificate: %v", err)
			}
			resp.Body.Close()
			if resp.TLS == nil || resp.StatusCode >= 500 {
				t.Errorf("web listener: %d over %v", resp.StatusCode, resp.TLS != nil)
			}

			if err := r.stop(t); err != nil {
				t.Errorf("Run: %v", err)
			}
			if _, _, err := get("http://"+r.opsAddr+"/healthz", nil); err == nil {
				t.Error("ops listener still serving after Run returned")
			}
		})
	}
}

// TestServerGracefulShutdown: when the context ends, /readyz answers 503 while an in-flight
// event request completes (and is stored), and then Run returns nil.
func TestServerGracefulShutdown(t *testing.T) {
	in := newInstall(t, storetest.Engines()[0], false)
	r := in.start(t)
	id := uuid.NewString()
	slow := in.startSlowEvent(t, r.apiAddr, createdEvent(t, id))
	r.cancel()
	waitDraining(t, r.opsAddr)
	res := slow.finish(t)
	if res.err != nil || res.status != http.StatusOK || res.body != "{}" {
		t.Fatalf("in-flight request: %+v, want 200 {}", res)
	}
	select {
	case err := <-r.done:
		r.done <- err
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return")
	}
	st, err := store.Open(context.Background(), in.dbURL, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.GetConsent(context.Background(), id); err != nil {
		t.Fatalf("the event acknowledged during shutdown is not stored: %v", err)
	}
	if _, err := in.client.Get("https://" + r.apiAddr + "/"); err == nil {
		t.Errorf("api listener still accepting after shutdown: %v", err)
	}
}
