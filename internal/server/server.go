package server

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/ofpdp/ofpdp/connector"
	"github.com/ofpdp/ofpdp/internal/api"
	"github.com/ofpdp/ofpdp/internal/bank"
	"github.com/ofpdp/ofpdp/internal/bank/demo"
	"github.com/ofpdp/ofpdp/internal/bank/httpbank"
	"github.com/ofpdp/ofpdp/internal/config"
	"github.com/ofpdp/ofpdp/internal/jose"
	"github.com/ofpdp/ofpdp/internal/mtls"
	"github.com/ofpdp/ofpdp/internal/obs"
	"github.com/ofpdp/ofpdp/internal/ops"
	"github.com/ofpdp/ofpdp/internal/outbox"
	"github.com/ofpdp/ofpdp/internal/paynet"
	"github.com/ofpdp/ofpdp/internal/store"
)

// Deps are what the caller injects; zero values mean the real thing.
type Deps struct {
	Logger *slog.Logger
	Now    func() time.Time
	// Bank replaces the configured connector (tests, sandbox).
	Bank connector.Connector
}

// Server is a DP assembled from configuration.
type Server struct {
	cfg     *config.Config
	logger  *slog.Logger
	now     func() time.Time
	metrics *obs.Metrics
	store   *store.Store
	ops     *ops.Handler
	outbox  *outbox.Worker
	purger  *purger
	expirer *expirer
	keys    *dpKeys

	api, web, opsSrv       *http.Server
	apiTLS, webTLS, opsTLS *tls.Config
	// reloaders check the certificate, CA and key ring files for changes (reloadFiles).
	reloaders []func(context.Context)
}

// Listeners are optional pre-opened listeners (the sandbox and tests pick free ports); a nil one
// is opened on its configured address.
type Listeners struct {
	API, Web, Ops net.Listener
}

// derive keys one purpose-specific key from the server secret (HMAC-SHA256 as a PRF).
func derive(secret []byte, purpose string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("ofpdp/" + purpose))
	return m.Sum(nil)
}

