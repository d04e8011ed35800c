package sim

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/ofpdp/ofpdp/internal/obs"
	"github.com/ofpdp/ofpdp/internal/ofp/stdjose"
	"github.com/ofpdp/ofpdp/internal/ofp/wire"
)

// Limits of the PATCH body (spec §3.2.1).
const (
	maxIDTokenLen   = 3000
	maxStatusLen    = 32
	maxTextLen      = 300
	hashedIDLen     = 44
	maxUpdateAccnts = 100
)

// Error codes the simulator answers a refused PATCH with (design.md §4 vocabulary).
const (
	codeInvalidRequest   = "invalid_request"
	codeInvalidSignature = "JWS.InvalidSignature"
	codeInvalidClaim     = "JWS.InvalidClaim"
	codeConsentInvalid   = "Consent.Invalid"
	codeConsentNotFound  = "Consent.NotFound"
)

// updateBody is the body of PATCH /v1/consents/{consent_id} (spec §3.2.1).
type updateBody struct {
	ConsentID    *string            `json:"consent_id"`
	Status       string             `json:"status"`
	IDToken      string             `json:"id_token"`
	UserIdentity *userIdentity      `json:"user_identity"`
	Accounts     []Account          `json:"accounts"`
	StatusReason *wire.StatusReason `json:"status_reason"`
}

// userIdentity is user_identity of the PATCH (spec §3.2.1, §5.8).
type userIdentity struct {
	IDType             string `json:"id_type"`
	MaskedIDNumber     string `json:"masked_id_number"`
	HashedIDNumber     string `json:"hashed_id_number"`
	MaskedMobileNumber string `json:"masked_mobile_number"`
	HashedMobileNumber string `json:"hashed_mobile_number"`
}

// patchError is a refused PATCH: the HTTP status and error body answered.
type patchError struct {
	status      int
	code        string
	description string
}

func (e *patchError) Error() string { return e.code + ": " + e.description }

func badRequest(format string, args ...any) *patchError {
	return &patchError{status: http.StatusBadRequest, code: codeInvalidRequest, description: fmt.Sprintf(format, args...)}
}

// handlePatch receives the DP's consent update (spec §3.2.1) and checks it as PayNet must:
// injected faults first, then the detached signature over the exact body (design.md §3.4), the body
// schema, the id_token (spec §4.5) and the consent's state (spec §5.2). Every request is recorded.
// A good update answers 200 {} and is followed by the consent_status_updated event.
func (s *Sim) handlePatch(w http.ResponseWriter, r *http.Request) { s.receive(w, r, s.checkUpdate) }

// checker verifies a consent call of the DP and applies it; it returns the consent as it now stands.
type checker func(ctx context.Context, r *http.Request, id string, body []byte, rec *UpdateRecord) (Consent, *patchError)

// receive serves a consent call of the DP (update or revocation): it reads the body, answers a
// pending injected fault, runs check and records and answers the outcome.
func (s *Sim) receive(w http.ResponseWriter, r *http.Request, check checker) {
	id := r.PathValue("consent_id")
	iid := r.Header.Get(headerInteractionID)
	if iid != "" {
		w.Header().Set(headerInteractionID, iid)
	}
	obs.Info(r.Context()).ConsentID = id
	obs.Info(r.Context()).InteractionID = iid
	rec := UpdateRecord{ConsentID: id, InteractionID: iid, ReceivedAt: s.now().UTC()}

	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxPatchBody))
	if err != nil {
		s.refusePatch(w, r, &rec, badRequest("request body too large or unreadable"))
		return
	}
	if s.injectFault(w, r, &rec, body) {
		return
	}
	snap, perr := check(r.Context(), r, id, body, &rec)
	if perr != nil {
		s.refusePatch(w, r, &rec, perr)
		return
	}
	s.accept(w, rec, snap)
}

// accept records an accepted update, answers 200 {} and sends the consent_status_updated event
// of the consent as it now stands (after paynet.status_event_delay).
func (s *Sim) accept(w http.ResponseWriter, rec UpdateRecord, snap Consent) {
	rec.Accepted = true
	rec.HTTPStatus = http.StatusOK
	s.recordUpdate(rec)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte("{}"))
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	delay := s.opt.StatusEventDelay
	s.goBackground(func(ctx context.Context) {
		if delay > 0 {
			t := time.NewTimer(delay)
			defer t.Stop()
			select {
			case <-t.C:
			case <-ctx.Done():
				return
			}
		}
		s.sendEvent(ctx, wire.EventStatusUpdated, snap)
	})
}

