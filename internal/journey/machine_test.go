package journey

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/ofpdp/ofpdp/connector"
	"github.com/ofpdp/ofpdp/internal/consent"
)

var (
	t0   = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	cust = connector.Customer{Ref: "CUST-1", IDType: "nric", IDNumber: "900101015555", MobileNumber: "+60123456789"}
)

// states are one journey in every state it can be in.
func states() map[string]State {
	base := State{ConsentID: "c-1", DCID: "dc-1", Deadline: t0.Add(5 * time.Minute), Step: StepLogin}
	locked := base
	locked.Failures, locked.Locked = 5, true
	accounts := base
	accounts.Step, accounts.CustomerRef, accounts.AuthTime = StepAccounts, cust.Ref, t0
	review := accounts
	review.Step, review.Selected = StepReview, []string{"a-1"}
	verify := base
	verify.Step, verify.CustomerRef, verify.Factor = StepSecondFactor, cust.Ref, connector.MethodOTP
	verify.ChallengeID, verify.ChallengeExpiry = "ch-1", t0.Add(time.Minute)
	superseded := base
	superseded.Superseded = true
	done := review
	done.Step, done.Outcome, done.Reason = StepDone, OutcomeRejected, ReasonRejected
	return map[string]State{
		"login": base, "locked": locked, "accounts": accounts, "review": review, "verify": verify, "superseded": superseded, "done": done,
	}
}

// steps are every step of the machine, each on a copy of the state.
var steps = map[string]func(s *State) (Action, error){
	"open":         func(s *State) (Action, error) { return s.Open(false), nil },
	"open-expired": func(s *State) (Action, error) { return s.Open(true), nil },
	"show-login":   func(s *State) (Action, error) { return s.ShowLogin(), nil },
	"begin-login":  func(s *State) (Action, error) { return s.BeginLogin(), nil },
	"sign-in": func(s *State) (Action, error) {
		_, a, err := s.SignIn(cust, &consent.Consent{}, false, "", t0)
		return a, err
	},
	"show-accounts": func(s *State) (Action, error) { return s.ShowAccounts(), nil },
	"select":        func(s *State) (Action, error) { return s.SelectAccounts([]string{"a-1"}, []string{"a-0", "a-1"}) },
	"show-review":   func(s *State) (Action, error) { return s.ShowReview(), nil },
	"approve":       func(s *State) (Action, error) { return s.Decide(Approve), nil },
	"reject":        func(s *State) (Action, error) { return s.Decide(Reject), nil },
	"cancel":        func(s *State) (Action, error) { return s.Cancel(), nil },
	"show-factor":   func(s *State) (Action, error) { return s.ShowSecondFactor(t0), nil },
	"submit-otp":    func(s *State) (Action, error) { return s.SubmitOTP(t0), nil },
	"resend":        func(s *State) (Action, error) { return s.Resend(2), nil },
	"factor-passed": func(s *State) (Action, error) { return s.FactorPassed(t0), nil },
}

