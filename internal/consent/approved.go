package consent

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// Approved is what the customer approved on this DP (design §3.9): the purpose, permissions and
// expiration_datetime of the consent as the journey read it before the decision, and the DP
// account_ids the customer selected (design §3.8). After authorization PayNet's events may only
// narrow it (Widened), and data is served on the intersection of PayNet's consent and it
// (Effective).
type Approved struct {
	Purpose            Purpose      `json:"consent_purpose"`
	Permissions        []Permission `json:"permissions"`
	ExpirationDatetime time.Time    `json:"expiration_datetime"`
	// AccountIDs are the selected accounts. The store keeps them with the decision's accounts,
	// not with the rest of the snapshot.
	AccountIDs []string `json:"-"`
}

// Approve is the snapshot of c as the customer approves it with the selected accountIDs.
func Approve(c Consent, accountIDs []string) Approved {
	return Approved{
		Purpose:            c.Purpose,
		Permissions:        slices.Clone(c.Permissions),
		ExpirationDatetime: c.ExpirationDatetime,
		AccountIDs:         slices.Clone(accountIDs),
	}
}

// ErrWidened is the sentinel every *WidenedError unwraps to: an event after the customer's
// approval grants more than the customer approved (refused, design §4 Consent.Invalid).
var ErrWidened = errors.New("consent: the event widens what the customer approved")

// WidenedError names the field of spec §5.1 an event widens: "permissions",
// "expiration_datetime", "accounts" or "consent_purpose". It never carries a value of the event.
type WidenedError struct{ Field string }

func (e *WidenedError) Error() string { return ErrWidened.Error() + ": " + e.Field }

// Unwrap makes errors.Is(err, ErrWidened) true.
func (e *WidenedError) Unwrap() error { return ErrWidened }

// Widened reports whether the consent by grants more than a, as a *WidenedError naming the first
// field that does, or nil when by is a (possibly narrower) restatement of a:
//
//   - a permission a does not list;
//   - an expiration_datetime later than a's;
//   - an account_id the customer did not select (PayNet listing no accounts widens nothing: the
//     selection stands);
//   - any other consent_purpose. A consent has exactly one purpose (spec §5.1), so there is no
//     "removing" one: every change is a use the customer did not approve.
func (a Approved) Widened(by Consent) error {
	for _, p := range by.Permissions {
		if !slices.Contains(a.Permissions, p) {
			return &WidenedError{Field: "permissions"}
		}
	}
	if by.ExpirationDatetime.After(a.ExpirationDatetime) {
		return &WidenedError{Field: "expiration_datetime"}
	}
	for _, acc := range by.Accounts {
		if !slices.Contains(a.AccountIDs, acc.AccountID) {
			return &WidenedError{Field: "accounts"}
		}
	}
	if by.Purpose != a.Purpose {
		return &WidenedError{Field: "consent_purpose"}
	}
	return nil
}

// Grant is what data may be served on (Effective): PayNet's status, and the permissions,
// expiry and accounts both PayNet's consent and the customer's approval allow.
type Grant struct {
	Status             Status
	Permissions        []Permission
	ExpirationDatetime time.Time
	AccountIDs         []string
}

// Effective is the intersection of PayNet's consent c and the customer's approval a (design §3.6,
// docs/operations.md "The effective consent"): the permissions in both, the earlier of the two
// expiration_datetime values, the selected accounts that PayNet's consent also lists (all of them
// when it lists none), and c's status.
func Effective(c Consent, a Approved) Grant {
	g := Grant{Status: c.Status, ExpirationDatetime: c.ExpirationDatetime}
	if a.ExpirationDatetime.Before(g.ExpirationDatetime) {
		g.ExpirationDatetime = a.ExpirationDatetime
	}
	for _, p := range a.Permissions {
		if c.Has(p) && !slices.Contains(g.Permissions, p) {
			g.Permissions = append(g.Permissions, p)
		}
	}
	for _, id := range a.AccountIDs {
		if len(c.Accounts) == 0 || slices.ContainsFunc(c.Accounts, func(acc Account) bool { return acc.AccountID == id }) {
			g.AccountIDs = append(g.AccountIDs, id)
		}
	}
	return g
}

// Has reports whether g grants permission p.
func (g Grant) Has(p Permission) bool { return slices.Contains(g.Permissions, p) }

// Covers reports whether g allows data of the account accountID.
func (g Grant) Covers(accountID string) bool { return slices.Contains(g.AccountIDs, accountID) }

// EffectiveStatus is the status data access acts on at now: authorized or suspended past the
// effective expiry is expired (Consent.EffectiveStatus, with the earlier expiry).
func (g Grant) EffectiveStatus(now time.Time) Status {
	if !g.Status.Terminal() && !now.Before(g.ExpirationDatetime) {
		return StatusExpired
	}
	return g.Status
}

// ErrNotAwaitingAuthorization: the customer's decision cannot be recorded because the consent no
// longer awaits authorization (PayNet moved it on, or it was decided already). It wraps
// ErrIllegalTransition.
var ErrNotAwaitingAuthorization = fmt.Errorf("%w: the consent no longer awaits authorization", ErrIllegalTransition)

// DecisionFrom reports whether the customer's decision to (authorized, rejected or failed, design
// §3.9) may be recorded on a consent PayNet has in status from: only from awaiting_authorization
// (spec §5.2), or when PayNet already announced that very status (the event answering the DP's
// own PATCH arrived first; recording changes no status). Any other status is one PayNet set
// after the journey read the consent, and the decision never overwrites it.
func DecisionFrom(from, to Status) bool {
	if !localDecision(to) {
		return false
	}
	return from == StatusAwaitingAuthorization || from == to
}
