package demo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/mail"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/ofpdp/ofpdp/connector"
)

// Limits on a data file. They keep a mistyped or hostile file from exhausting memory at load.
const (
	maxFileSize  = 16 << 20
	maxCustomers = 10_000
	maxAccounts  = 50_000
	maxMonths    = 36
	maxErrors    = 25
	// maxTenureMonths bounds a loan's origination..maturity span (50 years).
	maxTenureMonths = 600
	// minBcryptCost and maxBcryptCost bound the cost of a password hash: below 10 is too
	// weak, above 15 makes every login take seconds.
	minBcryptCost = 10
	maxBcryptCost = 15
)

// maxTransactions bounds the transactions a file may generate in all (about 500 MB); a
// variable so that a test can lower it.
var maxTransactions = 2_000_000

// ErrInvalidFile is wrapped by every error Load returns for a file that is not a valid bank
// data file. The error also carries one *FieldError per problem found.
var ErrInvalidFile = errors.New("demo: invalid bank data file")

// FieldError is one problem in a bank data file.
type FieldError struct {
	// Field is the JSON path of the offending value, e.g. "accounts[3].transactions.profile",
	// or empty when the problem is the file as a whole (bad JSON).
	Field string
	Err   error
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return "bank data: " + e.Err.Error()
	}
	return "bank data: " + e.Field + ": " + e.Err.Error()
}

// Unwrap lets errors.Is match both ErrInvalidFile and the underlying cause.
func (e *FieldError) Unwrap() []error { return []error{ErrInvalidFile, e.Err} }

// fileData is the JSON document (docs/connector.md describes every field).
type fileData struct {
	Version    int            `json:"version"`
	AnchorDate string         `json:"anchor_date"`
	Customers  []fileCustomer `json:"customers"`
	Accounts   []fileAccount  `json:"accounts"`
}

type fileCustomer struct {
	Ref          string `json:"ref"`
	Username     string `json:"username"`
	PasswordHash string `json:"password_hash"`
	Name         string `json:"name"`
	IDType       string `json:"id_type"`
	IDNumber     string `json:"id_number"`
	Mobile       string `json:"mobile,omitempty"`
	Email        string `json:"email,omitempty"`
}

type fileAccount struct {
	Ref                  string         `json:"ref"`
	CustomerRef          string         `json:"customer_ref"`
	Number               string         `json:"number"`
	Name                 string         `json:"name"`
	HolderName           string         `json:"holder_name"`
	HolderType           string         `json:"holder_type"`
	Category             string         `json:"category"`
	Type                 string         `json:"type"`
	Subtype              string         `json:"subtype"`
	Currency             string         `json:"currency"`
	Status               string         `json:"status"`
	Limit                *string        `json:"limit,omitempty"`
	InterestRate         *float64       `json:"interest_rate,omitempty"`
	MinimumPaymentAmount *string        `json:"minimum_payment_amount,omitempty"`
	PaymentDueDate       *string        `json:"payment_due_date,omitempty"`
	Loan                 *fileLoan      `json:"loan,omitempty"`
	Transactions         *fileGenerator `json:"transactions,omitempty"`
}

type fileLoan struct {
	LoanAmount      string `json:"loan_amount"`
	OriginationDate string `json:"origination_date"`
	MaturityDate    string `json:"maturity_date"`
}

// fileGenerator describes how to generate an account's transactions.
type fileGenerator struct {
	Seed           uint64 `json:"seed"`
	Profile        string `json:"profile"`
	Months         int    `json:"months"`
	OpeningBalance string `json:"opening_balance,omitempty"`
	AnchorDate     string `json:"anchor_date,omitempty"`
	StatementDay   int    `json:"statement_day,omitempty"`
	PaysFrom       string `json:"pays_from,omitempty"`
}

