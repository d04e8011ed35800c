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
