package config

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ofpdp/ofpdp/connector"
	"github.com/ofpdp/ofpdp/internal/pki"
)

var testPKI struct {
	once sync.Once
	dir  string
	res  *pki.Result
	err  error
}

// pkiDir generates one development PKI (plus a server secret and an admin
// token) shared by the tests of this file.
func pkiDir(t *testing.T) (string, *pki.Result) {
	t.Helper()
	testPKI.once.Do(func() {
		var dir string
		if dir, testPKI.err = os.MkdirTemp("", "ofpdp-config-test-"); testPKI.err != nil {
			return
		}
		testPKI.dir = dir
		if testPKI.res, testPKI.err = pki.Generate(filepath.Join(dir, "pki"), pki.Options{}); testPKI.err != nil {
			return
		}
		if testPKI.err = os.WriteFile(filepath.Join(dir, "server.secret"), []byte("0123456789abcdef0123456789abcdef\n"), 0o600); testPKI.err != nil {
			return
		}
		testPKI.err = os.WriteFile(filepath.Join(dir, "admin.token"), []byte("  tok-0123456789abcdef0123456789abcdef \n"), 0o600)
	})
	if testPKI.err != nil {
		t.Fatal(testPKI.err)
	}
	return testPKI.dir, testPKI.res
}

func TestMain(m *testing.M) {
	code := m.Run()
	if testPKI.dir != "" {
		os.RemoveAll(testPKI.dir)
	}
	os.Exit(code)
}

