package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ofpdp/ofpdp/internal/consent"
)

// Local changes of a consent's status, taken on this DP rather than received from PayNet (spec
// paynet-dp.md §3.2.3, §7.3): they are appended to the consent's history (consent_events) with
// these event types and ActionLocal, so the history stays complete and append-only from the first
// event to the revocation (spec §7.4).
const (
	// EventLocalRevoked: the customer or an operator stopped the sharing on this DP.
	EventLocalRevoked consent.EventType = "dp_revoked"
	// EventLocalExpired: the consent passed its expiration_datetime before PayNet said so.
	EventLocalExpired consent.EventType = "dp_expired"
	// ActionLocal is the history action of a local change.
	ActionLocal consent.Action = "local"
)

// Channels of a local change (LocalChange.Channel).
const (
	ChannelWeb    = "web"    // the customer's linked-accounts pages
	ChannelApp    = "app"    // the bank's app, through the IdP
	ChannelAdmin  = "admin"  // an operator, through the admin API
	ChannelSystem = "system" // a background job
)

// Limits of a LocalChange.
const (
	maxLocalActor  = 200
	maxLocalReason = 500
)

// ErrNotRevocable: the consent's status cannot become revoked (spec §5.2: only authorized and
// suspended consents are revoked); it wraps consent.ErrIllegalTransition.
var ErrNotRevocable = fmt.Errorf("%w: only an authorized or suspended consent can be revoked", consent.ErrIllegalTransition)

// LocalChange is who changed a consent's status on this DP, through which channel and why. It
// holds no personal data: Actor is "customer", an operator's name or a job's name, and Reason is
// a short code or an operator's note that must not carry personal data (docs/operations.md).
type LocalChange struct {
	Actor      string    `json:"actor"`
	Channel    string    `json:"channel"`
	ReasonCode string    `json:"reason_code"`
	Reason     string    `json:"reason,omitempty"`
	At         time.Time `json:"at"`
}

// localRecord is the JSON kept as the raw body of a local history entry.
type localRecord struct {
	Status consent.Status `json:"status"`
	From   consent.Status `json:"from"`
	LocalChange
}

func (c *LocalChange) check() error {
	switch {
	case c.Actor == "" || len(c.Actor) > maxLocalActor || !utf8.ValidString(c.Actor):
		return fmt.Errorf("%w: a local change needs an actor (1..%d bytes)", ErrInvalidArgument, maxLocalActor)
	case !slices.Contains([]string{ChannelWeb, ChannelApp, ChannelAdmin, ChannelSystem}, c.Channel):
		return fmt.Errorf("%w: unknown channel %q", ErrInvalidArgument, c.Channel)
	case c.ReasonCode == "" || len(c.ReasonCode) > 64 || strings.ContainsAny(c.ReasonCode, " \t\r\n"):
		return fmt.Errorf("%w: a local change needs a reason code without spaces", ErrInvalidArgument)
	case len(c.Reason) > maxLocalReason || !utf8.ValidString(c.Reason) || strings.ContainsRune(c.Reason, 0):
		return fmt.Errorf("%w: reason is not text of at most %d bytes", ErrInvalidArgument, maxLocalReason)
	}
	return nil
}

// RevokeConsent records that the consent is revoked on this DP (spec §3.2.3, §7.3) and queues the
// revocation for PayNet, in one transaction: the consent's status becomes revoked (so every data
// request refuses it from the commit on: the data checks read this status through
// consent.Effective), the change is appended to its history, and an outbox item with status
// revoked and ch.ReasonCode waits for the outbox worker. It returns the record as now stored.
// A consent already revoked is returned as it is, with no second history entry or item
// (idempotent); ErrNotFound for an unknown consent; ErrNotRevocable for any other status.
func (s *Store) RevokeConsent(ctx context.Context, consentID string, ch LocalChange) (*ConsentRecord, error) {
	if err := ch.check(); err != nil {
		return nil, err
	}
	var rec *ConsentRecord
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		cur, err := lockConsent(ctx, tx, consentID)
		if err != nil {
			return err
		}
		switch cur.Consent.Status {
		case consent.StatusRevoked:
			rec = cur
			return nil
		case consent.StatusAuthorized, consent.StatusSuspended:
		default:
			return fmt.Errorf("%w (status %s)", ErrNotRevocable, cur.Consent.Status)
		}
		if rec, err = s.localTransition(ctx, tx, cur, consent.StatusRevoked, EventLocalRevoked, ch); err != nil {
			return err
		}
		// A revocation supersedes any earlier item of the consent (PayNet must hear the last word).
		if _, err := tx.ExecContext(ctx, `INSERT INTO consent_update_outbox (`+outboxColumns+`)
			VALUES ($1, $2, $3, 0, $4, 0, '', $4, 0, '')
			ON CONFLICT (consent_id) DO UPDATE SET status = excluded.status, reason = excluded.reason,
				attempts = 0, next_attempt_at = excluded.next_attempt_at, lease_until = 0, last_error = '',
				created_at = excluded.created_at, done_at = 0, outcome = ''`,
			consentID, string(consent.StatusRevoked), cutOutboxText(ch.ReasonCode), ns(ch.At)); err != nil {
			return fmt.Errorf("store: enqueue revocation: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return rec, nil
}

// lockConsent reads and locks a consent row in tx (the no-op UPDATE of applyTx).
func lockConsent(ctx context.Context, tx *sql.Tx, consentID string) (*ConsentRecord, error) {
	return scanRecord(tx.QueryRowContext(ctx,
		`UPDATE consents SET version = version WHERE consent_id = $1 RETURNING `+recordColumns, consentID))
}

// localTransition moves a locked consent to status to and appends the change to its history.
// ch.At zero means now.
func (s *Store) localTransition(ctx context.Context, tx *sql.Tx, cur *ConsentRecord, to consent.Status,
	typ consent.EventType, ch LocalChange) (*ConsentRecord, error) {
	if ch.At.IsZero() {
		ch.At = s.now()
	}
	ch.At = ch.At.UTC()
	id := cur.Consent.ConsentID
	var v int64
	if err := tx.QueryRowContext(ctx, `UPDATE consents SET status = $2, version = version + 1, modified_at = $3
		WHERE consent_id = $1 RETURNING version`, id, string(to), ns(s.now())).Scan(&v); err != nil {
		return nil, fmt.Errorf("store: %s consent: %w", to, err)
	}
	raw, err := json.Marshal(localRecord{Status: to, From: cur.Consent.Status, LocalChange: ch})
	if err != nil {
		return nil, fmt.Errorf("store: encode local change: %w", err)
	}
	var seq int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) + 1 FROM consent_events WHERE consent_id = $1`, id).Scan(&seq); err != nil {
		return nil, fmt.Errorf("store: event sequence: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO consent_events
		(consent_id, seq, event_type, action, raw, sig_alg, sig_kid, sig_jti, sig_iat, interaction_id, received_at)
		VALUES ($1, $2, $3, $4, $5, '', '', '', 0, '', $6)`,
		id, seq, string(typ), string(ActionLocal), string(raw), ns(ch.At)); err != nil {
		return nil, fmt.Errorf("store: append local change: %w", err)
	}
	rec := *cur
	rec.Consent.Status, rec.Version = to, v
	return &rec, nil
}

