package demo

import (
	"math"
	"strings"
	"time"

	"github.com/ofpdp/ofpdp/connector"
)

// The credit profiles: credit card, hire purchase and mortgage.

// creditCard: purchases with merchant names and MCC, online and foreign-currency spending,
// a monthly statement on statement_day, payment 10-18 days later (in full three times out of
// four), finance charges on what was left unpaid. The opening balance is the last statement
// before the window, to be paid in it.
type creditCard struct {
	day0     int
	rate     float64
	lastStmt int64
	paid     int64
	payDate  time.Time
	payAmt   int64
	masked   string
}

func newCreditCard(g *gen) *creditCard {
	p := &creditCard{day0: g.spec.statementDay, rate: *g.acct.InterestRate, masked: maskCard(g.acct.Number)}
	prev := time.Date(g.start.Year(), g.start.Month(), p.day0, 0, 0, 0, 0, myt)
	if !prev.Before(g.start) {
		prev = prev.AddDate(0, -1, 0)
	}
	p.statement(g, prev)
	return p
}

// statement closes a statement at the end of day d and plans its payment.
func (p *creditCard) statement(g *gen, d time.Time) {
	p.lastStmt, p.paid, p.payAmt = g.bal, 0, 0
	g.stmt = &statement{date: d, balance: g.bal}
	if g.bal <= 0 {
		return
	}
	p.payAmt = g.bal
	if !g.chance(0.75) {
		p.payAmt = max(minimumPayment(g.bal), g.bal*g.between(30, 60)/100)
	}
	// The opening balance is a statement from before the window: its payment falls inside.
	p.payDate = d.AddDate(0, 0, int(g.between(10, 18)))
	if p.payDate.Before(g.start) {
		p.payDate = g.start
	}
}

func (p *creditCard) day(g *gen, d time.Time) []cand {
	var out []cand
	if d.Equal(p.payDate) && p.payAmt > 0 {
		amount := min(p.payAmt, g.bal)
		p.paid += max(amount, 0)
		tx := newTx(g.at(d, 9, 20), credit, amount, mFunds, sIntrabank, "PAYMENT RECEIVED - THANK YOU")
		c := cand{tx: tx, mandatory: true}
		if g.spec.paysFrom != "" {
			m := newTx(time.Time{}, debit, 0, mFunds, sIntrabank, "CREDIT CARD PAYMENT")
			m.RecipientRef = "CARD " + p.masked
			c.mirror = &m
		}
		out = append(out, c)
	}
	if d.Day() == p.day0 && p.lastStmt > p.paid {
		charge := roundMinor(float64(p.lastStmt-p.paid) * p.rate / 100 / 12)
		out = append(out, cand{tx: newTx(d.Add(22*time.Hour+55*time.Minute), debit, charge, mOthers, sOthers, "FINANCE CHARGES"), mandatory: true})
	}
	for range g.count(4, 0.3) {
		m := g.merchant(cardMerchants)
		tx := newTx(g.at(d, 8, 22), debit, g.between(m.min, m.max), mInstore, sOthers, m.name)
		tx.MerchantName, tx.MCC = m.name, m.mcc
		out = append(out, cand{tx: tx, pendable: true})
	}
	if g.chance(0.12) {
		m := g.merchant(onlineMerchants)
		tx := newTx(g.at(d, 0, 23), debit, g.between(m.min, m.max), mOnline, sOthers, m.name)
		tx.MerchantName, tx.MCC = m.name, m.mcc
		out = append(out, cand{tx: tx, pendable: true})
	}
	if g.chance(0.06) {
		f := pick(g, foreignMerchants)
		foreign := g.between(f.min, f.max)
		// Card-scheme rate plus up to 2% markup.
		amount := roundMinor(float64(foreign) * f.rate * (1 + g.rng.Float64()*0.02))
		method := mInstore
		if strings.Contains(f.name, ".COM") || f.name == "STEAM GAMES" {
			method = mOnline
		}
		tx := newTx(g.at(d, 0, 23), debit, amount, method, sOthers, f.name+" "+f.currency+" "+formatAmount(foreign))
		tx.MerchantName, tx.MCC = f.name, f.mcc
		tx.ForeignAmount = &connector.Money{Minor: foreign, Currency: f.currency}
		out = append(out, cand{tx: tx, pendable: true})
	}
	if d.Day() == 8 {
		tx := newTx(g.at(d, 0, 6), debit, 1690, mOnline, sOthers, "SPOTIFY")
		tx.MerchantName, tx.MCC = "SPOTIFY", "5815"
		out = append(out, cand{tx: tx, pendable: true})
	}
	if g.chance(0.01) {
		m := onlineMerchants[0]
		tx := newTx(g.at(d, 0, 23), credit, g.between(1500, 15000), mOthers, sOthers, "REFUND "+m.name)
		tx.MerchantName, tx.MCC = m.name, m.mcc
		out = append(out, cand{tx: tx})
	}
	return out
}

func (p *creditCard) endOfDay(*gen, time.Time) []cand { return nil }

func (p *creditCard) close(g *gen, d time.Time) {
	if d.Day() == p.day0 {
		p.statement(g, d)
	}
}

// minimumPayment is a card's minimum payment: 5% of the statement balance, at least RM 50,
// at most the balance.
func minimumPayment(stmt int64) int64 {
	if stmt <= 0 {
		return 0
	}
	return min(max(stmt*5/100, 5000), stmt)
}

