package web_test

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ofpdp/ofpdp/internal/browsertest"
	"github.com/ofpdp/ofpdp/internal/consent"
	"github.com/ofpdp/ofpdp/internal/ofp/sim"
	"github.com/ofpdp/ofpdp/internal/ofp/wire"
)

// The demo customer of the journeys, with the ID number the consent names so that the
// identity check of design.md §3.11 runs (bank/demo data: aisyah, NRIC 900101-14-5678).
const (
	demoUser     = "aisyah"
	demoIDNumber = "900101-14-5678"
)

var allPermissions = []consent.Permission{consent.PermReadAccounts, consent.PermReadBalances, consent.PermReadTransactions}

// catalogs are the journey's message catalogues, read from i18n/ so the expected texts are
// exactly what a customer is shown.
func catalogs(t *testing.T) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	for _, lang := range []string{"en", "ms"} {
		b, err := os.ReadFile(filepath.Join("i18n", lang+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]string
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		out[lang] = m
	}
	return out
}

// msg is catalogue text with {n} placeholders filled.
func msg(t *testing.T, cat map[string]string, key string, args ...string) string {
	t.Helper()
	s, ok := cat[key]
	if !ok {
		t.Fatalf("no message %q in the catalogue", key)
	}
	for i, a := range args {
		s = strings.ReplaceAll(s, "{"+strconv.Itoa(i)+"}", a)
	}
	return s
}

