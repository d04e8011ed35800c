package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
)

// OutboundCall is one attempt of a call to PayNet (the consent PATCH, spec §3.2.1) and its
// outcome, kept for reconciliation and operators (negative-tests C11). No bodies, no PII.
type OutboundCall struct {
	ConsentID, Method, URL, InteractionID, Outcome, Error string
	Attempt, HTTPStatus                                   int
	StartedAt                                             time.Time
	Duration                                              time.Duration
}

// RecordOutboundCall appends an outbound call attempt.
func (s *Store) RecordOutboundCall(ctx context.Context, c OutboundCall) error {
	id, err := uuid.NewV7()
	if err != nil {
		return fmt.Errorf("store: outbound call id: %w", err)
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO outbound_calls
		(id, consent_id, method, url, interaction_id, outcome, error_text, attempt, http_status, started_at, duration_ns)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		id.String(), c.ConsentID, c.Method, c.URL, c.InteractionID, c.Outcome, c.Error,
		int64(c.Attempt), int64(c.HTTPStatus), ns(c.StartedAt), int64(c.Duration)); err != nil {
		return fmt.Errorf("store: record outbound call: %w", err)
	}
	return nil
}

// OutboundCalls returns a consent's outbound calls, oldest first.
func (s *Store) OutboundCalls(ctx context.Context, consentID string) ([]OutboundCall, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT consent_id, method, url, interaction_id, outcome, error_text,
		attempt, http_status, started_at, duration_ns FROM outbound_calls WHERE consent_id = $1
		ORDER BY started_at, attempt, id`, consentID)
	if err != nil {
		return nil, fmt.Errorf("store: read outbound calls: %w", err)
	}
	defer rows.Close()
	var out []OutboundCall
	for rows.Next() {
		var c OutboundCall
		var attempt, status, started, dur int64
		if err := rows.Scan(&c.ConsentID, &c.Method, &c.URL, &c.InteractionID, &c.Outcome, &c.Error,
			&attempt, &status, &started, &dur); err != nil {
			return nil, fmt.Errorf("store: read outbound calls: %w", err)
		}
		c.Attempt, c.HTTPStatus, c.StartedAt, c.Duration = int(attempt), int(status), fromNS(started), time.Duration(dur)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: read outbound calls: %w", err)
	}
	return out, nil
}

// AuditEntry is one line of the append-only audit trail (spec §7.4): who did what to which consent,
// with what outcome. Never put tokens, account numbers or ID numbers in it (negative-tests O4).
type AuditEntry struct {
	At                                                       time.Time
	Actor, Action, ConsentID, Outcome, InteractionID, Detail string
	// ClientAddr and UserAgent are the customer's, for entries of the web listener (the address
	// as web.trusted_proxies lets it be known; the user agent cut to MaxUserAgent bytes).
	ClientAddr, UserAgent string
}

// MaxUserAgent bounds the user agent kept with an audit entry.
const MaxUserAgent = 256

// Audit appends an audit entry; a zero At means now.
func (s *Store) Audit(ctx context.Context, e AuditEntry) error {
	if e.Action == "" {
		return fmt.Errorf("%w: audit entry without action", ErrInvalidArgument)
	}
	if e.At.IsZero() {
		e.At = s.now()
	}
	id, err := uuid.NewV7()
	if err != nil {
		return fmt.Errorf("store: audit id: %w", err)
	}
	if len(e.UserAgent) > MaxUserAgent {
		e.UserAgent = strings.ToValidUTF8(e.UserAgent[:MaxUserAgent], "")
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO audit
		(id, occurred_at, actor, action, consent_id, outcome, interaction_id, detail, client_addr, user_agent)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		id.String(), ns(e.At), e.Actor, e.Action, e.ConsentID, e.Outcome, e.InteractionID, e.Detail, e.ClientAddr, e.UserAgent); err != nil {
		return fmt.Errorf("store: audit: %w", err)
	}
	return nil
}

// AuditEntries returns up to limit (1..MaxOutboxList) audit entries, newest first, for operators
// and tests.
func (s *Store) AuditEntries(ctx context.Context, limit int) ([]AuditEntry, error) {
	if limit <= 0 || limit > MaxOutboxList {
		return nil, fmt.Errorf("%w: audit list needs 1..%d entries", ErrInvalidArgument, MaxOutboxList)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT occurred_at, actor, action, consent_id, outcome, interaction_id, detail, client_addr, user_agent
		FROM audit ORDER BY occurred_at DESC, id DESC LIMIT $1`, int64(limit))
	if err != nil {
		return nil, fmt.Errorf("store: read audit: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var at int64
		if err := rows.Scan(&at, &e.Actor, &e.Action, &e.ConsentID, &e.Outcome, &e.InteractionID, &e.Detail, &e.ClientAddr, &e.UserAgent); err != nil {
			return nil, fmt.Errorf("store: read audit: %w", err)
		}
		e.At = fromNS(at)
		out = append(out, e)
	}
	return out, rows.Err()
}