// maskCard masks a card number as first 6, '*', last 4 (design.md §3.7).
func maskCard(n string) string {
	if len(n) < 11 {
		return strings.Repeat("*", len(n))
	}
	return n[:6] + strings.Repeat("*", len(n)-10) + n[len(n)-4:]
}

// Loans.

// loan: a hire purchase (flat rate: the balance includes the term charges and falls by the
// instalment) or a mortgage (reducing balance: interest charged at each month end, annuity
// instalment). Instalments fall on the origination day of the month (at most the 28th). The
// opening outstanding, when the file does not give it, is derived from the loan's terms.
type loan struct {
	noClose
	mortgage    bool
	orig, mat   time.Time
	n           int
	instDay     int
	instalment  int64
	monthlyRate float64
	disbursed   int64
	masked      string
}

func newLoan(g *gen) *loan {
	l := g.acct.Loan
	p := &loan{
		mortgage: g.acct.Subtype == connector.SubtypeMortgage,
		orig:     l.OriginationDate,
		mat:      l.MaturityDate,
		n:        monthsBetween(l.OriginationDate, l.MaturityDate),
		instDay:  min(l.OriginationDate.Day(), 28),
		masked:   "****" + g.acct.Number[len(g.acct.Number)-4:],
	}
	rate := *g.acct.InterestRate / 100
	principal := float64(l.LoanAmount.Minor)
	if p.mortgage {
		p.monthlyRate = rate / 12
		p.disbursed = l.LoanAmount.Minor
		if p.monthlyRate == 0 {
			p.instalment = roundMinor(principal / float64(p.n))
		} else {
			p.instalment = roundMinor(principal * p.monthlyRate / (1 - math.Pow(1+p.monthlyRate, -float64(p.n))))
		}
	} else {
		p.disbursed = roundMinor(principal * (1 + rate*float64(p.n)/12))
		p.instalment = roundMinor(float64(p.disbursed) / float64(p.n))
	}
	if !g.spec.hasOpening {
		g.bal = p.outstandingAt(g.start)
	}
	return p
}

// instalmentDate is the date of the k-th instalment (k from 1).
func (p *loan) instalmentDate(k int) time.Time {
	return time.Date(p.orig.Year(), p.orig.Month()+time.Month(k), p.instDay, 0, 0, 0, 0, myt)
}

// instalmentOn is the instalment due on date d when out is outstanding: the last one
// clears the loan.
func (p *loan) instalmentOn(d time.Time, out int64) int64 {
	if d.Equal(p.instalmentDate(p.n)) {
		return out
	}
	return min(p.instalment, out)
}

// outstandingAt replays the loan from origination to the start of day t, with the same rules
// the day-by-day generator uses.
func (p *loan) outstandingAt(t time.Time) int64 {
	if !p.orig.Before(t) {
		return 0
	}
	out := p.disbursed
	for k := 0; ; k++ {
		month := time.Date(p.orig.Year(), p.orig.Month()+time.Month(k), 1, 0, 0, 0, 0, myt)
		if !month.Before(t) {
			break
		}
		if due := p.instalmentDate(k); k >= 1 && due.Before(t) && !due.After(p.mat) && out > 0 {
			out -= p.instalmentOn(due, out)
		}
		if end := month.AddDate(0, 1, -1); p.mortgage && !end.Before(p.orig) && end.Before(t) && out > 0 {
			out += roundMinor(float64(out) * p.monthlyRate)
		}
	}
	return out
}

func (p *loan) day(g *gen, d time.Time) []cand {
	var out []cand
	if d.Equal(p.orig) {
		desc := "HIRE PURCHASE DISBURSEMENT"
		if p.mortgage {
			desc = "HOUSING LOAN DISBURSEMENT"
		}
		out = append(out, cand{tx: newTx(d.Add(10*time.Hour), debit, p.disbursed, mFunds, sOthers, desc), mandatory: true})
	}
	if d.Day() == p.instDay && d.After(p.orig) && !d.After(p.mat) && g.bal > 0 {
		sub, desc := sDirectDebit, "HIRE PURCHASE INSTALMENT"
		if p.mortgage {
			sub, desc = sAutoDebit, "HOUSING LOAN INSTALMENT"
		}
		tx := newTx(g.at(d, 6, 9), credit, p.instalmentOn(d, g.bal), mRecurring, sub, "INSTALMENT RECEIVED - THANK YOU")
		tx.RecipientRef = monthLabel(d)
		c := cand{tx: tx, mandatory: true}
		if g.spec.paysFrom != "" {
			m := newTx(time.Time{}, debit, 0, mRecurring, sub, desc)
			m.RecipientRef = "LOAN " + p.masked + " " + monthLabel(d)
			c.mirror = &m
		}
		out = append(out, c)
	}
	return out
}

func (p *loan) endOfDay(g *gen, d time.Time) []cand {
	if !p.mortgage || !isMonthEnd(d) || d.Before(p.orig) || g.bal <= 0 {
		return nil
	}
	interest := roundMinor(float64(g.bal) * p.monthlyRate)
	tx := newTx(d.Add(23*time.Hour+59*time.Minute), debit, interest, mOthers, sOthers, "INTEREST CHARGED")
	return []cand{{tx: tx, mandatory: true}}
}

// nextDue is the first instalment date on or after t, if the loan has one.
func (p *loan) nextDue(t time.Time) (time.Time, bool) {
	for k := 1; k <= p.n; k++ {
		if d := p.instalmentDate(k); !d.Before(t) {
			return d, !d.After(p.mat)
		}
	}
	return time.Time{}, false
}
