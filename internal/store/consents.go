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

// AuthorizedAccount is an account the customer shared: the DP account_id (design §3.8), the bank's
// reference for it, and the account_number and account_name as sent to PayNet (cards masked).
type AuthorizedAccount struct {
	AccountID     string `json:"account_id"`
	AccountRef    string `json:"account_ref"`
	AccountNumber string `json:"account_number"`
	AccountName   string `json:"account_name"`
}

// Authorization is the customer's decision on a consent (design §3.9), taken on this DP.
type Authorization struct {
	Status      consent.Status      `json:"status"` // authorized | rejected | failed as decided locally
	CustomerRef string              `json:"customer_ref"`
	Accounts    []AuthorizedAccount `json:"accounts"`
	DecidedAt   time.Time           `json:"decided_at"`
	Reason      string              `json:"reason"` // short code, e.g. "customer_rejected", "identity_mismatch", "patch_failed"
	// Approved is what the customer approved: required for an authorization, nil otherwise. It is
	// kept in its own column; its AccountIDs are always those of Accounts.
	Approved *consent.Approved `json:"-"`
	// Channel is how the decision was taken (spec §7.4 record-keeping), without personal data;
	// nil for decisions recorded before it was kept.
	Channel *DecisionChannel `json:"channel,omitempty"`
}

// DecisionChannel is how a customer took a decision (spec §7.4, §2.4): the surface (web or the
// bank's app through a Universal Link), whether the journey was finished on the device it began
// on, the authentication mode and the second factor used. It holds no personal data.
type DecisionChannel struct {
	Surface    string `json:"surface"`     // ChannelWeb or ChannelApp
	SameDevice bool   `json:"same_device"` // finished in the browser session the authorize link opened
	AuthMode   string `json:"auth_mode"`   // e.g. "password", "oidc"
	Factor     string `json:"factor"`      // e.g. "none", "otp"
}

// String is the channel as one word for exports: surface/device/auth mode/factor.
func (c DecisionChannel) String() string {
	dev := "different_device"
	if c.SameDevice {
		dev = "same_device"
	}
	return c.Surface + "/" + dev + "/" + c.AuthMode + "/" + c.Factor
}

// ConsentRecord is a stored consent: PayNet's consent with the local status, the compare-and-swap
// version, and the customer's decision (nil until the customer decides).
type ConsentRecord struct {
	Consent       consent.Consent
	Version       int64
	Authorization *Authorization
}

// EventReceipt is how a consent event arrived: its raw body, the verified x-fapi-signature
// header (alg, kid, jti, iat) and when (design §3.6 history).
type EventReceipt struct {
	Type                   consent.EventType
	Raw                    []byte
	InteractionID          string
	SigAlg, SigKid, SigJti string
	SigIat                 time.Time
	ReceivedAt             time.Time
}

// StoredEvent is one entry of a consent's append-only event history.
type StoredEvent struct {
	Seq                    int64
	Type                   consent.EventType
	Action                 consent.Action
	Raw                    []byte
	SigAlg, SigKid, SigJti string
	SigIat, ReceivedAt     time.Time
	InteractionID          string
}

// applyAttempts bounds the retries of ApplyEvent when two replicas insert the same new consent at once.
const applyAttempts = 3

// errRetry makes ApplyEvent start again: another transaction inserted the consent first.
var errRetry = errors.New("store: retry")

// ApplyEvent stores a consent event (design §3.6) in one transaction: it loads and locks the
// current record, calls consent.Decide, writes the consent per the decision, appends the receipt
// and the action to the history (every accepted event, duplicates and stale ones included) and
// commits; an event is acknowledged only after that (design §5). When Decide refuses the event,
// its error is returned and nothing is stored.
func (s *Store) ApplyEvent(ctx context.Context, ev consent.Event, r EventReceipt) (consent.Decision, error) {
	if ev.Consent.ConsentID == "" {
		return consent.Decision{}, fmt.Errorf("%w: event without consent_id", ErrInvalidArgument)
	}
	raw := r.Raw
	if len(raw) == 0 {
		raw = ev.Raw
	}
	if !utf8.Valid(raw) || strings.ContainsRune(string(raw), 0) {
		return consent.Decision{}, fmt.Errorf("%w: raw event is not UTF-8 text", ErrInvalidArgument)
	}
	typ := ev.Type
	if r.Type != "" && r.Type != ev.Type {
		return consent.Decision{}, fmt.Errorf("%w: receipt and event disagree on the event type", ErrInvalidArgument)
	}
	for range applyAttempts {
		var d consent.Decision
		err := s.inTx(ctx, func(tx *sql.Tx) error {
			var err error
			d, err = s.applyTx(ctx, tx, ev, typ, string(raw), r)
			return err
		})
		if errors.Is(err, errRetry) {
			continue
		}
		return d, err
	}
	return consent.Decision{}, fmt.Errorf("%w: consent inserted concurrently, retries exhausted", ErrConflict)
}

