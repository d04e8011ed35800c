package web

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ofpdp/ofpdp/internal/consent"
	"github.com/ofpdp/ofpdp/internal/journey"
)

func TestParseAuthorizeQuery(t *testing.T) {
	ok := url.Values{"consent_id": {testConsentID}, "redirect_uri": {testRedirect}, "signature": {testSig}}
	with := func(f func(url.Values)) string {
		q := url.Values{}
		for k, v := range ok {
			q[k] = append([]string(nil), v...)
		}
		f(q)
		return q.Encode()
	}
	cases := []struct {
		name string
		raw  string
		want error
	}{
		{"valid", ok.Encode(), nil},
		{"extra oidc parameters are ignored", with(func(q url.Values) { q.Set("state", "s"); q.Set("nonce", "n") }), nil},
		{"bad escape", ok.Encode() + "&x=%zz", errAuthorizeQuery},
		{"redirect_uri missing", with(func(q url.Values) { q.Del("redirect_uri") }), errParamMissing},
		{"redirect_uri empty", with(func(q url.Values) { q.Set("redirect_uri", "") }), errParamMissing},
		{"redirect_uri twice", with(func(q url.Values) { q.Add("redirect_uri", testRedirect) }), errParamRepeated},
		{"redirect_uri too long", with(func(q url.Values) { q.Set("redirect_uri", "https://x/"+strings.Repeat("a", 300)) }), errParamTooLong},
		{"consent_id missing", with(func(q url.Values) { q.Del("consent_id") }), errParamMissing},
		{"consent_id twice", with(func(q url.Values) { q.Add("consent_id", otherConsent) }), errParamRepeated},
		{"consent_id 37 chars", with(func(q url.Values) { q.Set("consent_id", testConsentID+"0") }), errParamTooLong},
		{"signature missing (U1)", with(func(q url.Values) { q.Del("signature") }), errParamMissing},
		{"signature twice", with(func(q url.Values) { q.Add("signature", testSig) }), errParamRepeated},
		{"signature too long", with(func(q url.Values) { q.Set("signature", strings.Repeat("a", 4097)) }), errParamTooLong},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := parseAuthorizeQuery(c.raw)
			if !errors.Is(err, c.want) {
				t.Fatalf("error %v, want %v", err, c.want)
			}
			if c.want == nil && (p.ConsentID != testConsentID || p.RedirectURI != testRedirect || p.Signature != testSig) {
				t.Fatalf("params %+v", p)
			}
		})
	}
}

// TestAuthorizeRefusedWithoutRedirect covers U1 (invalid or missing signature, consent_id swapped
// to another consent) and U2 (redirect_uri not registered): a DP error page, never a redirect,
// and no session (design §3.10).
func TestAuthorizeRefusedWithoutRedirect(t *testing.T) {
	cases := []struct{ name, target string }{
		{"U2 unregistered redirect_uri, valid signature", authorizeURL(testConsentID, "https://evil.example/cb", testSig)},
		{"U2 registered uri with an extra query", authorizeURL(testConsentID, testRedirect+"?x=1", testSig)},
		{"U2 registered uri differing in case", authorizeURL(testConsentID, strings.ToUpper(testRedirect), testSig)},
		{"U1 signature invalid", authorizeURL(testConsentID, testRedirect, "forged")},
		{"U1 signature missing", pathAuthorize + "?" + url.Values{"consent_id": {testConsentID}, "redirect_uri": {testRedirect}}.Encode()},
		{"U1 consent_id swapped to another consent", authorizeURL(testConsentID, testRedirect, otherSig)},
		{"U1 signature of this consent on another consent_id", authorizeURL(otherConsent, testRedirect, testSig)},
		{"redirect_uri given twice", authorizeURL(testConsentID, testRedirect, testSig) + "&redirect_uri=" + url.QueryEscape(testRedirect)},
		{"consent_id given twice", authorizeURL(testConsentID, testRedirect, testSig) + "&consent_id=" + testConsentID},
		{"universal link, bad signature", strings.Replace(authorizeURL(testConsentID, testRedirect, "forged"), pathAuthorize, pathUniversalLink, 1)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			hs := newHarness(t, nil)
			w := hs.do(http.MethodGet, c.target, nil)
			mustStatus(t, w, http.StatusBadRequest)
			if loc := w.Header().Get("Location"); loc != "" {
				t.Fatalf("redirected to %q", loc)
			}
			mustStep(t, w, "error")
			if !strings.Contains(w.Body.String(), "This link can") {
				t.Fatalf("not the invalid-link page:\n%s", w.Body.String())
			}
			if strings.Contains(w.Body.String(), "evil.example") {
				t.Fatal("the untrusted redirect_uri is echoed in the page")
			}
			if hs.cookie != "" || hs.store.sessionCount() != 0 {
				t.Fatal("a session was created")
			}
			if len(hs.upd.all()) != 0 {
				t.Fatal("a consent update was sent")
			}
		})
	}
}

