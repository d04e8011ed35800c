package outbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/ofpdp/ofpdp/internal/consent"
	"github.com/ofpdp/ofpdp/internal/obs"
	"github.com/ofpdp/ofpdp/internal/paynet"
	"github.com/ofpdp/ofpdp/internal/store"
)

// The real dependencies satisfy the worker's interfaces.
var (
	_ Store   = (*store.Store)(nil)
	_ Updater = (*paynet.Client)(nil)
)

// ---- fakes ----

// fakeStore is an in-memory outbox with the real store's claim, lease and completion semantics.
type fakeStore struct {
	mu    sync.Mutex
	items map[string]*store.OutboxItem
	calls map[string][]store.OutboundCall
	fail  error // every method fails with it when set
}

func newFakeStore() *fakeStore {
	return &fakeStore{items: map[string]*store.OutboxItem{}, calls: map[string][]store.OutboundCall{}}
}

func (f *fakeStore) add(it store.OutboxItem) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.items[it.ConsentID] = &it
}

func (f *fakeStore) item(id string) store.OutboxItem {
	f.mu.Lock()
	defer f.mu.Unlock()
	return *f.items[id]
}

func (f *fakeStore) ClaimDueUpdates(_ context.Context, now time.Time, lease time.Duration, limit int) ([]store.OutboxItem, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return nil, f.fail
	}
	var out []store.OutboxItem
	for _, it := range f.items {
		if it.DoneAt.IsZero() && !it.NextAttemptAt.After(now) && !it.LeaseUntil.After(now) {
			out = append(out, *it)
		}
	}
	slices.SortFunc(out, func(a, b store.OutboxItem) int { return a.NextAttemptAt.Compare(b.NextAttemptAt) })
	if len(out) > limit {
		out = out[:limit]
	}
	for i := range out {
		it := f.items[out[i].ConsentID]
		it.Attempts++
		it.LeaseUntil = now.Add(lease)
		out[i] = *it
	}
	return out, nil
}

func (f *fakeStore) CompleteUpdate(_ context.Context, id, outcome string, at time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	it, ok := f.items[id]
	if !ok || !it.DoneAt.IsZero() {
		return store.ErrNotFound
	}
	it.DoneAt, it.Outcome, it.LeaseUntil = at, outcome, time.Time{}
	return nil
}

func (f *fakeStore) RescheduleUpdate(_ context.Context, id string, next time.Time, lastErr string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	it, ok := f.items[id]
	if !ok || !it.DoneAt.IsZero() {
		return store.ErrNotFound
	}
	it.NextAttemptAt, it.LastError, it.LeaseUntil = next, lastErr, time.Time{}
	return nil
}

func (f *fakeStore) PendingUpdates(context.Context) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return 0, f.fail
	}
	n := 0
	for _, it := range f.items {
		if it.DoneAt.IsZero() {
			n++
		}
	}
	return n, nil
}

func (f *fakeStore) OutboundCalls(_ context.Context, id string) ([]store.OutboundCall, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls[id]), nil
}

// recordCall is what paynet.Client's recorder does for each attempt.
func (f *fakeStore) recordCall(c store.OutboundCall) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[c.ConsentID] = append(f.calls[c.ConsentID], c)
}

// fakeUpdater answers each update with result(n) (n counts calls from 1), records the attempt in
// calls (like paynet.Client's recorder) and, when gate is set, holds the call until it is closed.
type fakeUpdater struct {
	mu      sync.Mutex
	updates []paynet.Update
	result  func(n int) error
	calls   *fakeStore
	gate    chan struct{}
	started chan string
}

func (u *fakeUpdater) UpdateConsent(ctx context.Context, up paynet.Update) error {
	u.mu.Lock()
	u.updates = append(u.updates, up)
	n := len(u.updates)
	u.mu.Unlock()
	if u.calls != nil {
		u.calls.recordCall(store.OutboundCall{ConsentID: up.ConsentID, Method: "PATCH", InteractionID: fmt.Sprintf("iid-%d", n)})
	}
	if u.started != nil {
		u.started <- up.ConsentID
	}
	if u.gate != nil {
		select {
		case <-u.gate:
		case <-ctx.Done():
			return &paynet.UpdateError{Attempts: 1, Retryable: true, Err: ctx.Err()}
		}
	}
	if u.result == nil {
		return nil
	}
	return u.result(n)
}