// LocalChangeOf decodes the raw body of a history entry of ActionLocal: the status it set, the
// status before, and who, how and why.
func LocalChangeOf(e StoredEvent) (to, from consent.Status, ch LocalChange, err error) {
	if e.Action != ActionLocal {
		return "", "", LocalChange{}, fmt.Errorf("%w: history entry %d is not a local change", ErrInvalidArgument, e.Seq)
	}
	var r localRecord
	if err := json.Unmarshal(e.Raw, &r); err != nil {
		return "", "", LocalChange{}, fmt.Errorf("store: decode local change: %w", err)
	}
	return r.Status, r.From, r.LocalChange, nil
}

// ExpireDue moves to expired, on this DP, up to limit consents that are authorized or suspended
// and whose effective expiry (consent.Effective: the earlier of PayNet's expiration_datetime and
// what the customer approved) is at or before now, and appends each change to the consent's
// history with actor job (spec §7.3; data is already refused at request time by
// Grant.EffectiveStatus). It returns the ids it expired. Each consent is moved in its own
// transaction under its row lock, so a PayNet event arriving meanwhile is not lost.
func (s *Store) ExpireDue(ctx context.Context, now time.Time, job string, limit int) ([]string, error) {
	if limit <= 0 || limit > maxOutboxClaim {
		return nil, fmt.Errorf("%w: expire needs 1..%d consents", ErrInvalidArgument, maxOutboxClaim)
	}
	ch := LocalChange{Actor: job, Channel: ChannelSystem, ReasonCode: "expired", At: now}
	if err := ch.check(); err != nil {
		return nil, err
	}
	var expired []string
	after := ""
	for len(expired) < limit {
		ids, err := s.activeConsentIDs(ctx, after, 200)
		if err != nil {
			return expired, err
		}
		if len(ids) == 0 {
			break
		}
		after = ids[len(ids)-1]
		for _, id := range ids {
			if len(expired) >= limit {
				break
			}
			done, err := s.expireOne(ctx, id, now, ch)
			if err != nil {
				return expired, err
			}
			if done {
				expired = append(expired, id)
			}
		}
	}
	return expired, nil
}

// activeConsentIDs pages through the ids of authorized and suspended consents after the given id.
func (s *Store) activeConsentIDs(ctx context.Context, after string, n int) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT consent_id FROM consents WHERE status IN ($1, $2) AND consent_id > $3
		ORDER BY consent_id LIMIT $4`, string(consent.StatusAuthorized), string(consent.StatusSuspended), after, int64(n))
	if err != nil {
		return nil, fmt.Errorf("store: list active consents: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("store: list active consents: %w", err)
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// expireOne expires one consent when, under its lock, it is still active and past its expiry.
func (s *Store) expireOne(ctx context.Context, id string, now time.Time, ch LocalChange) (bool, error) {
	done := false
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		cur, err := lockConsent(ctx, tx, id)
		if errors.Is(err, ErrNotFound) {
			return nil // purged meanwhile
		}
		if err != nil {
			return err
		}
		st := cur.Consent.Status
		if st != consent.StatusAuthorized && st != consent.StatusSuspended {
			return nil
		}
		expiry := cur.Consent.ExpirationDatetime
		if ap := cur.Approved(); ap != nil {
			expiry = consent.Effective(cur.Consent, *ap).ExpirationDatetime
		}
		if now.Before(expiry) {
			return nil
		}
		if _, err := s.localTransition(ctx, tx, cur, consent.StatusExpired, EventLocalExpired, ch); err != nil {
			return err
		}
		done = true
		return nil
	})
	return done, err
}
