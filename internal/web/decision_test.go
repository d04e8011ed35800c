package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ofpdp/ofpdp/connector"
	"github.com/ofpdp/ofpdp/internal/consent"
	"github.com/ofpdp/ofpdp/internal/journey"
	"github.com/ofpdp/ofpdp/internal/paynet"
	"github.com/ofpdp/ofpdp/internal/store"
)

// TestAccountsPage: only eligible accounts (active, individual, retail, MYR) are offered, by DP
// account id, with the number masked to its last four digits.
func TestAccountsPage(t *testing.T) {
	hs := newHarness(t, nil)
	hs.login()
	body := hs.do(http.MethodGet, pathAccounts, nil).Body.String()
	for _, id := range hs.ids("ACC-SAV", "ACC-CARD") {
		if !strings.Contains(body, `name="account" value="`+id+`"`) {
			t.Errorf("eligible account %s not offered", id)
		}
	}
	for _, ref := range []string{"ACC-DORM", "ACC-JOINT", "ACC-USD", "ACC-JOHN"} {
		if strings.Contains(body, hs.ids(ref)[0]) {
			t.Errorf("ineligible or foreign account %s offered", ref)
		}
	}
	for _, secret := range []string{"1234567890", "4111", "ACC-SAV", "Old Savings", "John Savings"} {
		if strings.Contains(body, secret) {
			t.Errorf("page shows %q", secret)
		}
	}
	if !strings.Contains(body, "•••• 7890") || !strings.Contains(body, "•••• 1234") || !strings.Contains(body, "ending in 7890") {
		t.Errorf("masked numbers missing:\n%s", body)
	}
	if got := strings.Count(body, `name="account"`); got != 2 {
		t.Errorf("%d accounts offered, want 2", got)
	}
}

// TestAccountSelectionTampered (U11): a form naming an account that was not offered (another
// customer's, dormant, joint, foreign currency, made up), an empty value, a duplicate, or no
// account at all is refused with a message and nothing is stored.
func TestAccountSelectionTampered(t *testing.T) {
	hsIDs := func(refs ...string) []string {
		var out []string
		for _, r := range refs {
			out = append(out, consent.AccountID(testKey, testDCID, r))
		}
		return out
	}
	cases := []struct {
		name  string
		ids   []string
		alert string
	}{
		{"empty selection", nil, "Choose at least one account."},
		{"another customer's account", hsIDs("ACC-SAV", "ACC-JOHN"), "couldn't accept"},
		{"dormant account", hsIDs("ACC-DORM"), "couldn't accept"},
		{"joint account", hsIDs("ACC-JOINT"), "couldn't accept"},
		{"USD account", hsIDs("ACC-USD"), "couldn't accept"},
		{"id for another DC", []string{consent.AccountID(testKey, "DC-OTHER", "ACC-SAV")}, "couldn't accept"},
		{"bank reference instead of the DP id", []string{"ACC-SAV"}, "couldn't accept"},
		{"account number", []string{"1234567890"}, "couldn't accept"},
		{"duplicate", hsIDs("ACC-SAV", "ACC-SAV"), "couldn't accept"},
		{"empty value", append(hsIDs("ACC-SAV"), ""), "couldn't accept"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			hs := newHarness(t, nil)
			hs.login()
			before := hs.journey()
			w := hs.post(pathAccounts, url.Values{"account": c.ids})
			mustStatus(t, w, http.StatusUnprocessableEntity)
			mustStep(t, w, "accounts")
			if !strings.Contains(alertText(w.Body.String()), c.alert) {
				t.Fatalf("alert %q", alertText(w.Body.String()))
			}
			if after := hs.journey(); after.Step != before.Step || len(after.Selected) != 0 {
				t.Fatalf("selection stored: %+v", after)
			}
			// The review page is not reachable, and no decision can be made.
			mustRedirect(t, hs.do(http.MethodGet, pathReview, nil), pathAccounts)
			hs.nonce = hs.journey().FormNonce // even with the right nonce
			mustRedirect(t, hs.decide("approve"), pathAccounts)
			if len(hs.upd.all()) != 0 {
				t.Fatal("a consent update was sent")
			}
		})
	}
}

