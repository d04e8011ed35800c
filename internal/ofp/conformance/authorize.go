package conformance

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/ofpdp/ofpdp/internal/ofp/sim"
	"github.com/ofpdp/ofpdp/internal/ofp/wire"
)

// authorizeChecks runs negative-tests §5.4 U1, U2, U7, U8 and U12 (lockout) against
// GET /v1/oauth/authorize (spec §3.1.2; design.md §3.3, §3.10).
func (r *runner) authorizeChecks(ctx context.Context) {
	w, err := r.createConsent(ctx, allPermissions)
	if err != nil {
		for _, id := range []string{"U1-missing", "U1-invalid", "U1-swapped", "U2-host", "U2-suffix"} {
			r.prerequisite(id, "Authorize with a consent awaiting authorization", "error page", err)
		}
	} else {
		r.badAuthorize(ctx, w.ConsentID)
	}

	r.check("U1-unknown", "Authorize for an unknown consent_id (PayNet's valid signature over it)",
		"refused: error page or 303 to redirect_uri?error=…; never the login page", func() (string, bool) {
			id := newID()
			sig, err := r.authorizeSignature(id)
			if err != nil {
				return err.Error(), false
			}
			return r.refusedAuthorize(ctx, r.authorizeURL(id, r.t.RedirectURI, sig), true)
		})

	const second = "refused: 303 to redirect_uri?error=… or an error page; never the login page; no new PATCH"
	again := func(consentID string) (string, bool) {
		before, err := r.sim.Consent(ctx, consentID)
		if err != nil {
			return err.Error(), false
		}
		sig, err := r.authorizeSignature(consentID)
		if err != nil {
			return err.Error(), false
		}
		got, ok := r.refusedAuthorize(ctx, r.authorizeURL(consentID, r.t.RedirectURI, sig), true)
		after, err := r.sim.Consent(ctx, consentID)
		if err != nil {
			return got + "; " + err.Error(), false
		}
		if len(after.UpdatesReceived) != len(before.UpdatesReceived) {
			return got + "; a new PATCH was sent", false
		}
		return got, ok
	}
	if m, err := r.mainConsent(); err != nil {
		r.prerequisite("U7-authorized", "Authorize again for an authorized consent", second, err)
	} else {
		r.check("U7-authorized", "Authorize again for an authorized consent", second, func() (string, bool) { return again(m.ConsentID) })
	}
	if r.rejected == "" {
		r.prerequisite("U7-rejected", "Authorize again for a rejected consent", second, fmt.Errorf("no rejected consent (%v)", r.rejectedErr))
	} else {
		r.check("U7-rejected", "Authorize again for a rejected consent", second, func() (string, bool) { return again(r.rejected) })
	}

	r.check("U8", "Authorize after the 5-minute authorization window (consent created 6 minutes ago)",
		"refused: 303 to redirect_uri?error=… or an error page; never the login page", func() (string, bool) {
			id := newID()
			body, err := r.createdEvent(id, r.now().Add(-6*time.Minute))
			if err != nil {
				return err.Error(), false
			}
			a, err := r.pn.event(ctx, body)
			if err != nil {
				return "consent_created: " + oneLine(err), false
			}
			if a.Status != http.StatusOK {
				return "consent_created answered " + a.describe(), false
			}
			sig, err := r.authorizeSignature(id)
			if err != nil {
				return err.Error(), false
			}
			return r.refusedAuthorize(ctx, r.authorizeURL(id, r.t.RedirectURI, sig), true)
		})

	r.cancelAndMismatch(ctx)
	r.lockout(ctx)
}

