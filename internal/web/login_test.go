package web

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ofpdp/ofpdp/internal/consent"
	"github.com/ofpdp/ofpdp/internal/journey"
	"github.com/ofpdp/ofpdp/internal/lockout"
	"github.com/ofpdp/ofpdp/internal/paynet"
)

func alertText(body string) string {
	i := strings.Index(body, `role="alert"`)
	if i < 0 {
		return ""
	}
	rest := body[i:]
	rest = rest[strings.Index(rest, ">")+1:]
	return html.UnescapeString(rest[:strings.Index(rest, "<")])
}

// TestLoginGenericFailure: a wrong password and an unknown username get the very same message
// (never which field was wrong, U12), each failure is recorded against the username, and the
// journey stays on the login page.
func TestLoginGenericFailure(t *testing.T) {
	hs := newHarness(t, nil)
	hs.start()
	wrongPass := hs.post(pathLogin, url.Values{"username": {"aisyah"}, "password": {"nope"}})
	mustStatus(t, wrongPass, http.StatusOK)
	mustStep(t, wrongPass, "login")
	unknown := hs.post(pathLogin, url.Values{"username": {"nobody"}, "password": {"Demo@1234"}})
	mustStatus(t, unknown, http.StatusOK)
	empty := hs.post(pathLogin, url.Values{"username": {"aisyah"}, "password": {""}})
	mustStatus(t, empty, http.StatusOK)
	a, b, c := alertText(wrongPass.Body.String()), alertText(unknown.Body.String()), alertText(empty.Body.String())
	if a == "" || a != b || a != c {
		t.Fatalf("messages differ or are missing: %q / %q / %q", a, b, c)
	}
	for _, word := range []string{"password is", "username is", "unknown", "not found"} {
		if strings.Contains(strings.ToLower(a), word) {
			t.Fatalf("message %q says which field was wrong", a)
		}
	}
	if n := hs.store.attempts("u:"); n != 2 { // aisyah and nobody; not the empty password
		t.Fatalf("failures recorded per username: %d", n)
	}
	if hs.bank.calls() != 2 {
		t.Fatalf("bank called %d times, want 2 (not for an empty password)", hs.bank.calls())
	}
	if j := hs.journey(); j.Step != journey.StepLogin || j.CustomerRef != "" || j.Failures != 2 {
		t.Fatalf("journey %+v", j)
	}
	if len(hs.upd.all()) != 0 {
		t.Fatal("a consent update was sent")
	}
}

// failLogins records n failed sign-ins for username from n different addresses at `at`.
func (hs *harness) failLogins(username string, n int, at time.Time) {
	hs.t.Helper()
	for i := range n {
		tk, err := hs.h.guard.Begin(context.Background(), lockout.Attempt{Username: username, Client: fmt.Sprint("203.0.113.", i), ConsentID: "elsewhere"}, at)
		if err != nil {
			hs.t.Fatal(err)
		}
		tk.Failed()
	}
}

