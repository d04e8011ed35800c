package config

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ofpdp/ofpdp/connector"
	"github.com/ofpdp/ofpdp/internal/keysource"
	"github.com/ofpdp/ofpdp/internal/mtls"
	"github.com/ofpdp/ofpdp/internal/ops"

	"github.com/ofpdp/ofpdp/internal/jose"
)

// Limits the rules of Validate enforce.
const (
	// MaxJWKSCacheTTL caps every JWKS cache (spec §4.2: cached ≤ 15 min).
	MaxJWKSCacheTTL = 15 * time.Minute
	// PayNetTimeout is PayNet's synchronous deadline for a DP answer (spec §7.1).
	PayNetTimeout = 5 * time.Second
	// MinSecretBytes is the least length of secrets.server_secret_file.
	MinSecretBytes = 32
	// MinAdminTokenChars is the least length of the ops admin token.
	MinAdminTokenChars = 32
	// MaxIDLength bounds dp_id and dc_id. Spec §2.1 documents 36 characters, but PayNet's own
	// v1.2.1 examples carry 39-character ids; internal/consent accepts up to 64 as well.
	MaxIDLength = 64
	// MinOutboxInterval and MaxOutboxInterval bound paynet.outbox_interval; MaxOutboxAttempts
	// bounds paynet.outbox_max_attempts.
	MinOutboxInterval = time.Second
	MaxOutboxInterval = time.Hour
	MaxOutboxAttempts = 100
	// MaxBankInFlight bounds bank.max_in_flight.
	MaxBankInFlight = 10000
	// Bounds of the retention keys: MinRetention for audit, consent history, outbound calls
	// and outbox; MinSessionRetention for sessions (store.MinSessionRetention).
	MinRetention         = 24 * time.Hour
	MinSessionRetention  = time.Hour
	MinRetentionInterval = time.Minute
	MaxRetentionInterval = 24 * time.Hour
	MaxRetentionBatch    = 100000
	// MaxShutdownStep bounds shutdown.drain_delay and shutdown.timeout.
	MaxShutdownStep = 5 * time.Minute
)

// Profiles and connectors Validate accepts.
var (
	// The oidc profile of design §3.13 (DP token endpoint, code + state) is not built yet, so it
	// is not accepted: a bank that sets it would otherwise run v1.2.1 believing it runs oidc.
	Profiles   = []string{"v1.2.1"}
	Connectors = []string{"demo", "http"}
)

