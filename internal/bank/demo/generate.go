package demo

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/ofpdp/ofpdp/connector"
)

// Transfer methods and submethods (spec paynet-dp.md §5.6).
const (
	mFunds     = "funds_transfer"
	mOnline    = "online_payment"
	mRecurring = "recurring_payment"
	mBill      = "bill_payment"
	mInstore   = "instore_payment"
	mCheque    = "cheque"
	mCashOut   = "cash_withdrawal"
	mCashIn    = "cash_deposit"
	mOthers    = "others"

	sDuitNow     = "duitnow_transfer"
	sIntrabank   = "intrabank"
	sAdjustment  = "bank_adjustment"
	sIBG         = "ibg"
	sFPX         = "fpx"
	sCardNP      = "debit_card_not_present"
	sDirectDebit = "direct_debit"
	sAutoDebit   = "auto_debit"
	sJomPAY      = "jompay"
	sQR          = "duitnow_qr"
	sDebitCard   = "debit_card"
	sEspick      = "espick"
	sSharedATM   = "shared_atm_network"
	sOthers      = "others"

	credit = "credit"
	debit  = "debit"
)

// pendingDays is how many days before the anchor card purchases are still unsettled.
const pendingDays = 2

// defaultDepositRate is the savings rate (% a year) when the account gives none.
const defaultDepositRate = 0.25

// ledger says which way a balance runs.
type ledger int

const (
	// assetLedger: a deposit; the balance is what the bank owes the customer.
	assetLedger ledger = iota
	// liabilityLedger: a card or loan; the balance is what the customer owes.
	liabilityLedger
)

// cand is a candidate transaction a profile proposes for a day.
type cand struct {
	tx connector.Transaction
	// mandatory candidates are posted even when funds or the credit limit would not allow
	// them (salary, instalments, charges).
	mandatory bool
	// pendable candidates are card purchases: unsettled when within pendingDays of the anchor.
	pendable bool
	// mirror, when set, is the debit this payment makes in the paying account
	// (generator pays_from); its date and amount are taken from the posted transaction.
	mirror *connector.Transaction
}

// profile proposes each day's transactions.
type profile interface {
	// day proposes the day's activity, with times before 23:00.
	day(g *gen, d time.Time) []cand
	// endOfDay proposes postings computed on the day's closing balance (interest, charges).
	endOfDay(g *gen, d time.Time) []cand
	// close runs after every posting of the day (statements).
	close(g *gen, d time.Time)
}

// statement is a balance as at the end of a statement date.
type statement struct {
	date    time.Time
	balance int64
}

// gen runs one account's generator.
type gen struct {
	rng         *rand.Rand
	acct        *connector.Account
	spec        *genSpec
	start, end  time.Time // the window [start, end): end is the anchor date
	pendingFrom time.Time
	ledger      ledger

	bal     int64 // settled balance: owed to the customer (asset) or by the customer (liability)
	holds   int64 // unsettled debits
	reserve int64 // kept back today for upcoming payments to other accounts
	limit   int64 // credit limit (liability with a limit)

	txs           []connector.Transaction // chronological
	incoming      map[int64][]cand        // mirrored payments by day (Unix seconds of midnight)
	incomingTotal int64
	mirrors       []connector.Transaction
	stmt          *statement
	profile       profile
}

// newGen prepares an account's generator for the anchor date.
func newGen(a *parsedAccount, anchor time.Time) *gen {
	s := a.gen
	if !s.anchor.IsZero() {
		anchor = s.anchor
	}
	end := dateOf(anchor)
	h := fnv.New64a()
	h.Write([]byte(a.Ref))
	g := &gen{
		// The account reference is the second PCG word so that two accounts sharing a seed
		// and profile still differ.
		rng:         rand.New(rand.NewPCG(s.seed, h.Sum64())),
		acct:        &a.Account,
		spec:        s,
		start:       end.AddDate(0, -s.months, 0),
		end:         end,
		pendingFrom: end.AddDate(0, 0, -pendingDays),
		incoming:    map[int64][]cand{},
		bal:         s.opening,
	}
	if a.Type != connector.TypeDeposit {
		g.ledger = liabilityLedger
	}
	if a.Limit != nil {
		g.limit = a.Limit.Minor
	}
	return g
}

// receive queues a payment made from this account by another account's generator.
func (g *gen) receive(tx connector.Transaction) {
	d := dateOf(tx.Date).Unix()
	g.incoming[d] = append(g.incoming[d], cand{tx: tx, mandatory: true})
	g.incomingTotal += tx.Amount.Minor
}

// run generates the account's history.
func (g *gen) run() error {
	p, err := g.newProfile()
	if err != nil {
		return err
	}
	g.profile = p
	for d := g.start; d.Before(g.end); d = d.AddDate(0, 0, 1) {
		g.reserve = g.upcoming(d)
		cands := p.day(g, d)
		cands = append(cands, g.incoming[d.Unix()]...)
		seq := g.post(d, cands, 0)
		g.post(d, p.endOfDay(g, d), seq)
		p.close(g, d)
		if g.ledger == assetLedger && d.AddDate(0, 0, 1).Day() == 1 {
			g.stmt = &statement{date: d, balance: g.bal}
		}
	}
	return nil
}

