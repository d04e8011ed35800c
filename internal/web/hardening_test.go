package web

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/ofpdp/ofpdp/internal/consent"
	"github.com/ofpdp/ofpdp/internal/journey"
	"github.com/ofpdp/ofpdp/internal/lockout"
	"github.com/ofpdp/ofpdp/internal/obs"
	"github.com/ofpdp/ofpdp/internal/paynet"
)

// TestLoginProgressiveDelay: past Lockout.MaxFailures failures of one username from one
// address, the next sign-in waits DelayStep (429, the generic "try again later" message,
// Retry-After), without locking the journey; after the delay one more attempt reaches the bank.
func TestLoginProgressiveDelay(t *testing.T) {
	hs := newHarness(t, func(o *Options) {
		o.Lockout = lockout.Policy{MaxFailures: 3, DelayStep: 30 * time.Second, HardLockFailures: 10}
	})
	hs.start()
	for range 3 {
		hs.post(pathLogin, url.Values{"username": {"aisyah"}, "password": {"wrong"}})
	}
	// The first journey is locked (3 failures); a new journey from the same address is delayed.
	b := newBrowser(hs)
	b.start()
	calls := hs.bank.calls()
	w := b.post(pathLogin, url.Values{"username": {"aisyah"}, "password": {"Demo@1234"}})
	mustStatus(t, w, http.StatusTooManyRequests)
	if ra := w.Header().Get("Retry-After"); ra != "30" {
		t.Fatalf("Retry-After %q", ra)
	}
	if got := alertText(w.Body.String()); !strings.Contains(got, "Please wait") || strings.Contains(w.Body.String(), `id="password"`) == false {
		t.Fatalf("delayed page: alert %q", got)
	}
	if hs.bank.calls() != calls {
		t.Fatal("a delayed sign-in reached the bank")
	}
	if b.journey().Locked {
		t.Fatal("a delay locked the journey")
	}
	// The customer at another address is not delayed by these guesses.
	c := newBrowser(hs)
	c.addr = "203.0.113.50:4444"
	c.start()
	mustRedirect(t, c.post(pathLogin, url.Values{"username": {"aisyah"}, "password": {"Demo@1234"}}), pathAccounts)
	// After the delay, the first browser may try again.
	hs.clock.add(30 * time.Second)
	mustRedirect(t, b.post(pathLogin, url.Values{"username": {"aisyah"}, "password": {"Demo@1234"}}), pathAccounts)
}

// TestLoginPasswordSpraying: one address trying many usernames is stopped at
// Lockout.PerClient failures, with the generic 429 page; a forged X-Forwarded-For from an
// untrusted peer does not escape the limit.
func TestLoginPasswordSpraying(t *testing.T) {
	hs := newHarness(t, func(o *Options) { o.Lockout = lockout.Policy{PerClient: 4} })
	for i := range 6 {
		b := newBrowser(hs)
		b.start()
		w := b.do(http.MethodPost, pathLogin, url.Values{"username": {"user" + string(rune('a'+i))}, "password": {"x"}, "csrf": {b.csrf}},
			"X-Forwarded-For", "198.51.100."+string(rune('1'+i)))
		want := http.StatusOK
		if i >= 4 {
			want = http.StatusTooManyRequests
		}
		mustStatus(t, w, want)
	}
	if n := hs.bank.calls(); n != 4 {
		t.Fatalf("%d sign-ins reached the bank, want 4", n)
	}
}

