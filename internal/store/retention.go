package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ofpdp/ofpdp/internal/consent"
)

// Tables Purge reports on (the keys of Purged; metric labels).
const (
	TableReplay         = "replay"
	TableSessions       = "sessions"
	TableLoginThrottle  = "login_throttle"
	TableAudit          = "audit"
	TableOutboundCalls  = "outbound_calls"
	TableOutbox         = "consent_update_outbox"
	TableConsents       = "consents"
	TableConsentEvents  = "consent_events"
	DefaultPurgeBatch   = 1000
	MaxPurgeBatch       = 100000
	MinSessionRetention = SessionRetention
)

// Retention says how long Purge keeps each kind of row (design §5; docs/operations.md). A zero
// duration keeps that kind forever. Replay rows past their expiry and login counters whose window started more
// than LoginAttemptRetention ago always go.
type Retention struct {
	// Audit keeps audit entries for this long after they occurred.
	Audit time.Duration
	// ConsentHistory keeps a consent and its whole event history until it has been over
	// (terminal, past its expiration_datetime, or never authorized within its window) and
	// unchanged for this long; then the events and the consent go together, in one
	// transaction. Events are never removed while their consent row is kept (consent_events
	// references consents), so a stored consent always has its complete history.
	ConsentHistory time.Duration
	// OutboundCalls keeps PATCH attempts for this long after they started.
	OutboundCalls time.Duration
	// Outbox keeps finished compensating updates (delivered, refused, abandoned) for this long
	// after they finished; pending ones are never purged.
	Outbox time.Duration
	// Sessions keeps a session for this long after its absolute expiry; less than
	// MinSessionRetention counts as MinSessionRetention (negative-tests U5).
	Sessions time.Duration
	// BatchSize is the most rows one DELETE removes (short transactions, so that purging a
	// large backlog never holds the writers up for long). 0 means DefaultPurgeBatch.
	BatchSize int
}

// Purged counts the rows Purge removed, by table (the Table* constants).
type Purged map[string]int64

// Total is the number of rows removed from every table.
func (p Purged) Total() int64 {
	var n int64
	for _, v := range p {
		n += v
	}
	return n
}

