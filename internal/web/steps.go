package web

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ofpdp/ofpdp/connector"
	"github.com/ofpdp/ofpdp/internal/consent"
	"github.com/ofpdp/ofpdp/internal/journey"
	"github.com/ofpdp/ofpdp/internal/lockout"
	"github.com/ofpdp/ofpdp/internal/store"
)

const (
	maxFormBytes = 64 << 10
	maxUsername  = 128
	maxPassword  = 256
	maxAccounts  = 64 // more account values than any customer has is tampering
)

// open loads the journey session of a request and handles what every journey page shares: no
// session → error page; a POST must carry the session's CSRF token (U10); a decided journey
// answers with its outcome; an expired one fails with a timeout and goes back to PayNet with an
// error (U5). ok is false when open already answered.
func (h *Handler) open(w http.ResponseWriter, r *http.Request) (s *sess, ok bool) {
	ctx := r.Context()
	s, err := h.loadSession(r)
	if errors.Is(err, errNoSession) {
		h.renderError(w, r, nil, errSessionGone)
		return nil, false
	}
	if err != nil {
		h.o.Logger.ErrorContext(ctx, "web: load session", "error", err)
		h.renderError(w, r, nil, errServer)
		return nil, false
	}
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if !checkCSRF(r, s) {
			h.o.Logger.WarnContext(ctx, "web: CSRF token missing or wrong", "consent_id", s.j.ConsentID, "path", r.URL.Path)
			h.audit(ctx, "csrf", s.j.ConsentID, "refused", r.URL.Path)
			h.renderError(w, r, s, errForbidden)
			return nil, false
		}
	}
	switch a := s.j.Open(s.expired(h.o.Now())); a.Kind {
	case journey.Proceed:
		return s, true
	case journey.Conclude:
		h.o.Logger.InfoContext(ctx, "web: journey session expired", "consent_id", s.j.ConsentID)
		h.conclude(w, r, s, h.negative(s, a.Status, a.Reason))
	default:
		h.follow(w, r, s, a)
	}
	return nil, false
}

// enter opens the session and takes the machine's entry step of a page (guard); ok is false when
// either answered.
func (h *Handler) enter(w http.ResponseWriter, r *http.Request, guard func(*journey.State) journey.Action) (*sess, bool) {
	s, ok := h.open(w, r)
	if !ok {
		return nil, false
	}
	if a := guard(&s.j); a.Kind != journey.Proceed {
		h.follow(w, r, s, a)
		return nil, false
	}
	return s, true
}

// follow answers the actions of the journey machine that need nothing but the session: go to a
// step's page, to the outcome, to the session-gone page, or end the journey without a consent
// update. A Conclude or Show is the caller's.
func (h *Handler) follow(w http.ResponseWriter, r *http.Request, s *sess, a journey.Action) {
	switch a.Kind {
	case journey.Redirect:
		seeOther(w, r, stepPath(a.Step))
	case journey.Complete:
		h.respondOutcome(w, r, s)
	case journey.End:
		h.audit(r.Context(), "journey", s.j.ConsentID, string(s.j.Outcome), s.j.Reason)
		h.countJourney(s.j.Outcome)
		if !h.saveOrResume(w, r, s) {
			return
		}
		h.respondOutcome(w, r, s)
	default:
		h.renderError(w, r, nil, errSessionGone)
	}
}

// respondOutcome answers any request of a decided journey the same way as the decision did.
//
// Every outcome goes to the same-origin /journey/complete page first, never straight to PayNet:
// browsers check a form POST's whole redirect chain against CSP form-action, and that chain
// (DP → PayNet → the data consumer) ends at an origin the DP cannot list. The page then leaves
// through a plain "Back to {DC}" link (GET /journey/done → 303 to redirect_uri).
func (h *Handler) respondOutcome(w http.ResponseWriter, r *http.Request, s *sess) {
	seeOther(w, r, pathComplete)
}

