package sandbox

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/ofpdp/ofpdp/internal/mtls"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/ofpdp/ofpdp/internal/bank/demo"
	"github.com/ofpdp/ofpdp/internal/config"
	"github.com/ofpdp/ofpdp/internal/jose"
	"github.com/ofpdp/ofpdp/internal/ofp/mockdc"
	"github.com/ofpdp/ofpdp/internal/ofp/sim"
	"github.com/ofpdp/ofpdp/internal/ofp/wire"
	"github.com/ofpdp/ofpdp/internal/pki"
	"github.com/ofpdp/ofpdp/internal/server"
)

// Identifiers of the sandbox (issue 6 §3).
const (
	DPID         = "DP0000000001"
	DCID         = "DC0000000001"
	PayNetIssuer = sim.DefaultPayNetIssuer
	// DefaultDir is where `ofpdp sandbox` keeps its files.
	DefaultDir = ".sandbox"
	// Host is the loopback address every listener binds.
	Host = "127.0.0.1"
)

// Files in the sandbox directory.
const (
	PKISubdir  = "pki"
	SecretFile = "server.secret"
	DBFile     = "ofpdp.db"
)

// Ports are the TCP ports of the six listeners.
type Ports struct {
	API, Web, Ops int // the DP (design.md §2)
	SimMTLS       int // the simulator's mTLS listener: PayNet's consent API and JWKS
	SimPublic     int // the simulator's JSON API and browser callback
	DC            int // the mock data consumer
	CoreBank      int // the mock core bank (default DefaultCoreBankPort)
	Phone         int // the sandbox phone page, with SecondFactor (default DefaultPhonePort)
}

// DefaultPorts are the fixed ports of `ofpdp sandbox`.
var DefaultPorts = Ports{API: 8443, Web: 8444, Ops: 9090, SimMTLS: 8445, SimPublic: 8446, DC: 8447}

// PortsFrom numbers the listeners from n: api n, web n+1, simulator mTLS n+2, simulator public
// n+3, mock DC n+4, ops n+5 (--ports-from).
func PortsFrom(n int) Ports {
	return Ports{API: n, Web: n + 1, SimMTLS: n + 2, SimPublic: n + 3, DC: n + 4, Ops: n + 5}
}

// Options configure a sandbox.
type Options struct {
	// Dir holds the PKI, the database, the server secret and sandbox.json (default ".sandbox").
	Dir string
	// Ephemeral binds every listener to a free port instead of Ports (tests).
	Ephemeral bool
	// Ports overrides DefaultPorts; a zero field keeps the default.
	Ports Ports
	// WebTLS serves the DP's web listener over HTTPS (dp-server.crt) instead of plain HTTP.
	WebTLS bool
	// Logger receives the logs of every component (default: discarded).
	Logger *slog.Logger
	// Now is the clock of every component (default time.Now).
	Now func() time.Time
	// Connector is the DP's connector: ConnectorHTTP (default) or ConnectorDemo.
	Connector string
	// BankURL, when set, points the DP at an external core bank implementing
	// docs/connector-openapi.yaml instead of the mock core bank; BankCA verifies it.
	BankURL, BankCA string
	// Users are the sign-ins sandbox.json lists; empty = the demo logins, unless BankURL is set.
	Users []UserInfo
	// HSM keeps the DP's signing and mTLS client keys in a SoftHSM2 token in DIR/hsm, with
	// their PKI in DIR/pki-hsm (needs a build with PKCS#11: make build-hsm).
	HSM bool
	// SigningKeysFile is a signing key ring (keys.signing_keys_file) for the DP instead of
	// dp-sig: the simulator is given its active and next keys as dp.jwks.json.
	SigningKeysFile string
	// SecondFactor is authn.second_factor of the sandbox DP: "otp" or "app" (empty: none). It
	// needs the demo bank (not --bank-url); its codes and approvals are on the phone page.
	SecondFactor string
	// KeysReloadInterval is the DP's keys.reload_interval (default 30 s): how soon a changed
	// SigningKeysFile is picked up without a restart.
	KeysReloadInterval time.Duration
	// DPKeysTTL is how long the simulator trusts its copy of dp.jwks.json before reading it
	// again (default and maximum 15 min, PayNet's cache of a participant's keys, spec §4.2).
	DPKeysTTL time.Duration
	// DPKeysRefreshGap rate-limits the simulator's extra read of dp.jwks.json on an unknown
	// kid (default 30 s).
	DPKeysRefreshGap time.Duration
}