// injectFault answers the request with a pending injected fault; it reports whether it did.
func (s *Sim) injectFault(w http.ResponseWriter, r *http.Request, rec *UpdateRecord, body []byte) bool {
	kind, status, ok := s.faults.take()
	if !ok {
		return false
	}
	var peek struct {
		Status string `json:"status"`
	}
	_ = json.Unmarshal(body, &peek)
	rec.Status = peek.Status
	if kind == FaultTimeout {
		rec.Error = "injected fault: timeout"
		s.recordUpdate(*rec)
		obs.Info(r.Context()).Cause = errors.New("injected fault: timeout")
		select {
		case <-r.Context().Done():
		case <-s.closing:
			writeError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "simulator shutting down")
		}
		return true
	}
	rec.HTTPStatus = status
	rec.Error = fmt.Sprintf("injected fault: status %d", status)
	s.recordUpdate(*rec)
	obs.Info(r.Context()).Cause = errors.New(rec.Error)
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	writeError(w, status, faultCode(status), "injected fault")
	return true
}

func (s *Sim) refusePatch(w http.ResponseWriter, r *http.Request, rec *UpdateRecord, e *patchError) {
	rec.HTTPStatus = e.status
	rec.Error = e.Error()
	s.recordUpdate(*rec)
	obs.Info(r.Context()).Cause = e
	writeError(w, e.status, e.code, e.description)
}

func (s *Sim) recordUpdate(u UpdateRecord) { s.state.addUpdate(u) }

// checkUpdate verifies a PATCH and, when it is good, applies it to the consent; it returns the
// consent as it now stands, for the event that follows.
func (s *Sim) checkUpdate(ctx context.Context, r *http.Request, id string, body []byte, rec *UpdateRecord) (Consent, *patchError) {
	if perr := s.checkSigned(r, body); perr != nil {
		return Consent{}, perr
	}
	var u updateBody
	if err := decodeStrict(body, &u); err != nil {
		return Consent{}, badRequest("body is not a consent update: %v", err)
	}
	rec.Status = u.Status
	rec.Accounts = u.Accounts
	if err := validateUpdate(id, &u); err != nil {
		return Consent{}, err
	}
	held, ok := s.state.view(id)
	if !ok {
		return Consent{}, &patchError{status: http.StatusNotFound, code: codeConsentNotFound, description: "unknown consent_id"}
	}
	if u.Status == string(wire.StatusAuthorized) {
		raw, err := s.checkIDToken(ctx, u.IDToken, held.Consent, u.UserIdentity)
		if raw != nil {
			rec.IDTokenClaims = raw
		}
		if err != nil {
			return Consent{}, err
		}
		if held.IDType != "" && (u.UserIdentity.IDType != string(held.IDType) || u.UserIdentity.HashedIDNumber != held.HashedIDNumber) {
			return Consent{}, badRequest("user_identity does not match the consent's id_type/hashed_id_number")
		}
	}
	return s.applyUpdate(id, &u)
}

// checkSigned checks the Content-Type and the detached signature over the exact body: nothing
// from an unauthenticated body is trusted (design.md §3.4).
func (s *Sim) checkSigned(r *http.Request, body []byte) *patchError {
	ct := r.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
		return badRequest("Content-Type must be application/json")
	}
	if _, err := s.patchVerify.VerifyDetached(r.Header.Get(headerSignature), body); err != nil {
		code := codeInvalidSignature
		if stdjose.IsClaimError(err) {
			code = codeInvalidClaim
		}
		return &patchError{status: http.StatusUnauthorized, code: code, description: err.Error()}
	}
	return nil
}

