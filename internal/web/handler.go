package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/ofpdp/ofpdp/internal/lockout"
	"github.com/ofpdp/ofpdp/internal/ratelimit"
)

// Journey paths. The browser-facing contract of the real-browser test: stable element ids and a
// data-step attribute on <main> on every page.
const (
	pathAuthorize      = "/v1/oauth/authorize"   // spec §3.1.2
	pathUniversalLink  = "/OFM/MY/Authorize/AIS" // spec §2.4
	pathLogin          = "/journey/login"
	pathVerify         = "/journey/verify" // the second factor
	pathResend         = "/journey/verify/resend"
	pathAccounts       = "/journey/accounts"
	pathReview         = "/journey/review"
	pathDecision       = "/journey/decision"
	pathComplete       = "/journey/complete" // success page, or "nothing was shared"
	pathDone           = "/journey/done"
	pathCancel         = "/journey/cancel"
	pathLang           = "/journey/lang"
	pathError          = "/journey/error"
	pathStatic         = "/static/"
	staticCacheControl = "public, max-age=31536000, immutable"
)

//go:embed static
var staticFS embed.FS

// staticFile is one asset served under /static/<version>/<name>.
type staticFile struct {
	body        []byte
	contentType string
}

// Handler serves the customer authorization journey. It is an http.Handler with every route of
// the web listener: authorize, the journey pages, static assets and a friendly 404.
type Handler struct {
	o       Options
	root    http.Handler
	pages   *renderer
	cats    map[string]catalog
	csp     string
	allow   map[string]bool // exact redirect_uri values
	static  map[string]staticFile
	version string // content hash of the static files, part of their URLs

	guard     *lockout.Guard
	global    *rate.Limiter    // requests to the whole web listener
	perClient *ratelimit.Keyed // requests per client address
	// refusalLog samples the log lines of refused authorize requests: anyone can send them, so
	// they are counted in a metric and only a few a second are logged.
	refusalLog *rate.Limiter

	// pollEvery and waitFor bound how long a repeated decision waits for the first one's outcome.
	pollEvery, waitFor time.Duration
	// decisionTimeout bounds the PATCH and the local recording of a decision, which run detached
	// from the browser's request so a double click or a closed tab cannot cut them in half.
	decisionTimeout time.Duration
}

// New builds the journey handler. It validates o (every problem at once, wrapping ErrOptions).
func New(o Options) (*Handler, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	cats, err := loadCatalogs()
	if err != nil {
		return nil, err
	}
	pages, err := newRenderer(cats)
	if err != nil {
		return nil, err
	}
	guard, err := lockout.New(o.Lockout, o.Store)
	if err != nil {
		return nil, err
	}
	h := &Handler{
		o: o, pages: pages, cats: cats, allow: map[string]bool{}, guard: guard,
		global:     rate.NewLimiter(rate.Limit(o.RateGlobalPerSecond), o.RateGlobalPerSecond),
		perClient:  ratelimit.NewPerMinute(o.RatePerClientPerMinute),
		refusalLog: rate.NewLimiter(1, 5),
		pollEvery:  100 * time.Millisecond, waitFor: 8 * time.Second, decisionTimeout: 15 * time.Second,
	}
	var origins []string
	for _, u := range o.RedirectAllowlist {
		h.allow[u] = true
		if og := origin(u); !slices.Contains(origins, og) {
			origins = append(origins, og)
		}
	}
	// CSP of issue 4 §3. form-action is 'self' only: no form navigates off the DP. Browsers check
	// the whole redirect chain of a form POST against form-action, and leaving goes DP → PayNet →
	// the data consumer, whose origin no DP can list; so every form ends on a same-origin page and
	// the journey leaves through a plain link (respondOutcome, done).
	h.csp = "default-src 'none'; style-src 'self'; img-src 'self' data: https:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
	if err := h.loadStatic(); err != nil {
		return nil, err
	}

	apple, android, err := o.AppLinks.documents()
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	if apple != nil {
		mux.Handle(pathAppleAssociation, methods{h: h, get: h.wellKnown(apple)})
	}
	if android != nil {
		mux.Handle(pathAssetLinks, methods{h: h, get: h.wellKnown(android)})
	}
	mux.Handle(pathAuthorize, methods{h: h, get: h.authorize})
	mux.Handle(pathUniversalLink, methods{h: h, get: h.authorize})
	mux.Handle(pathLogin, methods{h: h, get: h.loginPage, post: h.loginSubmit})
	mux.Handle(pathVerify, methods{h: h, get: h.factorPage, post: h.factorSubmit})
	mux.Handle(pathResend, methods{h: h, post: h.factorResend})
	mux.Handle(pathAccounts, methods{h: h, get: h.accountsPage, post: h.accountsSubmit})
	mux.Handle(pathReview, methods{h: h, get: h.reviewPage})
	mux.Handle(pathDecision, methods{h: h, post: h.decisionSubmit})
	mux.Handle(pathComplete, methods{h: h, get: h.complete})
	mux.Handle(pathDone, methods{h: h, get: h.done, post: h.done})
	mux.Handle(pathCancel, methods{h: h, post: h.cancel})
	mux.Handle(pathLang, methods{h: h, post: h.switchLang})
	mux.Handle(pathError, methods{h: h, get: h.errorPage})
	mux.Handle(pathStatic, methods{h: h, get: h.serveStatic})
	mux.HandleFunc("/", h.notFound)

	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(h.crossOrigin))
	h.root = h.headers(h.frontEnd(h.withClient(h.limit(cop.Handler(mux)))))
	return h, nil
}