// TestReviewPage: who (DC name), why (purpose in plain words), what (each permission), until
// when (a MYT date), which accounts; approve, reject and cancel.
func TestReviewPage(t *testing.T) {
	hs := newHarness(t, nil)
	hs.review("ACC-SAV", "ACC-CARD")
	w := hs.do(http.MethodGet, pathReview, nil)
	mustStep(t, w, "review")
	body := w.Body.String()
	for _, want := range []string{
		"Duit Planner", "personal finance management", "Your account details", "Your account balances",
		"Your transactions", "31 December 2026", "My Savings", "Visa Platinum", `id="approve"`, `id="reject"`,
		`id="cancel"`, "<title>Review and confirm · Demo Bank Berhad</title>", "Step 3 of 3",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("review page lacks %q", want)
		}
	}
	if hs.nonce == "" || hs.nonce != hs.journey().FormNonce {
		t.Fatal("no one-time nonce on the decision form")
	}

	// In Bahasa Malaysia; the date in MYT even when PayNet sent UTC.
	cs := testConsent(hs.clock.now())
	cs.ExpirationDatetime = time.Date(2026, 12, 31, 16, 30, 0, 0, time.UTC) // 00:30 on 1 January in MYT
	cs.Purpose = consent.PurposeCreditUnderwriting
	cs.Permissions = []consent.Permission{consent.PermReadBalances}
	hs.store.put(cs)
	mustRedirect(t, hs.post(pathLang, url.Values{"lang": {"ms"}}), pathReview)
	body = hs.do(http.MethodGet, pathReview, nil).Body.String()
	for _, want := range []string{`<html lang="ms">`, "1 Januari 2027", "pembiayaan", "Baki akaun anda", "Luluskan", "Tolak", "Batal"} {
		if !strings.Contains(body, want) {
			t.Errorf("BM review page lacks %q", want)
		}
	}
	if strings.Contains(body, "Transaksi anda") {
		t.Error("a permission the consent does not have is shown")
	}
}

// TestReviewDCFallback: a data consumer without a configured name shows its dc_id.
func TestReviewDCFallback(t *testing.T) {
	hs := newHarness(t, func(o *Options) { o.DCs = nil })
	hs.review("ACC-SAV")
	body := hs.do(http.MethodGet, pathReview, nil).Body.String()
	if !strings.Contains(body, `<span class="dcname">`+testDCID+`</span>`) {
		t.Fatalf("dc_id fallback missing:\n%s", body)
	}
}

