package connectortest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ofpdp/ofpdp/connector"
	"github.com/ofpdp/ofpdp/internal/bank/demo"
	"github.com/ofpdp/ofpdp/internal/bank/httpbank"
	"github.com/ofpdp/ofpdp/internal/connectortest"
)

func demoCustomer(t *testing.T) connectortest.Customer {
	t.Helper()
	b, err := os.ReadFile("testdata/demo-customer.json")
	if err != nil {
		t.Fatal(err)
	}
	c, err := connectortest.ParseCustomer(b)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func run(t *testing.T, h http.Handler, o connectortest.Options) *connectortest.Report {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	o.URL = srv.URL
	if o.Customer.Username == "" {
		o.Customer = demoCustomer(t)
	}
	rep, err := connectortest.Run(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	var table bytes.Buffer
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	t.Logf("connector-test:\n%s", table.String())
	return rep
}

func mockCoreBank(t *testing.T) http.Handler {
	t.Helper()
	bank, err := demo.Embedded(demo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return httpbank.NewHandler(bank, "")
}

// offsetBank pages by offset, a cursor that is not stable under inserts.
type offsetBank struct{ *demo.Connector }

func (o offsetBank) Transactions(ctx context.Context, q connector.TransactionQuery) (connector.TransactionPage, error) {
	off, _ := strconv.Atoi(q.Cursor)
	all, err := o.Connector.Transactions(ctx, connector.TransactionQuery{AccountRef: q.AccountRef, From: q.From, To: q.To, Limit: off + q.Limit})
	if err != nil || off >= len(all.Transactions) {
		return connector.TransactionPage{Transactions: []connector.Transaction{}}, err
	}
	p := connector.TransactionPage{Transactions: all.Transactions[off:], More: all.More}
	if p.More {
		p.NextCursor = strconv.Itoa(off + len(p.Transactions))
	}
	return p, nil
}

// A walk under inserts is checked only when the adapter offers the test-only insert operation
// (test_inserts in its health answer): the mock core bank's keyset cursor passes it, an offset
// cursor, correct without inserts, repeats items when newer ones are booked.
func TestKitWalkUnderInserts(t *testing.T) {
	for _, tc := range []struct {
		name   string
		offset bool
		want   string
	}{{"keyset cursor", false, "pass"}, {"offset cursor", true, "fail"}} {
		t.Run(tc.name, func(t *testing.T) {
			bank, err := demo.Embedded(demo.Options{})
			if err != nil {
				t.Fatal(err)
			}
			var c connector.Connector = bank
			if tc.offset {
				c = offsetBank{bank}
			}
			h := httpbank.NewHandler(c, "")
			h.EnableTestInserts(bank)
			rep := run(t, h, connectortest.Options{})
			for _, r := range rep.Results {
				want := "pass"
				if r.ID == "tx-inserts" {
					want = tc.want
				}
				if r.Status != want {
					t.Errorf("row %s: %s (%s), want %s", r.ID, r.Status, r.Detail, want)
				}
			}
			if !slices.ContainsFunc(rep.Results, func(r connectortest.Result) bool { return r.ID == "tx-inserts" }) {
				t.Error("no tx-inserts row although the adapter offers test inserts")
			}
		})
	}
	// Without test_inserts the row is absent: a production adapter never exposes writes.
	for _, r := range run(t, mockCoreBank(t), connectortest.Options{}).Results {
		if r.ID == "tx-inserts" {
			t.Error("tx-inserts ran against an adapter that does not offer test inserts")
		}
	}
}

// The mock core bank (the demo bank behind the contract) passes every row, and the reports are
// well-formed JSON and JUnit.
func TestKitPassesMockCoreBank(t *testing.T) {
	rep := run(t, mockCoreBank(t), connectortest.Options{})
	if rep.Failed != 0 || rep.Skipped != 0 || rep.Passed < 17 {
		t.Fatalf("passed %d failed %d skipped %d, want all of at least 17 passed", rep.Passed, rep.Failed, rep.Skipped)
	}
	var j bytes.Buffer
	if err := rep.WriteJSON(&j); err != nil {
		t.Fatal(err)
	}
	var back connectortest.Report
	if err := json.Unmarshal(j.Bytes(), &back); err != nil || len(back.Results) != len(rep.Results) {
		t.Errorf("JSON report: %v", err)
	}
	var x bytes.Buffer
	if err := rep.WriteJUnit(&x); err != nil {
		t.Fatal(err)
	}
	var suite struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
	}
	if err := xml.Unmarshal(x.Bytes(), &suite); err != nil || suite.Tests != len(rep.Results) || suite.Failures != 0 {
		t.Errorf("JUnit report: %v %+v", err, suite)
	}
}

// recorder captures the mock's answer so a broken adapter can rewrite it.
type rewrite func(r *http.Request, status int, body []byte) (int, []byte)

func broken(next http.Handler, f rewrite) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		status, body := f(r, rec.Code, rec.Body.Bytes())
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.Header().Del("Content-Length")
		w.WriteHeader(status)
		_, _ = w.Write(body)
	})
}

// hashForm replaces "id_number" in a Customer answer by the hash and masked form of id.
func hashForm(body []byte, id string) []byte {
	i := bytes.Index(body, []byte(`"id_number":"`))
	if i < 0 {
		return body
	}
	end := bytes.IndexByte(body[i+len(`"id_number":"`):], '"') + i + len(`"id_number":"`) + 1
	repl := `"hashed_id_number":"` + connector.HashIDNumber(id) + `","masked_id_number":"` + connector.MaskIDNumber(id) + `"`
	return append(append(append([]byte{}, body[:i]...), repl...), body[end:]...)
}