var (
	refRE      = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$`)
	usernameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)
	bcryptRE   = regexp.MustCompile(`^\$2[aby]?\$([0-9]{2})\$[./A-Za-z0-9]{53}$`)
	nricRE     = regexp.MustCompile(`^[0-9]{6}-?[0-9]{2}-?[0-9]{4}$`)
	passportRE = regexp.MustCompile(`^[A-Z0-9]{6,20}$`)
	mobileRE   = regexp.MustCompile(`^\+[1-9][0-9]{7,14}$`)
	numberRE   = regexp.MustCompile(`^[0-9]{8,19}$`)
	cardRE     = regexp.MustCompile(`^[0-9]{13,19}$`)
	currencyRE = regexp.MustCompile(`^[A-Z]{3}$`)
)

// subtypesOf lists the account types and subtypes a bank connector serves (spec §5.4).
var subtypesOf = map[string][]string{
	connector.TypeDeposit: {connector.SubtypeSavings, connector.SubtypeCurrent},
	connector.TypeCredit:  {connector.SubtypeCreditCard},
	connector.TypeLoan:    {connector.SubtypeHirePurchase, connector.SubtypeMortgage},
}

// profileInfo says which accounts a generator profile fits.
type profileInfo struct {
	typ      string
	subtypes []string // empty: any subtype of typ
	currency string   // "MYR": MYR only; "foreign": anything but MYR; "": any
}

var profiles = map[string]profileInfo{
	"salary_earner":    {typ: connector.TypeDeposit, currency: "MYR"},
	"heavy_user":       {typ: connector.TypeDeposit, currency: "MYR"},
	"current_account":  {typ: connector.TypeDeposit, currency: "MYR"},
	"household":        {typ: connector.TypeDeposit, currency: "MYR"},
	"foreign_currency": {typ: connector.TypeDeposit, currency: "foreign"},
	"dormant":          {typ: connector.TypeDeposit},
	"credit_card":      {typ: connector.TypeCredit, subtypes: []string{connector.SubtypeCreditCard}, currency: "MYR"},
	"hire_purchase":    {typ: connector.TypeLoan, subtypes: []string{connector.SubtypeHirePurchase}, currency: "MYR"},
	"mortgage":         {typ: connector.TypeLoan, subtypes: []string{connector.SubtypeMortgage}, currency: "MYR"},
}

func profileNames() string {
	return "salary_earner, heavy_user, current_account, household, foreign_currency, dormant, credit_card, hire_purchase, mortgage"
}

// decodeFile reads and strictly decodes the JSON document: unknown fields and trailing data
// are errors, so a typo in a field name is reported rather than silently ignored.
func decodeFile(r io.Reader) (*fileData, error) {
	raw, err := io.ReadAll(io.LimitReader(r, maxFileSize+1))
	if err != nil {
		return nil, &FieldError{Err: fmt.Errorf("read: %w", err)}
	}
	if len(raw) > maxFileSize {
		return nil, &FieldError{Err: fmt.Errorf("file is larger than %d bytes", maxFileSize)}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var f fileData
	if err := dec.Decode(&f); err != nil {
		var typeErr *json.UnmarshalTypeError
		var syntaxErr *json.SyntaxError
		switch {
		case errors.As(err, &typeErr) && typeErr.Field != "":
			return nil, &FieldError{Field: typeErr.Field, Err: fmt.Errorf("expected %s, got a JSON %s", typeErr.Type, typeErr.Value)}
		case errors.As(err, &syntaxErr):
			return nil, &FieldError{Err: fmt.Errorf("invalid JSON at byte %d: %w", syntaxErr.Offset, err)}
		default:
			return nil, &FieldError{Err: fmt.Errorf("invalid JSON: %w", err)}
		}
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &FieldError{Err: errors.New("trailing data after the JSON object")}
	}
	return &f, nil
}

// validator collects the problems of a file, up to maxErrors.
type validator struct {
	errs    []error
	dropped int
}

func (v *validator) add(field, format string, args ...any) {
	if len(v.errs) >= maxErrors {
		v.dropped++
		return
	}
	v.errs = append(v.errs, &FieldError{Field: field, Err: fmt.Errorf(format, args...)})
}

func (v *validator) err() error {
	if len(v.errs) == 0 {
		return nil
	}
	errs := v.errs
	if v.dropped > 0 {
		errs = append(errs, &FieldError{Err: fmt.Errorf("%d more problems not shown", v.dropped)})
	}
	return errors.Join(errs...)
}

func (v *validator) required(field, value string) bool {
	if strings.TrimSpace(value) == "" {
		v.add(field, "is required")
		return false
	}
	return true
}

func (v *validator) text(field, value string, max int) {
	if v.required(field, value) && len(value) > max {
		v.add(field, "is longer than %d bytes", max)
	}
}

func (v *validator) oneOf(field, value string, allowed ...string) bool {
	for _, a := range allowed {
		if value == a {
			return true
		}
	}
	if value == "" {
		v.add(field, "is required: one of %s", strings.Join(allowed, ", "))
		return false
	}
	v.add(field, "%q is not one of %s", value, strings.Join(allowed, ", "))
	return false
}

func (v *validator) amount(field, value string) (int64, bool) {
	m, err := parseAmount(value)
	if err != nil {
		v.add(field, "%v", err)
		return 0, false
	}
	return m, true
}

func (v *validator) date(field, value string) (time.Time, bool) {
	t, err := parseDate(value)
	if err != nil {
		v.add(field, "%v", err)
		return time.Time{}, false
	}
	return t, true
}

// parsed is a validated file, ready to generate.
type parsed struct {
	anchor    time.Time
	customers []connector.Customer
	usernames []string
	hashes    [][]byte
	accounts  []parsedAccount
}

type parsedAccount struct {
	connector.Account
	field string // JSON path, for generator errors
	gen   *genSpec
	// explicitDue and explicitMin report whether the file set payment_due_date and
	// minimum_payment_amount; otherwise they are derived from the generated history.
	explicitDue, explicitMin bool
}

// genSpec is a validated generator.
type genSpec struct {
	seed         uint64
	profile      string
	months       int
	opening      int64
	hasOpening   bool
	anchor       time.Time // zero: the file's anchor
	statementDay int
	paysFrom     string
}

// validate checks every field of the file and converts it to bank types.
func validate(f *fileData) (*parsed, error) {
	v := &validator{}
	p := &parsed{}

	if f.Version != 1 {
		v.add("version", "must be 1, got %d", f.Version)
	}
	if v.required("anchor_date", f.AnchorDate) {
		p.anchor, _ = v.date("anchor_date", f.AnchorDate)
	}
	switch {
	case len(f.Customers) == 0:
		v.add("customers", "must list at least one customer")
	case len(f.Customers) > maxCustomers:
		v.add("customers", "lists more than %d customers", maxCustomers)
		return nil, v.err()
	}
	if len(f.Accounts) > maxAccounts {
		v.add("accounts", "lists more than %d accounts", maxAccounts)
		return nil, v.err()
	}

	customerByRef := map[string]int{}
	usernames := map[string]string{}
	ids := map[string]string{}
	for i, c := range f.Customers {
		path := fmt.Sprintf("customers[%d]", i)
		if !refRE.MatchString(c.Ref) {
			v.add(path+".ref", "%q must be 1-32 letters, digits, '.', '_' or '-'", c.Ref)
		} else if _, dup := customerByRef[c.Ref]; dup {
			v.add(path+".ref", "%q is used by another customer", c.Ref)
		} else {
			customerByRef[c.Ref] = i
		}
		if !usernameRE.MatchString(c.Username) {
			v.add(path+".username", "%q must be 1-64 lower-case letters, digits, '.', '_' or '-'", c.Username)
		} else if other, dup := usernames[c.Username]; dup {
			v.add(path+".username", "%q is also the username of %s", c.Username, other)
		} else {
			usernames[c.Username] = path
		}
		if m := bcryptRE.FindStringSubmatch(c.PasswordHash); m == nil {
			v.add(path+".password_hash", "must be a bcrypt hash ($2a$10$ followed by 53 characters), never a plaintext password")
		} else if cost, _ := strconv.Atoi(m[1]); cost < minBcryptCost || cost > maxBcryptCost {
			v.add(path+".password_hash", "bcrypt cost %d is outside %d..%d", cost, minBcryptCost, maxBcryptCost)
		}
		v.text(path+".name", c.Name, 140)
		if v.oneOf(path+".id_type", c.IDType, "nric", "passport") {
			// The ID number itself is never echoed in an error: it is personal data.
			re := nricRE
			want := "an NRIC like 900101-14-5678"
			if c.IDType == "passport" {
				re, want = passportRE, "a passport number of 6-20 upper-case letters and digits"
			}
			if !re.MatchString(c.IDNumber) {
				v.add(path+".id_number", "must be %s", want)
			} else {
				key := c.IDType + ":" + strings.ReplaceAll(c.IDNumber, "-", "")
				if other, dup := ids[key]; dup {
					v.add(path+".id_number", "is also the ID number of %s", other)
				} else {
					ids[key] = path
				}
			}
		}
		if c.Mobile != "" && !mobileRE.MatchString(c.Mobile) {
			v.add(path+".mobile", "%q must be an E.164 number like +60123456789", c.Mobile)
		}
		if c.Email != "" {
			if a, err := mail.ParseAddress(c.Email); err != nil || a.Address != c.Email {
				v.add(path+".email", "%q is not a plain e-mail address", c.Email)
			}
		}
		p.customers = append(p.customers, connector.Customer{
			Ref: c.Ref, Name: c.Name, IDType: c.IDType, IDNumber: c.IDNumber,
			MobileNumber: c.Mobile, Email: c.Email,
		})
		p.usernames = append(p.usernames, c.Username)
		p.hashes = append(p.hashes, []byte(c.PasswordHash))
	}

	accountByRef := map[string]int{}
	numbers := map[string]string{}
	for i := range f.Accounts {
		a := &f.Accounts[i]
		path := fmt.Sprintf("accounts[%d]", i)
		pa := parsedAccount{field: path}
		if !refRE.MatchString(a.Ref) {
			v.add(path+".ref", "%q must be 1-32 letters, digits, '.', '_' or '-'", a.Ref)
		} else if _, dup := accountByRef[a.Ref]; dup {
			v.add(path+".ref", "%q is used by another account", a.Ref)
		} else {
			accountByRef[a.Ref] = i
		}
		if _, ok := customerByRef[a.CustomerRef]; !ok {
			v.add(path+".customer_ref", "%q names no customer", a.CustomerRef)
		}
		v.text(path+".name", a.Name, 140)
		v.text(path+".holder_name", a.HolderName, 140)
		v.oneOf(path+".holder_type", a.HolderType, connector.HolderIndividual, connector.HolderJoint)
		v.oneOf(path+".category", a.Category, "retail", "corporate")
		if v.oneOf(path+".type", a.Type, connector.TypeDeposit, connector.TypeCredit, connector.TypeLoan) {
			v.oneOf(path+".subtype", a.Subtype, subtypesOf[a.Type]...)
		}
		if !currencyRE.MatchString(a.Currency) {
			v.add(path+".currency", "%q must be an ISO 4217 code like MYR", a.Currency)
		}
		v.oneOf(path+".status", a.Status, connector.StatusActive, connector.StatusDormant, connector.StatusBlocked, connector.StatusClosed)
		re := numberRE
		if a.Type == connector.TypeCredit {
			re = cardRE
		}
		if !re.MatchString(a.Number) {
			v.add(path+".number", "must be %s digits", map[bool]string{true: "13-19", false: "8-19"}[a.Type == connector.TypeCredit])
		} else if other, dup := numbers[a.Number]; dup {
			v.add(path+".number", "is also the number of %s", other)
		} else {
			numbers[a.Number] = path
		}
		pa.Account = connector.Account{
			Ref: a.Ref, CustomerRef: a.CustomerRef, Number: a.Number, Name: a.Name,
			HolderName: a.HolderName, HolderType: a.HolderType, Category: a.Category,
			Type: a.Type, Subtype: a.Subtype, Currency: a.Currency, Status: a.Status,
		}
		money := func(field string, s *string) *connector.Money {
			if s == nil {
				return nil
			}
			m, ok := v.amount(field, *s)
			if !ok {
				return nil
			}
			return &connector.Money{Minor: m, Currency: a.Currency}
		}
		switch {
		case a.Limit != nil:
			pa.Limit = money(path+".limit", a.Limit)
		case a.Type == connector.TypeCredit:
			v.add(path+".limit", "is required for a credit account")
		}
		switch {
		case a.InterestRate != nil:
			r := *a.InterestRate
			if math.IsNaN(r) || r < 0 || r > 100 {
				v.add(path+".interest_rate", "%v must be a percentage 0..100", r)
			} else {
				pa.InterestRate = &r
			}
		case a.Type == connector.TypeCredit || a.Type == connector.TypeLoan:
			v.add(path+".interest_rate", "is required for a %s account", a.Type)
		}
		pa.MinimumPaymentAmount = money(path+".minimum_payment_amount", a.MinimumPaymentAmount)
		pa.explicitMin = a.MinimumPaymentAmount != nil
		if a.PaymentDueDate != nil {
			pa.explicitDue = true
			if t, ok := v.date(path+".payment_due_date", *a.PaymentDueDate); ok {
				pa.PaymentDueDate = &t
			}
		}
		switch {
		case a.Loan != nil && a.Type != connector.TypeLoan:
			v.add(path+".loan", "is only for loan accounts")
		case a.Loan == nil && a.Type == connector.TypeLoan:
			v.add(path+".loan", "is required for a loan account")
		case a.Loan != nil:
			pa.Loan = validateLoan(v, path+".loan", a.Loan, a.Currency)
		}
		if a.Transactions != nil {
			pa.gen = validateGenerator(v, path+".transactions", a.Transactions, a)
		}
		p.accounts = append(p.accounts, pa)
	}

	// pays_from refers to another account: check it once every account is known.
	for i := range p.accounts {
		pa := &p.accounts[i]
		if pa.gen == nil || pa.gen.paysFrom == "" {
			continue
		}
		field := pa.field + ".transactions.pays_from"
		j, ok := accountByRef[pa.gen.paysFrom]
		if !ok {
			v.add(field, "%q names no account", pa.gen.paysFrom)
			continue
		}
		payer := &p.accounts[j]
		switch {
		case j == i:
			v.add(field, "an account cannot pay itself")
		case payer.Type != connector.TypeDeposit:
			v.add(field, "%q is a %s account; payments come from a deposit account", payer.Ref, payer.Type)
		case payer.CustomerRef != pa.CustomerRef:
			v.add(field, "%q belongs to another customer", payer.Ref)
		case payer.Currency != pa.Currency:
			v.add(field, "%q is in %s, not %s", payer.Ref, payer.Currency, pa.Currency)
		case payer.gen == nil:
			v.add(field, "%q has no transactions generator to take the payments", payer.Ref)
		case payer.gen.months != pa.gen.months || !payer.gen.anchor.Equal(pa.gen.anchor):
			v.add(field, "%q must cover the same months and anchor_date as this account", payer.Ref)
		}
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	return p, nil
}

func validateLoan(v *validator, path string, l *fileLoan, currency string) *connector.LoanDetails {
	amount, okAmount := v.amount(path+".loan_amount", l.LoanAmount)
	if okAmount && amount == 0 {
		v.add(path+".loan_amount", "must be more than zero")
		okAmount = false
	}
	orig, okOrig := v.date(path+".origination_date", l.OriginationDate)
	mat, okMat := v.date(path+".maturity_date", l.MaturityDate)
	if okOrig && okMat {
		switch n := monthsBetween(orig, mat); {
		case n < 1:
			v.add(path+".maturity_date", "must be at least one month after origination_date")
			okMat = false
		case n > maxTenureMonths:
			v.add(path+".maturity_date", "is more than %d months after origination_date", maxTenureMonths)
			okMat = false
		}
	}
	if !okAmount || !okOrig || !okMat {
		return nil
	}
	return &connector.LoanDetails{LoanAmount: connector.Money{Minor: amount, Currency: currency}, OriginationDate: orig, MaturityDate: mat}
}

func validateGenerator(v *validator, path string, g *fileGenerator, a *fileAccount) *genSpec {
	ok := true
	info, known := profiles[g.Profile]
	switch {
	case !known:
		v.add(path+".profile", "%q is not one of %s", g.Profile, profileNames())
		ok = false
	case info.typ != a.Type:
		v.add(path+".profile", "%q is for %s accounts, not %s", g.Profile, info.typ, a.Type)
		ok = false
	case len(info.subtypes) > 0 && !contains(info.subtypes, a.Subtype):
		v.add(path+".profile", "%q is for %s accounts, not %s", g.Profile, strings.Join(info.subtypes, "/"), a.Subtype)
		ok = false
	case info.currency == "MYR" && a.Currency != "MYR":
		v.add(path+".profile", "%q generates MYR transactions; the account is in %s (use foreign_currency)", g.Profile, a.Currency)
		ok = false
	case info.currency == "foreign" && a.Currency == "MYR":
		v.add(path+".profile", "%q is for foreign-currency accounts; the account is in MYR", g.Profile)
		ok = false
	}
	if g.Months < 1 || g.Months > maxMonths {
		v.add(path+".months", "%d must be 1..%d", g.Months, maxMonths)
		ok = false
	}
	spec := &genSpec{seed: g.Seed, profile: g.Profile, months: g.Months, statementDay: g.StatementDay, paysFrom: g.PaysFrom}
	switch {
	case g.OpeningBalance != "":
		m, good := v.amount(path+".opening_balance", g.OpeningBalance)
		ok = ok && good
		spec.opening, spec.hasOpening = m, good
	case a.Type != connector.TypeLoan:
		// A loan's opening outstanding can be derived from its terms; anything else needs it.
		v.add(path+".opening_balance", "is required for a %s account", a.Type)
		ok = false
	}
	if g.AnchorDate != "" {
		t, good := v.date(path+".anchor_date", g.AnchorDate)
		ok = ok && good
		spec.anchor = t
	}
	switch {
	case g.Profile == "credit_card" && (g.StatementDay < 1 || g.StatementDay > 28):
		v.add(path+".statement_day", "%d must be 1..28 for a credit card", g.StatementDay)
		ok = false
	case g.Profile != "credit_card" && g.StatementDay != 0:
		v.add(path+".statement_day", "is only for the credit_card profile")
		ok = false
	}
	if g.PaysFrom != "" && info.typ == connector.TypeDeposit {
		v.add(path+".pays_from", "is only for credit_card, hire_purchase and mortgage profiles")
		ok = false
	}
	if !ok {
		return nil
	}
	return spec
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// monthsBetween counts whole calendar months from a to b (negative when b is before a).
func monthsBetween(a, b time.Time) int {
	n := (b.Year()-a.Year())*12 + int(b.Month()) - int(a.Month())
	if b.Day() < a.Day() {
		n--
	}
	return n
}
