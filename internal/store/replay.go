package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// MaxJTILen bounds the namespaced jti UseOnce accepts.
const MaxJTILen = 512

// UseOnce records jti as used until the given time and reports whether it was fresh (design §3.2):
// one atomic insert-if-absent, so exactly one caller across all replicas sees fresh=true for the
// same jti while it is unexpired. A row whose time has passed counts as absent even before Purge
// removes it. Callers namespace jti ("paynet:<jti>", "form:<nonce>").
func (s *Store) UseOnce(ctx context.Context, jti string, until time.Time) (bool, error) {
	if jti == "" || len(jti) > MaxJTILen {
		return false, fmt.Errorf("%w: jti must be 1..%d bytes", ErrInvalidArgument, MaxJTILen)
	}
	now := s.now()
	if !until.After(now) {
		return false, fmt.Errorf("%w: replay expiry must be in the future", ErrInvalidArgument)
	}
	var got string
	err := s.db.QueryRowContext(ctx, `INSERT INTO replay (jti, expires_at) VALUES ($1, $2)
		ON CONFLICT (jti) DO UPDATE SET expires_at = excluded.expires_at WHERE replay.expires_at <= $3
		RETURNING jti`, jti, ns(until), ns(now)).Scan(&got)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("store: replay check: %w", err)
	}
	return true, nil
}

// Purge deletes what has expired: replay rows past their time, sessions SessionRetention after
// their absolute expiry, and login counters whose window started more than LoginAttemptRetention ago. It returns the
// number of rows deleted. Every replica may run it.
func (s *Store) Purge(ctx context.Context) (int64, error) {
	now := s.now()
	var total int64
	for _, q := range []struct {
		sql string
		arg int64
	}{
		{`DELETE FROM replay WHERE expires_at <= $1`, ns(now)},
		{`DELETE FROM sessions WHERE absolute_expiry <= $1`, ns(now.Add(-SessionRetention))},
		{`DELETE FROM login_throttle WHERE window_start < $1`, ns(now.Add(-LoginAttemptRetention))},
	} {
		res, err := s.db.ExecContext(ctx, q.sql, q.arg)
		if err != nil {
			return total, fmt.Errorf("store: purge: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("store: purge: %w", err)
		}
		total += n
	}
	return total, nil
}