func TestClientAddr(t *testing.T) {
	hs := newHarness(t, func(o *Options) {
		o.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8::/32")}
	})
	cases := []struct{ remote, xff, want string }{
		{"192.0.2.1:1234", "", "192.0.2.1"},
		{"192.0.2.1:1234", "203.0.113.9", "192.0.2.1"}, // untrusted peer: header ignored
		{"10.1.2.3:1234", "", "10.1.2.3"},
		{"10.1.2.3:1234", "203.0.113.9", "203.0.113.9"},
		{"10.1.2.3:1234", "1.1.1.1, 203.0.113.9, 10.9.9.9", "203.0.113.9"}, // right-most untrusted
		{"10.1.2.3:1234", "garbage, 10.9.9.9", "10.9.9.9"},
		{"[2001:db8::1]:443", "[2001:db8::2], 198.51.100.4", "198.51.100.4"},
		{"[::ffff:192.0.2.7]:80", "", "192.0.2.7"},
	}
	for _, c := range cases {
		r := requestFrom(c.remote, c.xff)
		if got := hs.h.clientAddr(r); got != c.want {
			t.Errorf("%s + %q: %s, want %s", c.remote, c.xff, got, c.want)
		}
	}
}

func requestFrom(remote, xff string) *http.Request {
	r, _ := http.NewRequest(http.MethodGet, "https://dp.bank.example/", nil)
	r.RemoteAddr = remote
	if xff != "" {
		r.Header.Set("X-Forwarded-For", xff)
	}
	return r
}

// TestWebRateLimits: beyond RatePerClientPerMinute a client gets the 429 page with Retry-After,
// before any session is touched; another client is served; refusals are counted.
func TestWebRateLimits(t *testing.T) {
	m := obs.NewMetrics()
	hs := newHarness(t, func(o *Options) { o.RatePerClientPerMinute = 5; o.Metrics = m })
	for range 5 {
		mustStatus(t, hs.do(http.MethodGet, "/nowhere", nil), http.StatusNotFound)
	}
	w := hs.do(http.MethodGet, authorizeURL(testConsentID, testRedirect, testSig), nil)
	mustStatus(t, w, http.StatusTooManyRequests)
	if w.Header().Get("Retry-After") == "" || !strings.Contains(w.Body.String(), "Too many requests") {
		t.Fatalf("429 page: %v\n%s", w.Header(), w.Body.String())
	}
	if hs.store.sessionCount() != 0 {
		t.Fatal("a rate-limited request created a session")
	}
	other := newBrowser(hs)
	other.addr = "198.51.100.20:1000"
	mustRedirect(t, other.do(http.MethodGet, authorizeURL(testConsentID, testRedirect, testSig), nil), pathLogin)
	if n := refusals(t, m, "rate_limited"); n != 1 {
		t.Fatalf("rate_limited refusals counted %v", n)
	}

	g := newHarness(t, func(o *Options) { o.RateGlobalPerSecond = 2 })
	for i, addr := range []string{"198.51.100.1:1", "198.51.100.2:1", "198.51.100.3:1"} {
		b := newBrowser(g)
		b.addr = addr
		want := http.StatusNotFound
		if i == 2 {
			want = http.StatusTooManyRequests
		}
		mustStatus(t, b.do(http.MethodGet, "/nowhere", nil), want)
	}
}

// TestAuthorizeRefusedWritesNothing: an authorize request whose signature does not verify writes
// no audit row and no session (anyone can send one); it is counted in a metric instead.
func TestAuthorizeRefusedWritesNothing(t *testing.T) {
	m := obs.NewMetrics()
	hs := newHarness(t, func(o *Options) { o.Metrics = m })
	for range 10 {
		mustStatus(t, hs.do(http.MethodGet, authorizeURL(testConsentID, testRedirect, "forged"), nil), http.StatusBadRequest)
	}
	if len(hs.store.audits) != 0 || hs.store.sessionCount() != 0 {
		t.Fatalf("refused requests wrote %d audit rows and %d sessions", len(hs.store.audits), hs.store.sessionCount())
	}
	if n := refusals(t, m, "authorize_refused"); n != 10 {
		t.Fatalf("authorize_refused counted %v", n)
	}
}

