package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"

	"github.com/ofpdp/ofpdp/internal/journey"
)

//go:embed templates/*.html
var templateFS embed.FS

// Pages, by template file and by the data-step of their <main>.
var pageNames = []string{"login", "verify", "accounts", "review", "success", "error"}

// renderer holds one template set per language and page: layout.html + <page>.html, with the
// `t` function bound to that language's catalogue.
type renderer struct {
	sets map[string]map[string]*template.Template
}

func newRenderer(cats map[string]catalog) (*renderer, error) {
	r := &renderer{sets: map[string]map[string]*template.Template{}}
	for lang, cat := range cats {
		funcs := template.FuncMap{"t": cat.text}
		r.sets[lang] = map[string]*template.Template{}
		for _, p := range pageNames {
			t, err := template.New(p).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+p+".html")
			if err != nil {
				return nil, fmt.Errorf("web: template %s: %w", p, err)
			}
			r.sets[lang][p] = t
		}
	}
	return r, nil
}

// view is the data of every page. Page-specific fields are zero where unused.
type view struct {
	Lang     string
	Page     string // template, and data-step of <main>
	TitleKey string
	BankName string
	LogoURL  string
	Sandbox  bool
	Static   string
	CSRF     string
	// LangForm: the language switch posts to /journey/lang (a session exists); otherwise it is
	// two links to the sessionless error page in the other language.
	LangForm  bool
	LangLinks map[string]string
	StepNo    int // 1–3 on login, accounts, review; 0 hides the progress line
	DC        dcView
	Alert     string // catalogue key of a message shown in a role=alert box

	// login, verify
	Locked   bool
	Username string
	// verify: the second factor's method, where the bank sent it (masked), and the seconds after
	// which the app-approval page reloads itself (meta refresh, no script)
	Factor      string
	Destination string
	Refresh     int
	// accounts, review, success
	Accounts       []accountView
	PurposeKey     string
	PermissionKeys []string
	Until          string
	Nonce          string
	// error
	ErrTitle, ErrBody string
	BackToDC          bool   // a "Back to {DC}" link to /journey/done
	ContinueURL       string // a link back into the journey
}

type dcView struct{ Name, LogoURL string }

// accountView is an account as a page shows it: never the full bank number.
type accountView = journey.SharedAccount

// base fills the fields every page shares.
func (h *Handler) base(r *http.Request, s *sess, page, titleKey string) view {
	v := view{
		Page: page, TitleKey: titleKey,
		BankName: h.o.Branding.BankName, LogoURL: h.o.Branding.LogoURL,
		Sandbox: h.o.Sandbox || h.o.InsecureHTTP, Static: h.staticBase(),
	}
	if s != nil {
		v.Lang, v.CSRF, v.LangForm = s.j.Lang, s.j.CSRF, true
		v.DC = h.dc(s.j.DCID)
	} else {
		v.Lang = negotiateLang(r.Header.Get("Accept-Language"))
	}
	if !validLang(v.Lang) {
		v.Lang = langEN
	}
	return v
}

// dc is the display name and logo of a data consumer; the dc_id when none is configured.
func (h *Handler) dc(dcID string) dcView {
	if d, ok := h.o.DCs[dcID]; ok && d.Name != "" {
		return dcView(d)
	}
	return dcView{Name: dcID}
}

// render executes a page into a buffer first, so a template failure is a clean 500.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, v view) {
	var buf bytes.Buffer
	t := h.pages.sets[v.Lang][v.Page]
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		h.o.Logger.ErrorContext(r.Context(), "web: render failed", "page", v.Page, "error", err)
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}

// errKind is a DP error page: its HTTP status and catalogue keys error.<code>.title/.body.
type errKind struct {
	code   string
	status int
}

