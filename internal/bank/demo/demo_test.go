package demo

import (
	"context"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/ofpdp/ofpdp/connector"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// transferSubmethods is spec paynet-dp.md §5.6: the submethods of each transfer method.
var transferSubmethods = map[string][]string{
	"funds_transfer":    {"duitnow_transfer", "intrabank", "bank_adjustment", "ibg", "shared_atm_network_ibft", "rtgs", "others"},
	"online_payment":    {"fpx", "obw", "duitnow_pay", "debit_card_not_present", "others"},
	"recurring_payment": {"direct_debit", "auto_debit", "others"},
	"bill_payment":      {"jompay", "others"},
	"instore_payment":   {"duitnow_qr", "debit_card", "others"},
	"cheque":            {"espick", "others"},
	"cash_withdrawal":   {"shared_atm_network", "mydebit_cash_out", "dnqr_cash_out", "others"},
	"cash_deposit":      {"shared_atm_network", "others"},
	"others":            {"others"},
}

// The embedded file's anchor and accounts (data/bank.json).
var (
	fileAnchor = time.Date(2026, 11, 1, 0, 0, 0, 0, myt)
	activeRefs = []string{"A1001", "A1002", "A1003", "A1004", "A1005", "A1006", "A1007", "A2001", "A3001", "A3002"}
)

const heavyRef = "A2001"

var (
	embeddedOnce sync.Once
	embeddedConn *Connector
	embeddedErr  error
)

// demoBank is the embedded bank, loaded once for the read-only tests.
func demoBank(t testing.TB) *Connector {
	t.Helper()
	embeddedOnce.Do(func() { embeddedConn, embeddedErr = Embedded(Options{}) })
	if embeddedErr != nil {
		t.Fatalf("Embedded: %v", embeddedErr)
	}
	return embeddedConn
}

// history reads an account's whole history in one call.
func history(t testing.TB, c *Connector, ref string) []connector.Transaction {
	t.Helper()
	p, err := c.Transactions(context.Background(), connector.TransactionQuery{AccountRef: ref, Limit: 1 << 30})
	if err != nil {
		t.Fatalf("Transactions(%s): %v", ref, err)
	}
	if p.More {
		t.Fatalf("Transactions(%s) with an unbounded limit reports More", ref)
	}
	return p.Transactions
}

// walk pages through an account's transactions the way ofpdp does, with the cursor of each
// page's last row.
func walk(t testing.TB, c *Connector, q connector.TransactionQuery) []connector.Transaction {
	t.Helper()
	var out []connector.Transaction
	for pages := 0; ; pages++ {
		if pages > 100_000 {
			t.Fatal("paging does not end")
		}
		p, err := c.Transactions(context.Background(), q)
		if err != nil {
			t.Fatalf("Transactions(%+v): %v", q, err)
		}
		if len(p.Transactions) > q.Limit {
			t.Fatalf("page of %d rows for limit %d", len(p.Transactions), q.Limit)
		}
		out = append(out, p.Transactions...)
		if !p.More {
			return out
		}
		if len(p.Transactions) == 0 {
			t.Fatal("empty page with More")
		}
		if p.NextCursor == "" {
			t.Fatal("More without NextCursor")
		}
		q.Cursor = p.NextCursor
	}
}

func ids(txs []connector.Transaction) []string {
	out := make([]string, len(txs))
	for i, tx := range txs {
		out[i] = tx.ID
	}
	return out
}

// checkOrder asserts newest first by Date then ID, both descending, with unique IDs.
func checkOrder(t testing.TB, ref string, txs []connector.Transaction) {
	t.Helper()
	seen := map[string]bool{}
	for i, tx := range txs {
		if seen[tx.ID] {
			t.Fatalf("%s: transaction ID %s appears twice", ref, tx.ID)
		}
		seen[tx.ID] = true
		if i == 0 {
			continue
		}
		prev := txs[i-1]
		if tx.Date.After(prev.Date) || tx.Date.Equal(prev.Date) && tx.ID >= prev.ID {
			t.Fatalf("%s: %s (%v) follows %s (%v): not newest first", ref, tx.ID, tx.Date, prev.ID, prev.Date)
		}
	}
}

func TestEmbeddedDeterministic(t *testing.T) {
	a, err := Embedded(Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Embedded(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a.accounts, b.accounts) {
		t.Fatal("two loads of the same file differ")
	}
}

// TestEmbeddedGolden pins the generated data: any change to a generator, the catalogue or the
// file shows up here. Refresh with go test -run TestEmbeddedGolden -update.
func TestEmbeddedGolden(t *testing.T) {
	c := demoBank(t)
	var b strings.Builder
	for _, ref := range sortedRefs(c) {
		a := c.accounts[ref]
		fmt.Fprintf(&b, "%s %s %s/%s %s n=%d", a.Ref, a.Status, a.Type, a.Subtype, a.Currency, len(a.txs))
		if len(a.txs) > 0 {
			h := sha256.New()
			unsettled := 0
			for _, tx := range a.txs {
				fmt.Fprintf(h, "%+v\n", txLine(tx))
				if !tx.Settled {
					unsettled++
				}
			}
			fmt.Fprintf(&b, " unsettled=%d newest=%s oldest=%s sha256=%x", unsettled, a.txs[0].ID, a.txs[len(a.txs)-1].ID, h.Sum(nil)[:8])
		}
		bal := a.balance
		fmt.Fprintf(&b, " current=%s %s", formatAmount(bal.Current.Minor), bal.CurrentIndicator)
		if bal.Available != nil {
			fmt.Fprintf(&b, " available=%s %s", formatAmount(bal.Available.Minor), bal.AvailableIndicator)
		}
		if bal.Statement != nil {
			fmt.Fprintf(&b, " statement=%s %s on %s", formatAmount(bal.Statement.Minor), bal.StatementIndicator, bal.StatementDate.Format(dateLayout))
		}
		if a.PaymentDueDate != nil {
			fmt.Fprintf(&b, " due=%s", a.PaymentDueDate.Format(dateLayout))
		}
		if a.MinimumPaymentAmount != nil {
			fmt.Fprintf(&b, " minimum=%s", formatAmount(a.MinimumPaymentAmount.Minor))
		}
		b.WriteString("\n")
	}
	golden(t, "embedded.golden", b.String())
}

func txLine(tx connector.Transaction) string {
	fx := ""
	if tx.ForeignAmount != nil {
		fx = formatAmount(tx.ForeignAmount.Minor) + " " + tx.ForeignAmount.Currency
	}
	return strings.Join([]string{tx.ID, tx.Date.Format(time.RFC3339), tx.CreditDebit, formatAmount(tx.Amount.Minor), tx.Amount.Currency, fx,
		tx.TransferMethod, tx.TransferSubmethod, tx.Description, tx.RecipientRef, tx.OtherDescription, tx.MerchantName, tx.MCC,
		fmt.Sprint(tx.Settled)}, "|")
}

func sortedRefs(c *Connector) []string { return slices.Sorted(maps.Keys(c.accounts)) }

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the generated data (run with -update if the change is intended):\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

// TestEmbeddedContents checks what the issue asks the demo bank to hold.
func TestEmbeddedContents(t *testing.T) {
	c := demoBank(t)
	ctx := context.Background()
	if len(c.customers) < 3 {
		t.Fatalf("%d customers, want at least 3", len(c.customers))
	}
	idTypes := map[string]bool{}
	for _, cu := range c.customers {
		idTypes[cu.IDType] = true
	}
	if !idTypes["nric"] || !idTypes["passport"] {
		t.Errorf("ID types %v, want NRIC and passport holders", idTypes)
	}

	subtypes := map[string]bool{}
	statuses := map[string]bool{}
	var joint, foreign, heavy bool
	for _, a := range c.accounts {
		statuses[a.Status] = true
		if a.Eligible() {
			subtypes[a.Subtype] = true
		}
		joint = joint || a.HolderType == connector.HolderJoint
		foreign = foreign || a.Currency != "MYR"
		heavy = heavy || len(a.txs) >= 5000
	}
	for _, s := range []string{connector.SubtypeSavings, connector.SubtypeCurrent, connector.SubtypeCreditCard, connector.SubtypeHirePurchase, connector.SubtypeMortgage} {
		if !subtypes[s] {
			t.Errorf("no eligible %s account", s)
		}
	}
	for _, s := range []string{connector.StatusDormant, connector.StatusClosed} {
		if !statuses[s] {
			t.Errorf("no %s account", s)
		}
	}
	if !joint || !foreign || !heavy {
		t.Errorf("joint=%v foreign=%v heavy(>=5000 transactions)=%v, want all", joint, foreign, heavy)
	}
	if n := len(history(t, c, heavyRef)); n < 5000 {
		t.Errorf("%s has %d transactions, want at least 5000", heavyRef, n)
	}

	// aisyah holds every kind of account, as the sandbox's first login.
	accts, err := c.Accounts(ctx, "C1001")
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for _, a := range accts {
		kinds[a.Subtype+"/"+a.Status+"/"+a.HolderType+"/"+a.Currency] = true
	}
	for _, k := range []string{"savings/active/individual/MYR", "current/active/individual/MYR", "credit_card/active/individual/MYR",
		"hire_purchase/active/individual/MYR", "mortgage/active/individual/MYR", "savings/active/joint/MYR",
		"current/active/individual/USD", "savings/dormant/individual/MYR"} {
		if !kinds[k] {
			t.Errorf("aisyah has no %s account; has %v", k, kinds)
		}
	}

	// 12 months of MYR history with every kind of transaction the issue names.
	seen := map[string]bool{}
	for _, ref := range activeRefs {
		txs := history(t, c, ref)
		for _, tx := range txs {
			seen[tx.TransferMethod+"/"+tx.TransferSubmethod] = true
			if strings.HasPrefix(tx.Description, "IBG CREDIT") && strings.HasPrefix(tx.RecipientRef, "SALARY") {
				seen["salary"] = true
				if tx.Date.Day() != 25 {
					t.Errorf("%s: salary %s on day %d, want the 25th", ref, tx.ID, tx.Date.Day())
				}
			}
			if tx.MCC != "" && tx.MerchantName != "" {
				seen["card purchase with MCC"] = true
			}
			if tx.ForeignAmount != nil {
				seen["foreign currency"] = true
			}
			if !tx.Settled {
				seen["unsettled"] = true
			}
		}
		if ref == "A1001" {
			oldest, newest := txs[len(txs)-1].Date, txs[0].Date
			if oldest.Before(fileAnchor.AddDate(-1, 0, 0)) || newest.After(fileAnchor) || newest.Sub(oldest) < 360*24*time.Hour {
				t.Errorf("A1001 spans %v..%v, want 12 months before %v", oldest, newest, fileAnchor)
			}
		}
	}
	for _, k := range []string{"salary", "funds_transfer/duitnow_transfer", "bill_payment/jompay", "online_payment/fpx",
		"instore_payment/debit_card", "instore_payment/duitnow_qr", "cash_withdrawal/shared_atm_network",
		"recurring_payment/direct_debit", "recurring_payment/auto_debit", "funds_transfer/ibg", "cheque/espick",
		"card purchase with MCC", "foreign currency", "unsettled"} {
		if !seen[k] {
			t.Errorf("no %s transaction in the demo data", k)
		}
	}
}

// TestTransactionFields checks every generated transaction against spec §5.6.
func TestTransactionFields(t *testing.T) {
	c := demoBank(t)
	for ref, a := range c.accounts {
		for _, tx := range a.txs {
			where := ref + " " + tx.ID
			if !strings.HasPrefix(tx.ID, ref+"-") || len(tx.ID) > 40 {
				t.Errorf("%s: ID not <ref>-<date>-<n>", where)
			}
			if tx.CreditDebit != "credit" && tx.CreditDebit != "debit" {
				t.Errorf("%s: credit_debit_indicator %q", where, tx.CreditDebit)
			}
			if tx.Amount.Minor <= 0 || tx.Amount.Minor > 999_999_999_999_99 || tx.Amount.Currency != a.Currency {
				t.Errorf("%s: amount %+v in a %s account", where, tx.Amount, a.Currency)
			}
			if !contains(transferSubmethods[tx.TransferMethod], tx.TransferSubmethod) {
				t.Errorf("%s: transfer %s/%s is not in spec §5.6", where, tx.TransferMethod, tx.TransferSubmethod)
			}
			if tx.Description == "" || len(tx.Description) > 300 || len(tx.RecipientRef) > 300 || len(tx.OtherDescription) > 300 {
				t.Errorf("%s: description or references too long or missing", where)
			}
			if len(tx.MerchantName) > 100 || len(tx.MCC) != 0 && len(tx.MCC) != 4 {
				t.Errorf("%s: merchant %q mcc %q", where, tx.MerchantName, tx.MCC)
			}
			if _, off := tx.Date.Zone(); off != 8*3600 {
				t.Errorf("%s: time %v is not in MYT (+08:00)", where, tx.Date)
			}
			if !tx.Date.Before(fileAnchor) {
				t.Errorf("%s: dated %v, on or after the anchor", where, tx.Date)
			}
			if !tx.Settled && (tx.Date.Before(fileAnchor.AddDate(0, 0, -pendingDays)) || tx.CreditDebit != debit) {
				t.Errorf("%s: unsettled but not a recent debit", where)
			}
			if strings.Contains(tx.Description+tx.RecipientRef, a.Number) {
				t.Errorf("%s: the full account number appears in the description", where)
			}
		}
	}
}

// TestBalancesFromTransactions recomputes each balance from the paged history.
func TestBalancesFromTransactions(t *testing.T) {
	c := demoBank(t)
	f, err := decodeFile(strings.NewReader(string(embedded)))
	if err != nil {
		t.Fatal(err)
	}
	opening := map[string]int64{}
	for _, a := range f.Accounts {
		if a.Transactions != nil && a.Transactions.OpeningBalance != "" {
			opening[a.Ref], _ = parseAmount(a.Transactions.OpeningBalance)
		}
	}
	ctx := context.Background()
	for _, ref := range activeRefs {
		a := c.accounts[ref]
		txs := walk(t, c, connector.TransactionQuery{AccountRef: ref, Limit: 97})
		var settled, held int64
		for _, tx := range txs {
			if !tx.Settled {
				if tx.CreditDebit == debit {
					held += tx.Amount.Minor
				}
				continue
			}
			// A debit lowers a deposit and raises what a card or loan owes.
			delta := tx.Amount.Minor
			if (tx.CreditDebit == debit) == (a.Type == connector.TypeDeposit) {
				delta = -delta
			}
			settled += delta
		}
		b, err := c.Balance(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		cur := b.Current.Minor
		if b.CurrentIndicator != map[bool]string{true: credit, false: debit}[a.Type == connector.TypeDeposit] {
			cur = -cur
		}
		open, ok := opening[ref]
		if !ok { // a loan whose opening outstanding is derived from its terms
			open = cur - settled
			l := newLoan(newGen(&parsedAccount{Account: a.Account, gen: &genSpec{profile: "x", months: 12}}, fileAnchor))
			if got := l.outstandingAt(fileAnchor.AddDate(-1, 0, 0)); got != open {
				t.Errorf("%s: derived opening outstanding %s, history implies %s", ref, formatAmount(got), formatAmount(open))
			}
			if got := l.outstandingAt(fileAnchor); got != cur {
				t.Errorf("%s: replaying the loan to the anchor gives %s, the balance is %s", ref, formatAmount(got), formatAmount(cur))
			}
		}
		if open+settled != cur {
			t.Errorf("%s: opening %s + settled movements %s = %s, balance says %s", ref, formatAmount(open), formatAmount(settled), formatAmount(open+settled), formatAmount(cur))
		}
		switch a.Type {
		case connector.TypeDeposit:
			avail := b.Available.Minor
			if b.AvailableIndicator == debit {
				avail = -avail
			}
			if avail != cur-held || b.CreditLinesIncluded {
				t.Errorf("%s: available %s, want current − unsettled debits = %s", ref, formatAmount(avail), formatAmount(cur-held))
			}
		case connector.TypeCredit:
			if b.Available.Minor != a.Limit.Minor-cur-held || !b.CreditLinesIncluded || b.CurrentIndicator != debit {
				t.Errorf("%s: available %s, want limit − owed − unsettled = %s, credit lines included", ref, formatAmount(b.Available.Minor), formatAmount(a.Limit.Minor-cur-held))
			}
			if b.Statement == nil || b.StatementDate == nil || b.StatementDate.Day() != 15 && b.StatementDate.Day() != 22 {
				t.Errorf("%s: statement %v on %v", ref, b.Statement, b.StatementDate)
			}
			if a.PaymentDueDate == nil || !a.PaymentDueDate.Equal(b.StatementDate.AddDate(0, 0, 20)) || a.MinimumPaymentAmount == nil {
				t.Errorf("%s: due %v minimum %v, want statement date + 20 days", ref, a.PaymentDueDate, a.MinimumPaymentAmount)
			}
		case connector.TypeLoan:
			if b.CurrentIndicator != debit || b.Available != nil || cur <= 0 {
				t.Errorf("%s: loan balance %+v, want the outstanding as a debit", ref, b)
			}
			if a.PaymentDueDate == nil || a.PaymentDueDate.Before(fileAnchor) || a.MinimumPaymentAmount == nil {
				t.Errorf("%s: next instalment %v %v", ref, a.PaymentDueDate, a.MinimumPaymentAmount)
			}
		}
	}
}

// TestDepositsNeverOverdrawn replays each deposit's settled history oldest first.
func TestDepositsNeverOverdrawn(t *testing.T) {
	c := demoBank(t)
	for _, ref := range activeRefs {
		a := c.accounts[ref]
		if a.Type != connector.TypeDeposit {
			continue
		}
		b := a.balance.Current.Minor
		// Walk back from the current balance to the opening, checking every step.
		for _, tx := range a.txs {
			if !tx.Settled {
				continue
			}
			if b < 0 {
				t.Fatalf("%s: balance %s after %s", ref, formatAmount(b), tx.ID)
			}
			if tx.CreditDebit == credit {
				b -= tx.Amount.Minor
			} else {
				b += tx.Amount.Minor
			}
		}
		if b < 0 {
			t.Errorf("%s: negative opening balance %s", ref, formatAmount(b))
		}
	}
}

// TestPaymentsMirrored: each card and loan payment appears as a debit of the account it came from.
func TestPaymentsMirrored(t *testing.T) {
	c := demoBank(t)
	for _, pair := range [][2]string{{"A1003", "A1001"}, {"A1004", "A1001"}, {"A1005", "A1002"}, {"A3002", "A3001"}} {
		payee, payer := pair[0], pair[1]
		debits := map[string]int{}
		for _, tx := range history(t, c, payer) {
			if tx.CreditDebit == debit {
				debits[tx.Date.String()+" "+formatAmount(tx.Amount.Minor)]++
			}
		}
		n := 0
		for _, tx := range history(t, c, payee) {
			if tx.CreditDebit != credit || strings.HasPrefix(tx.Description, "REFUND") {
				continue
			}
			n++
			key := tx.Date.String() + " " + formatAmount(tx.Amount.Minor)
			if debits[key] == 0 {
				t.Errorf("%s payment %s (%s) has no matching debit in %s", payee, tx.ID, key, payer)
			}
			debits[key]--
		}
		if n < 11 {
			t.Errorf("%s: %d payments in 12 months", payee, n)
		}
	}
}

func TestPagingWalk(t *testing.T) {
	c := demoBank(t)
	all := history(t, c, heavyRef)
	checkOrder(t, heavyRef, all)
	for _, limit := range []int{1, 7, 100, 500, len(all) - 1, len(all), len(all) + 1} {
		if limit == 1 && testing.Short() {
			continue
		}
		got := walk(t, c, connector.TransactionQuery{AccountRef: heavyRef, Limit: limit})
		if !reflect.DeepEqual(ids(got), ids(all)) {
			t.Fatalf("limit %d: paging returned %d rows, not each of the %d once in order", limit, len(got), len(all))
		}
	}
	for _, ref := range activeRefs {
		checkOrder(t, ref, walk(t, c, connector.TransactionQuery{AccountRef: ref, Limit: 50}))
	}
}

func TestDateBounds(t *testing.T) {
	c := demoBank(t)
	all := history(t, c, heavyRef)
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, myt)
	to := time.Date(2026, 3, 31, 23, 59, 59, 0, myt)
	var want []string
	for _, tx := range all {
		if !tx.Date.Before(from) && !tx.Date.After(to) {
			want = append(want, tx.ID)
		}
	}
	got := ids(walk(t, c, connector.TransactionQuery{AccountRef: heavyRef, From: from, To: to, Limit: 100}))
	if !reflect.DeepEqual(got, want) || len(want) < 300 {
		t.Fatalf("March: got %d rows, want the %d dated in March", len(got), len(want))
	}

	// Bounds are inclusive to the nanosecond, in any time zone.
	mid := all[len(all)/2]
	utc := mid.Date.UTC()
	for _, tc := range []struct {
		name     string
		from, to time.Time
		in       bool
	}{
		{"exact", mid.Date, mid.Date, true},
		{"exact in UTC", utc, utc, true},
		{"from just after", mid.Date.Add(time.Nanosecond), mid.Date.Add(time.Hour), false},
		{"to just before", mid.Date.Add(-time.Hour), mid.Date.Add(-time.Nanosecond), false},
		{"open from", time.Time{}, mid.Date, true},
		{"open to", mid.Date, time.Time{}, true},
		{"from after to", mid.Date.Add(time.Hour), mid.Date, false},
	} {
		p, err := c.Transactions(context.Background(), connector.TransactionQuery{AccountRef: heavyRef, From: tc.from, To: tc.to, Limit: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		if got := contains(ids(p.Transactions), mid.ID); got != tc.in {
			t.Errorf("%s: %s included=%v, want %v", tc.name, mid.ID, got, tc.in)
		}
	}
}

// TestCursorTies pages through transactions that share a timestamp: the ID breaks the tie.
func TestCursorTies(t *testing.T) {
	at := time.Date(2026, 5, 1, 12, 0, 0, 0, myt)
	var txs []connector.Transaction
	for i := 9; i >= 0; i-- {
		d := at
		if i < 3 {
			d = at.Add(-time.Hour)
		}
		txs = append(txs, connector.Transaction{ID: fmt.Sprintf("T-%03d", i), Date: d, Settled: true})
	}
	c := &Connector{accounts: map[string]*account{"X": {Account: connector.Account{Ref: "X", Status: connector.StatusActive}, txs: txs}}}
	for limit := 1; limit <= 11; limit++ {
		got := walk(t, c, connector.TransactionQuery{AccountRef: "X", Limit: limit})
		if !reflect.DeepEqual(ids(got), ids(txs)) {
			t.Fatalf("limit %d: %v", limit, ids(got))
		}
	}
	p, err := c.Transactions(context.Background(), connector.TransactionQuery{AccountRef: "X", Cursor: strconv.FormatInt(at.UnixNano(), 10) + "~T-", Limit: 20})
	if err != nil || len(p.Transactions) != 3 {
		t.Fatalf("after every row at %v: %v %v", at, ids(p.Transactions), err)
	}
}

func TestPageIsACopy(t *testing.T) {
	c := demoBank(t)
	p, err := c.Transactions(context.Background(), connector.TransactionQuery{AccountRef: "A1003", Limit: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	for i := range p.Transactions {
		p.Transactions[i].Amount.Minor = -1
		if f := p.Transactions[i].ForeignAmount; f != nil {
			f.Minor = -1
		}
	}
	for _, tx := range history(t, c, "A1003") {
		if tx.Amount.Minor < 0 || tx.ForeignAmount != nil && tx.ForeignAmount.Minor < 0 {
			t.Fatal("changing a returned page changed the bank's data")
		}
	}
	a, _ := c.Account(context.Background(), "A1003")
	a.Limit.Minor = 0
	if b, _ := c.Account(context.Background(), "A1003"); b.Limit.Minor == 0 {
		t.Fatal("changing a returned account changed the bank's data")
	}
}

func TestStatusAndLookupErrors(t *testing.T) {
	c := demoBank(t)
	ctx := context.Background()
	for _, tc := range []struct {
		ref    string
		status string
		want   error
	}{
		{"A1001", connector.StatusActive, nil},
		{"A1006", connector.StatusActive, nil}, // joint: served by the connector, never offered by ofpdp
		{"A1008", connector.StatusDormant, connector.ErrAccountBlocked},
		{"A3003", connector.StatusBlocked, connector.ErrAccountBlocked},
		{"A2002", connector.StatusClosed, connector.ErrAccountClosed},
		{"NOPE", "", connector.ErrNotFound},
	} {
		a, err := c.Account(ctx, tc.ref)
		if tc.status == "" {
			if !errors.Is(err, connector.ErrNotFound) {
				t.Errorf("Account(%s) = %v, want ErrNotFound", tc.ref, err)
			}
		} else if err != nil || a.Status != tc.status {
			t.Errorf("Account(%s) = %s, %v; want status %s", tc.ref, a.Status, err, tc.status)
		}
		if _, err := c.Balance(ctx, tc.ref); !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Errorf("Balance(%s) = %v, want %v", tc.ref, err, tc.want)
		}
		if _, err := c.Transactions(ctx, connector.TransactionQuery{AccountRef: tc.ref, Limit: 10}); !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Errorf("Transactions(%s) = %v, want %v", tc.ref, err, tc.want)
		}
	}
	if _, err := c.Customer(ctx, "C9999"); !errors.Is(err, connector.ErrNotFound) {
		t.Errorf("Customer(unknown) = %v", err)
	}
	if _, err := c.Accounts(ctx, "C9999"); !errors.Is(err, connector.ErrNotFound) {
		t.Errorf("Accounts(unknown) = %v", err)
	}
	for _, q := range []connector.TransactionQuery{
		{AccountRef: "A1001", Limit: 0},
		{AccountRef: "A1001", Limit: -5},
		{AccountRef: "A1001", Limit: 10, Cursor: "A1001-20260101-001"},
		{AccountRef: "A1001", Limit: 10, Cursor: "1777~"},
	} {
		if _, err := c.Transactions(ctx, q); !errors.Is(err, ErrInvalidQuery) {
			t.Errorf("Transactions(%+v) = %v, want ErrInvalidQuery", q, err)
		}
	}
	cu, err := c.Customer(ctx, "C1003")
	if err != nil || cu.IDType != "passport" || cu.IDNumber != "A12345678" || cu.Name != "JOHN MICHAEL SMITH" {
		t.Errorf("Customer(C1003) = %+v, %v", cu, err)
	}
	accts, err := c.Accounts(ctx, "C1002")
	if err != nil || len(accts) != 2 || accts[0].Ref != "A2001" || accts[1].Ref != "A2002" {
		t.Errorf("Accounts(C1002) = %v, %v; want A2001, A2002 in file order", accts, err)
	}
}

func TestAuthenticate(t *testing.T) {
	c := demoBank(t)
	ctx := context.Background()
	calls := 0
	compareHash = func(hash, pw []byte) error {
		calls++
		return bcrypt.CompareHashAndPassword(hash, pw)
	}
	t.Cleanup(func() { compareHash = bcrypt.CompareHashAndPassword })

	for i, l := range Logins() {
		username := l.Username
		if i == 0 {
			username = strings.ToUpper(username) // usernames are case-insensitive
		}
		cu, err := c.Authenticate(ctx, username, l.Password)
		if err != nil || cu.Name != l.Name {
			t.Errorf("Authenticate(%s, its documented password) = %+v, %v", username, cu, err)
		}
	}
	for _, tc := range []struct{ user, password string }{
		{"aisyah", "Demo@5678"}, // another customer's password
		{"nobody", "Demo@1234"},
		{"aisyah", "Demo@1234" + strings.Repeat("x", 100)},
	} {
		if cu, err := c.Authenticate(ctx, tc.user, tc.password); !errors.Is(err, connector.ErrInvalidCredentials) || cu.Ref != "" {
			t.Errorf("Authenticate(%q, %q) = %+v, %v; want ErrInvalidCredentials", tc.user, tc.password, cu, err)
		}
	}
	// bcrypt ran for every attempt, the unknown username included: no timing oracle.
	if want := len(Logins()) + 3; calls != want {
		t.Errorf("bcrypt ran %d times for %d attempts", calls, want)
	}
}

// TestLatency: the injected delay honours the ctx deadline (synctest's clock, so no waiting).
func TestLatency(t *testing.T) {
	calls := map[string]func(context.Context, *Connector) error{
		"Authenticate": func(ctx context.Context, c *Connector) error {
			_, err := c.Authenticate(ctx, "tan", "Demo@5678")
			return err
		},
		"Customer": func(ctx context.Context, c *Connector) error { _, err := c.Customer(ctx, "C1001"); return err },
		"Accounts": func(ctx context.Context, c *Connector) error { _, err := c.Accounts(ctx, "C1001"); return err },
		"Account":  func(ctx context.Context, c *Connector) error { _, err := c.Account(ctx, "A1001"); return err },
		"Balance":  func(ctx context.Context, c *Connector) error { _, err := c.Balance(ctx, "A1001"); return err },
		"Transactions": func(ctx context.Context, c *Connector) error {
			_, err := c.Transactions(ctx, connector.TransactionQuery{AccountRef: "A1001", Limit: 10})
			return err
		},
	}
	slow := *demoBank(t)
	slow.latency = 2 * time.Second
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(t.Context(), time.Second)
				defer cancel()
				start := time.Now()
				err := call(ctx, &slow)
				if !errors.Is(err, connector.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("past the deadline: %v, want ErrUnavailable wrapping DeadlineExceeded", err)
				}
				if d := time.Since(start); d != time.Second {
					t.Errorf("returned after %v, want at the 1s deadline", d)
				}

				start = time.Now()
				if err := call(t.Context(), &slow); err != nil {
					t.Errorf("without a deadline: %v", err)
				}
				if d := time.Since(start); d < 2*time.Second {
					t.Errorf("returned after %v, want the 2s latency", d)
				}

				done, cancel2 := context.WithCancel(t.Context())
				cancel2()
				if err := call(done, demoBank(t)); !errors.Is(err, connector.ErrUnavailable) || !errors.Is(err, context.Canceled) {
					t.Errorf("cancelled ctx: %v", err)
				}
			})
		})
	}
}