// ErrPKI is wrapped when DIR/pki exists but cannot be used.
var ErrPKI = errors.New("sandbox: unusable PKI directory")

// Running is a started sandbox.
type Running struct {
	info     Info
	infoPath string
	cancel   context.CancelFunc
	done     chan struct{}
	err      error
	stopOnce sync.Once
}

// Info is the content of sandbox.json.
func (r *Running) Info() Info { return r.info }

// InfoPath is where sandbox.json was written.
func (r *Running) InfoPath() string { return r.infoPath }

// Done is closed when every component has stopped.
func (r *Running) Done() <-chan struct{} { return r.done }

// Wait blocks until every component has stopped (the context given to Start ended, Stop was
// called, or one component failed, which stops the others) and returns the failures.
func (r *Running) Wait() error {
	<-r.done
	return r.err
}

// Stop shuts every component down gracefully and waits for them.
func (r *Running) Stop() error {
	r.stopOnce.Do(r.cancel)
	return r.Wait()
}

// component is one long-running part of the sandbox.
type component struct {
	name string
	run  func(ctx context.Context) error
}

// Start builds and starts the sandbox and returns once the DP answers ready and sandbox.json is
// written. ctx bounds the start only; the sandbox then runs until Stop is called or one of its
// components fails.
func Start(ctx context.Context, o Options) (*Running, error) {
	if o.Dir == "" {
		o.Dir = DefaultDir
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	pkiDir := filepath.Join(dir, PKISubdir)
	if o.HSM {
		pkiDir = filepath.Join(dir, HSMPKISubdir)
	}
	if err := ensurePKI(pkiDir, pkiNames(pkiDir, o.HSM), o.Now()); err != nil {
		return nil, err
	}
	var hsm *hsmConfig
	if o.HSM {
		if hsm, err = hsmKeys(dir, pkiDir, o.Now()); err != nil {
			return nil, err
		}
	}
	secret, err := ensureSecret(filepath.Join(dir, SecretFile))
	if err != nil {
		return nil, err
	}

	if err := publishDPKeys(o.SigningKeysFile, pkiDir); err != nil {
		return nil, err
	}

	ls, err := listen(o)
	if err != nil {
		return nil, err
	}
	cb, err := openCoreBank(o, pkiDir)
	if err != nil {
		ls.close()
		return nil, err
	}
	closeAll := func() { ls.close(); cb.close() }
	demoBank, _ := cb.demo.(*demo.Connector)
	if o.SecondFactor != "" && demoBank == nil {
		closeAll()
		return nil, errors.New("sandbox: --second-factor needs the demo bank (not --bank-url)")
	}

	webScheme := "http"
	if o.WebTLS {
		webScheme = "https"
	}
	urls := struct{ api, web, ops, simMTLS, simPublic, dc string }{
		api: "https://" + ls.api.Addr().String(), web: webScheme + "://" + ls.web.Addr().String(),
		ops: "http://" + ls.ops.Addr().String(), simMTLS: "https://" + ls.simMTLS.Addr().String(),
		simPublic: "http://" + ls.simPublic.Addr().String(), dc: "http://" + ls.dc.Addr().String(),
	}

	simulator, err := sim.New(sim.Options{PKIDir: pkiDir, DPID: DPID, DCID: DCID, DCName: mockdc.DefaultAppName,
		DPAPIURL: urls.api, DPWebURL: urls.web, PublicURL: urls.simPublic, PayNetIssuer: PayNetIssuer,
		IDTokenIssuer: urls.web, DPKeysTTL: o.DPKeysTTL, DPKeysRefreshGap: o.DPKeysRefreshGap, Now: o.Now, Logger: o.Logger.With("component", "paynet-sim")})
	if err != nil {
		closeAll()
		return nil, err
	}

	runCtx, cancel := context.WithCancel(context.Background())
	r := &Running{cancel: cancel, done: make(chan struct{})}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	start := func(c component) {
		wg.Go(func() {
			if err := c.run(runCtx); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("%s: %w", c.name, err))
				mu.Unlock()
			}
			// One component ending ends the sandbox.
			cancel()
		})
	}
	finish := func() {
		wg.Wait()
		mu.Lock()
		r.err = errors.Join(errs...)
		mu.Unlock()
		close(r.done)
	}
	abort := func(err error) (*Running, error) {
		cancel()
		closeAll()
		finish()
		return nil, errors.Join(err, r.err)
	}

	simMTLS, simPublic := ls.simMTLS, ls.simPublic
	ls.simMTLS, ls.simPublic = nil, nil
	start(component{"PayNet simulator", func(ctx context.Context) error { return simulator.Serve(ctx, simMTLS, simPublic) }})

	cfg, err := buildConfig(o, dir, pkiDir, secret, ls, urls.web, urls.simMTLS, simulator.RedirectURI(), cb, hsm)
	if err != nil {
		return abort(err)
	}
	adminToken, err := writeAdminTokens(filepath.Join(dir, AdminTokensFile))
	if err != nil {
		return abort(err)
	}
	cfg.Ops.AdminTokensFile = filepath.Join(dir, AdminTokensFile)
	cfg.Shutdown.DrainDelay = 0 // no load balancer to leave: stop at once
	if cb.ln != nil {
		bankLn := cb.ln
		cb.ln = nil
		start(component{"mock core bank", func(ctx context.Context) error { return cb.serveOn(ctx, bankLn) }})
	}
	srv, err := server.New(ctx, cfg, server.Deps{Logger: o.Logger.With("component", "dp"), Now: o.Now, Bank: cb.inProcess})
	if err != nil {
		return abort(fmt.Errorf("sandbox: DP: %w", err))
	}
	dpLs := server.Listeners{API: ls.api, Web: ls.web, Ops: ls.ops}
	ls.api, ls.web, ls.ops = nil, nil, nil
	start(component{"DP", func(ctx context.Context) error { return srv.Run(ctx, dpLs) }})

	// The sign-ins sandbox.json lists: --users, or the demo customers, whose identities come
	// from the demo bank itself so that sandbox.json, the mock DC's customer list and the DP agree
	// on who is who. An external core bank (--bank-url) has no demo customers.
	users := o.Users
	if len(users) == 0 && cb.demo != nil {
		for _, l := range demo.Logins() {
			c, err := cb.demo.Authenticate(ctx, l.Username, l.Password)
			if err != nil {
				return abort(fmt.Errorf("sandbox: demo login %s: %w", l.Username, err))
			}
			users = append(users, UserInfo{Username: l.Username, Password: l.Password, Name: l.Name, IDType: c.IDType, IDNumber: c.IDNumber,
				CustomerRef: c.Ref})
		}
	}
	var customers []mockdc.Customer
	for _, u := range users {
		if u.IDType != "" && u.IDNumber != "" {
			customers = append(customers, mockdc.Customer{Username: u.Username, Name: u.Name, IDType: wire.IDType(u.IDType), IDNumber: u.IDNumber})
		}
	}
	dc, err := mockdc.New(mockdc.Options{Sim: &sim.Client{BaseURL: urls.simPublic}, PublicURL: urls.dc, DCID: DCID,
		Banks: []mockdc.Bank{{ID: mockdc.DefaultBankID, Name: cfg.Branding.BankName}}, Customers: customers, Now: o.Now,
		Logger: o.Logger.With("component", "mock-dc")})
	if err != nil {
		return abort(err)
	}
	dcLn := ls.dc
	ls.dc = nil
	start(component{"mock DC", func(ctx context.Context) error { return dc.Serve(ctx, dcLn) }})

	var phoneURL string
	if o.SecondFactor != "" {
		phoneLn, err := listenExtra(o, o.Ports.Phone, DefaultPhonePort, "the phone page", "--phone-port")
		if err != nil {
			return abort(err)
		}
		phoneURL = "http://" + phoneLn.Addr().String()
		h := newPhone(demoBank, users)
		start(component{"sandbox phone", func(ctx context.Context) error { return serveHTTP(ctx, phoneLn, h) }})
	}

	if err := waitReady(ctx, runCtx, urls.ops+"/readyz"); err != nil {
		return abort(err)
	}

	r.info = Info{
		DP:     DPInfo{APIURL: urls.api, WebURL: urls.web, OpsURL: urls.ops, AdminToken: adminToken},
		PayNet: URLInfo{URL: urls.simPublic}, DC: URLInfo{URL: urls.dc},
		PKIDir: pkiDir, DPID: DPID, DCID: DCID, RedirectURI: simulator.RedirectURI(), Users: users,
		Bank: BankInfo{URL: cfg.Bank.HTTPBaseURL}, Phone: URLInfo{URL: phoneURL},
		Authn: AuthnInfo{Mode: "password", SecondFactor: o.SecondFactor},
	}
	if r.infoPath, err = writeInfo(dir, r.info); err != nil {
		return abort(err)
	}
	go finish()
	o.Logger.Info("sandbox running", "dc", urls.dc, "dp_web", urls.web, "dp_api", urls.api, "paynet", urls.simPublic)
	return r, nil
}

