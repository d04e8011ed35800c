package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// LoginAttemptRetention is how long Purge keeps a login counter after its window started; every
// login window (AttemptLimit.Window) must be shorter.
const LoginAttemptRetention = 24 * time.Hour

// AttemptLimit is the rule one login counter enforces. The numbers come from internal/lockout.
type AttemptLimit struct {
	// Max is how many attempts the window allows.
	Max int
	// Window is the counter's lifetime: a counter whose window started Window ago starts again.
	Window time.Duration
	// DelayStep is zero for a hard limit (refused until the window ends). Otherwise past Max one
	// more attempt is allowed after k×DelayStep, k counting the attempts past the limit
	// (progressive delay).
	DelayStep time.Duration
}

// Reservation is the answer of ReserveLoginAttempt.
type Reservation struct {
	OK       bool      // the attempt is taken and may go ahead
	Attempts int       // attempts in the window, this one included (when OK)
	RetryAt  time.Time // when refused: the earliest instant another attempt may be allowed
}

// ReserveLoginAttempt takes one attempt of the counter key at now if l allows it, in one
// statement (an upsert that changes the row only while under the limit), so concurrent callers
// on every replica see each other: at most l.Max attempts are reserved per window, plus one per
// elapsed delay step. A reservation counts as a failure until ReleaseLoginAttempt or
// ClearLoginAttempts undoes it.
func (s *Store) ReserveLoginAttempt(ctx context.Context, key string, l AttemptLimit, now time.Time) (Reservation, error) {
	if key == "" || l.Max < 1 || l.Window <= 0 || l.DelayStep < 0 {
		return Reservation{}, fmt.Errorf("%w: login attempt key %q limit %+v", ErrInvalidArgument, key, l)
	}
	step := l.DelayStep.Nanoseconds()
	firstNext := int64(0)
	if l.Max <= 1 {
		firstNext = ns(now) + step
	}
	var attempts int
	err := s.db.QueryRowContext(ctx, `INSERT INTO login_throttle (throttle_key, attempts, window_start, next_at)
		VALUES ($1, 1, CAST($2 AS BIGINT), CAST($6 AS BIGINT))
		ON CONFLICT (throttle_key) DO UPDATE SET
			attempts = CASE WHEN login_throttle.window_start <= CAST($3 AS BIGINT) THEN 1
				ELSE login_throttle.attempts + 1 END,
			next_at = CASE WHEN login_throttle.window_start <= CAST($3 AS BIGINT) THEN CAST($6 AS BIGINT)
				WHEN login_throttle.attempts + 1 >= CAST($4 AS BIGINT)
					THEN CAST($2 AS BIGINT) + (login_throttle.attempts + 2 - CAST($4 AS BIGINT)) * CAST($5 AS BIGINT)
				ELSE 0 END,
			window_start = CASE WHEN login_throttle.window_start <= CAST($3 AS BIGINT) THEN CAST($2 AS BIGINT)
				ELSE login_throttle.window_start END
		WHERE login_throttle.window_start <= CAST($3 AS BIGINT)
			OR login_throttle.attempts < CAST($4 AS BIGINT)
			OR (CAST($5 AS BIGINT) > 0 AND login_throttle.next_at <= CAST($2 AS BIGINT))
		RETURNING attempts`,
		key, ns(now), ns(now.Add(-l.Window)), int64(l.Max), step, firstNext).Scan(&attempts)
	if err == nil {
		return Reservation{OK: true, Attempts: attempts}, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return Reservation{}, fmt.Errorf("store: reserve login attempt: %w", err)
	}
	var start, next int64
	if err := s.db.QueryRowContext(ctx, `SELECT attempts, window_start, next_at FROM login_throttle WHERE throttle_key = $1`, key).
		Scan(&attempts, &start, &next); err != nil {
		return Reservation{}, fmt.Errorf("store: read login attempts: %w", err)
	}
	retry := fromNS(start).Add(l.Window)
	if step > 0 && next > 0 && fromNS(next).Before(retry) {
		retry = fromNS(next)
	}
	return Reservation{Attempts: attempts, RetryAt: retry}, nil
}

// ReleaseLoginAttempt gives back one reserved attempt of key: the attempt did not happen (the
// core bank could not answer). Releasing an unknown key is not an error.
func (s *Store) ReleaseLoginAttempt(ctx context.Context, key string) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE login_throttle SET attempts = attempts - 1
		WHERE throttle_key = $1 AND attempts > 0`, key); err != nil {
		return fmt.Errorf("store: release login attempt: %w", err)
	}
	return nil
}

// ClearLoginAttempts forgets the counter key (after a successful login).
func (s *Store) ClearLoginAttempts(ctx context.Context, key string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM login_throttle WHERE throttle_key = $1`, key); err != nil {
		return fmt.Errorf("store: clear login attempts: %w", err)
	}
	return nil
}