// TestApprove: the whole happy path (spec §7.5 steps 5–10). The PATCH carries the id_token
// (spec §4.5), user_identity (masked and hashed only) and exactly the chosen accounts with card
// numbers masked; the store records the authorization only after PayNet took it; "Back to {DC}"
// goes to redirect_uri?consent_id=… with a 303 and ends the session.
func TestApprove(t *testing.T) {
	hs := newHarness(t, nil)
	hs.review("ACC-SAV", "ACC-CARD")
	loginTime := hs.journey().AuthTime
	hs.clock.add(30 * time.Second)
	w := hs.decide("approve")
	mustRedirect(t, w, pathComplete)

	ups := hs.upd.all()
	if len(ups) != 1 {
		t.Fatalf("%d updates", len(ups))
	}
	u := ups[0]
	sub := consent.SubjectID(testKey, "CUST-1")
	wantIdentity := paynet.UserIdentity{
		IDType: "nric", MaskedIDNumber: "********5678", HashedIDNumber: consent.HashIDNumber("900101145678"),
		MaskedMobileNumber: "********6789", HashedMobileNumber: consent.HashIDNumber("+60123456789"),
	}
	if u.ConsentID != testConsentID || u.Status != paynet.StatusAuthorized || u.IDToken != "id-token-for-"+sub ||
		u.UserIdentity == nil || *u.UserIdentity != wantIdentity || u.StatusReason != nil {
		t.Fatalf("update %+v identity %+v", u, u.UserIdentity)
	}
	wantAccounts := []paynet.Account{
		{AccountID: hs.ids("ACC-SAV")[0], AccountNumber: "1234567890", AccountName: "My Savings"},
		{AccountID: hs.ids("ACC-CARD")[0], AccountNumber: "411111******1234", AccountName: "Visa Platinum"},
	}
	if !slices.Equal(u.Accounts, wantAccounts) {
		t.Fatalf("accounts %+v", u.Accounts)
	}

	claims := hs.signer.claims
	if len(claims) != 1 {
		t.Fatalf("%d id_tokens", len(claims))
	}
	c := claims[0]
	if c.Issuer != "https://dp.bank.example" || c.Subject != sub || c.Audience != testDCID || c.IDType != "nric" ||
		c.HashedIDNumber != wantIdentity.HashedIDNumber || !c.IssuedAt.Equal(hs.clock.now()) ||
		c.Expiry.Sub(c.IssuedAt) != 10*time.Minute || !c.AuthTime.Equal(loginTime) || c.Nonce != "" {
		t.Fatalf("claims %+v", c)
	}
	if strings.Contains(sub, "9001") || strings.Contains(sub, "CUST") || len(sub) != 27 {
		t.Fatalf("sub %q", sub)
	}

	rec := hs.store.record(testConsentID)
	a := rec.Authorization
	if a == nil || a.Status != consent.StatusAuthorized || a.CustomerRef != "CUST-1" || a.Reason != "" || rec.Consent.Status != consent.StatusAuthorized {
		t.Fatalf("authorization %+v", a)
	}
	// spec §7.4 record-keeping: how the decision was taken, without personal data.
	if a.Channel == nil || *a.Channel != (store.DecisionChannel{Surface: store.ChannelWeb, SameDevice: true, AuthMode: "password", Factor: "none"}) {
		t.Fatalf("decision channel %+v", a.Channel)
	}
	wantStored := []store.AuthorizedAccount{
		{AccountID: hs.ids("ACC-SAV")[0], AccountRef: "ACC-SAV", AccountNumber: "1234567890", AccountName: "My Savings"},
		{AccountID: hs.ids("ACC-CARD")[0], AccountRef: "ACC-CARD", AccountNumber: "411111******1234", AccountName: "Visa Platinum"},
	}
	if !slices.Equal(a.Accounts, wantStored) {
		t.Fatalf("stored accounts %+v", a.Accounts)
	}
	reviewed := testConsent(hs.clock.now())
	if ap := a.Approved; ap == nil || ap.Purpose != reviewed.Purpose || !slices.Equal(ap.Permissions, reviewed.Permissions) ||
		!ap.ExpirationDatetime.Equal(reviewed.ExpirationDatetime) || !slices.Equal(ap.AccountIDs, hs.ids("ACC-SAV", "ACC-CARD")) {
		t.Fatalf("approved %+v", a.Approved)
	}

	w = hs.do(http.MethodGet, pathComplete, nil)
	mustStatus(t, w, http.StatusOK)
	mustStep(t, w, "success")
	for _, want := range []string{`id="back-to-dc"`, "Back to Duit Planner", "My Savings", "31 December 2026"} {
		if !strings.Contains(w.Body.String(), want) {
			t.Errorf("success page lacks %q", want)
		}
	}
	// Back, refresh and a replayed decision all show the same outcome; no second PATCH.
	mustRedirect(t, hs.do(http.MethodGet, pathReview, nil), pathComplete)
	mustRedirect(t, hs.decide("approve"), pathComplete)
	mustRedirect(t, hs.decide("reject"), pathComplete)
	mustRedirect(t, hs.post(pathCancel, nil), pathComplete)
	if len(hs.upd.all()) != 1 {
		t.Fatal("a second consent update was sent")
	}

	w = hs.post(pathDone, nil)
	mustRedirect(t, w, testRedirect+"?consent_id="+testConsentID)
	if hs.cookie != "" || hs.store.sessionCount() != 1 { // only the superseded pre-login row remains
		t.Fatalf("session not ended (cookie %q, %d rows)", hs.cookie, hs.store.sessionCount())
	}
}

