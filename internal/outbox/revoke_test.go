package outbox

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ofpdp/ofpdp/internal/consent"
	"github.com/ofpdp/ofpdp/internal/paynet"
	"github.com/ofpdp/ofpdp/internal/store"
	"github.com/ofpdp/ofpdp/internal/storetest"
)

// TestRevocationDelivered: a revoked item goes out as a revocation (spec §3.2.3) with a plain
// description, not as a consent update.
func TestRevocationDelivered(t *testing.T) {
	r := newRig(nil)
	r.st.add(pending("c-1", consent.StatusRevoked, ReasonCustomerRevoked))
	r.once(t, 1)
	ups := r.upd.all()
	if len(ups) != 1 || ups[0].Status != "revoked" || ups[0].StatusReason == nil ||
		ups[0].StatusReason.ReasonDescription != "revoked by the customer at the data provider" {
		t.Fatalf("sent %+v", ups)
	}
	if it := r.st.item("c-1"); it.Outcome != OutcomeDelivered {
		t.Fatalf("item %+v", it)
	}
}

// TestRevocationRefusedAlerts: PayNet refusing a revocation ends the item as refused, counts it
// and logs an ERROR saying data stays refused (the alert of docs/operations.md).
func TestRevocationRefusedAlerts(t *testing.T) {
	r := newRig(func(int) error { return &paynet.UpdateError{Status: 409, Code: "Consent.Invalid", Attempts: 1} })
	r.st.add(pending("c-1", consent.StatusRevoked, "fraud"))
	r.once(t, 1)
	if it := r.st.item("c-1"); it.Outcome != "refused: Consent.Invalid" {
		t.Fatalf("item %+v", it)
	}
	errs := r.logs.records(t, "ERROR")
	if len(errs) != 1 || !strings.Contains(errs[0]["msg"].(string), "keeps refusing data") {
		t.Fatalf("ERROR records %v", errs)
	}
	if got := r.outcomes(t); got[OutcomeRefused] != 1 {
		t.Fatalf("outcomes %v", got)
	}
}

// TestDefaultJitter: the wait stays within [d/2, d).
func TestDefaultJitter(t *testing.T) {
	for _, c := range []struct {
		rand float64
		want time.Duration
	}{{0, 30 * time.Second}, {0.5, 45 * time.Second}, {0.999999, 59*time.Second + 999940*time.Microsecond}} {
		if got := DefaultJitter(time.Minute, c.rand); got.Round(time.Millisecond) != c.want.Round(time.Millisecond) {
			t.Errorf("DefaultJitter(1m, %v) = %v, want %v", c.rand, got, c.want)
		}
	}
	w := &Worker{}
	for range 100 {
		if d := w.backoff(1); d < FirstBackoff/2 || d >= FirstBackoff {
			t.Fatalf("jittered first backoff %v", d)
		}
	}
}

// TestRevocationReplicas: two replicas on one database (SQLite and PostgreSQL) revoke the same
// consents at once and run their workers at once: PayNet hears exactly one revocation per consent.
func TestRevocationReplicas(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			ctx := context.Background()
			u := e.URL(t)
			clk := &clock{t: t0}
			open := func() *store.Store {
				s, err := store.Open(ctx, u, store.Options{Now: clk.now})
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
			const n = 12
			for i := range n {
				c := consent.Consent{ConsentID: fmt.Sprintf("r-%02d", i), DCID: "DC1", DPID: "DP1",
					ConsentType: consent.TypeAccountAccessURN, Purpose: consent.PurposePFM,
					Permissions:        []consent.Permission{consent.PermReadAccounts},
					ExpirationDatetime: t0.AddDate(1, 0, 0), Status: consent.StatusAuthorized,
					CreatedAt: t0, UpdatedAt: t0, UpdatedBy: "ofp"}
				ev := consent.Event{Type: consent.EventCreated, Consent: c, Raw: []byte(`{}`)}
				if _, err := a.ApplyEvent(ctx, ev, store.EventReceipt{ReceivedAt: t0}); err != nil {
					t.Fatal(err)
				}
			}
			var wg sync.WaitGroup
			for i := range n {
				for _, st := range []*store.Store{a, b} {
					wg.Go(func() {
						if _, err := st.RevokeConsent(ctx, fmt.Sprintf("r-%02d", i),
							store.LocalChange{Actor: "customer", Channel: store.ChannelWeb, ReasonCode: ReasonCustomerRevoked}); err != nil {
							t.Error(err)
						}
					})
				}
			}
			wg.Wait()
			var mu sync.Mutex
			sent := map[string]int{}
			upd := &countingUpdater{mu: &mu, sent: sent}
			logger := slog.New(slog.DiscardHandler)
			drainTogether(t, []*Worker{
				{Store: a, Updater: upd, Now: clk.now, Logger: logger, Batch: 3},
				{Store: b, Updater: upd, Now: clk.now, Logger: logger, Batch: 3},
			})
			checkSentOnce(t, a, sent, n)
		})
	}
}