// TestAuthorizeErrorRedirect: with a registered redirect_uri and a valid signature, a consent that
// cannot be authorized goes back to PayNet with error=access_denied (U1 unknown consent, U7 not
// awaiting authorization, U8 window over), without a session or a PATCH.
func TestAuthorizeErrorRedirect(t *testing.T) {
	cases := []struct {
		name   string
		mod    func(c *consent.Consent)
		id     string
		sig    string
		reason string
	}{
		{"U1 unknown consent", nil, otherConsent, otherSig, journey.ReasonUnknownConsent},
		{"U7 already authorized", func(c *consent.Consent) { c.Status = consent.StatusAuthorized }, testConsentID, testSig, journey.ReasonNotAwaiting},
		{"U7 rejected", func(c *consent.Consent) { c.Status = consent.StatusRejected }, testConsentID, testSig, journey.ReasonNotAwaiting},
		{"U7 revoked", func(c *consent.Consent) { c.Status = consent.StatusRevoked }, testConsentID, testSig, journey.ReasonNotAwaiting},
		{"U7 expired", func(c *consent.Consent) { c.Status = consent.StatusExpired }, testConsentID, testSig, journey.ReasonNotAwaiting},
		{"U7 failed", func(c *consent.Consent) { c.Status = consent.StatusFailed }, testConsentID, testSig, journey.ReasonNotAwaiting},
		{"U8 window over by one second", func(c *consent.Consent) { c.CreatedAt = c.CreatedAt.Add(-4*time.Minute - time.Second) }, testConsentID, testSig, journey.ReasonWindowOver},
		{"consent for another DP", func(c *consent.Consent) { c.DPID = "DP0000000001" }, testConsentID, testSig, journey.ReasonOtherDP},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			hs := newHarness(t, nil)
			if c.mod != nil {
				cs := testConsent(hs.clock.now())
				c.mod(&cs)
				hs.store.put(cs)
			}
			w := hs.do(http.MethodGet, authorizeURL(c.id, testRedirect, c.sig), nil)
			mustErrorRedirect(t, w, testRedirect, c.id, c.reason)
			if hs.store.sessionCount() != 0 || len(hs.upd.all()) != 0 {
				t.Fatal("a session was created or a PATCH sent")
			}
		})
	}
}