// TestDoubleSubmit: two decision POSTs at once with the same nonce (a double click, or a replay)
// cause exactly one PATCH; the second waits for and answers with the first one's outcome.
func TestDoubleSubmit(t *testing.T) {
	hs := newHarness(t, nil)
	hs.review("ACC-SAV")
	hs.upd.gate, hs.upd.started = make(chan struct{}), make(chan struct{}, 2)

	var wg sync.WaitGroup
	codes := make([]string, 2)
	first := func(i int) {
		defer wg.Done()
		w := hs.raw(http.MethodPost, pathDecision, url.Values{"csrf": {hs.csrf}, "nonce": {hs.nonce}, "decision": {"approve"}})
		codes[i] = w.Header().Get("Location")
	}
	wg.Add(1)
	go first(0)
	<-hs.upd.started // the first decision is at PayNet
	wg.Add(1)
	go first(1)
	time.Sleep(50 * time.Millisecond) // the second is waiting for the outcome
	close(hs.upd.gate)
	wg.Wait()
	if len(hs.upd.all()) != 1 {
		t.Fatalf("%d consent updates, want 1", len(hs.upd.all()))
	}
	if codes[0] != pathComplete || codes[1] != pathComplete {
		t.Fatalf("locations %q", codes)
	}
}

// TestReject (U4): Reject → PATCH rejected → recorded → 303 with error=access_denied.
func TestReject(t *testing.T) {
	hs := newHarness(t, nil)
	hs.review("ACC-SAV")
	hs.ending(hs.decide("reject"), errDeclined)
	ups := hs.upd.all()
	if len(ups) != 1 || ups[0].Status != paynet.StatusRejected || ups[0].IDToken != "" || ups[0].UserIdentity != nil ||
		ups[0].Accounts != nil || ups[0].StatusReason == nil || ups[0].StatusReason.ReasonCode != "not_allowed" {
		t.Fatalf("updates %+v", ups)
	}
	if len(hs.signer.claims) != 0 {
		t.Fatal("an id_token was signed for a rejection")
	}
	if a := hs.store.record(testConsentID).Authorization; a == nil || a.Status != consent.StatusRejected || a.Reason != journey.ReasonRejected || len(a.Accounts) != 0 {
		t.Fatalf("authorization %+v", a)
	}
	mustErrorRedirect(t, hs.leave(hs.post(pathDone, nil)), testRedirect, testConsentID, journey.ReasonRejected)
}

// TestCancelBeforeLogin: Cancel before anyone signed in claims no customer decision: no consent
// update is sent and nothing is recorded; the browser goes back with error=access_denied and the
// consent stays awaiting authorization (PayNet times it out, spec §5.2).
func TestCancelBeforeLogin(t *testing.T) {
	hs := newHarness(t, nil)
	hs.start()
	hs.ending(hs.post(pathCancel, nil), errCancelled)
	if ups := hs.upd.all(); len(ups) != 0 {
		t.Fatalf("a consent update was sent for a cancel before sign-in: %+v", ups)
	}
	if rec := hs.store.record(testConsentID); rec.Authorization != nil || rec.Consent.Status != consent.StatusAwaitingAuthorization {
		t.Fatalf("recorded %+v", rec.Authorization)
	}
	mustErrorRedirect(t, hs.leave(hs.post(pathCancel, nil)), testRedirect, testConsentID, journey.ReasonCancelledBeforeLogin)
	if len(hs.upd.all()) != 0 {
		t.Fatal("a consent update was sent on the second click")
	}
}

// TestCancelOnEveryPage (U4): Cancel after sign-in, on accounts and review, rejects the consent.
func TestCancelOnEveryPage(t *testing.T) {
	for _, page := range []string{"accounts", "review"} {
		t.Run(page, func(t *testing.T) {
			hs := newHarness(t, nil)
			switch page {
			case "accounts":
				hs.login()
			case "review":
				hs.review("ACC-SAV")
			}
			hs.ending(hs.post(pathCancel, nil), errDeclined)
			if ups := hs.upd.all(); len(ups) != 1 || ups[0].Status != paynet.StatusRejected {
				t.Fatalf("updates %+v", ups)
			}
			// A second click on Cancel: same answer, no second PATCH.
			mustErrorRedirect(t, hs.leave(hs.post(pathCancel, nil)), testRedirect, testConsentID, journey.ReasonCancelled)
			if len(hs.upd.all()) != 1 {
				t.Fatal("second PATCH")
			}
		})
	}
}