// saveOrResume saves the session; when a concurrent request moved it first (a double click),
// the browser is sent to wherever that one left the journey. ok is false when it answered.
func (h *Handler) saveOrResume(w http.ResponseWriter, r *http.Request, s *sess) bool {
	err := h.save(r.Context(), s)
	if err == nil {
		return true
	}
	if errors.Is(err, store.ErrNotFound) {
		h.renderError(w, r, nil, errSessionGone)
		return false
	}
	if errors.Is(err, store.ErrConflict) {
		if cur, lerr := h.loadByHash(r.Context(), s.row.IDHash); lerr == nil {
			if cur.j.Outcome != "" {
				h.respondOutcome(w, r, cur)
			} else {
				seeOther(w, r, stepPath(cur.j.Step))
			}
			return false
		}
	}
	h.o.Logger.ErrorContext(r.Context(), "web: save session", "consent_id", s.j.ConsentID, "error", err)
	h.renderError(w, r, s, errServer)
	return false
}

// takeNotice returns and clears the one-time notice of the session.
func (h *Handler) takeNotice(ctx context.Context, s *sess) string {
	n := s.j.Notice
	if n != "" {
		s.j.Notice = ""
	}
	h.touch(ctx, s)
	return n
}

// ---- login (spec §7.5 steps 6a/6b; negative-tests U6, U12) ----

func (h *Handler) loginPage(w http.ResponseWriter, r *http.Request) {
	s, ok := h.open(w, r)
	if !ok {
		return
	}
	a := s.j.ShowLogin()
	if a.Kind != journey.Proceed && a.Kind != journey.Show {
		h.follow(w, r, s, a)
		return
	}
	alert := h.takeNotice(r.Context(), s)
	if a.Kind == journey.Show {
		alert = a.Alert
	}
	h.renderLogin(w, r, s, http.StatusOK, alert, "")
}

// renderLogin shows the login page; username refills the form after a failure (it is not kept).
func (h *Handler) renderLogin(w http.ResponseWriter, r *http.Request, s *sess, status int, alert, username string) {
	v := h.base(r, s, "login", "login.title")
	v.StepNo, v.Alert, v.Locked, v.Username = 1, alert, s.j.Locked, username
	h.render(w, r, status, v)
}

