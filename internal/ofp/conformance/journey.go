package conformance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/ofpdp/ofpdp/internal/ofp/stdjose"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/ofpdp/ofpdp/internal/ofp/sim"
	"github.com/ofpdp/ofpdp/internal/ofp/wire"
)

// This file drives the customer journey of spec paynet-dp.md §7.6 (steps 5–11b) over HTTP, the
// way a browser does: it follows the DP's redirects and submits the DP's own forms. It knows the
// DP's pages through a PageMap (pagemap.go; ofpdp's by default): a login form with a password
// field, an account form of checkboxes, a review form with approve and reject buttons, a cancel
// button, and where the journey ends a "Back to" link or button; every POST carries the form's
// hidden fields (the CSRF token).

// allPermissions are the permissions the journeys ask for (spec §5.1).
var allPermissions = []wire.Permission{wire.PermReadAccounts, wire.PermReadBalances, wire.PermReadTransactions}

// journey is one customer journey in its own browser.
type journey struct {
	r         *runner
	b         *browser
	consentID string
	last      *nav
}

// createConsent asks the simulator to create a consent (as PayNet does after a DC's PAR) and to
// send consent_created to the DP. The consent names the first user, who drives the journeys.
func (r *runner) createConsent(ctx context.Context, perms []wire.Permission) (*sim.CreateConsentResponse, error) {
	return r.createConsentFor(ctx, perms, r.t.Users[0])
}

// createConsentFor creates a consent naming u (their id_type and ID number, when known).
func (r *runner) createConsentFor(ctx context.Context, perms []wire.Permission, u User) (*sim.CreateConsentResponse, error) {
	resp, err := r.sim.CreateConsent(ctx, sim.CreateConsentRequest{DCID: r.t.DCID, Purpose: wire.PurposePFM, Permissions: perms,
		IDType: u.IDType, IDNumber: u.IDNumber})
	if err != nil {
		if resp != nil && !resp.Event.Accepted() {
			return resp, fmt.Errorf("the DP did not accept consent_created: HTTP %d %s", resp.Event.HTTPStatus, resp.Event.Error)
		}
		return resp, fmt.Errorf("creating a consent at the simulator: %w", err)
	}
	return resp, nil
}

// authorizeSignature is PayNet's authorize `signature`: an attached JWS with header {alg, kid}
// over the raw consent_id bytes (spec §2.4, §4.4; design.md §3.3).
func (r *runner) authorizeSignature(consentID string) (string, error) {
	return stdjose.Spec{Header: stdjose.H("alg", r.k.paynetSig.Alg, "kid", r.k.paynetSig.Kid), Payload: []byte(consentID),
		Alg: r.k.paynetSig.Alg, Key: r.k.paynetSig.Key}.Build()
}

// authorizeURL is the DP authorize URL PayNet sends the browser to (spec §3.1.2).
func (r *runner) authorizeURL(consentID, redirectURI, signature string) string {
	q := url.Values{}
	if consentID != "" {
		q.Set("consent_id", consentID)
	}
	if redirectURI != "" {
		q.Set("redirect_uri", redirectURI)
	}
	if signature != "" {
		q.Set("signature", signature)
	}
	return r.t.WebURL + "/v1/oauth/authorize?" + q.Encode()
}

func (r *runner) newBrowser() (*browser, error) {
	return newBrowser(r.t.WebURL, r.k.roots, r.o.HTTPTimeout)
}

// startJourney opens the authorize URL of consentID in a new browser.
func (r *runner) startJourney(ctx context.Context, consentID string) (*journey, error) {
	sig, err := r.authorizeSignature(consentID)
	if err != nil {
		return nil, err
	}
	b, err := r.newBrowser()
	if err != nil {
		return nil, err
	}
	j := &journey{r: r, b: b, consentID: consentID}
	j.last, err = b.get(ctx, r.authorizeURL(consentID, r.t.RedirectURI, sig))
	if err != nil {
		b.close()
		return nil, fmt.Errorf("authorize: %w", err)
	}
	return j, nil
}

