package store

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"time"
)

// Session is a browser session of the authorize flow. Only a hash of the session id is stored
// (design §5); Data is the caller's opaque state.
type Session struct {
	IDHash                                          string
	ConsentID                                       string
	Data                                            []byte
	CreatedAt, LastSeen, IdleExpiry, AbsoluteExpiry time.Time
	Version                                         int64
}

// SessionRetention is the least time after its absolute expiry Purge keeps a session
// (Retention.Sessions may ask for more), so that a late request can still be sent back to PayNet
// with an error (negative-tests U5).
const SessionRetention = time.Hour

// CreateSession stores a new session with the Version it carries; ErrConflict when the id hash exists.
func (s *Store) CreateSession(ctx context.Context, sess Session) error {
	if sess.IDHash == "" {
		return fmt.Errorf("%w: session without id hash", ErrInvalidArgument)
	}
	res, err := s.db.ExecContext(ctx, `INSERT INTO sessions
		(id_hash, consent_id, data, created_at, last_seen, idle_expiry, absolute_expiry, version)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id_hash) DO NOTHING`,
		sess.IDHash, sess.ConsentID, base64.StdEncoding.EncodeToString(sess.Data),
		ns(sess.CreatedAt), ns(sess.LastSeen), ns(sess.IdleExpiry), ns(sess.AbsoluteExpiry), sess.Version)
	if err != nil {
		return fmt.Errorf("store: create session: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("store: create session: %w", err)
	} else if n == 0 {
		return ErrConflict
	}
	return nil
}

// GetSession returns the session with this id hash, expired or not (the caller checks expiry, so
// that it can still send the browser back with an error); ErrNotFound once purged or never created.
func (s *Store) GetSession(ctx context.Context, idHash string) (*Session, error) {
	var sess Session
	var data string
	var created, seen, idle, abs int64
	err := s.db.QueryRowContext(ctx, `SELECT id_hash, consent_id, data, created_at, last_seen, idle_expiry,
		absolute_expiry, version FROM sessions WHERE id_hash = $1`, idHash).
		Scan(&sess.IDHash, &sess.ConsentID, &data, &created, &seen, &idle, &abs, &sess.Version)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: read session: %w", err)
	}
	if sess.Data, err = base64.StdEncoding.DecodeString(data); err != nil {
		return nil, fmt.Errorf("store: decode session: %w", err)
	}
	sess.CreatedAt, sess.LastSeen, sess.IdleExpiry, sess.AbsoluteExpiry = fromNS(created), fromNS(seen), fromNS(idle), fromNS(abs)
	return &sess, nil
}

// UpdateSession writes sess if the stored version is still sess.Version (compare-and-swap) and
// returns the new version; ErrConflict when it moved, ErrNotFound when the session is gone.
// CreatedAt is never changed.
func (s *Store) UpdateSession(ctx context.Context, sess Session) (int64, error) {
	var v int64
	err := s.db.QueryRowContext(ctx, `UPDATE sessions SET consent_id = $3, data = $4, last_seen = $5,
		idle_expiry = $6, absolute_expiry = $7, version = version + 1
		WHERE id_hash = $1 AND version = $2 RETURNING version`,
		sess.IDHash, sess.Version, sess.ConsentID, base64.StdEncoding.EncodeToString(sess.Data),
		ns(sess.LastSeen), ns(sess.IdleExpiry), ns(sess.AbsoluteExpiry)).Scan(&v)
	if err == nil {
		return v, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("store: update session: %w", err)
	}
	var one int
	switch err := s.db.QueryRowContext(ctx, `SELECT 1 FROM sessions WHERE id_hash = $1`, sess.IDHash).Scan(&one); {
	case errors.Is(err, sql.ErrNoRows):
		return 0, ErrNotFound
	case err != nil:
		return 0, fmt.Errorf("store: update session: %w", err)
	}
	return 0, ErrConflict
}

// DeleteSession removes a session (logout, end of flow). Deleting an unknown session is not an error.
func (s *Store) DeleteSession(ctx context.Context, idHash string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = $1`, idHash); err != nil {
		return fmt.Errorf("store: delete session: %w", err)
	}
	return nil
}

// CountSessions returns how many sessions the consent has, expired ones included until Purge
// removes them (the journey caps sessions per consent).
func (s *Store) CountSessions(ctx context.Context, consentID string) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sessions WHERE consent_id = $1`, consentID).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count sessions: %w", err)
	}
	return n, nil
}