// TestPatchFailure: when PayNet does not take the authorization, the customer is told nothing
// was shared, the consent is recorded failed (patch_failed), never authorized, and "Back to
// {DC}" returns with an error.
func TestPatchFailure(t *testing.T) {
	hs := newHarness(t, nil)
	hs.review("ACC-SAV")
	hs.upd.err = &paynet.UpdateError{Status: 502, Attempts: 3, Retryable: true}
	w := hs.decide("approve")
	mustRedirect(t, w, pathComplete)
	w = hs.do(http.MethodGet, pathComplete, nil)
	mustStatus(t, w, http.StatusBadGateway)
	mustStep(t, w, "error")
	if !strings.Contains(w.Body.String(), "nothing was shared") || !strings.Contains(w.Body.String(), `id="back-to-dc"`) {
		t.Fatalf("page:\n%s", w.Body.String())
	}
	a := hs.store.record(testConsentID).Authorization
	if a == nil || a.Status != consent.StatusFailed || a.Reason != journey.ReasonPatchFailed || len(a.Accounts) != 0 {
		t.Fatalf("authorization %+v", a)
	}
	mustErrorRedirect(t, hs.leave(hs.post(pathDone, nil)), testRedirect, testConsentID, journey.ReasonPatchFailed)
}

// TestPatchFailureOutbox (negative-tests C11): a PATCH whose outcome is unknown (5xx, 429,
// timeout, network error) leaves exactly one compensating status-only update in the outbox —
// failed/patch_failed after an approval, the same status after a rejection — while the customer
// sees exactly what TestPatchFailure and TestReject show; a definite refusal (4xx) or an update
// never sent enqueues nothing.
func TestPatchFailureOutbox(t *testing.T) {
	retryable := &paynet.UpdateError{Status: 502, Attempts: 3, Retryable: true}
	cases := []struct {
		name     string
		decision string
		err      error
		want     *store.OutboxItem
	}{
		{"approve, 5xx", "approve", retryable, &store.OutboxItem{Status: consent.StatusFailed, Reason: journey.ReasonPatchFailed}},
		{"approve, 429", "approve", &paynet.UpdateError{Status: 429, Attempts: 1, Retryable: true}, &store.OutboxItem{Status: consent.StatusFailed, Reason: journey.ReasonPatchFailed}},
		{"approve, timeout", "approve", &paynet.UpdateError{Attempts: 2, Retryable: true, Err: context.DeadlineExceeded}, &store.OutboxItem{Status: consent.StatusFailed, Reason: journey.ReasonPatchFailed}},
		{"approve, bare network error", "approve", errors.New("dial tcp: connection refused"), &store.OutboxItem{Status: consent.StatusFailed, Reason: journey.ReasonPatchFailed}},
		{"approve, 400", "approve", &paynet.UpdateError{Status: 400, Code: "invalid_request", Attempts: 1}, nil},
		{"approve, 403", "approve", &paynet.UpdateError{Status: 403, Code: "Consent.Invalid", Attempts: 1}, nil},
		{"approve, never sent", "approve", paynet.ErrInvalidUpdate, nil},
		{"reject, 5xx", "reject", retryable, &store.OutboxItem{Status: consent.StatusRejected, Reason: journey.ReasonRejected}},
		{"reject, 400", "reject", &paynet.UpdateError{Status: 400, Attempts: 1}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			hs := newHarness(t, nil)
			hs.review("ACC-SAV")
			hs.upd.err = c.err
			w := hs.decide(c.decision)
			if c.decision == "approve" {
				mustRedirect(t, w, pathComplete)
				w = hs.do(http.MethodGet, pathComplete, nil)
				mustStatus(t, w, http.StatusBadGateway)
				if !strings.Contains(w.Body.String(), "nothing was shared") {
					t.Fatalf("page:\n%s", w.Body.String())
				}
				mustErrorRedirect(t, hs.leave(hs.post(pathDone, nil)), testRedirect, testConsentID, journey.ReasonPatchFailed)
			} else {
				mustErrorRedirect(t, hs.leave(w), testRedirect, testConsentID, journey.ReasonRejected)
			}
			// A second decision (double click) changes nothing.
			hs.decide(c.decision)
			if n := len(hs.upd.all()); n != 1 {
				t.Fatalf("%d PATCHes", n)
			}
			items := hs.store.outboxItems()
			enqueued := 0
			for _, e := range hs.store.audits {
				if e.Action == "web.outbox" && e.Outcome == "enqueued" {
					enqueued++
				}
			}
			if c.want == nil {
				if len(items) != 0 || enqueued != 0 {
					t.Fatalf("enqueued %+v after a definite failure", items)
				}
				return
			}
			if len(items) != 1 || enqueued != 1 {
				t.Fatalf("outbox %+v, %d enqueues; want exactly one", items, enqueued)
			}
			if it := items[0]; it.ConsentID != testConsentID || it.Status != c.want.Status || it.Reason != c.want.Reason {
				t.Fatalf("outbox item %+v, want %s/%s", it, c.want.Status, c.want.Reason)
			}
		})
	}
}