// Purge deletes what r no longer keeps, table by table, in batches of r.BatchSize rows (each
// DELETE … WHERE key IN (SELECT key … LIMIT n), the same on SQLite and PostgreSQL). It returns
// what it removed, also on error. Any replica may run it; server runs it under a lease so that
// one does (TryLease).
func (s *Store) Purge(ctx context.Context, r Retention) (Purged, error) {
	batch := r.BatchSize
	if batch <= 0 {
		batch = DefaultPurgeBatch
	}
	if batch > MaxPurgeBatch {
		return Purged{}, fmt.Errorf("%w: purge batch above %d", ErrInvalidArgument, MaxPurgeBatch)
	}
	now := s.now()
	sessions := max(r.Sessions, MinSessionRetention)
	jobs := []struct {
		table, key, where string
		cutoff            int64
		keep              time.Duration // 0: skipped
	}{
		{TableReplay, "jti", "expires_at <= $1", ns(now), -1},
		{TableSessions, "id_hash", "absolute_expiry <= $1", ns(now.Add(-sessions)), sessions},
		{TableLoginThrottle, "throttle_key", "window_start < $1", ns(now.Add(-LoginAttemptRetention)), LoginAttemptRetention},
		{TableAudit, "id", "occurred_at < $1", ns(now.Add(-r.Audit)), r.Audit},
		{TableOutboundCalls, "id", "started_at < $1", ns(now.Add(-r.OutboundCalls)), r.OutboundCalls},
		{TableOutbox, "consent_id", "done_at <> 0 AND done_at < $1", ns(now.Add(-r.Outbox)), r.Outbox},
	}
	out := Purged{}
	for _, j := range jobs {
		if j.keep == 0 {
			continue
		}
		n, err := s.purgeBatches(ctx, j.table, j.key, j.where, j.cutoff, batch)
		out[j.table] += n
		if err != nil {
			return out, err
		}
	}
	if r.ConsentHistory > 0 {
		consents, events, err := s.purgeConsents(ctx, now, now.Add(-r.ConsentHistory), batch)
		out[TableConsents] += consents
		out[TableConsentEvents] += events
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// purgeBatches deletes the rows of table matching where ($1 = cutoff), batch rows at a time.
func (s *Store) purgeBatches(ctx context.Context, table, key, where string, cutoff int64, batch int) (int64, error) {
	q := fmt.Sprintf(`DELETE FROM %s WHERE %s IN (SELECT %s FROM %s WHERE %s LIMIT $2)`, table, key, key, table, where)
	var total int64
	for {
		if err := ctx.Err(); err != nil {
			return total, fmt.Errorf("store: purge %s: %w", table, err)
		}
		res, err := s.db.ExecContext(ctx, q, cutoff, batch)
		if err != nil {
			return total, fmt.Errorf("store: purge %s: %w", table, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("store: purge %s: %w", table, err)
		}
		total += n
		if n < int64(batch) {
			return total, nil
		}
	}
}

// purgeConsents removes, batch by batch, the consents not modified since cutoff that are over at
// now, each with its events, in one transaction per batch. A consent modified after it was read
// (its modified_at moved) is left alone.
func (s *Store) purgeConsents(ctx context.Context, now, cutoff time.Time, batch int) (consents, events int64, err error) {
	afterMod, afterID := int64(-1), ""
	for {
		if err := ctx.Err(); err != nil {
			return consents, events, fmt.Errorf("store: purge consents: %w", err)
		}
		type candidate struct {
			id  string
			mod int64
		}
		var seen int
		var over []candidate
		rows, err := s.db.QueryContext(ctx, `SELECT consent_id, modified_at, status, data FROM consents
			WHERE modified_at < $1 AND (modified_at > $2 OR (modified_at = $2 AND consent_id > $3))
			ORDER BY modified_at, consent_id LIMIT $4`, ns(cutoff), afterMod, afterID, batch)
		if err != nil {
			return consents, events, fmt.Errorf("store: purge consents: %w", err)
		}
		for rows.Next() {
			var c candidate
			var status, data string
			if err := rows.Scan(&c.id, &c.mod, &status, &data); err != nil {
				rows.Close()
				return consents, events, fmt.Errorf("store: purge consents: %w", err)
			}
			seen++
			afterMod, afterID = c.mod, c.id
			if consentOver(status, data, now) {
				over = append(over, c)
			}
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return consents, events, fmt.Errorf("store: purge consents: %w", err)
		}
		if len(over) > 0 {
			err := s.inTx(ctx, func(tx *sql.Tx) error {
				var nConsents, nEvents int64
				for _, c := range over {
					// Lock the row (a no-op UPDATE; SQLite's IMMEDIATE transaction already
					// serialises writers) and check it is unchanged before touching its events.
					n, err := execCount(ctx, tx, `UPDATE consents SET modified_at = modified_at
						WHERE consent_id = $1 AND modified_at = $2`, c.id, c.mod)
					if err != nil || n == 0 {
						if err != nil {
							return fmt.Errorf("store: purge consent: %w", err)
						}
						continue
					}
					ne, err := execCount(ctx, tx, `DELETE FROM consent_events WHERE consent_id = $1`, c.id)
					if err != nil {
						return fmt.Errorf("store: purge consent events: %w", err)
					}
					nc, err := execCount(ctx, tx, `DELETE FROM consents WHERE consent_id = $1`, c.id)
					if err != nil {
						return fmt.Errorf("store: purge consent: %w", err)
					}
					nConsents, nEvents = nConsents+nc, nEvents+ne
				}
				consents, events = consents+nConsents, events+nEvents
				return nil
			})
			if err != nil {
				return consents, events, err
			}
		}
		if seen < batch {
			return consents, events, nil
		}
	}
}

// consentOver reports whether a stored consent can no longer be used at now: terminal, past its
// expiration_datetime, or still awaiting authorization after its window (spec §5.2, §7.1). One
// that does not decode is kept: the purge removes only what it understands.
func consentOver(status, data string, now time.Time) bool {
	var c consent.Consent
	if err := json.Unmarshal([]byte(data), &c); err != nil {
		return false
	}
	c.Status = consent.Status(status)
	if c.Status == consent.StatusAwaitingAuthorization {
		return now.After(c.AuthorizationDeadline())
	}
	return c.EffectiveStatus(now).Terminal()
}

// execCount runs one statement in tx and returns the rows it affected.
func execCount(ctx context.Context, tx *sql.Tx, q string, args ...any) (int64, error) {
	res, err := tx.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
