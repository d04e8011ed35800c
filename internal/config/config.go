package config

import "time"

// Config is the whole ofpdp configuration (design §1–§3, §6, §8). Every leaf
// field names its file key (`yaml`, nested by section), its environment
// variable (`env`), its default (`default`) and its meaning (`doc`);
// docs/configuration.md is generated from these tags.
//
// Relative file paths are resolved against the process working directory.
type Config struct {
	DPID    string `yaml:"dp_id" env:"OFPDP_DP_ID" default:"DP0000000001" example:"DP9876543210" doc:"This Data Provider's PayNet id (dp_id, ≤ 64 characters; spec §2.1 says 36 but PayNet's examples are longer). Consent events for another dp_id are refused. The default is refused unless environment is development."`
	Profile string `yaml:"profile" env:"OFPDP_PROFILE" default:"v1.2.1" doc:"Protocol profile: v1.2.1 (id_token inside the PATCH, spec §3.2.1). The later oidc profile (design §3.13) is not available yet."`
	// Environment: see Development, the one place that reads it.
	Environment string `yaml:"environment" env:"OFPDP_ENVIRONMENT" default:"production" doc:"production or development. Only development accepts the demo bank connector, PayNet URLs on localhost and the default dp_id; the sandbox sets it."`

	// Sandbox is set only by `ofpdp sandbox`, never from a file or the
	// environment. It relaxes the https-only checks, allows web.insecure_http
	// and makes secrets.server_secret_file and authorize.redirect_uri_allowlist optional.
	Sandbox bool `yaml:"-"`

	Log       Log       `yaml:"log" doc:"Logging (log/slog)."`
	Database  Database  `yaml:"database" doc:"Storage (design §5)."`
	API       API       `yaml:"api" doc:"The api listener: mTLS, called by PayNet (design §2)."`
	Web       Web       `yaml:"web" doc:"The web listener: the customer's browser pages (design §2)."`
	Ops       Ops       `yaml:"ops" doc:"The ops listener: metrics, health, admin API (design §2)."`
	TLS       TLS       `yaml:"tls" doc:"The DP's TLS server certificate, used by the api and web listeners (design §8)."`
	PayNet    PayNet    `yaml:"paynet" doc:"PayNet OFP: its certificates, keys and endpoints (spec §3.2, §4)."`
	Keys      Keys      `yaml:"keys" doc:"The DP's own signing and mTLS client keys (spec §4.1, §4.2)."`
	Secrets   Secrets   `yaml:"secrets" doc:"Server-side secrets."`
	Authorize Authorize `yaml:"authorize" doc:"The customer authorization journey (spec §3.1.2, design §3.9–3.11)."`
	Authn     Authn     `yaml:"authn" doc:"How customers prove who they are on the journey (design §3.11, docs/security.md \"Second factor\")."`
	IDToken   IDToken   `yaml:"id_token" doc:"The id_token the DP signs (spec §4.5)."`
	Bank      Bank      `yaml:"bank" doc:"The core-bank connector (design §6)."`
	Data      Data      `yaml:"data" doc:"The data endpoints: accounts, balances, transactions (spec §3.1.5–3.1.8)."`
	Branding  Branding  `yaml:"branding" doc:"What the customer sees on the DP pages (spec §7.5)."`
	Expiry    Expiry    `yaml:"expiry" doc:"Local expiry of consents past their expiration_datetime (spec §7.3), one replica at a time (a lease in the database)."`
	Retention Retention `yaml:"retention" doc:"How long stored rows are kept, and the background purge that removes older ones (docs/operations.md). One replica purges at a time (a lease in the database); durations use Go syntax, so 7 years is 61320h."`

	Tracing  Tracing  `yaml:"tracing" doc:"OpenTelemetry traces over OTLP/HTTP (docs/operations.md, tracing). Off unless tracing.otlp_endpoint is set."`
	Shutdown Shutdown `yaml:"shutdown" doc:"Graceful shutdown on SIGTERM or SIGINT (docs/deploy.md, upgrades)."`

	DCs []DC `yaml:"dcs" doc:"Display names of data consumers, by dc_id, for the consent pages (file only). Each entry has id, name and an optional logo_url."`
}

// Migrate modes of database.migrate.
const (
	MigrateAuto  = "auto"
	MigrateCheck = "check"
	MigrateOff   = "off"
)

// Tracing configures OpenTelemetry tracing.
type Tracing struct {
	OTLPEndpoint  string `yaml:"otlp_endpoint" env:"OFPDP_TRACING_OTLP_ENDPOINT" example:"https://otel-collector.monitoring:4318/v1/traces" doc:"URL of an OTLP/HTTP traces endpoint (a collector). Empty = no tracing. Spans carry route patterns, operation names and x-fapi-interaction-id, never PII, tokens or bodies."`
	SamplePercent int    `yaml:"sample_percent" env:"OFPDP_TRACING_SAMPLE_PERCENT" default:"100" doc:"Percentage (0–100) of the traces that start at ofpdp to record; a trace PayNet or a caller started follows its sampled flag."`
}

