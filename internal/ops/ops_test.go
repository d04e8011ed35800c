package ops

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ofpdp/ofpdp/internal/consent"
	"github.com/ofpdp/ofpdp/internal/obs"
	"github.com/ofpdp/ofpdp/internal/store"
)

// fakeAdmin serves one consent, c1, and an outbox of a pending p-1 and an abandoned a-1.
type fakeAdmin struct {
	mu        sync.Mutex
	requeued  map[string]time.Time
	audits    []store.AuditEntry
	listLimit int
	auditErr  error
	listErr   error
}

func (*fakeAdmin) GetConsent(_ context.Context, id string) (*store.ConsentRecord, error) {
	if id != "c1" {
		return nil, store.ErrNotFound
	}
	return &store.ConsentRecord{Version: 3, Consent: consent.Consent{ConsentID: "c1", DCID: "DC1", Status: consent.StatusAuthorized,
		Permissions: []consent.Permission{consent.PermReadBalances}, ExpirationDatetime: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
		Authorization: &store.Authorization{Status: consent.StatusAuthorized, Accounts: []store.AuthorizedAccount{
			{AccountID: "acc-1", AccountRef: "REF-1", AccountNumber: "1234567890", AccountName: "Savings"}}}}, nil
}

func (*fakeAdmin) ConsentEvents(context.Context, string) ([]store.StoredEvent, error) {
	return []store.StoredEvent{{Seq: 1, Type: consent.EventCreated, Action: consent.ActionInsert, Raw: []byte(`{"secret":"x"}`)}}, nil
}

func (*fakeAdmin) OutboundCalls(context.Context, string) ([]store.OutboundCall, error) {
	return []store.OutboundCall{{Attempt: 1, Method: "PATCH", HTTPStatus: 200, Outcome: "success"}}, nil
}

var (
	t0      = time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	outbox0 = []store.OutboxItem{
		{ConsentID: "p-1", Status: consent.StatusFailed, Reason: "patch_failed", Attempts: 2, NextAttemptAt: t0.Add(2 * time.Minute),
			LastError: "paynet: HTTP 503", CreatedAt: t0.Add(-time.Minute)},
		{ConsentID: "a-1", Status: consent.StatusRejected, Reason: "customer_rejected", Attempts: 10, NextAttemptAt: t0.Add(-time.Hour),
			LastError: "paynet: timeout", CreatedAt: t0.Add(-3 * time.Hour), DoneAt: t0.Add(-time.Hour), Outcome: "abandoned"},
	}
)

func (f *fakeAdmin) ListOutbox(_ context.Context, limit int) ([]store.OutboxItem, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.listLimit = limit
	if f.listErr != nil {
		return nil, f.listErr
	}
	return outbox0[:min(limit, len(outbox0))], nil
}

func (f *fakeAdmin) RequeueUpdate(_ context.Context, id string, now time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case id == "a-1" && f.requeued[id].IsZero():
		if f.requeued == nil {
			f.requeued = map[string]time.Time{}
		}
		f.requeued[id] = now
		return nil
	case id == "a-1" || id == "p-1":
		return fmt.Errorf("%w (%q)", store.ErrNotAbandoned, id)
	}
	return fmt.Errorf("%w: no consent update for %q", store.ErrNotFound, id)
}

func (f *fakeAdmin) Audit(_ context.Context, e store.AuditEntry) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.audits = append(f.audits, e)
	return f.auditErr
}

func get(h http.Handler, path, auth string) *httptest.ResponseRecorder {
	return do(h, http.MethodGet, path, auth)
}