// listeners are the sandbox's open sockets; a nil one has been handed to its component.
type listeners struct {
	api, web, ops, simMTLS, simPublic, dc net.Listener
}

func (l *listeners) close() {
	for _, ln := range []net.Listener{l.api, l.web, l.ops, l.simMTLS, l.simPublic, l.dc} {
		if ln != nil {
			_ = ln.Close()
		}
	}
}

// listenExtra opens a listener outside the six of listen: port, or def when port is 0, or a free
// one with Ephemeral; flag is the option that moves it.
func listenExtra(o Options, port, def int, name, flag string) (net.Listener, error) {
	if port == 0 {
		port = def
	}
	if o.Ephemeral {
		port = 0
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(Host, strconv.Itoa(port)))
	if err != nil {
		return nil, fmt.Errorf("sandbox: %s cannot listen on %s:%d (%w); free the port, or choose another with %s", name, Host, port, err, flag)
	}
	return ln, nil
}

// listen opens the six listeners on the loopback interface.
func listen(o Options) (*listeners, error) {
	p := DefaultPorts
	set := func(dst *int, v int) {
		if v != 0 {
			*dst = v
		}
	}
	set(&p.API, o.Ports.API)
	set(&p.Web, o.Ports.Web)
	set(&p.Ops, o.Ports.Ops)
	set(&p.SimMTLS, o.Ports.SimMTLS)
	set(&p.SimPublic, o.Ports.SimPublic)
	set(&p.DC, o.Ports.DC)
	l := &listeners{}
	for _, x := range []struct {
		name string
		port int
		dst  *net.Listener
		flag string
	}{
		{"DP api", p.API, &l.api, "--api-port"}, {"DP web", p.Web, &l.web, "--web-port"}, {"DP ops", p.Ops, &l.ops, "--ops-port"},
		{"PayNet simulator (mTLS)", p.SimMTLS, &l.simMTLS, "--sim-port"},
		{"PayNet simulator (public)", p.SimPublic, &l.simPublic, "--sim-public-port"},
		{"mock DC", p.DC, &l.dc, "--dc-port"},
	} {
		port := x.port
		if o.Ephemeral {
			port = 0
		}
		if port < 0 || port > 65535 {
			l.close()
			return nil, fmt.Errorf("sandbox: %s port %d is out of range", x.name, port)
		}
		ln, err := net.Listen("tcp", net.JoinHostPort(Host, strconv.Itoa(port)))
		if err != nil {
			l.close()
			return nil, fmt.Errorf("sandbox: %s cannot listen on %s:%d (%w); free the port, or choose others with %s or --ports-from N",
				x.name, Host, port, err, x.flag)
		}
		*x.dst = ln
	}
	return l, nil
}