// Shutdown configures the graceful shutdown: first out of the load balancer, then closed.
type Shutdown struct {
	DrainDelay time.Duration `yaml:"drain_delay" env:"OFPDP_SHUTDOWN_DRAIN_DELAY" default:"10s" doc:"After SIGTERM, how long /readyz answers 503 while every listener keeps serving, so load balancers and Kubernetes endpoints stop sending new requests first (0–5m)."`
	Timeout    time.Duration `yaml:"timeout" env:"OFPDP_SHUTDOWN_TIMEOUT" default:"15s" doc:"After the drain delay, how long in-flight requests may take to finish before connections are closed (1s–5m). Keep drain_delay + timeout below Kubernetes' terminationGracePeriodSeconds."`
}

// Log configures logging.
type Log struct {
	Level  string `yaml:"level" env:"OFPDP_LOG_LEVEL" default:"info" doc:"Minimum level: debug, info, warn or error."`
	Format string `yaml:"format" env:"OFPDP_LOG_FORMAT" default:"json" doc:"Log line format: json or text."`
}

// Database configures the store (design §5).
type Database struct {
	URL          string `yaml:"url" env:"OFPDP_DATABASE_URL" default:"ofpdp.db" redact:"url" doc:"A file path or file: URI selects SQLite; a postgres:// (or postgresql://) URL selects PostgreSQL. A password in the URL is never printed."`
	MaxOpenConns int    `yaml:"max_open_conns" env:"OFPDP_DATABASE_MAX_OPEN_CONNS" default:"10" doc:"Maximum open connections in the pool."`
	Migrate      string `yaml:"migrate" env:"OFPDP_DATABASE_MIGRATE" example:"check" doc:"What serve does with the schema at start: auto (apply pending migrations; the database user needs DDL rights), check (refuse to start on a schema older than this binary's minimum; a newer one is fine) or off (neither). Empty = auto with environment: development, check otherwise. serve --migrate overrides it; ofpdp migrate up migrates."`
}

// MigrateMode is database.migrate, or its default for the environment when empty.
func (d Database) MigrateMode(development bool) string {
	switch {
	case d.Migrate != "":
		return d.Migrate
	case development:
		return MigrateAuto
	}
	return MigrateCheck
}

// API configures the api listener (design §2).
type API struct {
	Addr              string        `yaml:"addr" env:"OFPDP_API_ADDR" default:":8443" doc:"host:port the api listener binds."`
	MaxBodyBytes      int64         `yaml:"max_body_bytes" env:"OFPDP_API_MAX_BODY_BYTES" default:"1048576" doc:"Largest request body accepted, in bytes."`
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout" env:"OFPDP_API_READ_HEADER_TIMEOUT" default:"5s" doc:"http.Server ReadHeaderTimeout."`
	ReadTimeout       time.Duration `yaml:"read_timeout" env:"OFPDP_API_READ_TIMEOUT" default:"10s" doc:"http.Server ReadTimeout."`
	WriteTimeout      time.Duration `yaml:"write_timeout" env:"OFPDP_API_WRITE_TIMEOUT" default:"10s" doc:"http.Server WriteTimeout."`
	IdleTimeout       time.Duration `yaml:"idle_timeout" env:"OFPDP_API_IDLE_TIMEOUT" default:"60s" doc:"http.Server IdleTimeout."`
	ClientCertHeader  string        `yaml:"client_cert_header" env:"OFPDP_API_CLIENT_CERT_HEADER" example:"X-Client-Cert" doc:"Behind a TLS-terminating proxy: the header in which the proxy forwards the verified client certificate. Empty = take it from the TLS handshake only. Requires api.trusted_proxies."`
	TrustedProxies    []string      `yaml:"trusted_proxies" env:"OFPDP_API_TRUSTED_PROXIES" example:"10.0.0.0/8,192.0.2.7" doc:"CIDRs (or single IPs) of the proxies whose api.client_cert_header is believed; the header from anyone else is ignored."`
}

