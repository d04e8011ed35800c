package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/ofpdp/ofpdp/internal/consent"
)

// OutboxItem is a compensating consent update (spec paynet-dp.md §3.2.1: status only) that must
// still reach PayNet after the customer's PATCH failed with an unknown outcome (negative-tests C11;
// design.md §3.9). It holds no body, token or personal data.
type OutboxItem struct {
	ConsentID     string
	Status        consent.Status // to send: consent.StatusRejected or consent.StatusFailed
	Reason        string         // short code kept for operators (e.g. "patch_failed"); not sent
	Attempts      int            // deliveries tried, counted when claimed
	NextAttemptAt time.Time      // due from then; zero on enqueue means now
	LeaseUntil    time.Time      // a worker holds the item until then; zero when free
	LastError     string         // the last delivery error
	CreatedAt     time.Time      // zero on enqueue means now
	DoneAt        time.Time      // zero while pending
	Outcome       string         // "" while pending
}

// Limits of outbox values.
const (
	maxOutboxText  = 1024 // reason, last error and outcome are cut to this many bytes
	maxOutboxClaim = 1000 // ClaimDueUpdates returns at most this many items
	// MaxOutboxList bounds the items ListOutbox returns.
	MaxOutboxList = 1000
)

// OutcomeAbandoned is the outcome of an item whose every delivery failed with an unknown outcome;
// only such an item can be re-queued (RequeueUpdate).
const OutcomeAbandoned = "abandoned"

// ErrNotAbandoned: RequeueUpdate was asked for an item that is pending, delivered or refused.
var ErrNotAbandoned = fmt.Errorf("%w: consent update is not abandoned", ErrConflict)

const outboxColumns = `consent_id, status, reason, attempts, next_attempt_at, lease_until, last_error,
	created_at, done_at, outcome`

// EnqueueUpdate stores a compensating update for PayNet (negative-tests C11). It is idempotent per
// consent: when the consent already has an item (pending or done), the first one is kept and nil
// is returned. Only rejected and failed can be sent without the customer's data, so any other
// status is ErrInvalidArgument.
func (s *Store) EnqueueUpdate(ctx context.Context, it OutboxItem) error {
	if it.ConsentID == "" {
		return fmt.Errorf("%w: outbox item without consent_id", ErrInvalidArgument)
	}
	if it.Status != consent.StatusRejected && it.Status != consent.StatusFailed {
		return fmt.Errorf("%w: outbox status %q is not rejected or failed", ErrInvalidArgument, it.Status)
	}
	now := s.now()
	if it.CreatedAt.IsZero() {
		it.CreatedAt = now
	}
	if it.NextAttemptAt.IsZero() {
		it.NextAttemptAt = now
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO consent_update_outbox (`+outboxColumns+`)
		VALUES ($1, $2, $3, 0, $4, 0, '', $5, 0, '') ON CONFLICT (consent_id) DO NOTHING`,
		it.ConsentID, string(it.Status), cutOutboxText(it.Reason), ns(it.NextAttemptAt), ns(it.CreatedAt)); err != nil {
		return fmt.Errorf("store: enqueue consent update: %w", err)
	}
	return nil
}

// ClaimDueUpdates leases up to limit pending items due at now (next_attempt_at ≤ now) that no
// worker holds (lease_until ≤ now) until now+lease, counts the attempt and returns them, oldest
// due first. It is one UPDATE … RETURNING, so across replicas an item is handed to one claimer
// only while its lease runs; an item whose lease has run out (its worker died) is claimable again.
func (s *Store) ClaimDueUpdates(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]OutboxItem, error) {
	if lease <= 0 || limit <= 0 || limit > maxOutboxClaim {
		return nil, fmt.Errorf("%w: claim needs a positive lease and 1..%d items", ErrInvalidArgument, maxOutboxClaim)
	}
	// The conditions are repeated outside the sub-select: on PostgreSQL a row another claimer
	// leased meanwhile is re-checked against them and skipped (READ COMMITTED); SQLite runs
	// writers one at a time.
	rows, err := s.db.QueryContext(ctx, `UPDATE consent_update_outbox
		SET lease_until = $1, attempts = attempts + 1
		WHERE consent_id IN (SELECT consent_id FROM consent_update_outbox
			WHERE done_at = 0 AND next_attempt_at <= $2 AND lease_until <= $2
			ORDER BY next_attempt_at, consent_id LIMIT $3)
		AND done_at = 0 AND next_attempt_at <= $2 AND lease_until <= $2
		RETURNING `+outboxColumns, ns(now.Add(lease)), ns(now), int64(limit))
	if err != nil {
		return nil, fmt.Errorf("store: claim consent updates: %w", err)
	}
	defer rows.Close()
	var out []OutboxItem
	for rows.Next() {
		it, err := scanOutbox(rows)
		if err != nil {
			return nil, fmt.Errorf("store: claim consent updates: %w", err)
		}
		out = append(out, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: claim consent updates: %w", err)
	}
	// RETURNING order is unspecified: hand them out oldest due first.
	slices.SortFunc(out, func(a, b OutboxItem) int {
		return cmp.Or(a.NextAttemptAt.Compare(b.NextAttemptAt), cmp.Compare(a.ConsentID, b.ConsentID))
	})
	return out, nil
}

// scanOutbox reads one row of outboxColumns.
func scanOutbox(row interface{ Scan(...any) error }) (OutboxItem, error) {
	var it OutboxItem
	var status string
	var attempts, next, leaseUntil, created, done int64
	if err := row.Scan(&it.ConsentID, &status, &it.Reason, &attempts, &next, &leaseUntil, &it.LastError,
		&created, &done, &it.Outcome); err != nil {
		return OutboxItem{}, err
	}
	it.Status, it.Attempts = consent.Status(status), int(attempts)
	it.NextAttemptAt, it.LeaseUntil, it.CreatedAt, it.DoneAt = fromNS(next), fromNS(leaseUntil), fromNS(created), fromNS(done)
	return it, nil
}

// CompleteUpdate ends a pending item with its outcome ("delivered", "refused: <code>",
// "abandoned") at the given time (zero means now) and releases its lease. ErrNotFound when the
// consent has no pending item.
func (s *Store) CompleteUpdate(ctx context.Context, consentID, outcome string, at time.Time) error {
	if outcome == "" {
		return fmt.Errorf("%w: outbox outcome is empty", ErrInvalidArgument)
	}
	if at.IsZero() {
		at = s.now()
	}
	return s.outboxWrite(ctx, "complete", `UPDATE consent_update_outbox SET done_at = $2, outcome = $3, lease_until = 0
		WHERE consent_id = $1 AND done_at = 0`, consentID, ns(at), cutOutboxText(outcome))
}

// RescheduleUpdate makes a pending item due again at next, keeps lastErr and releases the lease.
// ErrNotFound when the consent has no pending item.
func (s *Store) RescheduleUpdate(ctx context.Context, consentID string, next time.Time, lastErr string) error {
	if next.IsZero() {
		return fmt.Errorf("%w: outbox reschedule without a time", ErrInvalidArgument)
	}
	return s.outboxWrite(ctx, "reschedule", `UPDATE consent_update_outbox SET next_attempt_at = $2, last_error = $3,
		lease_until = 0 WHERE consent_id = $1 AND done_at = 0`, consentID, ns(next), cutOutboxText(lastErr))
}

func (s *Store) outboxWrite(ctx context.Context, what, query string, args ...any) error {
	res, err := s.db.ExecContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("store: %s consent update: %w", what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: %s consent update: %w", what, err)
	}
	if n == 0 {
		return fmt.Errorf("%w: no pending consent update for %q", ErrNotFound, args[0])
	}
	return nil
}

// PendingUpdates counts the items not yet done (leased or not, due or not).
func (s *Store) PendingUpdates(ctx context.Context) (int, error) {
	var n int64
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM consent_update_outbox WHERE done_at = 0`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count consent updates: %w", err)
	}
	return int(n), nil
}

