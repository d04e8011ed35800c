package demo

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/ofpdp/ofpdp/connector"
)

//go:embed data/bank.json
var embedded []byte

// ErrInvalidQuery: a transaction query the connector cannot answer (a non-positive Limit, or
// a Cursor this connector did not make). ofpdp validates page_size and cursors before calling, so
// this is a caller bug.
var ErrInvalidQuery = errors.New("demo: invalid transaction query")

// dummyHash is a bcrypt hash (cost 10) of a random secret nobody knows. Authenticate compares
// against it for unknown usernames so that a wrong username costs as much time as a wrong
// password and does not reveal which usernames exist.
var dummyHash = []byte("$2a$10$PLbwAgxRrpRBqNZyPLCv0.DOSOXY5whstv/5AIXdf2p74MRDbbfK2")

// compareHash checks a password against a bcrypt hash; a variable so that a test can count calls.
var compareHash = bcrypt.CompareHashAndPassword

// maxPasswordBytes is bcrypt's input limit.
const maxPasswordBytes = 72

// Options tune a demo connector.
type Options struct {
	// Latency is a delay injected into every call, to rehearse a slow core bank. The call
	// honours its ctx: when ctx ends first the call fails with connector.ErrUnavailable wrapping
	// ctx.Err() (design.md §3.14: past the deadline ofpdp answers 503).
	Latency time.Duration
	// Anchor, when set, replaces every anchor date in the file: each account's history ends
	// the day before Anchor's date in Malaysia. The sandbox passes time.Now() so the data is
	// always recent; zero keeps the file's anchor, so tests see the same data every day.
	Anchor time.Time
	// Now and Random drive the second factor's expiry and codes; nil = time.Now, crypto/rand.
	Now    func() time.Time
	Random io.Reader
}

// Connector is the demo core bank: an immutable in-memory bank, safe for concurrent use.
type Connector struct {
	latency   time.Duration
	customers map[string]*customer
	logins    map[string]*customer
	accounts  map[string]*account
	// challenges is the second factor's only mutable state (secondfactor.go).
	challenges *challenges
	// txMu guards the txs slices: InsertTransaction replaces a slice (never writes into one), so
	// a page copies from the slice it loaded under the read lock.
	txMu sync.RWMutex
}

var _ connector.Connector = (*Connector)(nil)

type customer struct {
	connector.Customer
	hash     []byte
	accounts []*account // in file order
}

type account struct {
	connector.Account
	// txs is the whole history, newest first: Date descending, then ID descending.
	txs     []connector.Transaction
	balance connector.Balance
}

// Embedded loads the demo bank compiled into the binary (data/bank.json).
func Embedded(opts Options) (*Connector, error) {
	return Load(bytes.NewReader(embedded), opts)
}

// LoadFile loads a bank data file (ofpdp --bank-data FILE).
func LoadFile(path string, opts Options) (*Connector, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	defer f.Close()
	return Load(f, opts)
}

// Load reads a bank data file (schema in docs/connector.md), validates every field and
// generates each account's transactions. A bad file gives an error wrapping ErrInvalidFile
// that names each offending field (see FieldError).
func Load(r io.Reader, opts Options) (*Connector, error) {
	f, err := decodeFile(r)
	if err != nil {
		return nil, err
	}
	p, err := validate(f)
	if err != nil {
		return nil, err
	}
	anchor := p.anchor
	if !opts.Anchor.IsZero() {
		anchor = dateOf(opts.Anchor)
	}
	byRef := make(map[string]int, len(p.accounts))
	gens := make([]*gen, len(p.accounts))
	for i := range p.accounts {
		pa := &p.accounts[i]
		byRef[pa.Ref] = i
		if pa.gen == nil {
			continue
		}
		if !opts.Anchor.IsZero() {
			pa.gen.anchor = time.Time{}
		}
		gens[i] = newGen(pa, anchor)
	}
	// Cards and loans first: the payments they receive are mirrored as debits into the
	// deposit accounts they come from (pays_from), which run second.
	total := 0
	for _, liabilities := range []bool{true, false} {
		for i, g := range gens {
			if g == nil || (g.ledger == liabilityLedger) != liabilities {
				continue
			}
			if err := g.run(); err != nil {
				return nil, &FieldError{Field: p.accounts[i].field + ".transactions", Err: err}
			}
			if total += len(g.txs); total > maxTransactions {
				return nil, &FieldError{Field: p.accounts[i].field + ".transactions", Err: fmt.Errorf("the file generates more than %d transactions in all", maxTransactions)}
			}
			if g.spec.paysFrom != "" {
				payer := gens[byRef[g.spec.paysFrom]]
				for _, m := range g.mirrors {
					payer.receive(m)
				}
			}
		}
	}

	c := &Connector{
		latency:    opts.Latency,
		challenges: newChallenges(opts),
		customers:  make(map[string]*customer, len(p.customers)),
		logins:     make(map[string]*customer, len(p.customers)),
		accounts:   make(map[string]*account, len(p.accounts)),
	}
	for i, pc := range p.customers {
		cu := &customer{Customer: pc, hash: p.hashes[i]}
		c.customers[pc.Ref] = cu
		c.logins[p.usernames[i]] = cu
	}
	for i := range p.accounts {
		pa := &p.accounts[i]
		a := &account{Account: pa.Account}
		if g := gens[i]; g != nil {
			a.txs = g.txs
			slices.SortFunc(a.txs, func(x, y connector.Transaction) int {
				if c := y.Date.Compare(x.Date); c != 0 {
					return c
				}
				return strings.Compare(y.ID, x.ID)
			})
			derive(a, pa, g)
		}
		a.balance = balanceOf(&a.Account, gens[i])
		c.accounts[a.Ref] = a
		cu := c.customers[a.CustomerRef]
		cu.accounts = append(cu.accounts, a)
	}
	return c, nil
}