// Web configures the web listener (design §2).
type Web struct {
	Addr                        string   `yaml:"addr" env:"OFPDP_WEB_ADDR" default:":8444" doc:"host:port the web listener binds."`
	PublicURL                   string   `yaml:"public_url" env:"OFPDP_WEB_PUBLIC_URL" default:"https://localhost:8444" doc:"The external https URL of the web listener, as the customer's browser sees it."`
	InsecureHTTP                bool     `yaml:"insecure_http" env:"OFPDP_WEB_INSECURE_HTTP" default:"false" doc:"Serve the web listener over plain HTTP. Allowed in the sandbox, or behind the bank's TLS-terminating load balancer or WAF: then web.trusted_proxies must name it, only requests from it that it received over HTTPS (X-Forwarded-Proto or Forwarded proto=https) are served, and cookies stay Secure and __Host-."`
	TrustedProxies              []string `yaml:"trusted_proxies" env:"OFPDP_WEB_TRUSTED_PROXIES" example:"10.0.0.0/8,192.0.2.7" doc:"CIDRs (or single IPs) of the load balancers or WAFs in front of the web listener. Only from them is X-Forwarded-For believed (right-most untrusted entry) for the client address that rate limits and sign-in counters use; empty = the connection's address."`
	RateLimitPerClientPerMinute int      `yaml:"rate_limit_per_client_per_minute" env:"OFPDP_WEB_RATE_LIMIT_PER_CLIENT_PER_MINUTE" default:"300" doc:"Requests a minute one client address may make to the web listener (a journey takes about ten; customers behind one carrier NAT share an address). Beyond it: 429 page with Retry-After."`
	RateLimitGlobalPerSecond    int      `yaml:"rate_limit_global_per_second" env:"OFPDP_WEB_RATE_LIMIT_GLOBAL_PER_SECOND" default:"500" doc:"Requests a second the web listener of this process accepts in all. Beyond it: 429 page with Retry-After."`
	AppleAppIDs                 []string `yaml:"apple_app_ids" env:"OFPDP_WEB_APPLE_APP_IDS" example:"ABCDE12345.my.bank.mobile" doc:"The bank's iOS apps (<Team ID>.<bundle id>) that open PayNet's authorize link /OFM/MY/Authorize/AIS (spec §2.4) as a Universal Link: served in /.well-known/apple-app-site-association. Empty = that file is not served (404). See docs/app-to-app.md."`
	AndroidPackage              string   `yaml:"android_package" env:"OFPDP_WEB_ANDROID_PACKAGE" example:"my.bank.mobile" doc:"The bank's Android app (package name) that opens the authorize link as an App Link: served in /.well-known/assetlinks.json with web.android_cert_fingerprints. Empty = that file is not served (404)."`
	AndroidCertFingerprints     []string `yaml:"android_cert_fingerprints" env:"OFPDP_WEB_ANDROID_CERT_FINGERPRINTS" example:"14:6D:E9:…(32 bytes)" doc:"SHA-256 fingerprints of the signing certificates of web.android_package (32 hex bytes, colons allowed; the Play app signing key, and the upload key if testers install it directly). Required with web.android_package."`
}

// Ops configures the ops listener (design §2).
type Ops struct {
	Addr            string `yaml:"addr" env:"OFPDP_OPS_ADDR" default:"127.0.0.1:9090" doc:"host:port of the ops listener (/metrics, /healthz, /readyz, admin API): plain HTTP unless ops.tls_cert_file is set. While the admin API is on, an address that is not loopback needs ops TLS."`
	AdminTokenFile  string `yaml:"admin_token_file" env:"OFPDP_OPS_ADMIN_TOKEN_FILE" example:"/etc/ofpdp/admin.token" doc:"File holding a single shared admin API bearer token (at least 32 characters; mode 0600): the operator \"admin\" with role operator. Superseded by ops.admin_tokens_file, which wins when both are set."`
	AdminTokensFile string `yaml:"admin_tokens_file" env:"OFPDP_OPS_ADMIN_TOKENS_FILE" example:"/etc/ofpdp/admin-tokens.json" doc:"File of named operator tokens (mode 0600): a JSON array of {\"name\", \"role\": \"viewer\" or \"operator\", \"token_sha256\": hex SHA-256 of the token}. Re-read within a second of a change; an edit that does not parse keeps the previous operators. Empty, and ops.admin_token_file empty = admin API disabled."`
	TLSCertFile     string `yaml:"tls_cert_file" env:"OFPDP_OPS_TLS_CERT_FILE" example:"/etc/ofpdp/pki/ops.crt" doc:"PEM certificate chain (leaf first) of the ops listener, which then serves HTTPS only. Set together with ops.tls_key_file. Empty = plain HTTP."`
	TLSKeyFile      string `yaml:"tls_key_file" env:"OFPDP_OPS_TLS_KEY_FILE" example:"/etc/ofpdp/pki/ops.key" doc:"PEM private key of ops.tls_cert_file (mode 0600)."`
}

// TLS holds the DP's server certificate (design §8 dp-server).
type TLS struct {
	CertFile string `yaml:"cert_file" env:"OFPDP_TLS_CERT_FILE" default:"pki/dp-server.crt" doc:"PEM certificate chain (leaf first) of the api and web listeners."`
	KeyFile  string `yaml:"key_file" env:"OFPDP_TLS_KEY_FILE" default:"pki/dp-server.key" doc:"PEM private key of tls.cert_file (mode 0600: a key file the group or others can read is refused)."`
}

