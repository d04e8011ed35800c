package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/ofpdp/ofpdp/internal/consent"
	"github.com/ofpdp/ofpdp/internal/jose"
	"github.com/ofpdp/ofpdp/internal/journey"
	"github.com/ofpdp/ofpdp/internal/paynet"
	"github.com/ofpdp/ofpdp/internal/store"
)

// replayMargin keeps one-time keys a while past the authorization deadline they guard.
const replayMargin = time.Hour

// decision is what a journey ends with: the consent update for PayNet and what to record locally.
type decision struct {
	status   consent.Status
	reason   string // "" for an authorization
	update   paynet.Update
	accounts []store.AuthorizedAccount // authorized only
	shared   []accountView             // authorized only: what the success page lists
}

// accountIDs are the DP account ids of the accounts an authorization shares.
func (d *decision) accountIDs() []string {
	ids := make([]string, len(d.accounts))
	for i, a := range d.accounts {
		ids[i] = a.AccountID
	}
	return ids
}

// negative is a rejected or failed decision (design §3.9): rejected when the customer rejects or
// cancels; failed on identity mismatch, lockout or timeout.
func (h *Handler) negative(s *sess, status consent.Status, reason string) decision {
	u := paynet.Update{ConsentID: s.j.ConsentID, Status: string(status)}
	if code, ok := paynetReasonCodes[reason]; ok {
		u.StatusReason = &paynet.StatusReason{ReasonCode: code, ReasonDescription: descriptions[reason]}
	}
	return decision{status: status, reason: reason, update: u}
}

// approval builds the authorized update (spec §3.2.1): the id_token of spec §4.5, user_identity
// (spec §5.8: masked and hashed only) and the chosen accounts, re-read from the bank so only
// owned, still-eligible, selected accounts are ever listed (U11). ok is false when it answered.
func (h *Handler) approval(w http.ResponseWriter, r *http.Request, s *sess) (decision, bool) {
	ctx := r.Context()
	accts, ids, ok, err := h.selected(ctx, s)
	if err != nil {
		h.o.Logger.ErrorContext(ctx, "web: bank accounts", "consent_id", s.j.ConsentID, "error", err)
		h.renderError(w, r, s, errServer)
		return decision{}, false
	}
	if !ok {
		h.backToAccounts(w, r, s)
		return decision{}, false
	}
	now := h.o.Now()
	token, err := h.o.IDTokens.SignIDToken(jose.IDTokenClaims{
		Issuer:         h.o.IDTokenIssuer,
		Subject:        consent.SubjectID(h.o.AccountIDKey, s.j.CustomerRef),
		Audience:       s.j.DCID,
		IssuedAt:       now,
		Expiry:         now.Add(h.o.IDTokenTTL),
		AuthTime:       s.j.AuthTime,
		IDType:         s.j.IDType,
		HashedIDNumber: s.j.HashedIDNumber,
	})
	if err != nil {
		h.o.Logger.ErrorContext(ctx, "web: sign id_token", "consent_id", s.j.ConsentID, "error", err)
		h.renderError(w, r, s, errServer)
		return decision{}, false
	}
	d := decision{
		status: consent.StatusAuthorized,
		update: paynet.Update{
			ConsentID: s.j.ConsentID,
			Status:    paynet.StatusAuthorized,
			IDToken:   token,
			UserIdentity: &paynet.UserIdentity{
				IDType:             s.j.IDType,
				MaskedIDNumber:     s.j.MaskedIDNumber,
				HashedIDNumber:     s.j.HashedIDNumber,
				MaskedMobileNumber: s.j.MaskedMobileNumber,
				HashedMobileNumber: s.j.HashedMobileNumber,
			},
		},
	}
	for i := range accts {
		a := &accts[i]
		number := a.SharedNumber()
		d.update.Accounts = append(d.update.Accounts, paynet.Account{AccountID: ids[i], AccountNumber: number, AccountName: a.Name})
		d.accounts = append(d.accounts, store.AuthorizedAccount{AccountID: ids[i], AccountRef: a.Ref, AccountNumber: number, AccountName: a.Name})
		d.shared = append(d.shared, viewOf(a, ids[i]))
	}
	return d, true
}