// RevokeConsent is recorded as an update with status revoked and the description as its reason.
func (u *fakeUpdater) RevokeConsent(ctx context.Context, r paynet.Revocation) error {
	return u.UpdateConsent(ctx, paynet.Update{ConsentID: r.ConsentID, Status: string(consent.StatusRevoked),
		StatusReason: &paynet.StatusReason{ReasonDescription: r.Description}})
}

func noJitter(d time.Duration) time.Duration { return d }

func (u *fakeUpdater) all() []paynet.Update {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.Clone(u.updates)
}

// logBuffer collects JSON log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// records returns the log records at level.
func (b *logBuffer) records(t *testing.T, level string) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for line := range strings.Lines(b.buf.String()) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if m["level"] == level {
			out = append(out, m)
		}
	}
	return out
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

var t0 = time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)

type rig struct {
	w     *Worker
	st    *fakeStore
	upd   *fakeUpdater
	clock *clock
	logs  *logBuffer
	m     *obs.Metrics
}

func newRig(result func(n int) error) *rig {
	st := newFakeStore()
	r := &rig{st: st, upd: &fakeUpdater{result: result, calls: st}, clock: &clock{t: t0}, logs: &logBuffer{}, m: obs.NewMetrics()}
	r.w = &Worker{Store: st, Updater: r.upd, Now: r.clock.now, Metrics: r.m, Jitter: noJitter,
		Logger: slog.New(slog.NewJSONHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	return r
}

func pending(id string, status consent.Status, reason string) store.OutboxItem {
	return store.OutboxItem{ConsentID: id, Status: status, Reason: reason, NextAttemptAt: t0, CreatedAt: t0}
}

func (r *rig) once(t *testing.T, want int) {
	t.Helper()
	n, err := r.w.RunOnce(context.Background())
	if err != nil || n != want {
		t.Fatalf("RunOnce = %d %v, want %d", n, err, want)
	}
}

func value(t *testing.T, c prometheus.Metric) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	if m.Counter != nil {
		return m.Counter.GetValue()
	}
	return m.Gauge.GetValue()
}

func (r *rig) outcomes(t *testing.T) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, o := range []string{OutcomeDelivered, OutcomeRefused, OutcomeAbandoned, OutcomeRetry} {
		if v := value(t, r.m.OutboxOutcomes.WithLabelValues(o)); v != 0 {
			out[o] = v
		}
	}
	return out
}

// ---- tests ----

func TestDefaultBackoff(t *testing.T) {
	for _, c := range []struct {
		attempt int
		want    time.Duration
	}{
		{0, time.Minute}, {1, time.Minute}, {2, 2 * time.Minute}, {3, 4 * time.Minute}, {4, 8 * time.Minute},
		{5, 16 * time.Minute}, {6, 30 * time.Minute}, {10, 30 * time.Minute}, {1 << 20, 30 * time.Minute},
	} {
		if got := DefaultBackoff(c.attempt); got != c.want {
			t.Errorf("DefaultBackoff(%d) = %v, want %v", c.attempt, got, c.want)
		}
	}
}

