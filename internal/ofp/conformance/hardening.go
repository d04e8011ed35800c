package conformance

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/ofpdp/ofpdp/internal/ofp/sim"
	"github.com/ofpdp/ofpdp/internal/ofp/wire"
)

// Limits the hardening rows hold a DP to. negative-tests U12 asks for a lockout within 10
// attempts (as U12-lockout does); parallel requests must not get around it.
const (
	parallelLogins   = 30
	maxTakenAttempts = 10
	parallelSessions = 12
)

// hardening runs the attacks a bank's penetration test tries on a DP that passes the catalogue:
// parallel wrong logins against the lockout (H1), a consent that names no customer (H3, consent
// phishing; design.md §3.11) and a PayNet event that widens a consent after the customer approved
// it (H4).
func (r *runner) hardening(ctx context.Context) {
	r.parallelLockout(ctx)
	r.check("H3-unbound", "A consent that names no customer (no id_type, no hashed_id_number); its link is opened",
		"never the login page; PATCH failed (or none); the browser leaves with an error", func() (string, bool) {
			resp, err := r.sim.CreateConsent(ctx, sim.CreateConsentRequest{DCID: r.t.DCID, Purpose: wire.PurposePFM, Permissions: allPermissions})
			if err != nil {
				return "creating the consent: " + err.Error(), false
			}
			j, err := r.startJourney(ctx, resp.ConsentID)
			if err != nil {
				return err.Error(), false
			}
			defer j.close()
			got := j.last.describe()
			if j.onPage(r.pages.isLoginForm) {
				return got + "; the login page was shown: whoever opens the link could approve", false
			}
			if j.last.Exit == "" {
				if err := j.back(ctx); err != nil {
					return got + "; " + err.Error(), false
				}
			}
			q, err := r.exitParams(j.last)
			if err != nil {
				return got + "; " + err.Error(), false
			}
			v, err := r.sim.Consent(ctx, resp.ConsentID)
			if err != nil {
				return got + "; " + err.Error(), false
			}
			for _, u := range v.UpdatesReceived {
				if u.Status != string(wire.StatusFailed) {
					return got + "; " + describeUpdates(v.UpdatesReceived), false
				}
			}
			return fmt.Sprintf("%s; %d update(s) %s; error=%q", got, len(v.UpdatesReceived), describeUpdates(v.UpdatesReceived), q.Get("error")),
				q.Get("error") != ""
		})
	r.widening(ctx)
}

// parallelLockout sends many wrong logins at once (H1): in one journey, and in several journeys
// of one consent. A DP that reads the failure count, asks the bank, then writes the failure lets
// them all through. A login "taken" is one answered other than 429 and with the login form again
// (a wrong password). The usernames are made up, so no real customer's counters move.
func (r *runner) parallelLockout(ctx context.Context) {
	expected := fmt.Sprintf("at most %d taken (the rest 429 or locked)", maxTakenAttempts)
	r.check("H1-one-journey", fmt.Sprintf("%d wrong logins sent at once in one journey", parallelLogins), expected,
		func() (string, bool) {
			resp, err := r.createConsent(ctx, allPermissions)
			if err != nil {
				return err.Error(), false
			}
			j, err := r.startJourney(ctx, resp.ConsentID)
			if err != nil {
				return err.Error(), false
			}
			defer j.close()
			journeys := make([]*journey, parallelLogins)
			for i := range journeys {
				journeys[i] = j
			}
			n := r.wrongLoginsAtOnce(ctx, journeys)
			return fmt.Sprintf("%d of %d taken", n, parallelLogins), n <= maxTakenAttempts
		})
	r.check("H1-many-journeys", fmt.Sprintf("%d journeys of one consent send a wrong login for one username at once", parallelSessions),
		expected, func() (string, bool) {
			resp, err := r.createConsent(ctx, allPermissions)
			if err != nil {
				return err.Error(), false
			}
			var journeys []*journey
			defer func() {
				for _, j := range journeys {
					j.close()
				}
			}()
			for range parallelSessions {
				j, err := r.startJourney(ctx, resp.ConsentID)
				if err != nil {
					return err.Error(), false
				}
				journeys = append(journeys, j)
			}
			n := r.wrongLoginsAtOnce(ctx, journeys)
			return fmt.Sprintf("%d of %d taken", n, len(journeys)), n <= maxTakenAttempts
		})
}