// conclude ends the journey with d, once per consent across sessions and replicas:
//  1. the consent must still await authorization (else no PATCH: error redirect);
//  2. UseOnce("decision:<consent_id>") — a second decision waits for the first one's outcome;
//  3. PATCH to PayNet; only when PayNet accepted an authorization is it recorded as authorized
//     (store.Authorize, with what the customer approved), else it is recorded as
//     failed/patch_failed and nothing is claimed; a decision is never recorded over a status
//     PayNet set meanwhile (consent.DecisionFrom): then the journey ends as refused;
//  4. the outcome is kept in the session and answered: success → /journey/complete,
//     PATCH failure → "nothing was shared" page, anything negative → error redirect.
//
// The work runs detached from the request's cancellation (bounded by decisionTimeout) so a
// closed tab or a double click cannot leave PayNet and the store disagreeing.
func (h *Handler) conclude(w http.ResponseWriter, r *http.Request, s *sess, d decision) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), h.decisionTimeout)
	defer cancel()
	id := s.j.ConsentID

	rec, err := h.o.Store.GetConsent(ctx, id)
	if err != nil || rec.Consent.Status != consent.StatusAwaitingAuthorization || rec.Authorization != nil {
		reason := journey.ReasonNotAwaiting
		if errors.Is(err, store.ErrNotFound) {
			reason = journey.ReasonUnknownConsent
		} else if err != nil {
			h.o.Logger.ErrorContext(ctx, "web: read consent", "consent_id", id, "error", err)
			h.renderError(w, r, s, errServer)
			return
		}
		h.refuse(w, r, s, reason)
		return
	}
	fresh, err := h.o.Store.UseOnce(ctx, "decision:"+id, s.j.Deadline.Add(replayMargin))
	if err != nil {
		h.o.Logger.ErrorContext(ctx, "web: decision guard", "consent_id", id, "error", err)
		h.renderError(w, r, s, errServer)
		return
	}
	if !fresh {
		h.awaitOutcome(w, r, s)
		return
	}
	if d.status == consent.StatusAuthorized && !h.o.Now().Before(s.j.Deadline) {
		d = h.negative(s, consent.StatusFailed, journey.ReasonTimeout)
	}
	// The customer signed in against the consent as it was then; decide against it as it is now.
	if reason := journey.IdentityProblem(&rec.Consent, h.o.RequireIdentityBinding, s.j.IDType, s.j.HashedIDNumber); d.status == consent.StatusAuthorized && reason != "" {
		h.o.Logger.InfoContext(ctx, "web: consent no longer matches the signed-in customer", "consent_id", id, "reason", reason)
		d = h.negative(s, consent.StatusFailed, reason)
	}

	now := h.o.Now()
	a := store.Authorization{Status: d.status, CustomerRef: s.j.CustomerRef, DecidedAt: now, Reason: d.reason, Channel: channelOf(&s.j)}
	outcome := journey.OutcomeFor(d.status)
	perr := h.o.Updater.UpdateConsent(ctx, d.update)
	switch {
	case perr == nil && d.status == consent.StatusAuthorized:
		// What the customer approved is the consent as read above, before the PATCH: PayNet's
		// later events may only narrow it (docs/security.md "Consent widening after approval").
		a.Accounts = d.accounts
		a.Approved = new(consent.Approve(rec.Consent, d.accountIDs()))
		s.j.Shared = d.shared
	case perr != nil && d.status == consent.StatusAuthorized:
		// PayNet did not take the authorization: nothing was shared, claim nothing.
		a = store.Authorization{Status: consent.StatusFailed, CustomerRef: s.j.CustomerRef, DecidedAt: now, Reason: journey.ReasonPatchFailed,
			Channel: channelOf(&s.j)}
		outcome, d.reason = journey.OutcomePatchFailed, journey.ReasonPatchFailed
	}
	if perr != nil {
		h.o.Logger.ErrorContext(ctx, "web: consent update failed", "consent_id", id, "status", d.update.Status, "error", perr)
		h.audit(ctx, "patch", id, "failed", d.update.Status)
		h.compensate(ctx, id, a, perr)
	} else {
		h.audit(ctx, "patch", id, "sent", d.update.Status)
	}
	recorded := string(a.Status)
	switch err := h.record(ctx, id, rec.Version, a); {
	case errors.Is(err, consent.ErrNotAwaitingAuthorization):
		// PayNet moved the consent on (e.g. suspended it) after it was read above, or another
		// journey decided it: the decision is not recorded over that, and the customer is told
		// the consent can no longer be authorized.
		h.o.Logger.WarnContext(ctx, "web: decision not recorded, the consent no longer awaits authorization",
			"consent_id", id, "status", a.Status, "error", err)
		recorded, outcome, d.reason, s.j.Shared = "not_recorded", journey.OutcomeRefused, journey.ReasonNotAwaiting, nil
	case err != nil:
		h.o.Logger.ErrorContext(ctx, "web: record decision", "consent_id", id, "status", a.Status, "error", err)
	}
	h.audit(ctx, "decision", id, recorded, a.Reason)
	h.o.Logger.InfoContext(ctx, "web: journey decided", "consent_id", id, "outcome", outcome, "reason", d.reason)
	h.countJourney(outcome)

	s.j.Finish(outcome, d.reason)
	if err := h.saveOutcome(ctx, s); err != nil {
		h.o.Logger.ErrorContext(ctx, "web: save outcome", "consent_id", id, "error", err)
	}
	h.respondOutcome(w, r, s)
}

