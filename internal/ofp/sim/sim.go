package sim

import (
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/ofpdp/ofpdp/internal/obs"
	"github.com/ofpdp/ofpdp/internal/ofp/stdjose"
)

// Defaults of Options.
const (
	DefaultPayNetIssuer = "paynet"
	DefaultDCName       = "Mock DC"
	DefaultHTTPTimeout  = 10 * time.Second
	DefaultMaxConsents  = 10000
	DefaultValidityDays = 180
	// MaxValidityDays bounds validity_days of POST /sim/consents.
	MaxValidityDays = 3650
	// idTokenMaxLifetime is the id_token lifetime PayNet expects (spec §4.5: exp = iat + 600).
	idTokenMaxLifetime = 600 * time.Second
	// idTokenSkew is the clock skew allowed on id_token dates.
	idTokenSkew = 60 * time.Second
	// maxRecordsPerConsent bounds events_sent and updates_received of one consent.
	maxRecordsPerConsent = 100
	// maxRecentUpdates bounds the list of GET /sim/updates.
	maxRecentUpdates = 1000
	// shutdownGrace bounds the graceful shutdown of Serve.
	shutdownGrace = 10 * time.Second
)

// Options configure a simulator. PKIDir, DPID, DCID, DPAPIURL, DPWebURL and PublicURL are required.
type Options struct {
	// PKIDir holds the development PKI of design.md §8 (ca.crt, paynet-*.crt/key, dp-mtls.crt,
	// dc-enc.crt/key, paynet.jwks.json, dp.jwks.json, dc.jwks.json).
	PKIDir string
	// DPID is the dp_id put on consents; the DP's PATCH signatures must carry iss = DPID.
	DPID string
	// DCID is the dc_id of the simulated data consumer; DCName its display name.
	DCID, DCName string
	// DPAPIURL is the DP's api listener base URL (events, accounts, userinfo), e.g. https://localhost:8443.
	DPAPIURL string
	// DPWebURL is the DP's web listener base URL (authorize), e.g. https://localhost:8444.
	DPWebURL string
	// PublicURL is the base URL of the simulator's public listener, e.g. http://127.0.0.1:8446;
	// the redirect_uri sent to the DP is PublicURL + "/callback".
	PublicURL string
	// PayNetIssuer is the iss of PayNet's detached signatures (the DP's paynet.issuer). Default "paynet".
	PayNetIssuer string
	// IDTokenIssuer, when set, is the iss the DP's id_tokens must carry.
	IDTokenIssuer string
	// StatusEventDelay is how long after answering a good PATCH the consent_status_updated event is sent.
	StatusEventDelay time.Duration
	// HTTPTimeout bounds every call to the DP. Default 10 s.
	HTTPTimeout time.Duration
	// MaxConsents bounds the consents held in memory (oldest dropped first). Default 10,000.
	MaxConsents int
	// DPKeysTTL is how long the DP's keys (dp.jwks.json) are trusted before the file is read
	// again, as PayNet caches a participant's JWKS (spec §4.2). Default and maximum 15 min.
	DPKeysTTL time.Duration
	// DPKeysRefreshGap rate-limits reading dp.jwks.json again: on a kid the cache does not know
	// (one refresh, then the kid is refused) and after a failed read. Default 30 s.
	DPKeysRefreshGap time.Duration
	// Now is the clock (default time.Now); NewID makes consent, interaction and jti ids (default uuid).
	Now    func() time.Time
	NewID  func() string
	Logger *slog.Logger
}

// PKI file names of design.md §8 that the simulator reads.
const (
	fileCA            = "ca.crt"
	filePayNetServer  = "paynet-server"
	filePayNetMTLS    = "paynet-mtls"
	filePayNetSig     = "paynet-sig"
	fileDPMTLS        = "dp-mtls.crt"
	fileDCEnc         = "dc-enc"
	filePayNetJWKS    = "paynet.jwks.json"
	fileDPJWKS        = "dp.jwks.json"
	fileDCJWKS        = "dc.jwks.json"
	maxAPIBody        = 64 << 10
	maxPatchBody      = 1 << 20
	maxDPResponseBody = 16 << 20
)