// PayNet describes PayNet OFP as seen by the DP (spec §3.2, §4).
type PayNet struct {
	CAFile                 string        `yaml:"ca_file" env:"OFPDP_PAYNET_CA_FILE" default:"pki/ca.crt" doc:"PEM CA bundle that PayNet's client certificates and its server certificate chain to."`
	ClientCertFingerprints []string      `yaml:"client_cert_fingerprints" env:"OFPDP_PAYNET_CLIENT_CERT_FINGERPRINTS" example:"3f1c…(64 hex digits)" doc:"SHA-256 fingerprints (hex, colons allowed) of the PayNet client certificates allowed on the api listener. This or paynet.client_cert_subjects is required outside the sandbox."`
	ClientCertSubjects     []string      `yaml:"client_cert_subjects" env:"OFPDP_PAYNET_CLIENT_CERT_SUBJECTS" example:"CN=ofp.paynet.my,O=PayNet" doc:"Allowed PayNet client certificate subjects, as Go prints them (RFC 2253 order, e.g. CN=…,O=…). In the environment the list is comma-separated, so prefer fingerprints there."`
	Issuer                 string        `yaml:"issuer" env:"OFPDP_PAYNET_ISSUER" example:"paynet" doc:"Expected iss of PayNet's JWS headers: iss must be present and equal it (design §3.2). Required outside the sandbox."`
	JWKSURL                string        `yaml:"jwks_url" env:"OFPDP_PAYNET_JWKS_URL" example:"https://ofp.paynet.my/.well-known/jwks.json" doc:"URL of PayNet's signing JWKS. When set it is used and paynet.jwks_file is ignored."`
	JWKSFile               string        `yaml:"jwks_file" env:"OFPDP_PAYNET_JWKS_FILE" default:"pki/paynet.jwks.json" doc:"File with PayNet's signing JWKS, used when paynet.jwks_url is empty."`
	JWKSCacheTTL           time.Duration `yaml:"jwks_cache_ttl" env:"OFPDP_PAYNET_JWKS_CACHE_TTL" default:"15m" doc:"How long PayNet's JWKS is cached (at most 15m, spec §4.2)."`
	ConsentBaseURL         string        `yaml:"consent_base_url" env:"OFPDP_PAYNET_CONSENT_BASE_URL" default:"https://localhost:8445" example:"https://ofp.paynet.my" doc:"Base URL of PayNet's consent API; the DP calls PATCH {base}/v1/consents/{consent_id} (spec §3.2.1). The default (the sandbox's simulator) is refused unless environment is development."`
	DCJWKSURLTemplate      string        `yaml:"dc_jwks_url_template" env:"OFPDP_PAYNET_DC_JWKS_URL_TEMPLATE" default:"https://localhost:8445/v1/jwks/{dc_id}" example:"https://ofp.paynet.my/v1/jwks/{dc_id}" doc:"URL of a data consumer's JWKS at PayNet; must contain {dc_id} (spec §3.2.2). A localhost URL is refused unless environment is development."`
	PatchMaxAttempts       int           `yaml:"patch_max_attempts" env:"OFPDP_PAYNET_PATCH_MAX_ATTEMPTS" default:"3" doc:"Attempts for one update-consent PATCH (1–10)."`
	PatchBudget            time.Duration `yaml:"patch_budget" env:"OFPDP_PAYNET_PATCH_BUDGET" default:"4s" doc:"Total time allowed for all attempts of one PATCH."`
	SendStatusReason       bool          `yaml:"send_status_reason" env:"OFPDP_PAYNET_SEND_STATUS_REASON" default:"false" doc:"Include a status_reason in the PATCH body for rejected and failed consents."`
	OutboxInterval         time.Duration `yaml:"outbox_interval" env:"OFPDP_PAYNET_OUTBOX_INTERVAL" default:"30s" doc:"How often each process's outbox worker looks for compensating consent updates due to PayNet (1s–1h; negative-tests C11)."`
	OutboxMaxAttempts      int           `yaml:"outbox_max_attempts" env:"OFPDP_PAYNET_OUTBOX_MAX_ATTEMPTS" default:"10" doc:"Deliveries of one compensating consent update or revocation tried before it is abandoned (1–100); the waits between them are 1, 2, 4, 8, 16, then 30 minutes, each shortened by a random part of up to half (jitter)."`
	RevokeMethod           string        `yaml:"revoke_method" env:"OFPDP_PAYNET_REVOKE_METHOD" default:"POST" doc:"How the DP tells PayNet it revoked a consent (spec §3.2.3: PayNet has not published this endpoint): POST (the default endpoint) or PATCH (the fallback: the consent update with status revoked). Sent signed over mTLS through the outbox."`
	RevokePath             string        `yaml:"revoke_path" env:"OFPDP_PAYNET_REVOKE_PATH" default:"/v1/consents/{consent_id}/revoke" example:"/v1/consents/{consent_id}" doc:"Path of the revocation under paynet.consent_base_url; must start with / and contain {consent_id} once, no query."`
	RevokeBody             string        `yaml:"revoke_body" env:"OFPDP_PAYNET_REVOKE_BODY" example:"{\"status\":\"revoked\",\"status_reason\":{\"reason_code\":\"{reason_code}\",\"reason_description\":\"{reason_description}\"}}" doc:"JSON body template of the revocation; {consent_id}, {reason_code} and {reason_description} are replaced by JSON-escaped values. Empty = {\"status_reason\":{…}} for POST, {\"consent_id\",\"status\":\"revoked\",\"status_reason\"} for PATCH."`
	RevokeReasonCode       string        `yaml:"revoke_reason_code" env:"OFPDP_PAYNET_REVOKE_REASON_CODE" default:"not_allowed" doc:"status_reason.reason_code sent with a revocation (a code of spec §5.1)."`
}

