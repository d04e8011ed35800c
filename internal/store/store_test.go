package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/ofpdp/ofpdp/internal/storetest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ofpdp/ofpdp/internal/consent"
)

// clock is the injected clock of every test store.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2025, 3, 5, 8, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// engine opens fresh, empty (unmigrated) databases of one engine. url gives the URL of the database
// of the current test so that a second Store (a second replica) can open it too.
type engine struct {
	name string
	new  func(t testing.TB) (url string)
}

func sqliteEngine() engine {
	return engine{name: EngineSQLite, new: func(t testing.TB) string {
		return filepath.Join(t.TempDir(), "ofpdp.db")
	}}
}

// postgresURL is OFPDP_TEST_POSTGRES_URL; without it the PostgreSQL suite is skipped, except in CI.
func postgresURL(t testing.TB) string { return storetest.PostgresBaseURL(t) }

// postgresEngine gives each test its own schema (search_path in the URL), dropped on cleanup.
func postgresEngine(base string) engine {
	return engine{name: EnginePostgres, new: func(t testing.TB) string {
		return storetest.SchemaURL(t, base)
	}}
}

func openURL(t testing.TB, u string, clk *clock) *Store {
	t.Helper()
	s, err := Open(context.Background(), u, Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// open returns a fresh migrated store of engine e.
func (e engine) open(t testing.TB, clk *clock) *Store {
	t.Helper()
	s := openURL(t, e.new(t), clk)
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSQLite(t *testing.T) { runSuite(t, sqliteEngine()) }

func TestPostgres(t *testing.T) { runSuite(t, postgresEngine(postgresURL(t))) }

// runSuite is the one store suite both engines must pass (design §5).
func runSuite(t *testing.T, e engine) {
	tests := []struct {
		name string
		f    func(t *testing.T, e engine)
	}{
		{"Migrations", testMigrations},
		{"ApplyEventOrdering", testApplyEventOrdering},
		{"ApplyEventRefusedStoresNothing", testApplyEventRefused},
		{"ApplyEventConcurrentInsert", testApplyEventConcurrentInsert},
		{"HistoryAppendOnly", testHistoryAppendOnly},
		{"Authorize", testAuthorize},
		{"AuthorizeConcurrent", testAuthorizeConcurrent},
		{"AuthorizeAfterPayNetStatus", testAuthorizeAfterPayNetStatus},
		{"AuthorizeRacesPayNet", testAuthorizeRacesPayNet},
		{"ApprovedSnapshot", testApprovedSnapshot},
		{"ApprovedBackfill", testApprovedBackfill},
		{"AccountRef", testAccountRef},
		{"ConsentAccount", testConsentAccount},
		{"UseOnce", testUseOnce},
		{"UseOnceConcurrent", testUseOnceConcurrent},
		{"Sessions", testSessions},
		{"Lockout", testLockout},
		{"LockoutConcurrent", testLockoutConcurrent},
		{"Purge", testPurge},
		{"Retention", testRetention},
		{"RetentionBatches", testRetentionBatches},
		{"Lease", testLease},
		{"LeaseConcurrent", testLeaseConcurrent},
		{"OutboundCallsAndAudit", testOutboundAndAudit},
		{"Outbox", testOutbox},
		{"OutboxConcurrentClaim", testOutboxConcurrentClaim},
		{"OutboxListAndRequeue", testOutboxListAndRequeue},
		{"RevokeConsent", testRevokeConsent},
		{"RevokeConcurrent", testRevokeConcurrent},
		{"ExpireDue", testExpireDue},
		{"SearchConsents", testSearchConsents},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.f(t, e) })
	}
}

func testMigrations(t *testing.T, e engine) {
	ctx := context.Background()
	clk := newClock()
	u := e.new(t)
	s := openURL(t, u, clk)
	if s.Engine() != e.name {
		t.Fatalf("Engine() = %s", s.Engine())
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	cur, latest, err := s.MigrationStatus(ctx)
	if err != nil || cur != 0 || latest < 1 {
		t.Fatalf("before Migrate: %d %d %v", cur, latest, err)
	}
	if _, err := s.GetConsent(ctx, "x"); err == nil {
		t.Fatal("Open must not migrate")
	}
	if e.name == EnginePostgres {
		// Replicas starting at once: the advisory lock lets one migrate, the others wait and find nothing to do.
		other := openURL(t, u, clk)
		var wg sync.WaitGroup
		errs := make([]error, 3)
		for i, st := range []*Store{s, other, s} {
			wg.Go(func() { errs[i] = st.Migrate(ctx) })
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatalf("concurrent Migrate: %v", err)
			}
		}
	} else if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	cur, latest2, err := s.MigrationStatus(ctx)
	if err != nil || cur != latest || latest2 != latest {
		t.Fatalf("after Migrate: %d %d %v", cur, latest2, err)
	}
	if _, err := s.GetConsent(ctx, "x"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("GetConsent on migrated store: %v", err)
	}
}

// ---- consent fixtures ----

const consentID = "18ce19c8-85be-4049-899c-21cdc02cde79"

var t0 = time.Date(2025, 3, 5, 8, 0, 0, 0, time.UTC)

func baseConsent() consent.Consent {
	return consent.Consent{
		ConsentID: consentID, DCID: "DC1", DPID: "DP1",
		IDType: consent.IDTypeNRIC, HashedIDNumber: consent.HashIDNumber("900101145678"),
		ConsentType: consent.TypeAccountAccessURN, Purpose: consent.PurposePFM,
		Permissions:        []consent.Permission{consent.PermReadAccounts, consent.PermReadBalances},
		ExpirationDatetime: t0.AddDate(1, 0, 0).In(time.FixedZone("MYT", 8*3600)),
		Status:             consent.StatusAwaitingAuthorization,
		CreatedAt:          t0, UpdatedAt: t0, UpdatedBy: "ofp",
	}
}

func event(typ consent.EventType, c consent.Consent) consent.Event {
	raw, err := json.Marshal(map[string]any{"event_type": typ, "data": c})
	if err != nil {
		panic(err)
	}
	return consent.Event{Type: typ, Consent: c, Raw: raw}
}

var jtiN atomic.Int64

func receipt(clk *clock, ev consent.Event) EventReceipt {
	n := jtiN.Add(1)
	return EventReceipt{
		Type: ev.Type, Raw: ev.Raw, InteractionID: fmt.Sprintf("ia-%d", n),
		SigAlg: "PS256", SigKid: "paynet-1", SigJti: fmt.Sprintf("jti-%d", n),
		SigIat: clk.Now().Add(-time.Second), ReceivedAt: clk.Now(),
	}
}

func apply(t *testing.T, s *Store, clk *clock, typ consent.EventType, c consent.Consent) (consent.Decision, error) {
	t.Helper()
	ev := event(typ, c)
	return s.ApplyEvent(context.Background(), ev, receipt(clk, ev))
}

func mustApply(t *testing.T, s *Store, clk *clock, typ consent.EventType, c consent.Consent, want consent.Action) {
	t.Helper()
	d, err := apply(t, s, clk, typ, c)
	if err != nil {
		t.Fatalf("ApplyEvent: %v", err)
	}
	if d.Action != want {
		t.Fatalf("action %s, want %s", d.Action, want)
	}
}

func get(t *testing.T, s *Store) *ConsentRecord {
	t.Helper()
	rec, err := s.GetConsent(context.Background(), consentID)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func authorized(clk *clock) Authorization {
	return Authorization{
		Status: consent.StatusAuthorized, CustomerRef: "cust-1", DecidedAt: clk.Now(),
		Accounts: []AuthorizedAccount{
			{AccountID: "acc-1", AccountRef: "BANK-0001", AccountNumber: "1234567890", AccountName: "Savings"},
			{AccountID: "acc-2", AccountRef: "BANK-0002", AccountNumber: "123456******7890", AccountName: "Card"},
		},
		Approved: new(consent.Approve(baseConsent(), []string{"acc-1", "acc-2"})),
	}
}

func testApplyEventOrdering(t *testing.T, e engine) {
	ctx := context.Background()
	clk := newClock()
	s := e.open(t, clk)

	c := baseConsent()
	mustApply(t, s, clk, consent.EventCreated, c, consent.ActionInsert)
	rec := get(t, s)
	if rec.Version != 1 || rec.Authorization != nil || rec.Consent.Status != consent.StatusAwaitingAuthorization {
		t.Fatalf("after insert: %+v", rec)
	}
	if !rec.Consent.ExpirationDatetime.Equal(c.ExpirationDatetime) || rec.Consent.HashedIDNumber != c.HashedIDNumber ||
		len(rec.Consent.Permissions) != 2 {
		t.Fatalf("consent not stored as sent: %+v", rec.Consent)
	}

	// Redelivery (fresh signature): acknowledged, no side effect.
	mustApply(t, s, clk, consent.EventCreated, c, consent.ActionDuplicate)
	if v := get(t, s).Version; v != 1 {
		t.Fatalf("duplicate moved the version to %d", v)
	}

	// The customer approves; then PayNet redelivers the creation event once more.
	v, err := s.Authorize(ctx, consentID, 1, authorized(clk))
	if err != nil || v != 2 {
		t.Fatalf("Authorize: %d %v", v, err)
	}
	mustApply(t, s, clk, consent.EventCreated, c, consent.ActionDuplicate)
	if rec := get(t, s); rec.Consent.Status != consent.StatusAuthorized || rec.Version != 2 {
		t.Fatalf("redelivery undid the decision: %+v", rec)
	}

	// PayNet confirms with the accounts as the DP sent them.
	clk.Add(time.Minute)
	c1 := c
	c1.Status, c1.UpdatedAt, c1.UpdatedBy = consent.StatusAuthorized, t0.Add(time.Minute), "data_provider_user"
	c1.Accounts = []consent.Account{{AccountID: "acc-1", AccountNumber: "1234567890", AccountName: "Savings"}}
	mustApply(t, s, clk, consent.EventStatusUpdated, c1, consent.ActionUpdate)
	rec = get(t, s)
	if rec.Version != 3 || rec.Authorization == nil || len(rec.Consent.Accounts) != 1 || !rec.Consent.UpdatedAt.Equal(c1.UpdatedAt) {
		t.Fatalf("after update: %+v", rec)
	}

	// An older event is acknowledged and ignored.
	stale := c
	stale.Status = consent.StatusFailed
	mustApply(t, s, clk, consent.EventStatusUpdated, stale, consent.ActionIgnoreStale)
	if rec := get(t, s); rec.Version != 3 || rec.Consent.Status != consent.StatusAuthorized {
		t.Fatalf("stale event changed the consent: %+v", rec)
	}

	// Revocation, then an attempt to bring it back (C3).
	c2 := c1
	c2.Status, c2.UpdatedAt = consent.StatusRevoked, t0.Add(2*time.Minute)
	c2.StatusReason = &consent.StatusReason{ReasonCode: "duplicate"}
	mustApply(t, s, clk, consent.EventStatusUpdated, c2, consent.ActionUpdate)
	c3 := c2
	c3.Status, c3.UpdatedAt, c3.StatusReason = consent.StatusAuthorized, t0.Add(3*time.Minute), nil
	if _, err := apply(t, s, clk, consent.EventStatusUpdated, c3); !errors.Is(err, consent.ErrIllegalTransition) {
		t.Fatalf("revoked → authorized: %v", err)
	}
	rec = get(t, s)
	if rec.Consent.Status != consent.StatusRevoked || rec.Version != 4 || rec.Consent.StatusReason == nil {
		t.Fatalf("after revoke: %+v", rec)
	}

	evs, err := s.ConsentEvents(ctx, consentID)
	if err != nil {
		t.Fatal(err)
	}
	want := []consent.Action{consent.ActionInsert, consent.ActionDuplicate, consent.ActionDuplicate,
		consent.ActionUpdate, consent.ActionIgnoreStale, consent.ActionUpdate}
	if len(evs) != len(want) {
		t.Fatalf("%d events, want %d", len(evs), len(want))
	}
	for i, ev := range evs {
		if ev.Seq != int64(i+1) || ev.Action != want[i] {
			t.Errorf("event %d: seq %d action %s, want %s", i, ev.Seq, ev.Action, want[i])
		}
		if ev.SigAlg != "PS256" || ev.SigKid != "paynet-1" || !strings.HasPrefix(ev.SigJti, "jti-") ||
			!strings.HasPrefix(ev.InteractionID, "ia-") || ev.ReceivedAt.IsZero() || ev.SigIat.IsZero() {
			t.Errorf("event %d: receipt not kept: %+v", i, ev)
		}
		var body struct {
			EventType consent.EventType `json:"event_type"`
		}
		if err := json.Unmarshal(ev.Raw, &body); err != nil || body.EventType != ev.Type {
			t.Errorf("event %d: raw body %s / type %s", i, ev.Raw, ev.Type)
		}
	}
	if !evs[0].ReceivedAt.Equal(t0) || !evs[0].SigIat.Equal(t0.Add(-time.Second)) {
		t.Errorf("instants not kept: %v %v", evs[0].ReceivedAt, evs[0].SigIat)
	}
}

func testApplyEventRefused(t *testing.T, e engine) {
	ctx := context.Background()
	clk := newClock()
	s := e.open(t, clk)

	// C1: an update for an unknown consent stores nothing.
	if _, err := apply(t, s, clk, consent.EventUpdated, baseConsent()); !errors.Is(err, consent.ErrUnknownConsent) {
		t.Fatalf("unknown consent: %v", err)
	}
	if _, err := s.GetConsent(ctx, consentID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("GetConsent: %v", err)
	}
	if _, err := s.ConsentEvents(ctx, consentID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("ConsentEvents: %v", err)
	}

	// C2: another dc_id for a known consent.
	mustApply(t, s, clk, consent.EventCreated, baseConsent(), consent.ActionInsert)
	other := baseConsent()
	other.DCID, other.UpdatedAt = "DC2", t0.Add(time.Minute)
	if _, err := apply(t, s, clk, consent.EventUpdated, other); !errors.Is(err, consent.ErrImmutableField) {
		t.Fatalf("dc_id change: %v", err)
	}
	if evs, _ := s.ConsentEvents(ctx, consentID); len(evs) != 1 {
		t.Fatalf("refused event stored: %d events", len(evs))
	}
	if rec := get(t, s); rec.Consent.DCID != "DC1" || rec.Version != 1 {
		t.Fatalf("refused event changed the consent: %+v", rec)
	}

	// A receipt that contradicts the event is a caller bug.
	ev0 := event(consent.EventCreated, baseConsent())
	r0 := receipt(clk, ev0)
	r0.Type = consent.EventUpdated
	if _, err := s.ApplyEvent(ctx, ev0, r0); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("receipt type mismatch: %v", err)
	}

	// Bytes PostgreSQL TEXT cannot hold are refused before anything is written.
	ev := event(consent.EventCreated, baseConsent())
	r := receipt(clk, ev)
	r.Raw = []byte("{\x00}")
	if _, err := s.ApplyEvent(ctx, ev, r); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("NUL in raw: %v", err)
	}
}

