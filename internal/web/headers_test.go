package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ofpdp/ofpdp/internal/journey"
)

// form-action is 'self' only: no form navigates off the DP (the journey leaves through a link).
const wantCSP = "default-src 'none'; style-src 'self'; img-src 'self' data: https:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// TestSecurityHeaders: every response — pages, redirects, errors, 404, static — carries the
// headers of issue 4 §3 (U10: anti-framing).
func TestSecurityHeaders(t *testing.T) {
	hs := newHarness(t, nil)
	check := func(name string, h http.Header, static bool) {
		t.Helper()
		want := map[string]string{
			"Content-Security-Policy":   wantCSP,
			"X-Frame-Options":           "DENY",
			"X-Content-Type-Options":    "nosniff",
			"Referrer-Policy":           "no-referrer",
			"Strict-Transport-Security": "max-age=63072000; includeSubDomains",
			"Cache-Control":             "no-store",
		}
		if static {
			want["Cache-Control"] = staticCacheControl
		}
		for k, v := range want {
			if got := h.Get(k); got != v {
				t.Errorf("%s: %s = %q, want %q", name, k, got, v)
			}
		}
	}
	check("authorize redirect", hs.do(http.MethodGet, authorizeURL(testConsentID, testRedirect, testSig), nil).Header(), false)
	check("login page", hs.do(http.MethodGet, pathLogin, nil).Header(), false)
	check("error page", hs.do(http.MethodGet, authorizeURL(testConsentID, testRedirect, "bad"), nil).Header(), false)
	check("404", hs.do(http.MethodGet, "/nope", nil).Header(), false)
	check("405", hs.do(http.MethodDelete, pathLogin, nil).Header(), false)
	check("cross-origin refusal", hs.do(http.MethodPost, pathCancel, url.Values{"csrf": {hs.csrf}}, "Sec-Fetch-Site", "cross-site").Header(), false)
	check("static", hs.do(http.MethodGet, hs.h.staticBase()+"/app.css", nil).Header(), true)
	check("error redirect", hs.post(pathCancel, nil).Header(), false)
}

// TestInsecureHTTP: the sandbox over plain HTTP: no HSTS, a cookie without Secure and without the
// __Host- prefix, and a visible SANDBOX label; http redirect_uris are allowed there only.
func TestInsecureHTTP(t *testing.T) {
	hs := newHarness(t, func(o *Options) {
		o.InsecureHTTP = true
		o.RedirectAllowlist = []string{"http://localhost:8445/cb"}
	})
	w := hs.do(http.MethodGet, authorizeURL(testConsentID, "http://localhost:8445/cb", testSig), nil)
	mustRedirect(t, w, pathLogin)
	if w.Header().Get("Strict-Transport-Security") != "" {
		t.Error("HSTS over plain HTTP")
	}
	if !strings.Contains(w.Header().Get("Content-Security-Policy"), "form-action 'self';") {
		t.Errorf("CSP %q", w.Header().Get("Content-Security-Policy"))
	}
	ck := w.Result().Cookies()[0]
	if ck.Name != "ofpdp_session" || ck.Secure || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode {
		t.Errorf("cookie %+v", ck)
	}
	body := hs.do(http.MethodGet, pathLogin, nil).Body.String()
	if !strings.Contains(body, `class="sandbox"`) || !strings.Contains(body, "SANDBOX") {
		t.Error("no SANDBOX label")
	}
	if _, err := New(Options{RedirectAllowlist: []string{"http://localhost:8445/cb"}}); err == nil || !strings.Contains(err.Error(), "https") {
		t.Errorf("http redirect_uri accepted without InsecureHTTP: %v", err)
	}
}

// TestCSRF (U10): a journey POST without the session's CSRF token, with a wrong one, or from
// another origin is refused and changes nothing; the decision form also needs its nonce.
func TestCSRF(t *testing.T) {
	cases := []struct {
		name   string
		form   url.Values
		hdr    []string
		status int
	}{
		{"no token", url.Values{"decision": {"approve"}}, nil, http.StatusForbidden},
		{"wrong token", url.Values{"csrf": {"forged"}, "decision": {"approve"}}, nil, http.StatusForbidden},
		{"cross-site (Sec-Fetch-Site)", nil, []string{"Sec-Fetch-Site", "cross-site"}, http.StatusForbidden},
		{"other origin (Origin header)", nil, []string{"Origin", "https://evil.example"}, http.StatusForbidden},
		{"no nonce", url.Values{"decision": {"approve"}, "nonce": {""}}, nil, http.StatusForbidden},
		{"wrong nonce", url.Values{"decision": {"approve"}, "nonce": {"guess"}}, nil, http.StatusForbidden},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			hs := newHarness(t, nil)
			hs.review("ACC-SAV")
			form := c.form
			if form == nil {
				form = url.Values{"csrf": {hs.csrf}, "nonce": {hs.nonce}, "decision": {"approve"}}
			}
			form.Set("lang", "ms")
			form.Set("account", hs.ids("ACC-CARD")[0])
			paths := []string{pathDecision, pathCancel, pathAccounts, pathLang, pathLogin, pathDone}
			if strings.Contains(c.name, "nonce") {
				form.Set("csrf", hs.csrf)
				paths = []string{pathDecision}
			}
			for _, path := range paths {
				w := hs.do(http.MethodPost, path, form, c.hdr...)
				mustStatus(t, w, c.status)
				mustStep(t, w, "error")
			}
			if len(hs.upd.all()) != 0 || hs.store.record(testConsentID).Authorization != nil {
				t.Fatal("a refused POST changed the consent")
			}
			if j := hs.journey(); j.Step != journey.StepReview || j.Outcome != "" || j.Lang != langEN {
				t.Fatalf("journey changed: %+v", j)
			}
		})
	}
}