// TestDelivered: a 2xx ends the item as delivered; the PATCH is status only.
func TestDelivered(t *testing.T) {
	r := newRig(nil)
	r.st.add(pending("c-1", consent.StatusFailed, "patch_failed"))
	r.st.add(pending("c-2", consent.StatusRejected, "customer_rejected"))
	r.clock.set(t0.Add(time.Second))
	r.once(t, 2)
	ups := r.upd.all()
	slices.SortFunc(ups, func(a, b paynet.Update) int { return strings.Compare(a.ConsentID, b.ConsentID) })
	want := []paynet.Update{{ConsentID: "c-1", Status: paynet.StatusFailed}, {ConsentID: "c-2", Status: paynet.StatusRejected}}
	if len(ups) != 2 {
		t.Fatalf("updates %+v", ups)
	}
	for i := range want {
		u := ups[i]
		if u.ConsentID != want[i].ConsentID || u.Status != want[i].Status || u.IDToken != "" || u.UserIdentity != nil ||
			u.Accounts != nil || u.StatusReason != nil {
			t.Fatalf("update %d = %+v, want status only %+v", i, u, want[i])
		}
	}
	for _, id := range []string{"c-1", "c-2"} {
		if it := r.st.item(id); it.Outcome != OutcomeDelivered || !it.DoneAt.Equal(t0.Add(time.Second)) || it.Attempts != 1 {
			t.Fatalf("%s: %+v", id, it)
		}
	}
	if got := r.outcomes(t); len(got) != 1 || got[OutcomeDelivered] != 2 {
		t.Fatalf("outcomes %v", got)
	}
	if v := value(t, r.m.OutboxPending); v != 0 {
		t.Fatalf("pending gauge %v", v)
	}
	r.clock.set(t0.Add(time.Hour))
	r.once(t, 0)
	if len(r.upd.all()) != 2 {
		t.Fatal("a delivered item was sent again")
	}
}

// TestRefused: a definite refusal is not retried; it ends as "refused: <code>" with an ERROR log
// naming the consent and the interaction id, and nothing of the body.
func TestRefused(t *testing.T) {
	cases := []struct {
		name    string
		err     error
		outcome string
	}{
		{"PayNet error code", &paynet.UpdateError{Status: 403, Code: "Consent.Invalid", Attempts: 1}, "refused: Consent.Invalid"},
		{"no code", &paynet.UpdateError{Status: 409, Attempts: 1}, "refused: HTTP 409"},
		{"wrapped", fmt.Errorf("send: %w", &paynet.UpdateError{Status: 400, Code: "invalid_request", Attempts: 1}), "refused: invalid_request"},
		{"invalid update", fmt.Errorf("%w: status", paynet.ErrInvalidUpdate), "refused: invalid_update"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(func(int) error { return c.err })
			r.st.recordCall(store.OutboundCall{ConsentID: "c-1", InteractionID: "iid-journey"})
			r.st.add(pending("c-1", consent.StatusFailed, "patch_failed"))
			r.once(t, 1)
			it := r.st.item("c-1")
			if it.Outcome != c.outcome || it.DoneAt.IsZero() {
				t.Fatalf("item %+v, want outcome %q", it, c.outcome)
			}
			if got := r.outcomes(t); len(got) != 1 || got[OutcomeRefused] != 1 {
				t.Fatalf("outcomes %v", got)
			}
			errs := r.logs.records(t, "ERROR")
			if len(errs) != 1 {
				t.Fatalf("%d ERROR records:\n%s", len(errs), r.logs)
			}
			e := errs[0]
			if e["consent_id"] != "c-1" || e["interaction_id"] != "iid-1" || !strings.Contains(e["msg"].(string), "reconcile") {
				t.Fatalf("ERROR record %v", e)
			}
			r.clock.set(t0.Add(24 * time.Hour))
			r.once(t, 0)
			if len(r.upd.all()) != 1 {
				t.Fatal("a refused update was retried")
			}
		})
	}
}