// derive fills the account fields the file left to the history: a card's payment due date
// (statement date + 20 days) and minimum payment (5% of the statement, at least RM 50); a
// loan's next instalment date and amount.
func derive(a *account, pa *parsedAccount, g *gen) {
	var due *time.Time
	var minPay *int64
	switch p := g.profile.(type) {
	case *creditCard:
		if g.stmt != nil {
			d := g.stmt.date.AddDate(0, 0, 20)
			m := minimumPayment(g.stmt.balance)
			due, minPay = &d, &m
		}
	case *loan:
		if d, ok := p.nextDue(g.end); ok && g.bal > 0 {
			m := p.instalmentOn(d, g.bal)
			due, minPay = &d, &m
		}
	}
	if !pa.explicitDue && due != nil {
		a.PaymentDueDate = due
	}
	if !pa.explicitMin && minPay != nil {
		a.MinimumPaymentAmount = &connector.Money{Minor: *minPay, Currency: a.Currency}
	}
}

// balanceOf derives an account's balance from its generated history (spec paynet-dp.md §5.5):
// current = opening + settled credits − settled debits (unsettled transactions excluded). A
// deposit's available balance also subtracts unsettled debits; a card's is limit − owed −
// unsettled debits, with credit lines included; a loan's current balance is the outstanding
// amount, as a debit.
func balanceOf(a *connector.Account, g *gen) connector.Balance {
	var bal, holds int64
	var stmt *statement
	if g != nil {
		bal, holds, stmt = g.bal, g.holds, g.stmt
	}
	cur := a.Currency
	var b connector.Balance
	switch a.Type {
	case connector.TypeDeposit:
		b.Current, b.CurrentIndicator = signed(bal, cur, credit, debit)
		avail, ind := signed(bal-holds, cur, credit, debit)
		b.Available, b.AvailableIndicator = &avail, ind
	case connector.TypeCredit:
		b.Current, b.CurrentIndicator = signed(bal, cur, debit, credit)
		var limit int64
		if a.Limit != nil {
			limit = a.Limit.Minor
		}
		avail, ind := signed(limit-bal-holds, cur, credit, debit)
		b.Available, b.AvailableIndicator = &avail, ind
		b.CreditLinesIncluded = true
	default:
		b.Current, b.CurrentIndicator = signed(bal, cur, debit, credit)
	}
	if stmt != nil && a.Type != connector.TypeLoan {
		pos, neg := credit, debit
		if a.Type == connector.TypeCredit {
			pos, neg = debit, credit
		}
		s, ind := signed(stmt.balance, cur, pos, neg)
		d := stmt.date
		b.Statement, b.StatementIndicator, b.StatementDate = &s, ind, &d
	}
	return b
}

// signed turns a signed amount into an unsigned Money and its credit/debit indicator.
func signed(v int64, currency, positive, negative string) (connector.Money, string) {
	if v < 0 {
		return connector.Money{Minor: -v, Currency: currency}, negative
	}
	return connector.Money{Minor: v, Currency: currency}, positive
}

