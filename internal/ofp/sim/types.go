package sim

import (
	"encoding/json"
	"time"

	"github.com/ofpdp/ofpdp/internal/ofp/wire"
)

// Consent is the Consent object as PayNet holds it and sends it in events (spec paynet-dp.md §5.1,
// reference schema of §3.1.1). Timestamps are kept as the exact strings sent. Empty optional
// members are omitted, never sent as "" (the DP refuses empty strings, negative-tests C5).
type Consent struct {
	ConsentID          string             `json:"consent_id"`
	DCID               string             `json:"dc_id"`
	DPID               string             `json:"dp_id"`
	IDType             wire.IDType        `json:"id_type,omitempty"`
	HashedIDNumber     string             `json:"hashed_id_number,omitempty"`
	ConsentType        string             `json:"consent_type"`
	Purpose            wire.Purpose       `json:"consent_purpose"`
	Permissions        []wire.Permission  `json:"permissions"`
	ExpirationDatetime string             `json:"expiration_datetime"`
	Status             wire.Status        `json:"status"`
	StatusReason       *wire.StatusReason `json:"status_reason,omitempty"`
	AccountAccess      *AccountAccess     `json:"account_access,omitempty"`
	CreatedAt          string             `json:"created_at"`
	UpdatedAt          string             `json:"updated_at"`
	UpdatedBy          string             `json:"updated_by,omitempty"`
}

// AccountAccess is the account_access member of the Consent object (spec §5.1 schema shape,
// design.md §3.7).
type AccountAccess struct {
	Accounts []Account `json:"accounts"`
}

// Account is one consented account as the DP reported it in its PATCH (spec §3.2.1).
type Account struct {
	AccountID     string `json:"account_id"`
	AccountNumber string `json:"account_number"`
	AccountName   string `json:"account_name"`
}

// Event is the body of POST /v1/consents/events (spec §3.1.1).
type Event struct {
	EventType wire.EventType `json:"event_type"`
	Data      Consent        `json:"data"`
}

// CreateConsentRequest is the body of POST /sim/consents. DCID defaults to the simulator's DC,
// ValidityDays to DefaultValidityDays. IDType and IDNumber are given together or not at all; the
// ID number is hashed (design.md §3.11) and never kept.
type CreateConsentRequest struct {
	DCID          string            `json:"dc_id,omitempty"`
	Purpose       wire.Purpose      `json:"purpose"`
	Permissions   []wire.Permission `json:"permissions"`
	ValidityDays  int               `json:"validity_days,omitempty"`
	IDType        wire.IDType       `json:"id_type,omitempty"`
	IDNumber      string            `json:"id_number,omitempty"`
	DCRedirectURI string            `json:"dc_redirect_uri,omitempty"`
}

// CreateConsentResponse answers POST /sim/consents: the new consent, the URL to send the
// customer's browser to, and what the DP answered to the consent_created event.
type CreateConsentResponse struct {
	ConsentID    string      `json:"consent_id"`
	AuthorizeURL string      `json:"authorize_url"`
	Event        EventRecord `json:"event"`
}

// EventRecord is one consent event the simulator sent to the DP and the DP's answer.
// HTTPStatus is 0 when no HTTP answer came back (Error then says why).
type EventRecord struct {
	EventType     wire.EventType `json:"event_type"`
	Status        wire.Status    `json:"status"`
	HTTPStatus    int            `json:"http_status"`
	Error         string         `json:"error,omitempty"`
	InteractionID string         `json:"interaction_id"`
	SentAt        time.Time      `json:"sent_at"`
}

// Accepted reports whether the DP acknowledged the event with a 2xx answer.
func (e EventRecord) Accepted() bool { return e.HTTPStatus >= 200 && e.HTTPStatus < 300 }

// UpdateRecord is one PATCH /v1/consents/{consent_id} the simulator received, accepted or not.
// IDTokenClaims holds the id_token's claims once its signature verified.
type UpdateRecord struct {
	ConsentID     string          `json:"consent_id"`
	Status        string          `json:"status"`
	Accounts      []Account       `json:"accounts"`
	IDTokenClaims json.RawMessage `json:"id_token_claims"`
	Accepted      bool            `json:"accepted"`
	HTTPStatus    int             `json:"http_status"`
	Error         string          `json:"error,omitempty"`
	InteractionID string          `json:"interaction_id,omitempty"`
	ReceivedAt    time.Time       `json:"received_at"`
}