func TestOps(t *testing.T) {
	healthy := true
	h := New(Options{
		Metrics: obs.NewMetrics(),
		Checks: map[string]Check{"database": func(context.Context) error {
			if healthy {
				return nil
			}
			return errors.New("connection refused to 10.0.0.5")
		}},
		AdminToken: strings.Repeat("t", 32),
		Admin:      &fakeAdmin{},
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now:        func() time.Time { return t0 },
	})
	token := "Bearer " + strings.Repeat("t", 32)
	cases := []struct {
		name, path, auth string
		status           int
		contains, absent string
	}{
		{"healthz", "/healthz", "", 200, `"ok"`, ""},
		{"readyz ok", "/readyz", "", 200, `"database":"ok"`, ""},
		{"metrics", "/metrics", "", 200, "go_goroutines", ""},
		{"admin without token (O3)", "/admin/v1/consents/c1", "", 401, "unauthorized", "c1"},
		{"admin with a wrong token", "/admin/v1/consents/c1", "Bearer nope", 401, "unauthorized", ""},
		{"admin consent, no account numbers", "/admin/v1/consents/c1", token, 200, `"acc-1"`, "1234567890"},
		{"admin unknown consent", "/admin/v1/consents/zz", token, 404, "not_found", ""},
		{"admin events, no bodies", "/admin/v1/consents/c1/events", token, 200, `"body_bytes":14`, "secret"},
		{"admin outbound calls", "/admin/v1/consents/c1/outbound-calls", token, 200, `"outcome":"success"`, ""},
		{"unknown path", "/debug/pprof/", "", 404, "not_found", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := get(h, c.path, c.auth)
			body := w.Body.String()
			if w.Code != c.status || !strings.Contains(body, c.contains) || (c.absent != "" && strings.Contains(body, c.absent)) {
				t.Fatalf("%s: %d %s", c.path, w.Code, body)
			}
		})
	}

	healthy = false
	w := get(h, "/readyz", "")
	if w.Code != 503 || !strings.Contains(w.Body.String(), `"database":"failed"`) || strings.Contains(w.Body.String(), "10.0.0.5") {
		t.Fatalf("failing readiness (O5: no cause leaked): %d %s", w.Code, w.Body.String())
	}
	healthy = true
	h.SetDraining(true)
	if w := get(h, "/readyz", ""); w.Code != 503 {
		t.Fatalf("draining readiness: %d", w.Code)
	}
	if w := get(h, "/healthz", ""); w.Code != 200 {
		t.Fatalf("healthz while draining: %d", w.Code)
	}
}

