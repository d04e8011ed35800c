package server

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"os"

	"github.com/ofpdp/ofpdp/connector"
	"github.com/ofpdp/ofpdp/internal/bank"
	"github.com/ofpdp/ofpdp/internal/config"
	"github.com/ofpdp/ofpdp/internal/jose"
	"github.com/ofpdp/ofpdp/internal/lockout"
	"github.com/ofpdp/ofpdp/internal/obs"
	"github.com/ofpdp/ofpdp/internal/paynet"
	"github.com/ofpdp/ofpdp/internal/store"
	"github.com/ofpdp/ofpdp/internal/web"
)

// newWeb maps the configuration onto the customer journey's options.
func newWeb(cfg *config.Config, st *store.Store, conn connector.Connector, verifier *jose.Verifier,
	updater *paynet.Client, signer *jose.Signer, accountIDKey []byte, metrics *obs.Metrics, d Deps) (http.Handler, error) {
	logo, err := logoURL(cfg.Branding.LogoFile)
	if err != nil {
		return nil, err
	}
	proxies, err := cfg.Web.TrustedProxyPrefixes()
	if err != nil {
		return nil, err
	}
	dcs := make(map[string]web.DCInfo, len(cfg.DCs))
	for _, dc := range cfg.DCs {
		dcs[dc.ID] = web.DCInfo{Name: dc.Name, LogoURL: dc.LogoURL}
	}
	if g, ok := conn.(*bank.Guard); ok {
		conn = g.WithSecondFactor()
	}
	return web.New(web.Options{
		Store: st, Bank: conn, Signatures: verifier, Updater: updater, IDTokens: signer,
		DPID: cfg.DPID, IDTokenIssuer: cfg.IDToken.Issuer, IDTokenTTL: cfg.IDToken.TTL,
		RedirectAllowlist: cfg.Authorize.RedirectURIAllowlist, AccountIDKey: accountIDKey,
		Branding: web.Branding{BankName: cfg.Branding.BankName, LogoURL: logo, PrimaryColor: cfg.Branding.PrimaryColor},
		DCs:      dcs, SessionIdle: cfg.Authorize.SessionIdleTimeout, SessionsPerConsent: cfg.Authorize.SessionsPerConsent,
		Lockout: lockout.Policy{
			MaxFailures: cfg.Authorize.LoginMaxFailures, DelayStep: cfg.Authorize.LoginDelayStep,
			HardLockFailures: cfg.Authorize.LoginHardLockFailures, Window: cfg.Authorize.LoginLockout,
			PerClient: cfg.Authorize.LoginMaxFailuresPerClient, PerConsent: cfg.Authorize.LoginMaxFailuresPerConsent,
			GlobalPerMinute: cfg.Authorize.LoginMaxFailuresGlobalPerMinute,
		},
		RequireIdentityBinding: cfg.Authorize.RequireIdentityBinding,
		SecondFactor:           connector.Method(cfg.Authn.SecondFactor),
		FactorMaxFailures:      cfg.Authn.SecondFactorMaxFailures,
		FactorMaxResends:       cfg.Authn.SecondFactorMaxResends,
		TrustedProxies:         proxies,
		RatePerClientPerMinute: cfg.Web.RateLimitPerClientPerMinute, RateGlobalPerSecond: cfg.Web.RateLimitGlobalPerSecond,
		// Outside the sandbox a plain-HTTP web listener sits behind the bank's TLS-terminating
		// front end (web.trusted_proxies): the pages keep their Secure cookies and HSTS.
		InsecureHTTP: cfg.Web.InsecureHTTP && cfg.Sandbox, BehindProxy: cfg.Web.InsecureHTTP && !cfg.Sandbox, Sandbox: cfg.Sandbox,
		AppLinks: web.AppLinks{AppleAppIDs: cfg.Web.AppleAppIDs, AndroidPackage: cfg.Web.AndroidPackage,
			AndroidCertFingerprints: cfg.Web.AndroidCertFingerprints},
		Metrics: metrics, Now: d.Now, Logger: d.Logger,
	})
}

// logoURL inlines the configured logo file as a data: URL (the pages' CSP allows data: images).
func logoURL(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("branding.logo_file: %w", err)
	}
	ct := http.DetectContentType(b)
	switch {
	case len(b) > 256<<10:
		return "", fmt.Errorf("branding.logo_file: %d bytes; keep the logo under 256 KiB", len(b))
	case ct == "image/png" || ct == "image/jpeg":
	case ct == "text/xml; charset=utf-8" || ct == "text/plain; charset=utf-8":
		ct = "image/svg+xml"
	default:
		return "", fmt.Errorf("branding.logo_file: %s is not an SVG, PNG or JPEG image", ct)
	}
	return "data:" + ct + ";base64," + base64.StdEncoding.EncodeToString(b), nil
}
