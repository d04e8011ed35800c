package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// envMap returns an env function over m, the way os.LookupEnv behaves.
func envMap(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestDefaults(t *testing.T) {
	cfg, err := Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{
		DPID:    "DP0000000001",
		Profile: "v1.2.1", Environment: "production",
		Log:      Log{Level: "info", Format: "json"},
		Database: Database{URL: "ofpdp.db", MaxOpenConns: 10},
		API: API{Addr: ":8443", MaxBodyBytes: 1048576, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
			WriteTimeout: 10 * time.Second, IdleTimeout: 60 * time.Second},
		Web: Web{Addr: ":8444", PublicURL: "https://localhost:8444", RateLimitPerClientPerMinute: 300, RateLimitGlobalPerSecond: 500},
		Ops: Ops{Addr: "127.0.0.1:9090"},
		TLS: TLS{CertFile: "pki/dp-server.crt", KeyFile: "pki/dp-server.key"},
		PayNet: PayNet{CAFile: "pki/ca.crt", JWKSFile: "pki/paynet.jwks.json", JWKSCacheTTL: 15 * time.Minute,
			ConsentBaseURL: "https://localhost:8445", DCJWKSURLTemplate: "https://localhost:8445/v1/jwks/{dc_id}",
			PatchMaxAttempts: 3, PatchBudget: 4 * time.Second, OutboxInterval: 30 * time.Second, OutboxMaxAttempts: 10,
			RevokeMethod: "POST", RevokePath: "/v1/consents/{consent_id}/revoke", RevokeReasonCode: "not_allowed"},
		Keys: Keys{SigningKeyFile: "pki/dp-sig.key", SigningCertFile: "pki/dp-sig.crt",
			MTLSCertFile: "pki/dp-mtls.crt", MTLSKeyFile: "pki/dp-mtls.key", PKCS11Sessions: 8, ReloadInterval: 30 * time.Second},
		Authorize: Authorize{SessionIdleTimeout: 5 * time.Minute, LoginMaxFailures: 5, LoginLockout: 15 * time.Minute,
			LoginDelayStep: 30 * time.Second, LoginHardLockFailures: 20, LoginMaxFailuresPerClient: 30, LoginMaxFailuresPerConsent: 10,
			LoginMaxFailuresGlobalPerMinute: 600, SessionsPerConsent: 20, RequireIdentityBinding: true},
		Authn:   Authn{SecondFactorMaxFailures: 3, SecondFactorMaxResends: 2},
		IDToken: IDToken{Issuer: "https://localhost:8444", TTL: 10 * time.Minute},
		Bank: Bank{Connector: "demo", Timeout: 4 * time.Second, MaxInFlight: 64,
			HTTPDialTimeout: 2 * time.Second, HTTPMaxConns: 64, HTTPMaxResponseBytes: 4 << 20},
		Data:     Data{HistoryMonths: 12, RateLimitPerMinute: 200, RateLimitPerConsentPerMinute: 60, DCJWKSCacheTTL: 15 * time.Minute},
		Branding: Branding{BankName: "Demo Bank Berhad", PrimaryColor: "#0b5394"},
		Expiry:   Expiry{Interval: 5 * time.Minute, BatchSize: 500},
		Retention: Retention{Audit: 7 * 8760 * time.Hour, ConsentHistory: 7 * 8760 * time.Hour, OutboundCalls: 8760 * time.Hour,
			Outbox: 90 * 24 * time.Hour, Sessions: 24 * time.Hour, Interval: time.Hour, BatchSize: 1000},
		Tracing:  Tracing{SamplePercent: 100},
		Shutdown: Shutdown{DrainDelay: 10 * time.Second, Timeout: 15 * time.Second},
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("defaults\n got %+v\nwant %+v", cfg, want)
	}
}

const yamlFile = `
dp_id: DP1111111111
log: {level: debug}
api:
  addr: "0.0.0.0:9443"
  read_timeout: 7s
  trusted_proxies: [10.0.0.0/8, 192.0.2.7]
paynet:
  client_cert_fingerprints:
    - AB:CD
  jwks_cache_ttl: 5m
  send_status_reason: true
data:
  rate_limit_per_minute: 50
dcs:
  - id: dc-1
    name: Budget Buddy
  - {id: dc-2, name: "Loan Co", logo_url: "https://loan.example/logo.png"}
`

const jsonFile = `{
  "dp_id": "DP1111111111",
  "log": {"level": "debug"},
  "api": {"addr": "0.0.0.0:9443", "read_timeout": "7s", "trusted_proxies": ["10.0.0.0/8", "192.0.2.7"]},
  "paynet": {"client_cert_fingerprints": ["AB:CD"], "jwks_cache_ttl": "5m", "send_status_reason": true},
  "data": {"rate_limit_per_minute": 50},
  "dcs": [{"id": "dc-1", "name": "Budget Buddy"}, {"id": "dc-2", "name": "Loan Co", "logo_url": "https://loan.example/logo.png"}]
}`

func TestLoadFile(t *testing.T) {
	for _, tt := range []struct{ name, content string }{
		{"ofpdp.yaml", yamlFile},
		{"ofpdp.yml", yamlFile},
		{"ofpdp.json", jsonFile},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Load(writeFile(t, tt.name, tt.content), nil)
			if err != nil {
				t.Fatal(err)
			}
			checks := []struct {
				got, want any
			}{
				{cfg.DPID, "DP1111111111"},
				{cfg.Log.Level, "debug"},
				{cfg.Log.Format, "json"}, // untouched default
				{cfg.API.Addr, "0.0.0.0:9443"},
				{cfg.API.ReadTimeout, 7 * time.Second},
				{cfg.API.WriteTimeout, 10 * time.Second},
				{cfg.API.TrustedProxies, []string{"10.0.0.0/8", "192.0.2.7"}},
				{cfg.PayNet.ClientCertFingerprints, []string{"AB:CD"}},
				{cfg.PayNet.JWKSCacheTTL, 5 * time.Minute},
				{cfg.PayNet.SendStatusReason, true},
				{cfg.Data.RateLimitPerMinute, 50},
				{cfg.DCs, []DC{{ID: "dc-1", Name: "Budget Buddy"}, {ID: "dc-2", Name: "Loan Co", LogoURL: "https://loan.example/logo.png"}}},
			}
			for i, c := range checks {
				if !reflect.DeepEqual(c.got, c.want) {
					t.Errorf("check %d: got %#v, want %#v", i, c.got, c.want)
				}
			}
			if dc, ok := cfg.DC("dc-2"); !ok || dc.Name != "Loan Co" {
				t.Errorf("DC(dc-2) = %+v, %v", dc, ok)
			}
			if _, ok := cfg.DC("dc-3"); ok {
				t.Error("DC(dc-3) found")
			}
		})
	}
}