// buildConfig is the DP's configuration in the sandbox (issue 6 §3).
func buildConfig(o Options, dir, pkiDir string, secretFile string, ls *listeners, webURL, simMTLSURL, redirectURI string, cb *coreBank, hsm *hsmConfig) (*config.Config, error) {
	cfg, err := config.Load("", nil)
	if err != nil {
		return nil, fmt.Errorf("sandbox: default configuration: %w", err)
	}
	p := func(name string) string { return filepath.Join(pkiDir, name) }
	paynetMTLS, err := jose.LoadCertificatesFile(p("paynet-mtls.crt"))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrPKI, err)
	}
	cfg.Sandbox = true
	// The demo bank, the simulator on localhost and the default dp_id are what the sandbox is.
	cfg.Environment = config.EnvironmentDevelopment
	cfg.DPID = DPID
	cfg.Log.Format = "text"
	cfg.Database.URL = filepath.Join(dir, DBFile)
	cfg.API.Addr = ls.api.Addr().String()
	cfg.Web.Addr = ls.web.Addr().String()
	cfg.Web.PublicURL = webURL
	cfg.Web.InsecureHTTP = !o.WebTLS
	cfg.Ops.Addr = ls.ops.Addr().String()
	cfg.TLS.CertFile, cfg.TLS.KeyFile = p("dp-server.crt"), p("dp-server.key")
	cfg.PayNet.CAFile = p("ca.crt")
	cfg.PayNet.ClientCertFingerprints = []string{mtls.Fingerprint(paynetMTLS[0])}
	cfg.PayNet.Issuer = PayNetIssuer
	cfg.PayNet.JWKSURL = simMTLSURL + "/v1/jwks/paynet"
	cfg.PayNet.ConsentBaseURL = simMTLSURL
	cfg.PayNet.DCJWKSURLTemplate = simMTLSURL + "/v1/jwks/{dc_id}"
	cfg.Keys.SigningKeyFile, cfg.Keys.SigningCertFile = p("dp-sig.key"), p("dp-sig.crt")
	cfg.Keys.MTLSCertFile, cfg.Keys.MTLSKeyFile = p("dp-mtls.crt"), p("dp-mtls.key")
	cfg.Keys.SigningKeysFile = o.SigningKeysFile
	if o.KeysReloadInterval > 0 {
		cfg.Keys.ReloadInterval = o.KeysReloadInterval
	}
	if hsm != nil {
		cfg.Keys.SigningKey, cfg.Keys.MTLSKey, cfg.Keys.PKCS11Module = hsm.signingKey, hsm.mtlsKey, hsm.module
	}
	cfg.Secrets.ServerSecretFile = secretFile
	cfg.Authorize.RedirectURIAllowlist = []string{redirectURI}
	cfg.Authn.SecondFactor = o.SecondFactor
	// Revocations and compensating updates reach the simulator within a second.
	cfg.PayNet.OutboxInterval = time.Second
	cfg.IDToken.Issuer = webURL
	cfg.DCs = []config.DC{{ID: DCID, Name: mockdc.DefaultAppName}}
	// Every party of the sandbox — browser, simulator, mock DC, conformance runner — reaches the
	// DP from 127.0.0.1, so limits per client address would count them all as one client: they are
	// raised here. The per-username, per-consent and global limits stay as in production.
	cfg.Web.RateLimitPerClientPerMinute = 100 * cfg.Web.RateLimitPerClientPerMinute
	cfg.Authorize.LoginMaxFailuresPerClient = 100 * cfg.Authorize.LoginMaxFailuresPerClient
	cb.configure(cfg, pkiDir)
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("sandbox: the generated DP configuration is invalid:\n%w", err)
	}
	return cfg, nil
}

