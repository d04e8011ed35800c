package journey

import (
	"errors"
	"slices"
	"time"

	"github.com/ofpdp/ofpdp/connector"
	"github.com/ofpdp/ofpdp/internal/consent"
)

// Kind is what must happen after a step.
type Kind uint8

const (
	// Proceed: the step is legal; the caller does the I/O the step needs (ask the bank, render
	// the page of Action.Step) and reports the result with the next method.
	Proceed Kind = iota + 1
	// Show: render the page of Action.Step again with the message Action.Alert.
	Show
	// Redirect: send the browser to the page of Action.Step (the state did not allow the step).
	Redirect
	// Complete: the journey has an outcome; answer with it (the completion page).
	Complete
	// Conclude: decide the consent with Action.Status and Action.Reason: PATCH to PayNet,
	// record, keep the outcome in the session (design §3.9), then Complete.
	Conclude
	// End: the journey ended without a consent update (State.Outcome and State.Reason are set);
	// save the session and Complete.
	End
	// Gone: this session can no longer act (it was left behind by a login); the session-gone page.
	Gone
)

func (k Kind) String() string {
	switch k {
	case Proceed:
		return "proceed"
	case Show:
		return "show"
	case Redirect:
		return "redirect"
	case Complete:
		return "complete"
	case Conclude:
		return "conclude"
	case End:
		return "end"
	case Gone:
		return "gone"
	}
	return "invalid"
}

// Action is what a step returns.
type Action struct {
	Kind   Kind
	Step   Step           // Proceed, Show, Redirect: the page
	Alert  string         // Show: the message key
	Status consent.Status // Conclude: the decision
	Reason string         // Conclude: why, for a negative decision
}

func proceed(s Step) Action            { return Action{Kind: Proceed, Step: s} }
func redirect(s Step) Action           { return Action{Kind: Redirect, Step: s} }
func show(s Step, alert string) Action { return Action{Kind: Show, Step: s, Alert: alert} }
func conclude(st consent.Status, reason string) Action {
	return Action{Kind: Conclude, Status: st, Reason: reason}
}

// Open is the first step of every request of a journey page: a decided journey answers with its
// outcome; an expired one (expired: the session's idle or absolute limit passed) fails with a
// timeout and goes back to PayNet with an error (negative-tests U5), unless it is a session
// left behind by a login.
func (s *State) Open(expired bool) Action {
	switch {
	case s.Outcome != OutcomeNone:
		return Action{Kind: Complete}
	case expired && s.Superseded:
		return Action{Kind: Gone}
	case expired:
		return conclude(consent.StatusFailed, ReasonTimeout)
	}
	return proceed(s.Step)
}

// ShowLogin is GET of the login page.
func (s *State) ShowLogin() Action {
	if s.Step != StepLogin {
		return redirect(s.Step)
	}
	if s.Locked {
		return show(StepLogin, "login.locked")
	}
	return proceed(StepLogin)
}

// BeginLogin is a first-factor attempt: legal only before sign-in and while sign-in is not
// locked. The caller then claims the session's login slot and asks the bank.
func (s *State) BeginLogin() Action {
	switch {
	case s.Outcome != OutcomeNone:
		return Action{Kind: Complete}
	case s.Step != StepLogin:
		return redirect(s.Step)
	case s.Locked:
		return show(StepLogin, "login.locked")
	}
	return proceed(StepLogin)
}

// LoginThrottled is an attempt the sign-in guard refused before the bank was asked; locks says
// the refusal locks the journey (internal/lockout Refused.Locks).
func (s *State) LoginThrottled(locks bool) Action {
	s.LoginStarted = time.Time{}
	if locks {
		s.Locked = true
		return show(StepLogin, "login.locked")
	}
	return show(StepLogin, "login.throttled")
}