func TestEnvOverrides(t *testing.T) {
	path := writeFile(t, "ofpdp.yaml", yamlFile)
	tests := []struct {
		name string
		env  map[string]string
		get  func(*Config) any
		want any
	}{
		{"env wins over file", map[string]string{"OFPDP_DP_ID": "DP2222222222"}, func(c *Config) any { return c.DPID }, "DP2222222222"},
		{"env wins over default", map[string]string{"OFPDP_PAYNET_CONSENT_BASE_URL": "https://pn.example"}, func(c *Config) any { return c.PayNet.ConsentBaseURL }, "https://pn.example"},
		{"duration", map[string]string{"OFPDP_API_READ_TIMEOUT": "1m30s"}, func(c *Config) any { return c.API.ReadTimeout }, 90 * time.Second},
		{"integer", map[string]string{"OFPDP_API_MAX_BODY_BYTES": "2048"}, func(c *Config) any { return c.API.MaxBodyBytes }, int64(2048)},
		{"boolean", map[string]string{"OFPDP_PAYNET_SEND_STATUS_REASON": "false"}, func(c *Config) any { return c.PayNet.SendStatusReason }, false},
		{"boolean any case", map[string]string{"OFPDP_WEB_INSECURE_HTTP": "TRUE"}, func(c *Config) any { return c.Web.InsecureHTTP }, true},
		{"list, comma-separated", map[string]string{"OFPDP_API_TRUSTED_PROXIES": " 10.1.0.0/16 , ,192.0.2.9"}, func(c *Config) any { return c.API.TrustedProxies }, []string{"10.1.0.0/16", "192.0.2.9"}},
		{"empty list", map[string]string{"OFPDP_API_TRUSTED_PROXIES": ""}, func(c *Config) any { return c.API.TrustedProxies }, []string(nil)},
		{"empty string counts as set", map[string]string{"OFPDP_PAYNET_JWKS_FILE": ""}, func(c *Config) any { return c.PayNet.JWKSFile }, ""},
		{"unrelated variables ignored", map[string]string{"OFPDP_NOT_A_KEY": "x", "HOME": "/root"}, func(c *Config) any { return c.DPID }, "DP1111111111"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Load(path, envMap(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			if got := tt.get(cfg); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name     string
		file     string // file name; content below
		content  string
		env      map[string]string
		want     []string // exact lines of the error, in order
		sentinel error
	}{
		{
			name: "unknown top-level key", file: "c.yaml", content: "dp_idd: x\n",
			want:     []string{"dp_idd: unknown key (top-level keys: dp_id, profile, environment, log, database, api, web, ops, tls, paynet, keys, secrets, authorize, authn, id_token, bank, data, branding, expiry, retention, tracing, shutdown, dcs)"},
			sentinel: ErrUnknownKey,
		},
		{
			name: "unknown nested key", file: "c.yaml", content: "api:\n  adr: x\n",
			want:     []string{"api.adr: unknown key (keys of api: addr, max_body_bytes, read_header_timeout, read_timeout, write_timeout, idle_timeout, client_cert_header, trusted_proxies)"},
			sentinel: ErrUnknownKey,
		},
		{
			name: "unknown key in JSON", file: "c.json", content: `{"paynet": {"jwks": "x"}}`,
			want:     []string{"paynet.jwks: unknown key (keys of paynet: ca_file, client_cert_fingerprints, client_cert_subjects, issuer, jwks_url, jwks_file, jwks_cache_ttl, consent_base_url, dc_jwks_url_template, patch_max_attempts, patch_budget, send_status_reason, outbox_interval, outbox_max_attempts, revoke_method, revoke_path, revoke_body, revoke_reason_code)"},
			sentinel: ErrUnknownKey,
		},
		{
			name: "unknown key in a dcs entry", file: "c.yaml", content: "dcs:\n  - id: a\n    nam: b\n",
			want:     []string{"dcs[0].nam: unknown key (keys: id, name, logo_url)"},
			sentinel: ErrUnknownKey,
		},
		{
			name: "sandbox cannot be set from a file", file: "c.yaml", content: "sandbox: true\n",
			want:     []string{"sandbox: can only be set by `ofpdp sandbox`"},
			sentinel: ErrUnknownKey,
		},
		{
			name: "bad duration in file", file: "c.yaml", content: "api:\n  read_timeout: 60\n",
			want:     []string{`OFPDP_API_READ_TIMEOUT (api.read_timeout): "60" is not a duration (a number with a unit: ms, s, m, h); example: "10s"`},
			sentinel: ErrInvalidValue,
		},
		{
			name: "list where a value belongs", file: "c.yaml", content: "api:\n  addr: [a, b]\n",
			want:     []string{`OFPDP_API_ADDR (api.addr): is a list, want a single string; example: ":8443"`},
			sentinel: ErrInvalidValue,
		},
		{
			name: "value where a list belongs", file: "c.yaml", content: "api:\n  trusted_proxies: 10.0.0.0/8\n",
			want:     []string{`OFPDP_API_TRUSTED_PROXIES (api.trusted_proxies): is a single value, want a list; example: "10.0.0.0/8,192.0.2.7"`},
			sentinel: ErrInvalidValue,
		},
		{
			name: "section that is not a mapping", file: "c.yaml", content: "log: debug\n",
			want:     []string{"log: is a single value, want a mapping of keys"},
			sentinel: ErrInvalidValue,
		},
		{
			name: "bad env values, all reported",
			env: map[string]string{
				"OFPDP_API_MAX_BODY_BYTES":        "1MB",
				"OFPDP_PAYNET_SEND_STATUS_REASON": "yes",
				"OFPDP_BANK_TIMEOUT":              "",
				"OFPDP_DATABASE_MAX_OPEN_CONNS":   "99999999999999999999",
			},
			want: []string{
				`OFPDP_DATABASE_MAX_OPEN_CONNS (database.max_open_conns): "99999999999999999999" is out of range; example: "10"`,
				`OFPDP_API_MAX_BODY_BYTES (api.max_body_bytes): "1MB" is not an integer; example: "1048576"`,
				`OFPDP_PAYNET_SEND_STATUS_REASON (paynet.send_status_reason): "yes" is not a boolean (true or false); example: "false"`,
				`OFPDP_BANK_TIMEOUT (bank.timeout): "" is not a duration (a number with a unit: ms, s, m, h); example: "4s"`,
			},
			sentinel: ErrInvalidValue,
		},
		{
			name: "file and env problems together", file: "c.yaml", content: "bogus: 1\n",
			env: map[string]string{"OFPDP_DATA_HISTORY_MONTHS": "twelve"},
			want: []string{
				"bogus: unknown key (top-level keys: dp_id, profile, environment, log, database, api, web, ops, tls, paynet, keys, secrets, authorize, authn, id_token, bank, data, branding, expiry, retention, tracing, shutdown, dcs)",
				`OFPDP_DATA_HISTORY_MONTHS (data.history_months): "twelve" is not an integer; example: "12"`,
			},
			sentinel: ErrUnknownKey,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := ""
			if tt.file != "" {
				path = writeFile(t, tt.file, tt.content)
			}
			cfg, err := Load(path, envMap(tt.env))
			if err == nil {
				t.Fatalf("Load succeeded: %+v", cfg)
			}
			if got := strings.Split(err.Error(), "\n"); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("error lines\n got %q\nwant %q", got, tt.want)
			}
			if !errors.Is(err, tt.sentinel) {
				t.Errorf("errors.Is(err, %v) = false", tt.sentinel)
			}
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Error("error holds no *FieldError")
			}
		})
	}
}