// CallbackRecord is the outcome the DP sent the browser back with (design.md §3.10): the query
// parameters received at /callback and where the browser was sent next.
type CallbackRecord struct {
	ReceivedAt       time.Time         `json:"received_at"`
	Query            map[string]string `json:"query"`
	Outcome          string            `json:"outcome"` // "authorized" or "error"
	Error            string            `json:"error,omitempty"`
	ErrorDescription string            `json:"error_description,omitempty"`
	RedirectedTo     string            `json:"redirected_to,omitempty"`
}

// ConsentView answers GET /sim/consents/{id}: the consent as PayNet holds it plus what happened to it.
type ConsentView struct {
	Consent
	DCRedirectURI   string          `json:"dc_redirect_uri,omitempty"`
	AuthorizeURL    string          `json:"authorize_url"`
	EventsSent      []EventRecord   `json:"events_sent"`
	UpdatesReceived []UpdateRecord  `json:"updates_received"`
	Callback        *CallbackRecord `json:"callback"`
}

// AuthorizedAccounts returns the accounts of the accepted authorized update, if any.
func (v *ConsentView) AuthorizedAccounts() []Account {
	for i := len(v.UpdatesReceived) - 1; i >= 0; i-- {
		u := v.UpdatesReceived[i]
		if u.Accepted && u.Status == string(wire.StatusAuthorized) {
			return u.Accounts
		}
	}
	return nil
}

// Status actions of POST /sim/consents/{id}/status (spec §5.2).
const (
	ActionRevoke    = "revoke"
	ActionSuspend   = "suspend"
	ActionReinstate = "reinstate"
	ActionExpire    = "expire"
)

// StatusRequest is the body of POST /sim/consents/{id}/status. ReasonCode/ReasonDescription
// override the default status_reason; UpdatedBy overrides the default updated_by. Force sends the
// event even when spec §5.2 forbids the transition (to test the DP's refusal, negative-tests C3).
type StatusRequest struct {
	Action            string `json:"action"`
	ReasonCode        string `json:"reason_code,omitempty"`
	ReasonDescription string `json:"reason_description,omitempty"`
	UpdatedBy         string `json:"updated_by,omitempty"`
	Force             bool   `json:"force,omitempty"`
}

// StatusResponse answers POST /sim/consents/{id}/status: the status now held and the DP's answer to
// the event.
type StatusResponse struct {
	Status     wire.Status `json:"status"`
	HTTPStatus int         `json:"http_status"`
	Error      string      `json:"error,omitempty"`
}

// DataResponse answers the RS endpoints: the DP's HTTP status, the decrypted plaintext (the JWE
// payload, e.g. {"data": …, "meta": …}) of a verified response, the DP's error body, and the raw
// body as received. ResponseClaims are the verified response JWS claims.
type DataResponse struct {
	HTTPStatus     int             `json:"http_status"`
	Data           json.RawMessage `json:"data"`
	Error          json.RawMessage `json:"error"`
	Raw            string          `json:"raw"`
	InteractionID  string          `json:"interaction_id"`
	ResponseClaims json.RawMessage `json:"response_claims,omitempty"`
}

// TransactionsQuery holds the optional query parameters of the transactions endpoint (spec §5.7).
// Empty members are not sent; PageSize 0 is not sent.
type TransactionsQuery struct {
	FromDate       string
	ToDate         string
	PageSize       int
	NextPageParams string
}

// Fault injection kinds (POST /sim/faults).
const (
	FaultTimeout = "timeout"
)

// Fault makes the next Count PATCH requests fail: Patch is "status:NNN" (an HTTP status 400–599
// answered with an error body) or "timeout" (no answer until the caller gives up).
// Count 0 clears the fault.
type Fault struct {
	Patch string `json:"patch"`
	Count int    `json:"count"`
}

// Info answers GET /sim/info: how the simulator is set up.
type Info struct {
	DPID          string `json:"dp_id"`
	DCID          string `json:"dc_id"`
	DCName        string `json:"dc_name"`
	RedirectURI   string `json:"redirect_uri"`
	DPAPIURL      string `json:"dp_api_url"`
	DPWebURL      string `json:"dp_web_url"`
	PayNetIssuer  string `json:"paynet_issuer"`
	EncKid        string `json:"x_enc_kid"`
	PayNetSigKid  string `json:"paynet_sig_kid"`
	ConsentsHeld  int    `json:"consents_held"`
	ConsentsLimit int    `json:"consents_limit"`
}

// ErrorBody is the error body of every refusal (design.md §4).
type ErrorBody struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}
