package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzParseAuthorizeQuery: any raw query either parses into parameters within their limits,
// each given exactly once, or is refused; never a panic.
func FuzzParseAuthorizeQuery(f *testing.F) {
	f.Add("consent_id=" + testConsentID + "&redirect_uri=" + url.QueryEscape(testRedirect) + "&signature=" + testSig)
	f.Fuzz(func(t *testing.T, raw string) {
		p, err := parseAuthorizeQuery(raw)
		if err != nil {
			return
		}
		q, qerr := url.ParseQuery(raw)
		if qerr != nil {
			t.Fatalf("accepted a query that does not parse: %v", qerr)
		}
		for name, v := range map[string]string{"consent_id": p.ConsentID, "redirect_uri": p.RedirectURI, "signature": p.Signature} {
			if len(q[name]) != 1 || q[name][0] != v || v == "" {
				t.Fatalf("%s: %q from %q", name, v, q[name])
			}
		}
		if len(p.ConsentID) > maxConsentID || len(p.RedirectURI) > maxRedirectURI || len(p.Signature) > maxSignature {
			t.Fatalf("limits not enforced: %+v", p)
		}
	})
}

// FuzzNegotiateLang: any Accept-Language header yields a journey language.
func FuzzNegotiateLang(f *testing.F) {
	f.Add("ms-MY,ms;q=0.9,en;q=0.8")
	f.Fuzz(func(t *testing.T, header string) {
		if l := negotiateLang(header); !validLang(l) {
			t.Fatalf("negotiateLang(%q) = %q", header, l)
		}
	})
}

// FuzzAuthorize drives the whole authorize handler with arbitrary queries: it never answers 5xx,
// and it never redirects anywhere but to the login page or to an allow-listed redirect_uri
// (U1, U2, design §3.10).
func FuzzAuthorize(f *testing.F) {
	f.Add("consent_id=" + testConsentID + "&redirect_uri=" + url.QueryEscape(testRedirect) + "&signature=" + testSig)
	hs := newHarness(f, nil)
	f.Fuzz(func(t *testing.T, raw string) {
		r := httptest.NewRequest(http.MethodGet, "https://dp.bank.example"+pathAuthorize, nil)
		r.URL.RawQuery = raw
		w := httptest.NewRecorder()
		hs.h.ServeHTTP(w, r)
		if w.Code >= 500 {
			t.Fatalf("status %d for %q", w.Code, raw)
		}
		if w.Code >= 300 && w.Code < 400 {
			if w.Code != http.StatusSeeOther {
				t.Fatalf("redirect %d", w.Code)
			}
			loc := w.Header().Get("Location")
			if loc != pathLogin && !strings.HasPrefix(loc, testRedirect+"?") && !strings.HasPrefix(loc, testRedirectQ+"&") {
				t.Fatalf("redirected to %q for %q", loc, raw)
			}
		}
		if w.Header().Get("X-Frame-Options") != "DENY" {
			t.Fatal("headers missing")
		}
	})
}
