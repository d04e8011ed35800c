package mockdc

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ofpdp/ofpdp/internal/ofp/sim"
	"github.com/ofpdp/ofpdp/internal/ofp/wire"
)

// fakeSim is a SimClient with canned answers that records what it was asked.
type fakeSim struct {
	mu         sync.Mutex
	created    []sim.CreateConsentRequest
	createErr  error
	view       *sim.ConsentView
	viewErr    error
	balances   map[string]*sim.DataResponse
	txs        map[string]*sim.DataResponse
	txQueries  []sim.TransactionsQuery
	balanceErr error
}

func (f *fakeSim) CreateConsent(_ context.Context, req sim.CreateConsentRequest) (*sim.CreateConsentResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.created = append(f.created, req)
	if f.createErr != nil {
		return nil, f.createErr
	}
	return &sim.CreateConsentResponse{ConsentID: "c-1", AuthorizeURL: "https://localhost:8444/v1/oauth/authorize?consent_id=c-1&signature=x"}, nil
}

func (f *fakeSim) Consent(_ context.Context, id string) (*sim.ConsentView, error) {
	if f.viewErr != nil {
		return nil, f.viewErr
	}
	if f.view == nil || f.view.ConsentID != id {
		return nil, &sim.APIError{Status: 404}
	}
	return f.view, nil
}

func (f *fakeSim) Balances(_ context.Context, _, accountID string) (*sim.DataResponse, error) {
	if f.balanceErr != nil {
		return nil, f.balanceErr
	}
	return f.balances[accountID], nil
}

func (f *fakeSim) Transactions(_ context.Context, _, accountID string, q sim.TransactionsQuery) (*sim.DataResponse, error) {
	f.mu.Lock()
	f.txQueries = append(f.txQueries, q)
	f.mu.Unlock()
	return f.txs[accountID], nil
}

