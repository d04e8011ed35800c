package web

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/ofpdp/ofpdp/internal/consent"
	"github.com/ofpdp/ofpdp/internal/journey"
	"github.com/ofpdp/ofpdp/internal/store"
)

// Limits of the authorize parameters (spec §3.1.2: consent_id ≤ 36, redirect_uri ≤ 300; the
// signature cap is ours: a PS256/ES512 compact JWS over a 36-byte payload is far below it).
const (
	maxConsentID   = 36
	maxRedirectURI = 300
	maxSignature   = 4096
)

// Errors of the authorize request. Each ends in a DP error page, never a redirect.
var (
	errAuthorizeQuery     = errors.New("web: authorize query does not parse")
	errParamMissing       = errors.New("web: authorize parameter missing")
	errParamRepeated      = errors.New("web: authorize parameter given more than once")
	errParamTooLong       = errors.New("web: authorize parameter too long")
	errRedirectNotAllowed = errors.New("web: redirect_uri is not on the allow-list")
	errSignaturePayload   = errors.New("web: signature payload is not the consent_id")
)

// authorizeParams are the v1.2.1 authorize parameters (spec §3.1.2). The oidc profile adds its
// own (design §3.13) without changing these.
type authorizeParams struct {
	ConsentID, RedirectURI, Signature string
}

// parseAuthorizeQuery reads the raw query strictly: consent_id, redirect_uri and signature each
// exactly once, non-empty, within their limits. redirect_uri is checked first so its error can
// be reported before anything else; other parameters are ignored.
func parseAuthorizeQuery(rawQuery string) (authorizeParams, error) {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return authorizeParams{}, fmt.Errorf("%w: %v", errAuthorizeQuery, err)
	}
	one := func(name string, max int) (string, error) {
		vs := q[name]
		switch {
		case len(vs) == 0 || vs[0] == "" && len(vs) == 1:
			return "", fmt.Errorf("%w: %s", errParamMissing, name)
		case len(vs) > 1:
			return "", fmt.Errorf("%w: %s", errParamRepeated, name)
		case len(vs[0]) > max:
			return "", fmt.Errorf("%w: %s", errParamTooLong, name)
		}
		return vs[0], nil
	}
	var p authorizeParams
	if p.RedirectURI, err = one("redirect_uri", maxRedirectURI); err != nil {
		return p, err
	}
	if p.ConsentID, err = one("consent_id", maxConsentID); err != nil {
		return p, err
	}
	if p.Signature, err = one("signature", maxSignature); err != nil {
		return p, err
	}
	return p, nil
}

