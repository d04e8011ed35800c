package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/ofpdp/ofpdp/internal/consent"

	"github.com/ofpdp/ofpdp/internal/obs"
	"github.com/ofpdp/ofpdp/internal/paynet"
	"github.com/ofpdp/ofpdp/internal/store"
)

// Outcomes of an item, as stored (store.OutboxItem.Outcome; a refusal is stored as
// "refused: <code>") and as labels of ofpdp_consent_update_outbox_total. OutcomeRetry is a label
// only: the item stays pending.
const (
	OutcomeDelivered = "delivered"
	OutcomeRefused   = "refused"
	// OutcomeAbandoned is the store's own constant: only items ending with it can be re-queued
	// by the admin API (store.RequeueUpdate).
	OutcomeAbandoned = store.OutcomeAbandoned
	OutcomeRetry     = "retry"
)

// Defaults of Worker.
const (
	DefaultInterval    = 30 * time.Second
	DefaultMaxAttempts = 10
	DefaultLease       = 2 * time.Minute
	DefaultBatch       = 20
)

// Backoff bounds.
const (
	FirstBackoff = time.Minute
	MaxBackoff   = 30 * time.Minute
)

// finishTimeout bounds the store writes that end an attempt; they run detached from the worker's
// context so a shutdown does not leave an item leased.
const finishTimeout = 5 * time.Second

// ErrMisconfigured: Run was called without a Store or an Updater.
var ErrMisconfigured = errors.New("outbox: worker needs a Store and an Updater")

// Store is the outbox table and the outbound call log; *store.Store implements it.
type Store interface {
	// ClaimDueUpdates leases up to limit due, unleased items until now+lease and counts the attempt.
	ClaimDueUpdates(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]store.OutboxItem, error)
	// CompleteUpdate ends a pending item with its outcome.
	CompleteUpdate(ctx context.Context, consentID, outcome string, at time.Time) error
	// RescheduleUpdate makes a pending item due again at next and releases its lease.
	RescheduleUpdate(ctx context.Context, consentID string, next time.Time, lastErr string) error
	// PendingUpdates counts the items not yet done.
	PendingUpdates(ctx context.Context) (int, error)
	// OutboundCalls returns the consent's PATCH attempts, oldest first (for the interaction id).
	OutboundCalls(ctx context.Context, consentID string) ([]store.OutboundCall, error)
}

// Updater sends a consent update (spec §3.2.1) or a DP-initiated revocation (spec §3.2.3) to
// PayNet; *paynet.Client implements it. A definite refusal is a *paynet.UpdateError with
// Retryable false.
type Updater interface {
	UpdateConsent(ctx context.Context, u paynet.Update) error
	RevokeConsent(ctx context.Context, r paynet.Revocation) error
}

// DefaultJitter spreads a retry over [d/2, d) with rand (a uniform value in [0, 1)), so replicas
// and consents that failed together do not retry together ("equal jitter").
func DefaultJitter(d time.Duration, rand float64) time.Duration {
	half := d / 2
	return half + time.Duration(float64(d-half)*rand)
}

// DefaultBackoff is the wait after a failed delivery: FirstBackoff doubled for each attempt
// already made (1, 2, 4, 8, 16 minutes), capped at MaxBackoff. attempt is 1-based.
func DefaultBackoff(attempt int) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	d := FirstBackoff
	for i := 1; i < attempt && d < MaxBackoff; i++ {
		d *= 2
	}
	return min(d, MaxBackoff)
}

// Worker delivers the outbox's compensating consent updates to PayNet (negative-tests C11). Every
// replica may run one: items are claimed under a lease. Zero fields take their defaults.
type Worker struct {
	Store   Store
	Updater Updater
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger (default slog.Default()). It never receives bodies or tokens.
	Logger *slog.Logger
	// Metrics, when set, get ofpdp_consent_update_outbox_pending and _total{outcome}.
	Metrics *obs.Metrics
	// Interval between passes over the outbox (default 30 s).
	Interval time.Duration
	// MaxAttempts deliveries are tried before an item is abandoned (default 10).
	MaxAttempts int
	// Backoff gives the wait after the n-th failed delivery (default DefaultBackoff: 1 min doubling to 30 min).
	Backoff func(attempt int) time.Duration
	// Lease is how long a claimed item is held by this worker (default 2 min). One delivery is
	// bounded by half of it, so the lease never runs out while PayNet is being called.
	Lease time.Duration
	// Batch bounds the items claimed per pass (default 20).
	Batch int
	// Jitter turns the backoff into the wait actually used (default DefaultJitter with
	// math/rand/v2; tests set the identity).
	Jitter func(d time.Duration) time.Duration
}

