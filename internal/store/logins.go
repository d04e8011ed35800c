package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// LoginAttemptRetention is how long Purge keeps failed login attempts; lockout windows
// (LoginFailuresSince) must be shorter.
const LoginAttemptRetention = 24 * time.Hour

// userHash is what login_attempts stores instead of the username: SHA-256 hex of it lower-cased.
func userHash(username string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(username)))
	return hex.EncodeToString(sum[:])
}

// RecordLoginFailure counts one failed login for username at the given time (negative-tests U12),
// shared by every replica.
func (s *Store) RecordLoginFailure(ctx context.Context, username string, at time.Time) error {
	if _, err := s.db.ExecContext(ctx, `INSERT INTO login_attempts (user_hash, failed_at) VALUES ($1, $2)`,
		userHash(username), ns(at)); err != nil {
		return fmt.Errorf("store: record login failure: %w", err)
	}
	return nil
}

// LoginFailuresSince counts username's failed logins at or after since.
func (s *Store) LoginFailuresSince(ctx context.Context, username string, since time.Time) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM login_attempts WHERE user_hash = $1 AND failed_at >= $2`,
		userHash(username), ns(since)).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count login failures: %w", err)
	}
	return n, nil
}

// ClearLoginFailures forgets username's failed logins (after a successful login).
func (s *Store) ClearLoginFailures(ctx context.Context, username string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM login_attempts WHERE user_hash = $1`, userHash(username)); err != nil {
		return fmt.Errorf("store: clear login failures: %w", err)
	}
	return nil
}