// TestReadyzAdvisory: a failing advisory check (PayNet's JWKS) is reported as degraded but
// keeps /readyz at 200, so the replica stays in the load balancer; a failing check does not.
func TestReadyzAdvisory(t *testing.T) {
	fail := func(context.Context) error { return errors.New("jwks: 502 from 10.0.0.9") }
	ok := func(context.Context) error { return nil }
	for _, c := range []struct {
		name     string
		checks   map[string]Check
		status   int
		contains string
	}{
		{"advisory failing", map[string]Check{"database": ok}, 200, `"paynet_keys":"degraded"`},
		{"check failing too", map[string]Check{"database": fail}, 503, `"database":"failed"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := New(Options{Checks: c.checks, Advisory: map[string]Check{"paynet_keys": fail},
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			w := get(h, "/readyz", "")
			body := w.Body.String()
			if w.Code != c.status || !strings.Contains(body, c.contains) || strings.Contains(body, "10.0.0.9") {
				t.Fatalf("readyz: %d %s, want %d with %s", w.Code, body, c.status, c.contains)
			}
		})
	}
}

func TestAdminDisabledWithoutToken(t *testing.T) {
	h := New(Options{Admin: &fakeAdmin{}})
	if w := get(h, "/admin/v1/consents/c1", "Bearer "); w.Code != 404 {
		t.Fatalf("admin API reachable without a configured token: %d", w.Code)
	}
	if w := do(h, http.MethodPost, "/admin/v1/outbox/a-1/retry", "Bearer "); w.Code != 404 {
		t.Fatalf("outbox re-queue reachable without a configured token: %d", w.Code)
	}
}

func do(h http.Handler, method, path, auth string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, nil)
	if auth != "" {
		r.Header.Set("Authorization", auth)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func newAdmin(f *fakeAdmin) (http.Handler, string) {
	tok := strings.Repeat("t", 32)
	return New(Options{AdminToken: tok, Admin: f, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now: func() time.Time { return t0 }}), "Bearer " + tok
}

func TestAdminOutboxList(t *testing.T) {
	f := &fakeAdmin{}
	h, token := newAdmin(f)
	cases := []struct {
		name, path, auth string
		status           int
		limit            int // passed to the store; 0: not called
		contains         []string
	}{
		{"without token", "/admin/v1/outbox", "", 401, 0, []string{"unauthorized"}},
		{"default limit", "/admin/v1/outbox", token, 200, DefaultOutboxLimit, []string{
			`{"consent_id":"p-1","status":"failed","reason":"patch_failed","attempts":2,"next_attempt_at":"2026-11-23T00:02:00Z","created_at":"2026-11-22T23:59:00Z","outcome":"","last_error":"paynet: HTTP 503"}`,
			`{"consent_id":"a-1","status":"rejected","reason":"customer_rejected","attempts":10,"next_attempt_at":"2026-11-22T23:00:00Z","created_at":"2026-11-22T21:00:00Z","done_at":"2026-11-22T23:00:00Z","outcome":"abandoned","last_error":"paynet: timeout"}`}},
		{"limit", "/admin/v1/outbox?limit=1", token, 200, 1, []string{`"p-1"`}},
		{"largest limit", "/admin/v1/outbox?limit=1000", token, 200, MaxOutboxLimit, []string{`"a-1"`}},
		{"limit zero", "/admin/v1/outbox?limit=0", token, 400, 0, []string{"invalid_limit"}},
		{"limit too large", "/admin/v1/outbox?limit=1001", token, 400, 0, []string{"invalid_limit"}},
		{"limit not a number", "/admin/v1/outbox?limit=ten", token, 400, 0, []string{"invalid_limit"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f.listLimit = 0
			w := get(h, c.path, c.auth)
			body := w.Body.String()
			if w.Code != c.status || f.listLimit != c.limit {
				t.Fatalf("%s: %d (store limit %d) %s", c.path, w.Code, f.listLimit, body)
			}
			for _, s := range c.contains {
				if !strings.Contains(body, s) {
					t.Fatalf("%s: %s lacks %s", c.path, body, s)
				}
			}
		})
	}
	if w := get(h, "/admin/v1/outbox?limit=1", token); strings.Contains(w.Body.String(), `"a-1"`) {
		t.Fatalf("limit not applied: %s", w.Body.String())
	}
	f.listErr = errors.New("database at 10.0.0.5 is down")
	if w := get(h, "/admin/v1/outbox", token); w.Code != 500 || strings.Contains(w.Body.String(), "10.0.0.5") {
		t.Fatalf("store failure: %d %s", w.Code, w.Body.String())
	}
}

func TestAdminOutboxRetry(t *testing.T) {
	f := &fakeAdmin{}
	h, token := newAdmin(f)
	cases := []struct {
		name, method, path, auth string
		status                   int
		contains                 string
		audits                   int // audit entries so far
	}{
		{"without token", http.MethodPost, "/admin/v1/outbox/a-1/retry", "", 401, "unauthorized", 0},
		{"with a wrong token", http.MethodPost, "/admin/v1/outbox/a-1/retry", "Bearer nope", 401, "unauthorized", 0},
		{"GET does not re-queue", http.MethodGet, "/admin/v1/outbox/a-1/retry", token, 404, "not_found", 0},
		{"no such item", http.MethodPost, "/admin/v1/outbox/zz/retry", token, 404, "not_found", 0},
		{"pending item", http.MethodPost, "/admin/v1/outbox/p-1/retry", token, 409, "not_abandoned", 0},
		{"abandoned item", http.MethodPost, "/admin/v1/outbox/a-1/retry", token, 200, `{"attempts":0,"consent_id":"a-1","next_attempt_at":"2026-11-23T00:00:00Z"}`, 1},
		{"twice", http.MethodPost, "/admin/v1/outbox/a-1/retry", token, 409, "not_abandoned", 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := do(h, c.method, c.path, c.auth)
			if w.Code != c.status || !strings.Contains(w.Body.String(), c.contains) || len(f.audits) != c.audits {
				t.Fatalf("%s %s: %d %s (%d audit entries)", c.method, c.path, w.Code, w.Body.String(), len(f.audits))
			}
		})
	}
	if !f.requeued["a-1"].Equal(t0) {
		t.Fatalf("re-queued at %v, want now (%v)", f.requeued["a-1"], t0)
	}
	want := store.AuditEntry{At: t0, Actor: "admin", Action: AuditActionRetry, ConsentID: "a-1", Outcome: AuditOutcomeRetry}
	if f.audits[0] != want {
		t.Fatalf("audit entry %+v, want %+v", f.audits[0], want)
	}

	// A failing audit does not undo the re-queue: the answer still says it happened.
	f2 := &fakeAdmin{auditErr: errors.New("disk full")}
	h2, token2 := newAdmin(f2)
	if w := do(h2, http.MethodPost, "/admin/v1/outbox/a-1/retry", token2); w.Code != 200 || f2.requeued["a-1"].IsZero() || len(f2.audits) != 1 {
		t.Fatalf("re-queue with a failing audit: %d %s", w.Code, w.Body.String())
	}
}

// Every admin read is in the audit trail (spec §7.4): who (the admin token), what, which consent
// and how it ended; a request without the token is refused before anything is read or audited.
func TestAdminReadsAudited(t *testing.T) {
	cases := []struct {
		path, auth string
		status     int
		want       *store.AuditEntry // nil: no entry
	}{
		{"/admin/v1/consents/c1", "", 401, nil},
		{"/admin/v1/consents/c1", "token", 200, &store.AuditEntry{Action: AuditActionReadConsent, ConsentID: "c1", Outcome: "200"}},
		{"/admin/v1/consents/zz", "token", 404, &store.AuditEntry{Action: AuditActionReadConsent, ConsentID: "zz", Outcome: "404"}},
		{"/admin/v1/consents/c1/events", "token", 200, &store.AuditEntry{Action: AuditActionReadEvents, ConsentID: "c1", Outcome: "200"}},
		{"/admin/v1/consents/c1/outbound-calls", "token", 200, &store.AuditEntry{Action: AuditActionReadCalls, ConsentID: "c1", Outcome: "200"}},
		{"/admin/v1/outbox?limit=5", "token", 200, &store.AuditEntry{Action: AuditActionListOutbox, Outcome: "200"}},
		{"/admin/v1/outbox?limit=0", "token", 400, &store.AuditEntry{Action: AuditActionListOutbox, Outcome: "400"}},
	}
	for _, c := range cases {
		t.Run(c.path+" "+c.auth, func(t *testing.T) {
			f := &fakeAdmin{}
			h, token := newAdmin(f)
			auth := ""
			if c.auth != "" {
				auth = token
			}
			if w := get(h, c.path, auth); w.Code != c.status {
				t.Fatalf("%d %s", w.Code, w.Body.String())
			}
			if c.want == nil {
				if len(f.audits) != 0 {
					t.Fatalf("audited %+v", f.audits)
				}
				return
			}
			want := *c.want
			want.At, want.Actor = t0, AuditActor
			if len(f.audits) != 1 || f.audits[0] != want {
				t.Fatalf("audit entries %+v, want %+v", f.audits, want)
			}
		})
	}
	// A read that cannot be audited is not served: the data would leave without a trace.
	f := &fakeAdmin{auditErr: errors.New("disk full")}
	h, token := newAdmin(f)
	if w := get(h, "/admin/v1/consents/c1", token); w.Code != 500 || strings.Contains(w.Body.String(), "c1") {
		t.Fatalf("read with a failing audit: %d %s", w.Code, w.Body.String())
	}
}

func (*fakeAdmin) SearchConsents(context.Context, store.ConsentQuery) (store.ConsentPage, error) {
	return store.ConsentPage{}, errors.New("fakeAdmin: no search")
}

func (*fakeAdmin) RevokeConsent(context.Context, string, store.LocalChange) (*store.ConsentRecord, error) {
	return nil, errors.New("fakeAdmin: no revocation")
}