// compensate handles a PATCH that failed (negative-tests C11). When its outcome is unknown (a
// network error, timeout, 5xx or 429 after all attempts: PayNet may or may not have applied it),
// a status-only update to the status recorded here goes to the outbox, which internal/outbox
// delivers later: failed (patch_failed) after an authorization PayNet did not confirm, else the
// rejected or failed it may have missed. A definite refusal is not retried: it is logged and
// audited. What the customer sees does not change.
func (h *Handler) compensate(ctx context.Context, consentID string, a store.Authorization, perr error) {
	if !unknownOutcome(perr) {
		h.o.Logger.WarnContext(ctx, "web: consent update refused by PayNet, not retried", "consent_id", consentID, "status", a.Status)
		h.audit(ctx, "outbox", consentID, "not_retried", string(a.Status))
		return
	}
	if err := h.o.Store.EnqueueUpdate(ctx, store.OutboxItem{ConsentID: consentID, Status: a.Status, Reason: a.Reason}); err != nil {
		h.o.Logger.ErrorContext(ctx, "web: enqueue compensating consent update", "consent_id", consentID, "status", a.Status, "error", err)
		return
	}
	h.audit(ctx, "outbox", consentID, "enqueued", string(a.Status))
}

// unknownOutcome reports whether PayNet may have applied a failed update: a retryable
// *paynet.UpdateError, or a transport or context error. A non-retryable answer and an update
// never sent (paynet.ErrInvalidUpdate) are definite.
func unknownOutcome(err error) bool {
	if errors.Is(err, paynet.ErrInvalidUpdate) {
		return false
	}
	var ue *paynet.UpdateError
	if errors.As(err, &ue) {
		return ue.Retryable
	}
	return true
}

// record stores the decision with compare-and-swap. A consent event may land between the read
// and the write (PayNet often announces the new status right after the PATCH): then it re-reads
// and tries again, as long as the decision may still be recorded (consent.DecisionFrom); when it
// may not, the error wraps consent.ErrNotAwaitingAuthorization.
func (h *Handler) record(ctx context.Context, consentID string, version int64, a store.Authorization) error {
	for range 4 {
		_, err := h.o.Store.Authorize(ctx, consentID, version, a)
		if !errors.Is(err, store.ErrConflict) {
			return err
		}
		rec, gerr := h.o.Store.GetConsent(ctx, consentID)
		if gerr != nil {
			return gerr
		}
		if rec.Authorization != nil || !consent.DecisionFrom(rec.Consent.Status, a.Status) {
			return fmt.Errorf("%w: status is %s", consent.ErrNotAwaitingAuthorization, rec.Consent.Status)
		}
		version = rec.Version
	}
	return store.ErrConflict
}

// saveOutcome writes the outcome into the session, re-reading it when a concurrent request
// moved it (the outcome must land: later requests answer from it).
func (h *Handler) saveOutcome(ctx context.Context, s *sess) error {
	var err error
	for range 4 {
		if err = h.save(ctx, s); !errors.Is(err, store.ErrConflict) {
			return err
		}
		cur, lerr := h.loadByHash(ctx, s.row.IDHash)
		if lerr != nil {
			return lerr
		}
		cur.j.Outcome, cur.j.Reason, cur.j.Step, cur.j.Shared = s.j.Outcome, s.j.Reason, s.j.Step, s.j.Shared
		*s = *cur
	}
	return err
}

// awaitOutcome answers a repeated decision: it waits (bounded) for the first one to finish and
// answers with its outcome. If another session decided the consent, this one ends with an error
// redirect; if the first is still running, a "still working" page links back.
func (h *Handler) awaitOutcome(w http.ResponseWriter, r *http.Request, s *sess) {
	ctx := r.Context()
	deadline := time.Now().Add(h.waitFor)
	t := time.NewTicker(h.pollEvery)
	defer t.Stop()
	for {
		cur, err := h.loadByHash(ctx, s.row.IDHash)
		if err == nil && cur.j.Outcome != "" {
			h.respondOutcome(w, r, cur)
			return
		}
		if time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
	rec, err := h.o.Store.GetConsent(ctx, s.j.ConsentID)
	if err == nil && (rec.Consent.Status != consent.StatusAwaitingAuthorization || rec.Authorization != nil) {
		h.refuse(w, r, s, journey.ReasonDecided)
		return
	}
	h.renderError(w, r, s, errProcessing)
}

// countJourney counts a journey's end by outcome (a fixed set: authorized, patch_failed, cancelled,
// rejected, failed, refused).
func (h *Handler) countJourney(outcome journey.Outcome) {
	if h.o.Metrics != nil {
		h.o.Metrics.Journeys.WithLabelValues(string(outcome)).Inc()
	}
}