// loginSubmit authenticates the customer with the core bank. Wrong credentials get one generic
// message (never which field). Before the bank is asked, the attempt is reserved on the sign-in
// counters of internal/lockout (atomically, across replicas) and the session's one login slot is
// claimed, so parallel requests cannot overrun a limit; a journey that reaches
// Lockout.MaxFailures failures, or a username or consent past its hard limit, is locked and can
// only be cancelled (→ failed). After a login the customer must be the one the consent names
// (design §3.11, U6), and the session id is rotated.
func (h *Handler) loginSubmit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	s, ok := h.open(w, r)
	if !ok {
		return
	}
	username := strings.TrimSpace(r.PostFormValue("username"))
	password := r.PostFormValue("password")
	if len(username) > maxUsername {
		username = ""
	}
	if s, ok = h.claimLogin(w, r, s); !ok {
		return
	}
	if username == "" || password == "" || len(password) > maxPassword {
		h.endLogin(w, r, s, http.StatusOK, s.j.LoginIncomplete(), username)
		return
	}
	now := h.o.Now()
	ticket, err := h.guard.Begin(ctx, lockout.Attempt{Username: username, Client: h.clientAddr(r), ConsentID: s.j.ConsentID}, now)
	var refused *lockout.Refused
	if errors.As(err, &refused) {
		if h.o.Metrics != nil {
			h.o.Metrics.WebRefusals.WithLabelValues("login_throttled").Inc()
		}
		h.audit(ctx, "login", s.j.ConsentID, "throttled", refused.Limit.Error())
		if !refused.Locks() {
			w.Header().Set("Retry-After", retryAfter(refused.RetryAt.Sub(now)))
		}
		h.endLogin(w, r, s, http.StatusTooManyRequests, s.j.LoginThrottled(refused.Locks()), username)
		return
	}
	if err != nil {
		h.o.Logger.ErrorContext(ctx, "web: login attempt counters", "consent_id", s.j.ConsentID, "error", err)
		h.endLogin(w, r, s, http.StatusServiceUnavailable, s.j.LoginUnavailable(), username)
		return
	}

	cust, err := h.o.Bank.Authenticate(ctx, username, password)
	if errors.Is(err, connector.ErrInvalidCredentials) {
		ticket.Failed()
		// 200, not 401: a form login is not HTTP authentication, and a 401 must carry
		// WWW-Authenticate (RFC 9110 §15.5.2).
		a, status := s.j.LoginFailed(h.guard.Policy().MaxFailures), http.StatusOK
		if s.j.Locked {
			status = http.StatusTooManyRequests
		}
		h.audit(ctx, "login", s.j.ConsentID, "failure", "")
		h.endLogin(w, r, s, status, a, username)
		return
	}
	if err != nil {
		if aerr := ticket.Abandoned(context.WithoutCancel(ctx)); aerr != nil {
			h.o.Logger.WarnContext(ctx, "web: release login attempt", "consent_id", s.j.ConsentID, "error", aerr)
		}
		h.o.Logger.ErrorContext(ctx, "web: bank authenticate", "consent_id", s.j.ConsentID, "error", err)
		h.endLogin(w, r, s, http.StatusServiceUnavailable, s.j.LoginUnavailable(), username)
		return
	}
	if err := ticket.Succeeded(context.WithoutCancel(ctx)); err != nil {
		h.o.Logger.WarnContext(ctx, "web: clear login attempts", "consent_id", s.j.ConsentID, "error", err)
	}

	rec, ok := h.awaiting(w, r, s)
	if !ok {
		return
	}
	next, a, err := s.j.SignIn(cust, &rec.Consent, h.o.RequireIdentityBinding, h.o.SecondFactor, now)
	switch {
	case err != nil:
		h.follow(w, r, s, a)
		return
	case a.Kind == journey.Conclude:
		h.o.Logger.InfoContext(ctx, "web: logged-in customer does not match the consent", "consent_id", s.j.ConsentID, "reason", a.Reason)
		h.conclude(w, r, s, h.negative(s, a.Status, a.Reason))
		return
	}
	h.audit(ctx, "login", s.j.ConsentID, "success", "")
	if _, err := h.rotate(ctx, w, s, next); err != nil {
		h.o.Logger.ErrorContext(ctx, "web: rotate session", "consent_id", s.j.ConsentID, "error", err)
		h.renderError(w, r, s, errServer)
		return
	}
	seeOther(w, r, stepPath(a.Step))
}

// awaiting reads the consent and checks it can still be authorized; when not (PayNet changed it
// meanwhile, or it is past its window), the journey ends without a PATCH. ok is false when it answered.
func (h *Handler) awaiting(w http.ResponseWriter, r *http.Request, s *sess) (*store.ConsentRecord, bool) {
	rec, err := h.o.Store.GetConsent(r.Context(), s.j.ConsentID)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			h.refuse(w, r, s, journey.ReasonUnknownConsent)
			return nil, false
		}
		h.o.Logger.ErrorContext(r.Context(), "web: read consent", "consent_id", s.j.ConsentID, "error", err)
		h.renderError(w, r, s, errServer)
		return nil, false
	}
	if rec.Consent.Status != consent.StatusAwaitingAuthorization || rec.Authorization != nil {
		h.refuse(w, r, s, journey.ReasonNotAwaiting)
		return nil, false
	}
	if !h.o.Now().Before(rec.Consent.AuthorizationDeadline()) {
		h.conclude(w, r, s, h.negative(s, consent.StatusFailed, journey.ReasonTimeout))
		return nil, false
	}
	return rec, true
}