func TestEveryStateEveryStep(t *testing.T) {
	var (
		complete = Action{Kind: Complete}
		gone     = Action{Kind: Gone}
		timeout  = conclude(consent.StatusFailed, ReasonTimeout)
		toLogin  = redirect(StepLogin)
		toAccts  = redirect(StepAccounts)
		toReview = redirect(StepReview)
		toDone   = redirect(StepDone)
		toVerify = redirect(StepSecondFactor)
		illegal  = ErrIllegalStep
	)
	type want struct {
		a   Action
		err error
	}
	table := map[string]map[string]want{
		"login": {
			"show-factor": {a: toLogin}, "submit-otp": {a: toLogin}, "resend": {a: toLogin}, "factor-passed": {a: toLogin},
			"open": {a: proceed(StepLogin)}, "open-expired": {a: timeout},
			"show-login": {a: proceed(StepLogin)}, "begin-login": {a: proceed(StepLogin)}, "sign-in": {a: toAccts},
			"show-accounts": {a: toLogin}, "select": {a: toLogin, err: illegal}, "show-review": {a: toLogin},
			"approve": {a: toLogin}, "reject": {a: toLogin},
			"cancel": {a: Action{Kind: End, Reason: ReasonCancelledBeforeLogin}},
		},
		"locked": {
			"show-factor": {a: toLogin}, "submit-otp": {a: toLogin}, "resend": {a: toLogin}, "factor-passed": {a: toLogin},
			"open": {a: proceed(StepLogin)}, "open-expired": {a: timeout},
			"show-login": {a: show(StepLogin, "login.locked")}, "begin-login": {a: show(StepLogin, "login.locked")},
			"sign-in":       {a: toLogin, err: illegal},
			"show-accounts": {a: toLogin}, "select": {a: toLogin, err: illegal}, "show-review": {a: toLogin},
			"approve": {a: toLogin}, "reject": {a: toLogin},
			"cancel": {a: conclude(consent.StatusFailed, ReasonLocked)},
		},
		"accounts": {
			"show-factor": {a: toAccts}, "submit-otp": {a: toAccts}, "resend": {a: toAccts}, "factor-passed": {a: toAccts},
			"open": {a: proceed(StepAccounts)}, "open-expired": {a: timeout},
			"show-login": {a: toAccts}, "begin-login": {a: toAccts}, "sign-in": {a: toAccts, err: illegal},
			"show-accounts": {a: proceed(StepAccounts)}, "select": {a: toReview}, "show-review": {a: toAccts},
			"approve": {a: toAccts}, "reject": {a: toAccts},
			"cancel": {a: conclude(consent.StatusRejected, ReasonCancelled)},
		},
		"review": {
			"show-factor": {a: toReview}, "submit-otp": {a: toReview}, "resend": {a: toReview}, "factor-passed": {a: toReview},
			"open": {a: proceed(StepReview)}, "open-expired": {a: timeout},
			"show-login": {a: toReview}, "begin-login": {a: toReview}, "sign-in": {a: toReview, err: illegal},
			"show-accounts": {a: proceed(StepAccounts)}, "select": {a: toReview}, "show-review": {a: proceed(StepReview)},
			"approve": {a: conclude(consent.StatusAuthorized, "")}, "reject": {a: conclude(consent.StatusRejected, ReasonRejected)},
			"cancel": {a: conclude(consent.StatusRejected, ReasonCancelled)},
		},
		"verify": { // signed in with the first factor, the OTP outstanding
			"open": {a: proceed(StepSecondFactor)}, "open-expired": {a: timeout},
			"show-login": {a: toVerify}, "begin-login": {a: toVerify}, "sign-in": {a: toVerify, err: illegal},
			"show-accounts": {a: toVerify}, "select": {a: toVerify, err: illegal}, "show-review": {a: toVerify},
			"approve": {a: toVerify}, "reject": {a: toVerify},
			"cancel":      {a: conclude(consent.StatusRejected, ReasonCancelled)},
			"show-factor": {a: proceed(StepSecondFactor)}, "submit-otp": {a: proceed(StepSecondFactor)},
			"resend": {a: toVerify}, "factor-passed": {a: toAccts},
		},
		"superseded": { // the pre-login session a login left behind: it may log in again, nothing else
			"show-factor": {a: toLogin}, "submit-otp": {a: toLogin}, "resend": {a: toLogin}, "factor-passed": {a: toLogin},
			"open": {a: proceed(StepLogin)}, "open-expired": {a: gone},
			"show-login": {a: proceed(StepLogin)}, "begin-login": {a: proceed(StepLogin)}, "sign-in": {a: toAccts},
			"show-accounts": {a: toLogin}, "select": {a: toLogin, err: illegal}, "show-review": {a: toLogin},
			"approve": {a: toLogin}, "reject": {a: toLogin}, "cancel": {a: gone},
		},
		"done": {
			"show-factor": {a: toDone}, "submit-otp": {a: toDone}, "resend": {a: toDone}, "factor-passed": {a: toDone},
			"open": {a: complete}, "open-expired": {a: complete},
			"show-login": {a: toDone}, "begin-login": {a: complete}, "sign-in": {a: toDone, err: illegal},
			"show-accounts": {a: toDone}, "select": {a: toDone, err: illegal}, "show-review": {a: toDone},
			"approve": {a: toDone}, "reject": {a: toDone}, "cancel": {a: complete},
		},
	}
	all := states()
	if len(table) != len(all) {
		t.Fatalf("table covers %d states, the machine has %d", len(table), len(all))
	}
	for name, st := range all {
		row := table[name]
		if len(row) != len(steps) {
			t.Fatalf("state %s: table covers %d steps, the machine has %d", name, len(row), len(steps))
		}
		for stepName, step := range steps {
			w, ok := row[stepName]
			if !ok {
				t.Fatalf("state %s: no row for step %s", name, stepName)
			}
			s := st
			s.Selected = slices.Clone(st.Selected)
			got, err := step(&s)
			if got != w.a || !errors.Is(err, w.err) || (w.err == nil) != (err == nil) {
				t.Errorf("%s × %s = %+v, %v; want %+v, %v", name, stepName, got, err, w.a, w.err)
			}
			if w.err != nil || got.Kind == Redirect && got.Step == st.Step || got.Kind == Complete || got.Kind == Gone {
				if !equal(s, st) {
					t.Errorf("%s × %s refused but changed the state:\n%+v\nwas\n%+v", name, stepName, s, st)
				}
			}
		}
	}
}