// New builds every component. It opens and migrates the database; on error nothing is left open.
func New(ctx context.Context, cfg *config.Config, d Deps) (s *Server, err error) {
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	s = &Server{cfg: cfg, logger: d.Logger, now: d.Now, metrics: obs.NewMetrics()}

	secret, err := cfg.ServerSecret()
	if err != nil {
		return nil, err
	}
	accountIDKey := derive(secret, "account-id")

	st, err := store.Open(ctx, cfg.Database.URL, store.Options{Now: d.Now, Logger: d.Logger, MaxOpenConns: cfg.Database.MaxOpenConns})
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	defer func() {
		if err != nil {
			_ = st.Close()
		}
	}()
	switch cfg.Database.MigrateMode(cfg.Development()) {
	case config.MigrateAuto:
		if err := st.Migrate(ctx); err != nil {
			return nil, fmt.Errorf("database migrations: %w", err)
		}
	case config.MigrateCheck:
		if err := st.CheckSchema(ctx); err != nil {
			return nil, fmt.Errorf("database schema: %w", err)
		}
	}
	s.store = st
	s.metrics.RegisterDBStats(st.Stats)

	var toPayNetTransport *http.Transport
	keys, err := openKeys(ctx, cfg, d.Logger, func(c tls.Certificate) {
		recordChainExpiry(s.metrics, "mtls_client", c)
		if toPayNetTransport != nil {
			toPayNetTransport.CloseIdleConnections() // the next call handshakes with the new certificate
		}
	})
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			keys.close()
		}
	}()
	s.keys = keys
	signer := &jose.Signer{Active: keys.ring, Issuer: cfg.DPID, Now: d.Now}

	// PayNet's CA bundle verifies PayNet's client certificates on the api listener and its
	// server certificates on our calls; a new bundle applies to the next handshake.
	caPool, err := mtls.LoadCAPoolReloaded("paynet.ca_file", cfg.PayNet.CAFile, d.Logger)
	if err != nil {
		return nil, fmt.Errorf("paynet.ca_file: %w", err)
	}
	toPayNet, toPayNetTransport, err := paynet.NewReloadingMTLSClient(keys.client.Get, caPool.Get, 5*time.Second)
	if err != nil {
		return nil, fmt.Errorf("mTLS client for PayNet: %w", err)
	}
	toPayNet.Transport = obs.TraceTransport(obs.SpanPayNetCall, s.metrics.TimedTransport("paynet", toPayNet.Transport))
	var source paynet.KeySource
	if cfg.PayNet.JWKSURL != "" {
		source = paynet.HTTPSource(toPayNet, cfg.PayNet.JWKSURL)
	} else {
		source = paynet.FileSource(cfg.PayNet.JWKSFile)
	}
	paynetKeys := paynet.NewKeys(paynet.KeysOptions{Source: source, TTL: cfg.PayNet.JWKSCacheTTL, Now: d.Now, Logger: d.Logger,
		OnFetchFailure: s.metrics.JWKSFetchFailures.WithLabelValues("paynet").Inc})
	if _, err := paynetKeys.Set(ctx); err != nil {
		return nil, fmt.Errorf("PayNet signing keys: %w", err)
	}
	dcKeys, err := paynet.NewDCKeys(paynet.DCKeysOptions{Client: toPayNet, URLTemplate: cfg.PayNet.DCJWKSURLTemplate,
		TTL: cfg.Data.DCJWKSCacheTTL, Now: d.Now, Logger: d.Logger, OnFetchFailure: s.metrics.JWKSFetchFailures.WithLabelValues("dc").Inc})
	if err != nil {
		return nil, fmt.Errorf("data consumer keys: %w", err)
	}
	updater, err := paynet.NewClient(paynet.ClientOptions{BaseURL: cfg.PayNet.ConsentBaseURL, HTTPClient: toPayNet,
		Signer: signer, Recorder: attemptRecorder{st: st, m: s.metrics}, MaxAttempts: cfg.PayNet.PatchMaxAttempts,
		Budget: cfg.PayNet.PatchBudget, SendStatusReason: cfg.PayNet.SendStatusReason, Now: d.Now, Logger: d.Logger,
		Revoke: paynet.RevokeOptions{Method: cfg.PayNet.RevokeMethod, Path: cfg.PayNet.RevokePath,
			Body: cfg.PayNet.RevokeBody, ReasonCode: cfg.PayNet.RevokeReasonCode}})
	if err != nil {
		return nil, fmt.Errorf("consent update client: %w", err)
	}
	s.purger = newPurger(st, cfg.Retention, s.metrics, d.Logger)
	s.expirer = newExpirer(st, cfg.Expiry, d.Now, d.Logger)
	s.outbox = &outbox.Worker{Store: st, Updater: updater, Now: d.Now, Logger: d.Logger, Metrics: s.metrics,
		Interval: cfg.PayNet.OutboxInterval, MaxAttempts: cfg.PayNet.OutboxMaxAttempts}

	raw := d.Bank
	if raw == nil {
		if raw, err = openBank(ctx, cfg, d.Logger, s.metrics); err != nil {
			return nil, err
		}
	}
	// Every connector call, from the api and the web listener alike, goes through one Guard:
	// a panic in the bank's adapter becomes an error, and calls in flight are bounded.
	conn, err := bank.NewGuard(raw, cfg.Bank.MaxInFlight, d.Logger)
	if err != nil {
		return nil, fmt.Errorf("bank.max_in_flight: %w", err)
	}

	serverCert, err := mtls.LoadKeyPair("tls.cert_file", cfg.TLS.CertFile, cfg.TLS.KeyFile,
		func(c tls.Certificate) { recordChainExpiry(s.metrics, "tls_server", c) }, d.Logger)
	if err != nil {
		return nil, fmt.Errorf("tls certificate: %w", err)
	}
	if err := recordCertificateExpiry(s.metrics, cfg); err != nil {
		return nil, err
	}
	s.reloaders = []func(context.Context){
		func(context.Context) { serverCert.Check() }, func(context.Context) { keys.client.Check() },
		func(context.Context) {
			if caPool.Check() {
				toPayNetTransport.CloseIdleConnections()
			}
		},
		keys.ring.Check,
	}
	proxies, err := cfg.API.TrustedProxyPrefixes()
	if err != nil {
		return nil, fmt.Errorf("api.trusted_proxies: %w", err)
	}
	gate, err := mtls.NewGate(mtls.GateOptions{Fingerprints: cfg.PayNet.ClientCertFingerprints,
		Subjects: cfg.PayNet.ClientCertSubjects, Roots: caPool.Get(), Header: cfg.API.ClientCertHeader, Proxies: proxies, Now: d.Now})
	if err != nil {
		return nil, err
	}

	verifier := &jose.Verifier{Keys: paynetKeys, Replay: replayNamespace{st: st, prefix: "paynet:"}, Now: d.Now, Issuer: cfg.PayNet.Issuer}
	apiHandler, err := api.New(api.Options{DPID: cfg.DPID, Gate: gate, Verifier: verifier, Events: st,
		MaxBodyBytes: cfg.API.MaxBodyBytes, Metrics: s.metrics, Logger: d.Logger, Now: d.Now,
		Data: &api.DataOptions{Consents: st, Bank: conn, DCKeys: dcKeys, Sealer: signer,
			BankTimeout: cfg.Bank.Timeout, HistoryMonths: cfg.Data.HistoryMonths, CursorKey: derive(secret, "cursor"),
			AccountIDKey: accountIDKey, RateLimitPerMinute: cfg.Data.RateLimitPerMinute,
			RateLimitPerConsentPerMinute: cfg.Data.RateLimitPerConsentPerMinute, InstitutionName: cfg.Branding.BankName}})
	if err != nil {
		return nil, err
	}
	webHandler, err := newWeb(cfg, st, conn, verifier, updater, signer, accountIDKey, s.metrics, d)
	if err != nil {
		return nil, err
	}

	checks := map[string]ops.Check{
		"database": st.Ping,
		// At or above the binary's minimum, so a rolling upgrade's migration to a newer
		// schema leaves the old replicas ready (store.MinSchemaVersion).
		"migrations":  st.CheckSchema,
		"signing_key": keys.ring.Ready,
		"mtls_key":    keys.mtls.Ready,
	}
	if r, ok := raw.(interface{ Ready(context.Context) error }); ok {
		checks["bank"] = r.Ready
	}
	adminToken, err := cfg.AdminToken()
	if err != nil {
		return nil, err
	}
	var operators ops.Authenticator
	if cfg.Ops.AdminTokensFile != "" {
		if operators, err = ops.OpenTokensFile(cfg.Ops.AdminTokensFile, d.Now); err != nil {
			return nil, fmt.Errorf("ops.admin_tokens_file: %w", err)
		}
	}
	// PayNet's JWKS is advisory: while PayNet's key endpoint is down, PayNet's own calls fail
	// verification anyway, and taking the replica out of the load balancer would only take the
	// customer pages down with it.
	advisory := map[string]ops.Check{
		"paynet_keys": func(ctx context.Context) error { _, err := paynetKeys.Set(ctx); return err },
	}
	s.ops = ops.New(ops.Options{Metrics: s.metrics, Checks: checks, Advisory: advisory, AdminToken: adminToken, Operators: operators,
		Admin: st, Logger: d.Logger, Now: d.Now})

	clientAuth := tls.RequireAndVerifyClientCert
	if cfg.API.ClientCertHeader != "" {
		// Behind a TLS-terminating proxy the proxy presents no PayNet certificate itself;
		// the Gate reads the forwarded one, and only from the trusted proxies.
		clientAuth = tls.VerifyClientCertIfGiven
	}
	s.apiTLS = mtls.ReloadingServerConfig(serverCert, caPool, clientAuth)
	if !cfg.Web.InsecureHTTP {
		s.webTLS = mtls.ReloadingServerConfig(serverCert, nil, tls.NoClientCert)
	}
	if cfg.Ops.TLSCertFile != "" {
		opsCert, err := mtls.LoadKeyPair("ops.tls_cert_file", cfg.Ops.TLSCertFile, cfg.Ops.TLSKeyFile, nil, d.Logger)
		if err != nil {
			return nil, fmt.Errorf("ops tls certificate: %w", err)
		}
		s.opsTLS = mtls.ReloadingServerConfig(opsCert, nil, tls.NoClientCert)
		s.reloaders = append(s.reloaders, func(context.Context) { opsCert.Check() })
	}
	errLog := slog.NewLogLogger(d.Logger.Handler(), slog.LevelWarn)
	s.api = &http.Server{Handler: apiHandler, TLSConfig: s.apiTLS, ReadHeaderTimeout: cfg.API.ReadHeaderTimeout,
		ReadTimeout: cfg.API.ReadTimeout, WriteTimeout: cfg.API.WriteTimeout, IdleTimeout: cfg.API.IdleTimeout,
		MaxHeaderBytes: 64 << 10, ErrorLog: errLog}
	s.web = &http.Server{Handler: obs.AccessLog("web", d.Logger, s.metrics, d.Now, webHandler), TLSConfig: s.webTLS,
		ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 15 * time.Second, WriteTimeout: 15 * time.Second,
		IdleTimeout: 60 * time.Second, MaxHeaderBytes: 64 << 10, ErrorLog: errLog}
	s.opsSrv = &http.Server{Handler: s.ops, TLSConfig: s.opsTLS, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 10 * time.Second, ErrorLog: errLog}
	return s, nil
}