func newApp(t *testing.T, fs *fakeSim) *Handler {
	t.Helper()
	h, err := New(Options{
		Sim: fs, PublicURL: "http://127.0.0.1:8447/", DCID: "DC0000000001",
		Now: func() time.Time { return time.Date(2026, 5, 20, 3, 0, 0, 0, time.UTC) },
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func do(t *testing.T, h http.Handler, method, target string, form url.Values, hdr map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	r := httptest.NewRequest(method, target, body)
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func count(html, pattern string) int {
	return len(regexp.MustCompile(pattern).FindAllStringIndex(html, -1))
}

func TestJourneyPages(t *testing.T) {
	h := newApp(t, &fakeSim{})
	tests := []struct {
		path     string
		status   int
		contains []string
	}{
		{"/", 200, []string{`id="link"`, `href="/link"`, "Kira — your money in one place"}},
		{"/link", 200, []string{`id="bank-sandbox"`, `href="/review?bank=sandbox"`, DefaultBankName}},
		{"/review?bank=sandbox", 200, []string{
			`id="continue"`, "Continue to Demo Bank Berhad", `action="/connect"`, `name="bank" value="sandbox"`,
			"Your account balances", "Your transactions", "Personal finance management", "180 days, until 16 November 2026",
		}},
		{"/review?bank=other", 404, []string{`id="error"`}},
		{"/nowhere", 404, []string{"Page not found"}},
		{"/static/style.css", 200, []string{".transaction"}},
	}
	for _, tt := range tests {
		w := do(t, h, http.MethodGet, tt.path, nil, nil)
		if w.Code != tt.status {
			t.Errorf("%s: status %d, want %d", tt.path, w.Code, tt.status)
		}
		for _, s := range tt.contains {
			if !strings.Contains(w.Body.String(), s) {
				t.Errorf("%s: body lacks %q", tt.path, s)
			}
		}
		if w.Header().Get("X-Frame-Options") != "DENY" || !strings.Contains(w.Header().Get("Content-Security-Policy"), "frame-ancestors 'none'") {
			t.Errorf("%s: security headers missing", tt.path)
		}
		if strings.Contains(w.Body.String(), "<script") {
			t.Errorf("%s: page has a script", tt.path)
		}
	}
}

func TestConnectCreatesConsent(t *testing.T) {
	fs := &fakeSim{}
	h := newApp(t, fs)
	w := do(t, h, http.MethodPost, "/connect", url.Values{"bank": {"sandbox"}, "id_type": {"nric"}, "id_number": {" 900101-14-5678 "}}, nil)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "https://localhost:8444/v1/oauth/authorize?consent_id=c-1&signature=x" {
		t.Fatalf("connect = %d %s", w.Code, w.Header().Get("Location"))
	}
	if len(fs.created) != 1 {
		t.Fatalf("created %d consents", len(fs.created))
	}
	req := fs.created[0]
	if req.DCID != "DC0000000001" || req.Purpose != wire.PurposePFM || len(req.Permissions) != 3 ||
		req.ValidityDays != DefaultValidityDays || req.DCRedirectURI != "http://127.0.0.1:8447/callback" ||
		req.IDType != wire.IDTypeNRIC || req.IDNumber != "900101-14-5678" {
		t.Errorf("request = %+v", req)
	}

	// Without an ID number nothing about the customer is sent.
	do(t, h, http.MethodPost, "/connect", url.Values{"bank": {"sandbox"}, "id_type": {"nric"}}, nil)
	if r := fs.created[1]; r.IDType != "" || r.IDNumber != "" {
		t.Errorf("request without ID = %+v", r)
	}

	refusals := []struct {
		name   string
		form   url.Values
		hdr    map[string]string
		status int
	}{
		{"unknown bank", url.Values{"bank": {"x"}}, nil, http.StatusBadRequest},
		{"bad id type", url.Values{"bank": {"sandbox"}, "id_type": {"licence"}, "id_number": {"1"}}, nil, http.StatusBadRequest},
		{"cross-site form", url.Values{"bank": {"sandbox"}}, map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
	}
	for _, tt := range refusals {
		if w := do(t, h, http.MethodPost, "/connect", tt.form, tt.hdr); w.Code != tt.status {
			t.Errorf("%s: %d, want %d", tt.name, w.Code, tt.status)
		}
	}
	if len(fs.created) != 2 {
		t.Errorf("refused forms created consents: %d", len(fs.created))
	}

	fs.createErr = errors.New("down")
	if w := do(t, h, http.MethodPost, "/connect", url.Values{"bank": {"sandbox"}}, nil); w.Code != http.StatusBadGateway ||
		!strings.Contains(w.Body.String(), "could not reach your bank") {
		t.Errorf("sim down: %d", w.Code)
	}
}

func sealedData(t *testing.T, v any) *sim.DataResponse {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return &sim.DataResponse{HTTPStatus: 200, Data: b, Error: json.RawMessage("null")}
}

func authorizedView() *sim.ConsentView {
	return &sim.ConsentView{
		Consent: sim.Consent{ConsentID: "c-1", Status: wire.StatusAuthorized},
		UpdatesReceived: []sim.UpdateRecord{
			{Status: "rejected", Accepted: false},
			{Status: "authorized", Accepted: true, Accounts: []sim.Account{
				{AccountID: "acc-a", AccountNumber: "1234567890", AccountName: "Savings"},
				{AccountID: "acc-b", AccountNumber: "5432109876543210", AccountName: "Visa Platinum"},
			}},
		},
	}
}

func TestCallbackLinked(t *testing.T) {
	fs := &fakeSim{
		view: authorizedView(),
		balances: map[string]*sim.DataResponse{
			"acc-a": sealedData(t, map[string]any{"data": map[string]any{"account_id": "acc-a",
				"current_balance": map[string]any{"amount": map[string]any{"amount": "1234567.80", "currency": "MYR"}, "credit_debit_indicator": "credit"}}}),
			"acc-b": {HTTPStatus: 403, Data: json.RawMessage("null"), Error: json.RawMessage(`{"error":"Consent.AccountTemporarilyBlocked","error_description":"x"}`)},
		},
		txs: map[string]*sim.DataResponse{
			"acc-a": sealedData(t, map[string]any{"data": []any{
				map[string]any{"transaction_date": "2026-05-19T10:00:00+08:00", "description": "Salary", "credit_debit_indicator": "credit",
					"amount": map[string]any{"amount": "5000.00", "currency": "MYR"}},
				map[string]any{"transaction_date": "2026-05-18T09:00:00+08:00", "description": "POS", "merchant_name": "Kedai <Kopi>",
					"credit_debit_indicator": "debit", "amount": map[string]any{"amount": "12.50", "currency": "MYR"}},
			}, "meta": map[string]any{"next_page_params": nil}}),
			"acc-b": sealedData(t, map[string]any{"data": []any{}, "meta": map[string]any{}}),
		},
	}
	h := newApp(t, fs)
	w := do(t, h, http.MethodGet, "/callback?consent_id=c-1&status=authorized", nil, nil)
	body := w.Body.String()
	if w.Code != 200 || !strings.Contains(body, `id="accounts"`) || strings.Contains(body, `id="not-linked"`) {
		t.Fatalf("callback = %d\n%s", w.Code, body)
	}
	if n := count(body, `class="balance"`); n != 1 {
		t.Errorf("%d balances shown, want 1", n)
	}
	if n := count(body, `class="transaction"`); n != 2 {
		t.Errorf("%d transactions shown, want 2", n)
	}
	for _, s := range []string{"MYR 1,234,567.80", `class="amount credit">&#43;MYR 5,000.00`, "−MYR 12.50", "Kedai &lt;Kopi&gt;", "19 May 2026",
		"•••• 7890", "•••• 3210", "Balance unavailable: Consent.AccountTemporarilyBlocked", "No recent transactions."} {
		if !strings.Contains(body, s) {
			t.Errorf("page lacks %q", s)
		}
	}
	for _, s := range []string{"1234567890", "5432109876543210"} {
		if strings.Contains(body, s) {
			t.Errorf("page shows the full account number %s", s)
		}
	}
	for _, q := range fs.txQueries {
		if q.PageSize != TransactionsPageSize {
			t.Errorf("transactions page_size = %d", q.PageSize)
		}
	}
}

func TestCallbackNotLinked(t *testing.T) {
	awaiting := authorizedView()
	awaiting.Status = wire.StatusAwaitingAuthorization
	awaiting.UpdatesReceived = nil
	tests := []struct {
		name, query string
		view        *sim.ConsentView
		viewErr     error
		reason      string
	}{
		{"rejected", "consent_id=c-1&error=access_denied&error_description=Customer+declined", authorizedView(), nil,
			"You cancelled, or your bank could not confirm it was you. (Customer declined)"},
		{"server error", "consent_id=c-1&error=server_error", authorizedView(), nil, "Something went wrong"},
		{"no consent id", "status=authorized", authorizedView(), nil, "did not say which request"},
		{"status claims success but PayNet disagrees", "consent_id=c-1&status=authorized", awaiting, nil, "awaiting_authorization"},
		{"no status", "consent_id=c-1", authorizedView(), nil, "did not confirm"},
		{"simulator down", "consent_id=c-1&status=authorized", nil, errors.New("down"), "could not confirm"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newApp(t, &fakeSim{view: tt.view, viewErr: tt.viewErr})
			w := do(t, h, http.MethodGet, "/callback?"+tt.query, nil, nil)
			body := w.Body.String()
			if w.Code != 200 || !strings.Contains(body, `id="not-linked"`) || strings.Contains(body, `id="accounts"`) {
				t.Fatalf("%d\n%s", w.Code, body)
			}
			if !strings.Contains(body, "Account not linked") || !strings.Contains(body, tt.reason) {
				t.Errorf("reason %q missing:\n%s", tt.reason, body)
			}
		})
	}
}

func TestFormatMoney(t *testing.T) {
	for in, want := range map[string]string{
		"0.00": "MYR 0.00", "12.50": "MYR 12.50", "999.99": "MYR 999.99", "1000.00": "MYR 1,000.00",
		"1234567.80": "MYR 1,234,567.80", "-25000.75": "MYR -25,000.75",
	} {
		if got := formatMoney(amount{Amount: in, Currency: "MYR"}); got != want {
			t.Errorf("formatMoney(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestNewValidates(t *testing.T) {
	for name, o := range map[string]Options{
		"no sim":       {PublicURL: "http://127.0.0.1:1"},
		"relative url": {Sim: &fakeSim{}, PublicURL: "/kira"},
		"bad bank id":  {Sim: &fakeSim{}, PublicURL: "http://x", Banks: []Bank{{ID: "a b", Name: "A"}}},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
}

func TestServe(t *testing.T) {
	h := newApp(t, &fakeSim{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Serve(ctx, ln) }()
	resp, err := http.Get("http://" + ln.Addr().String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("GET / = %d", resp.StatusCode)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
}

// The simulator's Go client is what the sandbox passes as Options.Sim.
var _ SimClient = (*sim.Client)(nil)

// TestConnectBindsTheChosenCustomer: with demo customers configured the review page offers them
// (the first preselected, no ID number on the page), and the consent carries the chosen
// customer's id, or a typed one for "someone else" (spec §5.1; design.md §3.11).
func TestConnectBindsTheChosenCustomer(t *testing.T) {
	fs := &fakeSim{}
	h, err := New(Options{Sim: fs, PublicURL: "http://127.0.0.1:8447", DCID: "DC0000000001", Customers: []Customer{
		{Username: "aisyah", Name: "NUR AISYAH", IDType: wire.IDTypeNRIC, IDNumber: "900101-14-5678"},
		{Username: "john", Name: "JOHN SMITH", IDType: wire.IDTypePassport, IDNumber: "A12345678"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	page := do(t, h, http.MethodGet, "/review?bank=sandbox", nil, nil).Body.String()
	if !strings.Contains(page, `<option value="aisyah" selected>`) || !strings.Contains(page, `<option value="john">`) ||
		!strings.Contains(page, `<option value="other">`) || strings.Contains(page, "900101") || strings.Contains(page, "A12345678") {
		t.Fatalf("review page customer select:\n%s", page)
	}
	for _, tc := range []struct {
		form     url.Values
		status   int
		idType   wire.IDType
		idNumber string
	}{
		{url.Values{"bank": {"sandbox"}, "customer": {"john"}}, http.StatusSeeOther, wire.IDTypePassport, "A12345678"},
		{url.Values{"bank": {"sandbox"}, "customer": {"aisyah"}, "id_number": {"1"}}, http.StatusSeeOther, wire.IDTypeNRIC, "900101-14-5678"},
		{url.Values{"bank": {"sandbox"}, "customer": {"other"}, "id_type": {"nric"}, "id_number": {"850615-10-5123"}}, http.StatusSeeOther, wire.IDTypeNRIC, "850615-10-5123"},
		{url.Values{"bank": {"sandbox"}, "customer": {"other"}, "id_type": {"nric"}}, http.StatusBadRequest, "", ""},
		{url.Values{"bank": {"sandbox"}, "customer": {"mallory"}}, http.StatusBadRequest, "", ""},
		{url.Values{"bank": {"sandbox"}}, http.StatusBadRequest, "", ""},
	} {
		n := len(fs.created)
		w := do(t, h, http.MethodPost, "/connect", tc.form, nil)
		if w.Code != tc.status {
			t.Fatalf("%v: %d, want %d", tc.form, w.Code, tc.status)
		}
		if tc.status != http.StatusSeeOther {
			if len(fs.created) != n {
				t.Fatalf("%v: a refused form created a consent", tc.form)
			}
			continue
		}
		if r := fs.created[n]; r.IDType != tc.idType || r.IDNumber != tc.idNumber {
			t.Errorf("%v: consent for %s %q", tc.form, r.IDType, r.IDNumber)
		}
	}
	if _, err := New(Options{Sim: fs, PublicURL: "http://x", Customers: []Customer{{Username: "a", Name: "A", IDType: "licence", IDNumber: "1"}}}); err == nil {
		t.Error("a customer with id_type licence was accepted")
	}
}