func testApplyEventConcurrentInsert(t *testing.T, e engine) {
	clk := newClock()
	s := e.open(t, clk)
	const n = 8
	var wg sync.WaitGroup
	actions := make([]consent.Action, n)
	errs := make([]error, n)
	ev := event(consent.EventCreated, baseConsent())
	for i := range n {
		wg.Go(func() {
			d, err := s.ApplyEvent(context.Background(), ev, receipt(clk, ev))
			actions[i], errs[i] = d.Action, err
		})
	}
	wg.Wait()
	inserts := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("ApplyEvent: %v", errs[i])
		}
		if actions[i] == consent.ActionInsert {
			inserts++
		} else if actions[i] != consent.ActionDuplicate {
			t.Fatalf("action %s", actions[i])
		}
	}
	if inserts != 1 {
		t.Fatalf("%d inserts, want 1", inserts)
	}
	evs, err := s.ConsentEvents(context.Background(), consentID)
	if err != nil || len(evs) != n {
		t.Fatalf("%d events, %v", len(evs), err)
	}
	for i, ev := range evs {
		if ev.Seq != int64(i+1) {
			t.Fatalf("seq %d at %d", ev.Seq, i)
		}
	}
}

func testHistoryAppendOnly(t *testing.T, e engine) {
	ctx := context.Background()
	clk := newClock()
	s := e.open(t, clk)
	c := baseConsent()
	mustApply(t, s, clk, consent.EventCreated, c, consent.ActionInsert)
	mustApply(t, s, clk, consent.EventCreated, c, consent.ActionDuplicate)
	before, err := s.ConsentEvents(ctx, consentID)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		clk.Add(time.Second)
		c.UpdatedAt = t0.Add(time.Duration(i) * time.Second)
		c.Permissions = c.Permissions[:1+i%2]
		mustApply(t, s, clk, consent.EventUpdated, c, consent.ActionUpdate)
	}
	after, err := s.ConsentEvents(ctx, consentID)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before)+3 {
		t.Fatalf("%d events, want %d", len(after), len(before)+3)
	}
	for i := range before {
		b, a := before[i], after[i]
		if a.Seq != b.Seq || a.Action != b.Action || string(a.Raw) != string(b.Raw) || a.SigJti != b.SigJti ||
			!a.ReceivedAt.Equal(b.ReceivedAt) {
			t.Fatalf("history entry %d changed: %+v → %+v", i, b, a)
		}
	}
}

