package web

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/ofpdp/ofpdp/connector"
	"github.com/ofpdp/ofpdp/internal/journey"
	"github.com/ofpdp/ofpdp/internal/lockout"
)

// The second factor (authn.second_factor, design §3.11): after the password, the bank sends a
// code or asks for an approval in its app; only the bank checks it. The code passes through this
// process once, from the form to connector.SecondFactor.VerifyOTP: it is never logged, stored or
// put into a page.

const (
	maxOTP = 12 // longer than any bank's code
	// appRefreshSeconds is how often the app-approval page reloads itself (meta refresh).
	appRefreshSeconds = 3
)

// secondFactor is the bank's second factor; New checked the connector has one when it is on.
func (h *Handler) secondFactor() connector.SecondFactor {
	sf, _ := h.o.Bank.(connector.SecondFactor)
	return sf
}

// factorPage is GET /journey/verify: it starts the bank's challenge when there is none, shows the
// code form, or, for an app approval, asks the bank where it stands and waits.
func (h *Handler) factorPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	s, now, ok := h.enterFactor(w, r, (*journey.State).ShowSecondFactor)
	if !ok {
		return
	}
	if s.j.NeedsChallenge() {
		ch, err := h.secondFactor().StartChallenge(ctx, connector.ChallengeRequest{
			CustomerRef: s.j.CustomerRef, Method: s.j.Factor, ConsentID: s.j.ConsentID, DCName: h.dc(s.j.DCID).Name,
		})
		if err != nil {
			h.o.Logger.ErrorContext(ctx, "web: start second factor", "consent_id", s.j.ConsentID, "error", err)
			h.renderFactor(w, r, s, http.StatusServiceUnavailable, "factor.unavailable")
			return
		}
		s.j.ChallengeStarted(ch)
		if !h.saveOrResume(w, r, s) {
			return
		}
		h.audit(ctx, "second_factor", s.j.ConsentID, "started", string(s.j.Factor))
	}
	if s.j.Factor != connector.MethodApp {
		h.renderFactor(w, r, s, http.StatusOK, h.takeNotice(ctx, s))
		return
	}
	st, err := h.secondFactor().ChallengeStatus(ctx, s.j.ChallengeID)
	switch {
	case errors.Is(err, connector.ErrChallengeExpired):
		st = connector.ChallengeExpired
	case err != nil:
		h.o.Logger.ErrorContext(ctx, "web: app approval status", "consent_id", s.j.ConsentID, "error", err)
		h.renderFactor(w, r, s, http.StatusServiceUnavailable, "factor.unavailable")
		return
	}
	h.factorOutcome(w, r, s, s.j.AppAnswer(st, now))
}

// enterFactor opens the session and takes the machine's entry step of a second-factor request;
// ok is false when either answered.
func (h *Handler) enterFactor(w http.ResponseWriter, r *http.Request, step func(*journey.State, time.Time) journey.Action) (*sess, time.Time, bool) {
	s, ok := h.open(w, r)
	if !ok {
		return nil, time.Time{}, false
	}
	now := h.o.Now()
	switch a := step(&s.j, now); a.Kind {
	case journey.Proceed:
		return s, now, true
	case journey.Show:
		h.renderFactor(w, r, s, factorStatus(a.Alert), a.Alert)
	default:
		h.follow(w, r, s, a)
	}
	return nil, time.Time{}, false
}

// factorOutcome answers what the bank said of the second factor.
func (h *Handler) factorOutcome(w http.ResponseWriter, r *http.Request, s *sess, a journey.Action) {
	ctx := r.Context()
	switch a.Kind {
	case journey.Conclude:
		h.audit(ctx, "second_factor", s.j.ConsentID, "refused", a.Reason)
		h.conclude(w, r, s, h.negative(s, a.Status, a.Reason))
	case journey.Show:
		if a.Alert != "app.waiting" && !h.saveOrResume(w, r, s) {
			return
		}
		h.renderFactor(w, r, s, factorStatus(a.Alert), a.Alert)
	case journey.Redirect:
		if a.Step == journey.StepAccounts {
			h.audit(ctx, "second_factor", s.j.ConsentID, "success", string(s.j.Factor))
		}
		if h.saveOrResume(w, r, s) {
			seeOther(w, r, stepPath(a.Step))
		}
	default:
		h.follow(w, r, s, a)
	}
}

// factorStatus is the HTTP status of a second-factor page with alert.
func factorStatus(alert string) int {
	switch alert {
	case "factor.locked", "factor.resend_limit", "login.throttled":
		return http.StatusTooManyRequests
	case "factor.unavailable":
		return http.StatusServiceUnavailable
	}
	return http.StatusOK
}