func equal(a, b State) bool {
	return slices.Equal(a.Selected, b.Selected) && a.Step == b.Step && a.Outcome == b.Outcome && a.Reason == b.Reason &&
		a.Locked == b.Locked && a.Failures == b.Failures && a.CustomerRef == b.CustomerRef && a.Notice == b.Notice
}

func TestLoginFailuresLock(t *testing.T) {
	s := states()["login"]
	s.LoginStarted = t0
	for i := 1; i <= 3; i++ {
		a := s.LoginFailed(3)
		wantAlert := "login.failed"
		if i == 3 {
			wantAlert = "login.locked"
		}
		if a != show(StepLogin, wantAlert) || s.Failures != i || s.Locked != (i == 3) || !s.LoginStarted.IsZero() {
			t.Fatalf("failure %d: %+v, state %+v", i, a, s)
		}
	}
	if a := s.BeginLogin(); a != show(StepLogin, "login.locked") {
		t.Fatalf("a locked journey began a login: %+v", a)
	}
	if a := s.Cancel(); a != conclude(consent.StatusFailed, ReasonLocked) {
		t.Fatalf("cancel of a locked journey: %+v", a)
	}
}

func TestLoginThrottled(t *testing.T) {
	s := states()["login"]
	if a := s.LoginThrottled(false); a != show(StepLogin, "login.throttled") || s.Locked {
		t.Fatalf("throttled: %+v, %+v", a, s)
	}
	if a := s.LoginThrottled(true); a != show(StepLogin, "login.locked") || !s.Locked {
		t.Fatalf("throttled past a hard limit: %+v, %+v", a, s)
	}
	if a := s.LoginIncomplete(); a != show(StepLogin, "login.failed") || s.Failures != 0 {
		t.Fatalf("incomplete form: %+v, %+v", a, s)
	}
	if a := s.LoginUnavailable(); a != show(StepLogin, "login.unavailable") {
		t.Fatalf("unavailable: %+v", a)
	}
}