// TestSameOriginPOSTAllowed: a browser's same-origin POST (Sec-Fetch-Site: same-origin) passes.
func TestSameOriginPOSTAllowed(t *testing.T) {
	hs := newHarness(t, nil)
	hs.start()
	w := hs.do(http.MethodPost, pathLogin, url.Values{"csrf": {hs.csrf}, "username": {"aisyah"}, "password": {"Demo@1234"}},
		"Sec-Fetch-Site", "same-origin", "Origin", "https://dp.bank.example")
	mustRedirect(t, w, pathAccounts)
}

// TestNoSessionPages: journey pages without a session, or with an unknown one, explain and stop;
// they never redirect anywhere.
func TestNoSessionPages(t *testing.T) {
	hs := newHarness(t, nil)
	for _, p := range []string{pathLogin, pathAccounts, pathReview, pathComplete, pathDone} {
		w := hs.do(http.MethodGet, p, nil)
		mustStatus(t, w, http.StatusBadRequest)
		mustStep(t, w, "error")
		if !strings.Contains(w.Body.String(), "Your session has ended") {
			t.Errorf("%s: not the session page", p)
		}
	}
	hs.cookie = "unknown-session-id"
	mustStatus(t, hs.post(pathCancel, url.Values{"csrf": {"x"}}), http.StatusBadRequest)
	mustStatus(t, hs.post(pathLang, url.Values{"csrf": {"x"}, "lang": {"ms"}}), http.StatusBadRequest)
}

// TestNotFoundAndMethod: a friendly 404 page and a friendly 405 with Allow.
func TestNotFoundAndMethod(t *testing.T) {
	hs := newHarness(t, nil)
	for _, p := range []string{"/", "/journey", "/journey/login/", "/v1/oauth/authorize/x", "/static/nope", "/static/" + hs.h.version + "/missing.css", "/static/" + hs.h.version + "/sub/app.css"} {
		w := hs.do(http.MethodGet, p, nil)
		mustStatus(t, w, http.StatusNotFound)
		mustStep(t, w, "error")
	}
	w := hs.do(http.MethodPost, pathAuthorize, url.Values{})
	mustStatus(t, w, http.StatusMethodNotAllowed)
	if w.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("Allow %q", w.Header().Get("Allow"))
	}
	mustStep(t, w, "error")
	w = hs.do(http.MethodGet, pathDecision, nil)
	mustStatus(t, w, http.StatusMethodNotAllowed)
	if w.Header().Get("Allow") != "POST" {
		t.Errorf("Allow %q", w.Header().Get("Allow"))
	}
	w = hs.do(http.MethodHead, pathError+"?code=not_found", nil)
	if w.Code != http.StatusNotFound || w.Body.Len() != 0 {
		t.Errorf("HEAD: %d with %d bytes", w.Code, w.Body.Len())
	}
}

// TestStatic: assets are content-addressed and cached for a year; theme.css carries the brand.
func TestStatic(t *testing.T) {
	hs := newHarness(t, func(o *Options) { o.Branding.PrimaryColor = "#ffcc00" })
	w := hs.do(http.MethodGet, hs.h.staticBase()+"/app.css", nil)
	mustStatus(t, w, http.StatusOK)
	if w.Header().Get("Content-Type") != "text/css; charset=utf-8" || !strings.Contains(w.Body.String(), ":focus-visible") {
		t.Errorf("app.css: %s", w.Header().Get("Content-Type"))
	}
	w = hs.do(http.MethodGet, hs.h.staticBase()+"/theme.css", nil)
	body := w.Body.String()
	if !strings.Contains(body, "--brand: #ffcc00;") || !strings.Contains(body, "--on-brand: #111827;") {
		t.Errorf("theme.css:\n%s", body)
	}
	w = hs.do(http.MethodGet, "/static/0000oldver000/app.css", nil)
	if w.Code != http.StatusOK || w.Header().Get("Cache-Control") != "no-cache" {
		t.Errorf("old version: %d %q", w.Code, w.Header().Get("Cache-Control"))
	}
	w = hs.do(http.MethodGet, hs.h.staticBase()+"/favicon.svg", nil)
	if w.Header().Get("Content-Type") != "image/svg+xml" {
		t.Errorf("favicon: %q", w.Header().Get("Content-Type"))
	}
	other := newHarness(t, func(o *Options) { o.Branding.PrimaryColor = "#123456" })
	if other.h.version == hs.h.version {
		t.Error("the static version does not change with the theme")
	}
}

// TestPOSTBodyLimit: an oversized form is refused, not read into memory.
func TestPOSTBodyLimit(t *testing.T) {
	hs := newHarness(t, nil)
	hs.login()
	w := hs.post(pathAccounts, url.Values{"account": {strings.Repeat("a", maxFormBytes)}})
	if w.Code < 400 {
		t.Fatalf("status %d", w.Code)
	}
	if j := hs.journey(); len(j.Selected) != 0 {
		t.Fatal("selection stored")
	}
}

func TestSessionCookieCap(t *testing.T) {
	hs := newHarness(t, nil)
	hs.start()
	hs.cookie = strings.Repeat("x", 200)
	mustStatus(t, hs.do(http.MethodGet, pathLogin, nil), http.StatusBadRequest)
}