// Sim is a running PayNet OFP simulator. Create it with New, run it with Serve.
type Sim struct {
	opt    Options
	now    func() time.Time
	newID  func() string
	logger *slog.Logger

	signer      *stdjose.Signer   // PayNet's signing key (events, authorize signature, RS requests)
	dpKeys      *dpKeyCache       // dp.jwks.json, re-read after DPKeysTTL or on an unknown kid
	patchVerify *stdjose.Verifier // PATCH x-fapi-signature: iss = dp_id, replay-protected
	tokenVerify *stdjose.Verifier // id_token: attached, no header iss
	dpMTLSSum   [32]byte          // SHA-256 of dp-mtls.crt
	serverTLS   *tls.Config       // mtls listener
	dpClient    *http.Client      // calls to the DP with paynet-mtls
	encKid      string            // x5t#S256 of dc-enc.crt
	decKey      crypto.PrivateKey
	paynetJWKS  []byte
	dcJWKS      []byte

	state  *state
	faults *faults

	bgCtx    context.Context // background sends; cancelled after shutdown
	bgCancel context.CancelFunc
	bg       sync.WaitGroup
	closing  chan struct{}
	closeMu  sync.Once

	serveMu sync.Mutex
	served  bool
}

// New loads the PKI and builds a simulator.
func New(o Options) (*Sim, error) {
	var missing []string
	for name, v := range map[string]string{
		"PKIDir": o.PKIDir, "DPID": o.DPID, "DCID": o.DCID,
		"DPAPIURL": o.DPAPIURL, "DPWebURL": o.DPWebURL, "PublicURL": o.PublicURL,
	} {
		if v == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return nil, fmt.Errorf("sim: missing options: %s", strings.Join(missing, ", "))
	}
	for name, v := range map[string]string{"DPAPIURL": o.DPAPIURL, "DPWebURL": o.DPWebURL, "PublicURL": o.PublicURL} {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return nil, fmt.Errorf("sim: %s %q is not an absolute http(s) base URL", name, v)
		}
	}
	o.DPAPIURL = strings.TrimRight(o.DPAPIURL, "/")
	o.DPWebURL = strings.TrimRight(o.DPWebURL, "/")
	o.PublicURL = strings.TrimRight(o.PublicURL, "/")
	if o.PayNetIssuer == "" {
		o.PayNetIssuer = DefaultPayNetIssuer
	}
	if o.DCName == "" {
		o.DCName = DefaultDCName
	}
	if o.HTTPTimeout <= 0 {
		o.HTTPTimeout = DefaultHTTPTimeout
	}
	if o.MaxConsents <= 0 {
		o.MaxConsents = DefaultMaxConsents
	}
	if o.DPKeysTTL > DefaultDPKeysTTL {
		return nil, fmt.Errorf("sim: DPKeysTTL %s exceeds PayNet's %s cache of a participant's keys", o.DPKeysTTL, DefaultDPKeysTTL)
	}
	if o.DPKeysTTL <= 0 {
		o.DPKeysTTL = DefaultDPKeysTTL
	}
	if o.DPKeysRefreshGap <= 0 {
		o.DPKeysRefreshGap = DefaultDPKeysRefreshGap
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.NewID == nil {
		o.NewID = uuid.NewString
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Sim{
		opt: o, now: o.Now, newID: o.NewID, logger: o.Logger,
		state:   newState(o.MaxConsents),
		faults:  &faults{},
		closing: make(chan struct{}),
	}
	s.bgCtx, s.bgCancel = context.WithCancel(context.Background())
	if err := s.loadPKI(); err != nil {
		s.bgCancel()
		return nil, err
	}
	return s, nil
}

func (s *Sim) path(name string) string { return filepath.Join(s.opt.PKIDir, name) }

// loadPKI reads the files of design.md §8 the simulator needs.
func (s *Sim) loadPKI() error {
	caCerts, err := stdjose.LoadCertificatesFile(s.path(fileCA))
	if err != nil {
		return fmt.Errorf("sim: CA: %w", err)
	}
	pool := x509.NewCertPool()
	for _, c := range caCerts {
		pool.AddCert(c)
	}
	server, err := tls.LoadX509KeyPair(s.path(filePayNetServer+".crt"), s.path(filePayNetServer+".key"))
	if err != nil {
		return fmt.Errorf("sim: server certificate: %w", err)
	}
	client, err := tls.LoadX509KeyPair(s.path(filePayNetMTLS+".crt"), s.path(filePayNetMTLS+".key"))
	if err != nil {
		return fmt.Errorf("sim: client certificate: %w", err)
	}
	dpMTLS, err := stdjose.LoadCertificatesFile(s.path(fileDPMTLS))
	if err != nil {
		return fmt.Errorf("sim: DP client certificate: %w", err)
	}
	s.dpMTLSSum = sha256.Sum256(dpMTLS[0].Raw)

	if s.signer, err = stdjose.LoadSigner(s.path(filePayNetSig+".key"), s.path(filePayNetSig+".crt"), s.opt.PayNetIssuer, s.now, s.newID); err != nil {
		return fmt.Errorf("sim: PayNet signing key: %w", err)
	}

	encCerts, err := stdjose.LoadCertificatesFile(s.path(fileDCEnc + ".crt"))
	if err != nil {
		return fmt.Errorf("sim: DC encryption certificate: %w", err)
	}
	s.encKid = stdjose.Thumbprint(encCerts[0])
	if s.decKey, err = stdjose.LoadPrivateKeyFile(s.path(fileDCEnc + ".key")); err != nil {
		return fmt.Errorf("sim: DC encryption key: %w", err)
	}

	if s.dpKeys, err = newDPKeyCache(s.path(fileDPJWKS), s.opt.DPKeysTTL, s.opt.DPKeysRefreshGap, s.now, s.logger); err != nil {
		return err
	}
	if _, err := readJWKS(s.path(filePayNetJWKS)); err != nil {
		return err
	}
	if _, err := readJWKS(s.path(fileDCJWKS)); err != nil {
		return err
	}
	if s.paynetJWKS, err = os.ReadFile(s.path(filePayNetJWKS)); err != nil {
		return fmt.Errorf("sim: %w", err)
	}
	if s.dcJWKS, err = os.ReadFile(s.path(fileDCJWKS)); err != nil {
		return fmt.Errorf("sim: %w", err)
	}

	s.patchVerify = &stdjose.Verifier{Keys: s.dpKeys, Now: s.now, Issuer: s.opt.DPID}
	s.tokenVerify = &stdjose.Verifier{Keys: s.dpKeys, Now: s.now}

	s.serverTLS = &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{server},
		ClientAuth:   tls.VerifyClientCertIfGiven,
		ClientCAs:    pool,
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	tr.TLSClientConfig = &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{client},
		RootCAs:      pool,
	}
	s.dpClient = &http.Client{
		Transport: tr,
		Timeout:   s.opt.HTTPTimeout,
		// Calls to the DP never follow redirects: a 3xx is an answer to record.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return nil
}

func readJWKS(path string) (*stdjose.KeySet, error) {
	ks, err := stdjose.ReadJWKSFile(path)
	if err != nil {
		return nil, fmt.Errorf("sim: %w", err)
	}
	return ks, nil
}

// RedirectURI is the redirect_uri the simulator sends the DP in authorize URLs: the browser
// callback on the public listener. The DP's authorize.redirect_uri_allowlist must contain it.
func (s *Sim) RedirectURI() string { return s.opt.PublicURL + "/callback" }

// EncKid is the x-enc-kid the simulator sends: x5t#S256 of dc-enc.crt (spec §4.3).
func (s *Sim) EncKid() string { return s.encKid }

// Serve runs the two listeners until ctx ends, then shuts down gracefully (in-flight requests and
// pending event sends finish or are cancelled within a bounded grace period) and returns nil; it
// returns an error when a listener fails. Serve may be called once.
func (s *Sim) Serve(ctx context.Context, mtlsLn, publicLn net.Listener) error {
	if mtlsLn == nil || publicLn == nil {
		return errors.New("sim: Serve needs both listeners")
	}
	s.serveMu.Lock()
	if s.served {
		s.serveMu.Unlock()
		return errors.New("sim: Serve called twice")
	}
	s.served = true
	s.serveMu.Unlock()

	errLog := slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn)
	mtlsSrv := &http.Server{
		Handler:           obs.AccessLog("sim-mtls", s.logger, nil, s.now, s.mtlsHandler()),
		TLSConfig:         s.serverTLS,
		ReadHeaderTimeout: 5 * time.Second,
		ErrorLog:          errLog,
	}
	publicSrv := &http.Server{
		Handler:           obs.AccessLog("sim-public", s.logger, nil, s.now, s.publicHandler()),
		ReadHeaderTimeout: 5 * time.Second,
		ErrorLog:          errLog,
	}
	errc := make(chan error, 2)
	go func() { errc <- mtlsSrv.ServeTLS(mtlsLn, "", "") }()
	go func() { errc <- publicSrv.Serve(publicLn) }()

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	s.close()
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	_ = mtlsSrv.Shutdown(sctx)
	_ = publicSrv.Shutdown(sctx)
	s.bgCancel()
	s.bg.Wait()
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return fmt.Errorf("sim: %w", serveErr)
	}
	return nil
}