// validConfig returns a non-sandbox configuration that passes Validate: everything as in
// production, except environment: development for the demo connector.
func validConfig(t *testing.T) *Config {
	t.Helper()
	dir, res := pkiDir(t)
	p := func(name string) string { return filepath.Join(dir, "pki", name) }
	mtls, _ := res.Cert("paynet-mtls")
	cfg, err := Load("", envMap(map[string]string{
		"OFPDP_DATABASE_URL":                     filepath.Join(dir, "ofpdp.db"),
		"OFPDP_TLS_CERT_FILE":                    p("dp-server.crt"),
		"OFPDP_TLS_KEY_FILE":                     p("dp-server.key"),
		"OFPDP_PAYNET_CA_FILE":                   p("ca.crt"),
		"OFPDP_PAYNET_JWKS_FILE":                 p("paynet.jwks.json"),
		"OFPDP_PAYNET_CLIENT_CERT_FINGERPRINTS":  mtls.Fingerprint,
		"OFPDP_KEYS_SIGNING_KEY_FILE":            p("dp-sig.key"),
		"OFPDP_KEYS_SIGNING_CERT_FILE":           p("dp-sig.crt"),
		"OFPDP_KEYS_MTLS_CERT_FILE":              p("dp-mtls.crt"),
		"OFPDP_KEYS_MTLS_KEY_FILE":               p("dp-mtls.key"),
		"OFPDP_SECRETS_SERVER_SECRET_FILE":       filepath.Join(dir, "server.secret"),
		"OFPDP_OPS_ADMIN_TOKEN_FILE":             filepath.Join(dir, "admin.token"),
		"OFPDP_AUTHORIZE_REDIRECT_URI_ALLOWLIST": "https://localhost:8445/v1/callback",
		"OFPDP_DP_ID":                            "DP9876543210",
		"OFPDP_PAYNET_ISSUER":                    "paynet",
		"OFPDP_PAYNET_CONSENT_BASE_URL":          "https://ofp.paynet.example",
		"OFPDP_PAYNET_DC_JWKS_URL_TEMPLATE":      "https://ofp.paynet.example/v1/jwks/{dc_id}",
		// The demo connector is the only one built, and it needs a development deployment;
		// TestValidateProduction turns production on.
		"OFPDP_ENVIRONMENT": "development",
	}))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestValidateOK(t *testing.T) {
	cfg := validConfig(t)
	if err := cfg.Validate(); err != nil {
		t.Fatalf("valid configuration refused:\n%v", err)
	}
	sandbox, err := Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	sandbox.Sandbox = true
	sandbox.Environment = EnvironmentDevelopment // as `ofpdp sandbox` sets it
	dir, _ := pkiDir(t)
	// The defaults point into pki/ of the working directory, as `ofpdp sandbox` lays it out.
	t.Chdir(dir)
	sandbox.Database.URL = "file:ofpdp.db?_pragma=journal_mode(WAL)"
	sandbox.Web.InsecureHTTP = true
	sandbox.Web.PublicURL = "http://localhost:8444"
	if err := sandbox.Validate(); err != nil {
		t.Fatalf("sandbox defaults refused:\n%v", err)
	}
}

func TestValidateRules(t *testing.T) {
	dir, _ := pkiDir(t)
	missing := filepath.Join(dir, "nope.pem")
	p := func(name string) string { return filepath.Join(dir, "pki", name) }
	tests := []struct {
		name     string
		mutate   func(c *Config)
		want     string // one line of the error, exactly
		sentinel error
	}{
		{"dp_id empty", func(c *Config) { c.DPID = "" }, `OFPDP_DP_ID (dp_id): must be set; example: "DP9876543210"`, ErrRequired},
		{"dp_id too long", func(c *Config) { c.DPID = strings.Repeat("D", 65) }, `OFPDP_DP_ID (dp_id): "` + strings.Repeat("D", 65) + `" is longer than 64 characters; example: "DP9876543210"`, ErrInvalidValue},
		{"dp_id characters", func(c *Config) { c.DPID = "DP 1" }, `OFPDP_DP_ID (dp_id): "DP 1" may hold only letters, digits, '.', '_' and '-'; example: "DP9876543210"`, ErrInvalidValue},
		{"profile", func(c *Config) { c.Profile = "v2" }, `OFPDP_PROFILE (profile): "v2" is not one of v1.2.1; example: "v1.2.1"`, ErrInvalidValue},
		{"oidc profile not built yet", func(c *Config) { c.Profile = "oidc" }, `OFPDP_PROFILE (profile): "oidc" is not one of v1.2.1; example: "v1.2.1"`, ErrInvalidValue},
		{"log level", func(c *Config) { c.Log.Level = "loud" }, `OFPDP_LOG_LEVEL (log.level): "loud" is not one of debug, info, warn, error; example: "info"`, ErrInvalidValue},
		{"log format", func(c *Config) { c.Log.Format = "xml" }, `OFPDP_LOG_FORMAT (log.format): "xml" is not one of json, text; example: "json"`, ErrInvalidValue},
		{"database dir", func(c *Config) { c.Database.URL = filepath.Join(dir, "no-dir", "x.db") }, `OFPDP_DATABASE_URL (database.url): "` + filepath.Join(dir, "no-dir", "x.db") + `" names a file in "` + filepath.Join(dir, "no-dir") + `", which is not an existing directory; example: "ofpdp.db"`, ErrFile},
		{"postgres URL", func(c *Config) { c.Database.URL = "postgres://u:pw@/db" }, `OFPDP_DATABASE_URL (database.url): "postgres://u:xxxxx@/db" is not a valid PostgreSQL URL; example: "ofpdp.db"`, ErrInvalidValue},
		{"pool", func(c *Config) { c.Database.MaxOpenConns = 0 }, `OFPDP_DATABASE_MAX_OPEN_CONNS (database.max_open_conns): "0" must be at least 1; example: "10"`, ErrInvalidValue},
		{"api addr", func(c *Config) { c.API.Addr = "abc" }, `OFPDP_API_ADDR (api.addr): "abc" is not a host:port address; example: ":8443"`, ErrInvalidValue},
		{"api port", func(c *Config) { c.API.Addr = ":70000" }, `OFPDP_API_ADDR (api.addr): ":70000" is not a host:port address; example: ":8443"`, ErrInvalidValue},
		{"body size", func(c *Config) { c.API.MaxBodyBytes = 10 }, `OFPDP_API_MAX_BODY_BYTES (api.max_body_bytes): "10" must be at least 1024; example: "1048576"`, ErrInvalidValue},
		{"timeout zero", func(c *Config) { c.API.ReadTimeout = 0 }, `OFPDP_API_READ_TIMEOUT (api.read_timeout): "0s" must be a positive duration; example: "10s"`, ErrInvalidValue},
		{"timeout negative", func(c *Config) { c.API.IdleTimeout = -time.Second }, `OFPDP_API_IDLE_TIMEOUT (api.idle_timeout): "-1s" must be a positive duration; example: "60s"`, ErrInvalidValue},
		{"cert header name", func(c *Config) { c.API.ClientCertHeader = "X Cert"; c.API.TrustedProxies = []string{"10.0.0.1"} }, `OFPDP_API_CLIENT_CERT_HEADER (api.client_cert_header): "X Cert" is not a valid HTTP header name; example: "X-Client-Cert"`, ErrInvalidValue},
		{"cert header without proxies", func(c *Config) { c.API.ClientCertHeader = "X-Client-Cert" }, `OFPDP_API_TRUSTED_PROXIES (api.trusted_proxies): must list the proxies allowed to send api.client_cert_header; example: "10.0.0.0/8,192.0.2.7"`, ErrRequired},
		{"bad proxy", func(c *Config) { c.API.TrustedProxies = []string{"10.0.0.0/8", "proxy.internal"} }, `OFPDP_API_TRUSTED_PROXIES (api.trusted_proxies[1]): "proxy.internal" is neither a CIDR nor an IP address; example: "10.0.0.0/8,192.0.2.7"`, ErrInvalidValue},
		{"web public url http", func(c *Config) { c.Web.PublicURL = "http://bank.example" }, `OFPDP_WEB_PUBLIC_URL (web.public_url): "http://bank.example" must use https (http only in the sandbox); example: "https://localhost:8444"`, ErrInvalidValue},
		{"web public url relative", func(c *Config) { c.Web.PublicURL = "/login" }, `OFPDP_WEB_PUBLIC_URL (web.public_url): "/login" is not an absolute URL; example: "https://localhost:8444"`, ErrInvalidValue},
		{"insecure http outside sandbox", func(c *Config) { c.Web.InsecureHTTP = true }, `OFPDP_WEB_INSECURE_HTTP (web.insecure_http): "true" is allowed only in the sandbox, or behind a TLS-terminating front end named in web.trusted_proxies; example: "false"`, ErrInvalidValue},
		{"hard lock below max failures", func(c *Config) { c.Authorize.LoginHardLockFailures = 3 }, `OFPDP_AUTHORIZE_LOGIN_HARD_LOCK_FAILURES (authorize.login_hard_lock_failures): "3" must be at least 5; example: "20"`, ErrInvalidValue},
		{"login window a day", func(c *Config) { c.Authorize.LoginLockout = 24 * time.Hour }, `OFPDP_AUTHORIZE_LOGIN_LOCKOUT (authorize.login_lockout): "24h0m0s" must be at most 23h59m59s; example: "15m"`, ErrInvalidValue},
		{"bad web proxy", func(c *Config) { c.Web.TrustedProxies = []string{"lb.internal"} }, `OFPDP_WEB_TRUSTED_PROXIES (web.trusted_proxies[0]): "lb.internal" is neither a CIDR nor an IP address; example: "10.0.0.0/8,192.0.2.7"`, ErrInvalidValue},
		{"web client rate zero", func(c *Config) { c.Web.RateLimitPerClientPerMinute = 0 }, `OFPDP_WEB_RATE_LIMIT_PER_CLIENT_PER_MINUTE (web.rate_limit_per_client_per_minute): "0" must be at least 1; example: "300"`, ErrInvalidValue},
		{"apple app id", func(c *Config) { c.Web.AppleAppIDs = []string{"my.bank.mobile"} }, `OFPDP_WEB_APPLE_APP_IDS (web.apple_app_ids[0]): "my.bank.mobile" is not <Team ID>.<bundle id> (ten capital letters or digits, a dot, the bundle id); example: "ABCDE12345.my.bank.mobile"`, ErrInvalidValue},
		{"android package alone", func(c *Config) { c.Web.AndroidPackage = "my.bank.mobile" }, `OFPDP_WEB_ANDROID_CERT_FINGERPRINTS (web.android_cert_fingerprints): must be set when web.android_package is set; example: "14:6D:E9:…(32 bytes)"`, ErrRequired},
		{"android fingerprints alone", func(c *Config) { c.Web.AndroidCertFingerprints = []string{strings.Repeat("ab", 32)} }, `OFPDP_WEB_ANDROID_PACKAGE (web.android_package): must be set when web.android_cert_fingerprints is set; example: "my.bank.mobile"`, ErrRequired},
		{"android package name", func(c *Config) {
			c.Web.AndroidPackage, c.Web.AndroidCertFingerprints = "bank", []string{strings.Repeat("ab", 32)}
		}, `OFPDP_WEB_ANDROID_PACKAGE (web.android_package): "bank" is not an Android package name (letters, digits and '_' in two or more dot-separated parts); example: "my.bank.mobile"`, ErrInvalidValue},
		{"android fingerprint", func(c *Config) {
			c.Web.AndroidPackage, c.Web.AndroidCertFingerprints = "my.bank.mobile", []string{"AB:CD"}
		}, `OFPDP_WEB_ANDROID_CERT_FINGERPRINTS (web.android_cert_fingerprints[0]): "AB:CD" is not a SHA-256 fingerprint (32 hex bytes, colons allowed); example: "14:6D:E9:…(32 bytes)"`, ErrInvalidValue},
		{"second factor", func(c *Config) { c.Authn.SecondFactor = "sms" }, `OFPDP_AUTHN_SECOND_FACTOR (authn.second_factor): "sms" is not one of otp, app; example: "otp"`, ErrInvalidValue},
		{"sessions per consent zero", func(c *Config) { c.Authorize.SessionsPerConsent = 0 }, `OFPDP_AUTHORIZE_SESSIONS_PER_CONSENT (authorize.sessions_per_consent): "0" must be at least 1; example: "20"`, ErrInvalidValue},
		{"ops addr", func(c *Config) { c.Ops.Addr = "localhost" }, `OFPDP_OPS_ADDR (ops.addr): "localhost" is not a host:port address; example: "127.0.0.1:9090"`, ErrInvalidValue},
		{"admin token missing", func(c *Config) { c.Ops.AdminTokenFile = missing }, `OFPDP_OPS_ADMIN_TOKEN_FILE (ops.admin_token_file): "` + missing + `" does not exist; example: "/etc/ofpdp/admin.token"`, ErrFile},
		{"admin tokens file unparsable", func(c *Config) { c.Ops.AdminTokensFile = writeFile(t, "tokens.json", `[{"name":"a b"}]`) }, `" ops: invalid operator tokens file: entry 0: name must be 1–64 letters, digits, . _ @ -; example: "/etc/ofpdp/admin-tokens.json"`, ErrFile},
		{"admin token short", func(c *Config) { c.Ops.AdminTokenFile = writeFile(t, "short.token", "tok-0123\n") }, `" must hold one word of at least 32 characters; example: "/etc/ofpdp/admin.token"`, ErrFile},
		{"tls cert missing", func(c *Config) { c.TLS.CertFile = missing }, `OFPDP_TLS_CERT_FILE (tls.cert_file): "` + missing + `" does not exist; example: "pki/dp-server.crt"`, ErrFile},
		{"tls cert empty", func(c *Config) { c.TLS.CertFile = "" }, `OFPDP_TLS_CERT_FILE (tls.cert_file): must be set; example: "pki/dp-server.crt"`, ErrRequired},
		{"tls cert is a directory", func(c *Config) { c.TLS.CertFile = dir }, `OFPDP_TLS_CERT_FILE (tls.cert_file): "` + dir + `" is a directory, want a file; example: "pki/dp-server.crt"`, ErrFile},
		{"tls key mismatch", func(c *Config) { c.TLS.KeyFile = p("dp-mtls.key") }, `OFPDP_TLS_CERT_FILE (tls.cert_file): "` + p("dp-server.crt") + `" cannot be used with tls.key_file: tls: private key does not match public key; example: "pki/dp-server.crt"`, ErrFile},
		{"tls cert is a client cert", func(c *Config) { c.TLS.CertFile, c.TLS.KeyFile = p("dp-mtls.crt"), p("dp-mtls.key") }, `OFPDP_TLS_CERT_FILE (tls.cert_file): "` + p("dp-mtls.crt") + `" certificate lacks the serverAuth extended key usage; example: "pki/dp-server.crt"`, ErrFile},
		{"mtls cert is a server cert", func(c *Config) { c.Keys.MTLSCertFile, c.Keys.MTLSKeyFile = p("dp-server.crt"), p("dp-server.key") }, `OFPDP_KEYS_MTLS_CERT_FILE (keys.mtls_cert_file): "` + p("dp-server.crt") + `" certificate lacks the clientAuth extended key usage; example: "pki/dp-mtls.crt"`, ErrFile},
		{"ca file not PEM", func(c *Config) { c.PayNet.CAFile = p("dp-sig.key") }, `OFPDP_PAYNET_CA_FILE (paynet.ca_file): "` + p("dp-sig.key") + `" does not hold PEM certificates: ` + p("dp-sig.key") + `: jose: no certificate in PEM; example: "pki/ca.crt"`, ErrFile},
		{"fingerprint", func(c *Config) { c.PayNet.ClientCertFingerprints = []string{"abcd"} }, `OFPDP_PAYNET_CLIENT_CERT_FINGERPRINTS (paynet.client_cert_fingerprints[0]): "abcd" is not a SHA-256 fingerprint (64 hex digits, colons allowed); example: "3f1c…(64 hex digits)"`, ErrInvalidValue},
		{"subject", func(c *Config) { c.PayNet.ClientCertSubjects = []string{"PayNet"} }, `OFPDP_PAYNET_CLIENT_CERT_SUBJECTS (paynet.client_cert_subjects[0]): "PayNet" is not a certificate subject such as CN=…,O=…; example: "CN=ofp.paynet.my,O=PayNet"`, ErrInvalidValue},
		{"no client allow-list", func(c *Config) { c.PayNet.ClientCertFingerprints = nil }, `OFPDP_PAYNET_CLIENT_CERT_FINGERPRINTS (paynet.client_cert_fingerprints): must be set (or paynet.client_cert_subjects; required outside the sandbox, design §2); example: "3f1c…(64 hex digits)"`, ErrRequired},
		{"no JWKS", func(c *Config) { c.PayNet.JWKSFile = "" }, `OFPDP_PAYNET_JWKS_URL (paynet.jwks_url): must be set (or paynet.jwks_file); example: "https://ofp.paynet.my/.well-known/jwks.json"`, ErrRequired},
		{"JWKS file not a JWKS", func(c *Config) { c.PayNet.JWKSFile = p("ca.crt") }, `OFPDP_PAYNET_JWKS_FILE (paynet.jwks_file): "` + p("ca.crt") + `" is not a usable JWKS: jose: invalid JWKS: `, ErrFile},
		{"JWKS URL http", func(c *Config) { c.PayNet.JWKSURL = "http://pn.example/jwks" }, `OFPDP_PAYNET_JWKS_URL (paynet.jwks_url): "http://pn.example/jwks" must use https (http only in the sandbox); example: "https://ofp.paynet.my/.well-known/jwks.json"`, ErrInvalidValue},
		{"JWKS cache above 15m", func(c *Config) { c.PayNet.JWKSCacheTTL = 16 * time.Minute }, `OFPDP_PAYNET_JWKS_CACHE_TTL (paynet.jwks_cache_ttl): "16m0s" must be at most 15m; example: "15m"`, ErrInvalidValue},
		{"consent base url", func(c *Config) { c.PayNet.ConsentBaseURL = "ftp://pn.example" }, `OFPDP_PAYNET_CONSENT_BASE_URL (paynet.consent_base_url): "ftp://pn.example" must use https; example: "https://ofp.paynet.my"`, ErrInvalidValue},
		{"consent base url with user", func(c *Config) { c.PayNet.ConsentBaseURL = "https://u:p@pn.example" }, `OFPDP_PAYNET_CONSENT_BASE_URL (paynet.consent_base_url): "https://u:p@pn.example" must not carry user information; example: "https://ofp.paynet.my"`, ErrInvalidValue},
		{"dc jwks template", func(c *Config) { c.PayNet.DCJWKSURLTemplate = "https://pn.example/jwks" }, `OFPDP_PAYNET_DC_JWKS_URL_TEMPLATE (paynet.dc_jwks_url_template): "https://pn.example/jwks" must contain {dc_id}; example: "https://ofp.paynet.my/v1/jwks/{dc_id}"`, ErrInvalidValue},
		{"patch attempts", func(c *Config) { c.PayNet.PatchMaxAttempts = 11 }, `OFPDP_PAYNET_PATCH_MAX_ATTEMPTS (paynet.patch_max_attempts): "11" must be between 1 and 10; example: "3"`, ErrInvalidValue},
		{"outbox interval zero", func(c *Config) { c.PayNet.OutboxInterval = 0 }, `OFPDP_PAYNET_OUTBOX_INTERVAL (paynet.outbox_interval): "0s" must be a positive duration; example: "30s"`, ErrInvalidValue},
		{"outbox interval below 1s", func(c *Config) { c.PayNet.OutboxInterval = 500 * time.Millisecond }, `OFPDP_PAYNET_OUTBOX_INTERVAL (paynet.outbox_interval): "500ms" must be at least 1s; example: "30s"`, ErrInvalidValue},
		{"outbox interval above 1h", func(c *Config) { c.PayNet.OutboxInterval = time.Hour + time.Second }, `OFPDP_PAYNET_OUTBOX_INTERVAL (paynet.outbox_interval): "1h0m1s" must be at most 1h; example: "30s"`, ErrInvalidValue},
		{"outbox attempts zero", func(c *Config) { c.PayNet.OutboxMaxAttempts = 0 }, `OFPDP_PAYNET_OUTBOX_MAX_ATTEMPTS (paynet.outbox_max_attempts): "0" must be between 1 and 100; example: "10"`, ErrInvalidValue},
		{"outbox attempts above 100", func(c *Config) { c.PayNet.OutboxMaxAttempts = 101 }, `OFPDP_PAYNET_OUTBOX_MAX_ATTEMPTS (paynet.outbox_max_attempts): "101" must be between 1 and 100; example: "10"`, ErrInvalidValue},
		{"revoke method", func(c *Config) { c.PayNet.RevokeMethod = "DELETE" }, `OFPDP_PAYNET_REVOKE_METHOD (paynet.revoke_method): "DELETE" is not one of POST, PATCH; example: "POST"`, ErrInvalidValue},
		{"revoke path without consent_id", func(c *Config) { c.PayNet.RevokePath = "/v1/revoke" }, `OFPDP_PAYNET_REVOKE_PATH (paynet.revoke_path): "/v1/revoke" must start with / and contain {consent_id} once, without query or fragment; example: "/v1/consents/{consent_id}"`, ErrInvalidValue},
		{"revoke body not JSON", func(c *Config) { c.PayNet.RevokeBody = `{"status":` }, `OFPDP_PAYNET_REVOKE_BODY (paynet.revoke_body): "{\"status\":" must be a JSON object once {consent_id}, {reason_code} and {reason_description} are filled in; example: "{\"status\":\"revoked\",\"status_reason\":{\"reason_code\":\"{reason_code}\",\"reason_description\":\"{reason_description}\"}}"`, ErrInvalidValue},
		{"revoke reason code", func(c *Config) { c.PayNet.RevokeReasonCode = "not allowed" }, `OFPDP_PAYNET_REVOKE_REASON_CODE (paynet.revoke_reason_code): "not allowed" must be a reason code of spec §5.1; example: "not_allowed"`, ErrInvalidValue},
		{"expiry interval below 1m", func(c *Config) { c.Expiry.Interval = time.Second }, `OFPDP_EXPIRY_INTERVAL (expiry.interval): "1s" must be at least 1m; example: "5m"`, ErrInvalidValue},
		{"expiry batch", func(c *Config) { c.Expiry.BatchSize = 0 }, `OFPDP_EXPIRY_BATCH_SIZE (expiry.batch_size): "0" must be between 1 and 1000; example: "500"`, ErrInvalidValue},
		{"signing key mismatch", func(c *Config) { c.Keys.SigningKeyFile = p("dc-sig.key") }, `OFPDP_KEYS_SIGNING_KEY_FILE (keys.signing_key_file): "` + p("dc-sig.key") + `" cannot sign with keys.signing_cert_file: `, ErrFile},
		{"signing cert missing", func(c *Config) { c.Keys.SigningCertFile = missing }, `OFPDP_KEYS_SIGNING_CERT_FILE (keys.signing_cert_file): "` + missing + `" does not exist; example: "pki/dp-sig.crt"`, ErrFile},
		{"secret required", func(c *Config) { c.Secrets.ServerSecretFile = "" }, `OFPDP_SECRETS_SERVER_SECRET_FILE (secrets.server_secret_file): must be set (required outside the sandbox); example: "/etc/ofpdp/server.secret"`, ErrRequired},
		{"secret too short", func(c *Config) { c.Secrets.ServerSecretFile = writeFile(t, "short.secret", "0123456789\n") }, `" holds 10 bytes, need at least 32; example: "/etc/ofpdp/server.secret"`, ErrFile},
		{"allow-list required", func(c *Config) { c.Authorize.RedirectURIAllowlist = nil }, `OFPDP_AUTHORIZE_REDIRECT_URI_ALLOWLIST (authorize.redirect_uri_allowlist): must be set (required outside the sandbox); example: "https://ofp.paynet.my/callback"`, ErrRequired},
		{"allow-list entry", func(c *Config) {
			c.Authorize.RedirectURIAllowlist = []string{"https://ok.example/cb", "https://x.example/cb#frag"}
		}, `OFPDP_AUTHORIZE_REDIRECT_URI_ALLOWLIST (authorize.redirect_uri_allowlist[1]): "https://x.example/cb#frag" must not carry a #fragment; example: "https://ofp.paynet.my/callback"`, ErrInvalidValue},
		{"login failures", func(c *Config) { c.Authorize.LoginMaxFailures = 0 }, `OFPDP_AUTHORIZE_LOGIN_MAX_FAILURES (authorize.login_max_failures): "0" must be at least 1; example: "5"`, ErrInvalidValue},
		{"id_token ttl", func(c *Config) { c.IDToken.TTL = 2 * time.Hour }, `OFPDP_ID_TOKEN_TTL (id_token.ttl): "2h0m0s" must be at most 1h; example: "10m"`, ErrInvalidValue},
		{"id_token issuer", func(c *Config) { c.IDToken.Issuer = "" }, `OFPDP_ID_TOKEN_ISSUER (id_token.issuer): must be set; example: "https://localhost:8444"`, ErrRequired},
		{"connector", func(c *Config) { c.Bank.Connector = "soap" }, `OFPDP_BANK_CONNECTOR (bank.connector): "soap" is not one of demo, http; example: "demo"`, ErrInvalidValue},
		{"bank data file", func(c *Config) { c.Bank.DataFile = missing }, `OFPDP_BANK_DATA_FILE (bank.data_file): "` + missing + `" does not exist; example: "bank-data.json"`, ErrFile},
		{"bank timeout at 5s", func(c *Config) { c.Bank.Timeout = 5 * time.Second }, `OFPDP_BANK_TIMEOUT (bank.timeout): "5s" must be below PayNet's 5s deadline (spec §7.1); example: "4s"`, ErrInvalidValue},
		{"bank in-flight zero", func(c *Config) { c.Bank.MaxInFlight = 0 }, `OFPDP_BANK_MAX_IN_FLIGHT (bank.max_in_flight): "0" must be between 1 and 10000; example: "64"`, ErrInvalidValue},
		{"history", func(c *Config) { c.Data.HistoryMonths = 0 }, `OFPDP_DATA_HISTORY_MONTHS (data.history_months): "0" must be between 1 and 120; example: "12"`, ErrInvalidValue},
		{"rate limit", func(c *Config) { c.Data.RateLimitPerMinute = -1 }, `OFPDP_DATA_RATE_LIMIT_PER_MINUTE (data.rate_limit_per_minute): "-1" must be at least 1; example: "200"`, ErrInvalidValue},
		{"rate limit per consent", func(c *Config) { c.Data.RateLimitPerConsentPerMinute = 0 }, `OFPDP_DATA_RATE_LIMIT_PER_CONSENT_PER_MINUTE (data.rate_limit_per_consent_per_minute): "0" must be at least 1; example: "60"`, ErrInvalidValue},
		{"dc jwks cache", func(c *Config) { c.Data.DCJWKSCacheTTL = time.Hour }, `OFPDP_DATA_DC_JWKS_CACHE_TTL (data.dc_jwks_cache_ttl): "1h0m0s" must be at most 15m; example: "15m"`, ErrInvalidValue},
		{"audit retention zero", func(c *Config) { c.Retention.Audit = 0 }, `OFPDP_RETENTION_AUDIT (retention.audit): "0s" must be a positive duration; example: "61320h"`, ErrInvalidValue},
		{"consent history below a day", func(c *Config) { c.Retention.ConsentHistory = time.Hour }, `OFPDP_RETENTION_CONSENT_HISTORY (retention.consent_history): "1h0m0s" must be at least 24h; example: "61320h"`, ErrInvalidValue},
		{"outbound calls negative", func(c *Config) { c.Retention.OutboundCalls = -time.Hour }, `OFPDP_RETENTION_OUTBOUND_CALLS (retention.outbound_calls): "-1h0m0s" must be a positive duration; example: "8760h"`, ErrInvalidValue},
		{"outbox below a day", func(c *Config) { c.Retention.Outbox = time.Minute }, `OFPDP_RETENTION_OUTBOX (retention.outbox): "1m0s" must be at least 24h; example: "2160h"`, ErrInvalidValue},
		{"sessions below an hour", func(c *Config) { c.Retention.Sessions = time.Minute }, `OFPDP_RETENTION_SESSIONS (retention.sessions): "1m0s" must be at least 1h (a late request is still sent back to PayNet); example: "24h"`, ErrInvalidValue},
		{"purge interval below a minute", func(c *Config) { c.Retention.Interval = time.Second }, `OFPDP_RETENTION_INTERVAL (retention.interval): "1s" must be at least 1m; example: "1h"`, ErrInvalidValue},
		{"purge interval above a day", func(c *Config) { c.Retention.Interval = 25 * time.Hour }, `OFPDP_RETENTION_INTERVAL (retention.interval): "25h0m0s" must be at most 24h; example: "1h"`, ErrInvalidValue},
		{"purge batch zero", func(c *Config) { c.Retention.BatchSize = 0 }, `OFPDP_RETENTION_BATCH_SIZE (retention.batch_size): "0" must be between 1 and 100000; example: "1000"`, ErrInvalidValue},
		{"tracing percentage", func(c *Config) { c.Tracing.SamplePercent = 101 }, `OFPDP_TRACING_SAMPLE_PERCENT (tracing.sample_percent): "101" must be between 0 and 100; example: "100"`, ErrInvalidValue},
		{"migrate mode", func(c *Config) { c.Database.Migrate = "sometimes" }, `OFPDP_DATABASE_MIGRATE (database.migrate): "sometimes" is not one of auto, check, off; example: "check"`, ErrInvalidValue},
		{"drain delay negative", func(c *Config) { c.Shutdown.DrainDelay = -time.Second }, `OFPDP_SHUTDOWN_DRAIN_DELAY (shutdown.drain_delay): "-1s" must be between 0s and 5m; example: "10s"`, ErrInvalidValue},
		{"shutdown timeout too short", func(c *Config) { c.Shutdown.Timeout = time.Millisecond }, `OFPDP_SHUTDOWN_TIMEOUT (shutdown.timeout): "1ms" must be at least 1s; example: "15s"`, ErrInvalidValue},
		{"bank name", func(c *Config) { c.Branding.BankName = " " }, `OFPDP_BRANDING_BANK_NAME (branding.bank_name): must be set; example: "Demo Bank Berhad"`, ErrRequired},
		{"logo type", func(c *Config) { c.Branding.LogoFile = p("ca.crt") }, `OFPDP_BRANDING_LOGO_FILE (branding.logo_file): "` + p("ca.crt") + `" is not an .svg, .png or .jpg image; example: "logo.svg"`, ErrInvalidValue},
		{"colour", func(c *Config) { c.Branding.PrimaryColor = "blue" }, `OFPDP_BRANDING_PRIMARY_COLOR (branding.primary_color): "blue" is not a #rrggbb colour; example: "#0b5394"`, ErrInvalidValue},
		{"dc without id", func(c *Config) { c.DCs = []DC{{Name: "A"}} }, `dcs[0].id: must be set`, ErrRequired},
		{"dc twice", func(c *Config) { c.DCs = []DC{{ID: "a", Name: "A"}, {ID: "a", Name: "B"}} }, `dcs[1].id: "a" is listed twice`, ErrInvalidValue},
		{"dc without name", func(c *Config) { c.DCs = []DC{{ID: "a"}} }, `dcs[0].name: must be set`, ErrRequired},
		{"dc logo http", func(c *Config) { c.DCs = []DC{{ID: "a", Name: "A", LogoURL: "http://a.example/l.png"}} }, `dcs[0].logo_url: "http://a.example/l.png" must use https (http only in the sandbox); example: "https://dc.example/logo.png"`, ErrInvalidValue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := validConfig(t)
			tt.mutate(cfg)
			err := cfg.Validate()
			if err == nil {
				t.Fatal("Validate accepted the configuration")
			}
			lines := strings.Split(err.Error(), "\n")
			found := false
			for _, l := range lines {
				// A want ending in ": " leaves the rest (a library's message) open;
				// one starting with `" ` is the end of a line whose path varies.
				switch {
				case strings.HasSuffix(tt.want, ": "):
					found = found || strings.HasPrefix(l, tt.want)
				case strings.HasPrefix(tt.want, `" `):
					found = found || strings.HasSuffix(l, tt.want)
				default:
					found = found || l == tt.want
				}
			}
			if !found {
				t.Errorf("error lacks the line\n  %s\ngot:\n  %s", tt.want, strings.Join(lines, "\n  "))
			}
			if len(lines) != 1 {
				t.Errorf("want exactly one problem, got %d:\n  %s", len(lines), strings.Join(lines, "\n  "))
			}
			if !errors.Is(err, tt.sentinel) {
				t.Errorf("errors.Is(%v) = false", tt.sentinel)
			}
		})
	}
}