// refuse ends a journey whose consent is no longer ours to decide: no PATCH, error redirect.
func (h *Handler) refuse(w http.ResponseWriter, r *http.Request, s *sess, reason string) {
	h.o.Logger.InfoContext(r.Context(), "web: consent can no longer be authorized", "consent_id", s.j.ConsentID, "reason", reason)
	h.audit(r.Context(), "journey", s.j.ConsentID, "refused", reason)
	s.j.Refuse(reason)
	h.countJourney(s.j.Outcome)
	if err := h.save(r.Context(), s); err != nil {
		h.o.Logger.WarnContext(r.Context(), "web: save refused journey", "consent_id", s.j.ConsentID, "error", err)
	}
	h.respondOutcome(w, r, s)
}

// ---- accounts (spec §5.4, §7.5 step 7; negative-tests U11) ----

// offered lists the customer's eligible accounts (connector.Account.Eligible: active, individual
// retail, MYR) and their DP account ids for this data consumer (design §3.8).
func (h *Handler) offered(ctx context.Context, s *sess) ([]connector.Account, []string, error) {
	all, err := h.o.Bank.Accounts(ctx, s.j.CustomerRef)
	if err != nil {
		return nil, nil, err
	}
	var accts []connector.Account
	var ids []string
	for _, a := range all {
		if a.Eligible() && a.CustomerRef == s.j.CustomerRef {
			accts = append(accts, a)
			ids = append(ids, consent.AccountID(h.o.AccountIDKey, s.j.DCID, a.Ref))
		}
	}
	return accts, ids, nil
}

func (h *Handler) accountsPage(w http.ResponseWriter, r *http.Request) {
	s, ok := h.enter(w, r, (*journey.State).ShowAccounts)
	if !ok {
		return
	}
	h.renderAccounts(w, r, s, http.StatusOK, h.takeNotice(r.Context(), s), s.j.Selected)
}

func (h *Handler) renderAccounts(w http.ResponseWriter, r *http.Request, s *sess, status int, alert string, checked []string) {
	v := h.base(r, s, "accounts", "accounts.title")
	v.StepNo, v.Alert = 2, alert
	accts, ids, err := h.offered(r.Context(), s)
	if err != nil {
		h.o.Logger.ErrorContext(r.Context(), "web: bank accounts", "consent_id", s.j.ConsentID, "error", err)
		v.Alert = "accounts.unavailable"
		h.render(w, r, http.StatusServiceUnavailable, v)
		return
	}
	for i := range accts {
		av := viewOf(&accts[i], ids[i])
		av.Checked = slices.Contains(checked, ids[i])
		v.Accounts = append(v.Accounts, av)
	}
	h.render(w, r, status, v)
}

func viewOf(a *connector.Account, id string) accountView {
	return accountView{ID: id, Name: a.Name, TypeKey: subtypeKey(a), Last4: last4(a.Number)}
}

// accountsSubmit takes the selection. Only ids offered to this customer are accepted; an empty,
// unknown (another customer's, ineligible, made up) or repeated id refuses the whole form and
// nothing is stored (U11).
func (h *Handler) accountsSubmit(w http.ResponseWriter, r *http.Request) {
	s, ok := h.enter(w, r, (*journey.State).ShowAccounts)
	if !ok {
		return
	}
	_, ids, err := h.offered(r.Context(), s)
	if err != nil {
		h.renderAccounts(w, r, s, http.StatusServiceUnavailable, "accounts.unavailable", nil)
		return
	}
	a, err := s.j.SelectAccounts(r.PostForm["account"], ids)
	if err != nil {
		h.o.Logger.WarnContext(r.Context(), "web: account selection refused", "consent_id", s.j.ConsentID, "error", err)
		h.audit(r.Context(), "accounts", s.j.ConsentID, "refused", err.Error())
	}
	switch a.Kind {
	case journey.Show:
		h.renderAccounts(w, r, s, http.StatusUnprocessableEntity, a.Alert, nil)
	case journey.Redirect:
		if h.saveOrResume(w, r, s) {
			seeOther(w, r, stepPath(a.Step))
		}
	default:
		h.follow(w, r, s, a)
	}
}

