package server

import (
	"context"
	"log/slog"
	"time"

	"github.com/ofpdp/ofpdp/internal/config"
	"github.com/ofpdp/ofpdp/internal/store"
)

// expiryLease names the lease (store.TryLease) under which one replica at a time expires consents.
const expiryLease = "consent-expiry"

// expirer moves consents past their expiration_datetime to expired on this DP (spec §7.3:
// PayNet's expired event may come late) every interval on the replica holding the expiry lease,
// like the purger. Data is already refused at request time (consent.Grant.EffectiveStatus); the
// job keeps the stored status, and so the linked-accounts pages and admin views, right.
type expirer struct {
	store    *store.Store
	interval time.Duration
	batch    int
	holder   string
	now      func() time.Time
	logger   *slog.Logger
}

func newExpirer(st *store.Store, e config.Expiry, now func() time.Time, logger *slog.Logger) *expirer {
	if now == nil {
		now = time.Now
	}
	if e.Interval <= 0 {
		e.Interval = 5 * time.Minute
	}
	if e.BatchSize <= 0 {
		e.BatchSize = 500
	}
	return &expirer{store: st, interval: e.Interval, batch: e.BatchSize, holder: leaseHolder(), now: now, logger: logger}
}

func (x *expirer) run(ctx context.Context) {
	everyInterval(ctx, x.store, expiryLease, x.holder, x.interval, x.logger, func(ctx context.Context) { x.runOnce(ctx) })
}

// runOnce expires due consents if this replica holds (or now takes) the lease; it returns the
// ids expired and whether it held the lease.
func (x *expirer) runOnce(ctx context.Context) ([]string, bool) {
	held, err := x.store.TryLease(ctx, expiryLease, x.holder, 2*x.interval)
	if err != nil {
		x.logger.Warn("consent expiry: lease", "cause", err.Error())
		return nil, false
	}
	if !held {
		return nil, false
	}
	ids, err := x.store.ExpireDue(ctx, x.now(), "expiry-job", x.batch)
	if err != nil {
		x.logger.Warn("consent expiry", "cause", err.Error(), "expired", len(ids))
		return ids, true
	}
	if len(ids) > 0 {
		x.logger.Info("consent expiry: consents expired locally", "count", len(ids))
	}
	return ids, true
}
