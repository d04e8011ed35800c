package conformance

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/ofpdp/ofpdp/internal/ofp/sim"
	"github.com/ofpdp/ofpdp/internal/ofp/stdjose"
	"github.com/ofpdp/ofpdp/internal/ofp/wire"
)

// User is a bank customer the journey logs in as (a demo login in the sandbox). IDType and
// IDNumber, when set, are put on every consent created for this customer (spec §5.1 id_type,
// hashed_id_number; design.md §3.11), so that the DP can check it is them who logs in.
type User struct {
	Username, Password string
	IDType             wire.IDType
	IDNumber           string
}

// Target describes the DP under test and the keys the runner plays PayNet and the DC with.
type Target struct {
	// APIURL is the DP's api listener (mTLS, PayNet-facing), e.g. https://127.0.0.1:8443.
	APIURL string
	// WebURL is the DP's web listener (the customer's pages), e.g. http://127.0.0.1:8444.
	WebURL string
	// PKIDir is the development PKI of design.md §8 the DP trusts: the runner signs and connects
	// with paynet-sig and paynet-mtls, decrypts with dc-enc and verifies with dp.jwks.json.
	PKIDir string
	// RedirectURI is PayNet's callback, on the DP's authorize.redirect_uri_allowlist.
	RedirectURI string
	// DPID and DCID are the dp_id of the DP and the dc_id of the data consumer the DP knows.
	DPID, DCID string
	// DCName is the data consumer's display name the DP shows (default: the simulator's).
	DCName string
	// PayNetIssuer is the iss of PayNet's signatures (the DP's paynet.issuer). Default "paynet".
	PayNetIssuer string
	// Users are customers to log in as: the first drives the journeys; a second one, when
	// given, supplies another customer's accounts for the tampered-form cases (U11, D5).
	Users []User
	// HistoryMonths is the DP's transaction history window (data.history_months). Default 12.
	HistoryMonths int
	// RevokeURL, when set, makes the DP revoke a consent (spec §3.2.3) for the revocation group:
	// POST to it, with {consent_id} replaced, the body {"reason": "..."} and RevokeToken as
	// bearer token (ofpdp: {ops_url}/admin/v1/consents/{consent_id}/revoke). Empty skips the group.
	RevokeURL, RevokeToken string
	// RevokeWait bounds how long the revocation may take to reach PayNet (default 60 s: the DP's
	// outbox may wait up to its interval).
	RevokeWait time.Duration
}

// Groups of checks, in the order they run. The journey group always runs: the others use the
// consents it authorizes.
const (
	GroupTransport  = "transport"
	GroupJourney    = "journey"
	GroupDoD        = "dod"
	GroupAuthorize  = "authorize"
	GroupSignatures = "signatures"
	GroupEvents     = "events"
	GroupData       = "data"
	GroupRevocation = "revocation"
	GroupLifecycle  = "lifecycle"
	GroupHardening  = "hardening"
)

// AllGroups lists every group in run order.
var AllGroups = []string{GroupTransport, GroupJourney, GroupDoD, GroupAuthorize, GroupSignatures, GroupEvents,
	GroupData, GroupRevocation, GroupLifecycle, GroupHardening}

// Options configure a run.
type Options struct {
	Target Target
	// Sim is the JSON API of the PayNet simulator that receives the DP's PATCH requests and
	// holds the consents the journeys authorize.
	Sim *sim.Client
	// Groups selects groups to run (nil = all); the journey group always runs.
	Groups []string
	// Only and Skip select rows by id prefix, case-insensitively (Only nil = every row; Skip
	// wins). A row left out is not run and not reported, except the journey group's, which
	// always run because the other groups use the consents they authorize: they are only left
	// out of the report. An Only prefix that selects no row makes Run return ErrOptions.
	Only, Skip []string
	// Pages is the DP's page contract for the journey driver (nil = ofpdp's, OfpdpPages).
	Pages *PageMap
	// HTTPTimeout bounds every request (default 15 s).
	HTTPTimeout time.Duration
	// Progress, when set, is called with each result as it is recorded.
	Progress func(Result)
	Now      func() time.Time
	Logger   *slog.Logger
}

// ErrOptions is wrapped by Run's errors about its options or the PKI.
var ErrOptions = errors.New("conformance: invalid options")

// ErrUnreachable is wrapped by Run's error when the DP's api or web listener cannot be reached
// at all (no TCP connection): the run could not start.
var ErrUnreachable = errors.New("conformance: DP unreachable")