// selected resolves the chosen ids against what the bank offers now. ok is false when one of
// them is no longer offered (closed, blocked, or gone meanwhile).
func (h *Handler) selected(ctx context.Context, s *sess) (accts []connector.Account, ids []string, ok bool, err error) {
	all, allIDs, err := h.offered(ctx, s)
	if err != nil {
		return nil, nil, false, err
	}
	for _, id := range s.j.Selected {
		i := slices.Index(allIDs, id)
		if i < 0 {
			return nil, nil, false, nil
		}
		accts, ids = append(accts, all[i]), append(ids, id)
	}
	return accts, ids, len(accts) > 0, nil
}

// backToAccounts sends the customer to choose again when their selection no longer holds.
func (h *Handler) backToAccounts(w http.ResponseWriter, r *http.Request, s *sess) {
	a := s.j.SelectionGone()
	if !h.saveOrResume(w, r, s) {
		return
	}
	seeOther(w, r, stepPath(a.Step))
}

// ---- review (spec §7.5 step 8) ----

func (h *Handler) reviewPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	s, ok := h.enter(w, r, (*journey.State).ShowReview)
	if !ok {
		return
	}
	rec, ok := h.awaiting(w, r, s)
	if !ok {
		return
	}
	accts, ids, ok, err := h.selected(ctx, s)
	if err != nil {
		h.o.Logger.ErrorContext(ctx, "web: bank accounts", "consent_id", s.j.ConsentID, "error", err)
		h.renderError(w, r, s, errServer)
		return
	}
	if !ok {
		h.backToAccounts(w, r, s)
		return
	}
	h.touch(ctx, s)
	v := h.base(r, s, "review", "review.title")
	v.StepNo, v.Nonce = 3, s.j.FormNonce
	h.describe(&v, &rec.Consent)
	for i := range accts {
		v.Accounts = append(v.Accounts, viewOf(&accts[i], ids[i]))
	}
	h.render(w, r, http.StatusOK, v)
}

// describe puts the consent in plain words: purpose, each permission, and until when (MYT date).
func (h *Handler) describe(v *view, c *consent.Consent) {
	v.PurposeKey = "purpose.other"
	if c.Purpose.Valid() {
		v.PurposeKey = "purpose." + string(c.Purpose)
	}
	for _, p := range c.Permissions {
		if p.Valid() {
			v.PermissionKeys = append(v.PermissionKeys, "permission."+string(p))
		}
	}
	v.Until = formatDate(c.ExpirationDatetime, v.Lang)
}

// ---- decision, cancel, completion (spec §7.5 steps 9–10; design §3.9–3.10) ----

// decisionSubmit is Approve or Reject on the review page. The form carries a one-time nonce: the
// first POST decides; a double click or a replayed POST waits for and shows that outcome, and
// causes no second PATCH.
func (h *Handler) decisionSubmit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	s, ok := h.open(w, r)
	if !ok {
		return
	}
	nonce := r.PostFormValue("nonce")
	if nonce == "" || subtle.ConstantTimeCompare([]byte(nonce), []byte(s.j.FormNonce)) != 1 {
		h.audit(ctx, "decision", s.j.ConsentID, "refused", "form nonce")
		h.renderError(w, r, s, errForbidden)
		return
	}
	a := s.j.Decide(journey.Choice(r.PostFormValue("decision")))
	if a.Kind != journey.Conclude {
		h.follow(w, r, s, a)
		return
	}
	d := h.negative(s, a.Status, a.Reason)
	if a.Status == consent.StatusAuthorized {
		var ok bool
		if d, ok = h.approval(w, r, s); !ok {
			return
		}
	}
	fresh, err := h.o.Store.UseOnce(ctx, "form:"+nonce, s.j.Deadline.Add(replayMargin))
	if err != nil {
		h.o.Logger.ErrorContext(ctx, "web: form nonce", "consent_id", s.j.ConsentID, "error", err)
		h.renderError(w, r, s, errServer)
		return
	}
	if !fresh {
		h.awaitOutcome(w, r, s)
		return
	}
	h.conclude(w, r, s, d)
}