// ListOutbox returns up to limit (1..MaxOutboxList) items for operators: the pending ones first,
// oldest due first, then the finished ones, most recently finished first.
func (s *Store) ListOutbox(ctx context.Context, limit int) ([]OutboxItem, error) {
	if limit <= 0 || limit > MaxOutboxList {
		return nil, fmt.Errorf("%w: list needs 1..%d items", ErrInvalidArgument, MaxOutboxList)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+outboxColumns+` FROM consent_update_outbox
		ORDER BY CASE WHEN done_at = 0 THEN 0 ELSE 1 END, done_at DESC, next_attempt_at, consent_id
		LIMIT $1`, int64(limit))
	if err != nil {
		return nil, fmt.Errorf("store: list consent updates: %w", err)
	}
	defer rows.Close()
	var out []OutboxItem
	for rows.Next() {
		it, err := scanOutbox(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list consent updates: %w", err)
		}
		out = append(out, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list consent updates: %w", err)
	}
	return out, nil
}

// RequeueUpdate puts the consent's abandoned item back to pending, due at now with its attempts
// reset, for an operator who has made sure PayNet can take it (docs/operations.md); the last error
// is kept until the next delivery. ErrNotFound when the consent has no item, ErrNotAbandoned when
// its item is pending or ended otherwise (delivered, refused).
func (s *Store) RequeueUpdate(ctx context.Context, consentID string, now time.Time) error {
	if now.IsZero() {
		return fmt.Errorf("%w: outbox re-queue without a time", ErrInvalidArgument)
	}
	res, err := s.db.ExecContext(ctx, `UPDATE consent_update_outbox SET done_at = 0, outcome = '', attempts = 0,
		next_attempt_at = $2, lease_until = 0 WHERE consent_id = $1 AND done_at <> 0 AND outcome = $3`,
		consentID, ns(now), OutcomeAbandoned)
	if err != nil {
		return fmt.Errorf("store: re-queue consent update: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: re-queue consent update: %w", err)
	}
	if n > 0 {
		return nil
	}
	if _, err := s.outboxItem(ctx, consentID); err != nil {
		if errors.Is(err, ErrNotFound) {
			return fmt.Errorf("%w: no consent update for %q", ErrNotFound, consentID)
		}
		return err
	}
	return fmt.Errorf("%w (%q)", ErrNotAbandoned, consentID)
}

// outboxItem returns the consent's outbox item, pending or done, or ErrNotFound.
func (s *Store) outboxItem(ctx context.Context, consentID string) (*OutboxItem, error) {
	it, err := scanOutbox(s.db.QueryRowContext(ctx, `SELECT `+outboxColumns+` FROM consent_update_outbox
		WHERE consent_id = $1`, consentID))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, ErrNotFound
	case err != nil:
		return nil, fmt.Errorf("store: read consent update: %w", err)
	}
	return &it, nil
}

// cutOutboxText bounds a free text kept in the outbox, on a UTF-8 boundary.
func cutOutboxText(s string) string {
	if len(s) <= maxOutboxText {
		return s
	}
	i := maxOutboxText
	for i > 0 && s[i]&0xC0 == 0x80 {
		i--
	}
	return s[:i]
}
