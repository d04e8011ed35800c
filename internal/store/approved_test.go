package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ofpdp/ofpdp/internal/consent"
)

// testApprovedSnapshot: an authorization stores what the customer approved; later events may
// narrow it but an event that widens it is refused with nothing stored; the account resolution
// follows the effective consent (docs/security.md "Consent widening after approval").
func testApprovedSnapshot(t *testing.T, e engine) {
	ctx := context.Background()
	clk := newClock()
	s := e.open(t, clk)
	c := baseConsent()
	mustApply(t, s, clk, consent.EventCreated, c, consent.ActionInsert)

	for _, bad := range []func(a *Authorization){
		func(a *Authorization) { a.Approved = nil },
		func(a *Authorization) { a.Approved.AccountIDs = []string{"acc-1"} },
		func(a *Authorization) { a.Approved.AccountIDs = []string{"acc-2", "acc-1"} },
	} {
		a := authorized(clk)
		bad(&a)
		if _, err := s.Authorize(ctx, consentID, 1, a); !errors.Is(err, ErrInvalidArgument) {
			t.Fatalf("authorization %+v: %v", a.Approved, err)
		}
	}
	if _, err := s.Authorize(ctx, consentID, 1, authorized(clk)); err != nil {
		t.Fatal(err)
	}
	ap := get(t, s).Approved()
	if ap == nil || ap.Purpose != c.Purpose || !slices.Equal(ap.Permissions, c.Permissions) ||
		!ap.ExpirationDatetime.Equal(c.ExpirationDatetime) || !slices.Equal(ap.AccountIDs, []string{"acc-1", "acc-2"}) {
		t.Fatalf("approval read back as %+v", ap)
	}

	at := t0
	next := func(f func(c *consent.Consent)) consent.Consent {
		at = at.Add(time.Minute)
		n := c
		n.Status, n.UpdatedAt = consent.StatusAuthorized, at
		n.Permissions, n.Accounts = slices.Clone(c.Permissions), []consent.Account{{AccountID: "acc-1"}, {AccountID: "acc-2"}}
		f(&n)
		return n
	}
	mustApply(t, s, clk, consent.EventStatusUpdated, next(func(*consent.Consent) {}), consent.ActionUpdate)

	for _, w := range []struct {
		field string
		f     func(c *consent.Consent)
	}{
		{"permissions", func(c *consent.Consent) { c.Permissions = append(c.Permissions, consent.PermReadTransactions) }},
		{"expiration_datetime", func(c *consent.Consent) { c.ExpirationDatetime = c.ExpirationDatetime.Add(time.Hour) }},
		{"accounts", func(c *consent.Consent) { c.Accounts = append(c.Accounts, consent.Account{AccountID: "acc-3"}) }},
		{"consent_purpose", func(c *consent.Consent) { c.Purpose = consent.PurposeCreditUnderwriting }},
	} {
		before := get(t, s)
		evsBefore, _ := s.ConsentEvents(ctx, consentID)
		_, err := apply(t, s, clk, consent.EventUpdated, next(w.f))
		var we *consent.WidenedError
		if !errors.As(err, &we) || we.Field != w.field {
			t.Fatalf("widening %s: %v", w.field, err)
		}
		after := get(t, s)
		evsAfter, _ := s.ConsentEvents(ctx, consentID)
		if after.Version != before.Version || !after.Consent.UpdatedAt.Equal(before.Consent.UpdatedAt) || len(evsAfter) != len(evsBefore) {
			t.Fatalf("widening %s stored something: v%d→v%d, %d→%d events", w.field, before.Version, after.Version,
				len(evsBefore), len(evsAfter))
		}
	}

	// Narrowing: fewer permissions, earlier expiry, acc-1 only.
	narrow := next(func(c *consent.Consent) {
		c.Permissions = []consent.Permission{consent.PermReadAccounts}
		c.ExpirationDatetime = c.ExpirationDatetime.Add(-time.Hour)
		c.Accounts = c.Accounts[:1]
	})
	mustApply(t, s, clk, consent.EventUpdated, narrow, consent.ActionUpdate)
	rec := get(t, s)
	if ap := rec.Approved(); ap == nil || len(ap.Permissions) != 2 {
		t.Fatalf("narrowing changed the approval: %+v", ap)
	}
	if g := consent.Effective(rec.Consent, *rec.Approved()); g.Has(consent.PermReadBalances) ||
		!g.ExpirationDatetime.Equal(narrow.ExpirationDatetime) {
		t.Fatalf("effective consent %+v", g)
	}
	if ref := rec.AccountRef("acc-2"); ref != "" {
		t.Fatalf("acc-2 outside the effective consent resolved to %q", ref)
	}
	if ref := rec.AccountRef("acc-1"); ref != "BANK-0001" {
		t.Fatalf("acc-1 resolved to %q", ref)
	}
	// Back to what was approved is not a widening.
	mustApply(t, s, clk, consent.EventUpdated, next(func(*consent.Consent) {}), consent.ActionUpdate)
}

