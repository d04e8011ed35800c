package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ofpdp/ofpdp/internal/consent"
)

// authorizedConsent stores baseConsent authorized by the customer and confirmed by PayNet.
func authorizedConsent(t *testing.T, s *Store, clk *clock, id string) {
	t.Helper()
	ctx := context.Background()
	c := baseConsent()
	c.ConsentID = id
	ev := event(consent.EventCreated, c)
	if _, err := s.ApplyEvent(ctx, ev, receipt(clk, ev)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authorize(ctx, id, 1, authorized(clk)); err != nil {
		t.Fatal(err)
	}
}

// testRevokeConsent: a local revocation sets the status data access reads, appends a local entry
// to the history, queues one revocation for PayNet, is idempotent, and refuses what cannot be
// revoked; a later PayNet event cannot bring the consent back.
func testRevokeConsent(t *testing.T, e engine) {
	ctx := context.Background()
	clk := newClock()
	s := e.open(t, clk)
	authorizedConsent(t, s, clk, consentID)
	ch := LocalChange{Actor: "customer", Channel: ChannelWeb, ReasonCode: "customer_revoked"}

	for _, bad := range []LocalChange{
		{Channel: ChannelWeb, ReasonCode: "x"},
		{Actor: "customer", Channel: "fax", ReasonCode: "x"},
		{Actor: "customer", Channel: ChannelWeb, ReasonCode: "two words"},
	} {
		if _, err := s.RevokeConsent(ctx, consentID, bad); !errors.Is(err, ErrInvalidArgument) {
			t.Fatalf("RevokeConsent(%+v) = %v, want ErrInvalidArgument", bad, err)
		}
	}
	if _, err := s.RevokeConsent(ctx, "nope", ch); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown consent: %v", err)
	}
	before := get(t, s)
	rec, err := s.RevokeConsent(ctx, consentID, ch)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Consent.Status != consent.StatusRevoked || rec.Version != before.Version+1 {
		t.Fatalf("revoked record: %s v%d", rec.Consent.Status, rec.Version)
	}
	stored := get(t, s)
	if g := consent.Effective(stored.Consent, *stored.Approved()); g.EffectiveStatus(clk.Now()) != consent.StatusRevoked {
		t.Fatalf("effective status after revocation: %s", g.EffectiveStatus(clk.Now()))
	}
	// Idempotent: no second entry, no second item.
	if _, err := s.RevokeConsent(ctx, consentID, ch); err != nil {
		t.Fatal(err)
	}
	evs, err := s.ConsentEvents(ctx, consentID)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || evs[1].Type != EventLocalRevoked || evs[1].Action != ActionLocal {
		t.Fatalf("history %+v", evs)
	}
	to, from, got, err := LocalChangeOf(evs[1])
	if err != nil || to != consent.StatusRevoked || from != consent.StatusAuthorized || got.Actor != "customer" ||
		got.Channel != ChannelWeb || got.ReasonCode != "customer_revoked" || !got.At.Equal(clk.Now()) {
		t.Fatalf("local change %s←%s %+v %v", to, from, got, err)
	}
	if _, _, _, err := LocalChangeOf(evs[0]); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("LocalChangeOf(PayNet event) = %v", err)
	}
	items, err := s.ClaimDueUpdates(ctx, clk.Now(), time.Minute, 10)
	if err != nil || len(items) != 1 || items[0].Status != consent.StatusRevoked || items[0].Reason != "customer_revoked" {
		t.Fatalf("outbox %+v %v", items, err)
	}
	// PayNet may not bring it back (terminal, spec §5.2) and its own revoked event is taken.
	c := baseConsent()
	c.Status, c.UpdatedAt = consent.StatusAuthorized, t0.Add(time.Hour)
	if _, err := apply(t, s, clk, consent.EventStatusUpdated, c); !errors.Is(err, consent.ErrIllegalTransition) {
		t.Fatalf("authorized after a local revocation: %v", err)
	}
	c.Status = consent.StatusRevoked
	mustApply(t, s, clk, consent.EventStatusUpdated, c, consent.ActionUpdate)

	// Not revocable: awaiting authorization.
	other := baseConsent()
	other.ConsentID = "c-awaiting"
	ev := event(consent.EventCreated, other)
	if _, err := s.ApplyEvent(ctx, ev, receipt(clk, ev)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RevokeConsent(ctx, "c-awaiting", ch); !errors.Is(err, ErrNotRevocable) || !errors.Is(err, consent.ErrIllegalTransition) {
		t.Fatalf("revoking an awaiting consent: %v", err)
	}
}