// cancel is the Cancel button of every page: the customer rejects (→ rejected), or, when sign-in
// is locked, the journey fails (→ failed, design §3.9).
func (h *Handler) cancel(w http.ResponseWriter, r *http.Request) {
	s, ok := h.open(w, r)
	if !ok {
		return
	}
	a := s.j.Cancel()
	if a.Kind == journey.Conclude {
		h.conclude(w, r, s, h.negative(s, a.Status, a.Reason))
		return
	}
	h.follow(w, r, s, a)
}

// complete is GET /journey/complete: the success page after an authorization, or the "nothing
// was shared" page when PayNet did not take it.
func (h *Handler) complete(w http.ResponseWriter, r *http.Request) {
	s, err := h.loadSession(r)
	if err != nil {
		h.renderError(w, r, nil, errSessionGone)
		return
	}
	switch s.j.Outcome {
	case journey.OutcomeAuthorized:
		v := h.base(r, s, "success", "success.title")
		v.Accounts = s.j.Shared
		if rec, err := h.o.Store.GetConsent(r.Context(), s.j.ConsentID); err == nil {
			h.describe(&v, &rec.Consent)
		}
		h.render(w, r, http.StatusOK, v)
	case journey.OutcomePatchFailed:
		h.renderError(w, r, s, errNothingShared)
	case "":
		if _, ok := h.open(w, r); ok {
			seeOther(w, r, stepPath(s.j.Step))
		}
	default:
		h.renderError(w, r, s, endingPage(s.j.Reason))
	}
}

// endingPage is the page of a journey that ended without an authorization.
func endingPage(reason string) errKind {
	switch reason {
	case journey.ReasonRejected, journey.ReasonCancelled, journey.ReasonSecondFactor:
		return errDeclined
	case journey.ReasonIdentity:
		return errIdentity
	case journey.ReasonLocked:
		return errLocked
	case journey.ReasonTimeout, journey.ReasonWindowOver:
		return errTimedOut
	case journey.ReasonDecided, journey.ReasonNotAwaiting:
		return errAlreadyDecided
	case journey.ReasonIdentityRequired:
		return errIDRequired
	case journey.ReasonCancelledBeforeLogin:
		return errCancelled
	}
	return errNothingShared
}

// done is "Back to {DC}" (GET or POST /journey/done): 303 to redirect_uri?consent_id=… after an
// authorization, or the error redirect otherwise (design §3.10). The session ends here.
func (h *Handler) done(w http.ResponseWriter, r *http.Request) {
	s, err := h.loadSession(r)
	if err != nil {
		h.renderError(w, r, nil, errSessionGone)
		return
	}
	if s.j.Outcome == "" {
		if _, ok := h.open(w, r); ok {
			seeOther(w, r, stepPath(s.j.Step))
		}
		return
	}
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if !checkCSRF(r, s) {
			h.renderError(w, r, s, errForbidden)
			return
		}
	}
	if err := h.o.Store.DeleteSession(r.Context(), s.row.IDHash); err != nil && !errors.Is(err, store.ErrNotFound) {
		h.o.Logger.WarnContext(r.Context(), "web: delete finished session", "consent_id", s.j.ConsentID, "error", err)
	}
	h.clearCookie(w)
	if s.j.Outcome == journey.OutcomeAuthorized {
		seeOther(w, r, successURL(s.j.RedirectURI, s.j.ConsentID))
		return
	}
	seeOther(w, r, errorURL(s.j.RedirectURI, s.j.ConsentID, s.j.Reason))
}

