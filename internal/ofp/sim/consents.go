package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/ofpdp/ofpdp/internal/obs"
	"github.com/ofpdp/ofpdp/internal/ofp/wire"
)

// Errors of the JSON API; each is answered with the HTTP status named.
var (
	// ErrInvalidRequest: a request that breaks the API's rules (400).
	ErrInvalidRequest = errors.New("sim: invalid request")
	// ErrUnknownConsent: no consent with that id is held (404).
	ErrUnknownConsent = errors.New("sim: unknown consent")
	// ErrIllegalTransition: the action is not allowed from the consent's status (409, spec §5.2).
	ErrIllegalTransition = errors.New("sim: illegal status transition")
)

// myt is Malaysia time, the zone of expiration_datetime (spec §5.1: 23:59:59 +08:00).
var myt = time.FixedZone("MYT", 8*60*60)

// Values of spec §5.1 the simulator checks on its own input.
var (
	reasonCodes = []string{
		"inactive_account", "inactive_provider", "not_allowed", "internal_error", "format_error",
		"timeout", "provider_error", "duplicate", "validation_error",
	}
	updatedByValues = []string{
		"data_consumer", "data_consumer_user", "ofp", "ofp_user", "data_provider", "data_provider_user",
	}
)

// maxIDLen is the limit on consent, DC and DP identifiers (spec §3.0).
const maxIDLen = 36

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidRequest, fmt.Sprintf(format, args...))
}

// ExpirationFor is expiration_datetime for a consent created at now and valid for days days:
// 23:59:59 +08:00 of the day that is days days after now's date in Malaysia (spec §5.1, §8.1).
func ExpirationFor(now time.Time, days int) time.Time {
	d := now.In(myt)
	return time.Date(d.Year(), d.Month(), d.Day()+days, 23, 59, 59, 0, myt)
}

// validateCreate checks a POST /sim/consents body and fills its defaults.
func (s *Sim) validateCreate(req *CreateConsentRequest) error {
	if req.DCID == "" {
		req.DCID = s.opt.DCID
	}
	if len(req.DCID) > maxIDLen || strings.TrimSpace(req.DCID) != req.DCID {
		return invalidf("dc_id must be at most %d characters without surrounding spaces", maxIDLen)
	}
	if !req.Purpose.Valid() {
		return invalidf("purpose must be pfm or credit_underwriting")
	}
	if len(req.Permissions) == 0 {
		return invalidf("permissions must not be empty")
	}
	for i, p := range req.Permissions {
		if !p.Valid() {
			return invalidf("permissions[%d] must be read_accounts, read_balances or read_transactions", i)
		}
		if slices.Contains(req.Permissions[:i], p) {
			return invalidf("permissions[%d] is a duplicate", i)
		}
	}
	if req.ValidityDays == 0 {
		req.ValidityDays = DefaultValidityDays
	}
	if req.ValidityDays < 0 || req.ValidityDays > MaxValidityDays {
		return invalidf("validity_days must be 1..%d", MaxValidityDays)
	}
	if (req.IDType == "") != (req.IDNumber == "") {
		return invalidf("id_type and id_number go together")
	}
	if req.IDType != "" && !req.IDType.Valid() {
		return invalidf("id_type must be nric or passport")
	}
	if req.IDNumber != "" && wire.NormalizeIDNumber(req.IDNumber) == "" {
		return invalidf("id_number is empty")
	}
	if req.DCRedirectURI != "" {
		u, err := url.Parse(req.DCRedirectURI)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Fragment != "" {
			return invalidf("dc_redirect_uri must be an absolute http(s) URL without a fragment")
		}
	}
	return nil
}

