package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ofpdp/ofpdp/connector"
)

func readMinimal(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "minimal.json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestLoadFile(t *testing.T) {
	c, err := LoadFile(filepath.Join("testdata", "minimal.json"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.Authenticate(ctx, "siti", "Demo@1234"); err != nil {
		t.Errorf("Authenticate: %v", err)
	}
	// The hire purchase began inside the window: disbursed, then paid by instalments on the
	// 20th from the savings account.
	txs := history(t, c, "L1")
	if len(txs) != 2 || txs[len(txs)-1].Description != "HIRE PURCHASE DISBURSEMENT" || txs[0].Date.Day() != 20 {
		t.Errorf("hire purchase history: %v", ids(txs))
	}
	b, err := c.Balance(ctx, "L1")
	if err != nil {
		t.Fatal(err)
	}
	// 30,000 at 3.1% flat for 5 years: 34,650 payable, 577.50 a month.
	if b.Current.Minor != 3465000-57750 || b.CurrentIndicator != debit {
		t.Errorf("hire purchase outstanding %s %s, want 34072.50 debit", formatAmount(b.Current.Minor), b.CurrentIndicator)
	}
	savings := history(t, c, "S1")
	if savings[0].Date.After(time.Date(2026, 11, 1, 0, 0, 0, 0, myt)) || savings[len(savings)-1].Date.Before(time.Date(2026, 8, 1, 0, 0, 0, 0, myt)) {
		t.Errorf("3 months before 2026-11-01: %v..%v", savings[len(savings)-1].Date, savings[0].Date)
	}

	if _, err := LoadFile(filepath.Join("testdata", "no-such-file.json"), Options{}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// fieldErrors flattens the FieldErrors in an error tree.
func fieldErrors(err error) []*FieldError {
	var out []*FieldError
	var fe *FieldError
	switch {
	case errors.As(err, &fe) && !isJoin(err):
		out = append(out, fe)
	case isJoin(err):
		for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
			out = append(out, fieldErrors(e)...)
		}
	}
	return out
}

func isJoin(err error) bool {
	_, ok := err.(interface{ Unwrap() []error })
	_, fe := err.(*FieldError)
	return ok && !fe
}

func TestLoadRejectsInvalidFiles(t *testing.T) {
	base := readMinimal(t)
	type obj = map[string]any
	customer := func(m obj) obj { return m["customers"].([]any)[0].(obj) }
	account := func(m obj, i int) obj { return m["accounts"].([]any)[i].(obj) }
	gen := func(m obj, i int) obj { return account(m, i)["transactions"].(obj) }
	for _, tc := range []struct {
		name   string
		mutate func(obj)
		raw    string // instead of mutate: the whole file
		field  string // the FieldError's Field
		want   string // in its message
	}{
		{name: "not JSON", raw: "customers: []", want: "invalid JSON"},
		{name: "empty", raw: "", want: "invalid JSON"},
		{name: "trailing data", raw: string(base) + "{}", want: "trailing data"},
		{name: "unknown field", mutate: func(m obj) { account(m, 0)["colour"] = "red" }, want: `unknown field "colour"`},
		{name: "wrong JSON type", mutate: func(m obj) { gen(m, 0)["months"] = "12" }, field: "accounts.transactions.months", want: "expected int, got a JSON string"},
		{name: "negative seed", mutate: func(m obj) { gen(m, 0)["seed"] = -1 }, field: "accounts.transactions.seed", want: "expected uint64, got a JSON number -1"},
		{name: "version", mutate: func(m obj) { m["version"] = 2 }, field: "version", want: "must be 1"},
		{name: "no anchor", mutate: func(m obj) { delete(m, "anchor_date") }, field: "anchor_date", want: "is required"},
		{name: "bad anchor", mutate: func(m obj) { m["anchor_date"] = "2026-13-01" }, field: "anchor_date", want: "YYYY-MM-DD"},
		{name: "no customers", mutate: func(m obj) { m["customers"] = []any{} }, field: "customers", want: "at least one"},
		{name: "bad customer ref", mutate: func(m obj) { customer(m)["ref"] = "C 1" }, field: "customers[0].ref", want: "letters, digits"},
		{name: "upper-case username", mutate: func(m obj) { customer(m)["username"] = "Siti" }, field: "customers[0].username", want: "lower-case"},
		{name: "plaintext password", mutate: func(m obj) { customer(m)["password_hash"] = "Demo@1234" }, field: "customers[0].password_hash", want: "must be a bcrypt hash"},
		{name: "weak bcrypt", mutate: func(m obj) {
			customer(m)["password_hash"] = "$2a$04$rqv08hh7fu9jRUFK2uuzMeYE17EO4MdD1JGLxP9RxFQCG8oGvJAiC"
		}, field: "customers[0].password_hash", want: "bcrypt cost 4 is outside 10..15"},
		{name: "no name", mutate: func(m obj) { customer(m)["name"] = " " }, field: "customers[0].name", want: "is required"},
		{name: "id type", mutate: func(m obj) { customer(m)["id_type"] = "mykad" }, field: "customers[0].id_type", want: `"mykad" is not one of nric, passport`},
		{name: "bad NRIC", mutate: func(m obj) { customer(m)["id_number"] = "92020210123" }, field: "customers[0].id_number", want: "must be an NRIC"},
		{name: "bad passport", mutate: func(m obj) { customer(m)["id_type"] = "passport"; customer(m)["id_number"] = "a1" }, field: "customers[0].id_number", want: "passport number"},
		{name: "bad mobile", mutate: func(m obj) { customer(m)["mobile"] = "0123456789" }, field: "customers[0].mobile", want: "E.164"},
		{name: "bad email", mutate: func(m obj) { customer(m)["email"] = "Siti <siti@example.com>" }, field: "customers[0].email", want: "plain e-mail"},
		{name: "duplicate account ref", mutate: func(m obj) { account(m, 1)["ref"] = "S1" }, field: "accounts[1].ref", want: "used by another account"},
		{name: "unknown customer", mutate: func(m obj) { account(m, 0)["customer_ref"] = "C9" }, field: "accounts[0].customer_ref", want: `"C9" names no customer`},
		{name: "duplicate number", mutate: func(m obj) { account(m, 2)["number"] = "112233445566" }, field: "accounts[2].number", want: "also the number of accounts[0]"},
		{name: "short card number", mutate: func(m obj) { account(m, 1)["number"] = "411111111111" }, field: "accounts[1].number", want: "13-19 digits"},
		{name: "type", mutate: func(m obj) { account(m, 0)["type"] = "investment" }, field: "accounts[0].type", want: "not one of deposit, credit, loan"},
		{name: "subtype of type", mutate: func(m obj) { account(m, 0)["subtype"] = "credit_card" }, field: "accounts[0].subtype", want: "not one of savings, current"},
		{name: "holder type", mutate: func(m obj) { account(m, 0)["holder_type"] = "sme" }, field: "accounts[0].holder_type", want: "individual, joint"},
		{name: "category", mutate: func(m obj) { account(m, 0)["category"] = "sme" }, field: "accounts[0].category", want: "retail, corporate"},
		{name: "status", mutate: func(m obj) { account(m, 0)["status"] = "frozen" }, field: "accounts[0].status", want: "active, dormant, blocked, closed"},
		{name: "currency", mutate: func(m obj) { account(m, 0)["currency"] = "myr" }, field: "accounts[0].currency", want: "ISO 4217"},
		{name: "amount without decimals", mutate: func(m obj) { account(m, 1)["limit"] = "5000" }, field: "accounts[1].limit", want: "two decimals"},
		{name: "negative amount", mutate: func(m obj) { gen(m, 0)["opening_balance"] = "-1.00" }, field: "accounts[0].transactions.opening_balance", want: "two decimals"},
		{name: "card without limit", mutate: func(m obj) { delete(account(m, 1), "limit") }, field: "accounts[1].limit", want: "required for a credit account"},
		{name: "loan without rate", mutate: func(m obj) { delete(account(m, 2), "interest_rate") }, field: "accounts[2].interest_rate", want: "required for a loan account"},
		{name: "rate out of range", mutate: func(m obj) { account(m, 1)["interest_rate"] = 150 }, field: "accounts[1].interest_rate", want: "percentage"},
		{name: "loan without details", mutate: func(m obj) { delete(account(m, 2), "loan") }, field: "accounts[2].loan", want: "required for a loan account"},
		{name: "loan details on savings", mutate: func(m obj) { account(m, 0)["loan"] = account(m, 2)["loan"] }, field: "accounts[0].loan", want: "only for loan accounts"},
		{name: "maturity before origination", mutate: func(m obj) { account(m, 2)["loan"].(obj)["maturity_date"] = "2026-01-01" }, field: "accounts[2].loan.maturity_date", want: "after origination_date"},
		{name: "zero loan", mutate: func(m obj) { account(m, 2)["loan"].(obj)["loan_amount"] = "0.00" }, field: "accounts[2].loan.loan_amount", want: "more than zero"},
		{name: "bad due date", mutate: func(m obj) { account(m, 1)["payment_due_date"] = "15/11/2026" }, field: "accounts[1].payment_due_date", want: "YYYY-MM-DD"},
		{name: "unknown profile", mutate: func(m obj) { gen(m, 0)["profile"] = "student" }, field: "accounts[0].transactions.profile", want: `"student" is not one of salary_earner`},
		{name: "profile for another type", mutate: func(m obj) { gen(m, 0)["profile"] = "mortgage" }, field: "accounts[0].transactions.profile", want: "for loan accounts, not deposit"},
		{name: "profile for another subtype", mutate: func(m obj) { gen(m, 2)["profile"] = "mortgage" }, field: "accounts[2].transactions.profile", want: "for mortgage accounts, not hire_purchase"},
		{name: "MYR profile on USD", mutate: func(m obj) { account(m, 0)["currency"] = "USD" }, field: "accounts[0].transactions.profile", want: "use foreign_currency"},
		{name: "foreign profile on MYR", mutate: func(m obj) { gen(m, 0)["profile"] = "foreign_currency" }, field: "accounts[0].transactions.profile", want: "foreign-currency accounts"},
		{name: "no months", mutate: func(m obj) { delete(gen(m, 0), "months") }, field: "accounts[0].transactions.months", want: "0 must be 1..36"},
		{name: "too many months", mutate: func(m obj) { gen(m, 0)["months"] = 37 }, field: "accounts[0].transactions.months", want: "37 must be 1..36"},
		{name: "no opening balance", mutate: func(m obj) { delete(gen(m, 0), "opening_balance") }, field: "accounts[0].transactions.opening_balance", want: "required for a deposit account"},
		{name: "no statement day", mutate: func(m obj) { delete(gen(m, 1), "statement_day") }, field: "accounts[1].transactions.statement_day", want: "1..28"},
		{name: "statement day on savings", mutate: func(m obj) { gen(m, 0)["statement_day"] = 5 }, field: "accounts[0].transactions.statement_day", want: "only for the credit_card profile"},
		{name: "generator anchor", mutate: func(m obj) { gen(m, 0)["anchor_date"] = "yesterday" }, field: "accounts[0].transactions.anchor_date", want: "YYYY-MM-DD"},
		{name: "pays_from unknown", mutate: func(m obj) { gen(m, 1)["pays_from"] = "S9" }, field: "accounts[1].transactions.pays_from", want: `"S9" names no account`},
		{name: "pays_from a loan", mutate: func(m obj) { gen(m, 1)["pays_from"] = "L1" }, field: "accounts[1].transactions.pays_from", want: "payments come from a deposit account"},
		{name: "pays_from itself", mutate: func(m obj) { gen(m, 1)["pays_from"] = "K1" }, field: "accounts[1].transactions.pays_from", want: "cannot pay itself"},
		{name: "pays_from on a deposit", mutate: func(m obj) { gen(m, 0)["pays_from"] = "S1" }, field: "accounts[0].transactions.pays_from", want: "only for credit_card"},
		{name: "pays_from another window", mutate: func(m obj) { gen(m, 1)["months"] = 4 }, field: "accounts[1].transactions.pays_from", want: "same months and anchor_date"},
		{name: "pays_from without generator", mutate: func(m obj) { delete(account(m, 0), "transactions") }, field: "accounts[1].transactions.pays_from", want: "no transactions generator"},
		{name: "pays_from another customer", mutate: func(m obj) {
			c2 := obj{}
			for k, v := range customer(m) {
				c2[k] = v
			}
			c2["ref"], c2["username"], c2["id_number"] = "C2", "other", "930303-10-1234"
			m["customers"] = append(m["customers"].([]any), c2)
			account(m, 0)["customer_ref"] = "C2"
		}, field: "accounts[1].transactions.pays_from", want: "belongs to another customer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := []byte(tc.raw)
			if tc.mutate != nil {
				var m obj
				if err := json.Unmarshal(base, &m); err != nil {
					t.Fatal(err)
				}
				tc.mutate(m)
				var err error
				if data, err = json.Marshal(m); err != nil {
					t.Fatal(err)
				}
			}
			c, err := Load(bytes.NewReader(data), Options{})
			if err == nil || c != nil {
				t.Fatalf("Load accepted the file")
			}
			if !errors.Is(err, ErrInvalidFile) {
				t.Errorf("error does not wrap ErrInvalidFile: %v", err)
			}
			var found bool
			for _, fe := range fieldErrors(err) {
				if fe.Field == tc.field && strings.Contains(fe.Error(), tc.want) {
					found = true
				}
			}
			if !found {
				t.Errorf("error %q\nhas no problem at %q containing %q", err, tc.field, tc.want)
			}
			if strings.Contains(err.Error(), "920202") {
				t.Errorf("the error echoes the ID number: %v", err)
			}
		})
	}
}

// TestLoadReportsEveryProblem: a file with several mistakes lists them all, capped.
func TestLoadReportsEveryProblem(t *testing.T) {
	var m map[string]any
	if err := json.Unmarshal(readMinimal(t), &m); err != nil {
		t.Fatal(err)
	}
	accts := m["accounts"].([]any)
	for range 40 {
		accts = append(accts, map[string]any{"ref": "bad ref"})
	}
	m["accounts"] = accts
	m["version"] = 0
	data, _ := json.Marshal(m)
	_, err := Load(bytes.NewReader(data), Options{})
	fes := fieldErrors(err)
	if len(fes) != maxErrors+1 || fes[0].Field != "version" || !strings.Contains(fes[len(fes)-1].Error(), "more problems not shown") {
		t.Fatalf("%d problems reported: %v", len(fes), err)
	}
}

func TestLoadTransactionCap(t *testing.T) {
	defer func(n int) { maxTransactions = n }(maxTransactions)
	maxTransactions = 100
	_, err := Load(bytes.NewReader(readMinimal(t)), Options{})
	if !errors.Is(err, ErrInvalidFile) || !strings.Contains(err.Error(), "more than 100 transactions") {
		t.Fatalf("Load past the cap: %v", err)
	}
}

func TestLoadAnchorPerGenerator(t *testing.T) {
	var m map[string]any
	if err := json.Unmarshal(readMinimal(t), &m); err != nil {
		t.Fatal(err)
	}
	m["accounts"] = m["accounts"].([]any)[:1]
	m["accounts"].([]any)[0].(map[string]any)["transactions"].(map[string]any)["anchor_date"] = "2025-06-15"
	data, _ := json.Marshal(m)
	c, err := Load(bytes.NewReader(data), Options{})
	if err != nil {
		t.Fatal(err)
	}
	txs := history(t, c, "S1")
	if !txs[0].Date.Before(time.Date(2025, 6, 15, 0, 0, 0, 0, myt)) || txs[len(txs)-1].Date.Before(time.Date(2025, 3, 15, 0, 0, 0, 0, myt)) {
		t.Errorf("generator anchor ignored: %v..%v", txs[len(txs)-1].Date, txs[0].Date)
	}
	// Options.Anchor replaces it.
	c, err = Load(bytes.NewReader(data), Options{Anchor: time.Date(2030, 1, 1, 12, 0, 0, 0, myt)})
	if err != nil {
		t.Fatal(err)
	}
	if txs := history(t, c, "S1"); txs[0].Date.Year() != 2029 {
		t.Errorf("Options.Anchor did not replace the generator's anchor: newest %v", txs[0].Date)
	}
}

func TestParseAmount(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0.00", 0, true},
		{"1234.56", 123456, true},
		{"9999999999999.99", 999999999999999, true},
		{"99999999999999.99", 0, false},
		{"1.5", 0, false},
		{"1.500", 0, false},
		{".50", 0, false},
		{"-1.00", 0, false},
		{"+1.00", 0, false},
		{"1,000.00", 0, false},
		{"1e3.00", 0, false},
		{"", 0, false},
	} {
		got, err := parseAmount(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseAmount(%q) = %d, %v", tc.in, got, err)
		}
		if tc.ok && formatAmount(got) != tc.in {
			t.Errorf("formatAmount(%d) = %q, want %q", got, formatAmount(got), tc.in)
		}
	}
	if formatAmount(-5) != "-0.05" {
		t.Errorf("formatAmount(-5) = %q", formatAmount(-5))
	}
}

func TestMaskCard(t *testing.T) {
	for in, want := range map[string]string{
		"4896123456789014":    "489612******9014",
		"5412751234567":       "541275***4567",
		"1234567890123456789": "123456*********6789",
	} {
		if got := maskCard(in); got != want {
			t.Errorf("maskCard(%s) = %s, want %s", in, got, want)
		}
	}
}

// FuzzLoad: Load never panics; it either rejects the file with ErrInvalidFile or returns a
// bank whose every history is ordered, unique and well-formed and can be paged.
func FuzzLoad(f *testing.F) {
	f.Add(readMinimal(f))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Load(bytes.NewReader(data), Options{})
		if err != nil {
			if !errors.Is(err, ErrInvalidFile) {
				t.Fatalf("error without ErrInvalidFile: %v", err)
			}
			return
		}
		for ref, a := range c.accounts {
			checkOrder(t, ref, a.txs)
			for _, tx := range a.txs {
				if tx.Amount.Minor <= 0 || tx.Amount.Currency != a.Currency || !contains(transferSubmethods[tx.TransferMethod], tx.TransferSubmethod) {
					t.Fatalf("%s: bad transaction %+v", ref, tx)
				}
			}
			if a.Status != connector.StatusActive || len(a.txs) == 0 {
				continue
			}
			if got := walk(t, c, connector.TransactionQuery{AccountRef: ref, Limit: 1 + len(a.txs)/3}); len(got) != len(a.txs) {
				t.Fatalf("%s: paging returned %d of %d rows", ref, len(got), len(a.txs))
			}
		}
	})
}