// validateUpdate checks the PATCH body schema of spec §3.2.1.
func validateUpdate(id string, u *updateBody) *patchError {
	if u.ConsentID != nil && *u.ConsentID != id {
		return badRequest("consent_id in the body differs from the path")
	}
	if len(u.Status) > maxStatusLen {
		return badRequest("status is longer than %d characters", maxStatusLen)
	}
	if u.StatusReason != nil {
		if !slices.Contains(reasonCodes, u.StatusReason.ReasonCode) {
			return badRequest("status_reason.reason_code is not a reason code of spec §5.1")
		}
		if len(u.StatusReason.ReasonDescription) > maxTextLen {
			return badRequest("status_reason.reason_description is too long")
		}
	}
	switch wire.Status(u.Status) {
	case wire.StatusAuthorized:
		return validateAuthorized(u)
	case wire.StatusRejected, wire.StatusFailed, wire.StatusRevoked:
		// A refusal or a revocation (the PATCH fallback of spec §3.2.3) shares nothing: no token,
		// no identity, no accounts.
		if u.IDToken != "" || u.UserIdentity != nil || u.Accounts != nil {
			return badRequest("a %s update must not carry id_token, user_identity or accounts", u.Status)
		}
		return nil
	}
	return badRequest("status must be authorized, rejected, failed or revoked")
}

func validateAuthorized(u *updateBody) *patchError {
	if u.IDToken == "" {
		return badRequest("id_token is required when status is authorized")
	}
	if len(u.IDToken) > maxIDTokenLen {
		return badRequest("id_token is longer than %d characters", maxIDTokenLen)
	}
	if u.StatusReason != nil {
		return badRequest("status_reason is not allowed when status is authorized")
	}
	ui := u.UserIdentity
	if ui == nil {
		return badRequest("user_identity is required when status is authorized")
	}
	if !wire.IDType(ui.IDType).Valid() {
		return badRequest("user_identity.id_type must be nric or passport")
	}
	if !validHash(ui.HashedIDNumber) {
		return badRequest("user_identity.hashed_id_number must be standard base64 of a SHA-256 hash")
	}
	if ui.MaskedIDNumber == "" || len(ui.MaskedIDNumber) > maxTextLen {
		return badRequest("user_identity.masked_id_number is required")
	}
	if ui.HashedMobileNumber != "" && !validHash(ui.HashedMobileNumber) {
		return badRequest("user_identity.hashed_mobile_number must be standard base64 of a SHA-256 hash")
	}
	if len(u.Accounts) == 0 {
		return badRequest("accounts must not be empty when status is authorized")
	}
	if len(u.Accounts) > maxUpdateAccnts {
		return badRequest("too many accounts")
	}
	for i, a := range u.Accounts {
		switch {
		case a.AccountID == "" || len(a.AccountID) > maxIDLen:
			return badRequest("accounts[%d].account_id must be 1..%d characters", i, maxIDLen)
		case a.AccountNumber == "" || len(a.AccountNumber) > maxTextLen:
			return badRequest("accounts[%d].account_number is required", i)
		case a.AccountName == "" || len(a.AccountName) > maxTextLen:
			return badRequest("accounts[%d].account_name is required", i)
		case len(a.AccountNumber) >= 4 && strings.Contains(a.AccountID, a.AccountNumber):
			// design.md §3.8: account ids are opaque, never derived from the account number.
			return badRequest("accounts[%d].account_id contains the account number", i)
		}
		for _, b := range u.Accounts[:i] {
			if b.AccountID == a.AccountID {
				return badRequest("accounts[%d].account_id is a duplicate", i)
			}
		}
	}
	return nil
}

// validHash reports whether h is standard padded base64 of 32 bytes (design.md §3.11).
func validHash(h string) bool {
	if len(h) != hashedIDLen {
		return false
	}
	b, err := base64.StdEncoding.Strict().DecodeString(h)
	return err == nil && len(b) == 32
}

// idTokenClaims are the id_token claims PayNet checks (spec §4.5).
type idTokenClaims struct {
	Issuer         string
	Subject        string
	Audience       []string
	IssuedAt       time.Time
	Expiry         time.Time
	IDType         string
	HashedIDNumber string
}