// testAuthorizeAfterPayNetStatus: the decision only moves a consent from awaiting_authorization;
// a status PayNet set after the journey read the consent (suspended) is never overwritten, while
// PayNet's own echo of the decision (authorized) lets it be recorded without a status change.
func testAuthorizeAfterPayNetStatus(t *testing.T, e engine) {
	ctx := context.Background()
	clk := newClock()
	s := e.open(t, clk)
	c := baseConsent()
	mustApply(t, s, clk, consent.EventCreated, c, consent.ActionInsert)
	read := get(t, s) // the journey reads the consent
	c.Status, c.UpdatedAt = consent.StatusAuthorized, t0.Add(time.Minute)
	mustApply(t, s, clk, consent.EventStatusUpdated, c, consent.ActionUpdate)
	c.Status, c.UpdatedAt = consent.StatusSuspended, t0.Add(2*time.Minute)
	mustApply(t, s, clk, consent.EventStatusUpdated, c, consent.ActionUpdate)

	if _, err := s.Authorize(ctx, consentID, read.Version, authorized(clk)); !errors.Is(err, ErrConflict) {
		t.Fatalf("stale version: %v", err)
	}
	cur := get(t, s)
	_, err := s.Authorize(ctx, consentID, cur.Version, authorized(clk))
	if !errors.Is(err, consent.ErrNotAwaitingAuthorization) {
		t.Fatalf("decision over suspended: %v", err)
	}
	if rec := get(t, s); rec.Consent.Status != consent.StatusSuspended || rec.Authorization != nil || rec.Version != cur.Version {
		t.Fatalf("the decision overwrote PayNet's suspension: %s %+v v%d", rec.Consent.Status, rec.Authorization, rec.Version)
	}

	// PayNet's echo of the PATCH arrives first: the decision is recorded, the status stays.
	s2 := e.open(t, clk)
	c = baseConsent()
	mustApply(t, s2, clk, consent.EventCreated, c, consent.ActionInsert)
	c.Status, c.UpdatedAt = consent.StatusAuthorized, t0.Add(time.Minute)
	mustApply(t, s2, clk, consent.EventStatusUpdated, c, consent.ActionUpdate)
	if _, err := s2.Authorize(ctx, consentID, 2, authorized(clk)); err != nil {
		t.Fatalf("decision after PayNet's confirmation: %v", err)
	}
	if rec, _ := s2.GetConsent(ctx, consentID); rec.Consent.Status != consent.StatusAuthorized || rec.Approved() == nil {
		t.Fatalf("after the decision: %s %+v", rec.Consent.Status, rec.Authorization)
	}
	// A rejection is not recorded on a consent PayNet authorized.
	s3 := e.open(t, clk)
	mustApply(t, s3, clk, consent.EventCreated, baseConsent(), consent.ActionInsert)
	mustApply(t, s3, clk, consent.EventStatusUpdated, c, consent.ActionUpdate)
	rej := Authorization{Status: consent.StatusRejected, CustomerRef: "cust-1", Reason: "customer_rejected"}
	if _, err := s3.Authorize(ctx, consentID, 2, rej); !errors.Is(err, consent.ErrNotAwaitingAuthorization) {
		t.Fatalf("rejection over authorized: %v", err)
	}
}

