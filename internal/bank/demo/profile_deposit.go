package demo

import (
	"fmt"
	"strings"
	"time"
)

// The deposit profiles (savings and current accounts).

// salaryEarner: a salaried employee's main account: salary on the 25th (and a bonus in
// March), bills by JomPAY, card and QR spending, DuitNow, FPX, ATM, a subscription, and
// instalments of the customer's loans and card (pays_from).
type salaryEarner struct {
	noClose
	employer string
	salary   int64
	bills    []bill
	subsDay  int
	rate     float64
}

func newSalaryEarner(g *gen) *salaryEarner {
	p := &salaryEarner{employer: pick(g, employers), subsDay: 1 + g.rng.IntN(28), rate: g.rate(defaultDepositRate)}
	p.salary = g.between(450000, 1200000)
	// Pay enough to cover the loans and card this account pays, with room to live.
	if need := g.incomingTotal/int64(g.spec.months)*18/10 + 300000; p.salary < need {
		p.salary = need + g.between(0, 50000)
	}
	telco := pick(g, []string{"UNIFI (TELEKOM MALAYSIA)", "MAXIS BROADBAND"})
	p.bills = g.bills("TENAGA NASIONAL BERHAD", "AIR SELANGOR", telco, "INDAH WATER KONSORTIUM", "ASTRO")
	return p
}

func (p *salaryEarner) day(g *gen, d time.Time) []cand {
	var out []cand
	if d.Day() == 25 {
		tx := newTx(g.at(d, 6, 9), credit, p.salary, mFunds, sIBG, "IBG CREDIT "+p.employer)
		tx.RecipientRef = "SALARY " + monthLabel(d)
		out = append(out, cand{tx: tx, mandatory: true})
		if d.Month() == time.March {
			bonus := newTx(g.at(d, 9, 12), credit, p.salary*3/2, mFunds, sIBG, "IBG CREDIT "+p.employer)
			bonus.RecipientRef = "BONUS " + monthLabel(d)
			out = append(out, cand{tx: bonus, mandatory: true})
		}
	}
	out = append(out, g.jompay(d, p.bills)...)
	for range g.count(3, 0.35) {
		out = append(out, g.debitCard(d, g.merchant(cardMerchants)))
	}
	for range g.count(2, 0.3) {
		out = append(out, g.qr(d))
	}
	if g.chance(0.05) {
		m := g.merchant(onlineMerchants)
		out = append(out, g.debitCardOnline(d, m, g.between(m.min, m.max)))
	}
	if d.Day() == p.subsDay {
		out = append(out, g.debitCardOnline(d, merchant{name: "NETFLIX.COM", mcc: "4899"}, 5500))
	}
	if g.chance(0.15) {
		out = append(out, g.duitNowOut(d, 1000, 30000))
	}
	if g.chance(0.07) {
		out = append(out, g.duitNowIn(d, pick(g, people), g.between(1000, 25000), pick(g, transferNotes)))
	}
	if g.chance(0.07) {
		out = append(out, g.fpx(d, g.merchant(fpxMerchants)))
	}
	if d.Month() == time.April && d.Day() == 28 {
		out = append(out, g.fpx(d, merchant{name: "LEMBAGA HASIL DALAM NEGERI", min: 20000, max: 150000}))
	}
	if g.chance(0.1) {
		out = append(out, g.atm(d, 8))
	}
	return out
}

func (p *salaryEarner) endOfDay(g *gen, d time.Time) []cand { return g.monthlyInterest(d, p.rate) }

// heavyUser: a small kuih business run from a personal savings account: many DuitNow
// transfers in from customers every day, QR and card spending, weekly supplier payments.
// About 14 transactions a day, over 5,000 a year.
type heavyUser struct {
	noClose
	order int
	bills []bill
	rate  float64
}

func newHeavyUser(g *gen) *heavyUser {
	return &heavyUser{
		order: 1000 + g.rng.IntN(8000),
		bills: g.bills("TENAGA NASIONAL BERHAD", "AIR SELANGOR", "MAXIS BROADBAND"),
		rate:  g.rate(defaultDepositRate),
	}
}