// hasPrefixFold reports whether id starts with prefix, ignoring case.
func hasPrefixFold(id, prefix string) bool {
	return len(id) >= len(prefix) && strings.EqualFold(id[:len(prefix)], prefix)
}

// selected reports whether Only and Skip let row id through, and notes which Only prefixes
// selected something.
func (r *runner) selected(id string) bool {
	for _, p := range r.o.Skip {
		if hasPrefixFold(id, p) {
			return false
		}
	}
	if len(r.o.Only) == 0 {
		return true
	}
	ok := false
	for _, p := range r.o.Only {
		if hasPrefixFold(id, p) {
			r.onlyUsed[p] = true
			ok = true
		}
	}
	return ok
}

// Run drives every selected check against the DP and returns the report. An error means the
// run could not start (options, PKI, simulator unreachable); failures of the DP are rows of the
// report, never errors.
func Run(ctx context.Context, o Options) (*Report, error) {
	r, err := newRunner(ctx, o)
	if err != nil {
		return nil, err
	}
	defer r.close()
	r.rep.StartedAt = r.now().UTC()
	groups := []struct {
		name string
		run  func(context.Context)
	}{
		{GroupTransport, r.transport},
		{GroupJourney, r.journeys},
		{GroupDoD, r.definitionOfDone},
		{GroupAuthorize, r.authorizeChecks},
		{GroupSignatures, r.signatures},
		{GroupEvents, r.events},
		{GroupData, r.data},
		{GroupRevocation, r.revocation},
		{GroupLifecycle, r.lifecycle},
		{GroupHardening, r.hardening},
	}
	for _, g := range groups {
		if ctx.Err() != nil {
			break
		}
		if g.name != GroupJourney && len(o.Groups) > 0 && !slices.Contains(o.Groups, g.name) {
			continue
		}
		r.group = g.name
		g.run(ctx)
	}
	r.rep.FinishedAt = r.now().UTC()
	if err := ctx.Err(); err != nil {
		return r.rep, fmt.Errorf("conformance: run interrupted: %w", err)
	}
	for _, p := range o.Only {
		if !r.onlyUsed[p] {
			return r.rep, fmt.Errorf("%w: --only %q selects no row", ErrOptions, p)
		}
	}
	return r.rep, nil
}

// runner holds the state of one run.
type runner struct {
	o     Options
	t     Target
	now   func() time.Time
	log   *slog.Logger
	rep   *Report
	group string
	// onlyUsed are the Only prefixes that selected a row.
	onlyUsed map[string]bool
	// pages is the DP's page contract (Options.Pages or ofpdp's).
	pages *PageMap

	k       *keys
	pn      *payNet
	sim     *sim.Client
	simInfo *sim.Info

	// fixtures made by the journey group (nil when it failed; fixErr says why)
	main        *authorized // consent A: approved by the first user, all permissions
	mainErr     error
	rejected    string // consent B: rejected by the first user
	rejectedErr error
	others      []string // DP account ids of the second user (another customer), when known
	othersErr   error    // why they are not known although a second user was given
	// limited is consent P: approved with read_balances only (D4, C9, C3).
	limited    *authorized
	limitedErr error
	// unselected is an account id offered to the first user but left out of consent A.
	unselected string
	// alertWrongPassword is the message shown for a wrong password (U12 compares it).
	alertWrongPassword string
	// dataTimings are the durations of the data calls made, for D15.
	dataTimings []time.Duration
	// errorBodies are error answers of the api listener seen during the run, for D14.
	errorBodies []observed
}

// authorized is a consent the DP authorized: its id and the accounts PayNet was told about.
type authorized struct {
	ConsentID string
	Accounts  []string
}

// observed is one answer of the api listener kept for a later check.
type observed struct {
	what        string
	status      int
	contentType string
	body        []byte
}