func testAuthorize(t *testing.T, e engine) {
	ctx := context.Background()
	clk := newClock()
	s := e.open(t, clk)
	if _, err := s.Authorize(ctx, consentID, 1, authorized(clk)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown consent: %v", err)
	}
	mustApply(t, s, clk, consent.EventCreated, baseConsent(), consent.ActionInsert)

	bad := []Authorization{
		{Status: consent.StatusRevoked},
		{Status: consent.StatusAwaitingAuthorization},
		{Status: consent.StatusAuthorized}, // no accounts
		{Status: consent.StatusAuthorized, Accounts: []AuthorizedAccount{{AccountID: "a"}}},
		{Status: consent.StatusAuthorized, Accounts: []AuthorizedAccount{{AccountID: "a", AccountRef: "r"}, {AccountID: "a", AccountRef: "s"}}},
	}
	for _, a := range bad {
		if _, err := s.Authorize(ctx, consentID, 1, a); !errors.Is(err, ErrInvalidArgument) {
			t.Fatalf("%+v: %v", a, err)
		}
	}
	if _, err := s.Authorize(ctx, consentID, 7, authorized(clk)); !errors.Is(err, ErrConflict) {
		t.Fatalf("stale version: %v", err)
	}
	rej := Authorization{Status: consent.StatusRejected, Reason: "customer_rejected", CustomerRef: "cust-1"}
	v, err := s.Authorize(ctx, consentID, 1, rej)
	if err != nil || v != 2 {
		t.Fatalf("reject: %d %v", v, err)
	}
	rec := get(t, s)
	if rec.Consent.Status != consent.StatusRejected || rec.Authorization == nil || rec.Authorization.Reason != "customer_rejected" ||
		!rec.Authorization.DecidedAt.Equal(clk.Now()) || rec.Version != 2 {
		t.Fatalf("after reject: %+v %+v", rec, rec.Authorization)
	}
	// Rejected is terminal, and a consent is decided once (U7).
	if _, err := s.Authorize(ctx, consentID, 2, authorized(clk)); !errors.Is(err, consent.ErrIllegalTransition) {
		t.Fatalf("rejected → authorized: %v", err)
	}
	if _, err := s.Authorize(ctx, consentID, 2, rej); !errors.Is(err, consent.ErrIllegalTransition) {
		t.Fatalf("second decision: %v", err)
	}

	// A consent PayNet already revoked cannot be authorized.
	s2 := e.open(t, clk)
	c := baseConsent()
	mustApply(t, s2, clk, consent.EventCreated, c, consent.ActionInsert)
	c.Status, c.UpdatedAt = consent.StatusFailed, t0.Add(time.Minute)
	c.StatusReason = &consent.StatusReason{ReasonCode: "timeout"}
	mustApply(t, s2, clk, consent.EventStatusUpdated, c, consent.ActionUpdate)
	if _, err := s2.Authorize(ctx, consentID, 2, authorized(clk)); !errors.Is(err, consent.ErrIllegalTransition) {
		t.Fatalf("failed → authorized: %v", err)
	}
	if rec, _ := s2.GetConsent(ctx, consentID); rec.Authorization != nil || rec.Version != 2 {
		t.Fatalf("refused Authorize wrote: %+v", rec)
	}
}

func testAuthorizeConcurrent(t *testing.T, e engine) {
	clk := newClock()
	s := e.open(t, clk)
	mustApply(t, s, clk, consent.EventCreated, baseConsent(), consent.ActionInsert)
	const n = 16
	var wg sync.WaitGroup
	var wins, conflicts atomic.Int64
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			_, err := s.Authorize(context.Background(), consentID, 1, authorized(clk))
			switch {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, ErrConflict):
				conflicts.Add(1)
			default:
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("unexpected: %v", err)
	}
	if wins.Load() != 1 || conflicts.Load() != n-1 {
		t.Fatalf("%d wins, %d conflicts", wins.Load(), conflicts.Load())
	}
	if v := get(t, s).Version; v != 2 {
		t.Fatalf("version %d", v)
	}
}

func testAccountRef(t *testing.T, e engine) {
	ctx := context.Background()
	clk := newClock()
	s := e.open(t, clk)
	if _, err := s.AccountRef(ctx, consentID, "acc-1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown consent: %v", err)
	}
	c := baseConsent()
	mustApply(t, s, clk, consent.EventCreated, c, consent.ActionInsert)
	if _, err := s.AccountRef(ctx, consentID, "acc-1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("undecided consent: %v", err)
	}
	if _, err := s.Authorize(ctx, consentID, 1, authorized(clk)); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]string{"acc-1": "BANK-0001", "acc-2": "BANK-0002"} {
		if got, err := s.AccountRef(ctx, consentID, id); err != nil || got != want {
			t.Fatalf("%s: %q %v", id, got, err)
		}
	}
	if _, err := s.AccountRef(ctx, consentID, "acc-3"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("account not in consent: %v", err)
	}
	// PayNet's consent lists only acc-1: acc-2 is no longer shared.
	c.Status, c.UpdatedAt = consent.StatusAuthorized, t0.Add(time.Minute)
	c.Accounts = []consent.Account{{AccountID: "acc-1", AccountNumber: "1234567890"}}
	mustApply(t, s, clk, consent.EventStatusUpdated, c, consent.ActionUpdate)
	if got, err := s.AccountRef(ctx, consentID, "acc-1"); err != nil || got != "BANK-0001" {
		t.Fatalf("acc-1: %q %v", got, err)
	}
	if _, err := s.AccountRef(ctx, consentID, "acc-2"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("acc-2 not in PayNet's list: %v", err)
	}
}