// TestRetryWithBackoff: unknown outcomes (5xx, 429, network, timeout, anything not a definite
// refusal) are rescheduled 1, 2, 4, 8, 16, 30, 30 … minutes after each attempt, keeping the error.
func TestRetryWithBackoff(t *testing.T) {
	errs := []error{
		&paynet.UpdateError{Status: 502, Attempts: 3, Retryable: true},
		&paynet.UpdateError{Status: 429, Attempts: 1, Retryable: true},
		&paynet.UpdateError{Attempts: 2, Retryable: true, Err: &net.OpError{Op: "dial", Err: errors.New("connection refused")}},
		&paynet.UpdateError{Attempts: 1, Retryable: true, Err: context.DeadlineExceeded},
		errors.New("paynet: sign consent update: key gone"),
		&paynet.UpdateError{Status: 503, Attempts: 3, Retryable: true},
		&paynet.UpdateError{Status: 500, Attempts: 3, Retryable: true},
	}
	r := newRig(func(n int) error { return errs[n-1] })
	r.w.MaxAttempts = len(errs) + 1
	r.st.add(pending("c-1", consent.StatusRejected, "customer_rejected"))
	now := t0
	waits := []time.Duration{1, 2, 4, 8, 16, 30, 30}
	for i, wait := range waits {
		r.clock.set(now)
		r.once(t, 1)
		it := r.st.item("c-1")
		next := now.Add(wait * time.Minute)
		if it.Attempts != i+1 || !it.NextAttemptAt.Equal(next) || !it.LeaseUntil.IsZero() || !it.DoneAt.IsZero() ||
			it.LastError != errs[i].Error() {
			t.Fatalf("after attempt %d: %+v, want next %v", i+1, it, next)
		}
		r.clock.set(next.Add(-time.Nanosecond))
		r.once(t, 0) // not due yet
		now = next
	}
	if got := r.outcomes(t); len(got) != 1 || got[OutcomeRetry] != float64(len(waits)) {
		t.Fatalf("outcomes %v", got)
	}
	if v := value(t, r.m.OutboxPending); v != 1 {
		t.Fatalf("pending gauge %v", v)
	}
	if n := len(r.logs.records(t, "ERROR")); n != 0 {
		t.Fatalf("%d ERROR records during retries", n)
	}
	warns := r.logs.records(t, "WARN")
	if len(warns) != len(waits) || warns[0]["consent_id"] != "c-1" || warns[0]["interaction_id"] != "iid-1" {
		t.Fatalf("WARN records %v", warns)
	}
	// The next attempt succeeds.
	r.upd.result = nil
	r.clock.set(now)
	r.once(t, 1)
	if it := r.st.item("c-1"); it.Outcome != OutcomeDelivered || it.Attempts != len(waits)+1 {
		t.Fatalf("final %+v", it)
	}
}

// TestAbandon: after MaxAttempts failed deliveries the item is abandoned with an ERROR log.
func TestAbandon(t *testing.T) {
	r := newRig(func(int) error { return &paynet.UpdateError{Status: 504, Attempts: 3, Retryable: true} })
	r.w.MaxAttempts = 3
	r.w.Backoff = func(n int) time.Duration { return time.Duration(n) * time.Second }
	r.st.add(pending("c-1", consent.StatusFailed, "patch_failed"))
	for i, at := range []time.Duration{0, time.Second, 3 * time.Second} {
		r.clock.set(t0.Add(at))
		r.once(t, 1)
		it := r.st.item("c-1")
		if done := i == 2; done != (it.Outcome == OutcomeAbandoned) || done == it.DoneAt.IsZero() {
			t.Fatalf("after attempt %d: %+v", i+1, it)
		}
	}
	r.clock.set(t0.Add(24 * time.Hour))
	r.once(t, 0)
	if n := len(r.upd.all()); n != 3 {
		t.Fatalf("%d deliveries, want 3", n)
	}
	if got := r.outcomes(t); len(got) != 2 || got[OutcomeRetry] != 2 || got[OutcomeAbandoned] != 1 {
		t.Fatalf("outcomes %v", got)
	}
	errs := r.logs.records(t, "ERROR")
	if len(errs) != 1 || errs[0]["consent_id"] != "c-1" || errs[0]["interaction_id"] != "iid-3" ||
		errs[0]["max_attempts"] != float64(3) || !strings.Contains(errs[0]["msg"].(string), "abandoned") {
		t.Fatalf("ERROR records %v", errs)
	}
}

// TestDefaultMaxAttempts: without MaxAttempts an item is tried ten times.
func TestDefaultMaxAttempts(t *testing.T) {
	r := newRig(func(int) error { return errors.New("connection reset") })
	r.st.add(pending("c-1", consent.StatusFailed, "patch_failed"))
	now := t0
	for range 20 {
		r.clock.set(now)
		if _, err := r.w.RunOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		now = now.Add(MaxBackoff)
	}
	if n := len(r.upd.all()); n != DefaultMaxAttempts {
		t.Fatalf("%d deliveries, want %d", n, DefaultMaxAttempts)
	}
	if it := r.st.item("c-1"); it.Outcome != OutcomeAbandoned {
		t.Fatalf("item %+v", it)
	}
}

