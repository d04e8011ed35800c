package web

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ofpdp/ofpdp/connector"
	"github.com/ofpdp/ofpdp/internal/consent"
	"github.com/ofpdp/ofpdp/internal/lockout"
	"github.com/ofpdp/ofpdp/internal/store"
	"github.com/ofpdp/ofpdp/internal/storetest"
)

// slowBank answers every Authenticate after a pause, so that concurrent logins overlap, and
// counts the calls that reached it.
type slowBank struct {
	*fakeBank
	pause time.Duration
	calls atomic.Int64
}

func (b *slowBank) Authenticate(ctx context.Context, username, password string) (connector.Customer, error) {
	b.calls.Add(1)
	time.Sleep(b.pause)
	return b.fakeBank.Authenticate(ctx, username, password)
}

// newEngineHarness is newHarness over a real store of one engine, with the consent stored
// through a PayNet event, and a bank that answers slowly.
func newEngineHarness(t *testing.T, e storetest.Engine, mod func(*Options)) (*harness, *store.Store, *slowBank) {
	t.Helper()
	ctx := t.Context()
	hs := newHarness(t, nil)
	st, err := store.Open(ctx, e.URL(t), store.Options{Now: hs.clock.now, MaxOpenConns: 16})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	c := testConsent(hs.clock.now())
	raw, _ := json.Marshal(map[string]any{"event_type": consent.EventCreated, "data": c})
	if _, err := st.ApplyEvent(ctx, consent.Event{Type: consent.EventCreated, Consent: c, Raw: raw},
		store.EventReceipt{Type: consent.EventCreated, Raw: raw, ReceivedAt: hs.clock.now()}); err != nil {
		t.Fatal(err)
	}
	bk := &slowBank{fakeBank: newFakeBank(), pause: 20 * time.Millisecond}
	o := hs.h.o
	o.Store, o.Bank = st, bk
	o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	if mod != nil {
		mod(&o)
	}
	h, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	h.pollEvery, h.waitFor = 5*time.Millisecond, 5*time.Second
	hs.h, hs.store = h, nil
	return hs, st, bk
}

// TestLoginLockoutConcurrent (hardening: lockout beaten by parallel requests): 30 wrong logins
// sent at once — from one session, and from 30 sessions of one client — reach the core bank at
// most LoginMaxFailures times, on both engines.
func TestLoginLockoutConcurrent(t *testing.T) {
	const parallel = 30
	for _, e := range storetest.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			t.Run("one session", func(t *testing.T) {
				hs, _, bk := newEngineHarness(t, e, nil)
				hs.start()
				form := url.Values{"username": {"aisyah"}, "password": {"wrong"}, "csrf": {hs.csrf}}
				var wg sync.WaitGroup
				for range parallel {
					wg.Go(func() {
						w := hs.raw(http.MethodPost, pathLogin, form)
						if w.Code >= 500 {
							t.Errorf("status %d", w.Code)
						}
					})
				}
				wg.Wait()
				if n := bk.calls.Load(); n > lockout.DefaultMaxFailures {
					t.Fatalf("%d logins reached the bank; the limit is %d", n, lockout.DefaultMaxFailures)
				}
			})
			t.Run("many sessions", func(t *testing.T) {
				hs, _, bk := newEngineHarness(t, e, func(o *Options) { o.SessionsPerConsent = 2 * parallel })
				browsers := make([]*harness, parallel)
				for i := range browsers {
					browsers[i] = newBrowser(hs)
					browsers[i].start()
				}
				var wg sync.WaitGroup
				for _, b := range browsers {
					wg.Go(func() {
						form := url.Values{"username": {"aisyah"}, "password": {"wrong"}, "csrf": {b.csrf}}
						if w := b.raw(http.MethodPost, pathLogin, form); w.Code >= 500 {
							t.Errorf("status %d", w.Code)
						}
					})
				}
				wg.Wait()
				if n := bk.calls.Load(); n > lockout.DefaultMaxFailures {
					t.Fatalf("%d logins reached the bank; the limit is %d", n, lockout.DefaultMaxFailures)
				}
			})
		})
	}
}
