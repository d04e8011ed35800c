package ops

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ofpdp/ofpdp/internal/consent"
	"github.com/ofpdp/ofpdp/internal/obs"
	"github.com/ofpdp/ofpdp/internal/store"
)

type fakeAdmin struct{}

func (fakeAdmin) GetConsent(_ context.Context, id string) (*store.ConsentRecord, error) {
	if id != "c1" {
		return nil, store.ErrNotFound
	}
	return &store.ConsentRecord{Version: 3, Consent: consent.Consent{ConsentID: "c1", DCID: "DC1", Status: consent.StatusAuthorized,
		Permissions: []consent.Permission{consent.PermReadBalances}, ExpirationDatetime: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
		Authorization: &store.Authorization{Status: consent.StatusAuthorized, Accounts: []store.AuthorizedAccount{
			{AccountID: "acc-1", AccountRef: "REF-1", AccountNumber: "1234567890", AccountName: "Savings"}}}}, nil
}

func (fakeAdmin) ConsentEvents(context.Context, string) ([]store.StoredEvent, error) {
	return []store.StoredEvent{{Seq: 1, Type: consent.EventCreated, Action: consent.ActionInsert, Raw: []byte(`{"secret":"x"}`)}}, nil
}

func (fakeAdmin) OutboundCalls(context.Context, string) ([]store.OutboundCall, error) {
	return []store.OutboundCall{{Attempt: 1, Method: "PATCH", HTTPStatus: 200, Outcome: "success"}}, nil
}

func get(h http.Handler, path, auth string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, path, nil)
	if auth != "" {
		r.Header.Set("Authorization", auth)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
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
		Admin:      fakeAdmin{},
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now:        func() time.Time { return time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC) },
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

func TestAdminDisabledWithoutToken(t *testing.T) {
	h := New(Options{Admin: fakeAdmin{}})
	if w := get(h, "/admin/v1/consents/c1", "Bearer "); w.Code != 404 {
		t.Fatalf("admin API reachable without a configured token: %d", w.Code)
	}
}