// The bounds of the outbox keys are inclusive.
func TestValidateOutboxBounds(t *testing.T) {
	for _, b := range []struct {
		interval time.Duration
		attempts int
	}{{time.Second, 1}, {time.Hour, 100}} {
		cfg := validConfig(t)
		cfg.PayNet.OutboxInterval, cfg.PayNet.OutboxMaxAttempts = b.interval, b.attempts
		if err := cfg.Validate(); err != nil {
			t.Errorf("outbox_interval %v, outbox_max_attempts %d refused:\n%v", b.interval, b.attempts, err)
		}
	}
	cfg, err := Load("", envMap(map[string]string{"OFPDP_PAYNET_OUTBOX_INTERVAL": "2m", "OFPDP_PAYNET_OUTBOX_MAX_ATTEMPTS": "25"}))
	if err != nil || cfg.PayNet.OutboxInterval != 2*time.Minute || cfg.PayNet.OutboxMaxAttempts != 25 {
		t.Fatalf("outbox keys from the environment: %+v %v", cfg.PayNet, err)
	}
}

func TestValidateReportsEverything(t *testing.T) {
	cfg := validConfig(t)
	cfg.DPID = ""
	cfg.API.Addr = "abc"
	cfg.Bank.Timeout = 6 * time.Second
	cfg.Branding.PrimaryColor = "red"
	err := cfg.Validate()
	var es Errors
	if !errors.As(err, &es) || len(es) != 4 {
		t.Fatalf("want 4 problems, got %v", err)
	}
	for i, key := range []string{"dp_id", "api.addr", "bank.timeout", "branding.primary_color"} {
		if es[i].Key != key {
			t.Errorf("problem %d is about %s, want %s (declaration order)", i, es[i].Key, key)
		}
	}
}

