package api

import (
	"errors"
	"mime"
	"net/http"

	"github.com/ofpdp/ofpdp/internal/consent"
	"github.com/ofpdp/ofpdp/internal/obs"
	"github.com/ofpdp/ofpdp/internal/protoerr"
	"github.com/ofpdp/ofpdp/internal/store"
)

// consentEvents implements POST /v1/consents/events (spec §3.1.1; design §3.6): parse and
// validate the whole consent, apply it in one transaction with its receipt in the history, and
// answer 200 {} only after the commit.
func (h *Handler) consentEvents(w http.ResponseWriter, r *http.Request) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			fail(w, r, protoerr.InvalidRequest("Content-Type must be application/json", err))
			return
		}
	}
	v := verifiedFrom(r.Context())
	now := h.now()
	ev, err := consent.ParseEvent(v.Body, consent.Rules{DPID: h.dpID, Now: now})
	if err != nil {
		h.eventOutcome("", "invalid")
		var ve *consent.ValidationError
		if errors.As(err, &ve) {
			fail(w, r, protoerr.InvalidRequest(ve.Error(), err))
			return
		}
		fail(w, r, protoerr.InvalidRequest("the event body is not a valid consent event", err))
		return
	}
	ri := obs.Info(r.Context())
	ri.ConsentID = ev.Consent.ConsentID
	receipt := store.EventReceipt{
		Type: ev.Type, Raw: v.Body, InteractionID: ri.InteractionID,
		SigAlg: v.Header.Alg, SigKid: v.Header.Kid, SigJti: v.Header.Jti, SigIat: v.Header.Iat,
		ReceivedAt: now,
	}
	dec, err := h.events.ApplyEvent(r.Context(), ev, receipt)
	switch {
	case errors.Is(err, consent.ErrUnknownConsent):
		h.eventOutcome(ev.Type, "unknown_consent")
		fail(w, r, protoerr.ConsentInvalid("unknown consent_id", err))
		return
	case errors.Is(err, consent.ErrImmutableField):
		h.eventOutcome(ev.Type, "immutable_field")
		fail(w, r, protoerr.ConsentInvalid("the event changes a field that never changes for a consent", err))
		return
	case errors.Is(err, consent.ErrWidened):
		h.eventOutcome(ev.Type, "widened")
		fail(w, r, protoerr.ConsentInvalid("the event grants more than the customer approved", err))
		return
	case errors.Is(err, consent.ErrIllegalTransition):
		h.eventOutcome(ev.Type, "illegal_transition")
		fail(w, r, protoerr.ConsentInvalid("illegal consent status transition", err))
		return
	case err != nil:
		h.eventOutcome(ev.Type, "error")
		fail(w, r, protoerr.Internal(err))
		return
	}
	h.eventOutcome(ev.Type, string(dec.Action))
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte("{}"))
}

func (h *Handler) eventOutcome(t consent.EventType, outcome string) {
	if h.metrics == nil {
		return
	}
	typ := string(t)
	if !t.Valid() {
		typ = "invalid"
	}
	h.metrics.Events.WithLabelValues(typ, outcome).Inc()
}