// wait injects the configured latency, honouring ctx.
func (c *Connector) wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%w: %w", connector.ErrUnavailable, err)
	}
	if c.latency <= 0 {
		return nil
	}
	t := time.NewTimer(c.latency)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", connector.ErrUnavailable, ctx.Err())
	case <-t.C:
		return nil
	}
}

// Authenticate checks a username (case-insensitive) and password. bcrypt runs for unknown
// usernames too, so the answer takes the same time whichever part is wrong.
func (c *Connector) Authenticate(ctx context.Context, username, password string) (connector.Customer, error) {
	if err := c.wait(ctx); err != nil {
		return connector.Customer{}, err
	}
	cu, ok := c.logins[strings.ToLower(username)]
	hash := dummyHash
	if ok {
		hash = cu.hash
	}
	pw := []byte(password)
	if len(pw) > maxPasswordBytes {
		ok = false
		pw = pw[:maxPasswordBytes]
	}
	if err := compareHash(hash, pw); err != nil || !ok {
		return connector.Customer{}, connector.ErrInvalidCredentials
	}
	return cu.Customer, nil
}

// Customer returns the customer with this reference.
func (c *Connector) Customer(ctx context.Context, customerRef string) (connector.Customer, error) {
	if err := c.wait(ctx); err != nil {
		return connector.Customer{}, err
	}
	cu, ok := c.customers[customerRef]
	if !ok {
		return connector.Customer{}, fmt.Errorf("demo: customer %q: %w", customerRef, connector.ErrNotFound)
	}
	return cu.Customer, nil
}

// Accounts lists all of a customer's accounts in file order, eligible or not (ofpdp filters
// with Account.Eligible, spec §5.4).
func (c *Connector) Accounts(ctx context.Context, customerRef string) ([]connector.Account, error) {
	if err := c.wait(ctx); err != nil {
		return nil, err
	}
	cu, ok := c.customers[customerRef]
	if !ok {
		return nil, fmt.Errorf("demo: customer %q: %w", customerRef, connector.ErrNotFound)
	}
	out := make([]connector.Account, len(cu.accounts))
	for i, a := range cu.accounts {
		out[i] = cloneAccount(&a.Account)
	}
	return out, nil
}

// Account returns one account whatever its status: a dormant or closed account is returned
// with its Status so that ofpdp can tell why it is not served.
func (c *Connector) Account(ctx context.Context, accountRef string) (connector.Account, error) {
	if err := c.wait(ctx); err != nil {
		return connector.Account{}, err
	}
	a, ok := c.accounts[accountRef]
	if !ok {
		return connector.Account{}, fmt.Errorf("demo: account %q: %w", accountRef, connector.ErrNotFound)
	}
	return cloneAccount(&a.Account), nil
}

// servable returns an account whose balance and transactions may be read: a dormant or
// blocked account gives connector.ErrAccountBlocked, a closed one connector.ErrAccountClosed.
func (c *Connector) servable(ref string) (*account, error) {
	a, ok := c.accounts[ref]
	switch {
	case !ok:
		return nil, fmt.Errorf("demo: account %q: %w", ref, connector.ErrNotFound)
	case a.Status == connector.StatusDormant || a.Status == connector.StatusBlocked:
		return nil, fmt.Errorf("demo: account %q is %s: %w", ref, a.Status, connector.ErrAccountBlocked)
	case a.Status == connector.StatusClosed:
		return nil, fmt.Errorf("demo: account %q: %w", ref, connector.ErrAccountClosed)
	}
	return a, nil
}

// Balance returns the account's balance as at the anchor (spec §5.5).
func (c *Connector) Balance(ctx context.Context, accountRef string) (connector.Balance, error) {
	if err := c.wait(ctx); err != nil {
		return connector.Balance{}, err
	}
	a, err := c.servable(accountRef)
	if err != nil {
		return connector.Balance{}, err
	}
	b := a.balance
	if b.Available != nil {
		v := *b.Available
		b.Available = &v
	}
	if b.Statement != nil {
		v, d := *b.Statement, *b.StatementDate
		b.Statement, b.StatementDate = &v, &d
	}
	return b, nil
}