func TestValidateSandbox(t *testing.T) {
	cfg := validConfig(t)
	cfg.Sandbox = true
	cfg.Secrets.ServerSecretFile = ""
	cfg.Authorize.RedirectURIAllowlist = []string{"http://localhost:9000/cb"}
	cfg.PayNet.ClientCertFingerprints = nil
	cfg.Web.InsecureHTTP = true
	cfg.Web.PublicURL = "http://localhost:8444"
	cfg.PayNet.ConsentBaseURL = "http://127.0.0.1:8445"
	cfg.IDToken.Issuer = "http://localhost:8444"
	if err := cfg.Validate(); err != nil {
		t.Fatalf("sandbox relaxations refused:\n%v", err)
	}
	if _, err := cfg.ServerSecret(); !errors.Is(err, ErrNoServerSecret) {
		t.Errorf("ServerSecret without file = %v, want ErrNoServerSecret", err)
	}
	// http for the web listener only together with insecure_http.
	cfg.Web.InsecureHTTP = false
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "web.public_url") {
		t.Errorf("http public_url without insecure_http: %v", err)
	}
}

func TestValidateCertificateDates(t *testing.T) {
	cfg := validConfig(t)
	future := time.Now().AddDate(2, 0, 0)
	err := cfg.validate(future)
	if err == nil {
		t.Fatal("expired certificates accepted")
	}
	for _, key := range []string{"tls.cert_file", "keys.signing_cert_file", "keys.mtls_cert_file"} {
		if !strings.Contains(err.Error(), "("+key+`): "`) || !strings.Contains(err.Error(), "certificate expired on ") {
			t.Errorf("no expiry problem for %s:\n%v", key, err)
		}
	}
	if err := cfg.validate(time.Now().AddDate(0, 0, -1)); err == nil || !strings.Contains(err.Error(), "certificate is not valid before") {
		t.Errorf("not-yet-valid certificates: %v", err)
	}
}

