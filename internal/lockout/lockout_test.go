package lockout

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/ofpdp/ofpdp/internal/store"
	"github.com/ofpdp/ofpdp/internal/storetest"
)

func openStore(t *testing.T, e storetest.Engine) *store.Store {
	t.Helper()
	st, err := store.Open(t.Context(), e.URL(t), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestPolicyDefaults(t *testing.T) {
	p, err := Policy{}.WithDefaults()
	if err != nil {
		t.Fatal(err)
	}
	want := Policy{MaxFailures: 5, DelayStep: 30 * time.Second, HardLockFailures: 20, Window: 15 * time.Minute,
		PerClient: 30, PerConsent: 10, GlobalPerMinute: 600}
	if p != want {
		t.Fatalf("defaults %+v", p)
	}
	for _, bad := range []Policy{
		{MaxFailures: -1},
		{MaxFailures: 10, HardLockFailures: 5},
		{Window: 25 * time.Hour},
		{DelayStep: -time.Second},
		{PerClient: -3},
	} {
		if _, err := bad.WithDefaults(); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

// refusal begins a, expecting the refusal want (nil: allowed, then failed).
func refusal(t *testing.T, g *Guard, a Attempt, now time.Time) error {
	t.Helper()
	tk, err := g.Begin(context.Background(), a, now)
	if err != nil {
		var r *Refused
		if !errors.As(err, &r) {
			t.Fatalf("store error: %v", err)
		}
		return err
	}
	tk.Failed()
	return nil
}

func TestGuard(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			now := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
			p := Policy{MaxFailures: 3, DelayStep: time.Minute, HardLockFailures: 6, Window: 15 * time.Minute,
				PerClient: 8, PerConsent: 100, GlobalPerMinute: 1000}

			t.Run("progressive delay per username and client", func(t *testing.T) {
				g, _ := New(p, openStore(t, e))
				a := Attempt{Username: "Aisyah", Client: "198.51.100.7", ConsentID: "c1"}
				for range 3 {
					if err := refusal(t, g, a, now); err != nil {
						t.Fatal(err)
					}
				}
				err := refusal(t, g, Attempt{Username: "AISYAH", Client: a.Client, ConsentID: "c1"}, now)
				var r *Refused
				if !errors.As(err, &r) || !errors.Is(err, ErrDelayed) || !r.RetryAt.Equal(now.Add(time.Minute)) || r.Locks() {
					t.Fatalf("fourth: %v %+v", err, r)
				}
				// The customer at another address is not delayed by someone else's guesses.
				if err := refusal(t, g, Attempt{Username: "aisyah", Client: "203.0.113.9", ConsentID: "c1"}, now); err != nil {
					t.Fatalf("other client: %v", err)
				}
				if err := refusal(t, g, a, now.Add(time.Minute)); err != nil {
					t.Fatalf("after the delay: %v", err)
				}
				if err := refusal(t, g, a, now.Add(time.Minute+time.Second)); !errors.Is(err, ErrDelayed) {
					t.Fatalf("second delay: %v", err)
				}
			})

			t.Run("hard lock per username from anywhere", func(t *testing.T) {
				g, _ := New(p, openStore(t, e))
				for i := range 6 {
					if err := refusal(t, g, Attempt{Username: "u", Client: fmt.Sprint("10.0.0.", i), ConsentID: "c"}, now); err != nil {
						t.Fatal(err)
					}
				}
				err := refusal(t, g, Attempt{Username: "u", Client: "10.0.1.1", ConsentID: "c"}, now)
				var r *Refused
				if !errors.As(err, &r) || !errors.Is(err, ErrUsernameLocked) || !r.Locks() || !r.RetryAt.Equal(now.Add(15*time.Minute)) {
					t.Fatalf("locked: %v", err)
				}
				if err := refusal(t, g, Attempt{Username: "u", Client: "10.0.1.1", ConsentID: "c"}, now.Add(15*time.Minute)); err != nil {
					t.Fatalf("after the window: %v", err)
				}
			})

			t.Run("password spraying from one address", func(t *testing.T) {
				g, _ := New(p, openStore(t, e))
				for i := range 8 {
					if err := refusal(t, g, Attempt{Username: fmt.Sprint("user", i), Client: "192.0.2.1", ConsentID: "c"}, now); err != nil {
						t.Fatal(err)
					}
				}
				if err := refusal(t, g, Attempt{Username: "user9", Client: "192.0.2.1", ConsentID: "c"}, now); !errors.Is(err, ErrClientLimited) {
					t.Fatalf("spraying: %v", err)
				}
				// A refused attempt took nothing from the username's counters.
				if err := refusal(t, g, Attempt{Username: "user9", Client: "192.0.2.2", ConsentID: "c"}, now); err != nil {
					t.Fatalf("user9 elsewhere: %v", err)
				}
			})

			t.Run("per consent and global", func(t *testing.T) {
				q := p
				q.PerConsent, q.GlobalPerMinute, q.PerClient = 2, 3, 100
				g, _ := New(q, openStore(t, e))
				refusal(t, g, Attempt{Username: "a", Client: "1", ConsentID: "k"}, now)
				refusal(t, g, Attempt{Username: "b", Client: "2", ConsentID: "k"}, now)
				if err := refusal(t, g, Attempt{Username: "c", Client: "3", ConsentID: "k"}, now); !errors.Is(err, ErrConsentLocked) {
					t.Fatalf("consent: %v", err)
				}
				refusal(t, g, Attempt{Username: "d", Client: "4", ConsentID: "other"}, now)
				if err := refusal(t, g, Attempt{Username: "e", Client: "5", ConsentID: "third"}, now); !errors.Is(err, ErrGlobalLimited) {
					t.Fatalf("global: %v", err)
				}
				if err := refusal(t, g, Attempt{Username: "e", Client: "5", ConsentID: "third"}, now.Add(time.Minute)); err != nil {
					t.Fatalf("next minute: %v", err)
				}
			})

			t.Run("success clears the username and gives the rest back", func(t *testing.T) {
				q := p
				q.PerClient = 3
				g, _ := New(q, openStore(t, e))
				a := Attempt{Username: "u", Client: "192.0.2.1", ConsentID: "c"}
				refusal(t, g, a, now)
				refusal(t, g, a, now)
				tk, err := g.Begin(context.Background(), a, now)
				if err != nil {
					t.Fatal(err)
				}
				if err := tk.Succeeded(context.Background()); err != nil {
					t.Fatal(err)
				}
				// Two failures still count for the address (3 allowed): one more, then refused.
				if err := refusal(t, g, Attempt{Username: "v", Client: a.Client, ConsentID: "c"}, now); err != nil {
					t.Fatal(err)
				}
				if err := refusal(t, g, Attempt{Username: "w", Client: a.Client, ConsentID: "c"}, now); !errors.Is(err, ErrClientLimited) {
					t.Fatalf("client after success: %v", err)
				}
			})

			t.Run("abandoned attempts do not count", func(t *testing.T) {
				g, _ := New(p, openStore(t, e))
				a := Attempt{Username: "u", Client: "192.0.2.1", ConsentID: "c"}
				for range 10 {
					tk, err := g.Begin(context.Background(), a, now)
					if err != nil {
						t.Fatal(err)
					}
					if err := tk.Abandoned(context.Background()); err != nil {
						t.Fatal(err)
					}
				}
			})
		})
	}
}