// TestAuthorizeReusesSession: the same browser opening the same link again continues its journey
// (no new session); sessions per consent are capped.
func TestAuthorizeReusesSession(t *testing.T) {
	hs := newHarness(t, func(o *Options) { o.SessionsPerConsent = 3 })
	hs.start()
	first := hs.cookie
	for range 5 {
		mustRedirect(t, hs.do(http.MethodGet, authorizeURL(testConsentID, testRedirect, testSig), nil), pathLogin)
	}
	if hs.cookie != first || hs.store.sessionCount() != 1 {
		t.Fatalf("repeated GETs: cookie changed %v, %d sessions", hs.cookie != first, hs.store.sessionCount())
	}
	// After sign-in, opening the link again goes back to where the journey is.
	hs.post(pathLogin, url.Values{"username": {"aisyah"}, "password": {"Demo@1234"}})
	mustRedirect(t, hs.do(http.MethodGet, authorizeURL(testConsentID, testRedirect, testSig), nil), pathAccounts)

	// Two more browsers fill the cap (the login left a superseded session: 2 so far, +1 = 3).
	b := newBrowser(hs)
	mustRedirect(t, b.do(http.MethodGet, authorizeURL(testConsentID, testRedirect, testSig), nil), pathLogin)
	c := newBrowser(hs)
	w := c.do(http.MethodGet, authorizeURL(testConsentID, testRedirect, testSig), nil)
	mustStatus(t, w, http.StatusTooManyRequests)
	if hs.store.sessionCount() != 3 {
		t.Fatalf("%d sessions, cap 3", hs.store.sessionCount())
	}
}

// TestIdentityBindingRequired: with RequireIdentityBinding, a consent without id_type and
// hashed_id_number fails at authorize (error page, PATCH failed, nobody can sign in).
func TestIdentityBindingRequired(t *testing.T) {
	for _, mod := range []func(*consent.Consent){
		func(c *consent.Consent) { c.IDType, c.HashedIDNumber = "", "" },
		func(c *consent.Consent) { c.HashedIDNumber = "" },
		func(c *consent.Consent) { c.IDType = "" },
	} {
		hs := newHarness(t, nil)
		c := testConsent(hs.clock.now())
		mod(&c)
		hs.store.put(c)
		w := hs.do(http.MethodGet, authorizeURL(testConsentID, testRedirect, testSig), nil)
		hs.ending(w, errIDRequired)
		ups := hs.upd.all()
		if len(ups) != 1 || ups[0].Status != paynet.StatusFailed || ups[0].IDToken != "" {
			t.Fatalf("updates %+v", ups)
		}
		if hs.bank.calls() != 0 {
			t.Fatal("the bank was asked")
		}
		mustErrorRedirect(t, hs.do(http.MethodGet, pathDone, nil), testRedirect, testConsentID, journey.ReasonIdentityRequired)
	}
	// Without the binding (development only), the journey goes on to sign-in.
	hs := newHarness(t, func(o *Options) { o.RequireIdentityBinding = false })
	c := testConsent(hs.clock.now())
	c.IDType, c.HashedIDNumber = "", ""
	hs.store.put(c)
	hs.login()
	if len(hs.upd.all()) != 0 {
		t.Fatal("an update was sent")
	}
}

// TestIdentityRecheckedAtDecision: the decision is checked against the consent as it is when
// deciding, not as it was at sign-in.
func TestIdentityRecheckedAtDecision(t *testing.T) {
	hs := newHarness(t, nil)
	hs.review("ACC-SAV")
	c := hs.store.record(testConsentID).Consent
	c.HashedIDNumber = consent.HashIDNumber("850505105555")
	hs.store.put(c)
	hs.ending(hs.decide("approve"), errIdentity)
	ups := hs.upd.all()
	if len(ups) != 1 || ups[0].Status != paynet.StatusFailed || len(ups[0].Accounts) != 0 || ups[0].IDToken != "" {
		t.Fatalf("updates %+v", ups)
	}
}