// testAuthorizeRacesPayNet: the journey records the decision (re-reading on a version conflict,
// as web does) while PayNet's confirmation and then a suspension arrive; whatever the
// interleaving, the consent ends suspended and the decision either landed before the suspension
// or was refused with consent.ErrNotAwaitingAuthorization.
func testAuthorizeRacesPayNet(t *testing.T, e engine) {
	ctx := context.Background()
	clk := newClock()
	s := e.open(t, clk)
	const rounds = 20
	for i := range rounds {
		c := baseConsent()
		c.ConsentID = fmt.Sprintf("7d0b7f0e-3c1a-4f4e-9a55-0c8f3b1e%04d", i)
		mustApply(t, s, clk, consent.EventCreated, c, consent.ActionInsert)
		read, err := s.GetConsent(ctx, c.ConsentID)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var decideErr error
		wg.Go(func() {
			version := read.Version
			for {
				_, decideErr = s.Authorize(ctx, c.ConsentID, version, authorized(clk))
				if !errors.Is(decideErr, ErrConflict) {
					return
				}
				rec, err := s.GetConsent(ctx, c.ConsentID)
				if err != nil {
					decideErr = err
					return
				}
				version = rec.Version
			}
		})
		wg.Go(func() {
			for j, st := range []consent.Status{consent.StatusAuthorized, consent.StatusSuspended} {
				n := c
				n.Status, n.UpdatedAt = st, t0.Add(time.Duration(j+1)*time.Minute)
				ev := event(consent.EventStatusUpdated, n)
				if _, err := s.ApplyEvent(ctx, ev, receipt(clk, ev)); err != nil {
					t.Errorf("round %d, %s event: %v", i, st, err)
				}
			}
		})
		wg.Wait()
		if decideErr != nil && !errors.Is(decideErr, consent.ErrNotAwaitingAuthorization) {
			t.Fatalf("round %d: decision: %v", i, decideErr)
		}
		rec, err := s.GetConsent(ctx, c.ConsentID)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Consent.Status != consent.StatusSuspended {
			t.Fatalf("round %d: status %s, want suspended (decision error %v)", i, rec.Consent.Status, decideErr)
		}
		if (decideErr == nil) != (rec.Authorization != nil) {
			t.Fatalf("round %d: decision error %v but authorization %+v", i, decideErr, rec.Authorization)
		}
	}
}

// testApprovedBackfill: migration 00003 gives a consent the customer authorized before it an
// approval: PayNet's consent as stored then, with the accounts of the decision; other consents get
// none.
func testApprovedBackfill(t *testing.T, e engine) {
	ctx := context.Background()
	clk := newClock()
	s := openURL(t, e.new(t), clk)
	p, err := s.provider()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 2); err != nil {
		t.Fatal(err)
	}
	// Rows as the version-2 schema holds them.
	c := baseConsent()
	pending := baseConsent()
	pending.ConsentID = "2b9c6a0e-5f4d-4c3b-8a29-1e0f9d8c7b6a"
	a := authorized(clk)
	a.DecidedAt = a.DecidedAt.UTC()
	for _, row := range []struct {
		c     consent.Consent
		authz any
	}{{c, a}, {pending, nil}} {
		data, err := json.Marshal(row.c)
		if err != nil {
			t.Fatal(err)
		}
		var authz *string
		if row.authz != nil {
			b, err := json.Marshal(row.authz)
			if err != nil {
				t.Fatal(err)
			}
			authz = new(string(b))
		}
		if _, err := s.db.ExecContext(ctx, `INSERT INTO consents (consent_id, dc_id, status, updated_at, data, authz,
			version, created_at, modified_at) VALUES ($1, 'DC1', 'authorized', 0, $2, $3, 2, 0, 0)`,
			row.c.ConsentID, string(data), authz); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	ap := get(t, s).Approved()
	if ap == nil || ap.Purpose != c.Purpose || !slices.Equal(ap.Permissions, c.Permissions) ||
		!ap.ExpirationDatetime.Equal(c.ExpirationDatetime) || !slices.Equal(ap.AccountIDs, []string{"acc-1", "acc-2"}) {
		t.Fatalf("backfilled approval %+v", ap)
	}
	if rec, err := s.GetConsent(ctx, pending.ConsentID); err != nil || rec.Authorization != nil || rec.Approved() != nil {
		t.Fatalf("undecided consent: %+v %v", rec, err)
	}
}