// createConsent creates a consent as PayNet does after a DC's PAR (spec §2.2 steps 1–4) and sends
// the consent_created event to the DP before answering.
func (s *Sim) createConsent(ctx context.Context, req CreateConsentRequest) (CreateConsentResponse, error) {
	if err := s.validateCreate(&req); err != nil {
		return CreateConsentResponse{}, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	id := s.newID()
	c := s.newConsent(req, id, now)
	authURL, err := s.authorizeURL(id)
	if err != nil {
		return CreateConsentResponse{}, err
	}
	s.state.add(&record{consent: c, updatedAt: now, dcRedirectURI: req.DCRedirectURI, authorizeURL: authURL})
	ev := s.sendEvent(ctx, wire.EventCreated, cloneConsent(c))
	return CreateConsentResponse{ConsentID: id, AuthorizeURL: authURL, Event: ev}, nil
}

// newConsent is the consent PayNet creates for a validated request (spec §5.1): status
// awaiting_authorization, consent_type account_access_consent, created_at = updated_at = now,
// expiration_datetime at 23:59:59 +08:00 of the last validity day, updated_by data_consumer (the DC
// asked for it), and the customer's id_type and hashed_id_number when the DC gave the ID.
func (s *Sim) newConsent(req CreateConsentRequest, id string, now time.Time) Consent {
	c := Consent{
		ConsentID:          id,
		DCID:               req.DCID,
		DPID:               s.opt.DPID,
		ConsentType:        wire.ConsentTypeAccountAccess,
		Purpose:            req.Purpose,
		Permissions:        slices.Clone(req.Permissions),
		ExpirationDatetime: ExpirationFor(now, req.ValidityDays).Format(time.RFC3339),
		Status:             wire.StatusAwaitingAuthorization,
		CreatedAt:          formatTimestamp(now),
		UpdatedAt:          formatTimestamp(now),
		UpdatedBy:          "data_consumer",
	}
	if req.IDType != "" {
		c.IDType = req.IDType
		c.HashedIDNumber = wire.HashIDNumber(req.IDNumber)
	}
	return c
}

// authorizeURL is the DP authorize URL PayNet sends the browser to (spec §3.1.2, §2.4):
// consent_id, redirect_uri = the simulator's callback, and signature = PayNet's attached JWS over
// the raw consent_id bytes (design.md §3.3).
func (s *Sim) authorizeURL(consentID string) (string, error) {
	sig, err := s.signer.SignAttached([]byte(consentID))
	if err != nil {
		return "", fmt.Errorf("sim: signing the authorize signature: %w", err)
	}
	q := url.Values{"consent_id": {consentID}, "redirect_uri": {s.RedirectURI()}, "signature": {sig}}
	return s.opt.DPWebURL + "/v1/oauth/authorize?" + q.Encode(), nil
}

// sendEvent POSTs one consent event to the DP (spec §3.1.1) over mTLS with PayNet's detached
// signature over the exact body (design.md §3.2), records it on the consent and returns the record.
func (s *Sim) sendEvent(ctx context.Context, et wire.EventType, c Consent) EventRecord {
	rec := EventRecord{EventType: et, Status: c.Status, InteractionID: s.newID(), SentAt: s.now().UTC()}
	defer func() { s.state.addEvent(c.ConsentID, rec) }()
	body, err := eventBody(et, c)
	if err != nil {
		rec.Error = "encoding the event: " + err.Error()
		return rec
	}
	resp, err := s.callDP(ctx, http.MethodPost, s.opt.DPAPIURL+"/v1/consents/events", body, rec.InteractionID, nil)
	if err != nil {
		rec.Error = err.Error()
		s.logger.Warn("sim: consent event not delivered", "consent_id", c.ConsentID, "event_type", et,
			"interaction_id", rec.InteractionID, "error", err)
		return rec
	}
	rec.HTTPStatus = resp.status
	if !rec.Accepted() {
		rec.Error = errorSummary(resp.body)
	}
	s.logger.Info("sim: consent event sent", "consent_id", c.ConsentID, "event_type", et,
		"status", c.Status, "http_status", resp.status, "interaction_id", rec.InteractionID)
	return rec
}

// eventBody is the exact JSON of a consent event (spec §3.1.1).
func eventBody(et wire.EventType, c Consent) ([]byte, error) {
	return json.Marshal(Event{EventType: et, Data: c})
}

// dpResponse is what the DP answered.
type dpResponse struct {
	status int
	header http.Header
	body   []byte
}

// callDP makes one signed call to the DP over mTLS: x-fapi-interaction-id, x-fapi-signature
// (detached, over body, which is empty for GET) and the extra headers.
func (s *Sim) callDP(ctx context.Context, method, target string, body []byte, interactionID string, extra http.Header) (*dpResponse, error) {
	sig, err := s.signer.SignDetached(body)
	if err != nil {
		return nil, fmt.Errorf("signing: %w", err)
	}
	var rd io.Reader
	if len(body) > 0 {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return nil, err
	}
	if len(body) > 0 {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set(headerInteractionID, interactionID)
	req.Header.Set(headerSignature, sig)
	for k, vs := range extra {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	resp, err := s.dpClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxDPResponseBody+1))
	if err != nil {
		return nil, fmt.Errorf("reading the DP's answer: %w", err)
	}
	if len(b) > maxDPResponseBody {
		return nil, fmt.Errorf("the DP's answer is larger than %d bytes", maxDPResponseBody)
	}
	return &dpResponse{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// errorSummary renders a DP error body as "code: description", or a bounded excerpt of it.
func errorSummary(body []byte) string {
	var e ErrorBody
	if json.Unmarshal(body, &e) == nil && e.Error != "" {
		if e.ErrorDescription == "" {
			return e.Error
		}
		return e.Error + ": " + e.ErrorDescription
	}
	const max = 200
	s := strings.ToValidUTF8(string(body), "?")
	if len(s) > max {
		s = s[:max] + "…"
	}
	if s == "" {
		return "empty answer"
	}
	return s
}

// statusTarget maps an action of POST /sim/consents/{id}/status to the status it sets (spec §5.2)
// and the defaults of status_reason and updated_by.
func statusTarget(action string) (to wire.Status, reason *wire.StatusReason, by string, ok bool) {
	switch action {
	case ActionRevoke:
		return wire.StatusRevoked, nil, "data_consumer_user", true
	case ActionSuspend:
		// spec §5.1: status_reason is mandatory for suspended.
		return wire.StatusSuspended, &wire.StatusReason{
			ReasonCode: "not_allowed", ReasonDescription: "suspended by PayNet OFP",
		}, "ofp", true
	case ActionReinstate:
		return wire.StatusAuthorized, nil, "ofp", true
	case ActionExpire:
		return wire.StatusExpired, nil, "ofp", true
	}
	return "", nil, "", false
}

// changeStatus applies a lifecycle action and sends the consent_status_updated event (spec §5.2, §7.3).
func (s *Sim) changeStatus(ctx context.Context, id string, req StatusRequest) (StatusResponse, error) {
	to, reason, by, ok := statusTarget(req.Action)
	if !ok {
		return StatusResponse{}, invalidf("action must be revoke, suspend, reinstate or expire")
	}
	if req.ReasonCode != "" {
		if !slices.Contains(reasonCodes, req.ReasonCode) {
			return StatusResponse{}, invalidf("reason_code is not a reason code of spec §5.1")
		}
		if to == wire.StatusAuthorized {
			return StatusResponse{}, invalidf("reinstate clears status_reason; do not give one")
		}
		reason = &wire.StatusReason{ReasonCode: req.ReasonCode, ReasonDescription: req.ReasonDescription}
	} else if req.ReasonDescription != "" {
		return StatusResponse{}, invalidf("reason_description needs reason_code")
	}
	if req.UpdatedBy != "" {
		if !slices.Contains(updatedByValues, req.UpdatedBy) {
			return StatusResponse{}, invalidf("updated_by is not a value of spec §5.1")
		}
		by = req.UpdatedBy
	}
	var snap Consent
	var stErr error
	found := s.state.update(id, func(r *record) {
		from := r.consent.Status
		if !req.Force && (from == to || !wire.CanTransition(from, to)) {
			stErr = fmt.Errorf("%w: %s → %s", ErrIllegalTransition, from, to)
			return
		}
		r.consent.Status = to
		r.consent.StatusReason = reason
		r.consent.UpdatedBy = by
		r.nextUpdatedAt(s.now())
		snap = cloneConsent(r.consent)
	})
	if !found {
		return StatusResponse{}, ErrUnknownConsent
	}
	if stErr != nil {
		return StatusResponse{}, stErr
	}
	ev := s.sendEvent(ctx, wire.EventStatusUpdated, snap)
	return StatusResponse{Status: to, HTTPStatus: ev.HTTPStatus, Error: ev.Error}, nil
}

// apiError answers an error of the JSON API.
func apiError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, ErrInvalidRequest):
		writeError(w, http.StatusBadRequest, "invalid_request", err.Error())
	case errors.Is(err, ErrUnknownConsent):
		writeError(w, http.StatusNotFound, "invalid_request", "unknown consent_id")
	case errors.Is(err, ErrIllegalTransition):
		writeError(w, http.StatusConflict, "Consent.Invalid", err.Error())
	default:
		writeError(w, http.StatusInternalServerError, "server_error", err.Error())
	}
}

// handleCreateConsent serves POST /sim/consents: 201 when the DP acknowledged the consent_created
// event, 502 (same body) when it did not.
func (s *Sim) handleCreateConsent(w http.ResponseWriter, r *http.Request) {
	var req CreateConsentRequest
	if !decodeAPIBody(w, r, &req) {
		return
	}
	resp, err := s.createConsent(r.Context(), req)
	if err != nil {
		apiError(w, err)
		return
	}
	obs.Info(r.Context()).ConsentID = resp.ConsentID
	status := http.StatusCreated
	if !resp.Event.Accepted() {
		status = http.StatusBadGateway
	}
	writeJSON(w, status, resp)
}

func (s *Sim) handleGetConsent(w http.ResponseWriter, r *http.Request) {
	v, ok := s.state.view(r.PathValue("id"))
	if !ok {
		apiError(w, ErrUnknownConsent)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Sim) handleStatus(w http.ResponseWriter, r *http.Request) {
	var req StatusRequest
	if !decodeAPIBody(w, r, &req) {
		return
	}
	resp, err := s.changeStatus(r.Context(), r.PathValue("id"), req)
	if err != nil {
		apiError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Sim) handleUpdates(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.state.recentUpdates())
}