// Expiry is the local expiry job (spec §7.3): consents past their expiration_datetime become
// expired on this DP without waiting for PayNet's event.
type Expiry struct {
	Interval  time.Duration `yaml:"interval" env:"OFPDP_EXPIRY_INTERVAL" default:"5m" doc:"How often each replica tries to take the expiry lease and expire due consents (1m–24h). Data is refused at request time anyway; this keeps the linked-accounts pages and admin views right."`
	BatchSize int           `yaml:"batch_size" env:"OFPDP_EXPIRY_BATCH_SIZE" default:"500" doc:"Most consents one run expires (1–1000); a backlog goes in later runs."`
}

// Keys are the DP's own keys (design §8 dp-sig, dp-mtls).
type Keys struct {
	SigningKeyFile  string `yaml:"signing_key_file" env:"OFPDP_KEYS_SIGNING_KEY_FILE" default:"pki/dp-sig.key" doc:"PEM private key the DP signs with (PATCH, data responses, id_token). RSA ≥ 2048 → PS256, P-384 → ES384, P-521 → ES512. Mode 0600."`
	SigningCertFile string `yaml:"signing_cert_file" env:"OFPDP_KEYS_SIGNING_CERT_FILE" default:"pki/dp-sig.crt" doc:"PEM certificate (chain) of keys.signing_key_file, as uploaded to PayNet."`
	SigningKid      string `yaml:"signing_kid" env:"OFPDP_KEYS_SIGNING_KID" example:"dp-key-id-001" doc:"kid of the signing key. Empty = the certificate's x5t#S256 thumbprint."`
	MTLSCertFile    string `yaml:"mtls_cert_file" env:"OFPDP_KEYS_MTLS_CERT_FILE" default:"pki/dp-mtls.crt" doc:"PEM client certificate the DP presents when calling PayNet."`
	MTLSKeyFile     string `yaml:"mtls_key_file" env:"OFPDP_KEYS_MTLS_KEY_FILE" default:"pki/dp-mtls.key" doc:"PEM private key of keys.mtls_cert_file (mode 0600)."`

	// Key sources and rotation (internal/keysource; docs/operations.md).
	SigningKey      string        `yaml:"signing_key" env:"OFPDP_KEYS_SIGNING_KEY" example:"pkcs11:token=ofpdp;object=dp-sig-2026?pin-source=/etc/ofpdp/hsm.pin" doc:"Key URI of the signing key, replacing keys.signing_key_file when set: file:PATH (or a plain path), pkcs11:… (RFC 7512: token= or serial=, object= or id=, ?pin-source=FILE, optional &module-path=; needs a build with PKCS#11, make build-hsm) or awskms:KEY-ARN (AWS KMS Sign; credentials from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN)."`
	MTLSKey         string        `yaml:"mtls_key" env:"OFPDP_KEYS_MTLS_KEY" example:"pkcs11:token=ofpdp;object=dp-mtls?pin-source=/etc/ofpdp/hsm.pin" doc:"Key URI of the mTLS client key, replacing keys.mtls_key_file when set (same forms as keys.signing_key)."`
	PKCS11Module    string        `yaml:"pkcs11_module" env:"OFPDP_KEYS_PKCS11_MODULE" example:"/usr/lib/softhsm/libsofthsm2.so" doc:"The HSM vendor's PKCS#11 library, for pkcs11: key URIs without module-path."`
	PKCS11Sessions  int           `yaml:"pkcs11_sessions" env:"OFPDP_KEYS_PKCS11_SESSIONS" default:"8" doc:"Sessions each PKCS#11 key keeps open in its pool (2–1024): signatures in parallel per key."`
	SigningKeysFile string        `yaml:"signing_keys_file" env:"OFPDP_KEYS_SIGNING_KEYS_FILE" example:"/etc/ofpdp/signing-keys.yaml" doc:"Key ring for rotation: a YAML file listing keys (key URI, cert, optional kid, state active, next or retired; exactly one active). The active key signs; active and next are published in the DP JWKS. Re-read every keys.reload_interval, so a promotion needs no restart. When set, keys.signing_key, keys.signing_key_file, keys.signing_cert_file and keys.signing_kid are ignored."`
	ReloadInterval  time.Duration `yaml:"reload_interval" env:"OFPDP_KEYS_RELOAD_INTERVAL" default:"30s" doc:"How often keys.signing_keys_file and the certificate files (tls.*, keys.mtls_*, paynet.ca_file, ops.tls_*) are checked for changes; a changed file is used from the next handshake, a broken one is logged and the previous kept (1s–1h)."`
}