// checkIDToken verifies the id_token (spec §4.5): the DP's signature (dp.jwks.json), aud = the
// consent's dc_id, exp in the future and at most iat + 600 s (+ skew), iss when configured, and the
// identity claims equal to user_identity's and, when the consent has them, the consent's.
// raw is the verified claims JSON (nil when the signature did not verify).
func (s *Sim) checkIDToken(ctx context.Context, token string, c Consent, ui *userIdentity) (json.RawMessage, *patchError) {
	var cl idTokenClaims
	_, payload, err := s.tokenVerify.VerifyAttached(token)
	if err != nil {
		return nil, badRequest("id_token: %v", err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(payload, &m); err != nil || m == nil {
		return nil, badRequest("id_token: claims are not a JSON object")
	}
	raw := json.RawMessage(bytes.Clone(payload))
	str := func(name string) string {
		var v string
		if json.Unmarshal(m[name], &v) != nil {
			return ""
		}
		return v
	}
	num := func(name string) (time.Time, bool) {
		var v json.Number
		d := json.NewDecoder(bytes.NewReader(m[name]))
		d.UseNumber()
		if d.Decode(&v) != nil {
			return time.Time{}, false
		}
		n, err := v.Int64()
		if err != nil {
			return time.Time{}, false
		}
		return time.Unix(n, 0), true
	}
	cl.Issuer, cl.Subject = str("iss"), str("sub")
	cl.IDType, cl.HashedIDNumber = str("id_type"), str("hashed_id_number")
	if a := str("aud"); a != "" {
		cl.Audience = []string{a}
	} else {
		_ = json.Unmarshal(m["aud"], &cl.Audience)
	}
	var okIat, okExp bool
	cl.IssuedAt, okIat = num("iat")
	cl.Expiry, okExp = num("exp")
	now := s.now()
	switch {
	case cl.Issuer == "":
		return raw, badRequest("id_token: iss is missing")
	case s.opt.IDTokenIssuer != "" && cl.Issuer != s.opt.IDTokenIssuer:
		return raw, badRequest("id_token: iss is not the DP's issuer")
	case cl.Subject == "":
		return raw, badRequest("id_token: sub is missing")
	case !slices.Contains(cl.Audience, c.DCID):
		return raw, badRequest("id_token: aud is not the consent's dc_id")
	case !okIat || !okExp:
		return raw, badRequest("id_token: iat and exp must be integer NumericDates")
	case !cl.Expiry.After(now):
		return raw, badRequest("id_token: expired")
	case cl.IssuedAt.After(now.Add(idTokenSkew)):
		return raw, badRequest("id_token: iat is in the future")
	case cl.Expiry.After(cl.IssuedAt.Add(idTokenMaxLifetime + idTokenSkew)):
		return raw, badRequest("id_token: exp is more than 600 s after iat")
	case cl.IDType == "" || cl.HashedIDNumber == "":
		return raw, badRequest("id_token: id_type and hashed_id_number are required")
	case cl.IDType != ui.IDType || cl.HashedIDNumber != ui.HashedIDNumber:
		return raw, badRequest("id_token: identity claims differ from user_identity")
	case c.IDType != "" && (cl.IDType != string(c.IDType) || cl.HashedIDNumber != c.HashedIDNumber):
		return raw, badRequest("id_token: identity claims differ from the consent's")
	}
	return raw, nil
}

// applyUpdate moves the consent from awaiting_authorization to the update's status (spec §5.2)
// atomically, and returns the consent as it now stands.
func (s *Sim) applyUpdate(id string, u *updateBody) (Consent, *patchError) {
	if u.Status == string(wire.StatusRevoked) {
		return s.applyRevoke(id, u.StatusReason)
	}
	var snap Consent
	var perr *patchError
	found := s.state.update(id, func(r *record) {
		if r.consent.Status != wire.StatusAwaitingAuthorization {
			perr = &patchError{status: http.StatusConflict, code: codeConsentInvalid,
				description: "consent is " + string(r.consent.Status) + ", not awaiting_authorization"}
			return
		}
		to := wire.Status(u.Status)
		r.consent.Status = to
		r.consent.StatusReason = u.StatusReason
		switch to {
		case wire.StatusAuthorized:
			r.consent.AccountAccess = &AccountAccess{Accounts: slices.Clone(u.Accounts)}
		case wire.StatusRejected:
			if r.consent.StatusReason == nil {
				// spec §5.1: status_reason is mandatory for rejected.
				r.consent.StatusReason = &wire.StatusReason{
					ReasonCode: "not_allowed", ReasonDescription: "rejected at the data provider",
				}
			}
		}
		r.consent.UpdatedBy = "data_provider_user"
		r.nextUpdatedAt(s.now())
		snap = cloneConsent(r.consent)
	})
	return applied(snap, found, perr)
}

// applied is the outcome of a state change: 404 for an unknown consent, else perr or the consent.
func applied(snap Consent, found bool, perr *patchError) (Consent, *patchError) {
	if !found {
		return Consent{}, &patchError{status: http.StatusNotFound, code: codeConsentNotFound, description: "unknown consent_id"}
	}
	if perr != nil {
		return Consent{}, perr
	}
	return snap, nil
}
