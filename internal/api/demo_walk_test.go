package api

import (
	"context"
	"testing"
	"time"

	"github.com/ofpdp/ofpdp/connector"
	"github.com/ofpdp/ofpdp/internal/bank/demo"
	"github.com/ofpdp/ofpdp/internal/consent"
	"github.com/ofpdp/ofpdp/internal/store"
)

// TestTransactionsFullWalkOfTheDemoBank is issue 5's done-criterion: a full walk of the demo
// bank's account with more than 5,000 transactions, through the real mTLS listener, signed
// requests, sealed responses and HMAC cursors, returns each transaction of the history window
// exactly once, newest first.
func TestTransactionsFullWalkOfTheDemoBank(t *testing.T) {
	const ref, customer = "A2001", "C1002" // tan's savings account (docs/connector.md)
	conn, err := demo.Embedded(demo.Options{Anchor: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(c *envConfig) { c.data.Bank = conn })
	id := consent.AccountID(testAccountIDKey, testDCID, ref)
	e.store.edit(testConsentID, func(rec *store.ConsentRecord) {
		rec.Authorization.CustomerRef = customer
		rec.Authorization.Accounts = []store.AuthorizedAccount{{AccountID: id, AccountRef: ref}}
		rec.Consent.Accounts = []consent.Account{{AccountID: id}}
		rec.Authorization.Approved.AccountIDs = []string{id}
	})
	e.accounts[refSavings] = id // txPage reads this account

	now := e.clock.Now()
	page, err := conn.Transactions(context.Background(), connector.TransactionQuery{AccountRef: ref,
		From: now.In(myt).AddDate(0, -12, 0), To: now, Limit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	want := page.Transactions
	if len(want) < 5000 {
		t.Fatalf("the demo account has %d transactions in the window, want at least 5,000", len(want))
	}

	seen := map[string]bool{}
	var got []transactionJSON
	p := e.txPage("page_size", "500")
	for pages := 1; ; pages++ {
		for _, tx := range p.Data {
			if seen[tx.TransactionID] {
				t.Fatalf("transaction %s returned twice", tx.TransactionID)
			}
			seen[tx.TransactionID] = true
		}
		got = append(got, p.Data...)
		if p.Meta.NextPageParams == nil {
			break
		}
		if pages > len(want)/500+2 {
			t.Fatal("the walk does not end")
		}
		p = e.txPage("next_page_params", *p.Meta.NextPageParams)
	}
	if len(got) != len(want) {
		t.Fatalf("the walk returned %d transactions, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].TransactionID != want[i].ID {
			t.Fatalf("transaction %d is %s, want %s (newest first, stable order)", i, got[i].TransactionID, want[i].ID)
		}
	}
	t.Logf("walked %d transactions in %d-row pages", len(got), 500)
}