// OpenConnector opens the connector cfg names, as the server does (`ofpdp doctor`).
func OpenConnector(ctx context.Context, cfg *config.Config, logger *slog.Logger) (connector.Connector, error) {
	return openBank(ctx, cfg, logger, obs.NewMetrics())
}

func openBank(ctx context.Context, cfg *config.Config, logger *slog.Logger, m *obs.Metrics) (connector.Connector, error) {
	switch cfg.Bank.Connector {
	case "demo":
		if cfg.Bank.DataFile != "" {
			c, err := demo.LoadFile(cfg.Bank.DataFile, demo.Options{})
			if err != nil {
				return nil, fmt.Errorf("bank.data_file: %w", err)
			}
			return c, nil
		}
		return demo.Embedded(demo.Options{})
	case "http":
		return openHTTPBank(cfg, logger, m)
	}
	if open, ok := connector.Lookup(cfg.Bank.Connector); ok {
		c, err := open(ctx, logger.With("component", "bank"))
		if err == nil && c == nil {
			err = errors.New("the connector's Opener returned none")
		}
		if err != nil {
			return nil, fmt.Errorf("bank.connector %q: %w", cfg.Bank.Connector, err)
		}
		return c, nil
	}
	return nil, fmt.Errorf("bank.connector %q: want demo, http or a registered connector", cfg.Bank.Connector)
}