func (j *journey) close() { j.b.close() }

// page is the current page, or an error saying where the journey is instead.
func (j *journey) page() (*parsedPage, error) {
	if j.last == nil {
		return nil, errors.New("no page loaded")
	}
	if j.last.Exit != "" {
		return nil, fmt.Errorf("the DP sent the browser away: %s", j.last.describe())
	}
	if j.last.Page == nil {
		return nil, fmt.Errorf("no HTML page: %s", j.last.describe())
	}
	return j.last.Page, nil
}

// formWhere returns the first form of the current page that pred accepts.
func (j *journey) formWhere(what string, pred func(*form) bool) (*form, error) {
	p, err := j.page()
	if err != nil {
		return nil, err
	}
	for i := range p.Forms {
		if pred(&p.Forms[i]) {
			return &p.Forms[i], nil
		}
	}
	return nil, fmt.Errorf("no %s on the page: %s", what, j.last.describe())
}

// onPage reports whether the current page shows a form pred accepts.
func (j *journey) onPage(pred func(*form) bool) bool {
	p, err := j.page()
	if err != nil {
		return false
	}
	for i := range p.Forms {
		if pred(&p.Forms[i]) {
			return true
		}
	}
	return false
}

// login submits the login form.
func (j *journey) login(ctx context.Context, username, password string) error {
	f, err := j.formWhere("login form", j.r.pages.isLoginForm)
	if err != nil {
		return err
	}
	j.last, err = j.b.submit(ctx, f, j.r.pages.loginValues(f, username, password), firstButton(f), requestOpts{})
	return err
}

func firstButton(f *form) *button {
	if len(f.Buttons) == 0 {
		return nil
	}
	return &f.Buttons[0]
}

// offered returns the account values of the account form.
func (j *journey) offered() ([]string, string, error) {
	f, err := j.formWhere("account selection form", j.r.pages.isAccountsForm)
	if err != nil {
		return nil, "", err
	}
	var ids []string
	name := ""
	for _, c := range f.Fields {
		if j.r.pages.isAccount(c) {
			ids = append(ids, c.Value)
			name = c.Name
		}
	}
	return ids, name, nil
}

// selectAccounts submits the account form with exactly these values (possibly tampered).
func (j *journey) selectAccounts(ctx context.Context, ids []string) error {
	f, err := j.formWhere("account selection form", j.r.pages.isAccountsForm)
	if err != nil {
		return err
	}
	_, name, err := j.offered()
	if err != nil {
		return err
	}
	v := url.Values{}
	v[name] = ids
	if len(ids) == 0 {
		v[name] = nil
	}
	form := *f
	form.Fields = slices.DeleteFunc(slices.Clone(f.Fields), j.r.pages.isAccount)
	j.last, err = j.b.submit(ctx, &form, v, firstButton(f), requestOpts{})
	return err
}

// decide clicks approve or reject on the review page (the page map's controls).
func (j *journey) decide(ctx context.Context, decision string, o requestOpts, dropHidden ...string) error {
	f, err := j.formWhere("approve/reject form", j.r.pages.isDecisionForm)
	if err != nil {
		return err
	}
	ctrl := j.r.pages.Approve
	if decision == "reject" {
		ctrl = j.r.pages.Reject
	}
	btn, _ := j.r.pages.button(f, ctrl)
	form := *f
	if len(dropHidden) > 0 {
		form.Fields = slices.DeleteFunc(slices.Clone(f.Fields), func(fl field) bool { return slices.Contains(dropHidden, fl.Name) })
	}
	n, err := j.b.submit(ctx, &form, nil, &btn, o)
	if err != nil {
		return err
	}
	j.last = n
	return nil
}

// hasBack reports whether the current page offers "Back to {DC}" (a #back-to-dc link or button).
func (j *journey) hasBack() bool {
	if p, err := j.page(); err == nil && j.r.pages.Back.ID != "" && p.Links[j.r.pages.Back.ID] != "" {
		return true
	}
	return j.onPage(j.r.pages.isBackForm)
}