func (s *Store) applyTx(ctx context.Context, tx *sql.Tx, ev consent.Event, typ consent.EventType, raw string, r EventReceipt) (consent.Decision, error) {
	id := ev.Consent.ConsentID
	// A no-op UPDATE is the portable SELECT … FOR UPDATE: it locks the row on PostgreSQL, and
	// SQLite's BEGIN IMMEDIATE already holds the write lock.
	rec, err := scanRecord(tx.QueryRowContext(ctx,
		`UPDATE consents SET version = version WHERE consent_id = $1 RETURNING `+recordColumns, id))
	var current *consent.Consent
	var approved *consent.Approved
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return consent.Decision{}, err
	default:
		current, approved = &rec.Consent, rec.Approved()
	}
	d, err := consent.Decide(current, approved, ev)
	if err != nil {
		return consent.Decision{}, err
	}
	now := ns(s.now())
	switch d.Action {
	case consent.ActionInsert:
		data, err := json.Marshal(d.Consent)
		if err != nil {
			return d, fmt.Errorf("store: encode consent: %w", err)
		}
		var v int64
		err = tx.QueryRowContext(ctx, `INSERT INTO consents
			(consent_id, dc_id, status, updated_at, data, authz, version, created_at, modified_at)
			VALUES ($1, $2, $3, $4, $5, NULL, 1, $6, $6)
			ON CONFLICT (consent_id) DO NOTHING RETURNING version`,
			id, d.Consent.DCID, string(d.Consent.Status), ns(d.Consent.UpdatedAt), string(data), now).Scan(&v)
		if errors.Is(err, sql.ErrNoRows) {
			return d, errRetry
		}
		if err != nil {
			return d, fmt.Errorf("store: insert consent: %w", err)
		}
	case consent.ActionUpdate:
		data, err := json.Marshal(d.Consent)
		if err != nil {
			return d, fmt.Errorf("store: encode consent: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE consents SET status = $2, updated_at = $3, data = $4,
			version = version + 1, modified_at = $5 WHERE consent_id = $1`,
			id, string(d.Consent.Status), ns(d.Consent.UpdatedAt), string(data), now); err != nil {
			return d, fmt.Errorf("store: update consent: %w", err)
		}
	}
	var seq int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) + 1 FROM consent_events WHERE consent_id = $1`, id).Scan(&seq); err != nil {
		return d, fmt.Errorf("store: event sequence: %w", err)
	}
	received := r.ReceivedAt
	if received.IsZero() {
		received = s.now()
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO consent_events
		(consent_id, seq, event_type, action, raw, sig_alg, sig_kid, sig_jti, sig_iat, interaction_id, received_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		id, seq, string(typ), string(d.Action), raw, r.SigAlg, r.SigKid, r.SigJti, ns(r.SigIat), r.InteractionID, ns(received)); err != nil {
		return d, fmt.Errorf("store: append event: %w", err)
	}
	return d, nil
}

// rowScanner is *sql.Row or *sql.Rows.
type rowScanner interface{ Scan(dest ...any) error }

// recordColumns are the columns scanRecord reads.
const recordColumns = `data, status, version, authz, approved`

// scanRecord reads recordColumns.
func scanRecord(row rowScanner) (*ConsentRecord, error) {
	var data, status string
	var authz, approved sql.NullString
	rec := &ConsentRecord{}
	if err := row.Scan(&data, &status, &rec.Version, &authz, &approved); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("store: read consent: %w", err)
	}
	if err := json.Unmarshal([]byte(data), &rec.Consent); err != nil {
		return nil, fmt.Errorf("store: decode consent: %w", err)
	}
	rec.Consent.Status = consent.Status(status)
	if authz.Valid {
		rec.Authorization = &Authorization{}
		if err := json.Unmarshal([]byte(authz.String), rec.Authorization); err != nil {
			return nil, fmt.Errorf("store: decode authorization: %w", err)
		}
		if approved.Valid {
			a := &consent.Approved{}
			if err := json.Unmarshal([]byte(approved.String), a); err != nil {
				return nil, fmt.Errorf("store: decode approval: %w", err)
			}
			a.AccountIDs = accountIDs(rec.Authorization.Accounts)
			rec.Authorization.Approved = a
		}
	}
	return rec, nil
}

func accountIDs(accts []AuthorizedAccount) []string {
	ids := make([]string, len(accts))
	for i, a := range accts {
		ids[i] = a.AccountID
	}
	return ids
}

// Approved is what the customer approved on this DP, or nil when the consent has no recorded
// authorization (undecided, rejected, failed, or authorized by PayNet alone): then no data may
// be served on it.
func (r *ConsentRecord) Approved() *consent.Approved {
	if a := r.Authorization; a != nil && a.Status == consent.StatusAuthorized {
		return a.Approved
	}
	return nil
}

// AccountRef is the bank's reference of accountID when the customer authorized the consent and
// the effective consent (consent.Effective) covers the account; else "". The caller still checks
// the effective status, expiry and permissions.
func (r *ConsentRecord) AccountRef(accountID string) string {
	ap := r.Approved()
	if ap == nil || !consent.Effective(r.Consent, *ap).Covers(accountID) {
		return ""
	}
	for _, acc := range r.Authorization.Accounts {
		if acc.AccountID == accountID {
			return acc.AccountRef
		}
	}
	return ""
}

// GetConsent returns the stored consent, or ErrNotFound.
func (s *Store) GetConsent(ctx context.Context, consentID string) (*ConsentRecord, error) {
	return scanRecord(s.db.QueryRowContext(ctx,
		`SELECT `+recordColumns+` FROM consents WHERE consent_id = $1`, consentID))
}

// ConsentEvents returns a consent's event history in receipt order, or ErrNotFound for a consent
// never stored (a stored consent always has its first event).
func (s *Store) ConsentEvents(ctx context.Context, consentID string) ([]StoredEvent, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT seq, event_type, action, raw, sig_alg, sig_kid, sig_jti,
		sig_iat, received_at, interaction_id FROM consent_events WHERE consent_id = $1 ORDER BY seq`, consentID)
	if err != nil {
		return nil, fmt.Errorf("store: read events: %w", err)
	}
	defer rows.Close()
	var out []StoredEvent
	for rows.Next() {
		var e StoredEvent
		var typ, action, raw string
		var iat, received int64
		if err := rows.Scan(&e.Seq, &typ, &action, &raw, &e.SigAlg, &e.SigKid, &e.SigJti, &iat, &received, &e.InteractionID); err != nil {
			return nil, fmt.Errorf("store: read events: %w", err)
		}
		e.Type, e.Action, e.Raw = consent.EventType(typ), consent.Action(action), []byte(raw)
		e.SigIat, e.ReceivedAt = fromNS(iat), fromNS(received)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: read events: %w", err)
	}
	if len(out) == 0 {
		return nil, ErrNotFound
	}
	return out, nil
}

// Authorize records the customer's decision (design §3.9) with compare-and-swap on version:
// ErrConflict when the version moved, ErrNotFound for an unknown consent. A decision only moves a
// consent from awaiting_authorization to a.Status (authorized, rejected or failed), or records
// itself on a consent PayNet already moved to that very status (consent.DecisionFrom); it never
// overwrites a status PayNet set after the journey read the consent (e.g. suspended), and a
// consent is decided once (negative-tests U7): both are consent.ErrNotAwaitingAuthorization.
// The check and the write are one guarded statement. An authorization stores a.Approved (what
// the customer approved). It returns the new version.
func (s *Store) Authorize(ctx context.Context, consentID string, version int64, a Authorization) (int64, error) {
	if err := checkAuthorization(&a); err != nil {
		return 0, err
	}
	if a.DecidedAt.IsZero() {
		a.DecidedAt = s.now()
	}
	a.DecidedAt = a.DecidedAt.UTC()
	authz, err := json.Marshal(a)
	if err != nil {
		return 0, fmt.Errorf("store: encode authorization: %w", err)
	}
	var approved sql.NullString
	if a.Approved != nil {
		b, err := json.Marshal(a.Approved)
		if err != nil {
			return 0, fmt.Errorf("store: encode approval: %w", err)
		}
		approved = sql.NullString{String: string(b), Valid: true}
	}
	// The statuses a decision for a.Status may be recorded on (consent.DecisionFrom).
	var from []any
	for _, st := range []consent.Status{consent.StatusAwaitingAuthorization, consent.StatusAuthorized,
		consent.StatusRejected, consent.StatusFailed, consent.StatusSuspended, consent.StatusExpired, consent.StatusRevoked} {
		if consent.DecisionFrom(st, a.Status) {
			from = append(from, string(st))
		}
	}
	args := append([]any{consentID, version, string(a.Status), string(authz), approved, ns(s.now()), a.CustomerRef}, from...)
	ph := make([]string, len(from))
	for i := range from {
		ph[i] = fmt.Sprintf("$%d", i+8)
	}
	var newVersion int64
	err = s.db.QueryRowContext(ctx, `UPDATE consents SET status = $3, authz = $4, approved = $5, version = version + 1,
		modified_at = $6, customer_ref = $7 WHERE consent_id = $1 AND version = $2 AND authz IS NULL AND status IN (`+strings.Join(ph, ", ")+`)
		RETURNING version`, args...).Scan(&newVersion)
	if err == nil {
		return newVersion, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("store: authorize: %w", err)
	}
	// Nothing written: say why.
	rec, err := s.GetConsent(ctx, consentID)
	if err != nil {
		return 0, err
	}
	switch {
	case rec.Version != version:
		return 0, ErrConflict
	case rec.Authorization != nil:
		return 0, fmt.Errorf("%w: already decided", consent.ErrNotAwaitingAuthorization)
	case !consent.DecisionFrom(rec.Consent.Status, a.Status):
		return 0, fmt.Errorf("%w: status is %s", consent.ErrNotAwaitingAuthorization, rec.Consent.Status)
	default: // moved and moved back between the two statements
		return 0, ErrConflict
	}
}

func checkAuthorization(a *Authorization) error {
	switch a.Status {
	case consent.StatusAuthorized, consent.StatusRejected, consent.StatusFailed:
	default:
		return fmt.Errorf("%w: a decision is authorized, rejected or failed", ErrInvalidArgument)
	}
	if ch := a.Channel; ch != nil {
		if (ch.Surface != ChannelWeb && ch.Surface != ChannelApp) || !operatorWord(ch.AuthMode) || !operatorWord(ch.Factor) {
			return fmt.Errorf("%w: decision channel needs surface web or app and one-word auth mode and factor", ErrInvalidArgument)
		}
	}
	seen := make(map[string]bool, len(a.Accounts))
	for _, acc := range a.Accounts {
		if acc.AccountID == "" || acc.AccountRef == "" {
			return fmt.Errorf("%w: authorized account without account_id or reference", ErrInvalidArgument)
		}
		if seen[acc.AccountID] {
			return fmt.Errorf("%w: duplicate authorized account", ErrInvalidArgument)
		}
		seen[acc.AccountID] = true
	}
	if a.Status != consent.StatusAuthorized {
		if a.Approved != nil {
			return fmt.Errorf("%w: only an authorization has an approval", ErrInvalidArgument)
		}
		return nil
	}
	switch {
	case len(a.Accounts) == 0:
		return fmt.Errorf("%w: an authorization lists at least one account", ErrInvalidArgument)
	case a.Approved == nil:
		return fmt.Errorf("%w: an authorization needs what the customer approved", ErrInvalidArgument)
	case !slices.Equal(a.Approved.AccountIDs, accountIDs(a.Accounts)):
		return fmt.Errorf("%w: the approval's accounts differ from the authorization's", ErrInvalidArgument)
	}
	return nil
}

// AccountRef resolves the DP account_id of an authorized consent to the bank's reference for it.
// The account must be in the customer's authorization and, when PayNet's consent lists accounts,
// in that list too; otherwise, or when the consent was not authorized by the customer, ErrNotFound.
// The caller still checks the consent's current status and expiry.
func (s *Store) AccountRef(ctx context.Context, consentID, accountID string) (string, error) {
	_, ref, err := s.ConsentAccount(ctx, consentID, accountID)
	if err != nil {
		return "", err
	}
	if ref == "" {
		return "", ErrNotFound
	}
	return ref, nil
}

// ConsentAccount reads a consent and resolves accountID against it in one query: the record
// (ErrNotFound when the consent is unknown) and the bank's reference of the account under
// AccountRef's rules, or "" with a nil error when the consent exists but the account is not one
// it authorizes. It is the one consent read of a data request (spec paynet-dp.md §3.1.5–3.1.7);
// the caller still checks the consent's current status, expiry and permissions.
func (s *Store) ConsentAccount(ctx context.Context, consentID, accountID string) (*ConsentRecord, string, error) {
	rec, err := s.GetConsent(ctx, consentID)
	if err != nil {
		return nil, "", err
	}
	return rec, rec.AccountRef(accountID), nil
}

// operatorWord reports whether s is a short lower-case word (a code, never free text).
func operatorWord(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '_' {
			return false
		}
	}
	return true
}