// TestLoginLockedUsername (U12): Lockout.HardLockFailures failures within Lockout.Window lock the
// username; the bank is not asked while it is locked, the message is the generic "too many
// attempts", and only cancel is left, which fails the consent (design §3.9).
func TestLoginLockedUsername(t *testing.T) {
	hs := newHarness(t, func(o *Options) {
		o.Lockout = lockout.Policy{MaxFailures: 3, HardLockFailures: 3, Window: 10 * time.Minute}
	})
	hs.failLogins("AISYAH", 3, hs.clock.now().Add(-time.Minute))
	hs.start()
	w := hs.post(pathLogin, url.Values{"username": {"Aisyah"}, "password": {"Demo@1234"}})
	mustStatus(t, w, http.StatusTooManyRequests)
	if hs.bank.calls() != 0 {
		t.Fatal("the bank was asked for a locked username")
	}
	if !strings.Contains(w.Body.String(), "Too many unsuccessful attempts") || strings.Contains(w.Body.String(), `id="password"`) {
		t.Fatalf("locked page:\n%s", w.Body.String())
	}
	if !strings.Contains(w.Body.String(), `id="cancel"`) {
		t.Fatal("no cancel on the locked page")
	}
	// Even the right password is not tried again in this journey.
	w = hs.post(pathLogin, url.Values{"username": {"aisyah"}, "password": {"Demo@1234"}})
	mustStatus(t, w, http.StatusTooManyRequests)
	if hs.bank.calls() != 0 {
		t.Fatal("the bank was asked in a locked journey")
	}
	w = hs.post(pathCancel, nil)
	mustErrorRedirect(t, hs.leave(w), testRedirect, testConsentID, journey.ReasonLocked)
	ups := hs.upd.all()
	if len(ups) != 1 || ups[0].Status != paynet.StatusFailed || ups[0].StatusReason == nil || ups[0].StatusReason.ReasonCode != "not_allowed" {
		t.Fatalf("updates %+v", ups)
	}
	if a := hs.store.record(testConsentID).Authorization; a == nil || a.Status != consent.StatusFailed || a.Reason != journey.ReasonLocked {
		t.Fatalf("authorization %+v", a)
	}
}

// TestLoginLockoutExpires: failures older than Lockout.Window no longer count, and a login clears
// the username's counters.
func TestLoginLockoutExpires(t *testing.T) {
	hs := newHarness(t, func(o *Options) {
		o.Lockout = lockout.Policy{MaxFailures: 3, HardLockFailures: 3, Window: 10 * time.Minute}
	})
	hs.failLogins("aisyah", 3, hs.clock.now().Add(-11*time.Minute))
	hs.start()
	mustRedirect(t, hs.post(pathLogin, url.Values{"username": {"aisyah"}, "password": {"Demo@1234"}}), pathAccounts)
	if n := hs.store.attempts("u:"); n != 0 {
		t.Fatalf("username counters not cleared after a login: %d", n)
	}
}

// TestLoginJourneyLockout (U12): one journey cannot try more than Lockout.MaxFailures logins, even
// spread over several usernames; the attempt that reaches the limit shows the locked message.
func TestLoginJourneyLockout(t *testing.T) {
	hs := newHarness(t, func(o *Options) { o.Lockout.MaxFailures = 3 })
	hs.start()
	for i, u := range []string{"a1", "a2", "a3"} {
		w := hs.post(pathLogin, url.Values{"username": {u}, "password": {"x"}})
		want := http.StatusOK
		if i == 2 {
			want = http.StatusTooManyRequests
		}
		mustStatus(t, w, want)
	}
	calls := hs.bank.calls()
	mustStatus(t, hs.post(pathLogin, url.Values{"username": {"aisyah"}, "password": {"Demo@1234"}}), http.StatusTooManyRequests)
	if hs.bank.calls() != calls {
		t.Fatal("the bank was asked after the journey locked")
	}
	w := hs.do(http.MethodGet, pathLogin, nil)
	mustStatus(t, w, http.StatusOK)
	if !strings.Contains(w.Body.String(), "Too many unsuccessful attempts") {
		t.Fatal("a reload of the locked page lost the message")
	}
}

// TestLoginBankDown: the core bank being unavailable is not a failed login.
func TestLoginBankDown(t *testing.T) {
	hs := newHarness(t, nil)
	hs.start()
	hs.bank.down = true
	w := hs.post(pathLogin, url.Values{"username": {"aisyah"}, "password": {"Demo@1234"}})
	mustStatus(t, w, http.StatusServiceUnavailable)
	if n := hs.store.attempts(""); n != 0 {
		t.Fatalf("an outage counted as a failed login: %d attempts kept", n)
	}
}

