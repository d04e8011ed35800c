package consent

import (
	"errors"
	"fmt"
	"slices"
)

// Action is what an incoming consent event does to the stored consent (design §3.6).
type Action string

// Actions of Decide.
const (
	// ActionInsert stores a consent seen for the first time (consent_created).
	ActionInsert Action = "insert"
	// ActionUpdate replaces the stored consent with the event's.
	ActionUpdate Action = "update"
	// ActionIgnoreStale acknowledges an event older than what is stored and changes nothing.
	ActionIgnoreStale Action = "ignore_stale"
	// ActionDuplicate acknowledges a redelivery of what is stored and changes nothing.
	ActionDuplicate Action = "duplicate"
)

// Decision is the outcome of Decide: the action, and the consent as it must be stored afterwards
// (the event's consent for insert and update, the stored one otherwise).
type Decision struct {
	Action  Action
	Consent Consent
}

// Errors of Decide; each refuses the event (negative-tests §5.5).
var (
	// ErrUnknownConsent: an event other than consent_created for a consent_id never seen (C1).
	ErrUnknownConsent = errors.New("consent: unknown consent")
	// ErrImmutableField: the event changes consent_id, dc_id, dp_id, created_at, id_type or
	// hashed_id_number (C2, design §3.6).
	ErrImmutableField = errors.New("consent: immutable field changed")
	// ErrIllegalTransition: the status change is not in the lifecycle of spec §5.2 (C3).
	ErrIllegalTransition = errors.New("consent: illegal status transition")
)

// Decide applies design §3.6 ("every event is the whole consent now") to the stored consent
// (nil when the consent_id is unknown), what the customer approved on this DP (nil until the
// customer's authorization is recorded) and an incoming event:
//
//   - unknown consent: consent_created inserts it; any other event type is ErrUnknownConsent (C1);
//   - consent_id, dc_id, dp_id and created_at (spec §5.1) never change, and id_type and
//     hashed_id_number never change once set (they may go from empty to set): ErrImmutableField
//     (C2; a moved created_at would also move the authorization window);
//   - an updated_at older than the stored one: ActionIgnoreStale;
//   - the same updated_at and the same content: ActionDuplicate (a redelivery, no side effect);
//   - the same updated_at, the same content except status awaiting_authorization while the stored
//     status is a local decision (authorized, rejected, failed — store.Authorize): ActionDuplicate,
//     because it is a redelivery of the event the decision was taken on;
//   - after the customer's approval, an event that widens it (Approved.Widened) is refused with a
//     *WidenedError, unless it ends the consent (a terminal status serves no data, and refusing
//     it would keep serving a consent PayNet has ended); narrowing is an update;
//   - otherwise ActionUpdate, if CanTransition(stored status, new status) (spec §5.2): terminal
//     statuses never change, whatever updated_at says (C3). Accounts are kept as PayNet sent them.
func Decide(current *Consent, approved *Approved, ev Event) (Decision, error) {
	in := ev.Consent
	if !ev.Type.Valid() {
		return Decision{}, fmt.Errorf("%w: unknown event type", ErrInvalidEvent)
	}
	if current == nil {
		if ev.Type != EventCreated {
			return Decision{}, ErrUnknownConsent
		}
		return Decision{Action: ActionInsert, Consent: in}, nil
	}
	if err := checkImmutable(current, &in); err != nil {
		return Decision{}, err
	}
	if in.UpdatedAt.Before(current.UpdatedAt) {
		return Decision{Action: ActionIgnoreStale, Consent: *current}, nil
	}
	if in.UpdatedAt.Equal(current.UpdatedAt) {
		if sameContent(current, &in) {
			return Decision{Action: ActionDuplicate, Consent: *current}, nil
		}
		if in.Status == StatusAwaitingAuthorization && localDecision(current.Status) {
			other := in
			other.Status = current.Status
			if sameContent(current, &other) {
				return Decision{Action: ActionDuplicate, Consent: *current}, nil
			}
		}
	}
	// The identity of a consent, once known, is never dropped by a newer event.
	if current.IDType != "" && in.IDType == "" {
		return Decision{}, fmt.Errorf("%w: id_type", ErrImmutableField)
	}
	if current.HashedIDNumber != "" && in.HashedIDNumber == "" {
		return Decision{}, fmt.Errorf("%w: hashed_id_number", ErrImmutableField)
	}
	if !CanTransition(current.Status, in.Status) {
		return Decision{}, fmt.Errorf("%w: %s to %s", ErrIllegalTransition, current.Status, in.Status)
	}
	if approved != nil && !in.Status.Terminal() {
		if err := approved.Widened(in); err != nil {
			return Decision{}, err
		}
	}
	return Decision{Action: ActionUpdate, Consent: in}, nil
}

// localDecision reports whether s is a status the DP sets itself when the customer decides (design §3.9).
func localDecision(s Status) bool {
	return s == StatusAuthorized || s == StatusRejected || s == StatusFailed
}

func checkImmutable(cur, in *Consent) error {
	switch {
	case in.ConsentID != cur.ConsentID:
		return fmt.Errorf("%w: consent_id", ErrImmutableField)
	case in.DCID != cur.DCID:
		return fmt.Errorf("%w: dc_id", ErrImmutableField)
	case in.DPID != cur.DPID:
		return fmt.Errorf("%w: dp_id", ErrImmutableField)
	case !in.CreatedAt.Equal(cur.CreatedAt):
		return fmt.Errorf("%w: created_at", ErrImmutableField)
	case cur.IDType != "" && in.IDType != "" && in.IDType != cur.IDType:
		return fmt.Errorf("%w: id_type", ErrImmutableField)
	case cur.HashedIDNumber != "" && in.HashedIDNumber != "" && in.HashedIDNumber != cur.HashedIDNumber:
		return fmt.Errorf("%w: hashed_id_number", ErrImmutableField)
	}
	return nil
}

// sameContent compares two consents field by field, instants by time.Equal (an offset written
// differently is the same instant).
func sameContent(a, b *Consent) bool {
	if a.ConsentID != b.ConsentID || a.DCID != b.DCID || a.DPID != b.DPID || a.IDType != b.IDType ||
		a.HashedIDNumber != b.HashedIDNumber || a.ConsentType != b.ConsentType || a.Purpose != b.Purpose ||
		a.Status != b.Status || a.UpdatedBy != b.UpdatedBy {
		return false
	}
	if !a.ExpirationDatetime.Equal(b.ExpirationDatetime) || !a.CreatedAt.Equal(b.CreatedAt) || !a.UpdatedAt.Equal(b.UpdatedAt) {
		return false
	}
	if !slices.Equal(a.Permissions, b.Permissions) || !sameAccounts(a.Accounts, b.Accounts) {
		return false
	}
	switch {
	case a.StatusReason == nil && b.StatusReason == nil:
		return true
	case a.StatusReason == nil || b.StatusReason == nil:
		return false
	default:
		return *a.StatusReason == *b.StatusReason
	}
}