// TestLeasePreventsDoubleSending: while one worker is delivering an item, another worker (another
// replica) does not claim it; once the first is done, nobody sends it again.
func TestLeasePreventsDoubleSending(t *testing.T) {
	r := newRig(nil)
	r.upd.gate, r.upd.started = make(chan struct{}), make(chan string, 1)
	r.st.add(pending("c-1", consent.StatusFailed, "patch_failed"))
	other := &fakeUpdater{calls: r.st}
	second := &Worker{Store: r.st, Updater: other, Now: r.clock.now, Logger: r.w.Logger}

	done := make(chan struct{})
	go func() { defer close(done); r.once(t, 1) }()
	<-r.upd.started
	for _, at := range []time.Duration{0, time.Minute, DefaultLease - time.Nanosecond} {
		r.clock.set(t0.Add(at))
		if n, err := second.RunOnce(context.Background()); err != nil || n != 0 {
			t.Fatalf("second worker at +%v: %d %v", at, n, err)
		}
	}
	close(r.upd.gate)
	<-done
	r.clock.set(t0.Add(time.Hour))
	if n, err := second.RunOnce(context.Background()); err != nil || n != 0 {
		t.Fatalf("second worker after delivery: %d %v", n, err)
	}
	if len(r.upd.all()) != 1 || len(other.all()) != 0 {
		t.Fatalf("deliveries: first %d, second %d", len(r.upd.all()), len(other.all()))
	}
}