var (
	idPattern    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	colorPattern = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)
	headerToken  = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
	// appleAppID is <Team ID>.<bundle id> (Apple: "Supporting associated domains").
	appleAppID = regexp.MustCompile(`^[A-Z0-9]{10}\.[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$`)
	// androidPackage is a Java-style application id (Android: "Configure the app module").
	androidPackage = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)+$`)
)

// Validate checks every rule and returns all problems at once as Errors (nil
// when the configuration is usable): addresses, URLs (https unless sandbox),
// durations and their limits, that required files exist and hold what they
// should (certificates, matching keys, JWKS, secrets), and the sandbox-only
// switches.
func (c *Config) Validate() error {
	return c.validate(time.Now())
}

type validator struct {
	c     *Config
	now   time.Time
	errs  Errors
	field map[string]*Field
}

func (c *Config) validate(now time.Time) error {
	v := &validator{c: c, now: now, field: map[string]*Field{}}
	for i := range fields {
		v.field[fields[i].Key] = &fields[i]
	}

	// top level
	v.id("dp_id", c.DPID)
	v.oneOf("profile", c.Profile, Profiles)
	v.oneOf("environment", c.Environment, []string{EnvironmentProduction, EnvironmentDevelopment})
	v.production()

	v.oneOf("log.level", c.Log.Level, []string{"debug", "info", "warn", "error"})
	v.oneOf("log.format", c.Log.Format, []string{"json", "text"})

	v.database()
	v.atLeast("database.max_open_conns", int64(c.Database.MaxOpenConns), 1)
	if c.Tracing.OTLPEndpoint != "" {
		v.url("tracing.otlp_endpoint", c.Tracing.OTLPEndpoint, true)
	}
	v.between("tracing.sample_percent", int64(c.Tracing.SamplePercent), 0, 100)
	if c.Database.Migrate != "" {
		v.oneOf("database.migrate", c.Database.Migrate, []string{MigrateAuto, MigrateCheck, MigrateOff})
	}
	if c.Shutdown.DrainDelay < 0 || c.Shutdown.DrainDelay > MaxShutdownStep {
		v.bad("shutdown.drain_delay", "must be between 0s and "+formatDuration(MaxShutdownStep))
	}
	if v.positive("shutdown.timeout", c.Shutdown.Timeout, MaxShutdownStep) && c.Shutdown.Timeout < time.Second {
		v.bad("shutdown.timeout", "must be at least 1s")
	}

	v.hostPort("api.addr", c.API.Addr)
	v.atLeast("api.max_body_bytes", c.API.MaxBodyBytes, 1024)
	v.positive("api.read_header_timeout", c.API.ReadHeaderTimeout, 0)
	v.positive("api.read_timeout", c.API.ReadTimeout, 0)
	v.positive("api.write_timeout", c.API.WriteTimeout, 0)
	v.positive("api.idle_timeout", c.API.IdleTimeout, 0)
	if h := c.API.ClientCertHeader; h != "" && !headerToken.MatchString(h) {
		v.bad("api.client_cert_header", "is not a valid HTTP header name")
	}
	for i, s := range c.API.TrustedProxies {
		if _, err := parsePrefix(s); err != nil {
			v.failAt("api.trusted_proxies", fmt.Sprintf("[%d]", i), s, ErrInvalidValue, "is neither a CIDR nor an IP address")
		}
	}
	if c.API.ClientCertHeader != "" && len(c.API.TrustedProxies) == 0 {
		v.failf("api.trusted_proxies", "", false, ErrRequired, "must list the proxies allowed to send api.client_cert_header")
	}

	v.hostPort("web.addr", c.Web.Addr)
	v.url("web.public_url", c.Web.PublicURL, c.Sandbox && c.Web.InsecureHTTP)
	if c.Web.InsecureHTTP && !c.Sandbox && len(c.Web.TrustedProxies) == 0 {
		v.bad("web.insecure_http", "is allowed only in the sandbox, or behind a TLS-terminating front end named in web.trusted_proxies")
	}
	for i, s := range c.Web.TrustedProxies {
		if _, err := parsePrefix(s); err != nil {
			v.failAt("web.trusted_proxies", fmt.Sprintf("[%d]", i), s, ErrInvalidValue, "is neither a CIDR nor an IP address")
		}
	}
	v.atLeast("web.rate_limit_per_client_per_minute", int64(c.Web.RateLimitPerClientPerMinute), 1)
	v.atLeast("web.rate_limit_global_per_second", int64(c.Web.RateLimitGlobalPerSecond), 1)

	v.hostPort("ops.addr", c.Ops.Addr)
	v.opsListener()
	if c.Ops.AdminTokenFile != "" && v.privateFile("ops.admin_token_file", c.Ops.AdminTokenFile) {
		if _, err := readAdminToken(c.Ops.AdminTokenFile); err != nil {
			v.failf("ops.admin_token_file", c.Ops.AdminTokenFile, true, ErrFile, "%v", unwrapPath(err))
		}
	}
	if c.Ops.AdminTokensFile != "" && v.privateFile("ops.admin_tokens_file", c.Ops.AdminTokensFile) {
		if _, err := ops.OpenTokensFile(c.Ops.AdminTokensFile, nil); err != nil {
			v.failf("ops.admin_tokens_file", c.Ops.AdminTokensFile, true, ErrFile, "%v", unwrapPath(err))
		}
	}

	v.keyPair("tls.cert_file", "tls.key_file", c.TLS.CertFile, c.TLS.KeyFile, x509.ExtKeyUsageServerAuth)

	v.payNet()

	v.signingKey()
	v.mtlsKey()

	if c.Secrets.ServerSecretFile == "" {
		if !c.Sandbox {
			v.missing("secrets.server_secret_file", "(required outside the sandbox)")
		}
	} else if v.privateFile("secrets.server_secret_file", c.Secrets.ServerSecretFile) {
		if _, err := readServerSecret(c.Secrets.ServerSecretFile); err != nil {
			v.failf("secrets.server_secret_file", c.Secrets.ServerSecretFile, true, ErrFile, "%v", unwrapPath(err))
		}
	}

	if len(c.Authorize.RedirectURIAllowlist) == 0 && !c.Sandbox {
		v.missing("authorize.redirect_uri_allowlist", "(required outside the sandbox)")
	}
	for i, u := range c.Authorize.RedirectURIAllowlist {
		v.urlAt("authorize.redirect_uri_allowlist", fmt.Sprintf("[%d]", i), u, c.Sandbox)
	}
	v.positive("authorize.session_idle_timeout", c.Authorize.SessionIdleTimeout, 0)
	v.atLeast("authorize.login_max_failures", int64(c.Authorize.LoginMaxFailures), 1)
	v.positive("authorize.login_lockout", c.Authorize.LoginLockout, 24*time.Hour-time.Second)
	v.positive("authorize.login_delay_step", c.Authorize.LoginDelayStep, time.Hour)
	v.atLeast("authorize.login_hard_lock_failures", int64(c.Authorize.LoginHardLockFailures), int64(max(1, c.Authorize.LoginMaxFailures)))
	v.atLeast("authorize.login_max_failures_per_client", int64(c.Authorize.LoginMaxFailuresPerClient), 1)
	v.atLeast("authorize.login_max_failures_per_consent", int64(c.Authorize.LoginMaxFailuresPerConsent), 1)
	v.atLeast("authorize.login_max_failures_global_per_minute", int64(c.Authorize.LoginMaxFailuresGlobalPerMinute), 1)
	v.atLeast("authorize.sessions_per_consent", int64(c.Authorize.SessionsPerConsent), 1)
	if !c.Authorize.RequireIdentityBinding && !c.Development() {
		v.bad("authorize.require_identity_binding", "may be false only with environment: development (the sandbox): without identity binding anyone who opens a consent link can approve it")
	}

	v.url("id_token.issuer", c.IDToken.Issuer, c.Sandbox)
	v.positive("id_token.ttl", c.IDToken.TTL, time.Hour)

	v.oneOf("bank.connector", c.Bank.Connector, append(slices.Clone(Connectors), connector.Registered()...))
	if c.Bank.DataFile != "" {
		v.file("bank.data_file", c.Bank.DataFile)
	}
	if v.positive("bank.timeout", c.Bank.Timeout, 0) && c.Bank.Timeout >= PayNetTimeout {
		v.bad("bank.timeout", "must be below PayNet's 5s deadline (spec §7.1)")
	}

	v.between("bank.max_in_flight", int64(c.Bank.MaxInFlight), 1, MaxBankInFlight)
	v.bankHTTP()

	v.between("data.history_months", int64(c.Data.HistoryMonths), 1, 120)
	v.atLeast("data.rate_limit_per_minute", int64(c.Data.RateLimitPerMinute), 1)
	v.atLeast("data.rate_limit_per_consent_per_minute", int64(c.Data.RateLimitPerConsentPerMinute), 1)
	v.positive("data.dc_jwks_cache_ttl", c.Data.DCJWKSCacheTTL, MaxJWKSCacheTTL)

	if strings.TrimSpace(c.Branding.BankName) == "" {
		v.missing("branding.bank_name", "")
	}
	if c.Branding.LogoFile != "" && v.file("branding.logo_file", c.Branding.LogoFile) {
		switch strings.ToLower(filepath.Ext(c.Branding.LogoFile)) {
		case ".svg", ".png", ".jpg", ".jpeg":
		default:
			v.bad("branding.logo_file", "is not an .svg, .png or .jpg image")
		}
	}
	if !colorPattern.MatchString(c.Branding.PrimaryColor) {
		v.bad("branding.primary_color", "is not a #rrggbb colour")
	}

	v.retention()
	v.expiry()

	v.dcs()
	v.appLinks()
	if c.Authn.SecondFactor != "" {
		v.oneOf("authn.second_factor", c.Authn.SecondFactor, []string{"otp", "app"})
	}
	v.atLeast("authn.second_factor_max_failures", int64(c.Authn.SecondFactorMaxFailures), 1)
	v.atLeast("authn.second_factor_max_resends", int64(c.Authn.SecondFactorMaxResends), 1)

	if len(v.errs) == 0 {
		return nil
	}
	return v.errs
}

func (v *validator) database() {
	const key = "database.url"
	u := v.c.Database.URL
	switch {
	case u == "":
		v.missing(key, "")
	case strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://"):
		p, err := url.Parse(u)
		if err != nil || p.Host == "" {
			v.bad(key, "is not a valid PostgreSQL URL")
		}
	case strings.Contains(u, "://"):
		v.bad(key, "is neither a SQLite file path, a file: URI nor a postgres:// URL")
	default:
		path := u
		if strings.HasPrefix(u, "file:") {
			p, err := url.Parse(u)
			if err != nil {
				v.bad(key, "is not a valid file: URI")
				return
			}
			path = p.Opaque
			if path == "" {
				path = p.Path
			}
			if path == ":memory:" || p.Query().Get("mode") == "memory" {
				return
			}
		}
		if path == ":memory:" {
			return
		}
		dir := filepath.Dir(path)
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			v.failf(key, u, true, ErrFile, "names a file in %q, which is not an existing directory", dir)
		}
	}
}

func (v *validator) payNet() {
	p := &v.c.PayNet
	if v.file("paynet.ca_file", p.CAFile) {
		if _, err := jose.LoadCertificatesFile(p.CAFile); err != nil {
			v.failf("paynet.ca_file", p.CAFile, true, ErrFile, "does not hold PEM certificates: %v", unwrapPath(err))
		}
	}
	if p.Issuer == "" && !v.c.Sandbox {
		v.missing("paynet.issuer", "(required outside the sandbox: without it a JWS with any or no iss is accepted, design §3.2)")
	}
	for i, fp := range p.ClientCertFingerprints {
		if _, err := mtls.ParseFingerprint(fp); err != nil {
			v.failAt("paynet.client_cert_fingerprints", fmt.Sprintf("[%d]", i), fp, ErrInvalidValue, "is not a SHA-256 fingerprint (64 hex digits, colons allowed)")
		}
	}
	for i, s := range p.ClientCertSubjects {
		if strings.TrimSpace(s) == "" || !strings.Contains(s, "=") {
			v.failAt("paynet.client_cert_subjects", fmt.Sprintf("[%d]", i), s, ErrInvalidValue, "is not a certificate subject such as CN=…,O=…")
		}
	}
	if len(p.ClientCertFingerprints) == 0 && len(p.ClientCertSubjects) == 0 && !v.c.Sandbox {
		v.missing("paynet.client_cert_fingerprints", "(or paynet.client_cert_subjects; required outside the sandbox, design §2)")
	}
	switch {
	case p.JWKSURL != "":
		v.url("paynet.jwks_url", p.JWKSURL, v.c.Sandbox)
	case p.JWKSFile == "":
		v.missing("paynet.jwks_url", "(or paynet.jwks_file)")
	default:
		if v.file("paynet.jwks_file", p.JWKSFile) {
			b, err := os.ReadFile(p.JWKSFile)
			if err == nil {
				_, err = jose.ParseJWKS(b)
			}
			if err != nil {
				v.failf("paynet.jwks_file", p.JWKSFile, true, ErrFile, "is not a usable JWKS: %v", unwrapPath(err))
			}
		}
	}
	v.positive("paynet.jwks_cache_ttl", p.JWKSCacheTTL, MaxJWKSCacheTTL)
	v.url("paynet.consent_base_url", p.ConsentBaseURL, v.c.Sandbox)
	if !strings.Contains(p.DCJWKSURLTemplate, "{dc_id}") {
		v.bad("paynet.dc_jwks_url_template", "must contain {dc_id}")
	} else {
		v.url("paynet.dc_jwks_url_template", p.DCJWKSURL("dc"), v.c.Sandbox)
	}
	v.between("paynet.patch_max_attempts", int64(p.PatchMaxAttempts), 1, 10)
	v.positive("paynet.patch_budget", p.PatchBudget, 0)
	if v.positive("paynet.outbox_interval", p.OutboxInterval, MaxOutboxInterval) && p.OutboxInterval < MinOutboxInterval {
		v.bad("paynet.outbox_interval", "must be at least "+formatDuration(MinOutboxInterval))
	}
	v.between("paynet.outbox_max_attempts", int64(p.OutboxMaxAttempts), 1, MaxOutboxAttempts)
	v.oneOf("paynet.revoke_method", strings.ToUpper(p.RevokeMethod), []string{"POST", "PATCH"})
	if !strings.HasPrefix(p.RevokePath, "/") || strings.Count(p.RevokePath, "{consent_id}") != 1 || strings.ContainsAny(p.RevokePath, "?#") {
		v.bad("paynet.revoke_path", "must start with / and contain {consent_id} once, without query or fragment")
	}
	if p.RevokeReasonCode == "" || strings.ContainsAny(p.RevokeReasonCode, " \"/\\") {
		v.bad("paynet.revoke_reason_code", "must be a reason code of spec §5.1")
	}
	if p.RevokeBody != "" {
		var probe map[string]any
		filled := strings.NewReplacer("{consent_id}", "c", "{reason_code}", "r", "{reason_description}", "d").Replace(p.RevokeBody)
		if json.Unmarshal([]byte(filled), &probe) != nil || probe == nil {
			v.bad("paynet.revoke_body", "must be a JSON object once {consent_id}, {reason_code} and {reason_description} are filled in")
		}
	}
}

func (v *validator) expiry() {
	e := &v.c.Expiry
	if v.positive("expiry.interval", e.Interval, 24*time.Hour) && e.Interval < time.Minute {
		v.bad("expiry.interval", "must be at least 1m")
	}
	v.between("expiry.batch_size", int64(e.BatchSize), 1, 1000)
}

func (v *validator) retention() {
	r := &v.c.Retention
	for _, k := range []struct {
		key string
		d   time.Duration
	}{{"retention.audit", r.Audit}, {"retention.consent_history", r.ConsentHistory},
		{"retention.outbound_calls", r.OutboundCalls}, {"retention.outbox", r.Outbox}} {
		if v.positive(k.key, k.d, 0) && k.d < MinRetention {
			v.bad(k.key, "must be at least "+formatDuration(MinRetention))
		}
	}
	if v.positive("retention.sessions", r.Sessions, 0) && r.Sessions < MinSessionRetention {
		v.bad("retention.sessions", "must be at least "+formatDuration(MinSessionRetention)+" (a late request is still sent back to PayNet)")
	}
	if v.positive("retention.interval", r.Interval, MaxRetentionInterval) && r.Interval < MinRetentionInterval {
		v.bad("retention.interval", "must be at least "+formatDuration(MinRetentionInterval))
	}
	v.between("retention.batch_size", int64(r.BatchSize), 1, MaxRetentionBatch)
}

// bankHTTP checks the http connector's settings (docs/connector.md).
func (v *validator) bankHTTP() {
	c := v.c
	if c.Bank.Connector != "http" {
		return
	}
	v.url("bank.http_base_url", c.Bank.HTTPBaseURL, c.Development())
	if c.Bank.HTTPCAFile != "" {
		v.file("bank.http_ca_file", c.Bank.HTTPCAFile)
	}
	switch {
	case (c.Bank.HTTPCertFile == "") != (c.Bank.HTTPKeyFile == ""):
		v.bad("bank.http_cert_file", "and bank.http_key_file go together (mutual TLS to the adapter)")
	case c.Bank.HTTPCertFile != "":
		v.file("bank.http_cert_file", c.Bank.HTTPCertFile)
		v.privateFile("bank.http_key_file", c.Bank.HTTPKeyFile)
	}
	if c.Bank.HTTPBearerTokenFile != "" {
		v.privateFile("bank.http_bearer_token_file", c.Bank.HTTPBearerTokenFile)
	}
	v.positive("bank.http_dial_timeout", c.Bank.HTTPDialTimeout, time.Minute)
	v.between("bank.http_max_conns", int64(c.Bank.HTTPMaxConns), 1, MaxBankInFlight)
	v.between("bank.http_max_response_bytes", int64(c.Bank.HTTPMaxResponseBytes), 1024, 1<<30)
}

// production refuses, outside a development deployment (Config.Development), what is only
// there to make the first start easy: the demo bank, PayNet on this machine, the default dp_id.
func (v *validator) production() {
	c := v.c
	if c.Development() {
		return
	}
	const why = " (allowed only with environment: development)"
	if c.DPID == v.field["dp_id"].Default {
		v.bad("dp_id", "is the default dp_id; set the id PayNet assigned to this Data Provider"+why)
	}
	if c.Bank.Connector == "demo" {
		v.bad("bank.connector", "is the demo connector, which serves made-up customers"+why)
	}
	for _, u := range []struct{ key, url string }{
		{"paynet.jwks_url", c.PayNet.JWKSURL},
		{"paynet.consent_base_url", c.PayNet.ConsentBaseURL},
		{"paynet.dc_jwks_url_template", c.PayNet.DCJWKSURLTemplate},
	} {
		if u.url != "" && isLocalURL(u.url) {
			v.bad(u.key, "points at this machine, not at PayNet"+why)
		}
	}
}

// isLocalURL reports whether raw names localhost (or a *.localhost name) or a loopback or
// unspecified IP address.
func isLocalURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	return isLocalHost(u.Hostname())
}

func isLocalHost(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip, err := netip.ParseAddr(h)
	return err == nil && (ip.Unmap().IsLoopback() || ip.IsUnspecified())
}

// opsListener checks ops TLS and that the admin API is not offered in clear text beyond this
// machine (design §2: the ops listener is loopback by default).
func (v *validator) opsListener() {
	o := &v.c.Ops
	switch {
	case o.TLSCertFile != "" || o.TLSKeyFile != "":
		v.keyPair("ops.tls_cert_file", "ops.tls_key_file", o.TLSCertFile, o.TLSKeyFile, x509.ExtKeyUsageServerAuth)
	case o.AdminTokenFile != "" || o.AdminTokensFile != "":
		host, _, err := net.SplitHostPort(o.Addr)
		if err == nil && !isLoopbackHost(host) {
			v.bad("ops.addr", "is not a loopback address while the admin API is on (ops.admin_token_file); "+
				"set ops.tls_cert_file and ops.tls_key_file, or bind 127.0.0.1")
		}
	}
}

// isLoopbackHost: localhost or a loopback IP. An empty host or 0.0.0.0 binds every interface;
// another name may resolve anywhere.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

func (v *validator) signingKey() {
	k := &v.c.Keys
	if v.keySources() {
		return // a key ring, or a key in an HSM or KMS: see keys.go
	}
	keyKey, keyFile := "keys.signing_key_file", k.SigningKeyFile
	if k.SigningKey != "" {
		keyKey, keyFile = "keys.signing_key", filePath(k.SigningKey)
	}
	okKey := v.privateFile(keyKey, keyFile)
	okCert := v.file("keys.signing_cert_file", k.SigningCertFile)
	if !okKey || !okCert {
		return
	}
	sk, err := jose.LoadSigningKey(keyFile, k.SigningCertFile)
	if err != nil {
		v.failf(keyKey, keyFile, true, ErrFile, "cannot sign with keys.signing_cert_file: %v", unwrapPath(err))
		return
	}
	v.validity("keys.signing_cert_file", k.SigningCertFile, sk.Chain[0])
}

// keyPair checks a TLS certificate file and its key file.
func (v *validator) keyPair(certKey, keyKey, certFile, keyFile string, usage x509.ExtKeyUsage) {
	okCert := v.file(certKey, certFile)
	okKey := v.privateFile(keyKey, keyFile)
	if !okCert || !okKey {
		return
	}
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		v.failf(certKey, certFile, true, ErrFile, "cannot be used with %s: %v", keyKey, unwrapPath(err))
		return
	}
	leaf := pair.Leaf
	if leaf == nil {
		if leaf, err = x509.ParseCertificate(pair.Certificate[0]); err != nil {
			v.failf(certKey, certFile, true, ErrFile, "%v", err)
			return
		}
	}
	if len(leaf.ExtKeyUsage) > 0 && !hasUsage(leaf.ExtKeyUsage, usage) {
		name := map[x509.ExtKeyUsage]string{x509.ExtKeyUsageServerAuth: "serverAuth", x509.ExtKeyUsageClientAuth: "clientAuth"}[usage]
		v.failf(certKey, certFile, true, ErrFile, "certificate lacks the %s extended key usage", name)
	}
	v.validity(certKey, certFile, leaf)
}

func hasUsage(list []x509.ExtKeyUsage, u x509.ExtKeyUsage) bool {
	for _, x := range list {
		if x == u || x == x509.ExtKeyUsageAny {
			return true
		}
	}
	return false
}

func (v *validator) validity(key, file string, cert *x509.Certificate) {
	switch {
	case v.now.After(cert.NotAfter):
		v.failf(key, file, true, ErrFile, "certificate expired on %s", cert.NotAfter.UTC().Format(time.RFC3339))
	case v.now.Before(cert.NotBefore):
		v.failf(key, file, true, ErrFile, "certificate is not valid before %s", cert.NotBefore.UTC().Format(time.RFC3339))
	}
}

func (v *validator) dcs() {
	seen := map[string]bool{}
	for i, dc := range v.c.DCs {
		key := fmt.Sprintf("dcs[%d]", i)
		switch {
		case dc.ID == "":
			v.errs = append(v.errs, &FieldError{Key: key + ".id", Problem: "must be set", Err: ErrRequired})
		case len(dc.ID) > MaxIDLength:
			v.errs = append(v.errs, &FieldError{Key: key + ".id", Value: dc.ID, HasValue: true, Problem: "is longer than 64 characters", Err: ErrInvalidValue})
		case seen[dc.ID]:
			v.errs = append(v.errs, &FieldError{Key: key + ".id", Value: dc.ID, HasValue: true, Problem: "is listed twice", Err: ErrInvalidValue})
		}
		seen[dc.ID] = true
		if strings.TrimSpace(dc.Name) == "" {
			v.errs = append(v.errs, &FieldError{Key: key + ".name", Problem: "must be set", Err: ErrRequired})
		}
		if dc.LogoURL != "" {
			if problem := checkURL(dc.LogoURL, v.c.Sandbox); problem != "" {
				v.errs = append(v.errs, &FieldError{Key: key + ".logo_url", Value: dc.LogoURL, HasValue: true, Problem: problem, Example: "https://dc.example/logo.png", Err: ErrInvalidValue})
			}
		}
	}
}

// --- rule helpers -----------------------------------------------------------

// current returns the value of key as text, for messages.
func (v *validator) current(key string) string {
	f := v.field[key]
	val := reflect.ValueOf(v.c).Elem().FieldByIndex(f.index)
	switch {
	case val.Type() == durationType:
		return time.Duration(val.Int()).String()
	case val.Kind() == reflect.Slice && val.Type().Elem().Kind() == reflect.String:
		return strings.Join(val.Interface().([]string), ",")
	}
	return display(f, fmt.Sprint(val.Interface()))
}

func (v *validator) failf(key, value string, hasValue bool, sentinel error, format string, args ...any) {
	f := v.field[key]
	v.errs = append(v.errs, &FieldError{Key: key, Env: f.Env, Value: display(f, value), HasValue: hasValue,
		Problem: fmt.Sprintf(format, args...), Example: f.example(), Err: sentinel})
}

// failAt reports a problem with one element of a list key.
func (v *validator) failAt(key, suffix, value string, sentinel error, problem string) {
	f := v.field[key]
	v.errs = append(v.errs, &FieldError{Key: key + suffix, Env: f.Env, Value: value, HasValue: true,
		Problem: problem, Example: f.example(), Err: sentinel})
}

func (v *validator) bad(key, problem string) {
	v.failf(key, v.current(key), true, ErrInvalidValue, "%s", problem)
}

func (v *validator) missing(key, why string) {
	problem := "must be set"
	if why != "" {
		problem += " " + why
	}
	v.failf(key, "", false, ErrRequired, "%s", problem)
}

// appLinks checks the apps that may open the authorize link (spec §2.4, docs/app-to-app.md).
func (v *validator) appLinks() {
	w := &v.c.Web
	for i, id := range w.AppleAppIDs {
		if !appleAppID.MatchString(id) {
			v.failAt("web.apple_app_ids", "["+strconv.Itoa(i)+"]", id, ErrInvalidValue, "is not <Team ID>.<bundle id> (ten capital letters or digits, a dot, the bundle id)")
		}
	}
	switch {
	case w.AndroidPackage == "" && len(w.AndroidCertFingerprints) > 0:
		v.missing("web.android_package", "when web.android_cert_fingerprints is set")
	case w.AndroidPackage != "" && !androidPackage.MatchString(w.AndroidPackage):
		v.bad("web.android_package", "is not an Android package name (letters, digits and '_' in two or more dot-separated parts)")
	case w.AndroidPackage != "" && len(w.AndroidCertFingerprints) == 0:
		v.missing("web.android_cert_fingerprints", "when web.android_package is set")
	}
	for i, f := range w.AndroidCertFingerprints {
		if b, err := hex.DecodeString(strings.ReplaceAll(f, ":", "")); err != nil || len(b) != 32 {
			v.failAt("web.android_cert_fingerprints", "["+strconv.Itoa(i)+"]", f, ErrInvalidValue, "is not a SHA-256 fingerprint (32 hex bytes, colons allowed)")
		}
	}
}

func (v *validator) oneOf(key, value string, allowed []string) {
	for _, a := range allowed {
		if value == a {
			return
		}
	}
	v.bad(key, "is not one of "+strings.Join(allowed, ", "))
}

func (v *validator) id(key, value string) {
	switch {
	case value == "":
		v.missing(key, "")
	case len(value) > MaxIDLength:
		v.bad(key, "is longer than 64 characters")
	case !idPattern.MatchString(value):
		v.bad(key, "may hold only letters, digits, '.', '_' and '-'")
	}
}

func (v *validator) atLeast(key string, n, least int64) {
	if n < least {
		v.bad(key, "must be at least "+strconv.FormatInt(least, 10))
	}
}

func (v *validator) between(key string, n, lo, hi int64) {
	if n < lo || n > hi {
		v.bad(key, fmt.Sprintf("must be between %d and %d", lo, hi))
	}
}

// positive checks d > 0 and, when max > 0, d ≤ max. It reports whether d passed.
func (v *validator) positive(key string, d, max time.Duration) bool {
	switch {
	case d <= 0:
		v.bad(key, "must be a positive duration")
	case max > 0 && d > max:
		v.bad(key, "must be at most "+formatDuration(max))
	default:
		return true
	}
	return false
}

func (v *validator) hostPort(key, addr string) {
	host, port, err := net.SplitHostPort(addr)
	if err == nil {
		var n int
		n, err = strconv.Atoi(port)
		if err == nil && (n < 0 || n > 65535) {
			err = errors.New("port out of range")
		}
	}
	if err == nil && strings.ContainsAny(host, " /") {
		err = errors.New("bad host")
	}
	if err != nil {
		v.bad(key, "is not a host:port address")
	}
}

func (v *validator) url(key, raw string, allowHTTP bool) {
	if raw == "" {
		v.missing(key, "")
		return
	}
	if problem := checkURL(raw, allowHTTP); problem != "" {
		v.bad(key, problem)
	}
}

func (v *validator) urlAt(key, suffix, raw string, allowHTTP bool) {
	if problem := checkURL(raw, allowHTTP); problem != "" {
		v.failAt(key, suffix, raw, ErrInvalidValue, problem)
	}
}

// checkURL returns why raw is not an absolute https URL (http allowed when
// allowHTTP), or "".
func checkURL(raw string, allowHTTP bool) string {
	u, err := url.Parse(raw)
	switch {
	case err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "":
		return "is not an absolute URL"
	case u.User != nil:
		return "must not carry user information"
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return "must not carry a #fragment"
	case u.Scheme == "https":
		return ""
	case u.Scheme == "http" && allowHTTP:
		return ""
	case u.Scheme == "http":
		return "must use https (http only in the sandbox)"
	}
	return "must use https"
}

// file checks that a required file path is set, exists and is a regular
// file; it reports whether the file can be read further.
func (v *validator) file(key, path string) bool {
	if path == "" {
		v.missing(key, "")
		return false
	}
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		v.failf(key, path, true, ErrFile, "does not exist")
	case err != nil:
		v.failf(key, path, true, ErrFile, "cannot be read: %v", unwrapPath(err))
	case st.IsDir():
		v.failf(key, path, true, ErrFile, "is a directory, want a file")
	default:
		return true
	}
	return false
}

// privateFile is file for a private key, secret or token: it must also be out of reach of
// others, because whoever reads it can sign as the DP, impersonate its listeners, forge account
// ids or call the admin API. The message names the chmod that fixes it (privateModeProblem).
func (v *validator) privateFile(key, path string) bool {
	if !v.file(key, path) {
		return false
	}
	st, err := os.Stat(path)
	if err != nil || runtime.GOOS == "windows" { // Windows has no Unix permission bits
		return err == nil
	}
	if problem := keysource.PrivateFileProblem(st, path); problem != "" {
		f := v.field[key]
		v.errs = append(v.errs, &FieldError{Key: key, Env: f.Env, Value: path, HasValue: true, Err: ErrFile, Problem: problem})
		return false
	}
	return true
}

// unwrapPath drops the *fs.PathError wrapper, whose path the message already shows.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// formatDuration prints d without zero trailing units: 15m, 1h, 1h30m, 4s.
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// --- accessors ----------------------------------------------------------------

// ServerSecret reads secrets.server_secret_file: at least MinSecretBytes bytes
// after dropping a trailing newline (design §3.8: the HMAC key of account ids,
// also used for cursors). It returns ErrNoServerSecret when no file is set.
func (c *Config) ServerSecret() ([]byte, error) {
	if c.Secrets.ServerSecretFile == "" {
		return nil, ErrNoServerSecret
	}
	b, err := readServerSecret(c.Secrets.ServerSecretFile)
	if err != nil {
		return nil, fmt.Errorf("config: secrets.server_secret_file: %w", err)
	}
	return b, nil
}

func readServerSecret(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	b = bytes.TrimRight(b, "\r\n")
	if len(b) < MinSecretBytes {
		return nil, fmt.Errorf("holds %d bytes, need at least %d", len(b), MinSecretBytes)
	}
	return b, nil
}

// AdminToken reads ops.admin_token_file (surrounding white space dropped; at
// least MinAdminTokenChars characters, no inner white space). It returns ""
// and no error when no file is set: the admin API is then disabled.
func (c *Config) AdminToken() (string, error) {
	if c.Ops.AdminTokenFile == "" {
		return "", nil
	}
	tok, err := readAdminToken(c.Ops.AdminTokenFile)
	if err != nil {
		return "", fmt.Errorf("config: ops.admin_token_file: %w", err)
	}
	return tok, nil
}

func readAdminToken(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	tok := strings.TrimSpace(string(b))
	if len(tok) < MinAdminTokenChars || strings.ContainsAny(tok, " \t\r\n") {
		return "", fmt.Errorf("must hold one word of at least %d characters", MinAdminTokenChars)
	}
	return tok, nil
}

// TrustedProxyPrefixes parses api.trusted_proxies; a single IP counts as a
// one-address prefix.
func (a API) TrustedProxyPrefixes() ([]netip.Prefix, error) { return parsePrefixes(a.TrustedProxies) }

// TrustedProxyPrefixes parses web.trusted_proxies like API.TrustedProxyPrefixes.
func (w Web) TrustedProxyPrefixes() ([]netip.Prefix, error) { return parsePrefixes(w.TrustedProxies) }

func parsePrefixes(list []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(list))
	for _, s := range list {
		p, err := parsePrefix(s)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

func parsePrefix(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	ip, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("config: %q is neither a CIDR nor an IP address", s)
	}
	ip = ip.Unmap()
	return netip.PrefixFrom(ip, ip.BitLen()), nil
}

// DCJWKSURL returns the URL of a data consumer's JWKS: dc_jwks_url_template
// with {dc_id} replaced by the path-escaped dcID (spec §3.2.2).
func (p PayNet) DCJWKSURL(dcID string) string {
	return strings.ReplaceAll(p.DCJWKSURLTemplate, "{dc_id}", url.PathEscape(dcID))
}

// DC returns the display information configured for a data consumer.
func (c *Config) DC(id string) (DC, bool) {
	for _, dc := range c.DCs {
		if dc.ID == id {
			return dc, true
		}
	}
	return DC{}, false
}