// ServeHTTP serves the web listener.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.root.ServeHTTP(w, r) }

// methods dispatches by method so a wrong method gets the friendly page (405), not plain text.
type methods struct {
	h         *Handler
	get, post http.HandlerFunc
}

func (m methods) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case (r.Method == http.MethodGet || r.Method == http.MethodHead) && m.get != nil:
		m.get(w, r)
	case r.Method == http.MethodPost && m.post != nil:
		m.post(w, r)
	default:
		var allow []string
		if m.get != nil {
			allow = append(allow, http.MethodGet, http.MethodHead)
		}
		if m.post != nil {
			allow = append(allow, http.MethodPost)
		}
		w.Header().Set("Allow", strings.Join(allow, ", "))
		m.h.renderError(w, r, nil, errMethod)
	}
}

// headers sets the security headers of issue 4 §3 on every response. Static assets are the one
// exception to no-store: they are content-addressed and cached long.
func (h *Handler) headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", h.csp)
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Cache-Control", "no-store")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Cross-Origin-Opener-Policy", "same-origin")
		hd.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
		if !h.o.InsecureHTTP {
			hd.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		next.ServeHTTP(w, r)
	})
}

// crossOrigin answers a POST that http.CrossOriginProtection refused (U10).
func (h *Handler) crossOrigin(w http.ResponseWriter, r *http.Request) {
	h.o.Logger.WarnContext(r.Context(), "web: cross-origin request refused", "path", r.URL.Path)
	h.renderError(w, r, nil, errForbidden)
}

// notFound is the friendly 404 page.
func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	h.renderError(w, r, nil, errNotFound)
}

// loadStatic reads the embedded assets, adds theme.css and computes the version hash.
func (h *Handler) loadStatic() error {
	h.static = map[string]staticFile{}
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		h.static[path.Base(p)] = staticFile{body: b, contentType: contentType(p)}
		return nil
	})
	if err != nil {
		return fmt.Errorf("web: static assets: %w", err)
	}
	h.static["theme.css"] = staticFile{body: themeCSS(h.o.Branding.PrimaryColor), contentType: contentType("theme.css")}
	names := make([]string, 0, len(h.static))
	for n := range h.static {
		names = append(names, n)
	}
	slices.Sort(names)
	sum := sha256.New()
	for _, n := range names {
		fmt.Fprintf(sum, "%s\x00%d\x00", n, len(h.static[n].body))
		sum.Write(h.static[n].body)
	}
	h.version = hex.EncodeToString(sum.Sum(nil))[:12]
	return nil
}

func contentType(name string) string {
	switch path.Ext(name) {
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".png":
		return "image/png"
	}
	return "application/octet-stream"
}

// serveStatic serves /static/<version>/<name>. The current version is cached for a year
// (immutable); an old version still answers, uncached, so a page rendered before a deploy works.
func (h *Handler) serveStatic(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, pathStatic)
	v, name, ok := strings.Cut(rest, "/")
	f, found := h.static[name]
	if !ok || !found || strings.Contains(name, "/") {
		h.notFound(w, r)
		return
	}
	if v == h.version {
		w.Header().Set("Cache-Control", staticCacheControl)
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	w.Header().Set("Content-Type", f.contentType)
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(f.body))
}

// staticBase is the URL prefix of the current static assets.
func (h *Handler) staticBase() string { return pathStatic + h.version }