// openHTTPBank is the http connector (docs/connector-openapi.yaml) with the bank.http_* settings.
func openHTTPBank(cfg *config.Config, logger *slog.Logger, m *obs.Metrics) (connector.Connector, error) {
	b := cfg.Bank
	tlsConf := &tls.Config{MinVersion: tls.VersionTLS12}
	if b.HTTPCAFile != "" {
		roots, err := mtls.LoadCAPool(b.HTTPCAFile)
		if err != nil {
			return nil, fmt.Errorf("bank.http_ca_file: %w", err)
		}
		tlsConf.RootCAs = roots
	}
	if b.HTTPCertFile != "" {
		cert, err := tls.LoadX509KeyPair(b.HTTPCertFile, b.HTTPKeyFile)
		if err != nil {
			return nil, fmt.Errorf("bank.http_cert_file: %w", err)
		}
		tlsConf.Certificates = []tls.Certificate{cert}
	}
	var token string
	if b.HTTPBearerTokenFile != "" {
		raw, err := os.ReadFile(b.HTTPBearerTokenFile)
		if err != nil {
			return nil, fmt.Errorf("bank.http_bearer_token_file: %w", err)
		}
		if token = strings.TrimSpace(string(raw)); token == "" {
			return nil, fmt.Errorf("bank.http_bearer_token_file: %s is empty", b.HTTPBearerTokenFile)
		}
	}
	c, err := httpbank.New(httpbank.Options{BaseURL: b.HTTPBaseURL, TLS: tlsConf, BearerToken: token,
		DialTimeout: b.HTTPDialTimeout, MaxConns: b.HTTPMaxConns, MaxResponseBytes: b.HTTPMaxResponseBytes,
		Logger: logger.With("component", "bank"),
		// Each call is timed and traced; traceparent carries the trace on to the adapter.
		WrapTransport: func(rt http.RoundTripper) http.RoundTripper {
			return obs.TraceTransport(obs.SpanConnectorHTTP, m.TimedTransport("corebank", rt))
		}})
	if err != nil {
		return nil, fmt.Errorf("bank.http_base_url: %w", err)
	}
	return c, nil
}

// Store returns the server's store (tests and the sandbox read it).
func (s *Server) Store() *store.Store { return s.store }

