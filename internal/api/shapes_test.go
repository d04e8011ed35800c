package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"github.com/ofpdp/ofpdp/internal/consent"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ofpdp/ofpdp/connector"
)

// update rewrites golden files: go test ./internal/api -run Golden -update
var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func ptr[T any](v T) *T { return &v }

func myr(minor int64) connector.Money { return connector.Money{Minor: minor, Currency: "MYR"} }

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, myt) }

// Fixture bank data: one of every account type the demo bank has (spec §5.4–5.6).
var (
	fixtureSavings = connector.Account{
		Ref: "ref-sav-1", CustomerRef: "cust-1", Number: "1122334455667", Name: "My Savings Account",
		HolderName: "Nur Aisyah binti Ahmad", HolderType: connector.HolderIndividual, Category: "retail",
		Type: connector.TypeDeposit, Subtype: connector.SubtypeSavings, Currency: "MYR", Status: connector.StatusActive,
	}
	fixtureCard = connector.Account{
		Ref: "ref-cc-1", CustomerRef: "cust-1", Number: "5123456789017890", Name: "Platinum Card",
		HolderName: "Nur Aisyah binti Ahmad", HolderType: connector.HolderIndividual, Category: "retail",
		Type: connector.TypeCredit, Subtype: connector.SubtypeCreditCard, Currency: "MYR", Status: connector.StatusActive,
		Limit: ptr(myr(1500000)), InterestRate: ptr(15.0), MinimumPaymentAmount: ptr(myr(5000)),
		PaymentDueDate: ptr(date(2026, 7, 15)),
	}
	fixtureMortgage = connector.Account{
		Ref: "ref-mg-1", CustomerRef: "cust-1", Number: "8800112233", Name: "Home Loan",
		HolderName: "Nur Aisyah binti Ahmad", HolderType: connector.HolderIndividual, Category: "retail",
		Type: connector.TypeLoan, Subtype: connector.SubtypeMortgage, Currency: "MYR", Status: connector.StatusActive,
		InterestRate: ptr(4.25), MinimumPaymentAmount: ptr(myr(215050)),
		Loan: &connector.LoanDetails{LoanAmount: myr(45000000), OriginationDate: date(2019, 3, 1), MaturityDate: date(2049, 2, 28)},
	}
	fixtureDepositBalance = connector.Balance{
		Current: myr(2500075), CurrentIndicator: "credit",
		Available: ptr(myr(2450000)), AvailableIndicator: "credit",
	}
	fixtureCardBalance = connector.Balance{
		Current: myr(123456), CurrentIndicator: "debit",
		Available: ptr(myr(1376544)), AvailableIndicator: "credit",
		Statement: ptr(myr(98000)), StatementIndicator: "debit", StatementDate: ptr(date(2026, 6, 22)),
		CreditLinesIncluded: true,
	}
	fixtureTransfer = connector.Transaction{
		ID: "txn-0001", Date: time.Date(2026, 6, 11, 3, 30, 12, 0, time.UTC), CreditDebit: "debit",
		Amount: myr(2378), TransferMethod: "funds_transfer", TransferSubmethod: "duitnow_transfer",
		Description: "DuitNow transfer", RecipientRef: "rent june", OtherDescription: "ref 99812",
		Settled: true,
	}
	fixtureCardPurchase = connector.Transaction{
		ID: "txn-0002", Date: time.Date(2026, 6, 12, 21, 5, 0, 0, myt), CreditDebit: "debit",
		Amount: myr(45210), ForeignAmount: &connector.Money{Minor: 9650, Currency: "USD"},
		Description: "Online purchase", MerchantName: "Example Store", MCC: "5732", Settled: false,
	}
)

func TestShapesGolden(t *testing.T) {
	const id = "acc-GOLDENaccountid0000000000000"
	mustShape := func(v any, err error) any {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	cases := []struct {
		name string
		v    any
	}{
		{"account_savings", mustShape(accountShape(id, &fixtureSavings, "PayBank Berhad"))},
		{"account_credit_card", mustShape(accountShape(id, &fixtureCard, "PayBank Berhad"))},
		{"account_mortgage", mustShape(accountShape(id, &fixtureMortgage, "PayBank Berhad"))},
		{"balance_deposit", mustShape(balanceShape(id, &fixtureDepositBalance))},
		{"balance_credit_card", mustShape(balanceShape(id, &fixtureCardBalance))},
		{"transaction_transfer", mustShape(transactionShape(id, &fixtureTransfer))},
		{"transaction_card_fx", mustShape(transactionShape(id, &fixtureCardPurchase))},
		{"userinfo", userinfoJSON{Sub: consent.SubjectID([]byte("0123456789abcdef0123456789abcdef"), "cust-1"),
			Name: "Nur Aisyah binti Ahmad", Email: "aisyah@example.my", IDType: "nric",
			HashedIDNumber: "eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eA=="}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := json.MarshalIndent(c.v, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := filepath.Join("testdata", "shapes", c.name+".json")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from golden:\n got: %s\nwant: %s", c.name, got, want)
			}
		})
	}
}

func TestFormatMinor(t *testing.T) {
	for _, c := range []struct {
		in   int64
		want string
		err  bool
	}{
		{0, "0.00", false}, {1, "0.01", false}, {10, "0.10", false}, {99, "0.99", false}, {100, "1.00", false},
		{2378, "23.78", false}, {123456, "1234.56", false}, {2500075, "25000.75", false},
		{999999999999999, "9999999999999.99", false}, // 13 integer digits
		{1000000000000000, "", true},                 // 14 integer digits
		{-1, "", true}, {-123456, "", true},
	} {
		got, err := formatMinor(c.in)
		if (err != nil) != c.err || got != c.want {
			t.Errorf("formatMinor(%d) = %q, %v; want %q, err=%v", c.in, got, err, c.want, c.err)
		}
		if err != nil && !errors.Is(err, errShape) {
			t.Errorf("formatMinor(%d) error %v does not wrap errShape", c.in, err)
		}
	}
}

func TestShapeRefusesBadBankData(t *testing.T) {
	const id = "acc-x"
	badCurrency := fixtureSavings
	badCurrency.Limit = &connector.Money{Minor: 1, Currency: "myr"}
	nanRate := fixtureCard
	nanRate.InterestRate = ptr(mathNaN())
	negLoan := fixtureMortgage
	negLoan.Loan = &connector.LoanDetails{LoanAmount: myr(-5)}
	noIndicator := fixtureDepositBalance
	noIndicator.AvailableIndicator = ""
	badTxn := fixtureTransfer
	badTxn.CreditDebit = "Credit"
	noID := fixtureTransfer
	noID.ID = ""
	for name, err := range map[string]error{
		"currency":      second(accountShape(id, &badCurrency, "B")),
		"nan rate":      second(accountShape(id, &nanRate, "B")),
		"negative":      second(accountShape(id, &negLoan, "B")),
		"indicator":     second(balanceShape(id, &noIndicator)),
		"txn indicator": second(transactionShape(id, &badTxn)),
		"txn id":        second(transactionShape(id, &noID)),
	} {
		if !errors.Is(err, errShape) {
			t.Errorf("%s: error %v, want errShape", name, err)
		}
	}
}

func second[T any](_ T, err error) error { return err }

func mathNaN() float64 { return math.NaN() }

func TestTransactionDateIsMYT(t *testing.T) {
	got, err := transactionShape("a", &fixtureTransfer)
	if err != nil {
		t.Fatal(err)
	}
	if got.TransactionDate != "2026-06-11T11:30:12+08:00" {
		t.Errorf("transaction_date = %s", got.TransactionDate)
	}
}