// TestNoOutboxOnSuccess: a PATCH PayNet took leaves nothing to compensate.
func TestNoOutboxOnSuccess(t *testing.T) {
	for _, decision := range []string{"approve", "reject"} {
		hs := newHarness(t, nil)
		hs.review("ACC-SAV")
		hs.decide(decision)
		if items := hs.store.outboxItems(); len(items) != 0 {
			t.Fatalf("%s: outbox %+v", decision, items)
		}
	}
}

// TestTimeout (U5): a session past its idle or absolute limit, on any page, fails the consent and
// sends the browser back with an error instead of a dead end.
func TestTimeout(t *testing.T) {
	cases := []struct {
		name  string
		setup func(hs *harness)
		req   func(hs *harness) *httptest.ResponseRecorder
		idle  bool
	}{
		{"idle on login", func(hs *harness) { hs.start() }, func(hs *harness) *httptest.ResponseRecorder {
			return hs.do(http.MethodGet, pathLogin, nil)
		}, true},
		{"idle on accounts", func(hs *harness) { hs.login() }, func(hs *harness) *httptest.ResponseRecorder {
			return hs.do(http.MethodGet, pathAccounts, nil)
		}, true},
		{"window over on review, approving", func(hs *harness) { hs.review("ACC-SAV") }, func(hs *harness) *httptest.ResponseRecorder {
			return hs.decide("approve")
		}, false},
		{"window over on login, submitting", func(hs *harness) { hs.start() }, func(hs *harness) *httptest.ResponseRecorder {
			return hs.post(pathLogin, url.Values{"username": {"aisyah"}, "password": {"Demo@1234"}})
		}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			hs := newHarness(t, func(o *Options) { o.SessionIdle = 2 * time.Minute })
			c.setup(hs)
			if c.idle {
				hs.clock.add(2 * time.Minute) // idle limit; the 5-minute window is still open
			} else {
				hs.clock.add(4 * time.Minute) // the consent was created a minute before: the window is over
			}
			w := c.req(hs)
			mustErrorRedirect(t, hs.leave(w), testRedirect, testConsentID, journey.ReasonTimeout)
			ups := hs.upd.all()
			if len(ups) != 1 || ups[0].Status != paynet.StatusFailed || ups[0].StatusReason.ReasonCode != "timeout" {
				t.Fatalf("updates %+v", ups)
			}
			if a := hs.store.record(testConsentID).Authorization; a == nil || a.Status != consent.StatusFailed || a.Reason != journey.ReasonTimeout {
				t.Fatalf("authorization %+v", a)
			}
			if hs.bank.calls() > 1 {
				t.Fatal("the bank was asked after the timeout")
			}
		})
	}
}

// TestConsentChangedMeanwhile: PayNet changed the consent during the journey (revoked, or
// failed by its own timer): no PATCH, error redirect.
func TestConsentChangedMeanwhile(t *testing.T) {
	hs := newHarness(t, nil)
	hs.review("ACC-SAV")
	cs := testConsent(hs.clock.now())
	cs.Status = consent.StatusFailed
	hs.store.put(cs)
	w := hs.decide("approve")
	mustErrorRedirect(t, hs.leave(w), testRedirect, testConsentID, journey.ReasonNotAwaiting)
	if len(hs.upd.all()) != 0 {
		t.Fatal("PATCH sent for a consent not awaiting authorization")
	}
}

