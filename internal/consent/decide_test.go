package consent

import (
	"errors"
	"testing"
	"time"
)

func stored() Consent {
	t0 := time.Date(2025, 3, 5, 8, 0, 0, 0, time.UTC)
	return Consent{
		ConsentID: "18ce19c8-85be-4049-899c-21cdc02cde79", DCID: "DC1", DPID: testDPID,
		IDType: IDTypeNRIC, HashedIDNumber: HashIDNumber("900101145678"),
		ConsentType: TypeAccountAccessURN, Purpose: PurposePFM,
		Permissions:        []Permission{PermReadAccounts, PermReadBalances},
		ExpirationDatetime: t0.AddDate(1, 0, 0), Status: StatusAwaitingAuthorization,
		CreatedAt: t0, UpdatedAt: t0, UpdatedBy: "ofp",
	}
}

func TestDecide(t *testing.T) {
	t0 := stored().UpdatedAt
	later := t0.Add(time.Minute)
	with := func(f func(c *Consent)) Consent {
		c := stored()
		f(&c)
		return c
	}
	cases := []struct {
		name    string
		current *Consent // nil = unknown
		typ     EventType
		in      Consent
		action  Action
		err     error
	}{
		// unknown consents (C1)
		{"unknown + created inserts", nil, EventCreated, stored(), ActionInsert, nil},
		{"unknown + updated", nil, EventUpdated, stored(), "", ErrUnknownConsent},
		{"unknown + status_updated", nil, EventStatusUpdated, stored(), "", ErrUnknownConsent},
		// immutable fields (C2)
		{"dc_id changed", ptr(stored()), EventUpdated, with(func(c *Consent) { c.DCID = "DC2"; c.UpdatedAt = later }), "", ErrImmutableField},
		{"dc_id changed on a stale event", ptr(stored()), EventUpdated, with(func(c *Consent) { c.DCID = "DC2"; c.UpdatedAt = t0.Add(-time.Second) }), "", ErrImmutableField},
		{"dp_id changed", ptr(stored()), EventUpdated, with(func(c *Consent) { c.DPID = "DP2"; c.UpdatedAt = later }), "", ErrImmutableField},
		{"created_at changed", ptr(stored()), EventUpdated, with(func(c *Consent) { c.CreatedAt = t0.Add(-time.Hour); c.UpdatedAt = later }), "", ErrImmutableField},
		{"consent_id changed", ptr(stored()), EventUpdated, with(func(c *Consent) { c.ConsentID = "28ce19c8-85be-4049-899c-21cdc02cde79" }), "", ErrImmutableField},
		{"id_type changed", ptr(stored()), EventUpdated, with(func(c *Consent) { c.IDType = IDTypePassport; c.UpdatedAt = later }), "", ErrImmutableField},
		{"hash changed", ptr(stored()), EventUpdated, with(func(c *Consent) { c.HashedIDNumber = HashIDNumber("X1"); c.UpdatedAt = later }), "", ErrImmutableField},
		{"hash dropped", ptr(stored()), EventUpdated, with(func(c *Consent) { c.HashedIDNumber = ""; c.UpdatedAt = later }), "", ErrImmutableField},
		{"id_type dropped", ptr(stored()), EventUpdated, with(func(c *Consent) { c.IDType, c.HashedIDNumber = "", ""; c.UpdatedAt = later }), "", ErrImmutableField},
		{"identity empty to set", ptr(with(func(c *Consent) { c.IDType, c.HashedIDNumber = "", "" })), EventUpdated,
			with(func(c *Consent) { c.UpdatedAt = later }), ActionUpdate, nil},
		{"stale event without the identity set later", ptr(with(func(c *Consent) { c.UpdatedAt = later })), EventCreated,
			with(func(c *Consent) { c.IDType, c.HashedIDNumber = "", "" }), ActionIgnoreStale, nil},
		// ordering
		{"older updated_at ignored", ptr(with(func(c *Consent) { c.UpdatedAt = later; c.Status = StatusAuthorized })), EventStatusUpdated,
			with(func(c *Consent) { c.Status = StatusRejected }), ActionIgnoreStale, nil},
		{"redelivery is a duplicate", ptr(stored()), EventCreated, stored(), ActionDuplicate, nil},
		{"redelivery with another event type", ptr(stored()), EventUpdated, stored(), ActionDuplicate, nil},
		{"same instant in another offset", ptr(stored()), EventCreated, with(func(c *Consent) {
			kl := time.FixedZone("MYT", 8*3600)
			c.CreatedAt, c.UpdatedAt = c.CreatedAt.In(kl), c.UpdatedAt.In(kl)
		}), ActionDuplicate, nil},
		{"same updated_at, other content", ptr(stored()), EventUpdated, with(func(c *Consent) { c.Permissions = []Permission{PermReadBalances} }), ActionUpdate, nil},
		{"same updated_at, legal status change", ptr(stored()), EventStatusUpdated, with(func(c *Consent) { c.Status = StatusFailed }), ActionUpdate, nil},
		{"same updated_at, illegal status change", ptr(with(func(c *Consent) { c.Status = StatusRevoked })), EventStatusUpdated,
			with(func(c *Consent) { c.Status = StatusAuthorized }), "", ErrIllegalTransition},
		{"redelivered creation after a local decision", ptr(with(func(c *Consent) { c.Status = StatusAuthorized })), EventCreated, stored(), ActionDuplicate, nil},
		{"redelivered creation after a local rejection", ptr(with(func(c *Consent) { c.Status = StatusRejected })), EventCreated, stored(), ActionDuplicate, nil},
		{"changed creation after a local decision", ptr(with(func(c *Consent) { c.Status = StatusAuthorized })), EventCreated,
			with(func(c *Consent) { c.Purpose = PurposeCreditUnderwriting }), "", ErrIllegalTransition},
		{"newer awaiting after a local decision", ptr(with(func(c *Consent) { c.Status = StatusAuthorized })), EventUpdated,
			with(func(c *Consent) { c.UpdatedAt = later }), "", ErrIllegalTransition},
		// transitions (spec §5.2, C3)
		{"awaiting to authorized", ptr(stored()), EventStatusUpdated, with(func(c *Consent) { c.Status = StatusAuthorized; c.UpdatedAt = later }), ActionUpdate, nil},
		{"authorized to suspended", ptr(with(func(c *Consent) { c.Status = StatusAuthorized })), EventStatusUpdated,
			with(func(c *Consent) { c.Status = StatusSuspended; c.UpdatedAt = later }), ActionUpdate, nil},
		{"suspended to authorized", ptr(with(func(c *Consent) { c.Status = StatusSuspended })), EventStatusUpdated,
			with(func(c *Consent) { c.Status = StatusAuthorized; c.UpdatedAt = later }), ActionUpdate, nil},
		{"authorized to revoked", ptr(with(func(c *Consent) { c.Status = StatusAuthorized })), EventStatusUpdated,
			with(func(c *Consent) { c.Status = StatusRevoked; c.UpdatedAt = later }), ActionUpdate, nil},
		{"revoked to authorized", ptr(with(func(c *Consent) { c.Status = StatusRevoked })), EventStatusUpdated,
			with(func(c *Consent) { c.Status = StatusAuthorized; c.UpdatedAt = later }), "", ErrIllegalTransition},
		{"expired to authorized", ptr(with(func(c *Consent) { c.Status = StatusExpired })), EventStatusUpdated,
			with(func(c *Consent) { c.Status = StatusAuthorized; c.UpdatedAt = later }), "", ErrIllegalTransition},
		{"rejected to authorized", ptr(with(func(c *Consent) { c.Status = StatusRejected })), EventStatusUpdated,
			with(func(c *Consent) { c.Status = StatusAuthorized; c.UpdatedAt = later }), "", ErrIllegalTransition},
		{"failed to awaiting", ptr(with(func(c *Consent) { c.Status = StatusFailed })), EventUpdated,
			with(func(c *Consent) { c.UpdatedAt = later }), "", ErrIllegalTransition},
		{"awaiting to suspended", ptr(stored()), EventStatusUpdated, with(func(c *Consent) { c.Status = StatusSuspended; c.UpdatedAt = later }), "", ErrIllegalTransition},
		{"authorized to awaiting", ptr(with(func(c *Consent) { c.Status = StatusAuthorized })), EventStatusUpdated,
			with(func(c *Consent) { c.UpdatedAt = later }), "", ErrIllegalTransition},
		{"revoked restated with a reason", ptr(with(func(c *Consent) { c.Status = StatusRevoked })), EventStatusUpdated,
			with(func(c *Consent) {
				c.Status = StatusRevoked
				c.StatusReason = &StatusReason{ReasonCode: "duplicate"}
				c.UpdatedAt = later
			}), ActionUpdate, nil},
		{"accounts kept as sent", ptr(with(func(c *Consent) { c.Status = StatusAuthorized })), EventStatusUpdated,
			with(func(c *Consent) {
				c.Status = StatusAuthorized
				c.Accounts = []Account{{AccountID: "a1", AccountNumber: "123456******7890"}}
				c.UpdatedAt = later
			}), ActionUpdate, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var before Consent
			if c.current != nil {
				before = *c.current
			}
			d, err := Decide(c.current, nil, Event{Type: c.typ, Consent: c.in})
			if c.err != nil {
				if !errors.Is(err, c.err) {
					t.Fatalf("err = %v, want %v", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d.Action != c.action {
				t.Fatalf("action %s, want %s", d.Action, c.action)
			}
			switch d.Action {
			case ActionInsert, ActionUpdate:
				if !sameContent(&d.Consent, &c.in) {
					t.Fatal("insert/update must store the event's consent as sent")
				}
			default:
				if !sameContent(&d.Consent, &before) {
					t.Fatal("stale/duplicate must keep the stored consent")
				}
			}
			if c.current != nil && !sameContent(c.current, &before) {
				t.Fatal("Decide modified the stored consent")
			}
		})
	}
}

func TestDecideInvalidType(t *testing.T) {
	if _, err := Decide(nil, nil, Event{Type: "consent_event_type_unspecified", Consent: stored()}); !errors.Is(err, ErrInvalidEvent) {
		t.Fatalf("err = %v", err)
	}
}

func ptr(c Consent) *Consent { return &c }
