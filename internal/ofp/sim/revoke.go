package sim

import (
	"context"
	"net/http"
	"slices"

	"github.com/ofpdp/ofpdp/internal/ofp/wire"
)

// revokeBody is the body of the simulator's DP-initiated revocation, POST
// /v1/consents/{consent_id}/revoke (spec paynet-dp.md §3.2.3: PayNet has not published it; this
// is the DP's default, paynet.revoke_*).
type revokeBody struct {
	StatusReason *wire.StatusReason `json:"status_reason"`
}

// handleRevoke receives a DP-initiated revocation: faults, signature and body as a PATCH, then the
// consent moves from authorized or suspended to revoked (spec §5.2) with updated_by
// data_provider, which the data consumer side sees (GET /sim/consents/{id}), and PayNet's
// consent_status_updated event goes back to the DP.
func (s *Sim) handleRevoke(w http.ResponseWriter, r *http.Request) { s.receive(w, r, s.checkRevoke) }

func (s *Sim) checkRevoke(_ context.Context, r *http.Request, id string, body []byte, rec *UpdateRecord) (Consent, *patchError) {
	if perr := s.checkSigned(r, body); perr != nil {
		return Consent{}, perr
	}
	rec.Status = string(wire.StatusRevoked)
	var b revokeBody
	if err := decodeStrict(body, &b); err != nil {
		return Consent{}, badRequest("body is not a revocation: %v", err)
	}
	switch {
	case b.StatusReason == nil:
		return Consent{}, badRequest("status_reason is required")
	case !slices.Contains(reasonCodes, b.StatusReason.ReasonCode):
		return Consent{}, badRequest("status_reason.reason_code is not a reason code of spec §5.1")
	case len(b.StatusReason.ReasonDescription) > maxTextLen:
		return Consent{}, badRequest("status_reason.reason_description is too long")
	}
	return s.applyRevoke(id, b.StatusReason)
}

// applyRevoke moves an authorized or suspended consent to revoked by the data provider.
func (s *Sim) applyRevoke(id string, reason *wire.StatusReason) (Consent, *patchError) {
	var snap Consent
	var perr *patchError
	found := s.state.update(id, func(r *record) {
		if from := r.consent.Status; from != wire.StatusAuthorized && from != wire.StatusSuspended {
			perr = &patchError{status: http.StatusConflict, code: codeConsentInvalid,
				description: "consent is " + string(from) + ", not authorized or suspended"}
			return
		}
		r.consent.Status = wire.StatusRevoked
		r.consent.StatusReason = reason
		r.consent.UpdatedBy = "data_provider"
		r.nextUpdatedAt(s.now())
		snap = cloneConsent(r.consent)
	})
	return applied(snap, found, perr)
}