// factorSubmit is POST /journey/verify: a code. Each attempt is reserved on the sign-in counters
// of internal/lockout first (keyed by the customer reference), so codes are limited across
// journeys and replicas like passwords; the journey itself locks after FactorMaxFailures.
func (h *Handler) factorSubmit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	s, now, ok := h.enterFactor(w, r, (*journey.State).SubmitOTP)
	if !ok {
		return
	}
	code := strings.TrimSpace(r.PostFormValue("otp"))
	if code == "" || len(code) > maxOTP {
		h.renderFactor(w, r, s, http.StatusOK, "otp.failed")
		return
	}
	ticket, ok := h.factorAttempt(w, r, s, "otp")
	if !ok {
		return
	}
	err := h.secondFactor().VerifyOTP(ctx, s.j.ChallengeID, code)
	switch {
	case err == nil:
		if err := ticket.Succeeded(context.WithoutCancel(ctx)); err != nil {
			h.o.Logger.WarnContext(ctx, "web: clear code attempts", "consent_id", s.j.ConsentID, "error", err)
		}
		h.factorOutcome(w, r, s, s.j.FactorPassed(now))
	case errors.Is(err, connector.ErrInvalidOTP):
		ticket.Failed()
		h.audit(ctx, "second_factor", s.j.ConsentID, "failure", "")
		h.factorOutcome(w, r, s, s.j.FactorFailed(h.o.FactorMaxFailures))
	default:
		if aerr := ticket.Abandoned(context.WithoutCancel(ctx)); aerr != nil {
			h.o.Logger.WarnContext(ctx, "web: release code attempt", "consent_id", s.j.ConsentID, "error", aerr)
		}
		if errors.Is(err, connector.ErrChallengeExpired) {
			h.factorOutcome(w, r, s, s.j.FactorExpired())
			return
		}
		h.o.Logger.ErrorContext(ctx, "web: verify code", "consent_id", s.j.ConsentID, "error", err)
		h.renderFactor(w, r, s, http.StatusServiceUnavailable, "factor.unavailable")
	}
}

// factorResend is POST /journey/verify/resend: a new code or approval request, at most
// FactorMaxResends in a journey. Each one is counted on the sign-in counters too (as a failure:
// a resend is never given back), so a client or consent cannot make the bank send without end.
func (h *Handler) factorResend(w http.ResponseWriter, r *http.Request) {
	s, ok := h.open(w, r)
	if !ok {
		return
	}
	a := s.j.Resend(h.o.FactorMaxResends)
	if a.Kind == journey.Redirect && a.Step == journey.StepSecondFactor {
		ticket, ok := h.factorAttempt(w, r, s, "resend")
		if !ok {
			return
		}
		ticket.Failed()
		h.audit(r.Context(), "second_factor", s.j.ConsentID, "resend", string(s.j.Factor))
	}
	h.factorOutcome(w, r, s, a)
}

// factorAttempt reserves a second-factor attempt (kind "otp" or "resend") on the sign-in
// counters. A refusal that locks ends the factor (only cancel is left). ok is false when it answered.
func (h *Handler) factorAttempt(w http.ResponseWriter, r *http.Request, s *sess, kind string) (*lockout.Ticket, bool) {
	ctx := r.Context()
	now := h.o.Now()
	ticket, err := h.guard.Begin(ctx, lockout.Attempt{
		Username: kind + ":" + s.j.CustomerRef, Client: h.clientAddr(r), ConsentID: s.j.ConsentID,
	}, now)
	var refused *lockout.Refused
	switch {
	case errors.As(err, &refused):
		h.audit(ctx, "second_factor", s.j.ConsentID, "throttled", refused.Limit.Error())
		alert := "login.throttled"
		if refused.Locks() {
			s.j.Locked, alert = true, "factor.locked"
		} else {
			w.Header().Set("Retry-After", retryAfter(refused.RetryAt.Sub(now)))
		}
		if h.saveOrResume(w, r, s) {
			h.renderFactor(w, r, s, http.StatusTooManyRequests, alert)
		}
		return nil, false
	case err != nil:
		h.o.Logger.ErrorContext(ctx, "web: second-factor attempt counters", "consent_id", s.j.ConsentID, "error", err)
		h.renderFactor(w, r, s, http.StatusServiceUnavailable, "factor.unavailable")
		return nil, false
	}
	return ticket, true
}

// renderFactor shows the second-factor page: the code form, or the app-approval wait page that
// reloads itself every appRefreshSeconds while the bank's answer is pending.
func (h *Handler) renderFactor(w http.ResponseWriter, r *http.Request, s *sess, status int, alert string) {
	v := h.base(r, s, "verify", "verify.title")
	v.StepNo, v.Alert, v.Locked = 1, alert, s.j.Locked
	v.Factor, v.Destination = string(s.j.Factor), s.j.Destination
	if alert == "app.waiting" {
		v.Refresh = appRefreshSeconds
	}
	h.render(w, r, status, v)
}