// ensurePKI generates the development PKI of design.md §8 in dir when none of its files exist,
// and otherwise checks that all of them do and that the certificates are still valid.
func ensurePKI(dir string, names []string, now time.Time) error {
	var present []string
	for _, n := range names {
		if _, err := os.Stat(filepath.Join(dir, n)); err == nil {
			present = append(present, n)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%w: %w", ErrPKI, err)
		}
	}
	switch len(present) {
	case 0:
		if _, err := pki.Generate(dir, pki.Options{Hosts: []string{"localhost", Host}, Now: func() time.Time { return now }}); err != nil {
			return fmt.Errorf("sandbox: generating the PKI: %w", err)
		}
		return nil
	case len(names):
	default:
		return fmt.Errorf("%w: %s holds %d of the %d files of design §8; remove the directory to generate a new PKI",
			ErrPKI, dir, len(present), len(names))
	}
	for _, n := range names {
		if filepath.Ext(n) == ".key" {
			// The DP refuses a private key the group or others can read (config.Validate);
			// narrow one that an older ofpdp or a copy left open, as ensureSecret does.
			if err := narrowToOwner(filepath.Join(dir, n)); err != nil {
				return fmt.Errorf("%w: %w", ErrPKI, err)
			}
			continue
		}
		if filepath.Ext(n) != ".crt" {
			continue
		}
		certs, err := jose.LoadCertificatesFile(filepath.Join(dir, n))
		if err != nil {
			return fmt.Errorf("%w: %w", ErrPKI, err)
		}
		if c := certs[0]; now.After(c.NotAfter) || now.Before(c.NotBefore) {
			return fmt.Errorf("%w: %s is valid from %s to %s; remove %s to generate a new PKI", ErrPKI, n,
				c.NotBefore.Format(time.DateOnly), c.NotAfter.Format(time.DateOnly), dir)
		}
		if n == "dp-server.crt" {
			if err := certs[0].VerifyHostname(Host); err != nil {
				return fmt.Errorf("%w: dp-server.crt does not cover %s; remove %s to generate a new PKI", ErrPKI, Host, dir)
			}
		}
	}
	return nil
}

