package server

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/ofpdp/ofpdp/internal/config"
	"github.com/ofpdp/ofpdp/internal/obs"
	"github.com/ofpdp/ofpdp/internal/store"
	"github.com/ofpdp/ofpdp/internal/storetest"
)

// Two replicas' purgers tick at once on one database: exactly one holds the lease and purges,
// the other counts leased_elsewhere; the holder keeps the lease at its next tick.
func TestPurgerLease(t *testing.T) {
	for _, eng := range storetest.Engines() {
		t.Run(eng.Name, func(t *testing.T) {
			ctx := context.Background()
			u := eng.URL(t)
			r := config.Retention{Audit: 7 * 8760 * time.Hour, ConsentHistory: 7 * 8760 * time.Hour, OutboundCalls: 8760 * time.Hour,
				Outbox: 2160 * time.Hour, Sessions: 24 * time.Hour, Interval: time.Hour, BatchSize: 2}
			logger := slog.New(slog.NewTextHandler(io.Discard, nil))
			var purgers []*purger
			for range 2 {
				st, err := store.Open(ctx, u, store.Options{})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { st.Close() })
				if err := st.Migrate(ctx); err != nil {
					t.Fatal(err)
				}
				purgers = append(purgers, newPurger(st, r, obs.NewMetrics(), logger))
			}
			old := time.Now().Add(-8 * 8760 * time.Hour)
			for range 5 {
				if err := purgers[0].store.Audit(ctx, store.AuditEntry{At: old, Actor: "dp", Action: "old"}); err != nil {
					t.Fatal(err)
				}
			}
			var wg sync.WaitGroup
			held := make([]bool, len(purgers))
			for i, p := range purgers {
				wg.Go(func() { held[i] = p.runOnce(ctx) })
			}
			wg.Wait()
			if held[0] == held[1] {
				t.Fatalf("holders: %v, want exactly one", held)
			}
			winner, loser := purgers[0], purgers[1]
			if held[1] {
				winner, loser = loser, winner
			}
			if n := counterValue(t, winner.metrics.PurgedRows.WithLabelValues(store.TableAudit)); n != 5 {
				t.Errorf("winner purged %v audit rows, want 5", n)
			}
			if n := counterValue(t, loser.metrics.PurgeRuns.WithLabelValues("leased_elsewhere")); n != 1 {
				t.Errorf("loser: %v leased_elsewhere runs", n)
			}
			if !winner.runOnce(ctx) || loser.runOnce(ctx) {
				t.Error("the holder did not keep the lease at its next tick")
			}
			// At shutdown the holder releases the lease; the other replica takes over.
			cctx, cancel := context.WithCancel(ctx)
			cancel()
			winner.run(cctx)
			if !loser.runOnce(ctx) {
				t.Error("the lease was not released at shutdown")
			}
		})
	}
}

func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}