// LoginFailed is a first factor the bank refused: it counts against the journey, which locks at
// maxFailures (design §3.11).
func (s *State) LoginFailed(maxFailures int) Action {
	s.LoginStarted = time.Time{}
	s.Failures++
	if s.Failures >= maxFailures {
		s.Locked = true
		return show(StepLogin, "login.locked")
	}
	return show(StepLogin, "login.failed")
}

// LoginIncomplete is a login form without a username or password (or an oversized one): the
// same message as wrong credentials, and nothing is counted because the bank was not asked.
func (s *State) LoginIncomplete() Action {
	s.LoginStarted = time.Time{}
	return show(StepLogin, "login.failed")
}

// LoginUnavailable is a first factor that could not be checked (the bank or the counters failed).
func (s *State) LoginUnavailable() Action {
	s.LoginStarted = time.Time{}
	return show(StepLogin, "login.unavailable")
}

// ErrIllegalStep is returned by a step that the state does not allow.
var ErrIllegalStep = errors.New("journey: step not allowed in this state")

// SignIn is the first factor the bank accepted for cust at now. c is the consent as stored and
// requireBinding is authorize.require_identity_binding: the customer must be the one the consent
// names (design §3.11, negative-tests U6). It returns the next state (to be saved under a fresh
// session id) or the negative decision that ends the journey. factor is the second factor the
// bank must still check (empty: none): the next state then waits for it.
func (s *State) SignIn(cust connector.Customer, c *consent.Consent, requireBinding bool, factor connector.Method, now time.Time) (State, Action, error) {
	if s.Outcome != OutcomeNone || s.Step != StepLogin || s.Locked {
		return State{}, redirect(s.Step), ErrIllegalStep
	}
	// The bank gives the id number, or its hash with the masked form (docs/connector-openapi.yaml).
	hashed, masked := cust.Identity()
	if reason := IdentityProblem(c, requireBinding, cust.IDType, hashed); reason != "" {
		return State{}, conclude(consent.StatusFailed, reason), nil
	}
	next := *s
	next.Step, next.Failures, next.Notice, next.LoginStarted = StepAccounts, 0, "", time.Time{}
	next.CustomerRef, next.AuthTime = cust.Ref, now
	next.IDType, next.HashedIDNumber, next.MaskedIDNumber = cust.IDType, hashed, masked
	next.MaskedMobileNumber, next.HashedMobileNumber = "", ""
	if cust.MobileNumber != "" {
		next.MaskedMobileNumber = consent.MaskIDNumber(cust.MobileNumber)
		next.HashedMobileNumber = consent.HashIDNumber(cust.MobileNumber)
	}
	if factor != "" {
		next.Step, next.Factor = StepSecondFactor, factor
	}
	return next, redirect(next.Step), nil
}

// ShowSecondFactor is GET of the second-factor page. Proceed with NeedsChallenge true means the
// bank must be asked to start one (ChallengeStarted); an expired one is shown as such.
func (s *State) ShowSecondFactor(now time.Time) Action {
	switch {
	case s.Step != StepSecondFactor || !s.SignedIn():
		return redirect(s.Step)
	case s.Locked:
		return show(StepSecondFactor, "factor.locked")
	case s.ChallengeID != "" && !now.Before(s.ChallengeExpiry):
		return show(StepSecondFactor, "factor.expired")
	}
	return proceed(StepSecondFactor)
}

// NeedsChallenge reports whether the bank must start a challenge before the page can show.
func (s *State) NeedsChallenge() bool { return s.ChallengeID == "" }

// ChallengeStarted keeps the bank's challenge (never the code).
func (s *State) ChallengeStarted(ch connector.Challenge) {
	s.ChallengeID, s.ChallengeExpiry, s.Destination = ch.ID, ch.ExpiresAt, ch.Destination
}

// SubmitOTP is a code typed on the second-factor page: legal only while an OTP challenge is open
// and the factor is not locked. The caller then reserves the attempt on the sign-in counters and
// asks the bank.
func (s *State) SubmitOTP(now time.Time) Action {
	if s.Factor != connector.MethodOTP {
		return redirect(s.Step)
	}
	a := s.ShowSecondFactor(now)
	if a.Kind == Proceed && s.NeedsChallenge() {
		return redirect(StepSecondFactor)
	}
	return a
}