// TestSignInIdentity: the customer must be the one the consent names (design §3.11, U6); the
// next state keeps only masked and hashed identifiers.
func TestSignInIdentity(t *testing.T) {
	hashed := consent.HashIDNumber(cust.IDNumber)
	tests := []struct {
		name    string
		c       consent.Consent
		require bool
		want    string
	}{
		{"names nobody, binding off", consent.Consent{}, false, ""},
		{"names nobody, binding on", consent.Consent{}, true, ReasonIdentityRequired},
		{"names this customer", consent.Consent{IDType: consent.IDTypeNRIC, HashedIDNumber: hashed}, true, ""},
		{"names another customer", consent.Consent{IDType: consent.IDTypeNRIC, HashedIDNumber: consent.HashIDNumber("1")}, false, ReasonIdentity},
		{"other id type", consent.Consent{IDType: consent.IDTypePassport, HashedIDNumber: hashed}, false, ReasonIdentity},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := states()["login"]
			s.Failures, s.LoginStarted = 2, t0
			next, a, err := s.SignIn(cust, &tt.c, tt.require, "", t0)
			if err != nil {
				t.Fatal(err)
			}
			if tt.want != "" {
				if a != conclude(consent.StatusFailed, tt.want) || next.CustomerRef != "" {
					t.Fatalf("got %+v, next %+v", a, next)
				}
				return
			}
			if a != toAccounts() || next.Step != StepAccounts || next.CustomerRef != cust.Ref || next.Failures != 0 ||
				!next.LoginStarted.IsZero() || !next.AuthTime.Equal(t0) || next.HashedIDNumber != hashed ||
				next.MaskedIDNumber == cust.IDNumber || next.HashedMobileNumber == "" || next.MaskedMobileNumber == cust.MobileNumber {
				t.Fatalf("got %+v, next %+v", a, next)
			}
			if s.Step != StepLogin || s.CustomerRef != "" {
				t.Fatalf("the pre-login state changed: %+v", s)
			}
		})
	}
}

func toAccounts() Action { return redirect(StepAccounts) }

// TestSelectAccounts: only offered ids, once each, in the bank's order (spec §5.4, U11).
func TestSelectAccounts(t *testing.T) {
	offered := []string{"a-0", "a-1", "a-2"}
	many := make([]string, MaxAccounts+1)
	for i := range many {
		many[i] = "a-0"
	}
	tests := []struct {
		name   string
		posted []string
		want   Action
		err    error
		chosen []string
	}{
		{"one", []string{"a-1"}, redirect(StepReview), nil, []string{"a-1"}},
		{"bank order", []string{"a-2", "a-0"}, redirect(StepReview), nil, []string{"a-0", "a-2"}},
		{"none", nil, show(StepAccounts, "accounts.required"), nil, nil},
		{"empty value", []string{""}, show(StepAccounts, "accounts.invalid"), errSelectionEmpty, nil},
		{"twice", []string{"a-1", "a-1"}, show(StepAccounts, "accounts.invalid"), errSelectionDuplicate, nil},
		{"foreign", []string{"a-1", "x-9"}, show(StepAccounts, "accounts.invalid"), errSelectionForeign, nil},
		{"too many", many, show(StepAccounts, "accounts.invalid"), errSelectionSize, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := states()["accounts"]
			a, err := s.SelectAccounts(tt.posted, offered)
			if a != tt.want || !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) || !slices.Equal(s.Selected, tt.chosen) {
				t.Fatalf("got %+v, %v, selected %v", a, err, s.Selected)
			}
			if tt.chosen == nil && s.Step != StepAccounts {
				t.Fatalf("a refused selection moved the journey to %s", s.Step)
			}
		})
	}
}

func TestSelectionGoneAndUnknownChoice(t *testing.T) {
	s := states()["review"]
	if a := s.Decide("maybe"); a != redirect(StepReview) {
		t.Fatalf("unknown choice: %+v", a)
	}
	if a := s.SelectionGone(); a != redirect(StepAccounts) || s.Step != StepAccounts || s.Selected != nil || s.Notice != "accounts.changed" {
		t.Fatalf("selection gone: %+v, %+v", a, s)
	}
	if a := s.Decide(Approve); a != redirect(StepAccounts) {
		t.Fatalf("approve without a selection: %+v", a)
	}
	review := states()["review"]
	review.Superseded = true
	if a := review.Decide(Approve); a != redirect(StepReview) {
		t.Fatalf("a superseded session decided: %+v", a)
	}
}