func (p *heavyUser) day(g *gen, d time.Time) []cand {
	var out []cand
	for range 5 + g.count(6, 0.3) {
		p.order++
		out = append(out, g.duitNowIn(d, pick(g, people), g.between(2000, 15000), fmt.Sprintf("KUIH ORDER #%d", p.order)))
	}
	for range 3 + g.count(6, 0.3) {
		out = append(out, g.qr(d))
	}
	for range g.count(4, 0.45) {
		out = append(out, g.debitCard(d, g.merchant(cardMerchants)))
	}
	if g.chance(0.3) {
		out = append(out, g.debitCard(d, merchant{name: "GRAB RIDES", mcc: "4121", min: 800, max: 4500}))
	}
	if d.Weekday() == time.Monday {
		s := pick(g, suppliers)
		amount := g.between(30000, 150000)
		method, desc := sDuitNow, "DUITNOW TRANSFER TO "+s
		if amount > 100000 {
			method, desc = sIBG, "IBG TRANSFER TO "+s
		}
		tx := newTx(g.at(d, 9, 12), debit, amount, mFunds, method, desc)
		tx.RecipientRef = "INV " + g.digits(6)
		out = append(out, cand{tx: tx})
	}
	out = append(out, g.jompay(d, p.bills)...)
	if g.chance(0.25) {
		out = append(out, g.atm(d, 6))
	}
	if g.chance(0.15) {
		out = append(out, g.fpx(d, g.merchant(fpxMerchants)))
	}
	if g.chance(0.2) {
		out = append(out, g.duitNowOut(d, 1000, 30000))
	}
	return out
}

func (p *heavyUser) endOfDay(g *gen, d time.Time) []cand { return g.monthlyInterest(d, p.rate) }

// household: a joint account both holders pay into on the 26th for bills and groceries.
type household struct {
	noClose
	holders      []string
	contribution int64
	bills        []bill
	rate         float64
}

func newHousehold(g *gen) *household {
	p := &household{contribution: g.between(8, 20) * 10000, rate: g.rate(defaultDepositRate)}
	for _, h := range strings.Split(g.acct.HolderName, "&") {
		if h = strings.TrimSpace(h); h != "" {
			p.holders = append(p.holders, h)
		}
	}
	p.bills = g.bills("TENAGA NASIONAL BERHAD", "AIR SELANGOR", "INDAH WATER KONSORTIUM", "UNIFI (TELEKOM MALAYSIA)")
	return p
}

// merchantsWithMCC are the card merchants of one category.
func merchantsWithMCC(mcc string) []merchant {
	var out []merchant
	for _, m := range cardMerchants {
		if m.mcc == mcc {
			out = append(out, m)
		}
	}
	return out
}

var (
	groceries = merchantsWithMCC("5411")
	fuel      = merchantsWithMCC("5541")
)

func (p *household) day(g *gen, d time.Time) []cand {
	var out []cand
	if d.Day() == 26 {
		for _, h := range p.holders {
			out = append(out, g.duitNowIn(d, h, p.contribution, "HOUSEHOLD "+monthLabel(d)))
		}
	}
	out = append(out, g.jompay(d, p.bills)...)
	if g.chance(0.3) {
		out = append(out, g.debitCard(d, g.merchant(groceries)))
	}
	if g.chance(0.1) {
		out = append(out, g.debitCard(d, g.merchant(fuel)))
	}
	if g.chance(0.03) {
		out = append(out, g.fpx(d, merchant{name: "TADIKA CERIA SDN BHD", min: 35000, max: 65000}))
	}
	if g.chance(0.05) {
		out = append(out, g.atm(d, 4))
	}
	return out
}

func (p *household) endOfDay(g *gen, d time.Time) []cand { return g.monthlyInterest(d, p.rate) }

// currentAccount: a current account that collects rent from a tenant and pays a housing loan,
// the building's maintenance, assessment and quit rent, contractors by cheque and IBG.
type currentAccount struct {
	noClose
	tenant, family string
	rent, topUp    int64
	rentDay        int
	cheque         int
}

func newCurrentAccount(g *gen) *currentAccount {
	p := &currentAccount{
		tenant:  pick(g, people),
		family:  pick(g, people),
		rent:    g.between(36, 52) * 5000,
		rentDay: 1 + g.rng.IntN(5),
		cheque:  100 + g.rng.IntN(800),
	}
	if need := g.incomingTotal/int64(g.spec.months) + 120000 - p.rent; need > 0 {
		p.topUp = (need/10000 + 1) * 10000
	}
	return p
}