// FactorFailed is a code the bank refused; the factor locks at maxFailures (only cancel is left).
func (s *State) FactorFailed(maxFailures int) Action {
	s.FactorFailures++
	if s.FactorFailures >= maxFailures {
		s.Locked = true
		return show(StepSecondFactor, "factor.locked")
	}
	return show(StepSecondFactor, "otp.failed")
}

// FactorExpired is a challenge the bank says is over: the customer may ask for a new one.
func (s *State) FactorExpired() Action {
	s.ChallengeExpiry = time.Time{}
	return show(StepSecondFactor, "factor.expired")
}

// FactorPassed is the bank's yes: the customer is signed in with both factors at now.
func (s *State) FactorPassed(now time.Time) Action {
	if s.Step != StepSecondFactor || s.Locked {
		return redirect(s.Step)
	}
	s.Step, s.AuthTime = StepAccounts, now
	s.ChallengeID, s.ChallengeExpiry, s.Destination = "", time.Time{}, ""
	return redirect(StepAccounts)
}

// AppAnswer is where the bank's app approval stands, polled by the waiting page.
func (s *State) AppAnswer(st connector.ChallengeStatus, now time.Time) Action {
	if s.Factor != connector.MethodApp || s.Step != StepSecondFactor {
		return redirect(s.Step)
	}
	switch st {
	case connector.ChallengeApproved:
		return s.FactorPassed(now)
	case connector.ChallengeRefused:
		return conclude(consent.StatusFailed, ReasonSecondFactor)
	case connector.ChallengePending:
		return show(StepSecondFactor, "app.waiting")
	}
	return s.FactorExpired()
}

// Resend asks the bank for a new challenge, at most maxResends times in a journey.
func (s *State) Resend(maxResends int) Action {
	switch a := s.ShowSecondFactor(time.Time{}); {
	case a.Kind != Proceed:
		return a
	case s.Resends >= maxResends:
		return show(StepSecondFactor, "factor.resend_limit")
	}
	s.Resends++
	s.ChallengeID, s.ChallengeExpiry, s.Destination = "", time.Time{}, ""
	return redirect(StepSecondFactor)
}

// IdentityProblem is why the signed-in customer (id type, hashed id number) may not decide the
// consent c, or "" when they may (design §3.11): the consent must name a customer when
// requireBinding is on, and the customer must be that one.
func IdentityProblem(c *consent.Consent, requireBinding bool, idType, hashedIDNumber string) string {
	switch {
	case requireBinding && !c.IdentifiesCustomer():
		return ReasonIdentityRequired
	case !c.MatchesCustomer(idType, hashedIDNumber):
		return ReasonIdentity
	}
	return ""
}

// ShowAccounts is GET of the account selection: after sign-in, and from the review page.
func (s *State) ShowAccounts() Action {
	if !s.SignedIn() || (s.Step != StepAccounts && s.Step != StepReview) {
		return redirect(s.Step)
	}
	return proceed(StepAccounts)
}

// MaxAccounts caps the account values of a selection: more than any customer has is tampering.
const MaxAccounts = 64

var (
	errSelectionSize      = errors.New("journey: too many account values")
	errSelectionEmpty     = errors.New("journey: empty account value")
	errSelectionDuplicate = errors.New("journey: account chosen twice")
	errSelectionForeign   = errors.New("journey: account not offered to this customer")
)