func TestEndings(t *testing.T) {
	s := states()["login"]
	if a := s.Cancel(); a.Kind != End || s.Outcome != OutcomeCancelled || s.Reason != ReasonCancelledBeforeLogin {
		t.Fatalf("cancel before login: %+v, %+v", a, s)
	}
	s = states()["review"]
	if a := s.Refuse(ReasonNotAwaiting); a.Kind != End || s.Outcome != OutcomeRefused {
		t.Fatalf("refuse: %+v, %+v", a, s)
	}
	s = states()["review"]
	s.Finish(OutcomeAuthorized, "")
	if s.Step != StepDone || s.Outcome != OutcomeAuthorized || s.Open(false).Kind != Complete {
		t.Fatalf("finish: %+v", s)
	}
	for st, want := range map[consent.Status]Outcome{
		consent.StatusAuthorized: OutcomeAuthorized, consent.StatusRejected: OutcomeRejected, consent.StatusFailed: OutcomeFailed,
	} {
		if got := OutcomeFor(st); got != want {
			t.Errorf("OutcomeFor(%s) = %s, want %s", st, got, want)
		}
	}
	for k := Proceed; k <= Gone; k++ {
		if k.String() == "invalid" {
			t.Errorf("kind %d has no name", k)
		}
	}
}

// FuzzSelectAccounts: whatever a form posts, a selection is only ever offered ids, each once,
// and a refused one changes nothing (negative-tests U11).
func FuzzSelectAccounts(f *testing.F) {
	f.Add("a-1", "a-2", "")
	f.Add("a-1", "a-1", "x")
	f.Fuzz(func(t *testing.T, p1, p2, p3 string) {
		offered := []string{"a-0", "a-1", "a-2"}
		s := states()["accounts"]
		a, err := s.SelectAccounts([]string{p1, p2, p3}, offered)
		if err != nil || a.Kind != Redirect {
			if s.Selected != nil || s.Step != StepAccounts {
				t.Fatalf("a refused selection changed the state: %+v", s)
			}
			return
		}
		seen := map[string]bool{}
		for _, id := range s.Selected {
			if seen[id] || !slices.Contains(offered, id) {
				t.Fatalf("selected %v from %v", s.Selected, offered)
			}
			seen[id] = true
		}
	})
}