// ensureSecret returns the path of the server secret, generating 32 random bytes (as 64 hex
// digits) into it, 0600, the first time (design.md §3.8: never change it once consents exist).
func ensureSecret(path string) (string, error) {
	if err := narrowToOwner(path); err == nil {
		return path, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("sandbox: %w", err)
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("sandbox: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("sandbox: %w", err)
	}
	if _, err := f.WriteString(hex.EncodeToString(b[:]) + "\n"); err != nil {
		_ = f.Close()
		return "", fmt.Errorf("sandbox: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("sandbox: %w", err)
	}
	return path, nil
}

// AdminTokensFile is the sandbox's ops.admin_tokens_file: one operator, "sandbox", whose token
// is new at every start and written to sandbox.json (dp.admin_token).
const AdminTokensFile = "admin-tokens.json"

// writeAdminTokens writes a fresh operator token's hash to path (mode 0600) and returns the token.
func writeAdminTokens(path string) (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("sandbox: %w", err)
	}
	tok := hex.EncodeToString(b[:])
	sum := sha256.Sum256([]byte(tok))
	body := fmt.Sprintf(`[{"name":"sandbox","role":"operator","token_sha256":%q}]`+"\n", hex.EncodeToString(sum[:]))
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		return "", fmt.Errorf("sandbox: %w", err)
	}
	if err := narrowToOwner(path); err != nil {
		return "", fmt.Errorf("sandbox: %w", err)
	}
	return tok, nil
}

// waitReady polls the DP's /readyz until it answers 200.
func waitReady(ctx, runCtx context.Context, url string) error {
	hc := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(30 * time.Second)
	var last string
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := hc.Do(req)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("sandbox: the DP is not ready after 30 s (%s)", last)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-runCtx.Done():
			return errors.New("sandbox: a component stopped while starting")
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// narrowToOwner makes an existing file 0600 when the group or others have any access to it.
func narrowToOwner(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if st.Mode().Perm()&0o077 != 0 {
		return os.Chmod(path, 0o600)
	}
	return nil
}
