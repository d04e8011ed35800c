package httpbank

import (
	"testing"
	"time"

	"github.com/ofpdp/ofpdp/connector"
)

// FuzzAnswer feeds arbitrary bytes to the decoding of an adapter's answers (untrusted input):
// nothing panics, and whatever is accepted keeps the contract's invariants — a page no longer than
// the limit, inside the window, in (date, id) descending order; accounts with a known status.
func FuzzAnswer(f *testing.F) {
	f.Add([]byte(`{"transactions":[` + goodTx + `],"more":false}`))
	f.Add([]byte(goodAccount))
	f.Add([]byte(`{"current":{"amount":"1.00","currency":"MYR","indicator":"credit"},"credit_lines_included":false}`))
	f.Add([]byte(`{"customer_ref":"C1","name":"N","id_type":"nric","id_number":"900101145678"}`))
	f.Add([]byte(`{"transactions":[],"more":true}`))
	f.Add([]byte(`{"transactions":[],"more":true,"next_cursor":"c2"}`))
	f.Add([]byte(`{"accounts":[` + goodAccount + `]}`))
	q := connector.TransactionQuery{AccountRef: "A1", From: time.Date(2026, 10, 1, 0, 0, 0, 0, myt),
		To: time.Date(2026, 10, 31, 23, 59, 59, 0, myt), Limit: 3}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var p wireTransactionPage
		if decodeStrict(raw, &p) == nil {
			if page, err := pageFromWire(&p, q); err == nil {
				if len(page.Transactions) > q.Limit {
					t.Fatalf("%d items over the limit", len(page.Transactions))
				}
				for i, tx := range page.Transactions {
					if tx.Date.Before(q.From) || tx.Date.After(q.To) {
						t.Fatalf("item %d outside the window", i)
					}
					if i > 0 && !(tx.Date.Before(page.Transactions[i-1].Date) ||
						tx.Date.Equal(page.Transactions[i-1].Date) && tx.ID < page.Transactions[i-1].ID) {
						t.Fatalf("item %d out of order", i)
					}
				}
			}
		}
		var a wireAccount
		if decodeStrict(raw, &a) == nil {
			if acc, err := accountFromWire(&a); err == nil && acc.Status == "" {
				t.Fatal("account accepted without a status")
			}
		}
		var b wireBalance
		if decodeStrict(raw, &b) == nil {
			_, _ = balanceFromWire(&b)
		}
		var c wireCustomer
		if decodeStrict(raw, &c) == nil {
			if cu, err := customerFromWire(&c); err == nil && cu.Ref == "" {
				t.Fatal("customer accepted without a reference")
			}
		}
	})
}
