package web

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/ofpdp/ofpdp/connector"
	"github.com/ofpdp/ofpdp/internal/lockout"
	"github.com/ofpdp/ofpdp/internal/obs"
)

// Defaults applied by New when an Options field is zero.
const (
	DefaultIDTokenTTL   = 10 * time.Minute // spec §4.5: exp − iat = 600 s
	DefaultSessionIdle  = 5 * time.Minute
	DefaultPrimaryColor = "#0b5394"
	// DefaultSessionsPerConsent caps the journey sessions one consent may have at once: a link
	// opened in a few browsers is normal, thousands are an attack on the store.
	DefaultSessionsPerConsent = 20
	// DefaultFactorMaxFailures and DefaultFactorMaxResends limit the second factor of one
	// journey: wrong codes before it locks (only cancel is left), and new codes asked for.
	DefaultFactorMaxFailures = 3
	DefaultFactorMaxResends  = 2
	// DefaultRatePerClientPerMinute and DefaultRateGlobalPerSecond limit requests to the web
	// listener. A journey takes about ten requests; many customers can share one carrier NAT
	// address, so the per-client limit is generous.
	DefaultRatePerClientPerMinute = 300
	DefaultRateGlobalPerSecond    = 500
)

// ErrOptions is wrapped by every error New returns for invalid Options.
var ErrOptions = errors.New("web: invalid options")

// Branding is how the bank presents itself on the journey pages.
type Branding struct {
	BankName     string
	LogoURL      string // "", an https:// URL, a data:image/ URL or a path on this host ("/…")
	PrimaryColor string // #rrggbb; text on it is chosen for WCAG AA contrast
}

// DCInfo is a data consumer's display name and logo, keyed by dc_id in Options.DCs.
type DCInfo struct {
	Name    string
	LogoURL string // same forms as Branding.LogoURL
}

// Options configures the journey. Store, Bank, Signatures, Updater, IDTokens, DPID,
// IDTokenIssuer, RedirectAllowlist, AccountIDKey and Branding.BankName are required.
type Options struct {
	Store      Store
	Bank       connector.Connector
	Signatures SignatureVerifier
	Updater    ConsentUpdater
	IDTokens   IDTokenSigner

	DPID          string
	IDTokenIssuer string        // iss of the id_token (spec §4.5)
	IDTokenTTL    time.Duration // exp = iat + IDTokenTTL (default 10 min)

	// RedirectAllowlist holds the exact redirect_uri values accepted (design §3.10).
	RedirectAllowlist []string
	// AccountIDKey is the server secret (≥ 32 bytes) for consent.AccountID and the id_token sub.
	AccountIDKey []byte

	Branding Branding
	DCs      map[string]DCInfo

	SessionIdle time.Duration // idle timeout of a journey session (default 5 min)
	// SessionsPerConsent caps the sessions one consent may have (default DefaultSessionsPerConsent).
	SessionsPerConsent int
	// Lockout limits sign-in attempts (internal/lockout; zero fields take its defaults). Its
	// MaxFailures also caps the failed sign-ins of one journey.
	Lockout lockout.Policy
	// RequireIdentityBinding refuses consents that carry no id_type and hashed_id_number
	// (design §3.11): without them anyone who opens the link could approve. Only development
	// deployments (the sandbox) may turn it off.
	RequireIdentityBinding bool
	// SecondFactor, when set, is the bank's second factor every sign-in needs after the password
	// (connector.MethodOTP or connector.MethodApp); Bank must then implement
	// connector.SecondFactor. FactorMaxFailures and FactorMaxResends limit it per journey.
	SecondFactor      connector.Method
	FactorMaxFailures int
	FactorMaxResends  int

	// TrustedProxies are the addresses whose X-Forwarded-For names the client (for rate limits
	// and sign-in counters); from anyone else the connection's address is the client.
	TrustedProxies []netip.Prefix
	// RatePerClientPerMinute and RateGlobalPerSecond limit requests to the web listener (429
	// page with Retry-After beyond them). Zero takes the default.
	RatePerClientPerMinute int
	RateGlobalPerSecond    int

	// InsecureHTTP is for the sandbox only: the cookie drops Secure and the __Host- prefix, no
	// HSTS, and pages are labelled SANDBOX.
	InsecureHTTP bool
	// BehindProxy: the bank's load balancer or WAF terminates TLS and the listener serves plain
	// HTTP (docs/deploy.md). Only requests from TrustedProxies that the proxy received over
	// HTTPS (X-Forwarded-Proto or Forwarded proto=) are served; cookies stay Secure and __Host-.
	BehindProxy bool
	// Sandbox shows a visible "Sandbox" label.
	Sandbox bool
	// AppLinks are the bank's apps that open the authorize link; their association files are
	// served under /.well-known/ (spec §2.4).
	AppLinks AppLinks

	// Metrics, when set, counts journey outcomes (ofpdp_authorization_journeys_total).
	Metrics *obs.Metrics

	Now    func() time.Time
	Rand   io.Reader
	Logger *slog.Logger
}

