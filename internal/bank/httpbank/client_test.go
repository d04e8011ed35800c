package httpbank

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ofpdp/ofpdp/connector"
	"github.com/ofpdp/ofpdp/internal/obs"
)

const goodAccount = `{"account_ref":"A1","customer_ref":"C1","number":"164012345678","name":"Savings","holder_name":"SITI",
"holder_type":"individual","category":"retail","type":"deposit","subtype":"savings","currency":"MYR","status":"active"}`

const goodTx = `{"id":"T2","date":"2026-10-30T10:00:00+08:00","credit_debit":"debit","amount":{"amount":"10.00","currency":"MYR"},
"transfer_method":"funds_transfer","transfer_submethod":"duitnow_transfer","description":"x","settled":true}`

// TestClientAnswers: every malformed or out-of-contract answer is ErrUnavailable (503
// Consent.TransientAccountAccessFailure to PayNet, design §4) with the cause logged and no value
// from the answer in the log; the problem codes map onto the sentinel errors.
func TestClientAnswers(t *testing.T) {
	q := connector.TransactionQuery{AccountRef: "A1", From: time.Date(2026, 10, 1, 0, 0, 0, 0, myt),
		To: time.Date(2026, 10, 31, 23, 59, 59, 0, myt), Limit: 2}
	cases := []struct {
		name   string
		status int
		ctype  string
		body   string
		call   string // account (default) or transactions
		want   error
	}{
		{"good account", 200, "", goodAccount, "", nil},
		{"unknown field", 200, "", strings.Replace(goodAccount, `"status"`, `"pin":"1234","status"`, 1), "", connector.ErrUnavailable},
		{"missing required", 200, "", strings.Replace(goodAccount, `"number":"164012345678",`, ``, 1), "", connector.ErrUnavailable},
		{"bad enum", 200, "", strings.Replace(goodAccount, `"active"`, `"frozen"`, 1), "", connector.ErrUnavailable},
		{"another account", 200, "", strings.Replace(goodAccount, `"A1"`, `"A9"`, 1), "", connector.ErrUnavailable},
		{"trailing data", 200, "", goodAccount + `{}`, "", connector.ErrUnavailable},
		{"not json", 200, "", `<html>`, "", connector.ErrUnavailable},
		{"wrong content type", 200, "text/plain", goodAccount, "", connector.ErrUnavailable},
		{"too large", 200, "", `{"account_ref":"` + strings.Repeat("A", 5<<20) + `"}`, "", connector.ErrUnavailable},
		{"500", 500, "", `oops`, "", connector.ErrUnavailable},
		{"400", 400, "application/problem+json", `{"code":"invalid_request"}`, "", connector.ErrUnavailable},
		{"404 without code", 404, "text/html", `not here`, "", connector.ErrUnavailable},
		{"not found", 404, "application/problem+json", `{"code":"not_found"}`, "", connector.ErrNotFound},
		{"blocked", 403, "application/problem+json", `{"code":"account_blocked"}`, "", connector.ErrAccountBlocked},
		{"dormant", 403, "application/problem+json", `{"code":"account_dormant"}`, "", connector.ErrAccountBlocked},
		{"closed", 403, "application/problem+json", `{"code":"account_closed"}`, "", connector.ErrAccountClosed},
		{"invalid credentials outside authenticate", 401, "application/problem+json", `{"code":"invalid_credentials"}`, "", connector.ErrUnavailable},
		{"good page", 200, "", `{"transactions":[` + goodTx + `],"more":false}`, "transactions", nil},
		{"page without more", 200, "", `{"transactions":[]}`, "transactions", connector.ErrUnavailable},
		{"page with more and a cursor", 200, "", `{"transactions":[` + goodTx + `],"more":true,"next_cursor":"p2"}`, "transactions", nil},
		{"more without a cursor", 200, "", `{"transactions":[` + goodTx + `],"more":true}`, "transactions", connector.ErrUnavailable},
		{"a cursor without more", 200, "", `{"transactions":[` + goodTx + `],"more":false,"next_cursor":"p2"}`, "transactions", connector.ErrUnavailable},
		{"a cursor with a space", 200, "", `{"transactions":[` + goodTx + `],"more":true,"next_cursor":"p 2"}`, "transactions", connector.ErrUnavailable},
		{"page over the limit", 200, "", `{"transactions":[` + goodTx + `,` + strings.Replace(goodTx, "T2", "T1", 1) + `,` +
			strings.Replace(goodTx, "T2", "T0", 1) + `],"more":false}`, "transactions", connector.ErrUnavailable},
		{"page out of order", 200, "", `{"transactions":[` + strings.Replace(goodTx, "T2", "T1", 1) + `,` + goodTx + `],"more":false}`, "transactions", connector.ErrUnavailable},
		{"page outside the window", 200, "", `{"transactions":[` + strings.Replace(goodTx, "2026-10-30", "2026-11-02", 1) + `],"more":false}`, "transactions", connector.ErrUnavailable},
		{"amount as a number", 200, "", `{"transactions":[` + strings.Replace(goodTx, `"10.00"`, `10`, 1) + `],"more":false}`, "transactions", connector.ErrUnavailable},
		{"amount with one decimal", 200, "", `{"transactions":[` + strings.Replace(goodTx, `"10.00"`, `"10.0"`, 1) + `],"more":false}`, "transactions", connector.ErrUnavailable},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				ct := tc.ctype
				if ct == "" {
					ct = "application/json"
				}
				w.Header().Set("Content-Type", ct)
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			var logs bytes.Buffer
			c, err := New(Options{BaseURL: srv.URL, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if tc.call == "transactions" {
				_, err = c.Transactions(t.Context(), q)
			} else {
				_, err = c.Account(t.Context(), "A1")
			}
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if errors.Is(tc.want, connector.ErrUnavailable) {
				if !strings.Contains(logs.String(), "core bank call failed") {
					t.Errorf("cause not logged: %q", logs.String())
				}
				for _, secret := range []string{"164012345678", "1234", "SITI", "oops"} {
					if strings.Contains(logs.String(), secret) {
						t.Errorf("log carries %q from the answer: %s", secret, logs.String())
					}
				}
			}
		})
	}
}

