package ops

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ofpdp/ofpdp/internal/obs"
	"github.com/ofpdp/ofpdp/internal/store"
)

// Check is one readiness check; a nil error means ready.
type Check func(ctx context.Context) error

// AdminStore is what the admin API reads, plus the one repair it makes: re-queueing an abandoned
// consent update (negative-tests C11), which it records in the audit trail (spec §7.4).
// *store.Store implements it.
type AdminStore interface {
	GetConsent(ctx context.Context, consentID string) (*store.ConsentRecord, error)
	ConsentEvents(ctx context.Context, consentID string) ([]store.StoredEvent, error)
	OutboundCalls(ctx context.Context, consentID string) ([]store.OutboundCall, error)
	// ListOutbox returns up to limit outbox items, pending first, then the most recently finished.
	ListOutbox(ctx context.Context, limit int) ([]store.OutboxItem, error)
	// RequeueUpdate makes an abandoned item pending again, due at now with its attempts reset;
	// store.ErrNotFound without an item, store.ErrNotAbandoned for any other item.
	RequeueUpdate(ctx context.Context, consentID string, now time.Time) error
	Audit(ctx context.Context, e store.AuditEntry) error
	// SearchConsents pages through consents by customer reference, DC, status and time ranges.
	SearchConsents(ctx context.Context, q store.ConsentQuery) (store.ConsentPage, error)
	// RevokeConsent records a revocation on this DP and queues it for PayNet (spec §3.2.3).
	RevokeConsent(ctx context.Context, consentID string, ch store.LocalChange) (*store.ConsentRecord, error)
}

// Limits of GET /admin/v1/outbox?limit=N.
const (
	DefaultOutboxLimit = 100
	MaxOutboxLimit     = store.MaxOutboxList
)

// Audit trail values of a re-queue by an operator.
const (
	AuditActor        = "admin"
	AuditActionRetry  = "admin.outbox_retry"
	AuditOutcomeRetry = "requeued"
	// Admin reads; their outcome is the HTTP status answered.
	AuditActionReadConsent = "admin.read_consent"
	AuditActionReadEvents  = "admin.read_consent_events"
	AuditActionReadCalls   = "admin.read_outbound_calls"
	AuditActionListOutbox  = "admin.list_outbox"
	AuditActionSearch      = "admin.search_consents"
	AuditActionExport      = "admin.export_customer"
	// AuditActionRevoke is an operator's revocation; its outcome is revoked, already_revoked
	// or not_revocable.
	AuditActionRevoke = "admin.revoke_consent"
)

// Options configure the ops handler.
type Options struct {
	Metrics *obs.Metrics
	// Checks are the readiness checks by name (e.g. "database", "keys", "migrations").
	Checks map[string]Check
	// Advisory checks are run and reported by /readyz like Checks, as "degraded" when they
	// fail, but never make it answer 503: a dependency whose outage must not take the replica
	// out of the load balancer.
	Advisory map[string]Check
	// AdminToken, when non-empty, is a single shared token (ops.admin_token_file): the operator
	// "admin" with role operator. Operators, when set, is used instead.
	AdminToken string
	// Operators authenticates named operator tokens (ops.admin_tokens_file). The admin API is on
	// when Admin and one of Operators or AdminToken are set.
	Operators Authenticator
	Admin     AdminStore
	Logger    *slog.Logger
	Now       func() time.Time
	// CheckTimeout bounds each readiness check (default 2 s).
	CheckTimeout time.Duration
}

// Handler serves the ops listener.
type Handler struct {
	o        Options
	draining atomic.Bool
	mux      *http.ServeMux
}

// New builds the ops handler.
func New(o Options) *Handler {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.CheckTimeout <= 0 {
		o.CheckTimeout = 2 * time.Second
	}
	h := &Handler{o: o, mux: http.NewServeMux()}
	h.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	h.mux.HandleFunc("GET /readyz", h.readyz)
	if o.Metrics != nil {
		h.mux.Handle("GET /metrics", promhttp.HandlerFor(o.Metrics.Registry, promhttp.HandlerOpts{}))
	}
	if o.Operators == nil && o.AdminToken != "" {
		h.o.Operators = StaticToken(o.AdminToken)
	}
	if h.o.Operators != nil && o.Admin != nil {
		for _, rt := range h.routes() {
			h.mux.Handle(rt.Method+" "+rt.Path, h.admin(rt))
		}
	}
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "not_found"})
	})
	return h
}

// SetDraining makes /readyz answer 503 (the first step of a graceful shutdown).
func (h *Handler) SetDraining(v bool) { h.draining.Store(v) }

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	h.mux.ServeHTTP(w, r)
}