var (
	errInvalidLink   = errKind{"invalid_link", http.StatusBadRequest}
	errSessionGone   = errKind{"session_missing", http.StatusBadRequest}
	errNotFound      = errKind{"not_found", http.StatusNotFound}
	errMethod        = errKind{"method_not_allowed", http.StatusMethodNotAllowed}
	errForbidden     = errKind{"forbidden", http.StatusForbidden}
	errServer        = errKind{"server_error", http.StatusInternalServerError}
	errNothingShared = errKind{"nothing_shared", http.StatusBadGateway}
	errProcessing    = errKind{"processing", http.StatusConflict}
	// Journey endings other than an authorization (design §3.9): each page says what happened and
	// leaves through a "Back to {DC}" link (never a form: see Handler.csp).
	errDeclined       = errKind{"declined", http.StatusOK}
	errIdentity       = errKind{"identity_mismatch", http.StatusForbidden}
	errLocked         = errKind{"login_locked", http.StatusForbidden}
	errTimedOut       = errKind{"timed_out", http.StatusOK}
	errAlreadyDecided = errKind{"already_decided", http.StatusConflict}
	errIDRequired     = errKind{"identity_required", http.StatusForbidden}
	errCancelled      = errKind{"cancelled", http.StatusOK}
	// errTooMany answers a request over the web listener's limits (or a consent with too many
	// sessions), before anything is stored.
	errTooMany = errKind{"too_many_requests", http.StatusTooManyRequests}
)

// errKinds lists every error page (the i18n test checks their messages exist).
var errKinds = []errKind{errInvalidLink, errSessionGone, errNotFound, errMethod, errForbidden, errServer, errNothingShared, errProcessing,
	errDeclined, errIdentity, errLocked, errTimedOut, errAlreadyDecided, errIDRequired, errCancelled, errTooMany}

// sessionlessErrors may be shown again by GET /journey/error?code=…&lang=… (the language switch
// of a page that has no session to remember the language in).
var sessionlessErrors = map[string]errKind{}

func init() {
	for _, k := range []errKind{errInvalidLink, errSessionGone, errNotFound, errMethod, errForbidden, errServer, errTooMany} {
		sessionlessErrors[k.code] = k
	}
}

// renderError shows a DP error page: never a redirect. With a session the page keeps the
// journey's language and offers a way on (Back to {DC} or Continue).
func (h *Handler) renderError(w http.ResponseWriter, r *http.Request, s *sess, k errKind) {
	h.renderErrorLang(w, r, s, k, "")
}

func (h *Handler) renderErrorLang(w http.ResponseWriter, r *http.Request, s *sess, k errKind, lang string) {
	v := h.base(r, s, "error", "error."+k.code+".title")
	if validLang(lang) {
		v.Lang = lang
	}
	v.ErrTitle, v.ErrBody = "error."+k.code+".title", "error."+k.code+".body"
	if s == nil {
		v.LangLinks = map[string]string{}
		code := k.code
		if _, ok := sessionlessErrors[code]; !ok {
			code = errServer.code
		}
		for _, l := range languages {
			v.LangLinks[l] = pathError + "?" + url.Values{"code": {code}, "lang": {l}}.Encode()
		}
	} else {
		switch k {
		case errNothingShared, errDeclined, errIdentity, errLocked, errTimedOut, errAlreadyDecided, errIDRequired, errCancelled:
			v.BackToDC = true
		case errForbidden, errProcessing:
			v.ContinueURL = stepPath(s.j.Step)
		}
	}
	h.render(w, r, k.status, v)
}

// errorPage is GET /journey/error: a sessionless error page in the chosen language.
func (h *Handler) errorPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	k, ok := sessionlessErrors[q.Get("code")]
	if !ok {
		k = errNotFound
	}
	h.renderErrorLang(w, r, nil, k, q.Get("lang"))
}

// stepPath is the page of a journey step.
func stepPath(step journey.Step) string {
	switch step {
	case journey.StepSecondFactor:
		return pathVerify
	case journey.StepAccounts:
		return pathAccounts
	case journey.StepReview:
		return pathReview
	case journey.StepDone:
		return pathComplete
	}
	return pathLogin
}