func newRunner(ctx context.Context, o Options) (*runner, error) {
	t := o.Target
	var missing []string
	for name, v := range map[string]string{"APIURL": t.APIURL, "WebURL": t.WebURL, "PKIDir": t.PKIDir,
		"RedirectURI": t.RedirectURI, "DPID": t.DPID, "DCID": t.DCID} {
		if v == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return nil, fmt.Errorf("%w: Target needs %s", ErrOptions, strings.Join(missing, ", "))
	}
	if len(t.Users) == 0 || t.Users[0].Username == "" || t.Users[0].Password == "" {
		return nil, fmt.Errorf("%w: Target needs at least one user with a password", ErrOptions)
	}
	for i, u := range t.Users {
		if (u.IDNumber != "") != (u.IDType != "") || (u.IDType != "" && !u.IDType.Valid()) {
			return nil, fmt.Errorf("%w: user %d: id type (nric or passport) and id number go together", ErrOptions, i+1)
		}
	}
	if o.Sim == nil || o.Sim.BaseURL == "" {
		return nil, fmt.Errorf("%w: Sim (the PayNet simulator's JSON API) is required", ErrOptions)
	}
	for name, raw := range map[string]string{"APIURL": t.APIURL, "WebURL": t.WebURL, "RedirectURI": t.RedirectURI} {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("%w: %s %q is not an absolute http(s) URL", ErrOptions, name, raw)
		}
	}
	if !strings.HasPrefix(t.APIURL, "https://") {
		return nil, fmt.Errorf("%w: APIURL must be https (the api listener is mTLS)", ErrOptions)
	}
	for _, g := range o.Groups {
		if !slices.Contains(AllGroups, g) {
			return nil, fmt.Errorf("%w: unknown group %q (want %s)", ErrOptions, g, strings.Join(AllGroups, ", "))
		}
	}
	t.APIURL = strings.TrimRight(t.APIURL, "/")
	t.WebURL = strings.TrimRight(t.WebURL, "/")
	if t.PayNetIssuer == "" {
		t.PayNetIssuer = sim.DefaultPayNetIssuer
	}
	if t.HistoryMonths <= 0 {
		t.HistoryMonths = 12
	}
	if o.HTTPTimeout <= 0 {
		o.HTTPTimeout = 15 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	for _, p := range append(slices.Clone(o.Only), o.Skip...) {
		if strings.TrimSpace(p) == "" {
			return nil, fmt.Errorf("%w: an empty row id prefix", ErrOptions)
		}
	}
	k, err := loadKeys(t.PKIDir)
	if err != nil {
		return nil, err
	}
	info, err := o.Sim.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("conformance: the PayNet simulator at %s does not answer: %w", o.Sim.BaseURL, err)
	}
	if info.DPID != t.DPID {
		return nil, fmt.Errorf("%w: the simulator is set up for dp_id %q, the target is %q", ErrOptions, info.DPID, t.DPID)
	}
	for _, raw := range []string{t.APIURL, t.WebURL} {
		if err := reachable(ctx, raw, o.HTTPTimeout); err != nil {
			return nil, err
		}
	}
	if t.DCName == "" {
		t.DCName = info.DCName
	}
	pages := o.Pages
	if pages == nil {
		pages = OfpdpPages()
	}
	r := &runner{o: o, t: t, onlyUsed: map[string]bool{}, pages: pages, now: o.Now, log: o.Logger, k: k, sim: o.Sim, simInfo: info,
		rep: &Report{Target: ReportTarget{APIURL: t.APIURL, WebURL: t.WebURL, DPID: t.DPID, DCID: t.DCID, SimURL: o.Sim.BaseURL}}}
	r.pn = newPayNet(t.APIURL, k, t.PayNetIssuer, o.HTTPTimeout, o.Now)
	return r, nil
}

func (r *runner) close() { r.pn.close() }

// record adds a row.
func (r *runner) record(id, check, expected, got string, ok bool, started time.Time) {
	out := Fail
	if ok {
		out = Pass
	}
	r.emit(Result{ID: id, Group: r.group, Check: check, Expected: expected, Got: got, Outcome: out,
		Millis: r.now().Sub(started).Milliseconds()})
}

// skip adds a row that could not be driven against this target.
func (r *runner) skip(id, check, expected, why string) {
	r.emit(Result{ID: id, Group: r.group, Check: check, Expected: expected, Got: why, Outcome: Skip})
}

func (r *runner) emit(res Result) {
	if !r.selected(res.ID) {
		return
	}
	r.rep.add(res)
	r.log.Info("conformance", "id", res.ID, "outcome", res.Outcome, "got", res.Got)
	if r.o.Progress != nil {
		r.o.Progress(res)
	}
}

// check runs fn and records its verdict.
func (r *runner) check(id, what, expected string, fn func() (got string, ok bool)) {
	if r.group != GroupJourney && !r.selected(id) {
		return
	}
	start := r.now()
	got, ok := fn()
	r.record(id, what, expected, got, ok, start)
}

// prerequisite records a failing row for a check whose setup failed.
func (r *runner) prerequisite(id, what, expected string, err error) {
	r.record(id, what, expected, "not run: "+err.Error(), false, r.now())
}