// TestLeaseRealStore: two workers on two connections to one SQLite database, each delivering
// at once, send every item exactly once.
func TestLeaseRealStore(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ofpdp.db")
	clk := &clock{t: t0}
	open := func() *store.Store {
		s, err := store.Open(ctx, path, store.Options{Now: clk.now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	a, b := open(), open()
	if err := a.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	const items = 30
	for i := range items {
		if err := a.EnqueueUpdate(ctx, store.OutboxItem{ConsentID: fmt.Sprintf("c-%02d", i), Status: consent.StatusFailed, Reason: "patch_failed"}); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	sent := map[string]int{}
	upd := &countingUpdater{mu: &mu, sent: sent}
	logger := slog.New(slog.DiscardHandler)
	workers := []*Worker{
		{Store: a, Updater: upd, Now: clk.now, Logger: logger, Batch: 4},
		{Store: b, Updater: upd, Now: clk.now, Logger: logger, Batch: 4},
	}
	drainTogether(t, workers)
	checkSentOnce(t, a, sent, items)
}

// drainTogether runs the workers at once until none has anything left.
func drainTogether(t *testing.T, workers []*Worker) {
	t.Helper()
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Go(func() {
			for {
				n, err := w.RunOnce(context.Background())
				if err != nil {
					t.Error(err)
					return
				}
				if n == 0 {
					return
				}
			}
		})
	}
	wg.Wait()
}

// checkSentOnce: every one of the items reached PayNet exactly once and nothing is pending.
func checkSentOnce(t *testing.T, st *store.Store, sent map[string]int, items int) {
	t.Helper()
	if len(sent) != items {
		t.Fatalf("%d items sent, want %d", len(sent), items)
	}
	for id, n := range sent {
		if n != 1 {
			t.Fatalf("%s sent %d times", id, n)
		}
	}
	if n, err := st.PendingUpdates(context.Background()); err != nil || n != 0 {
		t.Fatalf("pending %d %v", n, err)
	}
}

type countingUpdater struct {
	mu   *sync.Mutex
	sent map[string]int
}

func (u *countingUpdater) RevokeConsent(ctx context.Context, r paynet.Revocation) error {
	return u.UpdateConsent(ctx, paynet.Update{ConsentID: r.ConsentID, Status: string(consent.StatusRevoked)})
}

func (u *countingUpdater) UpdateConsent(_ context.Context, up paynet.Update) error {
	u.mu.Lock()
	u.sent[up.ConsentID]++
	u.mu.Unlock()
	time.Sleep(time.Millisecond) // hold the lease a moment, as a real PATCH would
	return nil
}

// TestShutdownReleases: a worker stopped mid-delivery gives the item back, due at once and not
// completed; items it had claimed but not started are released as they were.
func TestShutdownReleases(t *testing.T) {
	r := newRig(nil)
	r.upd.gate, r.upd.started = make(chan struct{}), make(chan string, 1)
	r.w.Batch = 2
	r.st.add(pending("c-1", consent.StatusFailed, "patch_failed"))
	second := pending("c-2", consent.StatusRejected, "customer_rejected")
	second.NextAttemptAt = t0.Add(time.Nanosecond)
	r.st.add(second)
	r.clock.set(t0.Add(time.Second))

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() {
		n, _ := r.w.RunOnce(ctx)
		done <- n
	}()
	if id := <-r.upd.started; id != "c-1" {
		t.Fatalf("first delivery %s", id)
	}
	cancel()
	if n := <-done; n != 1 {
		t.Fatalf("handled %d", n)
	}
	c1, c2 := r.st.item("c-1"), r.st.item("c-2")
	if !c1.DoneAt.IsZero() || !c1.LeaseUntil.IsZero() || !c1.NextAttemptAt.Equal(t0.Add(time.Second)) || c1.LastError == "" {
		t.Fatalf("c-1 %+v", c1)
	}
	if !c2.DoneAt.IsZero() || !c2.LeaseUntil.IsZero() || !c2.NextAttemptAt.Equal(second.NextAttemptAt) {
		t.Fatalf("c-2 %+v", c2)
	}
	if len(r.upd.all()) != 1 {
		t.Fatalf("deliveries %d", len(r.upd.all()))
	}
	if got := r.outcomes(t); len(got) != 0 {
		t.Fatalf("outcomes %v", got)
	}
}

// TestRun: Run passes at once and every Interval (synctest time), survives a failing pass and
// returns when its context ends.
func TestRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := newFakeStore()
		upd := &fakeUpdater{calls: st}
		logs := &logBuffer{}
		w := &Worker{Store: st, Updater: upd, Interval: 10 * time.Second, Logger: slog.New(slog.NewJSONHandler(logs, nil))}
		start := time.Now()
		st.add(store.OutboxItem{ConsentID: "c-now", Status: consent.StatusFailed, NextAttemptAt: start})
		st.add(store.OutboxItem{ConsentID: "c-later", Status: consent.StatusFailed, NextAttemptAt: start.Add(25 * time.Second)})

		ctx, cancel := context.WithCancel(context.Background())
		ret := make(chan error)
		go func() { ret <- w.Run(ctx) }()
		synctest.Wait()
		if it := st.item("c-now"); it.Outcome != OutcomeDelivered {
			t.Fatalf("first pass: %+v", it)
		}
		st.mu.Lock()
		st.fail = errors.New("database down")
		st.mu.Unlock()
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if len(logs.records(t, "WARN")) != 1 {
			t.Fatalf("failing pass not logged:\n%s", logs)
		}
		st.mu.Lock()
		st.fail = nil
		st.mu.Unlock()
		time.Sleep(10 * time.Second) // +20 s: c-later not due yet
		synctest.Wait()
		if it := st.item("c-later"); it.Attempts != 0 {
			t.Fatalf("+20s: %+v", it)
		}
		time.Sleep(10 * time.Second) // +30 s
		synctest.Wait()
		if it := st.item("c-later"); it.Outcome != OutcomeDelivered || !it.DoneAt.Equal(start.Add(30*time.Second)) {
			t.Fatalf("+30s: %+v", it)
		}
		cancel()
		if err := <-ret; err != nil {
			t.Fatalf("Run = %v", err)
		}
		if len(upd.all()) != 2 {
			t.Fatalf("deliveries %d", len(upd.all()))
		}
	})
}

func TestMisconfigured(t *testing.T) {
	for _, w := range []*Worker{{}, {Store: newFakeStore()}, {Updater: &fakeUpdater{}}} {
		if err := w.Run(context.Background()); !errors.Is(err, ErrMisconfigured) {
			t.Fatalf("Run = %v", err)
		}
		if _, err := w.RunOnce(context.Background()); !errors.Is(err, ErrMisconfigured) {
			t.Fatalf("RunOnce = %v", err)
		}
	}
}