func (h *Handler) readyz(w http.ResponseWriter, r *http.Request) {
	if h.draining.Load() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "draining"})
		return
	}
	results := map[string]string{}
	ok := h.run(r.Context(), h.o.Checks, "failed", results)
	h.run(r.Context(), h.o.Advisory, "degraded", results)
	status, code := "ok", http.StatusOK
	if !ok {
		status, code = "unavailable", http.StatusServiceUnavailable
	}
	writeJSON(w, code, map[string]any{"status": status, "checks": results})
}

// run runs checks in name order, each within CheckTimeout, recording "ok" or failed in results;
// it reports whether all passed.
func (h *Handler) run(ctx context.Context, checks map[string]Check, failed string, results map[string]string) bool {
	names := make([]string, 0, len(checks))
	for n := range checks {
		names = append(names, n)
	}
	sort.Strings(names)
	ok := true
	for _, n := range names {
		cctx, cancel := context.WithTimeout(ctx, h.o.CheckTimeout)
		err := checks[n](cctx)
		cancel()
		if err != nil {
			ok = false
			results[n] = failed
			h.o.Logger.Warn("readiness check failed", "check", n, "outcome", failed, "cause", err.Error())
			continue
		}
		results[n] = "ok"
	}
	return ok
}

// adminHandler serves an admin request on behalf of op.
type adminHandler func(w http.ResponseWriter, r *http.Request, op Operator)

// Route is one endpoint of the admin API: docs/admin-openapi.yaml documents each (a test keeps
// the two in step).
type Route struct {
	Method, Path string
	// Role is the least role allowed (RoleViewer or RoleOperator).
	Role string
	// Action names the request in the audit trail.
	Action string
	// Read routes are audited by audited; writes audit themselves (a refusal by role is
	// audited here either way).
	Read bool
	h    adminHandler
}

// Routes lists the admin API (for the documentation test).
func Routes() []Route { return (&Handler{}).routes() }

func (h *Handler) routes() []Route {
	return []Route{
		{"GET", "/admin/v1/consents", RoleViewer, AuditActionSearch, true, h.search},
		{"GET", "/admin/v1/consents/{consent_id}", RoleViewer, AuditActionReadConsent, true, h.consent},
		{"GET", "/admin/v1/consents/{consent_id}/events", RoleViewer, AuditActionReadEvents, true, h.events},
		{"GET", "/admin/v1/consents/{consent_id}/outbound-calls", RoleViewer, AuditActionReadCalls, true, h.outbound},
		{"POST", "/admin/v1/consents/{consent_id}/revoke", RoleOperator, AuditActionRevoke, false, h.revoke},
		{"GET", "/admin/v1/customers/{customer_ref}/consents/export", RoleViewer, AuditActionExport, true, h.export},
		{"GET", "/admin/v1/outbox", RoleViewer, AuditActionListOutbox, true, h.outbox},
		{"POST", "/admin/v1/outbox/{consent_id}/retry", RoleOperator, AuditActionRetry, false, h.retry},
	}
}

// admin authenticates the operator's bearer token, checks the route's role (403 forbidden for a
// viewer on an operator route, audited) and serves the route, through audited for reads.
func (h *Handler) admin(rt Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		op, known := Operator{}, false
		if ok && tok != "" {
			op, known = h.o.Operators.Operator(tok)
		}
		if !known {
			w.Header().Set("WWW-Authenticate", `Bearer realm="ofpdp-admin"`)
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "unauthorized"})
			return
		}
		if !op.may(rt.Role) {
			if err := h.o.Admin.Audit(r.Context(), store.AuditEntry{At: h.o.Now(), Actor: op.Name, Action: rt.Action,
				ConsentID: r.PathValue("consent_id"), Outcome: "forbidden"}); err != nil {
				h.o.Logger.Error("admin api: audit of a refusal failed", "cause", err.Error())
			}
			writeJSON(w, http.StatusForbidden, map[string]string{"error": "forbidden",
				"error_description": "this needs the " + rt.Role + " role"})
			return
		}
		if rt.Read {
			h.audited(rt.Action, op, rt.h)(w, r)
			return
		}
		rt.h(w, r, op)
	})
}

// audited serves an admin read into a buffer, records it in the audit trail (spec §7.4: the
// operator, the action, the consent and the HTTP status; never the data) and only then answers.
// A read that cannot be audited is answered 500, so no data leaves without a trace.
func (h *Handler) audited(action string, op Operator, fn adminHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		buf := &bufferedResponse{header: http.Header{}, code: http.StatusOK}
		fn(buf, r, op)
		id := r.PathValue("consent_id")
		if err := h.o.Admin.Audit(r.Context(), store.AuditEntry{At: h.o.Now(), Actor: op.Name, Action: action,
			ConsentID: id, Outcome: strconv.Itoa(buf.code)}); err != nil {
			h.o.Logger.Error("admin api: audit of a read failed; not answered", "action", action, "consent_id", id, "cause", err.Error())
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "server_error"})
			return
		}
		maps.Copy(w.Header(), buf.header)
		w.WriteHeader(buf.code)
		_, _ = w.Write(buf.body.Bytes())
	}
}