var colorRE = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// withDefaults validates o and fills in defaults. It returns every problem at once.
func (o Options) withDefaults() (Options, error) {
	var errs []error
	bad := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrOptions}, a...)...))
	}
	if o.Store == nil {
		bad("Store is required")
	}
	if o.Bank == nil {
		bad("Bank is required")
	}
	if o.Signatures == nil {
		bad("Signatures is required")
	}
	if o.Updater == nil {
		bad("Updater is required")
	}
	if o.IDTokens == nil {
		bad("IDTokens is required")
	}
	if o.DPID == "" {
		bad("DPID is required")
	}
	if o.IDTokenIssuer == "" {
		bad("IDTokenIssuer is required")
	}
	if o.IDTokenTTL == 0 {
		o.IDTokenTTL = DefaultIDTokenTTL
	}
	if o.IDTokenTTL < 0 {
		bad("IDTokenTTL must be positive")
	}
	if len(o.RedirectAllowlist) == 0 {
		bad("RedirectAllowlist is empty: no redirect_uri would be accepted")
	}
	for _, u := range o.RedirectAllowlist {
		if err := checkRedirectURI(u, o.InsecureHTTP || o.Sandbox); err != nil {
			bad("RedirectAllowlist: %v", err)
		}
	}
	if len(o.AccountIDKey) < 32 {
		bad("AccountIDKey must be at least 32 bytes")
	}
	if strings.TrimSpace(o.Branding.BankName) == "" {
		bad("Branding.BankName is required")
	}
	if o.Branding.PrimaryColor == "" {
		o.Branding.PrimaryColor = DefaultPrimaryColor
	}
	if !colorRE.MatchString(o.Branding.PrimaryColor) {
		bad("Branding.PrimaryColor %q is not #rrggbb", o.Branding.PrimaryColor)
	}
	if err := checkImageURL(o.Branding.LogoURL); err != nil {
		bad("Branding.LogoURL: %v", err)
	}
	for id, dc := range o.DCs {
		if err := checkImageURL(dc.LogoURL); err != nil {
			bad("DCs[%q].LogoURL: %v", id, err)
		}
	}
	if o.SessionIdle == 0 {
		o.SessionIdle = DefaultSessionIdle
	}
	if o.SessionIdle < 0 {
		bad("SessionIdle must be positive")
	}
	if o.SecondFactor != "" {
		if !o.SecondFactor.Valid() {
			bad("SecondFactor %q is not %q or %q", o.SecondFactor, connector.MethodOTP, connector.MethodApp)
		}
		if _, ok := o.Bank.(connector.SecondFactor); o.Bank != nil && !ok {
			bad("SecondFactor is set but the connector (%T) has no second factor (connector.SecondFactor)", o.Bank)
		}
	}
	var err error
	if o.Lockout, err = o.Lockout.WithDefaults(); err != nil {
		bad("Lockout: %v", err)
	}
	for _, f := range []struct {
		name string
		v    *int
		def  int
	}{{"SessionsPerConsent", &o.SessionsPerConsent, DefaultSessionsPerConsent},
		{"FactorMaxFailures", &o.FactorMaxFailures, DefaultFactorMaxFailures},
		{"FactorMaxResends", &o.FactorMaxResends, DefaultFactorMaxResends},
		{"RatePerClientPerMinute", &o.RatePerClientPerMinute, DefaultRatePerClientPerMinute},
		{"RateGlobalPerSecond", &o.RateGlobalPerSecond, DefaultRateGlobalPerSecond}} {
		if *f.v == 0 {
			*f.v = f.def
		}
		if *f.v < 0 {
			bad("%s must be positive", f.name)
		}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o, errors.Join(errs...)
}

// checkRedirectURI accepts an absolute https URL (http only with insecure) without fragment or userinfo.
func checkRedirectURI(raw string, insecure bool) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%q does not parse", raw)
	}
	switch {
	case u.Scheme != "https" && !(insecure && u.Scheme == "http"):
		return fmt.Errorf("%q must be an https URL", raw)
	case u.Host == "":
		return fmt.Errorf("%q has no host", raw)
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return fmt.Errorf("%q has a fragment", raw)
	case u.User != nil:
		return fmt.Errorf("%q carries user information", raw)
	case len(raw) > maxRedirectURI:
		return fmt.Errorf("%q is longer than %d characters", raw, maxRedirectURI)
	}
	return nil
}

// checkImageURL accepts what the CSP img-src allows: 'self', data: and https:.
func checkImageURL(raw string) error {
	switch {
	case raw == "":
		return nil
	case strings.HasPrefix(raw, "data:image/"):
		return nil
	case strings.HasPrefix(raw, "/") && !strings.HasPrefix(raw, "//"):
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("%q must be https://…, data:image/… or a path on this host", raw)
	}
	return nil
}

// origin returns scheme://host[:port] of an absolute URL.
func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}
