package consent

import (
	"slices"
	"time"

	"github.com/ofpdp/ofpdp/connector"
)

// Status is a consent status (spec §5.1, lifecycle §5.2). Statuses are lowercase on the wire (design §3.9).
type Status string

// Consent statuses. The protobuf zero value "consent_status_unspecified" is never valid.
const (
	StatusAwaitingAuthorization Status = "awaiting_authorization"
	StatusAuthorized            Status = "authorized"
	StatusRejected              Status = "rejected"
	StatusFailed                Status = "failed"
	StatusSuspended             Status = "suspended"
	StatusExpired               Status = "expired"
	StatusRevoked               Status = "revoked"
)

// Valid reports whether s is one of the statuses of spec §5.1.
func (s Status) Valid() bool {
	switch s {
	case StatusAwaitingAuthorization, StatusAuthorized, StatusRejected, StatusFailed,
		StatusSuspended, StatusExpired, StatusRevoked:
		return true
	}
	return false
}

// Terminal reports whether no transition leaves s (spec §5.2).
func (s Status) Terminal() bool {
	switch s {
	case StatusRejected, StatusFailed, StatusExpired, StatusRevoked:
		return true
	}
	return false
}

// transitions is the lifecycle of spec §5.2.
var transitions = map[Status][]Status{
	StatusAwaitingAuthorization: {StatusAuthorized, StatusFailed, StatusRejected},
	StatusAuthorized:            {StatusSuspended, StatusExpired, StatusRevoked},
	StatusSuspended:             {StatusAuthorized, StatusRevoked, StatusExpired},
}

// CanTransition reports whether a consent may move from one status to another (spec §5.2).
// Staying in the same status is allowed (an event may restate the current status).
func CanTransition(from, to Status) bool {
	if from == to {
		return true
	}
	return slices.Contains(transitions[from], to)
}

// Permission is a data permission of a consent (spec §5.1).
type Permission string

// Permissions of spec §5.1.
const (
	PermReadAccounts     Permission = "read_accounts"
	PermReadBalances     Permission = "read_balances"
	PermReadTransactions Permission = "read_transactions"
)

// Valid reports whether p is a known permission.
func (p Permission) Valid() bool {
	return p == PermReadAccounts || p == PermReadBalances || p == PermReadTransactions
}

// Purpose is the consent purpose (spec §5.1).
type Purpose string

// Purposes of spec §5.1.
const (
	PurposePFM                Purpose = "pfm"
	PurposeCreditUnderwriting Purpose = "credit_underwriting"
)

// Valid reports whether p is a known purpose.
func (p Purpose) Valid() bool { return p == PurposePFM || p == PurposeCreditUnderwriting }

// IDType is the customer's identity document type (spec §5.1).
type IDType string

// ID types of spec §5.1.
const (
	IDTypeNRIC     IDType = "nric"
	IDTypePassport IDType = "passport"
)

// Valid reports whether t is a known ID type.
func (t IDType) Valid() bool { return t == IDTypeNRIC || t == IDTypePassport }

// EventType is the type of a consent event (spec §3.1.1, §5.3).
type EventType string

// Event types of spec §3.1.1. "consent_event_type_unspecified" is never valid.
const (
	EventCreated       EventType = "consent_created"
	EventUpdated       EventType = "consent_updated"
	EventStatusUpdated EventType = "consent_status_updated"
)

// Valid reports whether t is a known event type.
func (t EventType) Valid() bool {
	return t == EventCreated || t == EventUpdated || t == EventStatusUpdated
}

// Consent types accepted (spec §9 item 5).
const (
	TypeAccountAccess    = "account_access_consent"
	TypeAccountAccessURN = "urn:openfinance-ml:account-access-consent:v1.2"
)

// Account is an account listed on a consent, in any of the three shapes of design §3.7,
// normalised: AccountNumber holds account_number or account_reference.
type Account struct {
	AccountID     string `json:"account_id"`
	AccountNumber string `json:"account_number,omitempty"`
	AccountName   string `json:"account_name,omitempty"`
}

// StatusReason is the optional reason attached to a status (spec §5.1).
type StatusReason struct {
	ReasonCode        string `json:"reason_code"`
	ReasonDescription string `json:"reason_description,omitempty"`
}

// Consent is the Consent object PayNet sends in events (spec §5.1), normalised.
type Consent struct {
	ConsentID          string        `json:"consent_id"`
	DCID               string        `json:"dc_id"`
	DPID               string        `json:"dp_id"`
	IDType             IDType        `json:"id_type,omitempty"`
	HashedIDNumber     string        `json:"hashed_id_number,omitempty"`
	ConsentType        string        `json:"consent_type"`
	Purpose            Purpose       `json:"consent_purpose"`
	Permissions        []Permission  `json:"permissions"`
	ExpirationDatetime time.Time     `json:"expiration_datetime"`
	Status             Status        `json:"status"`
	StatusReason       *StatusReason `json:"status_reason,omitempty"`
	Accounts           []Account     `json:"accounts,omitempty"`
	CreatedAt          time.Time     `json:"created_at"`
	UpdatedAt          time.Time     `json:"updated_at"`
	UpdatedBy          string        `json:"updated_by,omitempty"`
}

// Has reports whether the consent grants permission p.
func (c *Consent) Has(p Permission) bool { return slices.Contains(c.Permissions, p) }

// Expired reports whether the consent counts as expired at now: its status says so, or its
// expiration_datetime has passed (design §3.6 "expired everywhere, with or without an event").
func (c *Consent) Expired(now time.Time) bool {
	return c.Status == StatusExpired || !now.Before(c.ExpirationDatetime)
}

// EffectiveStatus is the status the DP acts on at now: an authorized or suspended consent past
// its expiration_datetime is expired even if PayNet has not said so yet.
func (c *Consent) EffectiveStatus(now time.Time) Status {
	if !c.Status.Terminal() && !now.Before(c.ExpirationDatetime) {
		return StatusExpired
	}
	return c.Status
}

// AuthorizationWindow is how long after creation a consent may be authorized (spec §5.2, §7.1).
const AuthorizationWindow = 5 * time.Minute

// AuthorizationDeadline is the end of the consent's authorization window.
func (c *Consent) AuthorizationDeadline() time.Time { return c.CreatedAt.Add(AuthorizationWindow) }

// NormalizeIDNumber prepares an ID number for hashing (design §3.11); see connector.NormalizeIDNumber.
func NormalizeIDNumber(id string) string { return connector.NormalizeIDNumber(id) }

// HashIDNumber is hashed_id_number (design §3.11); see connector.HashIDNumber.
func HashIDNumber(id string) string { return connector.HashIDNumber(id) }

// MaskIDNumber keeps the last four characters of a normalised ID number ("********1234").
func MaskIDNumber(id string) string { return connector.MaskIDNumber(id) }