// Transactions returns one page of the account's transactions (spec §5.7): newest first by
// Date then ID (both descending), Date within the inclusive bounds From..To (a zero bound is
// open), continuing strictly after the Cursor's position when set, at most Limit rows; More
// reports whether rows remain within the bounds, and NextCursor is then the position (Date and
// ID) of the page's last row. A position is stable under inserts: a row inserted later than it
// is not returned by later pages, one inserted earlier is, and no row twice. It binary-searches the sorted
// history and copies only the page.
func (c *Connector) Transactions(ctx context.Context, q connector.TransactionQuery) (connector.TransactionPage, error) {
	if err := c.wait(ctx); err != nil {
		return connector.TransactionPage{}, err
	}
	a, err := c.servable(q.AccountRef)
	if err != nil {
		return connector.TransactionPage{}, err
	}
	if q.Limit <= 0 {
		return connector.TransactionPage{}, fmt.Errorf("%w: limit %d", ErrInvalidQuery, q.Limit)
	}
	afterDate, afterID, err := parseCursor(q.Cursor)
	if err != nil {
		return connector.TransactionPage{}, err
	}
	c.txMu.RLock()
	txs := a.txs
	c.txMu.RUnlock()
	start, end := 0, len(txs)
	if !q.To.IsZero() {
		start = sort.Search(len(txs), func(i int) bool { return !txs[i].Date.After(q.To) })
	}
	if afterID != "" {
		after := sort.Search(len(txs), func(i int) bool {
			t := &txs[i]
			return t.Date.Before(afterDate) || t.Date.Equal(afterDate) && t.ID < afterID
		})
		start = max(start, after)
	}
	if !q.From.IsZero() {
		end = sort.Search(len(txs), func(i int) bool { return txs[i].Date.Before(q.From) })
	}
	if start >= end {
		return connector.TransactionPage{Transactions: []connector.Transaction{}}, nil
	}
	stop := min(start+q.Limit, end)
	page := make([]connector.Transaction, stop-start)
	copy(page, txs[start:stop])
	for i := range page {
		if f := page[i].ForeignAmount; f != nil {
			v := *f
			page[i].ForeignAmount = &v
		}
	}
	out := connector.TransactionPage{Transactions: page, More: stop < end}
	if out.More {
		last := &page[len(page)-1]
		out.NextCursor = strconv.FormatInt(last.Date.UnixNano(), 10) + "~" + last.ID
	}
	return out, nil
}

// ErrDuplicateTransaction: InsertTransaction was given an ID the account already has.
var ErrDuplicateTransaction = errors.New("demo: transaction id already used")

// InsertTransaction books t on the account, in order, for the test-only insert operation of
// docs/connector-openapi.yaml (connector-test's check that a walk is stable under inserts).
func (c *Connector) InsertTransaction(_ context.Context, accountRef string, t connector.Transaction) error {
	a, ok := c.accounts[accountRef]
	if !ok {
		return fmt.Errorf("demo: account %q: %w", accountRef, connector.ErrNotFound)
	}
	c.txMu.Lock()
	defer c.txMu.Unlock()
	if slices.ContainsFunc(a.txs, func(x connector.Transaction) bool { return x.ID == t.ID }) {
		return fmt.Errorf("%w: %q", ErrDuplicateTransaction, t.ID)
	}
	i := sort.Search(len(a.txs), func(i int) bool {
		x := &a.txs[i]
		return x.Date.Before(t.Date) || x.Date.Equal(t.Date) && x.ID < t.ID
	})
	a.txs = slices.Insert(slices.Clone(a.txs), i, t)
	return nil
}

// parseCursor reads a NextCursor of Transactions: Unix nanoseconds, "~", the transaction ID.
// An empty cursor is the first page (zero position).
func parseCursor(s string) (time.Time, string, error) {
	if s == "" {
		return time.Time{}, "", nil
	}
	n, id, ok := strings.Cut(s, "~")
	ns, err := strconv.ParseInt(n, 10, 64)
	if !ok || err != nil || id == "" || len(s) > connector.MaxCursorLen {
		return time.Time{}, "", fmt.Errorf("%w: cursor not made by this connector", ErrInvalidQuery)
	}
	return time.Unix(0, ns), id, nil
}

// cloneAccount copies an account so that callers cannot change the bank's data.
func cloneAccount(a *connector.Account) connector.Account {
	c := *a
	if a.Limit != nil {
		v := *a.Limit
		c.Limit = &v
	}
	if a.InterestRate != nil {
		v := *a.InterestRate
		c.InterestRate = &v
	}
	if a.MinimumPaymentAmount != nil {
		v := *a.MinimumPaymentAmount
		c.MinimumPaymentAmount = &v
	}
	if a.PaymentDueDate != nil {
		v := *a.PaymentDueDate
		c.PaymentDueDate = &v
	}
	if a.Loan != nil {
		v := *a.Loan
		c.Loan = &v
	}
	return c
}