// testRevokeConcurrent: two replicas revoking the same consents at once, then two replicas
// claiming the outbox, hand out exactly one revocation per consent.
func testRevokeConcurrent(t *testing.T, e engine) {
	ctx := context.Background()
	clk := newClock()
	u := e.new(t)
	a, b := openURL(t, u, clk), openURL(t, u, clk)
	if err := a.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	const n = 10
	for i := range n {
		authorizedConsent(t, a, clk, fmt.Sprintf("r-%02d", i))
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range n {
		for _, st := range []*Store{a, b} {
			wg.Go(func() {
				if _, err := st.RevokeConsent(ctx, fmt.Sprintf("r-%02d", i),
					LocalChange{Actor: "op", Channel: ChannelAdmin, ReasonCode: "fraud"}); err != nil {
					errs <- err
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	seen := map[string]int{}
	var mu sync.Mutex
	for _, st := range []*Store{a, b, a, b} {
		wg.Go(func() {
			for {
				got, err := st.ClaimDueUpdates(ctx, clk.Now(), time.Minute, 2)
				if err != nil || len(got) == 0 {
					return
				}
				mu.Lock()
				for _, it := range got {
					seen[it.ConsentID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != n {
		t.Fatalf("%d revocations claimed, want %d", len(seen), n)
	}
	for id, k := range seen {
		evs, _ := a.ConsentEvents(ctx, id)
		if k != 1 || len(evs) != 2 {
			t.Fatalf("%s claimed %d times, %d history entries", id, k, len(evs))
		}
	}
}

// testExpireDue: consents past their effective expiry (the earlier of PayNet's and the approved
// one) become expired locally with a history entry; others are left alone.
func testExpireDue(t *testing.T, e engine) {
	ctx := context.Background()
	clk := newClock()
	s := e.open(t, clk)
	authorizedConsent(t, s, clk, "x-late")
	authorizedConsent(t, s, clk, "x-early")
	// PayNet narrows x-early's expiry to a day from t0.
	c := baseConsent()
	c.ConsentID, c.Status, c.UpdatedAt = "x-early", consent.StatusAuthorized, t0.Add(time.Minute)
	c.ExpirationDatetime = t0.Add(24 * time.Hour)
	ev := event(consent.EventUpdated, c)
	if _, err := s.ApplyEvent(ctx, ev, receipt(clk, ev)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ExpireDue(ctx, clk.Now(), "job", 0); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("limit 0: %v", err)
	}
	got, err := s.ExpireDue(ctx, t0.Add(23*time.Hour), "expiry-job", 10)
	if err != nil || len(got) != 0 {
		t.Fatalf("before expiry: %v %v", got, err)
	}
	got, err = s.ExpireDue(ctx, t0.Add(24*time.Hour), "expiry-job", 10)
	if err != nil || len(got) != 1 || got[0] != "x-early" {
		t.Fatalf("at expiry: %v %v", got, err)
	}
	rec, err := s.GetConsent(ctx, "x-early")
	if err != nil || rec.Consent.Status != consent.StatusExpired {
		t.Fatalf("x-early: %v %v", rec, err)
	}
	evs, _ := s.ConsentEvents(ctx, "x-early")
	last := evs[len(evs)-1]
	to, from, ch, err := LocalChangeOf(last)
	if err != nil || last.Type != EventLocalExpired || to != consent.StatusExpired || from != consent.StatusAuthorized ||
		ch.Actor != "expiry-job" || ch.Channel != ChannelSystem {
		t.Fatalf("history entry %+v: %s %s %+v %v", last, to, from, ch, err)
	}
	// Already expired: nothing more. A year later x-late goes too.
	got, err = s.ExpireDue(ctx, t0.AddDate(1, 0, 0), "expiry-job", 10)
	if err != nil || len(got) != 1 || got[0] != "x-late" {
		t.Fatalf("a year on: %v %v", got, err)
	}
	if _, err := s.RevokeConsent(ctx, "x-late", LocalChange{Actor: "a", Channel: ChannelAdmin, ReasonCode: "r"}); !errors.Is(err, ErrNotRevocable) {
		t.Fatalf("revoking an expired consent: %v", err)
	}
}

// testSearchConsents: filters, keyset paging and consents authorized before customer_ref had its
// column (found through authz).
func testSearchConsents(t *testing.T, e engine) {
	ctx := context.Background()
	clk := newClock()
	s := e.open(t, clk)
	for _, id := range []string{"s-1", "s-2", "s-3"} {
		authorizedConsent(t, s, clk, id)
		clk.Add(time.Minute)
	}
	// s-1 as if decided before migration 00010.
	if _, err := s.db.ExecContext(ctx, `UPDATE consents SET customer_ref = '' WHERE consent_id = 's-1'`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RevokeConsent(ctx, "s-2", LocalChange{Actor: "customer", Channel: ChannelWeb, ReasonCode: "customer_revoked"}); err != nil {
		t.Fatal(err)
	}
	ids := func(p ConsentPage) []string {
		var out []string
		for _, c := range p.Consents {
			out = append(out, c.Consent.ConsentID)
		}
		return out
	}
	p, err := s.SearchConsents(ctx, ConsentQuery{CustomerRef: "cust-1"})
	if err != nil || fmt.Sprint(ids(p)) != "[s-3 s-2 s-1]" || p.Next != "" {
		t.Fatalf("by customer: %v %q %v", ids(p), p.Next, err)
	}
	if p, err := s.SearchConsents(ctx, ConsentQuery{CustomerRef: "cust-%"}); err != nil || len(p.Consents) != 0 {
		t.Fatalf("a wildcard matched: %v %v", ids(p), err)
	}
	p, err = s.SearchConsents(ctx, ConsentQuery{Statuses: []consent.Status{consent.StatusRevoked}})
	if err != nil || fmt.Sprint(ids(p)) != "[s-2]" {
		t.Fatalf("revoked: %v %v", ids(p), err)
	}
	var all []string
	q := ConsentQuery{DCID: "DC1", Limit: 2}
	for {
		p, err := s.SearchConsents(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, ids(p)...)
		if p.Next == "" {
			break
		}
		q.Cursor = p.Next
	}
	if fmt.Sprint(all) != "[s-3 s-2 s-1]" {
		t.Fatalf("paged: %v", all)
	}
	first, _ := s.SearchConsents(ctx, ConsentQuery{})
	s2 := first.Consents[1].StoredAt
	p, err = s.SearchConsents(ctx, ConsentQuery{CreatedFrom: s2, CreatedTo: s2.Add(time.Minute)})
	if err != nil || fmt.Sprint(ids(p)) != "[s-2]" {
		t.Fatalf("created range: %v %v", ids(p), err)
	}
	p, err = s.SearchConsents(ctx, ConsentQuery{UpdatedFrom: clk.Now()})
	if err != nil || fmt.Sprint(ids(p)) != "[s-2]" {
		t.Fatalf("updated since the revocation: %v %v", ids(p), err)
	}
	for _, bad := range []ConsentQuery{{Cursor: "!!"}, {Limit: MaxSearchLimit + 1}, {Statuses: []consent.Status{"gone"}}} {
		if _, err := s.SearchConsents(ctx, bad); !errors.Is(err, ErrInvalidArgument) {
			t.Fatalf("%+v: %v", bad, err)
		}
	}
}