func (w *Worker) now() time.Time {
	if w.Now == nil {
		return time.Now()
	}
	return w.Now()
}

func (w *Worker) log() *slog.Logger {
	if w.Logger == nil {
		return slog.Default()
	}
	return w.Logger
}

func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

func (w *Worker) backoff(attempt int) time.Duration {
	d := DefaultBackoff(attempt)
	if w.Backoff != nil {
		d = w.Backoff(attempt)
	}
	if w.Jitter == nil {
		return DefaultJitter(d, rand.Float64())
	}
	return w.Jitter(d)
}

func (w *Worker) count(outcome string) {
	if w.Metrics != nil {
		w.Metrics.OutboxOutcomes.WithLabelValues(outcome).Inc()
	}
}

// Run passes over the outbox at once and then every Interval until ctx ends; it returns nil then,
// or ErrMisconfigured at once. A failing pass is logged and tried again at the next tick.
func (w *Worker) Run(ctx context.Context) error {
	if w.Store == nil || w.Updater == nil {
		return ErrMisconfigured
	}
	t := time.NewTicker(orDefault(w.Interval, DefaultInterval))
	defer t.Stop()
	for {
		if _, err := w.RunOnce(ctx); err != nil && ctx.Err() == nil {
			w.log().WarnContext(ctx, "outbox: pass failed", "error", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// RunOnce claims the items due now, delivers each once and records the result: delivered,
// refused, abandoned or rescheduled. It returns how many items it handled and refreshes the
// pending gauge.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	if w.Store == nil || w.Updater == nil {
		return 0, ErrMisconfigured
	}
	lease := orDefault(w.Lease, DefaultLease)
	items, err := w.Store.ClaimDueUpdates(ctx, w.now(), lease, orDefault(w.Batch, DefaultBatch))
	if err != nil {
		return 0, err
	}
	handled := 0
	for i, it := range items {
		if ctx.Err() != nil {
			w.release(ctx, items[i:])
			break
		}
		w.deliver(ctx, it, lease/2)
		handled++
	}
	if w.Metrics != nil {
		pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finishTimeout)
		defer cancel()
		if n, err := w.Store.PendingUpdates(pctx); err == nil {
			w.Metrics.OutboxPending.Set(float64(n))
		} else {
			w.log().WarnContext(ctx, "outbox: count pending", "error", err)
		}
	}
	return handled, nil
}

// release gives back the lease of items a stopping worker will not deliver, due as before.
func (w *Worker) release(ctx context.Context, items []store.OutboxItem) {
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finishTimeout)
	defer cancel()
	for _, it := range items {
		if err := w.Store.RescheduleUpdate(fctx, it.ConsentID, it.NextAttemptAt, it.LastError); err != nil {
			w.log().WarnContext(ctx, "outbox: release lease", "consent_id", it.ConsentID, "error", err)
		}
	}
}

// RevocationDescription is the status_reason.reason_description sent with a revocation whose
// local reason code is code (store.LocalChange.ReasonCode): plain words, no personal data.
func RevocationDescription(code string) string {
	switch code {
	case ReasonCustomerRevoked:
		return "revoked by the customer at the data provider"
	default:
		return "revoked by the data provider"
	}
}

// ReasonCustomerRevoked is the local reason code of a revocation by the customer.
const ReasonCustomerRevoked = "customer_revoked"

// send makes the one call an item stands for: a revocation (spec §3.2.3) or a status-only
// consent update ({consent_id, status}, spec §3.2.1).
func (w *Worker) send(ctx context.Context, it store.OutboxItem) error {
	if it.Status == consent.StatusRevoked {
		return w.Updater.RevokeConsent(ctx, paynet.Revocation{ConsentID: it.ConsentID, Description: RevocationDescription(it.Reason)})
	}
	return w.Updater.UpdateConsent(ctx, paynet.Update{ConsentID: it.ConsentID, Status: string(it.Status)})
}