// TestClientRetries: a GET is retried once after a 503 while the deadline allows; a POST never is.
// Every request carries the contract's headers.
func TestClientRetries(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		for _, h := range []string{HeaderInteractionID, HeaderTraceParent, HeaderDeadline} {
			if r.Header.Get(h) == "" {
				t.Errorf("%s %s without %s", r.Method, r.URL.Path, h)
			}
		}
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"code":"unavailable"}`))
	}))
	defer srv.Close()
	c, err := New(Options{BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	if _, err := c.Balance(ctx, "A1"); !errors.Is(err, connector.ErrUnavailable) {
		t.Fatalf("balance: %v", err)
	}
	if n := calls.Swap(0); n != 2 {
		t.Errorf("GET sent %d times, want 2 (one retry)", n)
	}
	if _, err := c.Authenticate(ctx, "u", "p"); !errors.Is(err, connector.ErrUnavailable) {
		t.Fatalf("authenticate: %v", err)
	}
	if n := calls.Swap(0); n != 1 {
		t.Errorf("POST sent %d times, want 1 (never retried)", n)
	}
	short, cancel2 := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel2()
	_, _ = c.Balance(short, "A1")
	if n := calls.Swap(0); n != 1 {
		t.Errorf("GET with 20ms left sent %d times, want 1 (no retry past the deadline budget)", n)
	}
}

// TestClientDeadline: a slow adapter is abandoned at the ctx deadline with ErrUnavailable.
func TestClientDeadline(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
	}))
	defer srv.Close()
	defer close(release)
	c, err := New(Options{BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := c.Account(ctx, "A1"); !errors.Is(err, connector.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("took %v past a 100ms deadline", d)
	}
}

func TestNewRefusesBadBaseURL(t *testing.T) {
	for _, u := range []string{"", "corebank:8080", "ftp://x", "https://x/?a=b"} {
		if _, err := New(Options{BaseURL: u}); err == nil {
			t.Errorf("%q accepted", u)
		}
	}
}

// The interaction id of PayNet's request travels to the core bank; without one a fresh UUID is
// sent. The deadline header is what is left of the ctx deadline.
func TestClientHeaders(t *testing.T) {
	got := make(chan http.Header, 2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Clone()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	}))
	defer srv.Close()
	c, err := New(Options{BaseURL: srv.URL, BearerToken: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const id = "0b2f6a4e-5c1d-4e8f-9a7b-3c2d1e0f9a8b"
	ctx, cancel := context.WithTimeout(obs.WithInfo(t.Context(), &obs.RequestInfo{InteractionID: id}), 3*time.Second)
	defer cancel()
	if err := c.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	h := <-got
	if h.Get(HeaderInteractionID) != id || h.Get("Authorization") != "Bearer tok" {
		t.Errorf("interaction id %q, authorization %q", h.Get(HeaderInteractionID), h.Get("Authorization"))
	}
	if ms, _ := strconv.Atoi(h.Get(HeaderDeadline)); ms < 2500 || ms > 3000 {
		t.Errorf("deadline header %q, want about 3000", h.Get(HeaderDeadline))
	}
	if err := c.Ready(t.Context()); err != nil {
		t.Fatal(err)
	}
	if h := <-got; h.Get(HeaderInteractionID) == "" || h.Get(HeaderInteractionID) == id || h.Get(HeaderTraceParent) == "" {
		t.Errorf("without PayNet's id: %q", h.Get(HeaderInteractionID))
	}
}