func TestLoadFileErrors(t *testing.T) {
	tests := []struct {
		name, file, content, want string
	}{
		{"unknown extension", "c.toml", "a = 1", `unknown file type ".toml"`},
		{"YAML syntax", "c.yaml", "api: [\n", "c.yaml: yaml:"},
		{"JSON syntax", "c.json", `{"dp_id": }`, "c.json: invalid character"},
		{"JSON trailing data", "c.json", `{} {}`, "data after the top-level JSON value"},
		{"duplicate YAML key", "c.yaml", "dp_id: a\ndp_id: b\n", `duplicate key "dp_id"`},
		{"top level not a mapping", "c.yaml", "- a\n", "(top level): is a list, want a mapping of keys"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(writeFile(t, tt.file, tt.content), nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load = %v, want an error containing %q", err, tt.want)
			}
		})
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml"), nil); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v, want ErrNotExist", err)
	}
	// Empty files and null sections are allowed and change nothing.
	for _, content := range []string{"", "# only a comment\n", "log:\n"} {
		cfg, err := Load(writeFile(t, "c.yaml", content), nil)
		if err != nil || cfg.Log.Level != "info" {
			t.Errorf("Load(%q) = %v, %v", content, cfg, err)
		}
	}
	// A null value resets a key to its zero value.
	cfg, err := Load(writeFile(t, "c.yaml", "paynet:\n  jwks_file: ~\n"), nil)
	if err != nil || cfg.PayNet.JWKSFile != "" {
		t.Errorf("null jwks_file: %q, %v", cfg.PayNet.JWKSFile, err)
	}
}