// SigningKeyURI is the key URI of the single signing key: keys.signing_key, else keys.signing_key_file.
func (k Keys) SigningKeyURI() string { return keyURI(k.SigningKey, k.SigningKeyFile) }

// MTLSKeyURI is the key URI of the mTLS client key: keys.mtls_key, else keys.mtls_key_file.
func (k Keys) MTLSKeyURI() string { return keyURI(k.MTLSKey, k.MTLSKeyFile) }

func keyURI(uri, file string) string {
	if uri != "" {
		return uri
	}
	return "file:" + file
}

// Secrets holds server-side secrets.
type Secrets struct {
	ServerSecretFile string `yaml:"server_secret_file" env:"OFPDP_SECRETS_SERVER_SECRET_FILE" example:"/etc/ofpdp/server.secret" doc:"File with at least 32 random bytes (e.g. head -c 32 /dev/urandom), keying account ids and cursors (design §3.8). Required outside the sandbox; mode 0600; never change it once consents exist."`
}

// Authn configures customer authentication on the journey.
type Authn struct {
	SecondFactor            string `yaml:"second_factor" env:"OFPDP_AUTHN_SECOND_FACTOR" example:"otp" doc:"The bank's second factor after the password: otp (the bank sends a one-time code by its own channel; the customer types it and only the bank checks it) or app (the customer approves in the bank's app; the page waits, reloading itself). Empty = password only. The connector must implement the second-factor operations (docs/connector.md), or ofpdp does not start."`
	SecondFactorMaxFailures int    `yaml:"second_factor_max_failures" env:"OFPDP_AUTHN_SECOND_FACTOR_MAX_FAILURES" default:"3" doc:"Wrong codes in one journey before the second factor locks (only cancel is left; the consent then fails). Each code is also counted on the sign-in counters of authorize.login_*."`
	SecondFactorMaxResends  int    `yaml:"second_factor_max_resends" env:"OFPDP_AUTHN_SECOND_FACTOR_MAX_RESENDS" default:"2" doc:"New codes or approval requests a customer may ask for in one journey. Each is also counted on the sign-in counters of authorize.login_*."`
}

// Authorize configures the customer journey.
type Authorize struct {
	RedirectURIAllowlist            []string      `yaml:"redirect_uri_allowlist" env:"OFPDP_AUTHORIZE_REDIRECT_URI_ALLOWLIST" example:"https://ofp.paynet.my/callback" doc:"Exact redirect_uri values the DP will redirect to (design §3.10). Required outside the sandbox."`
	SessionIdleTimeout              time.Duration `yaml:"session_idle_timeout" env:"OFPDP_AUTHORIZE_SESSION_IDLE_TIMEOUT" default:"5m" doc:"A customer session ends after this long without a request."`
	LoginMaxFailures                int           `yaml:"login_max_failures" env:"OFPDP_AUTHORIZE_LOGIN_MAX_FAILURES" default:"5" doc:"Failed sign-ins of one username from one client address before progressive delay starts; also the failed sign-ins one journey may have before it is locked (only cancel is left, and the consent becomes failed)."`
	LoginLockout                    time.Duration `yaml:"login_lockout" env:"OFPDP_AUTHORIZE_LOGIN_LOCKOUT" default:"15m" doc:"Window of the sign-in counters: failures older than this are forgotten, and a hard lock lasts this long (below 24h)."`
	LoginDelayStep                  time.Duration `yaml:"login_delay_step" env:"OFPDP_AUTHORIZE_LOGIN_DELAY_STEP" default:"30s" doc:"Progressive delay: past authorize.login_max_failures, one more sign-in of that username from that address is allowed after 1×, 2×, 3× … this step."`
	LoginHardLockFailures           int           `yaml:"login_hard_lock_failures" env:"OFPDP_AUTHORIZE_LOGIN_HARD_LOCK_FAILURES" default:"20" doc:"Failed sign-ins of one username from any address within authorize.login_lockout that lock the username (the only lock a stranger can cause; at least authorize.login_max_failures)."`
	LoginMaxFailuresPerClient       int           `yaml:"login_max_failures_per_client" env:"OFPDP_AUTHORIZE_LOGIN_MAX_FAILURES_PER_CLIENT" default:"30" doc:"Failed sign-ins from one client address, any username, within authorize.login_lockout (password spraying). Beyond it: 429."`
	LoginMaxFailuresPerConsent      int           `yaml:"login_max_failures_per_consent" env:"OFPDP_AUTHORIZE_LOGIN_MAX_FAILURES_PER_CONSENT" default:"10" doc:"Failed sign-ins for one consent, across its journeys, within authorize.login_lockout. Beyond it the journey is locked."`
	LoginMaxFailuresGlobalPerMinute int           `yaml:"login_max_failures_global_per_minute" env:"OFPDP_AUTHORIZE_LOGIN_MAX_FAILURES_GLOBAL_PER_MINUTE" default:"600" doc:"Failed sign-ins a minute across the whole deployment (all replicas). Beyond it: 429 for everyone until the minute ends."`
	SessionsPerConsent              int           `yaml:"sessions_per_consent" env:"OFPDP_AUTHORIZE_SESSIONS_PER_CONSENT" default:"20" doc:"Journey sessions one consent may have at once; opening its link again in the same browser reuses the session."`
	RequireIdentityBinding          bool          `yaml:"require_identity_binding" env:"OFPDP_AUTHORIZE_REQUIRE_IDENTITY_BINDING" default:"true" doc:"Refuse a consent that carries no id_type and hashed_id_number (error page, PATCH failed): without them anyone who opens the link could approve it. Only environment: development (the sandbox) may set false."`
}