var monthNames = map[string][]string{
	"en": {"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
	"ms": {"Januari", "Februari", "Mac", "April", "Mei", "Jun", "Julai", "Ogos", "September", "Oktober", "November", "Disember"},
}

// expiryDate is how the review page must show a consent's expiration_datetime: its calendar
// date in Malaysia time, "31 December 2026" / "31 Disember 2026".
func expiryDate(t *testing.T, expiration, lang string) string {
	t.Helper()
	ts, err := time.Parse(time.RFC3339, expiration)
	if err != nil {
		t.Fatalf("expiration_datetime %q: %v", expiration, err)
	}
	ts = ts.In(time.FixedZone("MYT", 8*3600))
	return strconv.Itoa(ts.Day()) + " " + monthNames[lang][ts.Month()-1] + " " + strconv.Itoa(ts.Year())
}

// step waits for the DP page whose <main> has this data-step.
func step(name string) chromedp.Action[chromedp.Void] {
	return chromedp.WaitVisible(chromedp.CSS(`main[data-step="` + name + `"]`))
}

func css(s string) chromedp.CSS { return chromedp.CSS(s) }

// journey is one customer journey through the DP's pages against the sandbox.
type journey struct {
	t         *testing.T
	b         *browsertest.Browser
	sb        *browsertest.Sandbox
	simc      *sim.Client
	consentID string
	authorize string
}

// newJourney creates a consent through the simulator as PayNet does (consent_created pushed to
// the DP), naming the demo customer's NRIC, and opens a browser.
func newJourney(t *testing.T, sb *browsertest.Sandbox, o browsertest.Options) *journey {
	t.Helper()
	b := browsertest.New(t, o)
	simc := sb.Sim()
	resp, err := simc.CreateConsent(t.Context(), sim.CreateConsentRequest{
		Purpose: wire.PurposePFM, Permissions: wire.AllPermissions, ValidityDays: 90,
		IDType: wire.IDTypeNRIC, IDNumber: demoIDNumber,
	})
	if err != nil {
		t.Fatalf("creating the consent: %v", err)
	}
	if !resp.Event.Accepted() {
		t.Fatalf("the DP did not acknowledge consent_created: %+v", resp.Event)
	}
	return &journey{t: t, b: b, sb: sb, simc: simc, consentID: resp.ConsentID, authorize: resp.AuthorizeURL}
}

// view is the consent as PayNet (the simulator) holds it now.
func (j *journey) view() *sim.ConsentView {
	j.t.Helper()
	v, err := j.simc.Consent(j.t.Context(), j.consentID)
	if err != nil {
		j.t.Fatalf("reading the consent from the simulator: %v", err)
	}
	return v
}

// noOverflow fails when the page is wider than the viewport (a phone would scroll sideways).
func (j *journey) noOverflow(where string) {
	j.t.Helper()
	ok := browsertest.Run(j.b, "measure "+where, chromedp.Evaluate[bool](
		`document.documentElement.scrollWidth <= window.innerWidth`))
	if !ok {
		j.t.Errorf("%s: the page is wider than the %d px viewport", where,
			browsertest.Run(j.b, "width", chromedp.Evaluate[int](`window.innerWidth`)))
	}
}

// checkRedirects checks every redirect of the DP's web listener was a 303 (design.md §3.10) and
// returns those that left the DP.
func (j *journey) checkRedirects() []browsertest.Redirect {
	j.t.Helper()
	web, err := url.Parse(j.sb.DP.WebURL)
	if err != nil {
		j.t.Fatal(err)
	}
	var out []browsertest.Redirect
	for _, r := range j.b.Redirects() {
		from, err := url.Parse(r.From)
		if err != nil || from.Host != web.Host {
			continue
		}
		if r.Status != 303 {
			j.t.Errorf("DP redirect %s %s → %s answered %d, want 303", r.Method, r.From, r.To, r.Status)
		}
		if to, err := url.Parse(r.To); err == nil && to.Host != web.Host {
			out = append(out, r)
		}
	}
	return out
}

// noBrowserErrors fails on console errors: a blocked stylesheet, a CSP violation, a failed load.
func (j *journey) noBrowserErrors() {
	j.t.Helper()
	for _, e := range j.b.Errors() {
		j.t.Errorf("browser reported: %s", e)
	}
}

// idTokenClaims returns the verified id_token claims the simulator recorded.
func idTokenClaims(t *testing.T, raw json.RawMessage) map[string]any {
	t.Helper()
	var c map[string]any
	if err := json.Unmarshal(raw, &c); err != nil || c == nil {
		t.Fatalf("id_token claims %s: %v", raw, err)
	}
	return c
}

// audience reads aud, a string or an array of strings (RFC 7519 §4.1.3).
func audience(v any) []string {
	switch a := v.(type) {
	case string:
		return []string{a}
	case []any:
		var out []string
		for _, x := range a {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// TestBrowserDPJourney walks the DP's customer pages in Chromium against the running sandbox
// (spec paynet-dp.md §7.6 E2E steps 5–10, §7.5 screens; design.md §3.9–3.11): PayNet's signed
// authorize link → login → accounts → review → approve or reject → back to PayNet, checking
// what every page shows and what PayNet (the simulator) received.
func TestBrowserDPJourney(t *testing.T) {
	browsertest.Require(t)
	sb := browsertest.StartSandbox(t)
	cats := catalogs(t)
	en, ms := cats["en"], cats["ms"]
	user := sb.User(t, demoUser)
	info, err := sb.Sim().Info(t.Context())
	if err != nil {
		t.Fatalf("simulator info: %v", err)
	}
	dcName := info.DCName
	if dcName == "" || dcName == sb.DCID {
		t.Fatalf("the simulator's DC has no display name (%q)", dcName)
	}
	wantHash := consent.HashIDNumber(demoIDNumber)

	t.Run("approve", func(t *testing.T) {
		j := newJourney(t, sb, browsertest.Options{})
		b := j.b

		// Step 5: PayNet's authorize link shows the DP login page.
		b.Do("5 open the authorize link", chromedp.Navigate(j.authorize), step("login"),
			chromedp.WaitVisible(css("#username")), chromedp.WaitVisible(css("#password")))
		bank := b.Text("header .bank")
		if got, want := b.Text("main h1"), msg(t, en, "login.heading", bank); got != want {
			t.Errorf("login heading %q, want %q", got, want)
		}
		if got := b.Text(".dcname"); got != dcName {
			t.Errorf("login page names the DC %q, want %q", got, dcName)
		}
		if got := b.Text("main .lead"); got != msg(t, en, "login.intro", dcName) {
			t.Errorf("login intro %q", got)
		}
		if got := browsertest.Run(b, "lang", chromedp.Evaluate[string](`document.documentElement.lang`)); got != "en" {
			t.Errorf("page language %q, want en", got)
		}
		b.Screenshot("5-login")

		// Step 6b: a wrong password → the same page with one generic message.
		b.Do("6b wrong password",
			chromedp.SendKeys(css("#username"), user.Username),
			chromedp.SendKeys(css("#password"), user.Password+"-wrong"),
			chromedp.Click(css("#login")),
			chromedp.WaitVisible(css("#alert")), step("login"))
		alert := b.Text("#alert")
		if want := msg(t, en, "login.failed"); alert != want {
			t.Errorf("login failure says %q, want %q", alert, want)
		}
		if l := strings.ToLower(alert); strings.Contains(l, "password") || strings.Contains(l, "username") {
			t.Errorf("login failure %q says which field was wrong", alert)
		}
		if got := b.Values("#username"); !slices.Equal(got, []string{user.Username}) {
			t.Errorf("username after a failed login %q, want it kept", got)
		}
		if got := b.Values("#password"); !slices.Equal(got, []string{""}) {
			t.Errorf("password field after a failed login %q, want it empty", got)
		}
		if u, _ := url.Parse(b.URL()); u == nil || u.Path != "/journey/login" {
			t.Errorf("after a failed login the browser is at %s, want the login page", b.URL())
		}
		b.Screenshot("6b-login-failed")

		// Step 6a: the right password → account selection.
		b.Do("6a log in", chromedp.SendKeys(css("#password"), user.Password), chromedp.Click(css("#login")), step("accounts"))
		if got, want := b.Text("main h1"), msg(t, en, "accounts.heading"); got != want {
			t.Errorf("accounts heading %q, want %q", got, want)
		}
		ids := b.Values(`input[name=account]`)
		names := b.Texts(`fieldset .acc-name`)
		if len(ids) < 2 || len(names) != len(ids) {
			t.Fatalf("account selection offers ids %q names %q, want two or more", ids, names)
		}
		for _, id := range ids {
			if id == "" || len(id) > 36 {
				t.Errorf("account id %q is not an id of 1–36 characters (design.md §3.8)", id)
			}
		}
		b.Screenshot("6a-accounts")

		// Step 7: choose two accounts.
		chosen, chosenNames := ids[:2], names[:2]
		b.Do("7 choose two accounts",
			chromedp.Click(css(`input[name=account][value="`+chosen[0]+`"]`)),
			chromedp.Click(css(`input[name=account][value="`+chosen[1]+`"]`)))
		if got := browsertest.Run(b, "checked", chromedp.Evaluate[[]string](
			`Array.from(document.querySelectorAll('input[name=account]:checked'), e => e.value)`)); !slices.Equal(got, chosen) {
			t.Fatalf("checked accounts %q, want %q", got, chosen)
		}
		b.Screenshot("7-accounts-chosen")
		b.Do("7 continue", chromedp.Click(css("#continue")), step("review"))

		// Step 8: the review names the DC, the purpose, each permission, the expiry date and the
		// chosen accounts.
		held := j.view()
		if got, want := b.Text("main h1"), msg(t, en, "review.heading"); got != want {
			t.Errorf("review heading %q, want %q", got, want)
		}
		if got := b.Text(".dcname"); got != dcName {
			t.Errorf("review names the DC %q, want %q", got, dcName)
		}
		if got, want := b.Text(`section[aria-labelledby="h-purpose"] p`), msg(t, en, "purpose.pfm"); got != want {
			t.Errorf("purpose %q, want %q", got, want)
		}
		var wantPerms []string
		for _, p := range allPermissions {
			wantPerms = append(wantPerms, msg(t, en, "permission."+string(p)))
		}
		if got := b.Texts(`section[aria-labelledby="h-data"] li`); !slices.Equal(got, wantPerms) {
			t.Errorf("permissions %q, want %q", got, wantPerms)
		}
		if got, want := b.Text(`section[aria-labelledby="h-until"] strong`), expiryDate(t, held.ExpirationDatetime, "en"); got != want {
			t.Errorf("review shows until %q, want %q (expiration_datetime %s)", got, want, held.ExpirationDatetime)
		}
		if got := b.Texts(`section[aria-labelledby="h-accounts"] .acc-name`); !slices.Equal(got, chosenNames) {
			t.Errorf("review lists accounts %q, want the chosen %q", got, chosenNames)
		}
		if got := b.Text("#approve"); got != msg(t, en, "review.approve") {
			t.Errorf("approve button %q", got)
		}
		if got := b.Text("#reject"); got != msg(t, en, "review.reject") {
			t.Errorf("reject button %q", got)
		}
		if n := len(held.UpdatesReceived); n != 0 {
			t.Errorf("PayNet received %d updates before the decision", n)
		}
		b.Screenshot("8-review-en")

		// Step 9a: approve → success page, and PayNet received exactly one authorized update.
		b.Do("9a approve", chromedp.Click(css("#approve")), step("success"), chromedp.WaitVisible(css("#back-to-dc")))
		if got, want := b.Text(".done h1"), msg(t, en, "success.heading"); got != want {
			t.Errorf("success heading %q, want %q", got, want)
		}
		if got := b.Texts(`section[aria-labelledby="h-accounts"] .acc-name`); !slices.Equal(got, chosenNames) {
			t.Errorf("success page lists %q, want %q", got, chosenNames)
		}
		if got, want := b.Text("#back-to-dc"), msg(t, en, "common.back_to", dcName); got != want {
			t.Errorf("back button %q, want %q", got, want)
		}
		b.Screenshot("9a-success")
		j.checkAuthorized(chosen, wantHash)

		// Step 10: "Back to DC" → 303 to redirect_uri?consent_id=… → PayNet's callback.
		b.Do("10 back to the DC", chromedp.Click(css("#back-to-dc")), chromedp.WaitVisible(css("#outcome")))
		if got := b.Text("#outcome"); got != sim.OutcomeAuthorized {
			t.Errorf("PayNet's callback shows outcome %q, want authorized", got)
		}
		if got := b.Text("#consent-id"); got != j.consentID {
			t.Errorf("PayNet's callback names consent %q, want %q", got, j.consentID)
		}
		b.Screenshot("10-paynet-callback")
		out := j.checkRedirects()
		wantTo := sb.RedirectURI + "?consent_id=" + url.QueryEscape(j.consentID)
		// A link (GET), not a form: a form's redirect chain out of the DP would be checked against
		// the CSP form-action 'self' and blocked at the data consumer's origin.
		if len(out) != 1 || out[0].Method != "GET" || out[0].To != wantTo {
			t.Errorf("redirects out of the DP %+v, want one GET /journey/done → 303 %s", out, wantTo)
		}
		v := j.view()
		if v.Callback == nil || v.Callback.Outcome != sim.OutcomeAuthorized || v.Callback.Query["consent_id"] != j.consentID || v.Callback.Query["error"] != "" {
			t.Errorf("PayNet's callback recorded %+v, want authorized for %s", v.Callback, j.consentID)
		}
		if n := len(v.UpdatesReceived); n != 1 {
			t.Errorf("after the callback PayNet has %d updates, want still one", n)
		}
		j.noBrowserErrors()
	})

	t.Run("reject", func(t *testing.T) {
		j := newJourney(t, sb, browsertest.Options{})
		b := j.b
		b.Do("5 open the authorize link", chromedp.Navigate(j.authorize), step("login"))
		b.Screenshot("5-login")
		b.Do("6a log in",
			chromedp.SendKeys(css("#username"), user.Username),
			chromedp.SendKeys(css("#password"), user.Password),
			chromedp.Click(css("#login")), step("accounts"))
		b.Screenshot("6a-accounts")
		b.Do("7 choose an account", chromedp.Click(css(`input[name=account]`)), chromedp.Click(css("#continue")), step("review"))
		b.Screenshot("8-review")

		// Step 9b: reject → the DP says nothing was shared → "Back to DC" → PayNet with
		// error=access_denied.
		b.Do("9b reject", chromedp.Click(css("#reject")), step("error"))
		b.Screenshot("9b-declined")
		b.Do("9b back to the DC", chromedp.Click(css("#back-to-dc")), chromedp.WaitVisible(css("#outcome")))
		if got := b.Text("#outcome"); got != sim.OutcomeError {
			t.Errorf("PayNet's callback shows outcome %q, want error", got)
		}
		if got := b.Text("#error"); !strings.HasPrefix(got, "access_denied") {
			t.Errorf("PayNet's callback shows %q, want access_denied", got)
		}
		b.Screenshot("9b-paynet-callback-rejected")

		out := j.checkRedirects()
		if len(out) != 1 || out[0].Method != "GET" {
			t.Fatalf("redirects out of the DP %+v, want one, from the Back to DC link", out)
		}
		to, err := url.Parse(out[0].To)
		if err != nil {
			t.Fatal(err)
		}
		q := to.Query()
		to.RawQuery = ""
		if to.String() != sb.RedirectURI || q.Get("error") != "access_denied" || q.Get("error_description") == "" || q.Get("consent_id") != j.consentID {
			t.Errorf("rejection redirect %s, want %s?error=access_denied&error_description=…&consent_id=%s", out[0].To, sb.RedirectURI, j.consentID)
		}

		v := j.view()
		var accepted []sim.UpdateRecord
		for _, u := range v.UpdatesReceived {
			if u.Accepted {
				accepted = append(accepted, u)
			}
		}
		if len(v.UpdatesReceived) != 1 || len(accepted) != 1 || accepted[0].Status != string(consent.StatusRejected) {
			t.Fatalf("PayNet received %+v, want exactly one accepted rejected update", v.UpdatesReceived)
		}
		if len(accepted[0].Accounts) != 0 || len(accepted[0].IDTokenClaims) != 0 && string(accepted[0].IDTokenClaims) != "null" {
			t.Errorf("the rejection carried accounts %+v or an id_token %s", accepted[0].Accounts, accepted[0].IDTokenClaims)
		}
		if v.Status != wire.StatusRejected {
			t.Errorf("PayNet holds the consent as %s, want rejected", v.Status)
		}
		if v.Callback == nil || v.Callback.Error != "access_denied" {
			t.Errorf("PayNet's callback recorded %+v, want error access_denied", v.Callback)
		}
		j.noBrowserErrors()
	})

	t.Run("bahasa-malaysia-360px", func(t *testing.T) {
		j := newJourney(t, sb, browsertest.Options{Width: 360, Height: 740, Mobile: true})
		b := j.b
		b.Do("5 open the authorize link", chromedp.Navigate(j.authorize), step("login"))
		bank := b.Text("header .bank")
		b.Screenshot("5-login-en")

		b.Do("switch to Bahasa Malaysia", chromedp.Click(css("#lang-ms")),
			chromedp.WaitVisible(css(`html[lang="ms"] main[data-step="login"]`)))
		if got := b.Text("#login"); got != "Log masuk" || got != msg(t, ms, "login.submit") {
			t.Errorf("login button %q, want %q", got, "Log masuk")
		}
		if got, want := b.Text("main h1"), msg(t, ms, "login.heading", bank); got != want {
			t.Errorf("login heading %q, want %q", got, want)
		}
		if got := b.Text(`label[for="password"]`); got != msg(t, ms, "login.password") {
			t.Errorf("password label %q", got)
		}
		if got := b.Text("#lang-ms"); got != "Bahasa Malaysia" {
			t.Errorf("language switch %q", got)
		}
		j.noOverflow("login")
		b.Screenshot("5-login-ms")

		b.Do("6a log masuk",
			chromedp.SendKeys(css("#username"), user.Username),
			chromedp.SendKeys(css("#password"), user.Password),
			chromedp.Click(css("#login")), step("accounts"))
		if got, want := b.Text("main h1"), msg(t, ms, "accounts.heading"); got != want {
			t.Errorf("accounts heading %q, want %q", got, want)
		}
		if got := b.Text("#continue"); got != msg(t, ms, "accounts.continue") {
			t.Errorf("continue button %q", got)
		}
		j.noOverflow("accounts")
		b.Screenshot("6a-accounts-ms")

		chosen := b.Values(`input[name=account]`)
		if len(chosen) == 0 {
			t.Fatal("no account offered")
		}
		chosen = chosen[:1]
		b.Do("7 pilih akaun", chromedp.Click(css(`input[name=account][value="`+chosen[0]+`"]`)), chromedp.Click(css("#continue")), step("review"))
		held := j.view()
		if got, want := b.Text("main h1"), msg(t, ms, "review.heading"); got != want {
			t.Errorf("review heading %q, want %q", got, want)
		}
		if got, want := b.Text(`section[aria-labelledby="h-purpose"] p`), msg(t, ms, "purpose.pfm"); got != want {
			t.Errorf("purpose %q, want %q", got, want)
		}
		if got, want := b.Text(`section[aria-labelledby="h-until"] strong`), expiryDate(t, held.ExpirationDatetime, "ms"); got != want {
			t.Errorf("review shows until %q, want %q", got, want)
		}
		if got := b.Text("#approve"); got != msg(t, ms, "review.approve") {
			t.Errorf("approve button %q", got)
		}
		j.noOverflow("review")
		b.Screenshot("8-review-ms")

		b.Do("9a luluskan", chromedp.Click(css("#approve")), step("success"), chromedp.WaitVisible(css("#back-to-dc")))
		if got, want := b.Text(".done h1"), msg(t, ms, "success.heading"); got != want {
			t.Errorf("success heading %q, want %q", got, want)
		}
		if got, want := b.Text("#back-to-dc"), msg(t, ms, "common.back_to", dcName); got != want {
			t.Errorf("back button %q, want %q", got, want)
		}
		j.noOverflow("success")
		b.Screenshot("9a-success-ms")
		j.checkAuthorized(chosen, wantHash)

		b.Do("10 kembali", chromedp.Click(css("#back-to-dc")), chromedp.WaitVisible(css("#outcome")))
		if got := b.Text("#outcome"); got != sim.OutcomeAuthorized {
			t.Errorf("PayNet's callback shows outcome %q, want authorized", got)
		}
		j.checkRedirects()
		j.noBrowserErrors()
	})
}

// checkAuthorized checks what PayNet received for an approval: exactly one update, accepted,
// status authorized, the chosen account ids, and an id_token for the DC naming the customer.
func (j *journey) checkAuthorized(chosen []string, wantHash string) {
	t := j.t
	t.Helper()
	v := j.view()
	if len(v.UpdatesReceived) != 1 {
		t.Fatalf("PayNet received %d updates, want exactly one: %+v", len(v.UpdatesReceived), v.UpdatesReceived)
	}
	u := v.UpdatesReceived[0]
	if !u.Accepted || u.Status != string(consent.StatusAuthorized) {
		t.Fatalf("PayNet's update: accepted %v status %q (%s), want an accepted authorized update", u.Accepted, u.Status, u.Error)
	}
	if v.Status != wire.StatusAuthorized {
		t.Errorf("PayNet holds the consent as %s, want authorized", v.Status)
	}
	var got []string
	for _, a := range u.Accounts {
		got = append(got, a.AccountID)
		if a.AccountNumber == "" || a.AccountName == "" || strings.Contains(a.AccountID, a.AccountNumber) {
			t.Errorf("PATCHed account %+v: want a number, a name and an id not derived from the number", a)
		}
	}
	if !slices.Equal(got, chosen) {
		t.Errorf("PATCHed account ids %q, want the chosen %q", got, chosen)
	}
	claims := idTokenClaims(t, u.IDTokenClaims)
	if aud := audience(claims["aud"]); !slices.Equal(aud, []string{j.sb.DCID}) {
		t.Errorf("id_token aud %v, want [%s] (the dc_id)", claims["aud"], j.sb.DCID)
	}
	if claims["hashed_id_number"] != wantHash {
		t.Errorf("id_token hashed_id_number %v, want %s", claims["hashed_id_number"], wantHash)
	}
	if claims["id_type"] != string(consent.IDTypeNRIC) {
		t.Errorf("id_token id_type %v, want nric", claims["id_type"])
	}
	if sub, _ := claims["sub"].(string); sub == "" || strings.Contains(sub, demoIDNumber) || strings.Contains(sub, demoUser) {
		t.Errorf("id_token sub %q: want an opaque customer id", sub)
	}
	if v.HashedIDNumber != wantHash {
		t.Errorf("the consent's hashed_id_number %q, want %q", v.HashedIDNumber, wantHash)
	}
}