// TestLoginRotatesSession: a login moves the journey to a new session id and a new CSRF token;
// the old id can only log in again (a double-clicked login), never decide or cancel.
func TestLoginRotatesSession(t *testing.T) {
	hs := newHarness(t, nil)
	hs.start()
	oldCookie, oldCSRF := hs.cookie, hs.csrf
	w := hs.post(pathLogin, url.Values{"username": {"aisyah"}, "password": {"Demo@1234"}})
	mustRedirect(t, w, pathAccounts)
	if hs.cookie == oldCookie || hs.cookie == "" {
		t.Fatal("session id not rotated")
	}
	newCookie := hs.cookie
	mustStatus(t, hs.do(http.MethodGet, pathAccounts, nil), http.StatusOK)
	if hs.csrf == oldCSRF {
		t.Fatal("CSRF token not rotated")
	}
	j := hs.journey()
	if j.CustomerRef != "CUST-1" || j.IDType != "nric" || j.HashedIDNumber != consent.HashIDNumber("900101145678") ||
		j.MaskedIDNumber != "********5678" || j.MaskedMobileNumber != "********6789" || j.HashedMobileNumber != consent.HashIDNumber("+60123456789") {
		t.Fatalf("journey identity %+v", j)
	}
	if !j.AuthTime.Equal(hs.clock.now()) {
		t.Fatalf("auth time %v", j.AuthTime)
	}
	if raw := hs.store.sessions[hashID(hs.cookie)].Data; strings.Contains(string(raw), "900101") || strings.Contains(string(raw), "1234567890") {
		t.Fatal("raw ID number or account number kept in the session")
	}

	// The pre-login cookie: cancel is refused, nothing is sent.
	hs.cookie, hs.csrf = oldCookie, oldCSRF
	w = hs.post(pathCancel, nil)
	mustStatus(t, w, http.StatusBadRequest)
	if len(hs.upd.all()) != 0 {
		t.Fatal("the superseded session cancelled the consent")
	}
	// A double-clicked login (old cookie, right credentials) logs in again.
	mustRedirect(t, hs.post(pathLogin, url.Values{"username": {"aisyah"}, "password": {"Demo@1234"}}), pathAccounts)
	if hs.cookie == oldCookie || hs.cookie == newCookie {
		t.Fatal("second login did not get its own session")
	}
}

// TestIdentityMismatch (U6): a customer other than the one the consent names logs in → PATCH
// failed, error redirect with access_denied, nothing shared.
func TestIdentityMismatch(t *testing.T) {
	cases := []struct {
		name string
		mod  func(*consent.Consent)
		user string
	}{
		{"other customer", nil, "john"},
		{"same number, other id_type", func(c *consent.Consent) { c.IDType = consent.IDTypePassport }, "aisyah"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			hs := newHarness(t, nil)
			if c.mod != nil {
				cs := testConsent(hs.clock.now())
				c.mod(&cs)
				hs.store.put(cs)
			}
			hs.start()
			w := hs.post(pathLogin, url.Values{"username": {c.user}, "password": {"Demo@1234"}})
			hs.ending(w, errIdentity)
			ups := hs.upd.all()
			if len(ups) != 1 || ups[0].Status != paynet.StatusFailed || ups[0].IDToken != "" || ups[0].UserIdentity != nil || len(ups[0].Accounts) != 0 {
				t.Fatalf("updates %+v", ups)
			}
			if a := hs.store.record(testConsentID).Authorization; a == nil || a.Status != consent.StatusFailed || a.Reason != journey.ReasonIdentity {
				t.Fatalf("authorization %+v", a)
			}
			// The journey is over: any page now sends the browser back with the same error.
			mustErrorRedirect(t, hs.leave(hs.do(http.MethodGet, pathAccounts, nil)), testRedirect, testConsentID, journey.ReasonIdentity)
		})
	}
}

// TestNoIdentityOnConsent: with identity binding off (development deployments only), a consent
// without hashed_id_number can be authorized by any customer.
func TestNoIdentityOnConsent(t *testing.T) {
	hs := newHarness(t, func(o *Options) { o.RequireIdentityBinding = false })
	cs := testConsent(hs.clock.now())
	cs.IDType, cs.HashedIDNumber = "", ""
	hs.store.put(cs)
	hs.start()
	mustRedirect(t, hs.post(pathLogin, url.Values{"username": {"john"}, "password": {"Demo@1234"}}), pathAccounts)
}