// IDToken configures the id_token (spec §4.5).
type IDToken struct {
	Issuer string        `yaml:"issuer" env:"OFPDP_ID_TOKEN_ISSUER" default:"https://localhost:8444" doc:"iss of the id_token: the DP's issuer URL."`
	TTL    time.Duration `yaml:"ttl" env:"OFPDP_ID_TOKEN_TTL" default:"10m" doc:"id_token lifetime (exp − iat)."`
}

// Bank configures the core-bank connector (design §6).
type Bank struct {
	Connector string        `yaml:"connector" env:"OFPDP_BANK_CONNECTOR" default:"demo" doc:"Connector implementation: demo (the built-in demo bank, development only) or http (the bank's adapter implementing docs/connector-openapi.yaml over HTTPS, see docs/connector.md)."`
	DataFile  string        `yaml:"data_file" env:"OFPDP_BANK_DATA_FILE" example:"bank-data.json" doc:"Demo connector data file. Empty = the embedded demo data."`
	Timeout   time.Duration `yaml:"timeout" env:"OFPDP_BANK_TIMEOUT" default:"4s" doc:"Deadline for one connector call; must stay below PayNet's 5 s (spec §7.1)."`
	// The http connector (docs/connector.md).
	HTTPBaseURL          string        `yaml:"http_base_url" env:"OFPDP_BANK_HTTP_BASE_URL" example:"https://corebank.internal:9443/ofpdp" doc:"http connector: the adapter's root URL; the contract's /v1/... paths are appended. https (http only with environment: development)."`
	HTTPCAFile           string        `yaml:"http_ca_file" env:"OFPDP_BANK_HTTP_CA_FILE" example:"/etc/ofpdp/pki/corebank-ca.pem" doc:"http connector: PEM CA bundle that verifies the adapter's certificate. Empty = the system roots."`
	HTTPCertFile         string        `yaml:"http_cert_file" env:"OFPDP_BANK_HTTP_CERT_FILE" example:"/etc/ofpdp/pki/corebank-client.crt" doc:"http connector: ofpdp's client certificate for mutual TLS to the adapter (with http_key_file)."`
	HTTPKeyFile          string        `yaml:"http_key_file" env:"OFPDP_BANK_HTTP_KEY_FILE" example:"/etc/ofpdp/pki/corebank-client.key" doc:"http connector: the private key of http_cert_file (a private file)."`
	HTTPBearerTokenFile  string        `yaml:"http_bearer_token_file" env:"OFPDP_BANK_HTTP_BEARER_TOKEN_FILE" example:"/etc/ofpdp/corebank-token" doc:"http connector: file holding a token sent as Authorization: Bearer on every call (a private file). Optional; mutual TLS is the recommended authentication."`
	HTTPDialTimeout      time.Duration `yaml:"http_dial_timeout" env:"OFPDP_BANK_HTTP_DIAL_TIMEOUT" default:"2s" doc:"http connector: bound on one TCP connect and TLS handshake (the call's own deadline is bank.timeout)."`
	HTTPMaxConns         int           `yaml:"http_max_conns" env:"OFPDP_BANK_HTTP_MAX_CONNS" default:"64" doc:"http connector: connections kept alive to the adapter (the pool size, 1–10000)."`
	HTTPMaxResponseBytes int64         `yaml:"http_max_response_bytes" env:"OFPDP_BANK_HTTP_MAX_RESPONSE_BYTES" default:"4194304" doc:"http connector: largest answer read from the adapter; a larger one is a transient failure (503 to PayNet)."`
	MaxInFlight          int           `yaml:"max_in_flight" env:"OFPDP_BANK_MAX_IN_FLIGHT" default:"64" doc:"Connector calls allowed to run at once in this process (1–10000). A call beyond it is refused at once: a data request gets 503 Consent.TransientAccountAccessFailure with Retry-After, the customer the unavailable page. A call stuck past its deadline keeps its slot until the connector returns."`
}