// mainConsent returns consent A or why there is none.
func (r *runner) mainConsent() (*authorized, error) {
	if r.main == nil {
		if r.mainErr == nil {
			return nil, errors.New("the approved journey did not run")
		}
		return nil, fmt.Errorf("no approved consent (%v)", r.mainErr)
	}
	return r.main, nil
}

func newID() string { return uuid.NewString() }

// keys are the PKI files of design.md §8 the runner uses.
type keys struct {
	roots      *x509.CertPool
	paynetMTLS tls.Certificate
	dpMTLS     tls.Certificate // a certificate of the same CA that is not PayNet's (T2)
	paynetSig  *signingKey
	dcSig      *signingKey
	dcEnc      crypto.Signer // the DC's encryption key, misused for signing in S7
	dcEncKid   string
	dpKeys     *stdjose.KeySet
}

func loadKeys(dir string) (*keys, error) {
	p := func(name string) string { return filepath.Join(dir, name) }
	k := &keys{roots: x509.NewCertPool()}
	ca, err := os.ReadFile(p("ca.crt"))
	if err != nil {
		return nil, fmt.Errorf("%w: PKI: %w", ErrOptions, err)
	}
	if !k.roots.AppendCertsFromPEM(ca) {
		return nil, fmt.Errorf("%w: PKI: ca.crt holds no certificate", ErrOptions)
	}
	if k.paynetMTLS, err = tls.LoadX509KeyPair(p("paynet-mtls.crt"), p("paynet-mtls.key")); err != nil {
		return nil, fmt.Errorf("%w: PKI: paynet-mtls: %w", ErrOptions, err)
	}
	if k.dpMTLS, err = tls.LoadX509KeyPair(p("dp-mtls.crt"), p("dp-mtls.key")); err != nil {
		return nil, fmt.Errorf("%w: PKI: dp-mtls: %w", ErrOptions, err)
	}
	if k.paynetSig, err = loadSigningKey(p("paynet-sig.key"), p("paynet-sig.crt")); err != nil {
		return nil, fmt.Errorf("%w: PKI: paynet-sig: %w", ErrOptions, err)
	}
	if k.dcSig, err = loadSigningKey(p("dc-sig.key"), p("dc-sig.crt")); err != nil {
		return nil, fmt.Errorf("%w: PKI: dc-sig: %w", ErrOptions, err)
	}
	if k.dcEnc, err = stdjose.LoadPrivateKeyFile(p("dc-enc.key")); err != nil {
		return nil, fmt.Errorf("%w: PKI: dc-enc: %w", ErrOptions, err)
	}
	encCerts, err := stdjose.LoadCertificatesFile(p("dc-enc.crt"))
	if err != nil {
		return nil, fmt.Errorf("%w: PKI: dc-enc: %w", ErrOptions, err)
	}
	k.dcEncKid = stdjose.Thumbprint(encCerts[0])
	if k.dpKeys, err = stdjose.ReadJWKSFile(p("dp.jwks.json")); err != nil {
		return nil, fmt.Errorf("%w: PKI: %w", ErrOptions, err)
	}
	return k, nil
}

// signingKey is a private signing key with the kid its JWKS publishes (the certificate's
// x5t#S256, design.md §8) and the alg its type implies (design.md §3.4).
type signingKey struct {
	Key      crypto.Signer
	Kid, Alg string
	Cert     *x509.Certificate
}

func loadSigningKey(keyFile, certFile string) (*signingKey, error) {
	key, err := stdjose.LoadPrivateKeyFile(keyFile)
	if err != nil {
		return nil, err
	}
	chain, err := stdjose.LoadCertificatesFile(certFile)
	if err != nil {
		return nil, err
	}
	s, err := stdjose.NewSigner(key, chain[0], "", nil, nil)
	if err != nil {
		return nil, err
	}
	return &signingKey{Key: s.Key, Kid: s.Kid, Alg: s.Alg(), Cert: chain[0]}, nil
}

// reachable dials the host of a listener URL: a DP that accepts no TCP connection at all cannot
// be tested, which is not a failed row but a run that could not start.
func reachable(ctx context.Context, raw string, timeout time.Duration) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%w: %q: %v", ErrOptions, raw, err)
	}
	host := u.Host
	if u.Port() == "" {
		port := "80"
		if u.Scheme == "https" {
			port = "443"
		}
		host = net.JoinHostPort(u.Hostname(), port)
	}
	d := net.Dialer{Timeout: timeout}
	c, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrUnreachable, raw, err)
	}
	return c.Close()
}
