package sandbox_test

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/ofpdp/ofpdp/internal/browsertest"
	"github.com/ofpdp/ofpdp/internal/ofp/sim"
	"github.com/ofpdp/ofpdp/internal/ofp/wire"
	"github.com/ofpdp/ofpdp/internal/sandbox"
)

// myrAmount is a balance as the mock DC shows it: "MYR 1,234.56".
var myrAmount = regexp.MustCompile(`^MYR -?\d{1,3}(,\d{3})*\.\d{2}\b`)

// dcStep waits for the DP page whose <main> has this data-step (internal/web's page contract).
func dcStep(name string) chromedp.Action[chromedp.Void] {
	return chromedp.WaitVisible(chromedp.CSS(`main[data-step="` + name + `"]`))
}

// dcLinkToDP walks the mock DC from its home page to the bank's login page: link a bank →
// choose the sandbox bank → review what is shared → continue (the DC creates the consent at
// PayNet, which sends the browser to the DP). The consent names user, the customer who then
// logs in (design.md §3.11): chosen from the DC's list of demo customers or, with typed, typed
// in as "someone else".
func dcLinkToDP(t *testing.T, b *browsertest.Browser, sb *browsertest.Sandbox, user sandbox.UserInfo, typed bool) {
	t.Helper()
	b.Do("DC home", chromedp.Navigate(sb.DC.URL), chromedp.WaitVisible(chromedp.ID("link")))
	b.Screenshot("dc-1-home")
	b.Do("DC link a bank", chromedp.Click(chromedp.ID("link")), chromedp.WaitVisible(chromedp.CSS(`a[id^="bank-"]`)))
	b.Screenshot("dc-2-choose-bank")
	b.Do("DC choose the bank", chromedp.Click(chromedp.CSS(`a[id^="bank-"]`)), chromedp.WaitVisible(chromedp.ID("continue")))
	if n := b.Count("#permissions li"); n != 3 {
		t.Errorf("the DC's review lists %d permissions, want 3", n)
	}
	if b.Text("#purpose") == "" || b.Text("#duration") == "" {
		t.Error("the DC's review does not say why and for how long")
	}
	if typed {
		b.Do("DC type the ID number",
			chromedp.SetValue(chromedp.ID("customer"), "other"),
			chromedp.Click(chromedp.CSS("details summary")),
			chromedp.WaitVisible(chromedp.ID("id_number")),
			chromedp.SetValue(chromedp.ID("id_type"), user.IDType),
			chromedp.SendKeys(chromedp.ID("id_number"), user.IDNumber))
	} else {
		b.Do("DC choose the customer", chromedp.SetValue(chromedp.ID("customer"), user.Username))
	}
	b.Screenshot("dc-3-review")
	b.Do("DC continue to the bank", chromedp.Click(chromedp.ID("continue")), dcStep("login"))
	b.Screenshot("dp-5-login")
}

// dpChooseAccounts logs in at the DP and chooses the first n accounts; it returns their DP
// account ids and names, and leaves the browser on the review page.
func dpChooseAccounts(t *testing.T, b *browsertest.Browser, user sandbox.UserInfo, n int) (ids, names []string) {
	t.Helper()
	b.Do("DP log in",
		chromedp.SendKeys(chromedp.ID("username"), user.Username),
		chromedp.SendKeys(chromedp.ID("password"), user.Password),
		chromedp.Click(chromedp.ID("login")), dcStep("accounts"))
	ids, names = b.Values(`input[name=account]`), b.Texts(`fieldset .acc-name`)
	if len(ids) < n || len(names) != len(ids) {
		t.Fatalf("the DP offers ids %q names %q, want at least %d", ids, names, n)
	}
	ids, names = ids[:n], names[:n]
	for _, id := range ids {
		b.Do("DP choose "+id, chromedp.Click(chromedp.CSS(`input[name=account][value="`+id+`"]`)))
	}
	b.Screenshot("dp-7-accounts")
	b.Do("DP continue", chromedp.Click(chromedp.ID("continue")), dcStep("review"))
	if got := b.Texts(`section[aria-labelledby="h-accounts"] .acc-name`); !slices.Equal(got, names) {
		t.Errorf("the DP's review lists %q, want %q", got, names)
	}
	b.Screenshot("dp-8-review")
	return ids, names
}