// authorize is GET /v1/oauth/authorize and GET /OFM/MY/Authorize/AIS (spec §3.1.2, §2.4;
// design §3.3, §3.10). Order matters:
//  1. redirect_uri must be exactly on the allow-list, else an error page (never a redirect, U2);
//  2. the signature must verify and its payload must be the consent_id bytes, else an error page
//     (design §3.10: an invalid signature never redirects; U1);
//  3. from here the redirect_uri is trusted: an unknown consent, one not awaiting authorization
//     (U7) or past its 5-minute window (U8) is sent back with error=access_denied;
//  4. otherwise a session starts and the browser goes to the login page.
func (h *Handler) authorize(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p, err := parseAuthorizeQuery(r.URL.RawQuery)
	if err == nil && !h.allow[p.RedirectURI] {
		err = errRedirectNotAllowed
	}
	if err == nil {
		var payload []byte
		if _, payload, err = h.o.Signatures.VerifyAttached(ctx, p.Signature); err == nil &&
			!bytes.Equal(payload, []byte(p.ConsentID)) {
			err = errSignaturePayload
		}
	}
	if err != nil {
		// Nothing in this request is trusted and anyone can send it: nothing is written to the
		// store (no audit row, no session). It is counted, and a sample is logged without any
		// parameter value.
		if h.o.Metrics != nil {
			h.o.Metrics.WebRefusals.WithLabelValues("authorize_refused").Inc()
		}
		if h.refusalLog.Allow() {
			h.o.Logger.WarnContext(ctx, "web: authorize refused", "actor", "anonymous", "reason", errorClass(err), "error", err)
		}
		h.renderError(w, r, nil, errInvalidLink)
		return
	}

	rec, err := h.o.Store.GetConsent(ctx, p.ConsentID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		h.o.Logger.ErrorContext(ctx, "web: authorize: read consent", "consent_id", p.ConsentID, "error", err)
		h.renderError(w, r, nil, errServer)
		return
	}
	now := h.o.Now()
	reason := ""
	switch {
	case rec == nil:
		reason = journey.ReasonUnknownConsent
	case rec.Consent.DPID != h.o.DPID:
		reason = journey.ReasonOtherDP
	case rec.Consent.Status != consent.StatusAwaitingAuthorization || rec.Authorization != nil:
		reason = journey.ReasonNotAwaiting
	case !now.Before(rec.Consent.AuthorizationDeadline()):
		reason = journey.ReasonWindowOver
	}
	if reason != "" {
		h.o.Logger.InfoContext(ctx, "web: authorize: consent cannot be authorized", "consent_id", p.ConsentID, "reason", reason)
		h.audit(ctx, "authorize", p.ConsentID, "refused", reason)
		seeOther(w, r, errorURL(p.RedirectURI, p.ConsentID, reason))
		return
	}
	// The same browser opening the same link again continues its journey.
	if cur, err := h.loadSession(r); err == nil && cur.j.ConsentID == p.ConsentID && cur.j.RedirectURI == p.RedirectURI &&
		cur.j.Outcome == "" && !cur.j.Superseded && !cur.expired(now) {
		seeOther(w, r, stepPath(cur.j.Step))
		return
	}
	if n, err := h.o.Store.CountSessions(ctx, p.ConsentID); err != nil {
		h.o.Logger.ErrorContext(ctx, "web: authorize: count sessions", "consent_id", p.ConsentID, "error", err)
		h.renderError(w, r, nil, errServer)
		return
	} else if n >= h.o.SessionsPerConsent {
		if h.o.Metrics != nil {
			h.o.Metrics.WebRefusals.WithLabelValues("sessions_capped").Inc()
		}
		h.o.Logger.WarnContext(ctx, "web: authorize: too many sessions for the consent", "consent_id", p.ConsentID, "sessions", n)
		h.renderError(w, r, nil, errTooMany)
		return
	}

	csrf, err1 := h.randomToken()
	nonce, err2 := h.randomToken()
	if err := errors.Join(err1, err2); err != nil {
		h.o.Logger.ErrorContext(ctx, "web: authorize: random", "error", err)
		h.renderError(w, r, nil, errServer)
		return
	}
	j := journey.State{
		ConsentID: p.ConsentID, DCID: rec.Consent.DCID, RedirectURI: p.RedirectURI,
		Deadline: rec.Consent.AuthorizationDeadline(),
		Lang:     negotiateLang(r.Header.Get("Accept-Language")),
		CSRF:     csrf, FormNonce: nonce, Step: journey.StepLogin, Entry: store.ChannelWeb,
	}
	if r.URL.Path == pathUniversalLink {
		j.Entry = store.ChannelApp
	}
	id, s, err := h.newSession(ctx, j, now)
	if err != nil {
		h.o.Logger.ErrorContext(ctx, "web: authorize: session", "consent_id", p.ConsentID, "error", err)
		h.renderError(w, r, nil, errServer)
		return
	}
	h.setCookie(w, id)
	h.audit(ctx, "authorize", p.ConsentID, "started", "")
	if h.o.RequireIdentityBinding && !rec.Consent.IdentifiesCustomer() {
		// design §3.11: a consent that names no customer could be approved by whoever opens
		// the link (consent phishing). It fails, and the page says why.
		h.o.Logger.InfoContext(ctx, "web: authorize: consent carries no customer identity", "consent_id", p.ConsentID)
		h.conclude(w, r, s, h.negative(s, consent.StatusFailed, journey.ReasonIdentityRequired))
		return
	}
	seeOther(w, r, pathLogin)
}

// errorClass names a refusal for the audit trail without echoing any input.
func errorClass(err error) string {
	for _, e := range []error{errAuthorizeQuery, errParamMissing, errParamRepeated, errParamTooLong, errRedirectNotAllowed, errSignaturePayload} {
		if errors.Is(err, e) {
			return e.Error()
		}
	}
	return "signature not verified"
}
