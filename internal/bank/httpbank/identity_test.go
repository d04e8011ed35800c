package httpbank_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/ofpdp/ofpdp/connector"
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