// cancelAndMismatch runs U4 (the customer cancels) and U6 (the customer who logs in is not the
// one the consent names): both end at PayNet's redirect_uri with access_denied and a negative
// PATCH, and no account is shared.
func (r *runner) cancelAndMismatch(ctx context.Context) {
	u := r.t.Users[0]
	negative := func(j *journey, want wire.Status) (string, bool) {
		if j.last != nil && j.last.Exit == "" {
			// The DP ended the journey on its own page: leave through its "Back to" link.
			if err := j.back(ctx); err != nil {
				return err.Error(), false
			}
		}
		nav := j.last.describe()
		q, err := r.exitParams(j.last)
		if err != nil {
			return nav + "; " + err.Error(), false
		}
		up, err := r.waitUpdate(ctx, j.consentID, func(sim.UpdateRecord) bool { return true })
		if err != nil {
			return err.Error() + "; " + nav, false
		}
		got := describeUpdates([]sim.UpdateRecord{*up}) + fmt.Sprintf(", %d account(s); error=%q; ", len(up.Accounts), q.Get("error")) + nav
		return got, q.Get("error") == "access_denied" && q.Get("consent_id") == j.consentID && up.Accepted &&
			up.Status == string(want) && len(up.Accounts) == 0
	}
	r.check("U4", "The customer cancels on the account page", "303 to redirect_uri?error=access_denied; PATCH rejected",
		func() (string, bool) {
			resp, err := r.createConsent(ctx, allPermissions)
			if err != nil {
				return err.Error(), false
			}
			j, err := r.loggedIn(ctx, resp.ConsentID, u)
			if err != nil {
				return err.Error(), false
			}
			defer j.close()
			if err := j.cancel(ctx); err != nil {
				return err.Error(), false
			}
			return negative(j, wire.StatusRejected)
		})
	r.check("U6", "The consent names another customer (id_type nric, a different ID number); the first user logs in",
		"303 to redirect_uri?error=access_denied; PATCH failed; no account offered", func() (string, bool) {
			resp, err := r.sim.CreateConsent(ctx, sim.CreateConsentRequest{DCID: r.t.DCID, Purpose: wire.PurposePFM,
				Permissions: allPermissions, IDType: wire.IDTypeNRIC, IDNumber: "99" + strconv.FormatInt(r.now().UnixNano()%1e10, 10)})
			if err != nil {
				return err.Error(), false
			}
			j, err := r.loggedIn(ctx, resp.ConsentID, u)
			if err != nil {
				return err.Error(), false
			}
			defer j.close()
			if j.onPage(r.pages.isAccountsForm) {
				return j.last.describe() + "; accounts offered to the wrong customer", false
			}
			return negative(j, wire.StatusFailed)
		})
}

// badAuthorize sends authorize requests that are not PayNet's (U1) or name a redirect_uri off the
// allow-list (U2): the DP must show an error page and never redirect (design.md §3.10).
func (r *runner) badAuthorize(ctx context.Context, consentID string) {
	good, err := r.authorizeSignature(consentID)
	const page = "DP error page (4xx); no redirect at all; no login page"
	if err != nil {
		r.prerequisite("U1-missing", "Authorize", page, err)
		return
	}
	r.check("U1-missing", "Authorize without signature", page, func() (string, bool) {
		return r.refusedAuthorize(ctx, r.authorizeURL(consentID, r.t.RedirectURI, ""), false)
	})
	r.check("U1-invalid", "Authorize with PayNet's signature altered (last character changed)", page, func() (string, bool) {
		return r.refusedAuthorize(ctx, r.authorizeURL(consentID, r.t.RedirectURI, flipLast(good)), false)
	})
	r.check("U1-swapped", "Authorize with the signature of another consent_id", page, func() (string, bool) {
		other, err := r.authorizeSignature(newID())
		if err != nil {
			return err.Error(), false
		}
		return r.refusedAuthorize(ctx, r.authorizeURL(consentID, r.t.RedirectURI, other), false)
	})
	r.check("U2-host", "Authorize with redirect_uri https://evil.example/callback (not allow-listed)", page, func() (string, bool) {
		return r.refusedAuthorize(ctx, r.authorizeURL(consentID, "https://evil.example/callback", good), false)
	})
	r.check("U2-suffix", "Authorize with the allow-listed redirect_uri plus a suffix (prefix match)", page, func() (string, bool) {
		return r.refusedAuthorize(ctx, r.authorizeURL(consentID, r.t.RedirectURI+".evil.example/x", good), false)
	})
}

