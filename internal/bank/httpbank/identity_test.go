package httpbank_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ofpdp/ofpdp/connector"
	"github.com/ofpdp/ofpdp/internal/bank/demo"
	"github.com/ofpdp/ofpdp/internal/bank/httpbank"
	"github.com/ofpdp/ofpdp/internal/connectortest"
)

// oneCustomer is a connector whose only customer is c.
type oneCustomer struct {
	connector.Connector
	c connector.Customer
}

func (o oneCustomer) Customer(context.Context, string) (connector.Customer, error) { return o.c, nil }

// TestCustomerIdentityForms: an adapter gives the raw id_number, or hashed_id_number with
// masked_id_number (spec §5.8), never both forms, never a hash without its masked form and never
// a "masked" number that shows more than four characters. The document (kin-openapi) and the
// client agree on every case, and Identity gives the PATCH's user_identity values.
func TestCustomerIdentityForms(t *testing.T) {
	hash := connector.HashIDNumber("900101-14-5678")
	base := connector.Customer{Ref: "C1", Name: "N", IDType: "nric"}
	with := func(id, hashed, masked string) connector.Customer {
		c := base
		c.IDNumber, c.HashedIDNumber, c.MaskedIDNumber = id, hashed, masked
		return c
	}
	cases := []struct {
		name       string
		c          connector.Customer
		ok         bool
		wantHashed string
		wantMasked string
	}{
		{"raw id number", with("900101-14-5678", "", ""), true, hash, "********5678"},
		{"hash with masked form", with("", hash, "********5678"), true, hash, "********5678"},
		{"hash with a fully starred mask", with("", hash, "************"), true, hash, "************"},
		{"both forms", with("900101-14-5678", hash, "********5678"), false, "", ""},
		{"raw with masked only", with("900101-14-5678", "", "********5678"), false, "", ""},
		{"hash without masked form", with("", hash, ""), false, "", ""},
		{"masked form without hash", with("", "", "********5678"), false, "", ""},
		{"neither", with("", "", ""), false, "", ""},
		{"masked form shows the whole number", with("", hash, "900101145678"), false, "", ""},
		{"masked form shows five characters", with("", hash, "*******45678"), false, "", ""},
		{"hash not a SHA-256", with("", "c2hvcnQ=", "********5678"), false, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(httpbank.NewHandler(oneCustomer{c: tc.c}, ""))
			defer srv.Close()
			contract, err := connectortest.LoadContract(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			vt := &connectortest.Transport{Contract: contract}
			c, err := httpbank.New(httpbank.Options{BaseURL: srv.URL,
				WrapTransport: func(next http.RoundTripper) http.RoundTripper { vt.Next = next; return vt }})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			got, err := c.Customer(t.Context(), "C1")
			ex := vt.Take()
			if len(ex) == 0 {
				t.Fatal("no exchange recorded")
			}
			if docOK := ex[0].ResponseErr == nil; docOK != tc.ok {
				t.Errorf("the document says valid=%v (%v), want %v", docOK, ex[0].ResponseErr, tc.ok)
			}
			if !tc.ok {
				if !errors.Is(err, connector.ErrUnavailable) {
					t.Errorf("client: %v, want ErrUnavailable", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("client: %v", err)
			}
			if h, m := got.Identity(); h != tc.wantHashed || m != tc.wantMasked {
				t.Errorf("Identity() = %q, %q; want %q, %q", h, m, tc.wantHashed, tc.wantMasked)
			}
		})
	}
}

// The test-only insert operation answers only when enabled, refuses a body outside the contract
// and an unknown account, and books a good transaction where a walk finds it.
func TestHandlerTestInserts(t *testing.T) {
	bank, err := demo.Embedded(demo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	good := `{"id":"INS-1","date":"2026-10-31T23:00:00+08:00","credit_debit":"credit","amount":{"amount":"1.00","currency":"MYR"},` +
		`"transfer_method":"funds_transfer","transfer_submethod":"duitnow_transfer","description":"x","settled":true}`
	post := func(h http.Handler, ref, body string) int {
		req := httptest.NewRequest(http.MethodPost, "/v1/test/accounts/"+ref+"/transactions", strings.NewReader(body))
		req.Header.Set(httpbank.HeaderInteractionID, "4f8a3c1e-2b7d-4e9a-8c6f-1a2b3c4d5e6f")
		req.Header.Set(httpbank.HeaderTraceParent, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
		req.Header.Set(httpbank.HeaderDeadline, "1000")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	if code := post(httpbank.NewHandler(bank, ""), "A1001", good); code != http.StatusNotFound {
		t.Errorf("not enabled: %d, want 404", code)
	}
	h := httpbank.NewHandler(bank, "")
	h.EnableTestInserts(bank)
	for _, tc := range []struct {
		name, ref, body string
		want            int
	}{
		{"unknown field", "A1001", strings.Replace(good, `"id"`, `"pin":"1","id"`, 1), http.StatusBadRequest},
		{"amount as a number", "A1001", strings.Replace(good, `"1.00"`, `1`, 1), http.StatusBadRequest},
		{"not JSON", "A1001", `{`, http.StatusBadRequest},
		{"unknown account", "NOPE", good, http.StatusNotFound},
		{"good", "A1001", good, http.StatusNoContent},
		{"the same id again", "A1001", good, http.StatusServiceUnavailable},
	} {
		if code := post(h, tc.ref, tc.body); code != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, code, tc.want)
		}
	}
	at := time.Date(2026, 10, 31, 23, 0, 0, 0, time.FixedZone("MYT", 8*3600))
	p, err := bank.Transactions(t.Context(), connector.TransactionQuery{AccountRef: "A1001", From: at, To: at, Limit: 5})
	if err != nil || len(p.Transactions) != 1 || p.Transactions[0].ID != "INS-1" {
		t.Errorf("the booked transaction is not found at its time: %d, %v", len(p.Transactions), err)
	}
}