// Deliberately broken adapters fail exactly the rows that check what they break.
func TestKitFailsBrokenAdapters(t *testing.T) {
	mock := mockCoreBank(t)
	on := func(method, suffix string, f func(status int, body []byte) (int, []byte)) rewrite {
		return func(r *http.Request, status int, body []byte) (int, []byte) {
			if r.Method == method && strings.HasSuffix(r.URL.Path, suffix) {
				return f(status, body)
			}
			return status, body
		}
	}
	cases := []struct {
		name    string
		h       http.Handler
		o       connectortest.Options
		failing []string
	}{
		{"accepts a wrong password", broken(mock, on("POST", "/authenticate", func(status int, body []byte) (int, []byte) {
			if status == http.StatusUnauthorized {
				return 200, []byte(`{"customer_ref":"C1001","name":"X","id_type":"nric","id_number":"900101145678"}`)
			}
			return status, body
		})), connectortest.Options{}, []string{"auth-wrong-password", "auth-unknown-user"}},
		{"hash with masked form instead of the number", broken(mock, func(_ *http.Request, status int, body []byte) (int, []byte) {
			return status, hashForm(body, "900101-14-5678")
		}), connectortest.Options{}, nil},
		{"GET gives another customer's identity", broken(mock, on("GET", "/customers/C1001", func(status int, body []byte) (int, []byte) {
			return status, hashForm(body, "850505-10-1111")
		})), connectortest.Options{}, []string{"customer-identity"}},
		{"both the number and its hash", broken(mock, on("POST", "/authenticate", func(status int, body []byte) (int, []byte) {
			return status, bytes.Replace(body, []byte(`"id_number"`), []byte(`"hashed_id_number":"`+connector.HashIDNumber("900101-14-5678")+`","id_number"`), 1)
		})), connectortest.Options{}, []string{"auth-ok"}},
		{"extra field in an account", broken(mock, on("GET", "/A1008", func(status int, body []byte) (int, []byte) {
			return status, bytes.Replace(body, []byte(`{"account_ref"`), []byte(`{"pin":"1","account_ref"`), 1)
		})), connectortest.Options{}, []string{"account-dormant"}},
		{"500 for an unknown account", broken(mock, on("GET", "", func(status int, body []byte) (int, []byte) {
			if status == http.StatusNotFound {
				return 500, []byte("boom")
			}
			return status, body
		})), connectortest.Options{}, []string{"customer-unknown", "account-unknown"}},
		{"closed reported as blocked", broken(mock, on("GET", "", func(status int, body []byte) (int, []byte) {
			return status, bytes.ReplaceAll(body, []byte(`"account_closed"`), []byte(`"account_blocked"`))
		})), connectortest.Options{}, []string{"account-closed"}},
		{"exclusive upper bound", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if q := r.URL.Query(); q.Get("to") != "" {
				to, _ := time.Parse(time.RFC3339Nano, q.Get("to"))
				q.Set("to", to.Add(-time.Nanosecond).Format(time.RFC3339Nano))
				r.URL.RawQuery = q.Encode()
			}
			mock.ServeHTTP(w, r)
		}), connectortest.Options{}, []string{"tx-window"}},
		{"repeats the cursor item", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// The mock core bank's cursor is "unixnano~id": one nanosecond later, the next page
			// starts with the last item of the previous one.
			if q := r.URL.Query(); q.Get("cursor") != "" {
				n, id, _ := strings.Cut(q.Get("cursor"), "~")
				ns, _ := strconv.ParseInt(n, 10, 64)
				q.Set("cursor", strconv.FormatInt(ns+1, 10)+"~"+id)
				r.URL.RawQuery = q.Encode()
			}
			mock.ServeHTTP(w, r)
		}), connectortest.Options{}, []string{"tx-walk", "tx-repeatable"}},
		{"plain-text error bodies", broken(mock, func(_ *http.Request, status int, body []byte) (int, []byte) {
			if status == 400 {
				return status, []byte("bad")
			}
			return status, body
		}), connectortest.Options{}, []string{"bad-request"}},
		{"slow balance", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/balance") {
				time.Sleep(300 * time.Millisecond)
			}
			mock.ServeHTTP(w, r)
		}), connectortest.Options{Deadline: 200 * time.Millisecond}, []string{"deadline"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rep := run(t, tc.h, tc.o)
			for _, r := range rep.Results {
				want := "pass"
				for _, id := range tc.failing {
					if r.ID == id {
						want = "fail"
					}
				}
				if r.Status != want {
					t.Errorf("row %s: %s (%s), want %s", r.ID, r.Status, r.Detail, want)
				}
			}
		})
	}
}

func TestParseCustomer(t *testing.T) {
	for _, bad := range []string{`{}`, `{"username":"u","password":"p"}`,
		`{"username":"u","password":"p","accounts":{"active":"A","frozen":"B"}}`,
		`{"username":"u","password":"p","accounts":{"active":"A"},"from":"1 May"}`,
		`{"username":"u","password":"p","accounts":{"active":"A"},"pin":"1"}`} {
		if _, err := connectortest.ParseCustomer([]byte(bad)); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}