// testConsentAccount: ConsentAccount returns the record and, under exactly AccountRef's rules,
// the account's reference ("" where AccountRef says ErrNotFound) from one read.
func testConsentAccount(t *testing.T, e engine) {
	ctx := context.Background()
	clk := newClock()
	s := e.open(t, clk)
	if rec, ref, err := s.ConsentAccount(ctx, consentID, "acc-1"); !errors.Is(err, ErrNotFound) || rec != nil || ref != "" {
		t.Fatalf("unknown consent: %v %q %v", rec, ref, err)
	}
	const rejectedID = "5d0b7f0e-3c1a-4f4e-9a55-0c8f3b1e2d77"
	rejected := baseConsent()
	rejected.ConsentID = rejectedID
	c := baseConsent()
	steps := []struct {
		name    string
		id      string
		do      func(t *testing.T)
		status  consent.Status
		authz   bool
		refs    map[string]string // account_id → want ("" = not authorized)
		version int64
	}{
		{"undecided", consentID, func(t *testing.T) {
			mustApply(t, s, clk, consent.EventCreated, c, consent.ActionInsert)
		}, consent.StatusAwaitingAuthorization, false, map[string]string{"acc-1": "", "acc-2": "", "acc-3": ""}, 1},
		{"authorized", consentID, func(t *testing.T) {
			if _, err := s.Authorize(ctx, consentID, 1, authorized(clk)); err != nil {
				t.Fatal(err)
			}
		}, consent.StatusAuthorized, true, map[string]string{"acc-1": "BANK-0001", "acc-2": "BANK-0002", "acc-3": ""}, 2},
		{"PayNet lists acc-1 only", consentID, func(t *testing.T) {
			c.Status, c.UpdatedAt = consent.StatusAuthorized, t0.Add(time.Minute)
			c.Accounts = []consent.Account{{AccountID: "acc-1", AccountNumber: "1234567890"}}
			mustApply(t, s, clk, consent.EventStatusUpdated, c, consent.ActionUpdate)
		}, consent.StatusAuthorized, true, map[string]string{"acc-1": "BANK-0001", "acc-2": "", "acc-3": ""}, 3},
		{"revoked", consentID, func(t *testing.T) {
			c.Status, c.UpdatedAt = consent.StatusRevoked, t0.Add(2*time.Minute)
			mustApply(t, s, clk, consent.EventStatusUpdated, c, consent.ActionUpdate)
		}, consent.StatusRevoked, true, map[string]string{"acc-1": "BANK-0001", "acc-2": ""}, 4},
		{"rejected by the customer", rejectedID, func(t *testing.T) {
			mustApply(t, s, clk, consent.EventCreated, rejected, consent.ActionInsert)
			a := authorized(clk)
			a.Status, a.Reason, a.Approved = consent.StatusRejected, "customer_rejected", nil
			if _, err := s.Authorize(ctx, rejectedID, 1, a); err != nil {
				t.Fatal(err)
			}
		}, consent.StatusRejected, true, map[string]string{"acc-1": "", "acc-2": ""}, 2},
	}
	for _, st := range steps {
		st.do(t)
		for acc, want := range st.refs {
			rec, ref, err := s.ConsentAccount(ctx, st.id, acc)
			if err != nil {
				t.Fatalf("%s, %s: %v", st.name, acc, err)
			}
			if ref != want {
				t.Errorf("%s, %s: ref %q, want %q", st.name, acc, ref, want)
			}
			if rec.Consent.ConsentID != st.id || rec.Consent.Status != st.status || rec.Version != st.version ||
				(rec.Authorization != nil) != st.authz {
				t.Errorf("%s, %s: record %s v%d authz=%v, want %s v%d authz=%v", st.name, acc, rec.Consent.Status,
					rec.Version, rec.Authorization != nil, st.status, st.version, st.authz)
			}
			// The same answer as AccountRef, which keeps its ErrNotFound.
			old, err := s.AccountRef(ctx, st.id, acc)
			if (want == "") != errors.Is(err, ErrNotFound) || old != want {
				t.Errorf("%s, %s: AccountRef %q %v disagrees with ConsentAccount %q", st.name, acc, old, err, want)
			}
		}
	}
}

func testUseOnce(t *testing.T, e engine) {
	ctx := context.Background()
	clk := newClock()
	s := e.open(t, clk)
	until := clk.Now().Add(10 * time.Minute)
	for i, want := range []bool{true, false, false} {
		fresh, err := s.UseOnce(ctx, "paynet:jti-1", until)
		if err != nil || fresh != want {
			t.Fatalf("call %d: %v %v", i, fresh, err)
		}
	}
	if fresh, err := s.UseOnce(ctx, "form:jti-1", until); err != nil || !fresh {
		t.Fatalf("other namespace: %v %v", fresh, err)
	}
	clk.Add(9 * time.Minute)
	if fresh, _ := s.UseOnce(ctx, "paynet:jti-1", clk.Now().Add(10*time.Minute)); fresh {
		t.Fatal("reused before expiry")
	}
	clk.Add(time.Minute) // expired, not purged yet
	if fresh, err := s.UseOnce(ctx, "paynet:jti-1", clk.Now().Add(10*time.Minute)); err != nil || !fresh {
		t.Fatalf("after expiry: %v %v", fresh, err)
	}
	if fresh, _ := s.UseOnce(ctx, "paynet:jti-1", clk.Now().Add(10*time.Minute)); fresh {
		t.Fatal("fresh twice after expiry")
	}
	for _, bad := range []struct {
		jti   string
		until time.Time
	}{{"", until}, {strings.Repeat("j", MaxJTILen+1), until}, {"paynet:x", clk.Now()}, {"paynet:y", clk.Now().Add(-time.Second)}} {
		if _, err := s.UseOnce(ctx, bad.jti, bad.until); !errors.Is(err, ErrInvalidArgument) {
			t.Fatalf("%q %v: %v", bad.jti, bad.until, err)
		}
	}
}