// wrongLoginsAtOnce submits, at the same moment, one wrong login for one made-up username in each
// of journeys (the same journey may be listed several times) and counts the attempts the DP took.
func (r *runner) wrongLoginsAtOnce(ctx context.Context, journeys []*journey) (taken int) {
	user := "parallel-" + newID()[:8]
	navs := make([]*nav, len(journeys))
	var wg sync.WaitGroup
	for i, j := range journeys {
		f, err := j.formWhere("login form", r.pages.isLoginForm)
		if err != nil {
			continue // a DP may refuse to open this many journeys of one consent: nothing taken
		}
		wg.Go(func() {
			navs[i], _ = j.b.submit(ctx, f, r.pages.loginValues(f, user, "Wrong-"+newID()[:8]), firstButton(f), requestOpts{})
		})
	}
	wg.Wait()
	for _, n := range navs {
		if n == nil {
			continue
		}
		if n.first().Status == http.StatusTooManyRequests || n.Page == nil {
			continue
		}
		if slices.ContainsFunc(n.Page.Forms, func(f form) bool { return r.pages.isLoginForm(&f) }) {
			taken++
		}
	}
	return taken
}

// widening checks that PayNet cannot give a data consumer more than the customer approved (H4):
// after authorization, a consent_updated event with a later expiration_datetime or another
// permission is refused with 403 Consent.Invalid and changes nothing; a narrower one is accepted.
func (r *runner) widening(ctx context.Context) {
	const what = "PayNet's consent_updated event after the customer approved"
	a, err := r.approveConsent(ctx, []wire.Permission{wire.PermReadBalances})
	if err != nil {
		for _, id := range []string{"H4-expiry", "H4-permission", "H4-narrow"} {
			r.prerequisite(id, what, "see the row", err)
		}
		return
	}
	send := func(mutate func(c *sim.Consent)) (*apiResp, error) {
		v, err := r.sim.Consent(ctx, a.ConsentID)
		if err != nil {
			return nil, err
		}
		c := v.Consent
		mutate(&c)
		c.UpdatedAt = r.now().UTC().Format("2006-01-02T15:04:05.000Z07:00")
		b, err := statusEvent(wire.EventUpdated, c)
		if err != nil {
			return nil, err
		}
		return r.pn.event(ctx, b)
	}
	balances := func() (*apiResp, error) {
		return r.dataDo(ctx, r.pn.dataCall(dataPath(a.ConsentID, a.Accounts[0], "/balances", nil)))
	}
	transactions := func() (*apiResp, error) {
		return r.dataDo(ctx, r.pn.dataCall(dataPath(a.ConsentID, a.Accounts[0], "/transactions", nil)))
	}
	later := func(c *sim.Consent) {
		if t, err := time.Parse(time.RFC3339, c.ExpirationDatetime); err == nil {
			c.ExpirationDatetime = t.AddDate(1, 0, 0).Format(time.RFC3339)
		}
	}
	r.check("H4-expiry", what+" moves expiration_datetime one year later", "403 Consent.Invalid; data still served as approved",
		func() (string, bool) {
			ev, err := send(later)
			if err != nil {
				return oneLine(err), false
			}
			after, err := balances()
			if err != nil {
				return oneLine(err), false
			}
			return "event " + ev.describe() + "; balances " + after.describe(),
				expectRefusal(ev, http.StatusForbidden, "Consent.Invalid") && after.Status == http.StatusOK
		})
	r.check("H4-permission", what+" adds read_transactions (approved: read_balances only)",
		"403 Consent.Invalid; transactions still refused", func() (string, bool) {
			ev, err := send(func(c *sim.Consent) {
				if !slices.Contains(c.Permissions, wire.PermReadTransactions) {
					c.Permissions = append(c.Permissions, wire.PermReadTransactions)
				}
			})
			if err != nil {
				return oneLine(err), false
			}
			tx, err := transactions()
			if err != nil {
				return oneLine(err), false
			}
			return "event " + ev.describe() + "; transactions " + tx.describe(),
				expectRefusal(ev, http.StatusForbidden, "Consent.Invalid") && expectRefusal(tx, http.StatusForbidden, "AccessToken.InvalidScope")
		})
	r.check("H4-narrow", what+" moves expiration_datetime one day earlier (narrower)", "event 200; data still served",
		func() (string, bool) {
			ev, err := send(func(c *sim.Consent) {
				if t, err := time.Parse(time.RFC3339, c.ExpirationDatetime); err == nil {
					c.ExpirationDatetime = t.AddDate(0, 0, -1).Format(time.RFC3339)
				}
			})
			if err != nil {
				return oneLine(err), false
			}
			after, err := balances()
			if err != nil {
				return oneLine(err), false
			}
			return "event " + ev.describe() + "; balances " + after.describe(), ev.Status == http.StatusOK && after.Status == http.StatusOK
		})
}