// back clicks "Back to {DC}" on the page where the journey ended until the browser leaves the
// DP. ofpdp's is a link (a form's redirect chain out of the DP would be checked against CSP
// form-action); a DP whose "Back to" is a form button is driven through the form.
func (j *journey) back(ctx context.Context) error {
	for range 3 {
		if j.last != nil && j.last.Exit != "" {
			return nil
		}
		if p, err := j.page(); err == nil && j.r.pages.Back.ID != "" && p.Links[j.r.pages.Back.ID] != "" {
			if j.last, err = j.b.get(ctx, p.Links[j.r.pages.Back.ID]); err != nil {
				return err
			}
			continue
		}
		f, err := j.formWhere("\"Back to\" link or button", j.r.pages.isBackForm)
		if err != nil {
			return err
		}
		btn, _ := j.r.pages.button(f, j.r.pages.Back)
		if j.last, err = j.b.submit(ctx, f, nil, &btn, requestOpts{}); err != nil {
			return err
		}
	}
	if j.last.Exit == "" {
		return fmt.Errorf("the browser never left the DP: %s", j.last.describe())
	}
	return nil
}

// cancel clicks the journey's cancel button.
func (j *journey) cancel(ctx context.Context) error {
	f, err := j.formWhere("cancel button", j.r.pages.isCancelForm)
	if err != nil {
		return err
	}
	btn, _ := j.r.pages.button(f, j.r.pages.Cancel)
	j.last, err = j.b.submit(ctx, f, nil, &btn, requestOpts{})
	return err
}

// exitParams parses the redirect that left the DP and checks it goes to the redirect_uri.
func (r *runner) exitParams(n *nav) (url.Values, error) {
	if n == nil || n.Exit == "" {
		return nil, errors.New("the DP did not redirect the browser back")
	}
	u, err := url.Parse(n.Exit)
	if err != nil {
		return nil, err
	}
	base := *u
	base.RawQuery = ""
	if base.String() != r.t.RedirectURI {
		return nil, fmt.Errorf("redirected to %s, not the redirect_uri", shortURL(n.Exit))
	}
	if n.ExitStatus != http.StatusSeeOther {
		return u.Query(), fmt.Errorf("redirect status %d, design.md §3.10 says 303", n.ExitStatus)
	}
	return u.Query(), nil
}

// visitCallback follows the redirect to PayNet's callback when it is the simulator's, so the
// simulator records the outcome as PayNet would; it reports whether it did.
func (r *runner) visitCallback(ctx context.Context, exit string) (bool, error) {
	if !strings.HasPrefix(exit, r.simInfo.RedirectURI+"?") {
		return false, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, exit, nil)
	if err != nil {
		return false, err
	}
	hc := &http.Client{Timeout: r.o.HTTPTimeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Do(req)
	if err != nil {
		return false, err
	}
	_ = resp.Body.Close()
	return true, nil
}

// pollConsent reads the simulator's view of the consent until found reports true or 10 s pass;
// it returns the last view read and whether found accepted it.
func (r *runner) pollConsent(ctx context.Context, consentID string, found func(*sim.ConsentView) bool) (*sim.ConsentView, bool, error) {
	return r.pollConsentFor(ctx, consentID, 10*time.Second, found)
}

// pollConsentFor is pollConsent with its own time limit.
func (r *runner) pollConsentFor(ctx context.Context, consentID string, limit time.Duration, found func(*sim.ConsentView) bool) (*sim.ConsentView, bool, error) {
	for deadline := time.Now().Add(limit); ; {
		v, err := r.sim.Consent(ctx, consentID)
		if err != nil {
			return nil, false, err
		}
		if found(v) {
			return v, true, nil
		}
		if time.Now().After(deadline) {
			return v, false, nil
		}
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			return nil, false, err
		}
	}
}