// deliver makes one delivery of it within timeout and ends or reschedules it.
func (w *Worker) deliver(ctx context.Context, it store.OutboxItem, timeout time.Duration) {
	cctx, cancel := context.WithTimeout(ctx, timeout)
	err := w.send(cctx, it)
	cancel()

	// What follows must land even when ctx ends meanwhile (shutdown).
	fctx, fcancel := context.WithTimeout(context.WithoutCancel(ctx), finishTimeout)
	defer fcancel()
	now := w.now()
	log := w.log().With("consent_id", it.ConsentID, "status", string(it.Status), "reason", it.Reason, "attempt", it.Attempts)

	if err == nil {
		if cerr := w.Store.CompleteUpdate(fctx, it.ConsentID, OutcomeDelivered, now); cerr != nil {
			log.ErrorContext(ctx, "outbox: record delivery", "error", cerr)
		}
		w.count(OutcomeDelivered)
		log.InfoContext(ctx, "outbox: consent update delivered")
		return
	}
	log = log.With("interaction_id", w.interactionID(fctx, it.ConsentID))
	if code, refused := refusal(err); refused {
		if cerr := w.Store.CompleteUpdate(fctx, it.ConsentID, OutcomeRefused+": "+code, now); cerr != nil {
			log.ErrorContext(ctx, "outbox: record refusal", "error", cerr)
		}
		w.count(OutcomeRefused)
		if it.Status == consent.StatusRevoked {
			// The consent stays revoked here: data stays refused whatever PayNet thinks.
			log.ErrorContext(ctx, "outbox: PayNet refused the revocation; the DP keeps refusing data for this consent, an operator must reconcile it with PayNet",
				"code", code, "error", err)
			return
		}
		log.ErrorContext(ctx, "outbox: PayNet refused the consent update; PayNet and the DP may disagree on this consent, an operator must reconcile it",
			"code", code, "error", err)
		return
	}
	if ctx.Err() != nil {
		// Stopping: not PayNet's answer. Give the item back, due at once for the next worker.
		if rerr := w.Store.RescheduleUpdate(fctx, it.ConsentID, now, err.Error()); rerr != nil {
			log.WarnContext(ctx, "outbox: release lease", "error", rerr)
		}
		return
	}
	maxAttempts := orDefault(w.MaxAttempts, DefaultMaxAttempts)
	if it.Attempts >= maxAttempts {
		if cerr := w.Store.CompleteUpdate(fctx, it.ConsentID, OutcomeAbandoned, now); cerr != nil {
			log.ErrorContext(ctx, "outbox: record abandonment", "error", cerr)
		}
		w.count(OutcomeAbandoned)
		log.ErrorContext(ctx, "outbox: consent update abandoned after its last attempt; PayNet and the DP may disagree on this consent, an operator must reconcile it",
			"max_attempts", maxAttempts, "error", err)
		return
	}
	next := now.Add(w.backoff(it.Attempts))
	if rerr := w.Store.RescheduleUpdate(fctx, it.ConsentID, next, err.Error()); rerr != nil {
		log.ErrorContext(ctx, "outbox: reschedule", "error", rerr)
	}
	w.count(OutcomeRetry)
	log.WarnContext(ctx, "outbox: consent update not delivered, will retry", "next_attempt_at", next, "error", err)
}

// refusal reports whether err is PayNet's definite answer that the update will not be taken (a
// non-retryable HTTP status, spec §6) or an update that can never be sent, and its short code.
func refusal(err error) (string, bool) {
	if errors.Is(err, paynet.ErrInvalidUpdate) {
		return "invalid_update", true
	}
	var ue *paynet.UpdateError
	if errors.As(err, &ue) && !ue.Retryable && ue.Status != 0 {
		if ue.Code != "" {
			return ue.Code, true
		}
		return fmt.Sprintf("HTTP %d", ue.Status), true
	}
	return "", false
}

// interactionID is the x-fapi-interaction-id of the consent's last recorded PATCH attempt, to
// quote to PayNet; "" when none is recorded.
func (w *Worker) interactionID(ctx context.Context, consentID string) string {
	calls, err := w.Store.OutboundCalls(ctx, consentID)
	if err != nil || len(calls) == 0 {
		return ""
	}
	return calls[len(calls)-1].InteractionID
}