func TestPasswordNeverPrinted(t *testing.T) {
	cfg, err := Load("", envMap(map[string]string{"OFPDP_DATABASE_URL": "mysql://ofpdp:s3cr3t-pw@db/ofpdp"}))
	if err != nil {
		t.Fatal(err)
	}
	err = cfg.validate(time.Now())
	if err == nil || strings.Contains(err.Error(), "s3cr3t-pw") {
		t.Fatalf("error shows the database password or is nil: %v", err)
	}
	if !strings.Contains(err.Error(), `OFPDP_DATABASE_URL (database.url): "mysql://ofpdp:xxxxx@db/ofpdp" is neither`) {
		t.Errorf("error does not show the redacted URL:\n%v", err)
	}
}

func TestFieldsTags(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range Fields() {
		if f.Env != "" && !strings.HasPrefix(f.Env, "OFPDP_") {
			t.Errorf("%s: env %s lacks the OFPDP_ prefix", f.Key, f.Env)
		}
		if want := "OFPDP_" + strings.ToUpper(strings.ReplaceAll(f.Key, ".", "_")); f.Env != "" && f.Env != want {
			t.Errorf("%s: env %s, want %s", f.Key, f.Env, want)
		}
		if seen[f.Env] && f.Env != "" {
			t.Errorf("env %s used twice", f.Env)
		}
		seen[f.Env] = true
		if f.Doc == "" || f.Type == "" {
			t.Errorf("%s: missing doc or type", f.Key)
		}
	}
}