// post posts a day's candidates in time order, numbering them from seq, and returns the last
// number used. Transaction IDs are "<account ref>-<YYYYMMDD>-<nnn>": unique, stable for the
// same file and anchor, and ordered like the times within a day.
func (g *gen) post(d time.Time, cands []cand, seq int) int {
	slices.SortStableFunc(cands, func(a, b cand) int { return a.tx.Date.Compare(b.tx.Date) })
	day := d.Format("20060102")
	for _, c := range cands {
		tx := c.tx
		if tx.Amount.Minor <= 0 || seq == 999 {
			continue
		}
		pending := c.pendable && !d.Before(g.pendingFrom)
		if !c.mandatory && !g.admit(tx, pending) {
			continue
		}
		seq++
		tx.ID = fmt.Sprintf("%s-%s-%03d", g.acct.Ref, day, seq)
		tx.Settled = !pending
		tx.Amount.Currency = g.acct.Currency
		g.apply(tx)
		g.txs = append(g.txs, tx)
		if c.mirror != nil {
			m := *c.mirror
			m.Date, m.Amount = tx.Date, tx.Amount
			g.mirrors = append(g.mirrors, m)
		}
	}
	return seq
}

// reserveDays is how far ahead a deposit keeps money back for the payments other accounts
// will take from it (pays_from), so that optional spending never leaves an instalment unpaid.
const reserveDays = 31

// upcoming sums the payments due from this account in the reserveDays from d.
func (g *gen) upcoming(d time.Time) int64 {
	var sum int64
	for i := range reserveDays {
		for _, c := range g.incoming[d.AddDate(0, 0, i).Unix()] {
			sum += c.tx.Amount.Minor
		}
	}
	return sum
}

// admit reports whether an optional transaction fits: a deposit keeps its reserve and is never
// overdrawn, and a card never goes over its limit.
func (g *gen) admit(tx connector.Transaction, pending bool) bool {
	if tx.CreditDebit == credit {
		return true
	}
	switch {
	case g.ledger == assetLedger:
		return g.bal-g.holds-tx.Amount.Minor >= g.reserve
	case g.limit > 0:
		return g.bal+g.holds+tx.Amount.Minor <= g.limit
	default:
		return true
	}
}

// apply moves the balance: settled transactions change it, unsettled debits are held.
func (g *gen) apply(tx connector.Transaction) {
	if !tx.Settled {
		if tx.CreditDebit == debit {
			g.holds += tx.Amount.Minor
		}
		return
	}
	in := tx.CreditDebit == credit
	if g.ledger == liabilityLedger {
		in = !in
	}
	if in {
		g.bal += tx.Amount.Minor
	} else {
		g.bal -= tx.Amount.Minor
	}
}

func (g *gen) newProfile() (profile, error) {
	switch g.spec.profile {
	case "salary_earner":
		return newSalaryEarner(g), nil
	case "heavy_user":
		return newHeavyUser(g), nil
	case "household":
		return newHousehold(g), nil
	case "current_account":
		return newCurrentAccount(g), nil
	case "foreign_currency":
		return newForeignCurrency(g), nil
	case "dormant":
		return &dormant{rate: g.rate(defaultDepositRate)}, nil
	case "credit_card":
		return newCreditCard(g), nil
	case "hire_purchase", "mortgage":
		return newLoan(g), nil
	}
	return nil, fmt.Errorf("demo: unknown profile %q", g.spec.profile)
}

// Random helpers.

// at is a random time on day d between fromHour and toHour.
func (g *gen) at(d time.Time, fromHour, toHour int) time.Time {
	return d.Add(time.Duration(fromHour*3600+g.rng.IntN((toHour-fromHour)*3600)) * time.Second)
}

// between is a uniform amount in [lo, hi].
func (g *gen) between(lo, hi int64) int64 {
	if hi <= lo {
		return lo
	}
	return lo + g.rng.Int64N(hi-lo+1)
}

func (g *gen) chance(p float64) bool { return g.rng.Float64() < p }

// count is the number of successes in n trials of probability p.
func (g *gen) count(n int, p float64) int {
	k := 0
	for range n {
		if g.chance(p) {
			k++
		}
	}
	return k
}

func pick[T any](g *gen, xs []T) T { return xs[g.rng.IntN(len(xs))] }

func (g *gen) merchant(ms []merchant) merchant {
	total := 0
	for _, m := range ms {
		total += m.weight
	}
	n := g.rng.IntN(total)
	for _, m := range ms {
		if n < m.weight {
			return m
		}
		n -= m.weight
	}
	return ms[len(ms)-1]
}