// Data configures the data endpoints.
type Data struct {
	HistoryMonths                int           `yaml:"history_months" env:"OFPDP_DATA_HISTORY_MONTHS" default:"12" doc:"How many months of transactions can be read back."`
	RateLimitPerMinute           int           `yaml:"rate_limit_per_minute" env:"OFPDP_DATA_RATE_LIMIT_PER_MINUTE" default:"200" doc:"Requests per minute allowed per data consumer (spec §7.1); above it 429 with Retry-After."`
	RateLimitPerConsentPerMinute int           `yaml:"rate_limit_per_consent_per_minute" env:"OFPDP_DATA_RATE_LIMIT_PER_CONSENT_PER_MINUTE" default:"60" doc:"Requests per minute allowed per consent, counted after the per-consumer limit (negative-tests D16); above it 429 with Retry-After."`
	DCJWKSCacheTTL               time.Duration `yaml:"dc_jwks_cache_ttl" env:"OFPDP_DATA_DC_JWKS_CACHE_TTL" default:"15m" doc:"How long a data consumer's JWKS is cached (at most 15m)."`
}

// Branding is what the customer sees.
type Branding struct {
	BankName     string `yaml:"bank_name" env:"OFPDP_BRANDING_BANK_NAME" default:"Demo Bank Berhad" doc:"Bank name shown on the customer pages."`
	LogoFile     string `yaml:"logo_file" env:"OFPDP_BRANDING_LOGO_FILE" example:"logo.svg" doc:"Logo image (SVG, PNG or JPEG) shown on the customer pages. Empty = no logo."`
	PrimaryColor string `yaml:"primary_color" env:"OFPDP_BRANDING_PRIMARY_COLOR" default:"#0b5394" doc:"Primary colour of the customer pages, #rrggbb."`
}

// Retention configures the retention purge (design §5; internal/store.Retention).
type Retention struct {
	Audit          time.Duration `yaml:"audit" env:"OFPDP_RETENTION_AUDIT" default:"61320h" doc:"Keep audit entries this long (default 7 years; at least 24h)."`
	ConsentHistory time.Duration `yaml:"consent_history" env:"OFPDP_RETENTION_CONSENT_HISTORY" default:"61320h" doc:"Keep a consent and its whole event history until it has been over (terminal, expired, or never authorized) and unchanged this long (default 7 years; at least 24h). Events are removed only together with their consent."`
	OutboundCalls  time.Duration `yaml:"outbound_calls" env:"OFPDP_RETENTION_OUTBOUND_CALLS" default:"8760h" doc:"Keep the record of each PATCH attempt to PayNet this long (default 1 year; at least 24h)."`
	Outbox         time.Duration `yaml:"outbox" env:"OFPDP_RETENTION_OUTBOX" default:"2160h" doc:"Keep finished compensating consent updates (delivered, refused, abandoned) this long (default 90 days; at least 24h). Pending ones are never purged."`
	Sessions       time.Duration `yaml:"sessions" env:"OFPDP_RETENTION_SESSIONS" default:"24h" doc:"Keep a customer session this long after its absolute expiry (at least 1h, so that a late request can still be sent back to PayNet with an error)."`
	Interval       time.Duration `yaml:"interval" env:"OFPDP_RETENTION_INTERVAL" default:"1h" doc:"How often each replica tries to take the purge lease and purge (1m–24h). Expired replay entries and failed logins older than 24h go in the same run."`
	BatchSize      int           `yaml:"batch_size" env:"OFPDP_RETENTION_BATCH_SIZE" default:"1000" doc:"Most rows one DELETE removes (1–100000); a backlog goes in many short transactions."`
}

// DC is the display information of one data consumer.
type DC struct {
	ID      string `yaml:"id" doc:"The dc_id (≤ 64 characters)."`
	Name    string `yaml:"name" doc:"Name shown to the customer (\"Back to {name}\")."`
	LogoURL string `yaml:"logo_url" doc:"Optional https URL of the consumer's logo."`
}

// Environments of the environment key.
const (
	EnvironmentProduction  = "production"
	EnvironmentDevelopment = "development"
)

// Development reports whether this is a development deployment (environment: development; the
// sandbox sets it). It is the one place that decides; only a development deployment accepts
// the demo connector, PayNet on localhost and the default dp_id.
func (c *Config) Development() bool { return c.Environment == EnvironmentDevelopment }
