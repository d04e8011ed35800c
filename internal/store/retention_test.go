package store

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ofpdp/ofpdp/internal/consent"
)

const year = 365 * 24 * time.Hour

// bankRetention is what a bank would configure (config defaults): audit and consent history
// seven years, PATCH attempts one year, finished outbox items 90 days, sessions one day.
var bankRetention = Retention{Audit: 7 * year, ConsentHistory: 7 * year, OutboundCalls: year,
	Outbox: 90 * 24 * time.Hour, Sessions: 24 * time.Hour}

func countRows(t *testing.T, s *Store, table, where string, args ...any) int {
	t.Helper()
	q := "SELECT COUNT(*) FROM " + table
	if where != "" {
		q += " WHERE " + where
	}
	var n int
	if err := s.db.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func consentWithID(id string, status consent.Status, expires time.Time) consent.Consent {
	c := baseConsent()
	c.ConsentID, c.Status, c.ExpirationDatetime = id, status, expires
	return c
}

// Rows older than their retention go, newer ones stay; a consent goes only with all its events,
// and only once it is over; a consent still kept keeps every event.
func testRetention(t *testing.T, e engine) {
	ctx := context.Background()
	clk := newClock()
	s := e.open(t, clk)
	start := clk.Now()

	// At the start: a consent never authorized (over after its 5-minute window), a consent
	// authorized until far in the future (two events), one that changes again later.
	mustApply(t, s, clk, consent.EventCreated, consentWithID("c-never", consent.StatusAwaitingAuthorization, start.AddDate(1, 0, 0)), consent.ActionInsert)
	live := consentWithID("c-live", consent.StatusAwaitingAuthorization, start.AddDate(20, 0, 0))
	mustApply(t, s, clk, consent.EventCreated, live, consent.ActionInsert)
	live.Status, live.UpdatedAt = consent.StatusAuthorized, live.UpdatedAt.Add(time.Minute)
	mustApply(t, s, clk, consent.EventStatusUpdated, live, consent.ActionUpdate)
	mustApply(t, s, clk, consent.EventCreated, consentWithID("c-revoked", consent.StatusAwaitingAuthorization, start.AddDate(1, 0, 0)), consent.ActionInsert)
	if err := s.Audit(ctx, AuditEntry{At: start, Actor: "dp", Action: "old"}); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordOutboundCall(ctx, OutboundCall{ConsentID: "c-never", Method: "PATCH", StartedAt: start}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"o-old", "o-pending"} {
		if err := s.EnqueueUpdate(ctx, OutboxItem{ConsentID: id, Status: consent.StatusFailed, Reason: "patch_failed"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CompleteUpdate(ctx, "o-old", "delivered", start); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSession(ctx, Session{IDHash: "s-old", AbsoluteExpiry: start.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}

	// Six years on, c-revoked is rejected: its seven years start again.
	clk.Add(6 * year)
	revoked := consentWithID("c-revoked", consent.StatusRejected, start.AddDate(1, 0, 0))
	revoked.UpdatedAt = clk.Now()
	mustApply(t, s, clk, consent.EventStatusUpdated, revoked, consent.ActionUpdate)

	// Seven years and a day after the start: new rows of every kind.
	clk.Add(year + 24*time.Hour)
	now := clk.Now()
	mustApply(t, s, clk, consent.EventCreated, consentWithID("c-new", consent.StatusAwaitingAuthorization, now.AddDate(1, 0, 0)), consent.ActionInsert)
	if err := s.Audit(ctx, AuditEntry{At: now, Actor: "dp", Action: "new"}); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordOutboundCall(ctx, OutboundCall{ConsentID: "c-new", Method: "PATCH", StartedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := s.EnqueueUpdate(ctx, OutboxItem{ConsentID: "o-new", Status: consent.StatusRejected, Reason: "customer_rejected"}); err != nil {
		t.Fatal(err)
	}
	if err := s.CompleteUpdate(ctx, "o-new", "delivered", now); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSession(ctx, Session{IDHash: "s-new", AbsoluteExpiry: now.Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}

	got, err := s.Purge(ctx, bankRetention)
	if err != nil {
		t.Fatal(err)
	}
	want := Purged{TableAudit: 1, TableOutboundCalls: 1, TableOutbox: 1, TableSessions: 1, TableConsents: 1, TableConsentEvents: 1}
	for table, n := range want {
		if got[table] != n {
			t.Errorf("purged %d rows of %s, want %d (all: %v)", got[table], table, n, got)
		}
	}
	if got.Total() != want.Total() {
		t.Errorf("purged %v, want %v", got, want)
	}
	for _, c := range []struct {
		table, where string
		want         int
	}{
		{TableAudit, "action = 'new'", 1}, {TableAudit, "", 1},
		{TableOutboundCalls, "consent_id = 'c-new'", 1}, {TableOutboundCalls, "", 1},
		{TableOutbox, "consent_id IN ('o-new', 'o-pending')", 2}, {TableOutbox, "", 2},
		{TableSessions, "id_hash = 's-new'", 1}, {TableSessions, "", 1},
		{TableConsents, "consent_id = 'c-never'", 0},
		{TableConsentEvents, "consent_id = 'c-never'", 0},
		{TableConsentEvents, "consent_id = 'c-live'", 2},
		{TableConsentEvents, "consent_id = 'c-revoked'", 2},
		{TableConsentEvents, "consent_id = 'c-new'", 1},
	} {
		if n := countRows(t, s, c.table, c.where); n != c.want {
			t.Errorf("%s where %q: %d rows, want %d", c.table, c.where, n, c.want)
		}
	}
	// Every consent still stored has its complete history (the first event is seq 1).
	if n := countRows(t, s, TableConsents, "NOT EXISTS (SELECT 1 FROM consent_events e WHERE e.consent_id = consents.consent_id AND e.seq = 1)"); n != 0 {
		t.Errorf("%d consents lost their first event", n)
	}
	if n := countRows(t, s, TableConsentEvents, "NOT EXISTS (SELECT 1 FROM consents c WHERE c.consent_id = consent_events.consent_id)"); n != 0 {
		t.Errorf("%d events without their consent", n)
	}
	if again, err := s.Purge(ctx, bankRetention); err != nil || again.Total() != 0 {
		t.Errorf("second purge: %v %v", again, err)
	}
}

// A backlog larger than one batch is purged completely, one short DELETE per batch.
func testRetentionBatches(t *testing.T, e engine) {
	ctx := context.Background()
	clk := newClock()
	s := e.open(t, clk)
	old := clk.Now()
	const n = 23
	for i := range n {
		if err := s.Audit(ctx, AuditEntry{At: old, Actor: "dp", Action: fmt.Sprintf("a%d", i)}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ReserveLoginAttempt(ctx, fmt.Sprintf("u:%d", i), AttemptLimit{Max: 5, Window: time.Hour}, old); err != nil {
			t.Fatal(err)
		}
		c := consentWithID(fmt.Sprintf("c-%02d", i), consent.StatusAwaitingAuthorization, old.AddDate(1, 0, 0))
		mustApply(t, s, clk, consent.EventCreated, c, consent.ActionInsert)
	}
	// One consent in the middle of the backlog is still live: the batches must walk past it.
	live := consentWithID("c-10", consent.StatusAuthorized, old.AddDate(30, 0, 0))
	live.UpdatedAt = live.UpdatedAt.Add(time.Minute)
	mustApply(t, s, clk, consent.EventStatusUpdated, live, consent.ActionUpdate)
	clk.Add(8 * year)
	r := bankRetention
	r.BatchSize = 5
	got, err := s.Purge(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	if got[TableAudit] != n || got[TableLoginThrottle] != n || got[TableConsents] != n-1 || got[TableConsentEvents] != n-1 {
		t.Fatalf("purged %v", got)
	}
	if c := countRows(t, s, TableConsents, ""); c != 1 {
		t.Fatalf("%d consents left, want c-10", c)
	}
	if _, err := s.Purge(ctx, Retention{BatchSize: MaxPurgeBatch + 1}); err == nil {
		t.Fatal("a batch above MaxPurgeBatch was accepted")
	}
}

// One holder at a time: a lease is claimed, renewed by its holder, refused to others until it
// runs out or is released.
func testLease(t *testing.T, e engine) {
	ctx := context.Background()
	clk := newClock()
	s := e.open(t, clk)
	steps := []struct {
		name    string
		do      func() (bool, error)
		want    bool
		advance time.Duration
	}{
		{"a claims", func() (bool, error) { return s.TryLease(ctx, "purge", "a", time.Minute) }, true, 0},
		{"b is refused", func() (bool, error) { return s.TryLease(ctx, "purge", "b", time.Minute) }, false, 30 * time.Second},
		{"a renews", func() (bool, error) { return s.TryLease(ctx, "purge", "a", time.Minute) }, true, 59 * time.Second},
		{"b still refused", func() (bool, error) { return s.TryLease(ctx, "purge", "b", time.Minute) }, false, time.Second},
		{"b takes it over once run out", func() (bool, error) { return s.TryLease(ctx, "purge", "b", time.Minute) }, true, 0},
		{"another name is free", func() (bool, error) { return s.TryLease(ctx, "other", "a", time.Minute) }, true, 0},
		{"a refused", func() (bool, error) { return s.TryLease(ctx, "purge", "a", time.Minute) }, false, 0},
		{"a's release of b's lease changes nothing", func() (bool, error) {
			return false, s.ReleaseLease(ctx, "purge", "a")
		}, false, 0},
		{"a still refused", func() (bool, error) { return s.TryLease(ctx, "purge", "a", time.Minute) }, false, 0},
		{"b releases", func() (bool, error) { return false, s.ReleaseLease(ctx, "purge", "b") }, false, 0},
		{"a claims at once", func() (bool, error) { return s.TryLease(ctx, "purge", "a", time.Minute) }, true, 0},
	}
	for _, st := range steps {
		got, err := st.do()
		if err != nil || got != st.want {
			t.Fatalf("%s: %v %v, want %v", st.name, got, err, st.want)
		}
		clk.Add(st.advance)
	}
	for _, bad := range [][2]string{{"", "a"}, {"purge", ""}} {
		if _, err := s.TryLease(ctx, bad[0], bad[1], time.Minute); err == nil {
			t.Errorf("TryLease(%q, %q) accepted", bad[0], bad[1])
		}
	}
	if _, err := s.TryLease(ctx, "purge", "a", 0); err == nil {
		t.Error("zero ttl accepted")
	}
}

// Two replicas (two Stores on one database) race for the lease many times: each round exactly
// one wins.
func testLeaseConcurrent(t *testing.T, e engine) {
	ctx := context.Background()
	clk := newClock()
	u := e.new(t)
	a := openURL(t, u, clk)
	if err := a.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	b := openURL(t, u, clk)
	for round := range 20 {
		var wg sync.WaitGroup
		var mu sync.Mutex
		winners := 0
		for i, s := range []*Store{a, b, a, b} {
			wg.Go(func() {
				ok, err := s.TryLease(ctx, "purge", fmt.Sprintf("replica-%d", i), time.Minute)
				if err != nil {
					t.Error(err)
					return
				}
				if ok {
					mu.Lock()
					winners++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if winners != 1 {
			t.Fatalf("round %d: %d holders", round, winners)
		}
		clk.Add(time.Minute) // the lease runs out before the next round
	}
}
