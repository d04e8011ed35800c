package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// MaxLeaseName bounds lease names and holders.
const MaxLeaseName = 200

// TryLease claims the lease name for holder until now+ttl and reports whether holder has it: when
// the lease is new, expired, released or already holder's (a renewal). It is one atomic
// INSERT … ON CONFLICT DO UPDATE … WHERE, so on both engines at most one holder at a time gets
// true while the lease runs, across replicas (design §5).
func (s *Store) TryLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	if name == "" || holder == "" || len(name) > MaxLeaseName || len(holder) > MaxLeaseName || ttl <= 0 {
		return false, fmt.Errorf("%w: lease needs a name, a holder (1..%d bytes) and a positive ttl", ErrInvalidArgument, MaxLeaseName)
	}
	now := s.now()
	var got string
	err := s.db.QueryRowContext(ctx, `INSERT INTO leases (name, holder, lease_until) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, lease_until = excluded.lease_until
		WHERE leases.lease_until <= $4 OR leases.holder = excluded.holder
		RETURNING holder`, name, holder, ns(now.Add(ttl)), ns(now)).Scan(&got)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("store: lease %s: %w", name, err)
	}
	return true, nil
}

// ReleaseLease gives the lease up if holder has it, so another replica need not wait for it
// to run out. Releasing a lease held by someone else changes nothing.
func (s *Store) ReleaseLease(ctx context.Context, name, holder string) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE leases SET lease_until = 0 WHERE name = $1 AND holder = $2`, name, holder); err != nil {
		return fmt.Errorf("store: release lease %s: %w", name, err)
	}
	return nil
}