// TestAuthorizeStartsSession: a valid request creates a session whose id is 256 random bits, of
// which only the SHA-256 is stored, in a __Host- cookie (Secure, HttpOnly, SameSite=Lax, Path=/),
// with the absolute expiry at the end of the consent's authorization window.
func TestAuthorizeStartsSession(t *testing.T) {
	for _, path := range []string{pathAuthorize, pathUniversalLink} {
		t.Run(path, func(t *testing.T) {
			hs := newHarness(t, nil)
			w := hs.do(http.MethodGet, strings.Replace(authorizeURL(testConsentID, testRedirect, testSig), pathAuthorize, path, 1), nil)
			mustRedirect(t, w, pathLogin)
			var ck *http.Cookie
			for _, c := range w.Result().Cookies() {
				ck = c
			}
			if ck == nil || ck.Name != "__Host-ofpdp_session" || !ck.Secure || !ck.HttpOnly ||
				ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.Domain != "" || ck.MaxAge != 0 {
				t.Fatalf("cookie %+v", ck)
			}
			if len(ck.Value) != 43 { // 32 bytes, base64url without padding
				t.Fatalf("session id %q is not 256 bits", ck.Value)
			}
			sum := sha256.Sum256([]byte(ck.Value))
			row, err := hs.store.GetSession(t.Context(), hex.EncodeToString(sum[:]))
			if err != nil {
				t.Fatalf("session not stored under the SHA-256 of its id: %v", err)
			}
			if _, err := hs.store.GetSession(t.Context(), ck.Value); err == nil {
				t.Fatal("the raw session id is stored")
			}
			c := testConsent(hs.clock.now())
			if !row.AbsoluteExpiry.Equal(c.CreatedAt.Add(5*time.Minute)) || !row.IdleExpiry.Equal(hs.clock.now().Add(DefaultSessionIdle)) {
				t.Fatalf("expiry idle %v absolute %v", row.IdleExpiry, row.AbsoluteExpiry)
			}
			j := hs.journey()
			if j.RedirectURI != testRedirect || j.ConsentID != testConsentID || j.DCID != testDCID || j.Step != journey.StepLogin {
				t.Fatalf("journey %+v", j)
			}
			if strings.Contains(string(row.Data), testSig) {
				t.Fatal("the signature is kept in the session")
			}
		})
	}
}

// TestRedirectQueryAppended: a registered redirect_uri that has a query gets & (design §3.10).
func TestRedirectQueryAppended(t *testing.T) {
	hs := newHarness(t, nil)
	mustRedirect(t, hs.do(http.MethodGet, authorizeURL(testConsentID, testRedirectQ, testSig), nil), pathLogin)
	mustStatus(t, hs.do(http.MethodGet, pathLogin, nil), http.StatusOK)
	w := hs.leave(hs.post(pathCancel, nil))
	loc := w.Header().Get("Location")
	if !strings.HasPrefix(loc, testRedirectQ+"&error=access_denied&error_description=") || !strings.HasSuffix(loc, "&consent_id="+testConsentID) {
		t.Fatalf("Location %q", loc)
	}
}

func TestWithQuery(t *testing.T) {
	cases := []struct{ base, want string }{
		{"https://p.example/cb", "https://p.example/cb?consent_id=a+b%26c"},
		{"https://p.example/cb?x=1", "https://p.example/cb?x=1&consent_id=a+b%26c"},
		{"https://p.example/cb?", "https://p.example/cb?consent_id=a+b%26c"},
		{"https://p.example/cb?x=1&", "https://p.example/cb?x=1&consent_id=a+b%26c"},
	}
	for _, c := range cases {
		if got := withQuery(c.base, [2]string{"consent_id", "a b&c"}); got != c.want {
			t.Errorf("withQuery(%q) = %q, want %q", c.base, got, c.want)
		}
	}
	got := errorURL("https://p.example/cb", "C1", journey.ReasonRejected)
	if got != "https://p.example/cb?error=access_denied&error_description=The+customer+rejected+the+consent&consent_id=C1" {
		t.Errorf("errorURL = %q", got)
	}
	for r, d := range descriptions {
		for _, ch := range d {
			if ch < 0x20 || ch > 0x7e || ch == '"' || ch == '\\' {
				t.Errorf("description of %s has %q (RFC 6749 §4.1.2.1)", r, ch)
			}
		}
	}
}

// TestStateNotApplicable documents U3 and U9: they are about `state` (and `nonce`), which only
// the oidc profile carries (design §3.13); the v1.2.1 authorize request has neither.
func TestStateNotApplicable(t *testing.T) {
	t.Skip("U3/U9 (state and nonce echo) apply to the oidc profile only (design §3.13); v1.2.1 has no state")
}
