package journey

import (
	"time"

	"github.com/ofpdp/ofpdp/connector"
)

// Step is where a journey is (spec §7.5 steps 6–10), in order. A session never goes back
// past StepAccounts once signed in.
type Step string

const (
	StepLogin Step = "login"
	// StepSecondFactor: the first factor passed, the bank's second factor (authn.second_factor)
	// is outstanding.
	StepSecondFactor Step = "verify"
	StepAccounts     Step = "accounts"
	StepReview       Step = "review"
	StepDone         Step = "done"
)

// Outcome is how a journey ended, kept in the session so a repeated request answers the same way.
type Outcome string

const (
	OutcomeNone        Outcome = ""
	OutcomeAuthorized  Outcome = "authorized"   // PATCH authorized accepted: success page, then redirect_uri?consent_id=
	OutcomePatchFailed Outcome = "patch_failed" // approve PATCH failed: "nothing was shared", then error redirect
	OutcomeRejected    Outcome = "rejected"     // customer rejected or cancelled: error redirect
	OutcomeFailed      Outcome = "failed"       // identity mismatch, lockout, timeout: error redirect
	OutcomeRefused     Outcome = "refused"      // consent no longer awaiting authorization: error redirect, no PATCH
	OutcomeCancelled   Outcome = "cancelled"    // cancelled before sign-in: error redirect, no PATCH
)

// Reasons: why a journey ended other than with an authorization. They are the short codes kept
// in store.Authorization.Reason and the audit trail, and pick the redirect's error_description.
const (
	ReasonRejected       = "customer_rejected"
	ReasonCancelled      = "customer_cancelled"
	ReasonIdentity       = "identity_mismatch"
	ReasonLocked         = "login_locked"
	ReasonTimeout        = "timeout"
	ReasonPatchFailed    = "patch_failed"
	ReasonUnknownConsent = "unknown_consent"
	ReasonNotAwaiting    = "not_awaiting_authorization"
	ReasonWindowOver     = "authorization_window_over"
	ReasonOtherDP        = "consent_for_another_dp"
	ReasonDecided        = "decided_elsewhere"
	// ReasonIdentityRequired: the consent names no customer (no id_type + hashed_id_number)
	// while authorize.require_identity_binding is on (design §3.11).
	ReasonIdentityRequired = "identity_required"
	// ReasonSecondFactor: the customer refused the approval in the bank's app.
	ReasonSecondFactor = "second_factor_refused"
	// ReasonCancelledBeforeLogin: cancelled before anyone signed in; no consent update is sent,
	// because no customer decided (docs/security.md "Cancel before sign-in").
	ReasonCancelledBeforeLogin = "cancelled_before_login"
)

// State is the session data (JSON in store.Session.Data). It holds no raw ID number, password
// or full account number: only references, masked and hashed identifiers.
type State struct {
	ConsentID   string    `json:"consent_id"`
	DCID        string    `json:"dc_id"`
	RedirectURI string    `json:"redirect_uri"`
	Deadline    time.Time `json:"deadline"` // end of the authorization window (spec §5.2)
	Lang        string    `json:"lang"`
	CSRF        string    `json:"csrf"`
	FormNonce   string    `json:"form_nonce"`
	Step        Step      `json:"step"`
	// Entry is how the journey began: store.ChannelWeb for /v1/oauth/authorize, store.ChannelApp
	// for the Universal Link path of spec §2.4 (kept with the decision, spec §7.4).
	Entry string `json:"entry,omitempty"`

	Failures int  `json:"failures,omitempty"` // failed logins in this journey
	Locked   bool `json:"locked,omitempty"`   // sign-in paused: only cancel is left
	// Superseded marks the pre-login session left behind by a login (the journey moved to a new
	// id). It may only log in again (a double-clicked login still works); it cannot decide.
	Superseded bool   `json:"superseded,omitempty"`
	Notice     string `json:"notice,omitempty"` // a message key shown once on the next page
	// LoginStarted holds the session's one login slot while a login is with the bank; zero when free.
	LoginStarted time.Time `json:"login_started,omitzero"`

	// Factor is the second factor this journey needs (empty: none); the rest is its challenge at
	// the bank. The code itself is never here: only the bank checks it.
	Factor          connector.Method `json:"factor,omitempty"`
	ChallengeID     string           `json:"challenge_id,omitempty"`
	ChallengeExpiry time.Time        `json:"challenge_expiry,omitzero"`
	Destination     string           `json:"destination,omitempty"` // masked by the bank
	Resends         int              `json:"resends,omitempty"`
	FactorFailures  int              `json:"factor_failures,omitempty"`

	CustomerRef        string    `json:"customer_ref,omitempty"`
	AuthTime           time.Time `json:"auth_time,omitzero"`
	IDType             string    `json:"id_type,omitempty"`
	MaskedIDNumber     string    `json:"masked_id_number,omitempty"`
	HashedIDNumber     string    `json:"hashed_id_number,omitempty"`
	MaskedMobileNumber string    `json:"masked_mobile_number,omitempty"`
	HashedMobileNumber string    `json:"hashed_mobile_number,omitempty"`

	Selected []string        `json:"selected,omitempty"` // DP account ids chosen
	Shared   []SharedAccount `json:"shared,omitempty"`   // what the success page lists (no full numbers)

	Outcome Outcome `json:"outcome,omitempty"`
	Reason  string  `json:"reason,omitempty"`
}

// SharedAccount is an account as the success page lists it: never the full bank number.
type SharedAccount struct {
	ID      string // DP account id (consent.AccountID)
	Name    string
	TypeKey string
	Last4   string
	Checked bool
}

// SignedIn reports whether a customer has passed the first factor in this journey.
func (s *State) SignedIn() bool { return s.CustomerRef != "" }