// lastMatch returns the newest element of xs that pred accepts.
func lastMatch[T any](xs []T, pred func(T) bool) (*T, bool) {
	for i := len(xs) - 1; i >= 0; i-- {
		if pred(xs[i]) {
			x := xs[i]
			return &x, true
		}
	}
	return nil, false
}

// waitUpdate polls the simulator until it received a PATCH for the consent that pred accepts.
func (r *runner) waitUpdate(ctx context.Context, consentID string, pred func(sim.UpdateRecord) bool) (*sim.UpdateRecord, error) {
	var u *sim.UpdateRecord
	v, ok, err := r.pollConsent(ctx, consentID, func(v *sim.ConsentView) (found bool) {
		u, found = lastMatch(v.UpdatesReceived, pred)
		return found
	})
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("the simulator received %s", describeUpdates(v.UpdatesReceived))
	}
	return u, nil
}

// waitEvent polls the simulator until it sent the DP an event about the consent that pred accepts.
func (r *runner) waitEvent(ctx context.Context, consentID string, pred func(sim.EventRecord) bool) (*sim.EventRecord, error) {
	var e *sim.EventRecord
	v, ok, err := r.pollConsent(ctx, consentID, func(v *sim.ConsentView) (found bool) {
		e, found = lastMatch(v.EventsSent, pred)
		return found
	})
	if err != nil {
		return nil, err
	}
	if !ok {
		var parts []string
		for _, e := range v.EventsSent {
			parts = append(parts, fmt.Sprintf("%s/%s→%d", e.EventType, e.Status, e.HTTPStatus))
		}
		return nil, fmt.Errorf("events sent: [%s]", strings.Join(parts, ", "))
	}
	return e, nil
}