// close tells hanging fault handlers to stop.
func (s *Sim) close() { s.closeMu.Do(func() { close(s.closing) }) }

// mtlsHandler serves the routes PayNet exposes to the DP (spec §3.2).
func (s *Sim) mtlsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("PATCH /v1/consents/{consent_id}", s.requireDP(s.handlePatch))
	mux.HandleFunc("POST /v1/consents/{consent_id}/revoke", s.requireDP(s.handleRevoke))
	mux.HandleFunc("GET /v1/jwks/paynet", s.requireDP(s.jwks(func() []byte { return s.paynetJWKS })))
	mux.HandleFunc("GET /v1/jwks/{dc_id}", s.requireDP(s.handleDCJWKS))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "invalid_request", "unknown route")
	})
	return mux
}

// requireDP admits only requests over TLS that presented the DP's client certificate dp-mtls.crt
// (checked by SHA-256 fingerprint after the chain verified against ca.crt).
func (s *Sim) requireDP(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
			s.refuseClient(w, r, "a client certificate is required")
			return
		}
		if sha256.Sum256(r.TLS.PeerCertificates[0].Raw) != s.dpMTLSSum {
			s.refuseClient(w, r, "the client certificate is not the DP's registered certificate")
			return
		}
		next(w, r)
	}
}