// bufferedResponse holds an answer until it may be sent.
type bufferedResponse struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header         { return b.header }
func (b *bufferedResponse) Write(p []byte) (int, error) { return b.body.Write(p) }
func (b *bufferedResponse) WriteHeader(code int)        { b.code = code }

// adminConsent is the admin view of a consent: state and decision, no PII (account numbers masked).
type adminConsent struct {
	ConsentID     string         `json:"consent_id"`
	DCID          string         `json:"dc_id"`
	Status        string         `json:"status"`
	Effective     string         `json:"effective_status"`
	Purpose       string         `json:"consent_purpose"`
	Permissions   []string       `json:"permissions"`
	Expiration    time.Time      `json:"expiration_datetime"`
	CreatedAt     time.Time      `json:"created_at"`
	UpdatedAt     time.Time      `json:"updated_at"`
	Version       int64          `json:"version"`
	IDType        string         `json:"id_type,omitempty"`
	HashedID      string         `json:"hashed_id_number,omitempty"`
	Authorization *adminDecision `json:"authorization,omitempty"`
	History       []exportRecord `json:"history"`
}

type adminDecision struct {
	Status      string         `json:"status"`
	Reason      string         `json:"reason,omitempty"`
	DecidedAt   time.Time      `json:"decided_at"`
	CustomerRef string         `json:"customer_ref"`
	Channel     string         `json:"channel,omitempty"`
	Accounts    []string       `json:"account_ids"`
	Shared      []adminAccount `json:"accounts"`
}

// adminAccount is a shared account with its number masked.
type adminAccount struct {
	AccountID     string `json:"account_id"`
	AccountNumber string `json:"account_number_masked"`
	AccountName   string `json:"account_name"`
}

func (h *Handler) consent(w http.ResponseWriter, r *http.Request, _ Operator) {
	rec, err := h.o.Admin.GetConsent(r.Context(), r.PathValue("consent_id"))
	if h.storeErr(w, err) {
		return
	}
	evs, err := h.o.Admin.ConsentEvents(r.Context(), rec.Consent.ConsentID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		h.storeErr(w, err)
		return
	}
	c := rec.Consent
	out := adminConsent{ConsentID: c.ConsentID, DCID: c.DCID, Status: string(c.Status),
		Effective: string(c.EffectiveStatus(h.o.Now())), Purpose: string(c.Purpose),
		Expiration: c.ExpirationDatetime, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt, Version: rec.Version,
		IDType: string(c.IDType), HashedID: c.HashedIDNumber, History: history(rec, evs)}
	if out.History == nil {
		out.History = []exportRecord{}
	}
	for _, p := range c.Permissions {
		out.Permissions = append(out.Permissions, string(p))
	}
	if a := rec.Authorization; a != nil {
		d := &adminDecision{Status: string(a.Status), Reason: a.Reason, DecidedAt: a.DecidedAt, CustomerRef: a.CustomerRef,
			Accounts: []string{}, Shared: []adminAccount{}}
		if a.Channel != nil {
			d.Channel = a.Channel.String()
		}
		for _, acc := range a.Accounts {
			d.Accounts = append(d.Accounts, acc.AccountID)
			d.Shared = append(d.Shared, adminAccount{AccountID: acc.AccountID, AccountNumber: maskNumber(acc.AccountNumber), AccountName: acc.AccountName})
		}
		out.Authorization = d
	}
	writeJSON(w, http.StatusOK, out)
}

type adminEvent struct {
	Seq           int64     `json:"seq"`
	Type          string    `json:"event_type"`
	Action        string    `json:"action"`
	SigAlg        string    `json:"sig_alg"`
	SigKid        string    `json:"sig_kid"`
	SigJti        string    `json:"sig_jti"`
	SigIat        time.Time `json:"sig_iat"`
	ReceivedAt    time.Time `json:"received_at"`
	InteractionID string    `json:"interaction_id,omitempty"`
	BodyBytes     int       `json:"body_bytes"`
}

