package doctor_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ofpdp/ofpdp/internal/config"
	"github.com/ofpdp/ofpdp/internal/doctor"
	"github.com/ofpdp/ofpdp/internal/pki"
	"github.com/ofpdp/ofpdp/internal/store"
	"github.com/ofpdp/ofpdp/internal/storetest"
)

// host is a sandbox-like installation: a PKI, a migrated database, and PayNet's endpoints
// over mutual TLS, whose Date header is now + skew.
type host struct {
	dir, pkiDir, other string
	payNetURL          string
	skew               time.Duration
}

func newHost(t *testing.T) *host {
	t.Helper()
	h := &host{dir: t.TempDir()}
	h.pkiDir, h.other = filepath.Join(h.dir, "pki"), filepath.Join(h.dir, "other")
	for _, d := range []string{h.pkiDir, h.other} {
		if _, err := pki.Generate(d, pki.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	pair, err := tls.LoadX509KeyPair(filepath.Join(h.pkiDir, "paynet-server.crt"), filepath.Join(h.pkiDir, "paynet-server.key"))
	if err != nil {
		t.Fatal(err)
	}
	caPEM, err := os.ReadFile(filepath.Join(h.pkiDir, "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	jwks, err := os.ReadFile(filepath.Join(h.pkiDir, "paynet.jwks.json"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", time.Now().Add(h.skew).UTC().Format(http.TimeFormat))
		if r.URL.Path == "/v1/jwks" {
			w.Write(jwks)
			return
		}
		w.WriteHeader(http.StatusNotFound)
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: roots}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	h.payNetURL = "https://localhost:" + srv.URL[strings.LastIndex(srv.URL, ":")+1:]
	if err := os.WriteFile(filepath.Join(h.dir, "server.secret"), bytes.Repeat([]byte{0x5a}, 32), 0o600); err != nil {
		t.Fatal(err)
	}
	return h
}

func (h *host) config(t *testing.T, dbURL string) *config.Config {
	t.Helper()
	p := func(n string) string { return filepath.Join(h.pkiDir, n) }
	yaml := `dp_id: DP1
environment: development
database: {url: "` + dbURL + `"}
tls: {cert_file: ` + p("dp-server.crt") + `, key_file: ` + p("dp-server.key") + `}
keys: {signing_key_file: ` + p("dp-sig.key") + `, signing_cert_file: ` + p("dp-sig.crt") + `, mtls_cert_file: ` + p("dp-mtls.crt") + `, mtls_key_file: ` + p("dp-mtls.key") + `}
paynet:
  ca_file: ` + p("ca.crt") + `
  client_cert_fingerprints: ["` + strings.Repeat("ab", 32) + `"]
  issuer: paynet
  jwks_url: ` + h.payNetURL + `/v1/jwks
  consent_base_url: ` + h.payNetURL + `
  dc_jwks_url_template: ` + h.payNetURL + `/v1/jwks/{dc_id}
secrets: {server_secret_file: ` + filepath.Join(h.dir, "server.secret") + `}
authorize: {redirect_uri_allowlist: ["https://localhost/cb"]}
`
	path := filepath.Join(t.TempDir(), "ofpdp.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestDoctor: a healthy installation passes; each broken one fails the check concerned with
// its fix, and only that check.
func TestDoctor(t *testing.T) {
	for _, eng := range storetest.Engines() {
		t.Run(eng.Name, func(t *testing.T) {
			for _, c := range []struct {
				name     string
				break_   func(h *host, cfg *config.Config, o *string)
				migrate  bool
				failing  []string // the failing checks, none for a healthy host
				fixNamed string
			}{
				{name: "healthy", migrate: true},
				{name: "clock ten minutes off", migrate: true, break_: func(h *host, _ *config.Config, _ *string) { h.skew = 10 * time.Minute },
					failing: []string{"clock against PayNet"}, fixNamed: "NTP"},
				{name: "signing key not in PayNet's JWKS", migrate: true, break_: func(h *host, _ *config.Config, jwks *string) {
					*jwks = filepath.Join(h.pkiDir, "dc.jwks.json")
				}, failing: []string{"signing key in the JWKS given to PayNet"}, fixNamed: "send PayNet"},
				{name: "schema not migrated", failing: []string{"database"}, fixNamed: "ofpdp migrate up"},
				{name: "PayNet's CA bundle is another CA's", migrate: true, break_: func(h *host, cfg *config.Config, _ *string) {
					cfg.PayNet.CAFile = filepath.Join(h.other, "ca.crt")
				}, failing: []string{"PayNet JWKS", "PayNet consent API"}, fixNamed: "paynet.ca_file"},
				{name: "configuration invalid", migrate: true, break_: func(_ *host, cfg *config.Config, _ *string) {
					cfg.Secrets.ServerSecretFile = ""
				}, failing: []string{"configuration"}, fixNamed: "docs/configuration.md"},
			} {
				t.Run(c.name, func(t *testing.T) {
					h := newHost(t)
					dbURL := eng.URL(t)
					if c.migrate {
						st, err := store.Open(context.Background(), dbURL, store.Options{})
						if err != nil {
							t.Fatal(err)
						}
						if err := st.Migrate(context.Background()); err != nil {
							t.Fatal(err)
						}
						st.Close()
					}
					cfg := h.config(t, dbURL)
					var jwksFile string
					if c.break_ != nil {
						c.break_(h, cfg, &jwksFile)
					}
					if jwksFile == "" {
						jwksFile = filepath.Join(h.pkiDir, "dp.jwks.json")
					}
					o, release := doctor.ForConfig(context.Background(), cfg, jwksFile)
					defer release()
					results := doctor.Run(context.Background(), o)
					var out bytes.Buffer
					failed := doctor.Print(&out, results)
					var got []string
					for _, r := range results {
						if r.Status != doctor.Fail {
							continue
						}
						if !slices.Contains(got, r.Check) {
							got = append(got, r.Check)
						}
						if !strings.Contains(r.Fix, c.fixNamed) {
							t.Errorf("%s: fix %q does not name %q", r.Check, r.Fix, c.fixNamed)
						}
					}
					if failed != (len(c.failing) > 0) || !slices.Equal(got, c.failing) {
						t.Errorf("failing checks %q (failed %v), want %q\n%s", got, failed, c.failing, out.String())
					}
				})
			}
		})
	}
}