// digits is a random string of n digits.
func (g *gen) digits(n int) string {
	var b strings.Builder
	for range n {
		b.WriteByte(byte('0' + g.rng.IntN(10)))
	}
	return b.String()
}

// rate is the account's interest rate in % a year, or def.
func (g *gen) rate(def float64) float64 {
	if g.acct.InterestRate != nil {
		return *g.acct.InterestRate
	}
	return def
}

func isMonthEnd(d time.Time) bool { return d.AddDate(0, 0, 1).Day() == 1 }

func monthLabel(d time.Time) string { return fmt.Sprintf("%s %d", monthNames[d.Month()-1], d.Year()) }

// Transaction builders.

func newTx(at time.Time, cd string, amount int64, method, sub, desc string) connector.Transaction {
	return connector.Transaction{Date: at, CreditDebit: cd, Amount: connector.Money{Minor: amount},
		TransferMethod: method, TransferSubmethod: sub, Description: desc}
}

func (g *gen) debitCard(d time.Time, m merchant) cand {
	tx := newTx(g.at(d, 8, 22), debit, g.between(m.min, m.max), mInstore, sDebitCard, "DEBIT CARD PURCHASE "+m.name)
	tx.MerchantName, tx.MCC = m.name, m.mcc
	return cand{tx: tx, pendable: true}
}

func (g *gen) debitCardOnline(d time.Time, m merchant, amount int64) cand {
	tx := newTx(g.at(d, 0, 23), debit, amount, mOnline, sCardNP, "DEBIT CARD ONLINE "+m.name)
	tx.MerchantName, tx.MCC = m.name, m.mcc
	return cand{tx: tx, pendable: true}
}

func (g *gen) qr(d time.Time) cand {
	m := g.merchant(qrMerchants)
	tx := newTx(g.at(d, 7, 22), debit, g.between(m.min, m.max), mInstore, sQR, "DUITNOW QR "+m.name)
	tx.MerchantName = m.name
	return cand{tx: tx}
}

func (g *gen) duitNowOut(d time.Time, lo, hi int64) cand {
	name := pick(g, people)
	tx := newTx(g.at(d, 7, 23), debit, g.between(lo, hi), mFunds, sDuitNow, "DUITNOW TRANSFER TO "+name)
	tx.RecipientRef = pick(g, transferNotes)
	return cand{tx: tx}
}

func (g *gen) duitNowIn(d time.Time, name string, amount int64, note string) cand {
	tx := newTx(g.at(d, 7, 23), credit, amount, mFunds, sDuitNow, "DUITNOW TRANSFER FROM "+name)
	tx.RecipientRef = note
	return cand{tx: tx}
}

func (g *gen) fpx(d time.Time, m merchant) cand {
	tx := newTx(g.at(d, 8, 23), debit, g.between(m.min, m.max), mOnline, sFPX, "FPX PAYMENT "+m.name)
	tx.MerchantName = m.name
	tx.RecipientRef = "FPX" + d.Format("060102") + g.digits(10)
	return cand{tx: tx}
}

func (g *gen) atm(d time.Time, maxNotes int64) cand {
	tx := newTx(g.at(d, 8, 22), debit, g.between(1, maxNotes)*5000, mCashOut, sSharedATM, "ATM WITHDRAWAL MEPS "+pick(g, atms))
	tx.OtherDescription = "SHARED ATM NETWORK"
	return cand{tx: tx}
}

// bill is a household's JomPAY biller with its bill account number and payment day.
type bill struct {
	biller
	account string
	day     int
}

func (g *gen) bills(names ...string) []bill {
	var out []bill
	for _, b := range billers {
		if contains(names, b.name) {
			out = append(out, bill{biller: b, account: g.digits(12), day: 3 + g.rng.IntN(18)})
		}
	}
	return out
}

func (g *gen) jompay(d time.Time, bs []bill) []cand {
	var out []cand
	for _, b := range bs {
		if d.Day() != b.day || int(d.Month()-1)%b.every != 0 {
			continue
		}
		tx := newTx(g.at(d, 8, 23), debit, g.between(b.min, b.max), mBill, sJomPAY, "JOMPAY "+b.name)
		tx.RecipientRef = b.account
		tx.OtherDescription = "BILL " + monthLabel(d)
		out = append(out, cand{tx: tx})
	}
	return out
}

// monthlyInterest credits a deposit's interest on the closing balance of the month.
func (g *gen) monthlyInterest(d time.Time, rate float64) []cand {
	if !isMonthEnd(d) || g.bal <= 0 {
		return nil
	}
	amount := roundMinor(float64(g.bal) * rate / 100 / 12)
	tx := newTx(d.Add(23*time.Hour+58*time.Minute), credit, amount, mFunds, sAdjustment, "INTEREST CREDIT")
	tx.OtherDescription = "INTEREST " + monthLabel(d)
	return []cand{{tx: tx, mandatory: true}}
}

type noClose struct{}

func (noClose) close(*gen, time.Time) {}