func TestAnchorOption(t *testing.T) {
	// 20:00 UTC on 14 March is 04:00 on 15 March in Malaysia.
	c, err := Embedded(Options{Anchor: time.Date(2027, 3, 14, 20, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	anchor := time.Date(2027, 3, 15, 0, 0, 0, 0, myt)
	for _, ref := range activeRefs {
		txs := history(t, c, ref)
		if len(txs) == 0 {
			t.Fatalf("%s: no transactions", ref)
		}
		if newest, oldest := txs[0].Date, txs[len(txs)-1].Date; !newest.Before(anchor) || oldest.Before(anchor.AddDate(-1, 0, 0)) {
			t.Errorf("%s: %v..%v, want the 12 months before %v", ref, oldest, newest, anchor)
		}
	}
	a, _ := c.Account(context.Background(), "A1004")
	if a.PaymentDueDate == nil || !a.PaymentDueDate.Equal(time.Date(2027, 4, 5, 0, 0, 0, 0, myt)) {
		t.Errorf("hire purchase next instalment %v, want 2027-04-05", a.PaymentDueDate)
	}
	if len(history(t, c, heavyRef)) < 5000 {
		t.Errorf("%s has fewer than 5000 transactions with another anchor", heavyRef)
	}
}

func TestLoginsMatchEmbeddedFile(t *testing.T) {
	c := demoBank(t)
	if len(Logins()) != len(c.logins) {
		t.Fatalf("%d logins documented, %d customers in the file", len(Logins()), len(c.logins))
	}
	for _, l := range Logins() {
		cu, ok := c.logins[l.Username]
		if !ok || cu.Name != l.Name {
			t.Errorf("login %s does not match the file", l.Username)
		}
		if strings.Contains(string(embedded), l.Password) {
			t.Errorf("the plaintext password of %s is in the data file", l.Username)
		}
	}
}

func TestConcurrentReads(t *testing.T) {
	c := demoBank(t)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			ref := activeRefs[i%len(activeRefs)]
			walk(t, c, connector.TransactionQuery{AccountRef: ref, Limit: 250})
			if _, err := c.Balance(context.Background(), ref); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}

// BenchmarkTransactionsPage reads one 500-row page from the middle of the 5,000+ row history:
// the hot path of GET /transactions.
func BenchmarkTransactionsPage(b *testing.B) {
	c := demoBank(b)
	all := history(b, c, heavyRef)
	cursor := all[len(all)/2]
	q := connector.TransactionQuery{AccountRef: heavyRef, From: fileAnchor.AddDate(-1, 0, 0), To: fileAnchor,
		Cursor: strconv.FormatInt(cursor.Date.UnixNano(), 10) + "~" + cursor.ID, Limit: 500}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		p, err := c.Transactions(ctx, q)
		if err != nil || len(p.Transactions) != 500 {
			b.Fatalf("%d rows, %v", len(p.Transactions), err)
		}
	}
}
