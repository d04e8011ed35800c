package wire

import (
	"crypto/sha256"
	"encoding/base64"
	"strings"
)

// Status is a consent status (spec §5.1 "status"); lowercase on the wire (design.md §3.9).
type Status string

// The statuses of spec §5.1. The protobuf default "consent_status_unspecified" is not among
// them: the zero value is never sent (spec §5.1, last paragraph).
const (
	StatusAwaitingAuthorization Status = "awaiting_authorization"
	StatusAuthorized            Status = "authorized"
	StatusRejected              Status = "rejected"
	StatusFailed                Status = "failed"
	StatusSuspended             Status = "suspended"
	StatusExpired               Status = "expired"
	StatusRevoked               Status = "revoked"
)

// lifecycle is spec §5.2, row by row: the statuses each status may move to. A status missing
// from the table (failed, rejected, expired, revoked) is terminal.
var lifecycle = map[Status][]Status{
	StatusAwaitingAuthorization: {StatusAuthorized, StatusFailed, StatusRejected},
	StatusAuthorized:            {StatusSuspended, StatusExpired, StatusRevoked},
	StatusSuspended:             {StatusAuthorized, StatusRevoked, StatusExpired},
}

// Valid reports whether s is a status of spec §5.1.
func (s Status) Valid() bool {
	switch s {
	case StatusAwaitingAuthorization, StatusAuthorized, StatusRejected, StatusFailed,
		StatusSuspended, StatusExpired, StatusRevoked:
		return true
	}
	return false
}

// Terminal reports whether spec §5.2 lets nothing leave s.
func (s Status) Terminal() bool { return s.Valid() && len(lifecycle[s]) == 0 }

// CanTransition reports whether spec §5.2 has an arrow from one status to another. Staying in
// the same status is not an arrow of the table.
func CanTransition(from, to Status) bool {
	for _, s := range lifecycle[from] {
		if s == to {
			return true
		}
	}
	return false
}

// EventType is a consent event type (spec §3.1.1 "event_type"); "consent_event_type_unspecified"
// is the protobuf default and never valid (spec §9 item 6).
type EventType string

// The event types of spec §3.1.1.
const (
	EventCreated       EventType = "consent_created"
	EventUpdated       EventType = "consent_updated"
	EventStatusUpdated EventType = "consent_status_updated"
)

// Valid reports whether t is an event type of spec §3.1.1.
func (t EventType) Valid() bool {
	return t == EventCreated || t == EventUpdated || t == EventStatusUpdated
}

// IDType is the customer's identity document type (spec §5.1 "id_type").
type IDType string

// The id types of spec §5.1.
const (
	IDTypeNRIC     IDType = "nric"
	IDTypePassport IDType = "passport"
)

// Valid reports whether t is an id type of spec §5.1.
func (t IDType) Valid() bool { return t == IDTypeNRIC || t == IDTypePassport }

// Purpose is the consent purpose (spec §5.1 "consent_purpose").
type Purpose string

// The purposes of spec §5.1.
const (
	PurposePFM                Purpose = "pfm"
	PurposeCreditUnderwriting Purpose = "credit_underwriting"
)

// Valid reports whether p is a purpose of spec §5.1.
func (p Purpose) Valid() bool { return p == PurposePFM || p == PurposeCreditUnderwriting }

// Permission is a data permission (spec §5.1 "permissions").
type Permission string

// The permissions of spec §5.1.
const (
	PermReadAccounts     Permission = "read_accounts"
	PermReadBalances     Permission = "read_balances"
	PermReadTransactions Permission = "read_transactions"
)

// Valid reports whether p is a permission of spec §5.1.
func (p Permission) Valid() bool {
	return p == PermReadAccounts || p == PermReadBalances || p == PermReadTransactions
}

// AllPermissions are the three permissions of spec §5.1, in the order the spec lists them.
var AllPermissions = []Permission{PermReadAccounts, PermReadBalances, PermReadTransactions}

// ConsentTypeAccountAccess is the consent_type of the DP page's example (spec §3.1.1); the
// sandbox and the DC API spell it as a URN (spec §9 item 5). PayNet's side sends the DP form.
const (
	ConsentTypeAccountAccess    = "account_access_consent"
	ConsentTypeAccountAccessURN = "urn:openfinance-ml:account-access-consent:v1.2"
)

// StatusReason is the optional reason of a status (spec §5.1 "status_reason").
type StatusReason struct {
	ReasonCode        string `json:"reason_code"`
	ReasonDescription string `json:"reason_description,omitempty"`
}

// NormalizeIDNumber is the input of the identity hash (design.md §3.11): the ID number
// upper-cased, with spaces and dashes removed. Nothing else is removed.
func NormalizeIDNumber(id string) string {
	return strings.ToUpper(strings.NewReplacer(" ", "", "-", "").Replace(id))
}

// HashIDNumber is hashed_id_number (design.md §3.11, spec §5.1): standard, padded base64 of the
// SHA-256 of NormalizeIDNumber(id) — 44 characters ending in "=".
func HashIDNumber(id string) string {
	sum := sha256.Sum256([]byte(NormalizeIDNumber(id)))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// IsIDHash reports whether h has the form of hashed_id_number: standard padded base64 of
// exactly 32 bytes (design.md §3.11).
func IsIDHash(h string) bool {
	if len(h) != base64.StdEncoding.EncodedLen(sha256.Size) {
		return false
	}
	b, err := base64.StdEncoding.Strict().DecodeString(h)
	return err == nil && len(b) == sha256.Size
}