func testUseOnceConcurrent(t *testing.T, e engine) {
	clk := newClock()
	u := e.new(t)
	// Two "replicas" on the same database.
	a, b := openURL(t, u, clk), openURL(t, u, clk)
	if err := a.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	const n = 32
	var fresh atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		st := a
		if i%2 == 1 {
			st = b
		}
		wg.Go(func() {
			ok, err := st.UseOnce(context.Background(), "paynet:same", clk.Now().Add(time.Minute))
			if err != nil {
				errs <- err
			}
			if ok {
				fresh.Add(1)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if fresh.Load() != 1 {
		t.Fatalf("%d fresh, want exactly 1", fresh.Load())
	}
}

func testSessions(t *testing.T, e engine) {
	ctx := context.Background()
	clk := newClock()
	s := e.open(t, clk)
	now := clk.Now()
	sess := Session{
		IDHash: "h1", ConsentID: consentID, Data: []byte{0, 1, 2, 0xff, 'x'},
		CreatedAt: now, LastSeen: now, IdleExpiry: now.Add(10 * time.Minute), AbsoluteExpiry: now.Add(30 * time.Minute),
	}
	if err := s.CreateSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSession(ctx, sess); !errors.Is(err, ErrConflict) {
		t.Fatalf("duplicate id: %v", err)
	}
	if err := s.CreateSession(ctx, Session{}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("empty id: %v", err)
	}
	got, err := s.GetSession(ctx, "h1")
	if err != nil || string(got.Data) != string(sess.Data) || got.ConsentID != consentID || got.Version != 0 ||
		!got.AbsoluteExpiry.Equal(sess.AbsoluteExpiry) || !got.CreatedAt.Equal(now) {
		t.Fatalf("GetSession: %+v %v", got, err)
	}
	if _, err := s.GetSession(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown: %v", err)
	}

	// Compare-and-swap: two writers from the same version, one wins.
	a, b := *got, *got
	a.Data, a.LastSeen = []byte("a"), now.Add(time.Minute)
	b.Data = []byte("b")
	v, err := s.UpdateSession(ctx, a)
	if err != nil || v != 1 {
		t.Fatalf("update a: %d %v", v, err)
	}
	if _, err := s.UpdateSession(ctx, b); !errors.Is(err, ErrConflict) {
		t.Fatalf("update b: %v", err)
	}
	if _, err := s.UpdateSession(ctx, Session{IDHash: "nope"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("update unknown: %v", err)
	}
	got, _ = s.GetSession(ctx, "h1")
	if string(got.Data) != "a" || got.Version != 1 || !got.LastSeen.Equal(now.Add(time.Minute)) {
		t.Fatalf("after update: %+v", got)
	}

	// Expired sessions are still returned, until Purge an hour after the absolute expiry.
	clk.Add(31 * time.Minute)
	if _, err := s.GetSession(ctx, "h1"); err != nil {
		t.Fatalf("expired session must still be readable: %v", err)
	}
	if _, err := s.Purge(ctx, Retention{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetSession(ctx, "h1"); err != nil {
		t.Fatalf("purged too early: %v", err)
	}
	clk.Add(SessionRetention)
	if _, err := s.Purge(ctx, Retention{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetSession(ctx, "h1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("not purged: %v", err)
	}

	sess.IDHash = "h2"
	if err := s.CreateSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSession(ctx, "h2"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetSession(ctx, "h2"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted: %v", err)
	}
	if err := s.DeleteSession(ctx, "h2"); err != nil {
		t.Fatalf("delete twice: %v", err)
	}
}

func testLockout(t *testing.T, e engine) {
	ctx := context.Background()
	clk := newClock()
	s := e.open(t, clk)
	now := clk.Now()
	hard := AttemptLimit{Max: 3, Window: 10 * time.Minute}
	reserve := func(key string, l AttemptLimit, at time.Time) Reservation {
		t.Helper()
		r, err := s.ReserveLoginAttempt(ctx, key, l, at)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	for i := 1; i <= 3; i++ {
		if r := reserve("u:a", hard, now); !r.OK || r.Attempts != i {
			t.Fatalf("attempt %d: %+v", i, r)
		}
	}
	// A hard limit refuses until the window ends, and says when.
	if r := reserve("u:a", hard, now.Add(9*time.Minute)); r.OK || !r.RetryAt.Equal(now.Add(10*time.Minute)) {
		t.Fatalf("past the limit: %+v", r)
	}
	// Another key is not affected.
	if r := reserve("u:b", hard, now); !r.OK || r.Attempts != 1 {
		t.Fatalf("other key: %+v", r)
	}
	// Released attempts (the bank did not answer) do not count.
	if err := s.ReleaseLoginAttempt(ctx, "u:a"); err != nil {
		t.Fatal(err)
	}
	if r := reserve("u:a", hard, now.Add(time.Minute)); !r.OK || r.Attempts != 3 {
		t.Fatalf("after release: %+v", r)
	}
	// The window restarts the counter.
	if r := reserve("u:a", hard, now.Add(10*time.Minute)); !r.OK || r.Attempts != 1 {
		t.Fatalf("new window: %+v", r)
	}
	// Clear forgets the key.
	if err := s.ClearLoginAttempts(ctx, "u:a"); err != nil {
		t.Fatal(err)
	}
	if r := reserve("u:a", hard, now.Add(10*time.Minute)); !r.OK || r.Attempts != 1 {
		t.Fatalf("after clear: %+v", r)
	}
	if err := s.ReleaseLoginAttempt(ctx, "unknown"); err != nil {
		t.Fatalf("release unknown: %v", err)
	}

	// Progressive delay: past Max, one attempt after 1×, then 2×, 3× the step.
	prog := AttemptLimit{Max: 2, Window: time.Hour, DelayStep: 30 * time.Second}
	t0 := now
	reserve("uc:x", prog, t0)
	if r := reserve("uc:x", prog, t0); !r.OK || r.Attempts != 2 {
		t.Fatalf("second: %+v", r)
	}
	if r := reserve("uc:x", prog, t0.Add(29*time.Second)); r.OK || !r.RetryAt.Equal(t0.Add(30*time.Second)) {
		t.Fatalf("inside the first delay: %+v", r)
	}
	t1 := t0.Add(30 * time.Second)
	if r := reserve("uc:x", prog, t1); !r.OK || r.Attempts != 3 {
		t.Fatalf("after the first delay: %+v", r)
	}
	if r := reserve("uc:x", prog, t1.Add(59*time.Second)); r.OK || !r.RetryAt.Equal(t1.Add(time.Minute)) {
		t.Fatalf("inside the second delay: %+v", r)
	}
	if r := reserve("uc:x", prog, t1.Add(time.Minute)); !r.OK || r.Attempts != 4 {
		t.Fatalf("after the second delay: %+v", r)
	}

	for _, bad := range []AttemptLimit{{}, {Max: 1}, {Max: 1, Window: time.Minute, DelayStep: -1}} {
		if _, err := s.ReserveLoginAttempt(ctx, "k", bad, now); !errors.Is(err, ErrInvalidArgument) {
			t.Fatalf("limit %+v: %v", bad, err)
		}
	}
}

// testLockoutConcurrent: reservations from many goroutines never pass the limit, on both engines.
func testLockoutConcurrent(t *testing.T, e engine) {
	ctx := context.Background()
	clk := newClock()
	s := e.open(t, clk)
	l := AttemptLimit{Max: 5, Window: 15 * time.Minute, DelayStep: time.Minute}
	var ok atomic.Int64
	var wg sync.WaitGroup
	for range 40 {
		wg.Go(func() {
			r, err := s.ReserveLoginAttempt(ctx, "u:concurrent", l, clk.Now())
			if err != nil {
				t.Error(err)
				return
			}
			if r.OK {
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 5 {
		t.Fatalf("%d reservations granted, want 5", ok.Load())
	}
}

func testPurge(t *testing.T, e engine) {
	ctx := context.Background()
	clk := newClock()
	s := e.open(t, clk)
	now := clk.Now()
	if n, err := s.Purge(ctx, Retention{}); err != nil || n.Total() != 0 {
		t.Fatalf("empty purge: %v %v", n, err)
	}
	s.UseOnce(ctx, "a", now.Add(time.Minute))
	s.UseOnce(ctx, "b", now.Add(time.Hour))
	s.CreateSession(ctx, Session{IDHash: "s1", AbsoluteExpiry: now.Add(time.Minute)})
	s.CreateSession(ctx, Session{IDHash: "s2", AbsoluteExpiry: now.Add(3 * time.Hour)})
	lim := AttemptLimit{Max: 5, Window: time.Hour}
	s.ReserveLoginAttempt(ctx, "u:old", lim, now)
	s.ReserveLoginAttempt(ctx, "u:new", lim, now.Add(3*time.Hour))
	mustApply(t, s, clk, consent.EventCreated, baseConsent(), consent.ActionInsert)

	clk.Add(2*time.Hour + time.Second)
	if n, err := s.Purge(ctx, Retention{}); err != nil || n.Total() != 3 || n[TableReplay] != 2 || n[TableSessions] != 1 { // replay a, b and session s1
		t.Fatalf("purge at +2h: %v %v", n, err)
	}
	clk.Add(LoginAttemptRetention)
	if n, err := s.Purge(ctx, Retention{}); err != nil || n.Total() != 2 || n[TableLoginThrottle] != 1 { // session s2, the older login counter
		t.Fatalf("purge at +26h: %v %v", n, err)
	}
	if fresh, _ := s.UseOnce(ctx, "a", clk.Now().Add(time.Minute)); !fresh {
		t.Fatal("purged jti not fresh")
	}
	var left int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM login_throttle`).Scan(&left); err != nil || left != 1 {
		t.Fatalf("login counters left: %d %v", left, err)
	}
	// Without a retention for them, consents and their history are never purged.
	if evs, err := s.ConsentEvents(ctx, consentID); err != nil || len(evs) != 1 {
		t.Fatalf("history: %d %v", len(evs), err)
	}
}

func testOutboundAndAudit(t *testing.T, e engine) {
	ctx := context.Background()
	clk := newClock()
	s := e.open(t, clk)
	now := clk.Now()
	calls := []OutboundCall{
		{ConsentID: consentID, Method: "PATCH", URL: "https://paynet/v1/consents/" + consentID, InteractionID: "ia-1",
			Outcome: "error", Error: "timeout", Attempt: 1, StartedAt: now, Duration: 5 * time.Second},
		{ConsentID: consentID, Method: "PATCH", URL: "https://paynet/v1/consents/" + consentID, InteractionID: "ia-1",
			Outcome: "ok", Attempt: 2, HTTPStatus: 200, StartedAt: now.Add(10 * time.Second), Duration: 150 * time.Millisecond},
	}
	for _, c := range []OutboundCall{calls[1], calls[0], {ConsentID: "other", Method: "PATCH", Attempt: 1, StartedAt: now}} {
		if err := s.RecordOutboundCall(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.OutboundCalls(ctx, consentID)
	if err != nil || len(got) != 2 {
		t.Fatalf("%d calls %v", len(got), err)
	}
	for i := range calls {
		g, w := got[i], calls[i]
		if g.Attempt != w.Attempt || g.Outcome != w.Outcome || g.Error != w.Error || g.HTTPStatus != w.HTTPStatus ||
			g.Duration != w.Duration || !g.StartedAt.Equal(w.StartedAt) || g.URL != w.URL || g.InteractionID != w.InteractionID {
			t.Fatalf("call %d: %+v, want %+v", i, g, w)
		}
	}
	if got, err := s.OutboundCalls(ctx, "none"); err != nil || len(got) != 0 {
		t.Fatalf("no calls: %v %v", got, err)
	}

	if err := s.Audit(ctx, AuditEntry{Actor: "paynet", Action: "consent_event", ConsentID: consentID, Outcome: "insert", InteractionID: "ia-1"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Audit(ctx, AuditEntry{At: now.Add(time.Second), Actor: "customer", Action: "authorize", ConsentID: consentID, Outcome: "authorized",
		ClientAddr: "198.51.100.7", UserAgent: "Mozilla/5.0 (X11)"}); err != nil {
		t.Fatal(err)
	}
	// The customer's address and user agent are kept with the entry (docs/security.md, audit).
	if got, err := s.AuditEntries(ctx, 1); err != nil || len(got) != 1 || got[0].ClientAddr != "198.51.100.7" || got[0].UserAgent != "Mozilla/5.0 (X11)" {
		t.Fatalf("newest audit entry %+v %v, want the client address and user agent", got, err)
	}
	if err := s.Audit(ctx, AuditEntry{}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("empty audit entry: %v", err)
	}
	var n int
	var first int64
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*), MIN(occurred_at) FROM audit WHERE consent_id = $1`, consentID).Scan(&n, &first); err != nil || n != 2 || first != now.UnixNano() {
		t.Fatalf("audit rows %d %d %v", n, first, err)
	}
}

// ---- consent update outbox (negative-tests C11) ----

func testOutbox(t *testing.T, e engine) {
	ctx := context.Background()
	clk := newClock()
	s := e.open(t, clk)
	now := clk.Now()
	const lease = 2 * time.Minute

	mustPending := func(want int) {
		t.Helper()
		if n, err := s.PendingUpdates(ctx); err != nil || n != want {
			t.Fatalf("PendingUpdates = %d %v, want %d", n, err, want)
		}
	}
	mustPending(0)
	if got, err := s.ClaimDueUpdates(ctx, now, lease, 10); err != nil || len(got) != 0 {
		t.Fatalf("claim on empty outbox: %v %v", got, err)
	}

	// Refused items.
	for _, bad := range []OutboxItem{
		{Status: consent.StatusFailed},
		{ConsentID: "c-x", Status: consent.StatusAuthorized},
		{ConsentID: "c-x", Status: consent.StatusRevoked},
		{ConsentID: "c-x"},
	} {
		if err := s.EnqueueUpdate(ctx, bad); !errors.Is(err, ErrInvalidArgument) {
			t.Fatalf("enqueue %+v: %v", bad, err)
		}
	}
	mustPending(0)

	// A zero NextAttemptAt and CreatedAt mean now; a second enqueue for the same consent keeps the first.
	if err := s.EnqueueUpdate(ctx, OutboxItem{ConsentID: "c-1", Status: consent.StatusFailed, Reason: "patch_failed"}); err != nil {
		t.Fatal(err)
	}
	if err := s.EnqueueUpdate(ctx, OutboxItem{ConsentID: "c-1", Status: consent.StatusRejected, Reason: "customer_rejected"}); err != nil {
		t.Fatalf("second enqueue: %v", err)
	}
	if err := s.EnqueueUpdate(ctx, OutboxItem{ConsentID: "c-2", Status: consent.StatusRejected, Reason: "customer_rejected",
		NextAttemptAt: now.Add(time.Minute), CreatedAt: now.Add(-time.Second)}); err != nil {
		t.Fatal(err)
	}
	mustPending(2)
	it, err := s.outboxItem(ctx, "c-1")
	if err != nil || it.Status != consent.StatusFailed || it.Reason != "patch_failed" || it.Attempts != 0 ||
		!it.NextAttemptAt.Equal(now) || !it.CreatedAt.Equal(now) || !it.LeaseUntil.IsZero() || !it.DoneAt.IsZero() || it.Outcome != "" {
		t.Fatalf("c-1 after enqueue: %+v %v", it, err)
	}

	// Only due, unleased items are claimed; the claim leases them and counts the attempt.
	got, err := s.ClaimDueUpdates(ctx, now, lease, 10)
	if err != nil || len(got) != 1 || got[0].ConsentID != "c-1" || got[0].Attempts != 1 ||
		!got[0].LeaseUntil.Equal(now.Add(lease)) || got[0].Status != consent.StatusFailed || got[0].Reason != "patch_failed" {
		t.Fatalf("first claim: %+v %v", got, err)
	}
	clk.Add(time.Minute)
	now = clk.Now()
	got, err = s.ClaimDueUpdates(ctx, now, lease, 10)
	if err != nil || len(got) != 1 || got[0].ConsentID != "c-2" {
		t.Fatalf("claim at +1m (c-1 still leased, c-2 due): %+v %v", got, err)
	}
	if got, _ := s.ClaimDueUpdates(ctx, now, lease, 10); len(got) != 0 {
		t.Fatalf("claimed a leased item: %+v", got)
	}
	// The lease of c-1 runs out (its worker died): it is claimable again, with a second attempt.
	clk.Add(time.Minute)
	now = clk.Now()
	got, err = s.ClaimDueUpdates(ctx, now, lease, 10)
	if err != nil || len(got) != 1 || got[0].ConsentID != "c-1" || got[0].Attempts != 2 {
		t.Fatalf("claim after lease expiry: %+v %v", got, err)
	}

	// Reschedule releases the lease and keeps the error; the item is due again only at next.
	if err := s.RescheduleUpdate(ctx, "c-1", now.Add(4*time.Minute), "paynet: HTTP 503"); err != nil {
		t.Fatal(err)
	}
	it, _ = s.outboxItem(ctx, "c-1")
	if !it.LeaseUntil.IsZero() || !it.NextAttemptAt.Equal(now.Add(4*time.Minute)) || it.LastError != "paynet: HTTP 503" || it.Attempts != 2 {
		t.Fatalf("c-1 after reschedule: %+v", it)
	}
	if err := s.RescheduleUpdate(ctx, "c-2", now.Add(30*time.Minute), ""); err != nil { // out of the way (it is still leased)
		t.Fatal(err)
	}
	if got, _ := s.ClaimDueUpdates(ctx, now.Add(4*time.Minute-time.Nanosecond), lease, 10); len(got) != 0 {
		t.Fatalf("claimed before it was due: %+v", got)
	}
	got, err = s.ClaimDueUpdates(ctx, now.Add(4*time.Minute), lease, 10)
	if err != nil || len(got) != 1 || got[0].ConsentID != "c-1" || got[0].Attempts != 3 || got[0].LastError != "paynet: HTTP 503" {
		t.Fatalf("claim when due: %+v %v", got, err)
	}

	// Complete ends it for good: not pending, never claimed again, a second complete is ErrNotFound.
	done := now.Add(4 * time.Minute)
	if err := s.CompleteUpdate(ctx, "c-1", "delivered", done); err != nil {
		t.Fatal(err)
	}
	mustPending(1)
	it, _ = s.outboxItem(ctx, "c-1")
	if it.Outcome != "delivered" || !it.DoneAt.Equal(done) || !it.LeaseUntil.IsZero() {
		t.Fatalf("c-1 after complete: %+v", it)
	}
	if err := s.CompleteUpdate(ctx, "c-1", "abandoned", done); !errors.Is(err, ErrNotFound) {
		t.Fatalf("complete twice: %v", err)
	}
	if err := s.RescheduleUpdate(ctx, "c-1", done, "x"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("reschedule a done item: %v", err)
	}
	if got, _ := s.ClaimDueUpdates(ctx, done.Add(time.Hour), lease, 10); len(got) != 1 || got[0].ConsentID != "c-2" {
		t.Fatalf("claim after complete: %+v", got)
	}
	// A done item still blocks a new enqueue for the same consent (the first is kept).
	if err := s.EnqueueUpdate(ctx, OutboxItem{ConsentID: "c-1", Status: consent.StatusFailed}); err != nil {
		t.Fatal(err)
	}
	mustPending(1)
	if it, _ := s.outboxItem(ctx, "c-1"); it.Outcome != "delivered" {
		t.Fatalf("re-enqueue changed a done item: %+v", it)
	}

	// Unknown consents and bad arguments.
	if err := s.CompleteUpdate(ctx, "nope", "delivered", done); !errors.Is(err, ErrNotFound) {
		t.Fatalf("complete unknown: %v", err)
	}
	if err := s.RescheduleUpdate(ctx, "nope", done, ""); !errors.Is(err, ErrNotFound) {
		t.Fatalf("reschedule unknown: %v", err)
	}
	if err := s.CompleteUpdate(ctx, "c-2", "", done); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("empty outcome: %v", err)
	}
	if err := s.RescheduleUpdate(ctx, "c-2", time.Time{}, ""); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("zero next: %v", err)
	}
	for _, c := range []struct {
		lease time.Duration
		limit int
	}{{0, 1}, {-time.Second, 1}, {lease, 0}, {lease, maxOutboxClaim + 1}} {
		if _, err := s.ClaimDueUpdates(ctx, now, c.lease, c.limit); !errors.Is(err, ErrInvalidArgument) {
			t.Fatalf("claim %v %d: %v", c.lease, c.limit, err)
		}
	}
	// Long texts are cut, on a UTF-8 boundary.
	long := strings.Repeat("é", maxOutboxText)
	if err := s.RescheduleUpdate(ctx, "c-2", done, long); err != nil {
		t.Fatal(err)
	}
	if it, _ := s.outboxItem(ctx, "c-2"); len(it.LastError) > maxOutboxText || !strings.HasPrefix(long, it.LastError) || len(it.LastError) < maxOutboxText-1 {
		t.Fatalf("last error of %d bytes", len(it.LastError))
	}
}

// testOutboxLimit: limit bounds a claim, oldest due first.
func testOutboxLimit(t *testing.T, s *Store, clk *clock) {
	ctx := context.Background()
	now := clk.Now()
	for i := range 5 {
		if err := s.EnqueueUpdate(ctx, OutboxItem{ConsentID: fmt.Sprintf("l-%d", i), Status: consent.StatusFailed,
			NextAttemptAt: now.Add(-time.Duration(i) * time.Second)}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.ClaimDueUpdates(ctx, now, time.Minute, 3)
	if err != nil || len(got) != 3 || got[0].ConsentID != "l-4" || got[1].ConsentID != "l-3" || got[2].ConsentID != "l-2" {
		t.Fatalf("limited claim: %+v %v", got, err)
	}
}

// testOutboxConcurrentClaim: claimers on two replicas never get the same item while its lease runs.
func testOutboxConcurrentClaim(t *testing.T, e engine) {
	ctx := context.Background()
	clk := newClock()
	u := e.new(t)
	a, b := openURL(t, u, clk), openURL(t, u, clk)
	if err := a.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	testOutboxLimit(t, a, clk)

	const items, claimers = 40, 8
	for i := range items {
		if err := a.EnqueueUpdate(ctx, OutboxItem{ConsentID: fmt.Sprintf("c-%02d", i), Status: consent.StatusFailed}); err != nil {
			t.Fatal(err)
		}
	}
	now := clk.Now()
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	errs := make(chan error, claimers)
	for i := range claimers {
		st := a
		if i%2 == 1 {
			st = b
		}
		wg.Go(func() {
			for {
				got, err := st.ClaimDueUpdates(ctx, now, time.Minute, 3)
				if err != nil {
					errs <- err
					return
				}
				if len(got) == 0 {
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
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// The five of testOutboxLimit: three were claimed there, two are left for the claimers.
	if len(seen) != items+2 {
		t.Fatalf("%d items claimed, want %d", len(seen), items+2)
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("%s claimed %d times", id, n)
		}
	}
}

// testOutboxListAndRequeue: the operators' view of the outbox and the re-queue of an abandoned item.
func testOutboxListAndRequeue(t *testing.T, e engine) {
	ctx := context.Background()
	clk := newClock()
	s := e.open(t, clk)
	now := clk.Now()
	const lease = time.Minute

	if got, err := s.ListOutbox(ctx, 10); err != nil || len(got) != 0 {
		t.Fatalf("list of an empty outbox: %+v %v", got, err)
	}
	for _, limit := range []int{0, -1, MaxOutboxList + 1} {
		if _, err := s.ListOutbox(ctx, limit); !errors.Is(err, ErrInvalidArgument) {
			t.Fatalf("list %d: %v", limit, err)
		}
	}
	// p-1 and p-2 pending (p-2 due first); d-1 delivered, a-1 abandoned later, r-1 refused last.
	for _, it := range []OutboxItem{
		{ConsentID: "p-1", Status: consent.StatusFailed, Reason: "patch_failed", NextAttemptAt: now.Add(time.Hour)},
		{ConsentID: "p-2", Status: consent.StatusRejected, Reason: "customer_rejected", NextAttemptAt: now.Add(30 * time.Minute)},
		{ConsentID: "d-1", Status: consent.StatusFailed},
		{ConsentID: "a-1", Status: consent.StatusFailed, Reason: "patch_failed"},
		{ConsentID: "r-1", Status: consent.StatusRejected},
	} {
		if err := s.EnqueueUpdate(ctx, it); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := s.ClaimDueUpdates(ctx, now, lease, 10); err != nil || len(got) != 3 {
		t.Fatalf("claim: %+v %v", got, err)
	}
	if err := s.CompleteUpdate(ctx, "d-1", "delivered", now.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := s.RescheduleUpdate(ctx, "a-1", now, "paynet: HTTP 503"); err != nil {
		t.Fatal(err)
	}
	if got, err := s.ClaimDueUpdates(ctx, now, lease, 10); err != nil || len(got) != 1 || got[0].ConsentID != "a-1" || got[0].Attempts != 2 {
		t.Fatalf("second claim of a-1: %+v %v", got, err)
	}
	if err := s.CompleteUpdate(ctx, "a-1", OutcomeAbandoned, now.Add(2*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := s.CompleteUpdate(ctx, "r-1", "refused: Consent.Invalid", now.Add(3*time.Second)); err != nil {
		t.Fatal(err)
	}

	ids := func(items []OutboxItem) string {
		var out []string
		for _, it := range items {
			out = append(out, it.ConsentID)
		}
		return strings.Join(out, ",")
	}
	got, err := s.ListOutbox(ctx, 10)
	if err != nil || ids(got) != "p-2,p-1,r-1,a-1,d-1" {
		t.Fatalf("list: %s %v", ids(got), err)
	}
	if a := got[3]; a.Status != consent.StatusFailed || a.Reason != "patch_failed" || a.Attempts != 2 || a.Outcome != OutcomeAbandoned ||
		a.LastError != "paynet: HTTP 503" || !a.DoneAt.Equal(now.Add(2*time.Second)) || !a.CreatedAt.Equal(now) {
		t.Fatalf("a-1 as listed: %+v", a)
	}
	if p := got[0]; p.Outcome != "" || !p.DoneAt.IsZero() || !p.NextAttemptAt.Equal(now.Add(30*time.Minute)) || p.Status != consent.StatusRejected {
		t.Fatalf("p-2 as listed: %+v", p)
	}
	if got, err := s.ListOutbox(ctx, 3); err != nil || ids(got) != "p-2,p-1,r-1" {
		t.Fatalf("limited list: %s %v", ids(got), err)
	}

	// Only an abandoned item is re-queued; the others stay as they are.
	later := now.Add(20 * time.Minute) // p-1 and p-2 are not due yet
	for id, want := range map[string]error{"nope": ErrNotFound, "p-1": ErrNotAbandoned, "d-1": ErrNotAbandoned, "r-1": ErrNotAbandoned} {
		before, _ := s.outboxItem(ctx, id)
		if err := s.RequeueUpdate(ctx, id, later); !errors.Is(err, want) {
			t.Fatalf("re-queue %s: %v, want %v", id, err, want)
		}
		if after, _ := s.outboxItem(ctx, id); before != nil && *after != *before {
			t.Fatalf("re-queue %s changed it: %+v", id, after)
		}
	}
	if !errors.Is(ErrNotAbandoned, ErrConflict) {
		t.Fatal("ErrNotAbandoned is not an ErrConflict")
	}
	if err := s.RequeueUpdate(ctx, "a-1", time.Time{}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("re-queue without a time: %v", err)
	}
	mustPending := func(want int) {
		t.Helper()
		if n, err := s.PendingUpdates(ctx); err != nil || n != want {
			t.Fatalf("PendingUpdates = %d %v, want %d", n, err, want)
		}
	}
	mustPending(2)
	if err := s.RequeueUpdate(ctx, "a-1", later); err != nil {
		t.Fatal(err)
	}
	mustPending(3)
	it, err := s.outboxItem(ctx, "a-1")
	if err != nil || it.Attempts != 0 || !it.NextAttemptAt.Equal(later) || !it.DoneAt.IsZero() || it.Outcome != "" ||
		!it.LeaseUntil.IsZero() || it.LastError != "paynet: HTTP 503" || it.Status != consent.StatusFailed || it.Reason != "patch_failed" {
		t.Fatalf("a-1 after re-queue: %+v %v", it, err)
	}
	if err := s.RequeueUpdate(ctx, "a-1", later); !errors.Is(err, ErrNotAbandoned) {
		t.Fatalf("re-queue twice: %v", err)
	}
	// It is due at the re-queue time (not before), and a worker claims it as a first attempt.
	if got, _ := s.ClaimDueUpdates(ctx, later.Add(-time.Nanosecond), lease, 10); len(got) != 0 {
		t.Fatalf("claimed before the re-queue time: %+v", got)
	}
	got, err = s.ClaimDueUpdates(ctx, later, lease, 10)
	if err != nil || len(got) != 1 || got[0].ConsentID != "a-1" || got[0].Attempts != 1 {
		t.Fatalf("claim after re-queue: %+v %v", got, err)
	}
}

func TestSQLiteDSN(t *testing.T) {
	cases := []struct{ in, path, file string }{
		{"/var/lib/ofpdp/db.sqlite", "file:/var/lib/ofpdp/db.sqlite?", "/var/lib/ofpdp/db.sqlite"},
		{"data/ofpdp.db", "file:data/ofpdp.db?", "data/ofpdp.db"},
		{"sqlite:///var/lib/ofpdp.db", "file:/var/lib/ofpdp.db?", "/var/lib/ofpdp.db"},
		{"sqlite:ofpdp.db", "file:ofpdp.db?", "ofpdp.db"},
		{"file:ofpdp.db?cache=private", "file:ofpdp.db?", "ofpdp.db"},
		{"/tmp/a?b#c.db", "file:/tmp/a%3fb%23c.db?", "/tmp/a?b#c.db"},
		{"/tmp/100%.db", "file:/tmp/100%25.db?", "/tmp/100%.db"},
	}
	for _, c := range cases {
		dsn, file, err := sqliteDSN(c.in)
		if err != nil {
			t.Fatalf("%s: %v", c.in, err)
		}
		if file != c.file {
			t.Errorf("%s: file %q, want %q", c.in, file, c.file)
		}
		if !strings.HasPrefix(dsn, c.path) {
			t.Errorf("%s: %s", c.in, dsn)
		}
		q, _ := url.ParseQuery(dsn[strings.Index(dsn, "?")+1:])
		if q.Get("_txlock") != "immediate" || len(q["_pragma"]) != 4 ||
			!strings.Contains(strings.Join(q["_pragma"], ","), "journal_mode(WAL)") {
			t.Errorf("%s: %s", c.in, dsn)
		}
	}
	for _, bad := range []string{"", ":memory:", "sqlite::memory:", "file:x?mode=memory", "sqlite://"} {
		if _, _, err := sqliteDSN(bad); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// TestSQLitePragmas checks the pragmas really hold on every pooled connection.
func TestSQLitePragmas(t *testing.T) {
	s := openURL(t, filepath.Join(t.TempDir(), "p.db"), newClock())
	ctx := context.Background()
	for range 3 {
		conn, err := s.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var mode string
		var sync, busy, fk int
		conn.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode)
		conn.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&sync)
		conn.QueryRowContext(ctx, `PRAGMA busy_timeout`).Scan(&busy)
		conn.QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&fk)
		if mode != "wal" || sync != 2 || busy != 5000 || fk != 1 {
			t.Fatalf("journal_mode=%s synchronous=%d busy_timeout=%d foreign_keys=%d", mode, sync, busy, fk)
		}
		defer conn.Close()
	}
}

func BenchmarkApplyEvent(b *testing.B) {
	engines := []struct {
		name string
		e    func(b *testing.B) engine
	}{
		{"sqlite", func(*testing.B) engine { return sqliteEngine() }},
		{"postgres", func(b *testing.B) engine { return postgresEngine(postgresURL(b)) }},
	}
	for _, en := range engines {
		b.Run(en.name, func(b *testing.B) {
			e := en.e(b)
			clk := newClock()
			s := e.open(b, clk)
			ctx := context.Background()
			b.Run("insert", func(b *testing.B) {
				i := 0
				for b.Loop() {
					i++
					c := baseConsent()
					c.ConsentID = fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
					ev := event(consent.EventCreated, c)
					if _, err := s.ApplyEvent(ctx, ev, receipt(clk, ev)); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("update", func(b *testing.B) {
				c := baseConsent()
				c.ConsentID = "11111111-0000-4000-8000-000000000000"
				ev := event(consent.EventCreated, c)
				if _, err := s.ApplyEvent(ctx, ev, receipt(clk, ev)); err != nil {
					b.Fatal(err)
				}
				i := 0
				for b.Loop() {
					i++
					c.UpdatedAt = t0.Add(time.Duration(i) * time.Millisecond)
					ev := event(consent.EventUpdated, c)
					d, err := s.ApplyEvent(ctx, ev, receipt(clk, ev))
					if err != nil || d.Action != consent.ActionUpdate {
						b.Fatal(d.Action, err)
					}
				}
			})
		})
	}
}