// TestDecidedInAnotherSession: two browsers opened the same authorize link; the second to decide
// gets an error redirect and sends no PATCH.
func TestDecidedInAnotherSession(t *testing.T) {
	hs := newHarness(t, nil)
	hs.review("ACC-SAV")
	second := newBrowser(hs)
	second.review("ACC-SAV")
	mustRedirect(t, hs.decide("approve"), pathComplete)
	mustErrorRedirect(t, second.leave(second.decide("approve")), testRedirect, testConsentID, journey.ReasonNotAwaiting)
	if len(hs.upd.all()) != 1 {
		t.Fatalf("%d updates", len(hs.upd.all()))
	}
}

// TestAccountGoneBeforeApproval: an account chosen but closed before approval is never sent;
// the customer chooses again.
func TestAccountGoneBeforeApproval(t *testing.T) {
	hs := newHarness(t, nil)
	hs.review("ACC-SAV", "ACC-CARD")
	hs.bank.setStatus("ACC-CARD", connector.StatusClosed)
	mustRedirect(t, hs.decide("approve"), pathAccounts)
	if len(hs.upd.all()) != 0 {
		t.Fatal("PATCH sent with a closed account")
	}
	w := hs.do(http.MethodGet, pathAccounts, nil)
	if !strings.Contains(alertText(w.Body.String()), "Your accounts have changed") {
		t.Fatalf("alert %q", alertText(w.Body.String()))
	}
	// The nonce was not used up: choosing again and approving works.
	mustRedirect(t, hs.post(pathAccounts, url.Values{"account": hs.ids("ACC-SAV")}), pathReview)
	mustStatus(t, hs.do(http.MethodGet, pathReview, nil), http.StatusOK)
	mustRedirect(t, hs.decide("approve"), pathComplete)
	if ups := hs.upd.all(); len(ups) != 1 || len(ups[0].Accounts) != 1 {
		t.Fatalf("updates %+v", ups)
	}
}

// TestRecordRetriesAfterEvent: PayNet announces the new status by event between the PATCH and the
// local write (version moved): the authorization is still recorded.
func TestRecordRetriesAfterEvent(t *testing.T) {
	hs := newHarness(t, nil)
	hs.review("ACC-SAV")
	release := hs.approveHeld()
	cs := testConsent(hs.clock.now())
	cs.Status = consent.StatusAuthorized // the consent_status_updated event
	hs.store.put(cs)
	mustRedirect(t, release(), pathComplete)
	if a := hs.store.record(testConsentID).Authorization; a == nil || a.Status != consent.StatusAuthorized || len(a.Accounts) != 1 {
		t.Fatalf("authorization %+v", a)
	}
}

// TestStoreErrorsAreNotDeadEnds: an unexpected store error on the decision is a 500 page, not a
// PATCH.
func TestStoreErrorsAreNotDeadEnds(t *testing.T) {
	hs := newHarness(t, nil)
	hs.review("ACC-SAV")
	hs.h.o.Store = failingReplay{hs.store}
	w := hs.decide("approve")
	mustStatus(t, w, http.StatusInternalServerError)
	mustStep(t, w, "error")
	if len(hs.upd.all()) != 0 {
		t.Fatal("PATCH sent")
	}
}

type failingReplay struct{ *fakeStore }

func (failingReplay) UseOnce(context.Context, string, time.Time) (bool, error) {
	return false, errors.New("replay table unavailable")
}