// TestRevocationWhilePayNetDown: PayNet is down when the customer stops sharing. The revocation
// is recorded and data is refused at once; the item waits, retried with backoff, while data
// stays refused; it is delivered when PayNet is back. On both engines.
func TestRevocationWhilePayNetDown(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			ctx := context.Background()
			clk := &clock{t: t0}
			st, err := store.Open(ctx, e.URL(t), store.Options{Now: clk.now})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			if err := st.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			c := consent.Consent{ConsentID: "down-1", DCID: "DC1", DPID: "DP1", ConsentType: consent.TypeAccountAccessURN,
				Purpose: consent.PurposePFM, Permissions: []consent.Permission{consent.PermReadBalances},
				ExpirationDatetime: t0.AddDate(1, 0, 0), Status: consent.StatusAwaitingAuthorization,
				CreatedAt: t0, UpdatedAt: t0, UpdatedBy: "ofp"}
			if _, err := st.ApplyEvent(ctx, consent.Event{Type: consent.EventCreated, Consent: c, Raw: []byte(`{}`)},
				store.EventReceipt{ReceivedAt: t0}); err != nil {
				t.Fatal(err)
			}
			if _, err := st.Authorize(ctx, c.ConsentID, 1, store.Authorization{Status: consent.StatusAuthorized, CustomerRef: "cust",
				Accounts: []store.AuthorizedAccount{{AccountID: "acc-1", AccountRef: "REF-1", AccountNumber: "1234567890", AccountName: "Savings"}},
				Approved: new(consent.Approve(c, []string{"acc-1"}))}); err != nil {
				t.Fatal(err)
			}
			served := func() bool {
				t.Helper()
				rec, ref, err := st.ConsentAccount(ctx, c.ConsentID, "acc-1")
				if err != nil {
					t.Fatal(err)
				}
				return ref != "" && consent.Effective(rec.Consent, *rec.Approved()).EffectiveStatus(clk.now()) == consent.StatusAuthorized
			}
			if !served() {
				t.Fatal("data refused before the revocation")
			}
			down := true
			upd := &fakeUpdater{result: func(int) error {
				if down {
					return &paynet.UpdateError{Status: 503, Attempts: 3, Retryable: true}
				}
				return nil
			}}
			w := &Worker{Store: st, Updater: upd, Now: clk.now, Logger: slog.New(slog.DiscardHandler), Jitter: noJitter}

			if _, err := st.RevokeConsent(ctx, c.ConsentID, store.LocalChange{Actor: "customer", Channel: store.ChannelWeb,
				ReasonCode: ReasonCustomerRevoked}); err != nil {
				t.Fatal(err)
			}
			if served() {
				t.Fatal("data still served after the revocation was recorded")
			}
			for i := range 2 {
				if n, err := w.RunOnce(ctx); err != nil || n != 1 {
					t.Fatalf("pass %d: %d %v", i, n, err)
				}
				if served() {
					t.Fatal("data served while PayNet is down")
				}
				clk.set(clk.now().Add(DefaultBackoff(i + 1)))
			}
			items, _ := st.ListOutbox(ctx, 10)
			if len(items) != 1 || items[0].Outcome != "" || items[0].Attempts != 2 {
				t.Fatalf("while down: %+v", items)
			}
			down = false
			if n, err := w.RunOnce(ctx); err != nil || n != 1 {
				t.Fatalf("PayNet back: %d %v", n, err)
			}
			items, _ = st.ListOutbox(ctx, 10)
			if len(items) != 1 || items[0].Outcome != OutcomeDelivered {
				t.Fatalf("after PayNet is back: %+v", items)
			}
			if ups := upd.all(); len(ups) != 3 || ups[2].Status != "revoked" {
				t.Fatalf("sent %+v", ups)
			}
			if served() {
				t.Fatal("data served after the revocation reached PayNet")
			}
		})
	}
}