// switchLang is the language switch of a journey page: remembered in the session.
func (h *Handler) switchLang(w http.ResponseWriter, r *http.Request) {
	s, err := h.loadSession(r)
	if err != nil {
		h.renderError(w, r, nil, errSessionGone)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if !checkCSRF(r, s) {
		h.renderError(w, r, s, errForbidden)
		return
	}
	if l := r.PostFormValue("lang"); validLang(l) && l != s.j.Lang {
		for range 3 {
			s.j.Lang = l
			err = h.save(r.Context(), s)
			if !errors.Is(err, store.ErrConflict) {
				break
			}
			cur, lerr := h.loadByHash(r.Context(), s.row.IDHash)
			if lerr != nil {
				break
			}
			s = cur
		}
		if err != nil {
			h.o.Logger.WarnContext(r.Context(), "web: save language", "consent_id", s.j.ConsentID, "error", err)
		}
	}
	switch s.j.Outcome {
	case "":
		seeOther(w, r, stepPath(s.j.Step))
	case journey.OutcomeAuthorized, journey.OutcomePatchFailed:
		seeOther(w, r, pathComplete)
	default:
		h.respondOutcome(w, r, s)
	}
}

// audit appends to the audit trail; a failure is logged, never shown to the customer.
func (h *Handler) audit(ctx context.Context, action, consentID, outcome, detail string) {
	c := clientFrom(ctx)
	err := h.o.Store.Audit(ctx, store.AuditEntry{
		At: h.o.Now(), Actor: "customer", Action: "web." + action, ConsentID: consentID, Outcome: outcome, Detail: detail,
		ClientAddr: c.addr, UserAgent: c.userAgent,
	})
	if err != nil {
		h.o.Logger.WarnContext(ctx, "web: audit failed", "action", action, "consent_id", consentID, "error", err)
	}
}

// loginClaimTTL is how long a login in flight holds its session's login slot; past it (the
// process died mid-login) the slot is free again. It is longer than any core-bank deadline.
const loginClaimTTL = 30 * time.Second

// claimLogin serialises the logins of one session: it takes the session's login slot (a
// compare-and-swap on the session row, so it holds across replicas) and returns the session as
// saved. A request that finds the slot taken waits for it (a double click logs in once the first
// request is done); past waitFor it is answered with the throttled page. ok is false when it
// answered.
func (h *Handler) claimLogin(w http.ResponseWriter, r *http.Request, s *sess) (*sess, bool) {
	ctx := r.Context()
	deadline := time.Now().Add(h.waitFor)
	for {
		switch a := s.j.BeginLogin(); a.Kind {
		case journey.Proceed:
		case journey.Show:
			h.renderLogin(w, r, s, http.StatusTooManyRequests, a.Alert, "")
			return nil, false
		default:
			h.follow(w, r, s, a)
			return nil, false
		}
		now := h.o.Now()
		if s.j.LoginStarted.IsZero() || now.Sub(s.j.LoginStarted) > loginClaimTTL {
			s.j.LoginStarted = now
			err := h.save(ctx, s)
			if err == nil {
				return s, true
			}
			if !errors.Is(err, store.ErrConflict) {
				h.o.Logger.ErrorContext(ctx, "web: claim login", "consent_id", s.j.ConsentID, "error", err)
				h.renderError(w, r, nil, errSessionGone)
				return nil, false
			}
		}
		if time.Now().After(deadline) {
			h.renderLogin(w, r, s, http.StatusTooManyRequests, "login.throttled", "")
			return nil, false
		}
		select {
		case <-ctx.Done():
			return nil, false
		case <-time.After(h.pollEvery):
		}
		cur, err := h.loadByHash(ctx, s.row.IDHash)
		if err != nil {
			h.renderError(w, r, nil, errSessionGone)
			return nil, false
		}
		s = cur
	}
}

// endLogin frees the session's login slot, saves the journey and shows the login page again.
func (h *Handler) endLogin(w http.ResponseWriter, r *http.Request, s *sess, status int, a journey.Action, username string) {
	if !h.saveOrResume(w, r, s) {
		return
	}
	h.renderLogin(w, r, s, status, a.Alert, username)
}

// retryAfter is a Retry-After value in whole seconds, at least 1.
func retryAfter(d time.Duration) string {
	return strconv.Itoa(max(1, int((d+time.Second-1)/time.Second)))
}