// Run serves the three listeners until ctx ends or one fails, then shuts down gracefully:
// readiness answers 503 for shutdown.drain_delay while the listeners keep serving, then they
// stop accepting and finish in-flight requests (up to shutdown.timeout), and the database closes.
func (s *Server) Run(ctx context.Context, ls Listeners) error {
	var err error
	open := func(l net.Listener, addr string) net.Listener {
		if l != nil || err != nil {
			return l
		}
		l, err = net.Listen("tcp", addr)
		return l
	}
	ls.API = open(ls.API, s.cfg.API.Addr)
	ls.Web = open(ls.Web, s.cfg.Web.Addr)
	ls.Ops = open(ls.Ops, s.cfg.Ops.Addr)
	if err != nil {
		for _, l := range []net.Listener{ls.API, ls.Web, ls.Ops} {
			if l != nil {
				_ = l.Close()
			}
		}
		_ = s.store.Close()
		return fmt.Errorf("listen: %w", err)
	}

	purgeCtx, stopPurge := context.WithCancel(context.Background())
	purgeDone := make(chan struct{})
	go func() { defer close(purgeDone); s.purger.run(purgeCtx) }()
	expiryDone := make(chan struct{})
	go func() { defer close(expiryDone); s.expirer.run(purgeCtx) }()
	certsDone := make(chan struct{})
	go func() { defer close(certsDone); s.reloadFiles(purgeCtx, s.cfg.Keys.ReloadInterval) }()
	outboxDone := make(chan struct{})
	go func() {
		defer close(outboxDone)
		if err := s.outbox.Run(purgeCtx); err != nil {
			s.logger.Error("consent update outbox worker", "cause", err.Error())
		}
	}()

	errc := make(chan error, 3)
	serve := func(name string, srv *http.Server, l net.Listener, tlsOn bool) {
		var e error
		if tlsOn {
			e = srv.Serve(tls.NewListener(l, srv.TLSConfig))
		} else {
			e = srv.Serve(l)
		}
		if !errors.Is(e, http.ErrServerClosed) {
			errc <- fmt.Errorf("%s listener: %w", name, e)
			return
		}
		errc <- nil
	}
	go serve("api", s.api, ls.API, true)
	go serve("web", s.web, ls.Web, s.webTLS != nil)
	go serve("ops", s.opsSrv, ls.Ops, s.opsTLS != nil)
	s.logger.Info("ofpdp serving", "api", ls.API.Addr().String(), "web", ls.Web.Addr().String(), "ops", ls.Ops.Addr().String())

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	// Out of the load balancer first: /readyz answers 503 while every listener keeps serving for
	// shutdown.drain_delay, then in-flight requests get shutdown.timeout to finish.
	s.ops.SetDraining(true)
	if d := s.cfg.Shutdown.DrainDelay; d > 0 && runErr == nil {
		s.logger.Info("draining", "delay", d.String())
		time.Sleep(d)
	}
	s.logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), s.cfg.Shutdown.Timeout)
	defer cancel()
	var wg sync.WaitGroup
	for _, srv := range []*http.Server{s.api, s.web} {
		wg.Add(1)
		go func() { defer wg.Done(); _ = srv.Shutdown(shutdownCtx) }()
	}
	wg.Wait()
	_ = s.opsSrv.Shutdown(shutdownCtx)
	stopPurge()
	<-outboxDone // its last writes land before the database closes
	<-purgeDone
	<-expiryDone
	<-certsDone
	s.keys.close()
	if err := s.store.Close(); err != nil && runErr == nil {
		runErr = err
	}
	s.logger.Info("stopped")
	return runErr
}

// replayNamespace gives PayNet's jti values their own namespace in the shared replay table.
type replayNamespace struct {
	st     *store.Store
	prefix string
}

func (r replayNamespace) UseOnce(ctx context.Context, jti string, until time.Time) (bool, error) {
	return r.st.UseOnce(ctx, r.prefix+jti, until)
}

// attemptRecorder stores each PATCH attempt and counts it.
type attemptRecorder struct {
	st *store.Store
	m  *obs.Metrics
}

func (a attemptRecorder) RecordAttempt(ctx context.Context, at paynet.Attempt) error {
	a.m.ConsentUpdates.WithLabelValues(at.Outcome).Inc()
	return a.st.RecordOutboundCall(ctx, store.OutboundCall{ConsentID: at.ConsentID, Method: at.Method, URL: at.URL,
		InteractionID: at.InteractionID, Outcome: at.Outcome, Error: at.Error, Attempt: at.Number,
		HTTPStatus: at.HTTPStatus, StartedAt: at.StartedAt, Duration: at.Duration})
}

// reloadFiles checks the certificate, CA and signing key ring files every interval until ctx
// ends: a changed file is read again and used from the next handshake or signature on; a bad one
// is logged and the previous version kept (mtls.Reloaded, keysource.Ring.Check).
func (s *Server) reloadFiles(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			for _, check := range s.reloaders {
				check(ctx)
			}
		}
	}
}