// TestStillProcessing: a repeated decision that outlasts the wait gets the "still working" page
// with a way back into the journey, and still causes no second PATCH.
func TestStillProcessing(t *testing.T) {
	hs := newHarness(t, nil)
	hs.review("ACC-SAV")
	hs.h.waitFor = 30 * time.Millisecond
	hs.upd.gate, hs.upd.started = make(chan struct{}), make(chan struct{}, 1)
	done := make(chan *httptest.ResponseRecorder)
	form := url.Values{"csrf": {hs.csrf}, "nonce": {hs.nonce}, "decision": {"approve"}}
	go func() { done <- hs.raw(http.MethodPost, pathDecision, form) }()
	<-hs.upd.started
	w := hs.raw(http.MethodPost, pathDecision, form)
	mustStatus(t, w, http.StatusConflict)
	mustStep(t, w, "error")
	if !strings.Contains(w.Body.String(), `href="/journey/review"`) {
		t.Fatalf("no way back:\n%s", w.Body.String())
	}
	close(hs.upd.gate)
	mustRedirect(t, <-done, pathComplete)
	mustRedirect(t, hs.do(http.MethodGet, pathReview, nil), pathComplete)
	if len(hs.upd.all()) != 1 {
		t.Fatal("second PATCH")
	}
}

// TestConsentGoneBeforeReview: the consent changed or vanished before the review page: the
// journey ends with an error redirect and no PATCH.
func TestConsentGoneBeforeReview(t *testing.T) {
	for _, status := range []consent.Status{consent.StatusRevoked, ""} {
		hs := newHarness(t, nil)
		hs.login()
		mustRedirect(t, hs.post(pathAccounts, url.Values{"account": hs.ids("ACC-SAV")}), pathReview)
		reason := journey.ReasonNotAwaiting
		if status == "" {
			delete(hs.store.consents, testConsentID)
			reason = journey.ReasonUnknownConsent
		} else {
			cs := testConsent(hs.clock.now())
			cs.Status = status
			hs.store.put(cs)
		}
		hs.ending(hs.do(http.MethodGet, pathReview, nil), endingPage(reason))
		mustErrorRedirect(t, hs.leave(hs.post(pathCancel, nil)), testRedirect, testConsentID, reason)
		if len(hs.upd.all()) != 0 {
			t.Fatal("PATCH sent")
		}
	}
}

// movingStore moves the session (as a concurrent request would) just before the handler's own
// write, so the handler's compare-and-swap loses.
type movingStore struct {
	*fakeStore
	once sync.Once
	move func(*store.Session)
}

func (m *movingStore) UpdateSession(ctx context.Context, s store.Session) (int64, error) {
	m.once.Do(func() {
		cur, _ := m.fakeStore.GetSession(ctx, s.IDHash)
		m.move(cur)
		if _, err := m.fakeStore.UpdateSession(ctx, *cur); err != nil {
			panic(err)
		}
	})
	return m.fakeStore.UpdateSession(ctx, s)
}

// TestConcurrentStepWrite: a double-clicked Continue: the second write loses the race and the
// browser is sent to where the first one left the journey.
func TestConcurrentStepWrite(t *testing.T) {
	hs := newHarness(t, nil)
	hs.login()
	ms := &movingStore{fakeStore: hs.store, move: func(s *store.Session) {
		var j journey.State
		_ = json.Unmarshal(s.Data, &j)
		j.Step, j.Selected = journey.StepReview, hs.ids("ACC-CARD")
		s.Data, _ = json.Marshal(j)
	}}
	hs.h.o.Store = ms
	mustRedirect(t, hs.post(pathAccounts, url.Values{"account": hs.ids("ACC-SAV")}), pathReview)
	if j := hs.journey(); !slices.Equal(j.Selected, hs.ids("ACC-CARD")) {
		t.Fatalf("the losing write overwrote the winner: %+v", j.Selected)
	}
}

// TestOutcomeSurvivesConcurrentWrite: a page view that touched the session while the decision
// ran must not lose the outcome.
func TestOutcomeSurvivesConcurrentWrite(t *testing.T) {
	hs := newHarness(t, nil)
	hs.review("ACC-SAV")
	var moved bool
	ms := &movingStore{fakeStore: hs.store, move: func(*store.Session) { moved = true }}
	hs.h.o.Store = ms
	hs.ending(hs.decide("reject"), errDeclined)
	if !moved {
		t.Fatal("the session was not moved")
	}
	if j := hs.journey(); j.Outcome != journey.OutcomeRejected || j.Reason != journey.ReasonRejected {
		t.Fatalf("outcome lost: %+v", j)
	}
}