func refusals(t *testing.T, m *obs.Metrics, reason string) float64 {
	t.Helper()
	var d dto.Metric
	if err := m.WebRefusals.WithLabelValues(reason).Write(&d); err != nil {
		t.Fatal(err)
	}
	return d.GetCounter().GetValue()
}

// TestBehindProxy (docs/deploy.md, TLS termination): with TLS terminated by the bank's front
// end, only requests from a trusted proxy that it received over HTTPS are served; a request
// straight to the plain-HTTP listener, or one the proxy got over http, is refused.
func TestBehindProxy(t *testing.T) {
	hs := newHarness(t, func(o *Options) {
		o.BehindProxy = true
		o.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	})
	for _, c := range []struct {
		name, remote string
		hdr          []string
		want         int
	}{
		{"trusted proxy, https", "10.1.2.3:1234", []string{"X-Forwarded-Proto", "https"}, http.StatusNotFound},
		{"trusted proxy, Forwarded proto=https", "10.1.2.3:1234", []string{"Forwarded", `for=203.0.113.9;proto=https`}, http.StatusNotFound},
		{"trusted proxy, nearest hop says http", "10.1.2.3:1234", []string{"X-Forwarded-Proto", "https, http"}, http.StatusForbidden},
		{"trusted proxy, no scheme", "10.1.2.3:1234", nil, http.StatusForbidden},
		{"trusted proxy, http", "10.1.2.3:1234", []string{"X-Forwarded-Proto", "http"}, http.StatusForbidden},
		{"not a proxy, claiming https", "192.0.2.1:1234", []string{"X-Forwarded-Proto", "https"}, http.StatusForbidden},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "http://dp.bank.example/nowhere", nil)
			r.RemoteAddr = c.remote
			for i := 0; i+1 < len(c.hdr); i += 2 {
				r.Header.Set(c.hdr[i], c.hdr[i+1])
			}
			w := httptest.NewRecorder()
			hs.h.ServeHTTP(w, r)
			if w.Code != c.want {
				t.Errorf("%d, want %d", w.Code, c.want)
			}
		})
	}
}

// TestClientAddrForwarded: without X-Forwarded-For, Forwarded's for= (RFC 7239) names the
// client, by the same right-most-untrusted rule.
func TestClientAddrForwarded(t *testing.T) {
	hs := newHarness(t, func(o *Options) { o.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")} })
	for _, c := range []struct{ remote, fwd, want string }{
		{"10.1.2.3:1234", `for=203.0.113.9;proto=https`, "203.0.113.9"},
		{"10.1.2.3:1234", `for=1.1.1.1, for="[2001:db8:cafe::17]:4711";proto=https, for=10.9.9.9`, "2001:db8:cafe::17"},
		{"192.0.2.1:1234", `for=203.0.113.9`, "192.0.2.1"}, // untrusted peer: header ignored
		{"10.1.2.3:1234", `for=unknown`, "10.1.2.3"},
	} {
		r := requestFrom(c.remote, "")
		r.Header.Set("Forwarded", c.fwd)
		if got := hs.h.clientAddr(r); got != c.want {
			t.Errorf("%s + Forwarded %q: %s, want %s", c.remote, c.fwd, got, c.want)
		}
	}
}

// TestAuditClient: web audit entries carry the customer's address and user agent.
func TestAuditClient(t *testing.T) {
	hs := newHarness(t, nil)
	hs.do(http.MethodGet, authorizeURL(testConsentID, testRedirect, testSig), nil, "User-Agent", "TestBrowser/1.0")
	if len(hs.store.audits) == 0 {
		t.Fatal("no audit entry")
	}
	if e := hs.store.audits[len(hs.store.audits)-1]; e.ClientAddr != "192.0.2.1" || e.UserAgent != "TestBrowser/1.0" {
		t.Errorf("audit entry %+v, want client 192.0.2.1 and its user agent", e)
	}
}