// refusedAuthorize opens an authorize URL in a new browser and checks it was refused: no login
// page, and either an error page (4xx) or — only when mayRedirect — a 303 to the registered
// redirect_uri carrying error=….
func (r *runner) refusedAuthorize(ctx context.Context, authorizeURL string, mayRedirect bool) (string, bool) {
	b, err := r.newBrowser()
	if err != nil {
		return err.Error(), false
	}
	defer b.close()
	n, err := b.get(ctx, authorizeURL)
	if err != nil {
		return oneLine(err), false
	}
	got := n.describe()
	if n.Exit != "" {
		if !mayRedirect {
			return got + "; redirected away", false
		}
		q, err := r.exitParams(n)
		if err != nil {
			return got + "; " + err.Error(), false
		}
		return got + fmt.Sprintf("; error=%q", q.Get("error")), q.Get("error") != ""
	}
	login := false
	if n.Page != nil {
		for i := range n.Page.Forms {
			login = login || r.pages.isLoginForm(&n.Page.Forms[i])
		}
	}
	return got, !login && n.Status >= 400 && n.Status < 500
}

// flipLast changes the last character of a compact JWS to another base64url character.
func flipLast(s string) string {
	if s == "" {
		return "x"
	}
	last := s[len(s)-1]
	repl := byte('A')
	if last == 'A' {
		repl = 'B'
	}
	return s[:len(s)-1] + string(repl)
}

// lockout repeats wrong logins in one journey (negative-tests U12): the DP must stop taking
// attempts, and then not even take the right password in that journey.
func (r *runner) lockout(ctx context.Context) {
	r.check("U12-lockout", "Brute force: up to 10 wrong logins in one journey, then the right password",
		"lockout (429 or no login form) within 10 attempts; the right password is then refused too", func() (string, bool) {
			resp, err := r.createConsent(ctx, allPermissions)
			if err != nil {
				return err.Error(), false
			}
			j, err := r.startJourney(ctx, resp.ConsentID)
			if err != nil {
				return err.Error(), false
			}
			defer j.close()
			user := "brute-" + newID()[:8]
			locked := 0
			for i := 1; i <= 10 && locked == 0; i++ {
				if !j.onPage(r.pages.isLoginForm) {
					locked = i
					break
				}
				if err := j.login(ctx, user, "Wrong-"+newID()[:8]); err != nil {
					return err.Error(), false
				}
				if j.last.first().Status == http.StatusTooManyRequests || !j.onPage(r.pages.isLoginForm) {
					locked = i
				}
			}
			if locked == 0 {
				return "still taking attempts after 10 wrong passwords", false
			}
			got := fmt.Sprintf("locked at attempt %d (%s)", locked, j.last.describe())
			more, ok := r.rightPasswordRefused(ctx, j)
			return got + "; " + more, ok
		})
}

// rightPasswordRefused checks that a locked journey no longer takes even the first demo user's
// right password, then cancels it when it can.
func (r *runner) rightPasswordRefused(ctx context.Context, j *journey) (string, bool) {
	u := r.t.Users[0]
	if j.onPage(r.pages.isLoginForm) {
		if err := j.login(ctx, u.Username, u.Password); err != nil {
			return err.Error(), false
		}
	}
	if j.onPage(r.pages.isAccountsForm) {
		return "then signed in with the right password", false
	}
	got := "right password refused"
	if j.onPage(r.pages.isCancelForm) {
		if err := j.cancel(ctx); err == nil && j.last.Exit != "" {
			got += "; cancelled"
		}
	}
	return got, true
}

// loggedIn opens the authorize link of consentID in a new browser and logs in as u. The caller
// closes the journey.
func (r *runner) loggedIn(ctx context.Context, consentID string, u User) (*journey, error) {
	j, err := r.startJourney(ctx, consentID)
	if err != nil {
		return nil, err
	}
	if err := j.login(ctx, u.Username, u.Password); err != nil {
		j.close()
		return nil, err
	}
	return j, nil
}