// TestSecondFactor: the bank's second factor after the first (authn.second_factor): wrong codes
// lock at the limit, resends are limited, an expired challenge can be renewed, the app's answer
// moves the journey on or ends it, and the code itself never enters the state.
func TestSecondFactor(t *testing.T) {
	s := states()["login"]
	next, a, err := s.SignIn(cust, &consent.Consent{}, false, connector.MethodOTP, t0)
	if err != nil || a != redirect(StepSecondFactor) || next.Step != StepSecondFactor || next.Factor != connector.MethodOTP {
		t.Fatalf("sign-in with a second factor: %+v, %v, %+v", a, err, next)
	}
	s = next
	if a := s.ShowSecondFactor(t0); a != proceed(StepSecondFactor) || !s.NeedsChallenge() {
		t.Fatalf("first view: %+v", a)
	}
	if a := s.SubmitOTP(t0); a != redirect(StepSecondFactor) {
		t.Fatalf("a code before any challenge: %+v", a)
	}
	s.ChallengeStarted(connector.Challenge{ID: "ch-1", ExpiresAt: t0.Add(time.Minute), Destination: "•••789"})
	if a := s.ShowAccounts(); a != redirect(StepSecondFactor) {
		t.Fatalf("accounts before the second factor: %+v", a)
	}
	if a := s.FactorFailed(3); a != show(StepSecondFactor, "otp.failed") {
		t.Fatalf("first wrong code: %+v", a)
	}
	if a := s.SubmitOTP(t0.Add(time.Minute)); a != show(StepSecondFactor, "factor.expired") {
		t.Fatalf("code after expiry: %+v", a)
	}
	for i := range 2 {
		if a := s.Resend(2); a != redirect(StepSecondFactor) || !s.NeedsChallenge() || s.Resends != i+1 {
			t.Fatalf("resend %d: %+v, %+v", i+1, a, s)
		}
		s.ChallengeStarted(connector.Challenge{ID: "ch-2", ExpiresAt: t0.Add(time.Minute)})
	}
	if a := s.Resend(2); a != show(StepSecondFactor, "factor.resend_limit") || s.NeedsChallenge() {
		t.Fatalf("resend past the limit: %+v", a)
	}
	s.FactorFailed(3)
	if a := s.FactorFailed(3); a != show(StepSecondFactor, "factor.locked") || !s.Locked {
		t.Fatalf("third wrong code: %+v", a)
	}
	for name, a := range map[string]Action{"submit": s.SubmitOTP(t0), "resend": s.Resend(9), "show": s.ShowSecondFactor(t0), "pass": s.FactorPassed(t0)} {
		if a.Kind == Proceed || a == redirect(StepAccounts) {
			t.Errorf("%s went on after the factor locked: %+v", name, a)
		}
	}
	if a := s.Cancel(); a != conclude(consent.StatusFailed, ReasonLocked) {
		t.Fatalf("cancel after the factor locked: %+v", a)
	}

	app := states()["verify"]
	app.Factor = connector.MethodApp
	if a := app.SubmitOTP(t0); a != redirect(StepSecondFactor) {
		t.Fatalf("a code in app mode: %+v", a)
	}
	later := t0.Add(time.Second)
	for st, want := range map[connector.ChallengeStatus]Action{
		connector.ChallengePending: show(StepSecondFactor, "app.waiting"),
		connector.ChallengeRefused: conclude(consent.StatusFailed, ReasonSecondFactor),
		connector.ChallengeExpired: show(StepSecondFactor, "factor.expired"),
		"":                         show(StepSecondFactor, "factor.expired"),
	} {
		s := app
		if a := s.AppAnswer(st, later); a != want || s.Step != StepSecondFactor {
			t.Errorf("app %q: %+v, want %+v", st, a, want)
		}
	}
	if a := app.AppAnswer(connector.ChallengeApproved, later); a != redirect(StepAccounts) || app.Step != StepAccounts ||
		!app.AuthTime.Equal(later) || app.ChallengeID != "" {
		t.Fatalf("app approved: %+v, %+v", a, app)
	}
	if a := app.AppAnswer(connector.ChallengeApproved, later); a != redirect(StepAccounts) {
		t.Fatalf("a second approval: %+v", a)
	}
}

// TestSignInHashOnlyIdentity: a core bank that gives only the hash and the masked form of the id
// number (docs/connector-openapi.yaml) signs in the customer the consent names, and the state
// keeps the bank's masked form.
func TestSignInHashOnlyIdentity(t *testing.T) {
	hashed := consent.HashIDNumber(cust.IDNumber)
	hashOnly := cust
	hashOnly.IDNumber, hashOnly.HashedIDNumber, hashOnly.MaskedIDNumber = "", hashed, "********5678"
	c := consent.Consent{IDType: consent.IDTypeNRIC, HashedIDNumber: hashed}
	s := states()["login"]
	next, a, err := s.SignIn(hashOnly, &c, true, "", t0)
	if err != nil || a != toAccounts() || next.HashedIDNumber != hashed || next.MaskedIDNumber != "********5678" {
		t.Fatalf("got %+v %v, next %+v", a, err, next)
	}
	other := c
	other.HashedIDNumber = consent.HashIDNumber("850615-10-5123")
	if _, a, _ := s.SignIn(hashOnly, &other, true, "", t0); a != conclude(consent.StatusFailed, ReasonIdentity) {
		t.Fatalf("another customer's consent: %+v", a)
	}
}