func describeUpdates(us []sim.UpdateRecord) string {
	if len(us) == 0 {
		return "no PATCH"
	}
	var parts []string
	for _, u := range us {
		s := fmt.Sprintf("PATCH %s (HTTP %d", u.Status, u.HTTPStatus)
		if u.Error != "" {
			s += ": " + u.Error
		}
		parts = append(parts, s+")")
	}
	return strings.Join(parts, "; ")
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// accountIDs of an update.
func accountIDs(as []sim.Account) []string {
	out := make([]string, 0, len(as))
	for _, a := range as {
		out = append(out, a.AccountID)
	}
	slices.Sort(out)
	return out
}

// journeys runs the E2E journey table of spec §7.6 and the form cases of negative-tests §5.4
// that happen along it (U10, U11, U12).
func (r *runner) journeys(ctx context.Context) {
	r.otherCustomer(ctx)
	r.approveJourney(ctx)
	r.rejectJourney(ctx)
}

// otherCustomer logs in as the second user, if any, to learn the DP account ids of another
// customer (for U11 and D5), then cancels.
func (r *runner) otherCustomer(ctx context.Context) {
	if len(r.t.Users) < 2 {
		return
	}
	u := r.t.Users[1]
	resp, err := r.createConsentFor(ctx, allPermissions, u)
	if err != nil {
		r.othersErr = err
		return
	}
	j, err := r.startJourney(ctx, resp.ConsentID)
	if err != nil {
		r.othersErr = err
		return
	}
	defer j.close()
	if err := j.login(ctx, u.Username, u.Password); err != nil {
		r.othersErr = fmt.Errorf("second user's login: %w", err)
		return
	}
	ids, _, err := j.offered()
	if err != nil {
		r.othersErr = fmt.Errorf("second user's accounts: %w", err)
		return
	}
	r.others = ids
	if err := j.cancel(ctx); err != nil {
		r.log.Warn("conformance: cancelling the second customer's journey", "error", err)
	}
}

// approveJourney runs steps 5–11a with consent A and the checks along the way.
func (r *runner) approveJourney(ctx context.Context) {
	u := r.t.Users[0]
	fail := func(err error) { r.mainErr = err }

	var j *journey
	r.check("E2E-5", "DP login page: consent_created accepted (POST /v1/consents/events), then GET /v1/oauth/authorize with PayNet's signature",
		"event 200; 303 to the login page", func() (string, bool) {
			resp, err := r.createConsent(ctx, allPermissions)
			if err != nil {
				fail(err)
				return err.Error(), false
			}
			if j, err = r.startJourney(ctx, resp.ConsentID); err != nil {
				fail(err)
				return err.Error(), false
			}
			got := fmt.Sprintf("event %d; %s", resp.Event.HTTPStatus, j.last.describe())
			if !j.onPage(r.pages.isLoginForm) || j.last.first().Status != http.StatusSeeOther {
				fail(errors.New("no login page"))
				return got, false
			}
			return got, true
		})
	if j == nil {
		return
	}
	defer j.close()

	r.check("U10-frame", "Journey pages forbid framing", "X-Frame-Options DENY or CSP frame-ancestors 'none'", func() (string, bool) {
		return antiFraming(j.last.Header)
	})

	r.check("U10-csrf-login", "Login form POSTed without its CSRF token", "refused (4xx), not signed in", func() (string, bool) {
		f, err := j.formWhere("login form", r.pages.isLoginForm)
		if err != nil {
			return err.Error(), false
		}
		n, err := j.b.post(ctx, f.Action, r.pages.loginValues(f, u.Username, u.Password), requestOpts{})
		if err != nil {
			return err.Error(), false
		}
		signedIn := n.Page != nil && slices.ContainsFunc(n.Page.Forms, func(f form) bool { return r.pages.isAccountsForm(&f) })
		return n.describe(), n.first().Status >= 400 && n.first().Status < 500 && !signedIn
	})

	r.check("E2E-6b", "Wrong password", "error message on the login page, not signed in", func() (string, bool) {
		if err := j.login(ctx, u.Username, u.Password+"-wrong"); err != nil {
			return err.Error(), false
		}
		p, err := j.page()
		if err != nil {
			return err.Error(), false
		}
		r.alertWrongPassword = p.Alert
		got := fmt.Sprintf("%s, alert %q", j.last.describe(), p.Alert)
		return got, p.Alert != "" && j.onPage(r.pages.isLoginForm) && !j.onPage(r.pages.isAccountsForm)
	})

	r.check("U12-message", "Unknown username vs wrong password", "the same message (no hint which field was wrong)", func() (string, bool) {
		if r.alertWrongPassword == "" {
			return "no wrong-password message to compare with (E2E-6b)", false
		}
		if err := j.login(ctx, "nobody-"+newID()[:8], "Wrong-"+newID()[:8]); err != nil {
			return err.Error(), false
		}
		p, err := j.page()
		if err != nil {
			return err.Error(), false
		}
		return fmt.Sprintf("%q vs %q", p.Alert, r.alertWrongPassword), p.Alert == r.alertWrongPassword
	})

	var offered []string
	r.check("E2E-6a", "Valid login", "account selection with at least one eligible account", func() (string, bool) {
		if err := j.login(ctx, u.Username, u.Password); err != nil {
			fail(err)
			return err.Error(), false
		}
		ids, _, err := j.offered()
		if err != nil {
			fail(err)
			return err.Error(), false
		}
		offered = ids
		return fmt.Sprintf("%s, %d account(s) offered", j.last.describe(), len(ids)), len(ids) > 0
	})
	if len(offered) == 0 {
		return
	}
	if len(offered) > 1 {
		r.unselected = offered[1]
	}

	r.tamperedAccounts(ctx, j, offered)

	selected := offered[:1]
	r.check("E2E-7", "Select accounts", "consent review page", func() (string, bool) {
		if err := j.selectAccounts(ctx, selected); err != nil {
			fail(err)
			return err.Error(), false
		}
		return j.last.describe(), j.onPage(r.pages.isDecisionForm)
	})
	r.check("E2E-8", "Review consent", "names the data consumer; offers approve and reject", func() (string, bool) {
		p, err := j.page()
		if err != nil {
			fail(err)
			return err.Error(), false
		}
		named := strings.Contains(p.Text, r.t.DCName)
		return fmt.Sprintf("DC name %q shown: %v; approve/reject: %v", r.t.DCName, named, j.onPage(r.pages.isDecisionForm)), named && j.onPage(r.pages.isDecisionForm)
	})
	if !j.onPage(r.pages.isDecisionForm) {
		fail(errors.New("no review page"))
		return
	}

	noPatch := func() (string, bool) {
		v, err := r.sim.Consent(ctx, j.consentID)
		if err != nil {
			return err.Error(), false
		}
		if len(v.UpdatesReceived) > 0 {
			return describeUpdates(v.UpdatesReceived), false
		}
		return "no PATCH", true
	}
	review := j.last
	r.check("U10-csrf-decision", "Approve POSTed without the CSRF token", "refused (4xx); nothing sent to PayNet", func() (string, bool) {
		err := j.decide(ctx, "approve", requestOpts{}, r.pages.CSRFField)
		got := ""
		if err != nil {
			got = err.Error()
		} else {
			got = j.last.describe()
		}
		status := j.last.first().Status
		j.last = review
		np, ok := noPatch()
		return got + "; " + np, err == nil && status >= 400 && status < 500 && ok
	})
	r.check("U10-origin", "Approve POSTed from another origin (Origin: https://evil.example, Sec-Fetch-Site: cross-site)",
		"refused (4xx); nothing sent to PayNet", func() (string, bool) {
			h := http.Header{}
			h.Set("Origin", "https://evil.example")
			h.Set("Sec-Fetch-Site", "cross-site")
			err := j.decide(ctx, "approve", requestOpts{header: h})
			got := ""
			if err != nil {
				got = err.Error()
			} else {
				got = j.last.describe()
			}
			status := j.last.first().Status
			j.last = review
			np, ok := noPatch()
			return got + "; " + np, err == nil && status >= 400 && status < 500 && ok
		})

	var update *sim.UpdateRecord
	r.check("E2E-9a", "Approve", "success page; PATCH status authorized accepted by PayNet", func() (string, bool) {
		if err := j.decide(ctx, "approve", requestOpts{}); err != nil {
			fail(err)
			return err.Error(), false
		}
		got := j.last.describe()
		up, err := r.waitUpdate(ctx, j.consentID, func(u sim.UpdateRecord) bool { return u.Status == string(wire.StatusAuthorized) })
		if err != nil {
			fail(err)
			return got + "; " + err.Error(), false
		}
		update = up
		got += "; " + describeUpdates([]sim.UpdateRecord{*up})
		if !up.Accepted {
			fail(errors.New("PayNet refused the authorized PATCH: " + up.Error))
		}
		return got, j.hasBack() && up.Accepted
	})
	r.check("U11-patch", "Accounts in the PATCH", "exactly the selected, owned accounts", func() (string, bool) {
		if update == nil {
			return "no authorized PATCH", false
		}
		ids := accountIDs(update.Accounts)
		return fmt.Sprintf("%d account(s), selected %d, equal: %v", len(ids), len(selected), slices.Equal(ids, selected)), slices.Equal(ids, selected)
	})
	if update == nil || !update.Accepted {
		return
	}

	r.check("E2E-10", "Success → \"Back to DC\"", "303 to redirect_uri?consent_id=… without error; PayNet holds the consent authorized",
		func() (string, bool) {
			if err := j.back(ctx); err != nil {
				fail(err)
				return err.Error(), false
			}
			q, err := r.exitParams(j.last)
			got := j.last.describe()
			if err != nil {
				fail(err)
				return got + "; " + err.Error(), false
			}
			if q.Get("consent_id") != j.consentID || q.Get("error") != "" {
				fail(errors.New("bad redirect"))
				return got + fmt.Sprintf("; consent_id matches: %v, error=%q", q.Get("consent_id") == j.consentID, q.Get("error")), false
			}
			visited, err := r.visitCallback(ctx, j.last.Exit)
			if err != nil {
				return got + "; callback: " + err.Error(), false
			}
			ev, err := r.waitEvent(ctx, j.consentID, func(e sim.EventRecord) bool {
				return e.Status == wire.StatusAuthorized && e.Accepted()
			})
			if err != nil {
				fail(err)
				return got + "; consent_status_updated(authorized) not acknowledged: " + err.Error(), false
			}
			v, err := r.sim.Consent(ctx, j.consentID)
			if err != nil {
				return got + "; " + err.Error(), false
			}
			got += fmt.Sprintf("; PayNet status %s, event %d", v.Status, ev.HTTPStatus)
			if visited {
				if v.Callback == nil || v.Callback.Outcome != sim.OutcomeAuthorized {
					return got + "; callback outcome not authorized", false
				}
				got += "; callback authorized"
			}
			return got, v.Status == wire.StatusAuthorized
		})
	if r.mainErr != nil {
		return
	}
	r.main = &authorized{ConsentID: j.consentID, Accounts: accountIDs(update.Accounts)}

	r.check("E2E-11a", "DC shows the balance (through PayNet's RS)", "200, decrypted balance with current_balance", func() (string, bool) {
		d, err := r.sim.Balances(ctx, r.main.ConsentID, r.main.Accounts[0])
		if err != nil {
			return err.Error(), false
		}
		if d.HTTPStatus != http.StatusOK || len(d.Data) == 0 {
			return fmt.Sprintf("HTTP %d %s", d.HTTPStatus, string(d.Error)), false
		}
		var env struct {
			Data struct {
				AccountID      string          `json:"account_id"`
				CurrentBalance json.RawMessage `json:"current_balance"`
			} `json:"data"`
		}
		if err := json.Unmarshal(d.Data, &env); err != nil {
			return "plaintext: " + err.Error(), false
		}
		ok := env.Data.AccountID == r.main.Accounts[0] && len(env.Data.CurrentBalance) > 0
		return fmt.Sprintf("HTTP %d, account_id matches: %v, current_balance present: %v", d.HTTPStatus,
			env.Data.AccountID == r.main.Accounts[0], len(env.Data.CurrentBalance) > 0), ok
	})
}

// tamperedAccounts posts tampered account selections (negative-tests U11); none may move the
// journey to the review page.
func (r *runner) tamperedAccounts(ctx context.Context, j *journey, offered []string) {
	accounts := j.last
	try := func(ids []string) (string, bool) {
		defer func() { j.last = accounts }()
		if err := j.selectAccounts(ctx, ids); err != nil {
			return err.Error(), false
		}
		advanced := j.onPage(r.pages.isDecisionForm)
		st := j.last.first().Status
		return j.last.describe(), !advanced && (st >= 400 || j.onPage(r.pages.isAccountsForm))
	}
	const refused = "refused: the journey stays on account selection"
	r.check("U11-empty", "Account form with no account selected", refused, func() (string, bool) { return try(nil) })
	r.check("U11-forged", "Account form with a made-up account id", refused, func() (string, bool) {
		return try([]string{"acc-" + newID()})
	})
	r.check("U11-duplicate", "Account form with the same account twice", refused, func() (string, bool) {
		return try([]string{offered[0], offered[0]})
	})
	switch {
	case r.othersErr != nil:
		r.prerequisite("U11-other", "Account form with another customer's account", refused, r.othersErr)
		return
	case len(r.others) == 0:
		r.skip("U11-other", "Account form with another customer's account", refused,
			"needs a second user (--user2/--password2)")
		return
	}
	r.check("U11-other", "Account form with another customer's account (alone, and next to an own one)", refused, func() (string, bool) {
		g1, ok1 := try([]string{r.others[0]})
		g2, ok2 := try([]string{offered[0], r.others[0]})
		return g1 + "; " + g2, ok1 && ok2
	})
}

// rejectJourney runs steps 9b and 11b with consent B.
func (r *runner) rejectJourney(ctx context.Context) {
	u := r.t.Users[0]
	var j *journey
	var offered []string
	setup := func() error {
		resp, err := r.createConsent(ctx, allPermissions)
		if err != nil {
			return err
		}
		if j, err = r.startJourney(ctx, resp.ConsentID); err != nil {
			return err
		}
		if err := j.login(ctx, u.Username, u.Password); err != nil {
			return err
		}
		if offered, _, err = j.offered(); err != nil {
			return err
		}
		if err := j.selectAccounts(ctx, offered[:1]); err != nil {
			return err
		}
		if !j.onPage(r.pages.isDecisionForm) {
			return fmt.Errorf("no review page: %s", j.last.describe())
		}
		return nil
	}
	if err := setup(); err != nil {
		r.rejectedErr = err
		r.prerequisite("E2E-9b", "Reject", "303 to redirect_uri?error=access_denied; PATCH with a negative status", err)
		r.prerequisite("E2E-11b", "DC shows \"Account not linked\"", "PayNet outcome error; data refused", err)
		if j != nil {
			j.close()
		}
		return
	}
	defer j.close()
	r.check("E2E-9b", "Reject", "303 to redirect_uri?error=access_denied&consent_id=…; PATCH rejected accepted by PayNet", func() (string, bool) {
		if err := j.decide(ctx, "reject", requestOpts{}); err != nil {
			r.rejectedErr = err
			return err.Error(), false
		}
		if j.last.Exit == "" {
			if err := j.back(ctx); err != nil {
				r.rejectedErr = err
				return err.Error(), false
			}
		}
		got := j.last.describe()
		q, err := r.exitParams(j.last)
		if err != nil {
			r.rejectedErr = err
			return got + "; " + err.Error(), false
		}
		up, err := r.waitUpdate(ctx, j.consentID, func(u sim.UpdateRecord) bool { return u.Status != string(wire.StatusAuthorized) })
		if err != nil {
			r.rejectedErr = err
			return got + "; " + err.Error(), false
		}
		got += "; " + describeUpdates([]sim.UpdateRecord{*up})
		ok := q.Get("error") == "access_denied" && q.Get("consent_id") == j.consentID &&
			up.Accepted && (up.Status == string(wire.StatusRejected) || up.Status == string(wire.StatusFailed))
		if ok {
			r.rejected = j.consentID
		}
		return got, ok
	})
	r.check("E2E-11b", "DC shows \"Account not linked\"", "PayNet's outcome is an error; a data call for the consent is refused (403)", func() (string, bool) {
		if r.rejected == "" {
			return "no rejected consent", false
		}
		got := ""
		visited, err := r.visitCallback(ctx, j.last.Exit)
		if err != nil {
			return err.Error(), false
		}
		if visited {
			v, err := r.sim.Consent(ctx, r.rejected)
			if err != nil {
				return err.Error(), false
			}
			if v.Callback == nil || v.Callback.Outcome != sim.OutcomeError {
				return "PayNet's callback outcome is not an error", false
			}
			got = "callback error " + v.Callback.Error + "; "
		}
		d, err := r.sim.Balances(ctx, r.rejected, offered[0])
		if err != nil {
			return got + err.Error(), false
		}
		noData := len(d.Data) == 0 || string(d.Data) == "null"
		return got + fmt.Sprintf("balances HTTP %d, data: %v", d.HTTPStatus, !noData), d.HTTPStatus == http.StatusForbidden && noData
	})
}

// antiFraming checks the anti-framing headers of a page (negative-tests U10).
func antiFraming(h http.Header) (string, bool) {
	xfo := h.Get("X-Frame-Options")
	csp := h.Get("Content-Security-Policy")
	fa := ""
	for d := range strings.SplitSeq(csp, ";") {
		d = strings.TrimSpace(d)
		if strings.HasPrefix(strings.ToLower(d), "frame-ancestors") {
			fa = d
		}
	}
	ok := strings.EqualFold(xfo, "DENY") || strings.EqualFold(fa, "frame-ancestors 'none'")
	return fmt.Sprintf("X-Frame-Options %q, %q", xfo, fa), ok
}