func (s *Sim) refuseClient(w http.ResponseWriter, r *http.Request, why string) {
	obs.Info(r.Context()).Cause = errors.New(why)
	if id := r.PathValue("consent_id"); id != "" && r.Method == http.MethodPatch {
		s.recordUpdate(UpdateRecord{
			ConsentID: id, HTTPStatus: http.StatusForbidden, Error: "invalid_client: " + why,
			InteractionID: r.Header.Get(headerInteractionID), ReceivedAt: s.now().UTC(),
		})
	}
	writeError(w, http.StatusForbidden, "invalid_client", why)
}

func (s *Sim) jwks(body func() []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "max-age=300")
		_, _ = w.Write(body())
	}
}

// handleDCJWKS serves the DC's JWKS for the known dc_id (spec §3.2.2), 404 for any other.
func (s *Sim) handleDCJWKS(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("dc_id") != s.opt.DCID {
		writeError(w, http.StatusNotFound, "invalid_request", "unknown dc_id")
		return
	}
	s.jwks(func() []byte { return s.dcJWKS })(w, r)
}

// publicHandler serves the JSON API and the browser callback.
func (s *Sim) publicHandler() http.Handler {
	api := http.NewServeMux()
	api.HandleFunc("GET /sim/info", s.handleInfo)
	api.HandleFunc("POST /sim/consents", s.handleCreateConsent)
	api.HandleFunc("GET /sim/consents/{id}", s.handleGetConsent)
	api.HandleFunc("POST /sim/consents/{id}/status", s.handleStatus)
	api.HandleFunc("GET /sim/consents/{id}/accounts/{account_id}", s.handleRS(rsAccount))
	api.HandleFunc("GET /sim/consents/{id}/accounts/{account_id}/balances", s.handleRS(rsBalances))
	api.HandleFunc("GET /sim/consents/{id}/accounts/{account_id}/transactions", s.handleRS(rsTransactions))
	api.HandleFunc("GET /sim/userinfo/{id}", s.handleUserInfo)
	api.HandleFunc("GET /sim/updates", s.handleUpdates)
	api.HandleFunc("GET /sim/faults", s.handleGetFaults)
	api.HandleFunc("POST /sim/faults", s.handleSetFaults)
	api.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "invalid_request", "unknown route")
	})
	mux := http.NewServeMux()
	mux.Handle("/sim/", http.NewCrossOriginProtection().Handler(api))
	mux.HandleFunc("GET /callback", s.handleCallback)
	mux.Handle("/", api)
	return mux
}

func (s *Sim) handleInfo(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, Info{
		DPID: s.opt.DPID, DCID: s.opt.DCID, DCName: s.opt.DCName, RedirectURI: s.RedirectURI(),
		DPAPIURL: s.opt.DPAPIURL, DPWebURL: s.opt.DPWebURL, PayNetIssuer: s.opt.PayNetIssuer,
		EncKid: s.encKid, PayNetSigKid: s.signer.Kid,
		ConsentsHeld: s.state.len(), ConsentsLimit: s.opt.MaxConsents,
	})
}

// goBackground runs fn on the background context, tracked so that Serve waits for it.
func (s *Sim) goBackground(fn func(ctx context.Context)) {
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		fn(s.bgCtx)
	}()
}
