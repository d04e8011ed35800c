package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"os"
	"time"

	"github.com/ofpdp/ofpdp/internal/config"
	"github.com/ofpdp/ofpdp/internal/obs"
	"github.com/ofpdp/ofpdp/internal/store"
)

// purgeLease names the lease (store.TryLease) under which one replica at a time purges.
const purgeLease = "retention-purge"

// purger runs the retention purge (design §5; docs/operations.md "Retention") every interval on
// the replica that holds the purge lease. The holder renews the lease at each run, for two
// intervals, so it keeps purging while it lives; when it stops (or releases the lease at
// shutdown) another replica takes over at its next tick.
type purger struct {
	store     *store.Store
	retention store.Retention
	interval  time.Duration
	holder    string
	metrics   *obs.Metrics
	logger    *slog.Logger
}

func newPurger(st *store.Store, r config.Retention, m *obs.Metrics, logger *slog.Logger) *purger {
	return &purger{store: st, interval: r.Interval, holder: leaseHolder(), metrics: m, logger: logger,
		retention: store.Retention{Audit: r.Audit, ConsentHistory: r.ConsentHistory, OutboundCalls: r.OutboundCalls,
			Outbox: r.Outbox, Sessions: r.Sessions, BatchSize: r.BatchSize}}
}

// leaseHolder names this process among the replicas: host name and a random suffix.
func leaseHolder() string {
	host, _ := os.Hostname()
	var b [6]byte
	_, _ = rand.Read(b[:])
	return host + "/" + hex.EncodeToString(b[:])
}

// run purges every interval until ctx ends, then releases the lease.
func (p *purger) run(ctx context.Context) {
	everyInterval(ctx, p.store, purgeLease, p.holder, p.interval, p.logger, func(ctx context.Context) { p.runOnce(ctx) })
}

// everyInterval calls once every interval until ctx ends, then releases the lease name held by
// holder, so another replica need not wait for it to run out (the loop of the leased jobs).
func everyInterval(ctx context.Context, st *store.Store, name, holder string, interval time.Duration,
	logger *slog.Logger, once func(ctx context.Context)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			rctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			if err := st.ReleaseLease(rctx, name, holder); err != nil {
				logger.Warn("release lease", "lease", name, "cause", err.Error())
			}
			return
		case <-t.C:
			once(ctx)
		}
	}
}

// runOnce purges if this replica holds (or now takes) the lease, and reports whether it did.
func (p *purger) runOnce(ctx context.Context) bool {
	held, err := p.store.TryLease(ctx, purgeLease, p.holder, 2*p.interval)
	if err != nil {
		p.metrics.PurgeRuns.WithLabelValues("error").Inc()
		p.logger.Warn("retention purge: lease", "cause", err.Error())
		return false
	}
	if !held {
		p.metrics.PurgeRuns.WithLabelValues("leased_elsewhere").Inc()
		return false
	}
	purged, err := p.store.Purge(ctx, p.retention)
	for table, n := range purged {
		if n > 0 {
			p.metrics.PurgedRows.WithLabelValues(table).Add(float64(n))
		}
	}
	if err != nil {
		p.metrics.PurgeRuns.WithLabelValues("error").Inc()
		p.logger.Warn("retention purge", "cause", err.Error(), "rows", purged.Total())
		return true
	}
	p.metrics.PurgeRuns.WithLabelValues("done").Inc()
	if n := purged.Total(); n > 0 {
		p.logger.Info("retention purge", "rows", n)
	}
	return true
}