func TestServerSecretAndAdminToken(t *testing.T) {
	cfg := validConfig(t)
	secret, err := cfg.ServerSecret()
	if err != nil || string(secret) != "0123456789abcdef0123456789abcdef" {
		t.Errorf("ServerSecret = %q, %v", secret, err)
	}
	tok, err := cfg.AdminToken()
	if err != nil || tok != "tok-0123456789abcdef0123456789abcdef" {
		t.Errorf("AdminToken = %q, %v", tok, err)
	}
	cfg.Ops.AdminTokenFile = ""
	if tok, err := cfg.AdminToken(); tok != "" || err != nil {
		t.Errorf("AdminToken without file = %q, %v; want disabled", tok, err)
	}
	cfg.Ops.AdminTokenFile = writeFile(t, "two-words", "0123456789abcdef 0123456789abcdef0123")
	if _, err := cfg.AdminToken(); err == nil {
		t.Error("a token with a space was accepted")
	}
	// Raw random bytes, including white space inside, are kept as they are.
	raw := "\x00\x01 \t" + strings.Repeat("\xff", 30)
	cfg.Secrets.ServerSecretFile = writeFile(t, "raw.secret", raw)
	if got, err := cfg.ServerSecret(); err != nil || string(got) != raw {
		t.Errorf("raw secret = %q, %v", got, err)
	}
}