// consentOf reads the consent_id the browser came back to the DC with.
func consentOf(t *testing.T, b *browsertest.Browser) string {
	t.Helper()
	u, err := url.Parse(b.URL())
	if err != nil {
		t.Fatal(err)
	}
	id := u.Query().Get("consent_id")
	if id == "" {
		t.Fatalf("the DC's callback %s carries no consent_id", u)
	}
	return id
}

// TestBrowserMockDCJourney runs the whole E2E journey of spec paynet-dp.md §7.6 in Chromium
// from the data consumer's side (issue 6 §5): the mock DC links a bank account through PayNet
// and the DP, and shows the linked accounts with balances (11a) — or "Account not linked"
// after the customer rejects (9b, 11b).
func TestBrowserMockDCJourney(t *testing.T) {
	browsertest.Require(t)
	sb := browsertest.StartSandbox(t)
	user := sb.User(t, "aisyah")
	simc := sb.Sim()

	t.Run("approve", func(t *testing.T) {
		b := browsertest.New(t, browsertest.Options{TrustCertFiles: sb.TrustCertFiles()})
		dcLinkToDP(t, b, sb, user, true)
		ids, names := dpChooseAccounts(t, b, user, 2)

		b.Do("DP approve", chromedp.Click(chromedp.ID("approve")), dcStep("success"), chromedp.WaitVisible(chromedp.ID("back-to-dc")))
		b.Screenshot("dp-9a-success")
		b.Do("DP back to the DC", chromedp.Click(chromedp.ID("back-to-dc")), chromedp.WaitVisible(chromedp.ID("accounts")))
		b.Screenshot("dc-11a-linked")

		if got := b.Text("main h1"); got != "Accounts linked" {
			t.Errorf("the DC says %q, want Accounts linked", got)
		}
		if got := b.Texts("#accounts .account h2"); !slices.Equal(got, names) {
			t.Errorf("the DC shows accounts %q, want the chosen %q", got, names)
		}
		balances := b.Texts("#accounts .balance")
		if len(balances) != len(ids) {
			t.Errorf("the DC shows %d balances for %d accounts: %q (problems: %q)", len(balances), len(ids), balances, b.Texts("#accounts .problem"))
		}
		for _, bal := range balances {
			if !myrAmount.MatchString(bal) {
				t.Errorf("balance %q is not a MYR amount", bal)
			}
		}
		if n := b.Count("#accounts .transaction"); n == 0 {
			t.Errorf("the DC shows no transactions (problems: %q)", b.Texts("#accounts .problem"))
		}

		id := consentOf(t, b)
		v, err := simc.Consent(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if v.Status != wire.StatusAuthorized || len(v.UpdatesReceived) != 1 || !v.UpdatesReceived[0].Accepted {
			t.Fatalf("PayNet holds %s with updates %+v, want authorized after exactly one accepted update", v.Status, v.UpdatesReceived)
		}
		var got []string
		for _, a := range v.AuthorizedAccounts() {
			got = append(got, a.AccountID)
		}
		if !slices.Equal(got, ids) {
			t.Errorf("PayNet holds accounts %q, want the chosen %q", got, ids)
		}
		if v.HashedIDNumber != wire.HashIDNumber("900101-14-5678") {
			t.Errorf("the consent carries hashed_id_number %q, want the NRIC's", v.HashedIDNumber)
		}
		if v.Callback == nil || v.Callback.Outcome != sim.OutcomeAuthorized || !strings.HasPrefix(v.Callback.RedirectedTo, sb.DC.URL) {
			t.Errorf("PayNet's callback %+v, want authorized and on to the DC", v.Callback)
		}
		for _, r := range b.Redirects() {
			if strings.HasPrefix(r.From, sb.DP.WebURL) && r.Status != 303 {
				t.Errorf("DP redirect %s %s → %s answered %d, want 303", r.Method, r.From, r.To, r.Status)
			}
		}
		for _, e := range b.Errors() {
			t.Errorf("browser reported: %s", e)
		}
	})

	t.Run("reject", func(t *testing.T) {
		b := browsertest.New(t, browsertest.Options{TrustCertFiles: sb.TrustCertFiles()})
		dcLinkToDP(t, b, sb, user, false)
		dpChooseAccounts(t, b, user, 1)

		b.Do("DP reject", chromedp.Click(chromedp.ID("reject")), chromedp.WaitVisible(chromedp.ID("back-to-dc")))
		b.Screenshot("dp-9b-declined")
		b.Do("DP back to the DC", chromedp.Click(chromedp.ID("back-to-dc")), chromedp.WaitVisible(chromedp.ID("not-linked")))
		b.Screenshot("dc-11b-not-linked")
		if got := b.Text("#not-linked h1"); got != "Account not linked" {
			t.Errorf("the DC says %q, want Account not linked", got)
		}
		if got := b.Text("#not-linked .reason"); !strings.Contains(got, "cancelled") {
			t.Errorf("the DC gives the reason %q, want the customer's cancellation", got)
		}
		if n := b.Count("#accounts"); n != 0 {
			t.Error("the DC shows accounts after a rejection")
		}

		id := consentOf(t, b)
		v, err := simc.Consent(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if v.Status != wire.StatusRejected || len(v.UpdatesReceived) != 1 || !v.UpdatesReceived[0].Accepted ||
			v.UpdatesReceived[0].Status != string(wire.StatusRejected) {
			t.Fatalf("PayNet holds %s with updates %+v, want rejected after exactly one accepted update", v.Status, v.UpdatesReceived)
		}
		if v.Callback == nil || v.Callback.Error != "access_denied" {
			t.Errorf("PayNet's callback %+v, want error access_denied", v.Callback)
		}
		for _, e := range b.Errors() {
			t.Errorf("browser reported: %s", e)
		}
	})
}

// TestBrowserMockDCJourneyWebTLS runs the approval journey with the DP's web listener over HTTPS
// (sandbox --web-tls, dp-server.crt from the sandbox CA): the browser trusts exactly the
// sandbox's certificates and walks from the mock DC to the linked accounts.
func TestBrowserMockDCJourneyWebTLS(t *testing.T) {
	browsertest.Require(t)
	sb := browsertest.StartSandbox(t, func(o *sandbox.Options) { o.WebTLS = true })
	if u, err := url.Parse(sb.DP.WebURL); err != nil || u.Scheme != "https" {
		t.Fatalf("with WebTLS the DP's web_url is %q, want https", sb.DP.WebURL)
	}
	if len(sb.TrustCertFiles()) == 0 {
		t.Fatal("no certificate to trust for the https web listener")
	}
	b := browsertest.New(t, browsertest.Options{TrustCertFiles: sb.TrustCertFiles()})
	dcLinkToDP(t, b, sb, sb.User(t, "aisyah"), false)
	if u, err := url.Parse(b.URL()); err != nil || u.Scheme != "https" || !strings.HasPrefix(b.URL(), sb.DP.WebURL) {
		t.Errorf("the DP's login page is at %s, want under %s", b.URL(), sb.DP.WebURL)
	}
	dpChooseAccounts(t, b, sb.User(t, "aisyah"), 1)
	b.Do("DP approve", chromedp.Click(chromedp.ID("approve")), dcStep("success"), chromedp.WaitVisible(chromedp.ID("back-to-dc")))
	b.Do("DP back to the DC", chromedp.Click(chromedp.ID("back-to-dc")), chromedp.WaitVisible(chromedp.ID("accounts")))
	b.Screenshot("dc-11a-linked")
	if bal := b.Texts("#accounts .balance"); len(bal) != 1 || !myrAmount.MatchString(bal[0]) {
		t.Errorf("the DC shows balances %q, want one MYR amount", bal)
	}
	for _, e := range b.Errors() {
		t.Errorf("browser reported: %s", e)
	}
}
