package ops

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"sort"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ofpdp/ofpdp/internal/obs"
	"github.com/ofpdp/ofpdp/internal/store"
)

// Check is one readiness check; a nil error means ready.
type Check func(ctx context.Context) error

// AdminStore is what the admin API reads. *store.Store implements it.
type AdminStore interface {
	GetConsent(ctx context.Context, consentID string) (*store.ConsentRecord, error)
	ConsentEvents(ctx context.Context, consentID string) ([]store.StoredEvent, error)
	OutboundCalls(ctx context.Context, consentID string) ([]store.OutboundCall, error)
}

// Options configure the ops handler.
type Options struct {
	Metrics *obs.Metrics
	// Checks are the readiness checks by name (e.g. "database", "keys", "migrations").
	Checks map[string]Check
	// AdminToken enables the admin API when non-empty (Authorization: Bearer <token>).
	AdminToken string
	Admin      AdminStore
	Logger     *slog.Logger
	Now        func() time.Time
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
	if o.AdminToken != "" && o.Admin != nil {
		h.mux.Handle("GET /admin/v1/consents/{consent_id}", h.admin(h.consent))
		h.mux.Handle("GET /admin/v1/consents/{consent_id}/events", h.admin(h.events))
		h.mux.Handle("GET /admin/v1/consents/{consent_id}/outbound-calls", h.admin(h.outbound))
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
	names := make([]string, 0, len(h.o.Checks))
	for n := range h.o.Checks {
		names = append(names, n)
	}
	sort.Strings(names)
	results := map[string]string{}
	ok := true
	for _, n := range names {
		ctx, cancel := context.WithTimeout(r.Context(), h.o.CheckTimeout)
		err := h.o.Checks[n](ctx)
		cancel()
		if err != nil {
			ok = false
			results[n] = "failed"
			h.o.Logger.Warn("readiness check failed", "check", n, "cause", err.Error())
			continue
		}
		results[n] = "ok"
	}
	status, code := "ok", http.StatusOK
	if !ok {
		status, code = "unavailable", http.StatusServiceUnavailable
	}
	writeJSON(w, code, map[string]any{"status": status, "checks": results})
}

func (h *Handler) admin(fn http.HandlerFunc) http.Handler {
	want := []byte("Bearer " + h.o.AdminToken)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := []byte(r.Header.Get("Authorization"))
		if subtle.ConstantTimeCompare(got, want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="ofpdp-admin"`)
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "unauthorized"})
			return
		}
		fn(w, r)
	})
}

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
	Authorization *adminDecision `json:"authorization,omitempty"`
}

type adminDecision struct {
	Status    string    `json:"status"`
	Reason    string    `json:"reason,omitempty"`
	DecidedAt time.Time `json:"decided_at"`
	Accounts  []string  `json:"account_ids"`
}

func (h *Handler) consent(w http.ResponseWriter, r *http.Request) {
	rec, err := h.o.Admin.GetConsent(r.Context(), r.PathValue("consent_id"))
	if h.storeErr(w, err) {
		return
	}
	c := rec.Consent
	out := adminConsent{ConsentID: c.ConsentID, DCID: c.DCID, Status: string(c.Status),
		Effective: string(c.EffectiveStatus(h.o.Now())), Purpose: string(c.Purpose),
		Expiration: c.ExpirationDatetime, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt, Version: rec.Version}
	for _, p := range c.Permissions {
		out.Permissions = append(out.Permissions, string(p))
	}
	if a := rec.Authorization; a != nil {
		d := &adminDecision{Status: string(a.Status), Reason: a.Reason, DecidedAt: a.DecidedAt, Accounts: []string{}}
		for _, acc := range a.Accounts {
			d.Accounts = append(d.Accounts, acc.AccountID)
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

func (h *Handler) events(w http.ResponseWriter, r *http.Request) {
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

func (h *Handler) outbound(w http.ResponseWriter, r *http.Request) {
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
