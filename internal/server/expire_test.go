package server

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/ofpdp/ofpdp/internal/config"
	"github.com/ofpdp/ofpdp/internal/consent"
	"github.com/ofpdp/ofpdp/internal/store"
	"github.com/ofpdp/ofpdp/internal/storetest"
)

// Two replicas' expiry jobs tick at once on one database: exactly one holds the lease and moves
// the consent past its expiration_datetime to expired; the other does nothing.
func TestExpirerLease(t *testing.T) {
	for _, eng := range storetest.Engines() {
		t.Run(eng.Name, func(t *testing.T) {
			ctx := context.Background()
			u := eng.URL(t)
			now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
			logger := slog.New(slog.NewTextHandler(io.Discard, nil))
			var jobs []*expirer
			for range 2 {
				st, err := store.Open(ctx, u, store.Options{Now: func() time.Time { return now }})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { st.Close() })
				if err := st.Migrate(ctx); err != nil {
					t.Fatal(err)
				}
				jobs = append(jobs, newExpirer(st, config.Expiry{Interval: time.Minute, BatchSize: 10}, func() time.Time { return now }, logger))
			}
			for i, exp := range []time.Time{now.Add(-time.Second), now.Add(time.Hour)} {
				c := consent.Consent{ConsentID: []string{"due", "later"}[i], DCID: "DC1", DPID: "DP1",
					ConsentType: consent.TypeAccountAccessURN, Purpose: consent.PurposePFM,
					Permissions: []consent.Permission{consent.PermReadAccounts}, ExpirationDatetime: exp,
					Status: consent.StatusAuthorized, CreatedAt: now.AddDate(0, -1, 0), UpdatedAt: now.AddDate(0, -1, 0), UpdatedBy: "ofp"}
				if _, err := jobs[0].store.ApplyEvent(ctx, consent.Event{Type: consent.EventCreated, Consent: c, Raw: []byte(`{}`)},
					store.EventReceipt{ReceivedAt: now}); err != nil {
					t.Fatal(err)
				}
			}
			var wg sync.WaitGroup
			held := make([]bool, 2)
			got := make([][]string, 2)
			for i, x := range jobs {
				wg.Go(func() { got[i], held[i] = x.runOnce(ctx) })
			}
			wg.Wait()
			if held[0] == held[1] {
				t.Fatalf("holders %v, want exactly one", held)
			}
			w := 0
			if held[1] {
				w = 1
			}
			if len(got[w]) != 1 || got[w][0] != "due" || len(got[1-w]) != 0 {
				t.Fatalf("expired %v", got)
			}
			for id, want := range map[string]consent.Status{"due": consent.StatusExpired, "later": consent.StatusAuthorized} {
				rec, err := jobs[0].store.GetConsent(ctx, id)
				if err != nil || rec.Consent.Status != want {
					t.Fatalf("%s: %v %v", id, rec.Consent.Status, err)
				}
			}
		})
	}
}