func (p *currentAccount) day(g *gen, d time.Time) []cand {
	var out []cand
	if d.Day() == p.rentDay {
		out = append(out, g.duitNowIn(d, p.tenant, p.rent, "RENT "+monthLabel(d)))
	}
	if d.Day() == 27 && p.topUp > 0 {
		tx := newTx(g.at(d, 9, 17), credit, p.topUp, mFunds, sIBG, "IBG CREDIT "+p.family)
		tx.RecipientRef = "HOUSING " + monthLabel(d)
		out = append(out, cand{tx: tx})
	}
	if d.Day() == 10 {
		tx := newTx(g.at(d, 9, 17), debit, 28500, mFunds, sIBG, "IBG TRANSFER TO PENGURUSAN BERSAMA RESIDENSI DAMAI")
		tx.RecipientRef = "MAINTENANCE " + monthLabel(d)
		out = append(out, cand{tx: tx})
	}
	if d.Day() == 20 && (d.Month() == time.February || d.Month() == time.August) {
		tx := newTx(g.at(d, 9, 17), debit, g.between(40000, 90000), mBill, sJomPAY, "JOMPAY MAJLIS BANDARAYA PETALING JAYA")
		tx.RecipientRef = "CUKAI TAKSIRAN " + g.digits(8)
		out = append(out, cand{tx: tx})
	}
	if d.Day() == 15 && d.Month() == time.May {
		tx := newTx(g.at(d, 9, 17), debit, g.between(8000, 20000), mBill, sJomPAY, "JOMPAY PEJABAT TANAH DAN GALIAN SELANGOR")
		tx.RecipientRef = "CUKAI TANAH " + g.digits(8)
		out = append(out, cand{tx: tx})
	}
	if g.chance(0.012) {
		p.cheque++
		tx := newTx(g.at(d, 9, 17), debit, g.between(30000, 300000), mCheque, sEspick, fmt.Sprintf("CHEQUE %06d PRESENTED", p.cheque))
		tx.RecipientRef = pick(g, []string{"RENOVATION", "PLUMBING", "AIRCOND SERVICE", "ELECTRICAL WORKS"})
		out = append(out, cand{tx: tx})
	}
	if g.chance(0.04) {
		tx := newTx(g.at(d, 8, 22), credit, g.between(2, 20)*5000, mCashIn, sSharedATM, "CASH DEPOSIT CDM "+pick(g, atms))
		out = append(out, cand{tx: tx})
	}
	if g.chance(0.02) {
		name := pick(g, people)
		tx := newTx(g.at(d, 8, 22), debit, g.between(20000, 150000), mFunds, sIBG, "IBG TRANSFER TO "+name)
		tx.RecipientRef = pick(g, transferNotes)
		out = append(out, cand{tx: tx})
	}
	if g.chance(0.08) {
		out = append(out, g.duitNowOut(d, 2000, 50000))
	}
	return out
}

func (p *currentAccount) endOfDay(g *gen, d time.Time) []cand {
	if d.Day() == 30 && d.Month() == time.June || d.Day() == 31 && d.Month() == time.December {
		tx := newTx(d.Add(23*time.Hour+50*time.Minute), debit, 1000, mFunds, sAdjustment, "SERVICE CHARGE CURRENT ACCOUNT")
		return []cand{{tx: tx, mandatory: true}}
	}
	return nil
}

// foreignCurrency: a foreign-currency account receiving freelance income by telegraphic
// transfer and sending some abroad. Amounts are in the account's currency.
type foreignCurrency struct {
	noClose
	remitter string
	rate     float64
}

func newForeignCurrency(g *gen) *foreignCurrency {
	return &foreignCurrency{remitter: pick(g, remitters), rate: g.rate(0.05)}
}

func (p *foreignCurrency) day(g *gen, d time.Time) []cand {
	var out []cand
	if g.chance(0.03) {
		tx := newTx(g.at(d, 9, 17), credit, g.between(30000, 250000), mFunds, sOthers, "INWARD TELEGRAPHIC TRANSFER "+p.remitter)
		tx.RecipientRef = "INV-" + g.digits(5)
		out = append(out, cand{tx: tx})
	}
	if g.chance(0.02) {
		tx := newTx(g.at(d, 9, 17), debit, g.between(20000, 150000), mFunds, sOthers, "OUTWARD TELEGRAPHIC TRANSFER TO "+pick(g, people))
		tx.RecipientRef = pick(g, []string{"TUITION", "FAMILY SUPPORT", "TRAVEL"})
		out = append(out, cand{tx: tx})
	}
	return out
}

func (p *foreignCurrency) endOfDay(g *gen, d time.Time) []cand { return g.monthlyInterest(d, p.rate) }

// dormant: no customer activity; the bank credits interest twice a year.
type dormant struct {
	noClose
	rate float64
}

func (*dormant) day(*gen, time.Time) []cand { return nil }

func (p *dormant) endOfDay(g *gen, d time.Time) []cand {
	if !(d.Day() == 30 && d.Month() == time.June || d.Day() == 31 && d.Month() == time.December) || g.bal <= 0 {
		return nil
	}
	tx := newTx(d.Add(23*time.Hour+58*time.Minute), credit, roundMinor(float64(g.bal)*p.rate/100/2), mFunds, sAdjustment, "INTEREST CREDIT")
	return []cand{{tx: tx, mandatory: true}}
}