// SelectAccounts takes the posted selection against the DP account ids offered to this customer
// now (spec §5.4). An empty, unknown (another customer's, ineligible, made up) or repeated id
// refuses the whole form and nothing changes (negative-tests U11); the error says why, for the log.
func (s *State) SelectAccounts(posted, offered []string) (Action, error) {
	if a := s.ShowAccounts(); a.Kind != Proceed {
		return a, ErrIllegalStep
	}
	if len(posted) == 0 {
		return show(StepAccounts, "accounts.required"), nil
	}
	if err := CheckSelection(posted, offered); err != nil {
		return show(StepAccounts, "accounts.invalid"), err
	}
	var selected []string
	for _, id := range offered { // the bank's order, whatever the form's
		if slices.Contains(posted, id) {
			selected = append(selected, id)
		}
	}
	s.Selected, s.Step = selected, StepReview
	return redirect(StepReview), nil
}

// CheckSelection accepts posted only when every value is one of offered, once.
func CheckSelection(posted, offered []string) error {
	if len(posted) > MaxAccounts {
		return errSelectionSize
	}
	seen := map[string]bool{}
	for _, p := range posted {
		switch {
		case p == "":
			return errSelectionEmpty
		case seen[p]:
			return errSelectionDuplicate
		case !slices.Contains(offered, p):
			return errSelectionForeign
		}
		seen[p] = true
	}
	return nil
}

// SelectionGone sends the customer to choose again: one of the chosen accounts is no longer
// offered (closed, blocked, or gone meanwhile).
func (s *State) SelectionGone() Action {
	s.Selected, s.Step, s.Notice = nil, StepAccounts, "accounts.changed"
	return redirect(StepAccounts)
}

// ShowReview is GET of the review page: only with a selection.
func (s *State) ShowReview() Action {
	if s.Step != StepReview || !s.SignedIn() || len(s.Selected) == 0 {
		return redirect(s.Step)
	}
	return proceed(StepReview)
}

// Choice is the customer's answer on the review page.
type Choice string

const (
	Approve Choice = "approve"
	Reject  Choice = "reject"
)

// Decide is Approve or Reject on the review page (spec §7.5 step 9). A session left behind by a
// login cannot decide; an unknown choice goes back to the review.
func (s *State) Decide(c Choice) Action {
	if a := s.ShowReview(); a.Kind != Proceed || s.Superseded {
		return redirect(s.Step)
	}
	switch c {
	case Approve:
		return conclude(consent.StatusAuthorized, "")
	case Reject:
		return conclude(consent.StatusRejected, ReasonRejected)
	}
	return redirect(StepReview)
}

// Cancel is the Cancel button of every page: the customer rejects (→ rejected); when sign-in is
// locked the journey fails (→ failed, design §3.9). Before sign-in nobody decided, so no update
// is sent (design §3.9 keeps `rejected` for a customer's decision), and `failed` is not sent
// either, or anyone holding the link could end a consent its customer may still approve within
// the window: the consent stays awaiting authorization until PayNet's window ends (spec §5.2).
func (s *State) Cancel() Action {
	switch {
	case s.Outcome != OutcomeNone:
		return Action{Kind: Complete}
	case s.Superseded:
		return Action{Kind: Gone}
	case s.Locked:
		return conclude(consent.StatusFailed, ReasonLocked)
	case !s.SignedIn():
		s.Outcome, s.Reason = OutcomeCancelled, ReasonCancelledBeforeLogin
		return Action{Kind: End, Reason: ReasonCancelledBeforeLogin}
	}
	return conclude(consent.StatusRejected, ReasonCancelled)
}

// Refuse ends a journey whose consent is no longer ours to decide: no PATCH, error redirect.
func (s *State) Refuse(reason string) Action {
	s.Outcome, s.Reason = OutcomeRefused, reason
	return Action{Kind: End, Reason: reason}
}

// Finish keeps the outcome of a concluded decision.
func (s *State) Finish(o Outcome, reason string) {
	s.Outcome, s.Reason, s.Step = o, reason, StepDone
}

// OutcomeFor is the outcome of a decision PayNet accepted.
func OutcomeFor(status consent.Status) Outcome {
	switch status {
	case consent.StatusAuthorized:
		return OutcomeAuthorized
	case consent.StatusRejected:
		return OutcomeRejected
	}
	return OutcomeFailed
}