func (h *Handler) events(w http.ResponseWriter, r *http.Request, _ Operator) {
	evs, err := h.o.Admin.ConsentEvents(r.Context(), r.PathValue("consent_id"))
	if h.storeErr(w, err) {
		return
	}
	out := make([]adminEvent, 0, len(evs))
	for _, e := range evs {
		out = append(out, adminEvent{Seq: e.Seq, Type: string(e.Type), Action: string(e.Action), SigAlg: e.SigAlg,
			SigKid: e.SigKid, SigJti: e.SigJti, SigIat: e.SigIat, ReceivedAt: e.ReceivedAt,
			InteractionID: e.InteractionID, BodyBytes: len(e.Raw)})
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": out})
}

func (h *Handler) outbound(w http.ResponseWriter, r *http.Request, _ Operator) {
	calls, err := h.o.Admin.OutboundCalls(r.Context(), r.PathValue("consent_id"))
	if h.storeErr(w, err) {
		return
	}
	type call struct {
		Attempt       int     `json:"attempt"`
		Method        string  `json:"method"`
		HTTPStatus    int     `json:"http_status"`
		Outcome       string  `json:"outcome"`
		Error         string  `json:"error,omitempty"`
		InteractionID string  `json:"interaction_id"`
		StartedAt     string  `json:"started_at"`
		Seconds       float64 `json:"duration_seconds"`
	}
	out := make([]call, 0, len(calls))
	for _, c := range calls {
		out = append(out, call{Attempt: c.Attempt, Method: c.Method, HTTPStatus: c.HTTPStatus, Outcome: c.Outcome,
			Error: c.Error, InteractionID: c.InteractionID, StartedAt: c.StartedAt.UTC().Format(time.RFC3339Nano),
			Seconds: c.Duration.Seconds()})
	}
	writeJSON(w, http.StatusOK, map[string]any{"outbound_calls": out})
}

// adminOutboxItem is the admin view of a compensating consent update: what is sent and how its
// delivery went; never a body or a token.
type adminOutboxItem struct {
	ConsentID     string    `json:"consent_id"`
	Status        string    `json:"status"`
	Reason        string    `json:"reason"`
	Attempts      int       `json:"attempts"`
	NextAttemptAt time.Time `json:"next_attempt_at"`
	LeaseUntil    time.Time `json:"lease_until,omitzero"`
	CreatedAt     time.Time `json:"created_at"`
	DoneAt        time.Time `json:"done_at,omitzero"`
	Outcome       string    `json:"outcome"`
	LastError     string    `json:"last_error,omitempty"`
}

// outbox lists the pending consent updates and the most recently finished ones (?limit=N, 1..1000,
// default 100). A pending item has an empty outcome.
func (h *Handler) outbox(w http.ResponseWriter, r *http.Request, _ Operator) {
	limit := DefaultOutboxLimit
	if q := r.URL.Query().Get("limit"); q != "" {
		n, err := strconv.Atoi(q)
		if err != nil || n < 1 || n > MaxOutboxLimit {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_limit"})
			return
		}
		limit = n
	}
	items, err := h.o.Admin.ListOutbox(r.Context(), limit)
	if h.storeErr(w, err) {
		return
	}
	out := make([]adminOutboxItem, 0, len(items))
	for _, it := range items {
		out = append(out, adminOutboxItem{ConsentID: it.ConsentID, Status: string(it.Status), Reason: it.Reason,
			Attempts: it.Attempts, NextAttemptAt: it.NextAttemptAt, LeaseUntil: it.LeaseUntil, CreatedAt: it.CreatedAt,
			DoneAt: it.DoneAt, Outcome: it.Outcome, LastError: it.LastError})
	}
	writeJSON(w, http.StatusOK, map[string]any{"outbox": out})
}

// retry puts an abandoned consent update back to pending, due now with its attempts reset, and
// audits it: 404 when the consent has no update, 409 when its update is not abandoned (pending,
// delivered or refused by PayNet, which is never sent again).
func (h *Handler) retry(w http.ResponseWriter, r *http.Request, op Operator) {
	id := r.PathValue("consent_id")
	now := h.o.Now()
	err := h.o.Admin.RequeueUpdate(r.Context(), id, now)
	if errors.Is(err, store.ErrNotAbandoned) {
		writeJSON(w, http.StatusConflict, map[string]string{"error": "not_abandoned"})
		return
	}
	if h.storeErr(w, err) {
		return
	}
	if err := h.o.Admin.Audit(r.Context(), store.AuditEntry{At: now, Actor: op.Name, Action: AuditActionRetry,
		ConsentID: id, Outcome: AuditOutcomeRetry}); err != nil {
		// The update is re-queued either way; say so, and leave the trace in the log.
		h.o.Logger.Error("admin api: audit of an outbox re-queue failed", "consent_id", id, "cause", err.Error())
	}
	h.o.Logger.Info("admin api: consent update re-queued", "consent_id", id, "operator", op.Name)
	writeJSON(w, http.StatusOK, map[string]any{"consent_id": id, "next_attempt_at": now, "attempts": 0})
}

func (h *Handler) storeErr(w http.ResponseWriter, err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, store.ErrNotFound):
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "not_found"})
	default:
		h.o.Logger.Error("admin api", "cause", err.Error())
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "server_error"})
	}
	return true
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	_ = enc.Encode(v)
}
