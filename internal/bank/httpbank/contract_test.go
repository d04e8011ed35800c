package httpbank_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ofpdp/ofpdp/connector"
	"github.com/ofpdp/ofpdp/internal/bank/demo"
	"github.com/ofpdp/ofpdp/internal/bank/httpbank"
	"github.com/ofpdp/ofpdp/internal/connectortest"
)

// TestContractDrift walks the whole demo bank through Client → Handler with every request and
// answer validated against docs/connector-openapi.yaml by kin-openapi, and checks that what comes
// out of the client is what the in-process connector says. The document and the code drift apart
// the moment a field, a path, a code or a header changes on one side only.
func TestContractDrift(t *testing.T) {
	bank, err := demo.Embedded(demo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := httpbank.NewHandler(bank, "s3cret")
	h.EnableTestInserts(bank)
	srv := httptest.NewServer(h)
	defer srv.Close()
	contract, err := connectortest.LoadContract(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	vt := &connectortest.Transport{Contract: contract}
	c, err := httpbank.New(httpbank.Options{BaseURL: srv.URL, BearerToken: "s3cret",
		WrapTransport: func(next http.RoundTripper) http.RoundTripper { vt.Next = next; return vt }})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()

	same := func(what string, got, want any) {
		t.Helper()
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		if string(g) != string(w) {
			t.Errorf("%s over HTTP differs from in-process:\n got %s\nwant %s", what, g, w)
		}
	}
	for _, l := range demo.Logins() {
		got, err := c.Authenticate(ctx, l.Username, l.Password)
		want, _ := bank.Authenticate(ctx, l.Username, l.Password)
		if err != nil {
			t.Fatalf("authenticate %s: %v", l.Username, err)
		}
		same("customer", got, want)
		if _, err := c.Authenticate(ctx, l.Username, "wrong"); !errors.Is(err, connector.ErrInvalidCredentials) {
			t.Errorf("wrong password: %v, want ErrInvalidCredentials", err)
		}
		gc, err := c.Customer(ctx, want.Ref)
		if err != nil {
			t.Fatal(err)
		}
		same("customer", gc, want)
		accts, err := c.Accounts(ctx, want.Ref)
		if err != nil {
			t.Fatal(err)
		}
		wantAccts, _ := bank.Accounts(ctx, want.Ref)
		same("accounts", accts, wantAccts)
		for _, a := range accts {
			ga, err := c.Account(ctx, a.Ref)
			if err != nil {
				t.Fatal(err)
			}
			same("account", ga, a)
			gb, gerr := c.Balance(ctx, a.Ref)
			wb, werr := bank.Balance(ctx, a.Ref)
			same("balance", gb, wb)
			if (gerr == nil) != (werr == nil) || werr != nil && !sameSentinel(gerr, werr) {
				t.Errorf("balance %s: %v over HTTP, %v in process", a.Ref, gerr, werr)
			}
			q := connector.TransactionQuery{AccountRef: a.Ref, From: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
				To: time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC), Limit: 500}
			for pages := 0; pages < 20; pages++ {
				gp, gerr := c.Transactions(ctx, q)
				wp, werr := bank.Transactions(ctx, q)
				if (gerr == nil) != (werr == nil) || werr != nil && !sameSentinel(gerr, werr) {
					t.Fatalf("transactions %s: %v over HTTP, %v in process", a.Ref, gerr, werr)
				}
				same("transactions", gp, wp)
				if !gp.More {
					break
				}
				q.Cursor = gp.NextCursor
			}
		}
	}
	if _, err := c.Account(ctx, "NOPE"); !errors.Is(err, connector.ErrNotFound) {
		t.Errorf("unknown account: %v, want ErrNotFound", err)
	}
	if err := c.Ready(ctx); err != nil {
		t.Errorf("health: %v", err)
	}
	exerciseSecondFactor(ctx, t, c, bank)
	// The test-only insert operation, which only connector-test calls.
	{
		body := `{"id":"INS-1","date":"2026-10-31T23:00:00+08:00","credit_debit":"credit","amount":{"amount":"1.00","currency":"MYR"},` +
			`"transfer_method":"funds_transfer","transfer_submethod":"duitnow_transfer","description":"x","settled":true}`
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/v1/test/accounts/A1001/transactions", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer s3cret")
		req.Header.Set(httpbank.HeaderInteractionID, "4f8a3c1e-2b7d-4e9a-8c6f-1a2b3c4d5e6f")
		req.Header.Set(httpbank.HeaderTraceParent, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
		req.Header.Set(httpbank.HeaderDeadline, "1000")
		resp, err := vt.RoundTrip(req)
		if err != nil || resp.StatusCode != http.StatusNoContent {
			t.Fatalf("test insert: %v %v, want 204", err, resp)
		}
		resp.Body.Close()
	}
	seen := map[string]bool{}
	for _, ex := range vt.Take() {
		seen[ex.Operation] = true
		if ex.RequestErr != nil {
			t.Errorf("%s: request outside the document: %v", ex.Operation, ex.RequestErr)
		}
		if ex.ResponseErr != nil {
			t.Errorf("%s: answer (status %d) outside the document: %v", ex.Operation, ex.Status, ex.ResponseErr)
		}
	}
	for _, op := range contract.Operations() {
		if !seen[op] {
			t.Errorf("operation %s of the document was never exercised", op)
		}
	}
	if !slices.Contains(contract.Operations(), "listTransactions") {
		t.Error("the document lost listTransactions")
	}
}

func sameSentinel(a, b error) bool {
	for _, s := range []error{connector.ErrNotFound, connector.ErrAccountBlocked, connector.ErrAccountClosed,
		connector.ErrUnavailable, connector.ErrInvalidCredentials} {
		if errors.Is(b, s) {
			return errors.Is(a, s)
		}
	}
	return false
}

// exerciseSecondFactor runs the second factor over HTTP (through the validating transport of
// TestContractDrift) and checks it answers as the demo bank does in process.
func exerciseSecondFactor(ctx context.Context, t *testing.T, c *httpbank.Client, bank *demo.Connector) {
	t.Helper()
	ch, err := c.StartChallenge(ctx, connector.ChallengeRequest{CustomerRef: "C1001", Method: connector.MethodOTP, ConsentID: "c-1", DCName: "Duit Planner"})
	if err != nil || ch.Method != connector.MethodOTP || ch.ExpiresAt.IsZero() || ch.Destination == "" {
		t.Fatalf("start OTP: %+v, %v", ch, err)
	}
	_, _, code, ok := bank.SandboxChallenge("C1001")
	if !ok {
		t.Fatal("no open challenge")
	}
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	if err := c.VerifyOTP(ctx, ch.ID, wrong); !errors.Is(err, connector.ErrInvalidOTP) {
		t.Fatalf("wrong code: %v", err)
	}
	if err := c.VerifyOTP(ctx, ch.ID, code); err != nil {
		t.Fatalf("right code: %v", err)
	}
	if err := c.VerifyOTP(ctx, ch.ID, code); !errors.Is(err, connector.ErrChallengeExpired) {
		t.Fatalf("a used code: %v", err)
	}
	if _, err := c.StartChallenge(ctx, connector.ChallengeRequest{CustomerRef: "NOBODY", Method: connector.MethodOTP}); !errors.Is(err, connector.ErrNotFound) {
		t.Fatalf("unknown customer: %v", err)
	}

	app, err := c.StartChallenge(ctx, connector.ChallengeRequest{CustomerRef: "C1002", Method: connector.MethodApp})
	if err != nil {
		t.Fatal(err)
	}
	if st, err := c.ChallengeStatus(ctx, app.ID); st != connector.ChallengePending || err != nil {
		t.Fatalf("pending: %s, %v", st, err)
	}
	bank.SandboxDecide(app.ID, true)
	if st, err := c.ChallengeStatus(ctx, app.ID); st != connector.ChallengeApproved || err != nil {
		t.Fatalf("approved: %s, %v", st, err)
	}
	if _, err := c.ChallengeStatus(ctx, "unknown"); !errors.Is(err, connector.ErrChallengeExpired) {
		t.Fatalf("unknown challenge: %v", err)
	}
}

// TestHandlerWithoutSecondFactor: a connector without a second factor does not serve its paths.
func TestHandlerWithoutSecondFactor(t *testing.T) {
	srv := httptest.NewServer(httpbank.NewHandler(plainConnector{}, ""))
	defer srv.Close()
	c, err := httpbank.New(httpbank.Options{BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.StartChallenge(t.Context(), connector.ChallengeRequest{CustomerRef: "C1001", Method: connector.MethodOTP})
	if !errors.Is(err, connector.ErrUnavailable) {
		t.Fatalf("second factor of a bank without one: %v", err)
	}
}

// plainConnector is a connector without a second factor.
type plainConnector struct{ connector.Connector }
