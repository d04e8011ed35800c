package web

import (
	"context"
	"time"

	"github.com/ofpdp/ofpdp/internal/jose"
	"github.com/ofpdp/ofpdp/internal/lockout"
	"github.com/ofpdp/ofpdp/internal/paynet"
	"github.com/ofpdp/ofpdp/internal/store"
)

// Consents is what the journey needs to read a consent and record the customer's decision.
type Consents interface {
	// GetConsent returns the stored consent, or an error wrapping store.ErrNotFound.
	GetConsent(ctx context.Context, consentID string) (*store.ConsentRecord, error)
	// Authorize records the decision with compare-and-swap on version (store.ErrConflict when it moved).
	Authorize(ctx context.Context, consentID string, version int64, a store.Authorization) (int64, error)
}

// Replay records one-time values (form nonces, one decision per consent) across replicas.
type Replay interface {
	// UseOnce reports whether key was fresh; it stays recorded until `until`.
	UseOnce(ctx context.Context, key string, until time.Time) (bool, error)
}

// Sessions keeps journey sessions under the SHA-256 hex of their id.
type Sessions interface {
	CreateSession(ctx context.Context, s store.Session) error
	// GetSession returns the session even when expired, so the journey can still send the browser
	// back with an error (negative-tests U5); store.ErrNotFound when unknown.
	GetSession(ctx context.Context, idHash string) (*store.Session, error)
	// UpdateSession writes s when s.Version is current (store.ErrConflict otherwise) and returns the new version.
	UpdateSession(ctx context.Context, s store.Session) (int64, error)
	DeleteSession(ctx context.Context, idHash string) error
}

// SessionCounter caps the sessions of one consent (hardening against session flooding).
type SessionCounter interface {
	// CountSessions returns how many sessions (expired ones included, until purged) the consent has.
	CountSessions(ctx context.Context, consentID string) (int, error)
}

// Auditor appends to the audit trail (no PII in entries).
type Auditor interface {
	Audit(ctx context.Context, e store.AuditEntry) error
}

// Outbox keeps the consent updates that must still reach PayNet (negative-tests C11).
type Outbox interface {
	// EnqueueUpdate stores a status-only update; a second one for the same consent keeps the first.
	EnqueueUpdate(ctx context.Context, it store.OutboxItem) error
}

// Store is everything the journey keeps; *store.Store implements it.
type Store interface {
	Consents
	Replay
	Sessions
	SessionCounter
	lockout.Counters
	Auditor
	Outbox
}

// SignatureVerifier verifies PayNet's attached authorize `signature` (spec §4.4, design §3.3) and
// returns its payload; *jose.Verifier implements it.
type SignatureVerifier interface {
	VerifyAttached(ctx context.Context, sig string) (*jose.Header, []byte, error)
}

// ConsentUpdater sends the consent update to PayNet (spec §3.2.1); *paynet.Client implements it.
type ConsentUpdater interface {
	UpdateConsent(ctx context.Context, u paynet.Update) error
}

// IDTokenSigner signs the id_token of spec §4.5 with the DP signing key; *jose.Signer implements it.
type IDTokenSigner interface {
	SignIDToken(c jose.IDTokenClaims) (string, error)
}