func TestHelpers(t *testing.T) {
	prefixes, err := API{TrustedProxies: []string{"10.1.2.3/8", "192.0.2.7", "::ffff:192.0.2.8", "2001:db8::/32"}}.TrustedProxyPrefixes()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range prefixes {
		got = append(got, p.String())
	}
	if want := []string{"10.0.0.0/8", "192.0.2.7/32", "192.0.2.8/32", "2001:db8::/32"}; !reflect.DeepEqual(got, want) {
		t.Errorf("TrustedProxyPrefixes = %v, want %v", got, want)
	}
	p := PayNet{DCJWKSURLTemplate: "https://pn.example/v1/jwks/{dc_id}"}
	if got := p.DCJWKSURL("dc 1/x"); got != "https://pn.example/v1/jwks/dc%201%2Fx" {
		t.Errorf("DCJWKSURL = %q", got)
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		15 * time.Minute: "15m", 10 * time.Minute: "10m", time.Hour: "1h", 90 * time.Minute: "1h30m",
		4 * time.Second: "4s", 10 * time.Second: "10s", 500 * time.Millisecond: "500ms", 20 * time.Hour: "20h",
	} {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

// A private key, secret or token file that the group or others may read is refused, as ssh
// refuses such a private key, with a message naming the file and the chmod that fixes it.
func TestValidatePrivateFiles(t *testing.T) {
	dir, _ := pkiDir(t)
	p := func(name string) string { return filepath.Join(dir, "pki", name) }
	cases := []struct {
		key, env string
		src      string
		set      func(c *Config, path string)
	}{
		{"tls.key_file", "OFPDP_TLS_KEY_FILE", p("dp-server.key"), func(c *Config, f string) { c.TLS.KeyFile = f }},
		{"keys.signing_key_file", "OFPDP_KEYS_SIGNING_KEY_FILE", p("dp-sig.key"), func(c *Config, f string) { c.Keys.SigningKeyFile = f }},
		{"keys.mtls_key_file", "OFPDP_KEYS_MTLS_KEY_FILE", p("dp-mtls.key"), func(c *Config, f string) { c.Keys.MTLSKeyFile = f }},
		{"secrets.server_secret_file", "OFPDP_SECRETS_SERVER_SECRET_FILE", filepath.Join(dir, "server.secret"), func(c *Config, f string) { c.Secrets.ServerSecretFile = f }},
		{"ops.admin_token_file", "OFPDP_OPS_ADMIN_TOKEN_FILE", filepath.Join(dir, "admin.token"), func(c *Config, f string) { c.Ops.AdminTokenFile = f }},
	}
	for _, c := range cases {
		for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o660, 0o601} {
			t.Run(fmt.Sprintf("%s %04o", c.key, mode), func(t *testing.T) {
				b, err := os.ReadFile(c.src)
				if err != nil {
					t.Fatal(err)
				}
				path := filepath.Join(t.TempDir(), "private file")
				if err := os.WriteFile(path, b, 0o600); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(path, mode); err != nil {
					t.Fatal(err)
				}
				cfg := validConfig(t)
				c.set(cfg, path)
				err = cfg.Validate()
				want := fmt.Sprintf(`%s (%s): %q is accessible by group or others (mode %04o); it holds a private key, secret or token: run chmod 600 '%s'`,
					c.env, c.key, path, mode, path)
				if err == nil || !slices.Contains(strings.Split(err.Error(), "\n"), want) {
					t.Fatalf("Validate = %v\nwant the line %s", err, want)
				}
				if !errors.Is(err, ErrFile) {
					t.Errorf("%v does not wrap ErrFile", err)
				}
				if err := os.Chmod(path, 0o600); err != nil {
					t.Fatal(err)
				}
				if err := cfg.Validate(); err != nil {
					t.Fatalf("after chmod 600: %v", err)
				}
			})
		}
	}
}

// Outside a development deployment, what only makes a first start easy is refused, and
// --check-config (Validate) says so; with environment: development the same is accepted.
func TestValidateProduction(t *testing.T) {
	dir, _ := pkiDir(t)
	p := func(name string) string { return filepath.Join(dir, "pki", name) }
	const dev = " (allowed only with environment: development)"
	tests := []struct {
		name   string
		mutate func(c *Config)
		want   string // one line of the error in production; "" = no problem
		devOK  bool   // accepted with environment: development
	}{
		{"demo connector", func(c *Config) {}, `OFPDP_BANK_CONNECTOR (bank.connector): "demo" is the demo connector, which serves made-up customers` + dev + `; example: "demo"`, true},
		{"default dp_id", func(c *Config) { c.DPID = "DP0000000001" }, `OFPDP_DP_ID (dp_id): "DP0000000001" is the default dp_id; set the id PayNet assigned to this Data Provider` + dev + `; example: "DP9876543210"`, true},
		{"consent API on localhost", func(c *Config) { c.PayNet.ConsentBaseURL = "https://localhost:8445" }, `OFPDP_PAYNET_CONSENT_BASE_URL (paynet.consent_base_url): "https://localhost:8445" points at this machine, not at PayNet` + dev + `; example: "https://ofp.paynet.my"`, true},
		{"consent API on 127.0.0.1", func(c *Config) { c.PayNet.ConsentBaseURL = "https://127.0.0.1:8445" }, `OFPDP_PAYNET_CONSENT_BASE_URL (paynet.consent_base_url): "https://127.0.0.1:8445" points at this machine, not at PayNet` + dev + `; example: "https://ofp.paynet.my"`, true},
		{"DC JWKS on [::1]", func(c *Config) { c.PayNet.DCJWKSURLTemplate = "https://[::1]:8445/jwks/{dc_id}" }, `OFPDP_PAYNET_DC_JWKS_URL_TEMPLATE (paynet.dc_jwks_url_template): "https://[::1]:8445/jwks/{dc_id}" points at this machine, not at PayNet` + dev + `; example: "https://ofp.paynet.my/v1/jwks/{dc_id}"`, true},
		{"JWKS on sim.localhost", func(c *Config) { c.PayNet.JWKSURL = "https://sim.localhost/jwks" }, `OFPDP_PAYNET_JWKS_URL (paynet.jwks_url): "https://sim.localhost/jwks" points at this machine, not at PayNet` + dev + `; example: "https://ofp.paynet.my/.well-known/jwks.json"`, true},
		{"PayNet on a real host", func(c *Config) { c.PayNet.JWKSURL = "https://ofp.paynet.my/jwks" }, "", true},
		{"no PayNet issuer", func(c *Config) { c.PayNet.Issuer = "" }, `OFPDP_PAYNET_ISSUER (paynet.issuer): must be set (required outside the sandbox: without it a JWS with any or no iss is accepted, design §3.2); example: "paynet"`, false},
		{"unknown environment", func(c *Config) { c.Environment = "staging" }, `OFPDP_ENVIRONMENT (environment): "staging" is not one of production, development; example: "production"`, false},
		{"identity binding off", func(c *Config) { c.Authorize.RequireIdentityBinding = false }, `OFPDP_AUTHORIZE_REQUIRE_IDENTITY_BINDING (authorize.require_identity_binding): "false" may be false only with environment: development (the sandbox): without identity binding anyone who opens a consent link can approve it; example: "true"`, true},
		{"ops on all interfaces with the admin API", func(c *Config) { c.Ops.Addr = ":9090" }, `OFPDP_OPS_ADDR (ops.addr): ":9090" is not a loopback address while the admin API is on (ops.admin_token_file); set ops.tls_cert_file and ops.tls_key_file, or bind 127.0.0.1; example: "127.0.0.1:9090"`, false},
		{"ops on a private address with the admin API", func(c *Config) { c.Ops.Addr = "10.1.2.3:9090" }, `OFPDP_OPS_ADDR (ops.addr): "10.1.2.3:9090" is not a loopback address while the admin API is on (ops.admin_token_file); set ops.tls_cert_file and ops.tls_key_file, or bind 127.0.0.1; example: "127.0.0.1:9090"`, false},
		{"ops on a host name with the admin API", func(c *Config) { c.Ops.Addr = "ops.bank.internal:9090" }, `OFPDP_OPS_ADDR (ops.addr): "ops.bank.internal:9090" is not a loopback address while the admin API is on (ops.admin_token_file); set ops.tls_cert_file and ops.tls_key_file, or bind 127.0.0.1; example: "127.0.0.1:9090"`, false},
		{"ops on localhost with the admin API", func(c *Config) { c.Ops.Addr = "localhost:9090" }, "", true},
		{"ops on [::1] with the admin API", func(c *Config) { c.Ops.Addr = "[::1]:9090" }, "", true},
		{"ops on all interfaces without the admin API", func(c *Config) { c.Ops.Addr, c.Ops.AdminTokenFile = ":9090", "" }, "", true},
		{"ops on all interfaces with TLS", func(c *Config) {
			c.Ops.Addr, c.Ops.TLSCertFile, c.Ops.TLSKeyFile = ":9090", p("dp-server.crt"), p("dp-server.key")
		}, "", true},
		{"ops TLS without its key", func(c *Config) { c.Ops.TLSCertFile = p("dp-server.crt") }, `OFPDP_OPS_TLS_KEY_FILE (ops.tls_key_file): must be set; example: "/etc/ofpdp/pki/ops.key"`, false},
		{"ops TLS with a client certificate", func(c *Config) { c.Ops.TLSCertFile, c.Ops.TLSKeyFile = p("dp-mtls.crt"), p("dp-mtls.key") }, `OFPDP_OPS_TLS_CERT_FILE (ops.tls_cert_file): "` + p("dp-mtls.crt") + `" certificate lacks the serverAuth extended key usage; example: "/etc/ofpdp/pki/ops.crt"`, false},
	}
	for _, tt := range tests {
		for _, env := range []string{EnvironmentProduction, EnvironmentDevelopment} {
			t.Run(tt.name+" "+env, func(t *testing.T) {
				cfg := validConfig(t)
				cfg.Environment = env
				tt.mutate(cfg)
				production := !cfg.Development()
				var lines []string
				if err := cfg.Validate(); err != nil {
					lines = strings.Split(err.Error(), "\n")
				}
				// The demo connector is the only one there is, so production always reports it.
				demo := `OFPDP_BANK_CONNECTOR (bank.connector): "demo" is the demo connector, which serves made-up customers` + dev + `; example: "demo"`
				var want []string
				switch {
				case production && tt.want != "" && tt.want != demo:
					want = []string{tt.want, demo}
				case production:
					want = []string{demo}
				case !tt.devOK:
					want = []string{tt.want}
				}
				slices.Sort(lines)
				slices.Sort(want)
				if !slices.Equal(lines, want) {
					t.Fatalf("problems\n  %s\nwant\n  %s", strings.Join(lines, "\n  "), strings.Join(want, "\n  "))
				}
			})
		}
	}
}

func TestDevelopment(t *testing.T) {
	for env, want := range map[string]bool{"development": true, "production": false, "": false, "Development": false} {
		if got := (&Config{Environment: env}).Development(); got != want {
			t.Errorf("Development() with environment %q = %v", env, got)
		}
	}
}

// A production deployment with the http connector validates: it is what lets a bank go live
// (the demo connector is refused outside development). Its own settings are checked.
func TestValidateHTTPConnector(t *testing.T) {
	dir, _ := pkiDir(t)
	p := func(name string) string { return filepath.Join(dir, "pki", name) }
	tests := []struct {
		name   string
		mutate func(c *Config)
		want   string
	}{
		{"production with http", func(c *Config) {}, ""},
		{"mutual TLS", func(c *Config) {
			c.Bank.HTTPCAFile, c.Bank.HTTPCertFile, c.Bank.HTTPKeyFile = p("ca.crt"), p("dp-mtls.crt"), p("dp-mtls.key")
		}, ""},
		{"no base URL", func(c *Config) { c.Bank.HTTPBaseURL = "" }, `OFPDP_BANK_HTTP_BASE_URL (bank.http_base_url): must be set; example: "https://corebank.internal:9443/ofpdp"`},
		{"plain http in production", func(c *Config) { c.Bank.HTTPBaseURL = "http://corebank.internal/ofpdp" }, `OFPDP_BANK_HTTP_BASE_URL (bank.http_base_url): "http://corebank.internal/ofpdp" must use https (http only in the sandbox); example: "https://corebank.internal:9443/ofpdp"`},
		{"certificate without key", func(c *Config) { c.Bank.HTTPCertFile = p("dp-mtls.crt") }, `OFPDP_BANK_HTTP_CERT_FILE (bank.http_cert_file): "` + p("dp-mtls.crt") + `" and bank.http_key_file go together (mutual TLS to the adapter); example: "/etc/ofpdp/pki/corebank-client.crt"`},
		{"pool of zero", func(c *Config) { c.Bank.HTTPMaxConns = 0 }, `OFPDP_BANK_HTTP_MAX_CONNS (bank.http_max_conns): "0" must be between 1 and 10000; example: "64"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := validConfig(t)
			cfg.Environment = EnvironmentProduction
			cfg.Bank.Connector, cfg.Bank.HTTPBaseURL = "http", "https://corebank.internal:9443/ofpdp"
			tt.mutate(cfg)
			err := cfg.Validate()
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Fatalf("Validate() = %q\nwant %q", got, tt.want)
			}
		})
	}
}

// A Go connector registered by the build (connector.Register) is a valid bank.connector, in
// production too; an unregistered name is not.
func TestValidateRegisteredConnector(t *testing.T) {
	connector.Register("config-test-bank", func(context.Context, *slog.Logger) (connector.Connector, error) { return nil, nil })
	cfg := validConfig(t)
	cfg.Environment = EnvironmentProduction
	cfg.Bank.Connector = "config-test-bank"
	if err := cfg.Validate(); err != nil {
		t.Fatalf("registered connector refused: %v", err)
	}
	cfg.Bank.Connector = "config-test-other"
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), `"config-test-other" is not one of demo, http, config-test-bank`) {
		t.Fatalf("unregistered connector: %v", err)
	}
}

// TestMigrateMode: an empty database.migrate means auto in development and check otherwise,
// so a production runtime user never needs DDL rights unless asked.
func TestMigrateMode(t *testing.T) {
	for _, c := range []struct {
		set         string
		development bool
		want        string
	}{
		{"", false, MigrateCheck},
		{"", true, MigrateAuto},
		{MigrateOff, true, MigrateOff},
		{MigrateAuto, false, MigrateAuto},
	} {
		if got := (Database{Migrate: c.set}).MigrateMode(c.development); got != c.want {
			t.Errorf("MigrateMode(%q, development %v) = %q, want %q", c.set, c.development, got, c.want)
		}
	}
}

// TestInsecureHTTPBehindProxy: outside the sandbox a plain-HTTP web listener is accepted only
// with the TLS-terminating front end named in web.trusted_proxies, and public_url stays https.
func TestInsecureHTTPBehindProxy(t *testing.T) {
	cfg := validConfig(t)
	cfg.Web.InsecureHTTP = true
	cfg.Web.TrustedProxies = []string{"10.42.0.0/16"}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("insecure_http behind a trusted proxy refused:\n%v", err)
	}
	cfg.Web.PublicURL = "http://openfinance.bank.example"
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "web.public_url") {
		t.Errorf("http public_url behind a proxy: %v, want refused", err)
	}
}
