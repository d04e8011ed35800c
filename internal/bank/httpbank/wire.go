package httpbank

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/ofpdp/ofpdp/connector"
)

// The JSON shapes of docs/connector-openapi.yaml (components/schemas). Required booleans are
// pointers so that a missing one is told apart from false; every conversion from the wire checks
// what the document requires and names the field, never its value (values may be customer data).

type wireMoney struct {
	Amount   string `json:"amount"`
	Currency string `json:"currency"`
}

type wireSignedMoney struct {
	Amount    string `json:"amount"`
	Currency  string `json:"currency"`
	Indicator string `json:"indicator"`
}

type wireCredentials struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

type wireChallengeRequest struct {
	CustomerRef string `json:"customer_ref"`
	Method      string `json:"method"`
	ConsentID   string `json:"consent_id,omitempty"`
	DCName      string `json:"dc_name,omitempty"`
}

type wireChallenge struct {
	ChallengeID string    `json:"challenge_id"`
	Method      string    `json:"method"`
	ExpiresAt   time.Time `json:"expires_at"`
	Destination string    `json:"destination,omitempty"`
}

type wireOTPCheck struct {
	ChallengeID string `json:"challenge_id"`
	OTP         string `json:"otp"`
}

type wireChallengeState struct {
	Status string `json:"status"`
}

type wireCustomer struct {
	CustomerRef    string `json:"customer_ref"`
	Name           string `json:"name"`
	IDType         string `json:"id_type"`
	IDNumber       string `json:"id_number,omitempty"`
	HashedIDNumber string `json:"hashed_id_number,omitempty"`
	MaskedIDNumber string `json:"masked_id_number,omitempty"`
	MobileNumber   string `json:"mobile_number,omitempty"`
	Email          string `json:"email,omitempty"`
}

type wireLoan struct {
	LoanAmount      *wireMoney `json:"loan_amount"`
	OriginationDate string     `json:"origination_date"`
	MaturityDate    string     `json:"maturity_date"`
}

type wireAccount struct {
	AccountRef           string     `json:"account_ref"`
	CustomerRef          string     `json:"customer_ref"`
	Number               string     `json:"number"`
	MaskedNumber         string     `json:"masked_number,omitempty"`
	Name                 string     `json:"name"`
	HolderName           string     `json:"holder_name"`
	HolderType           string     `json:"holder_type"`
	Category             string     `json:"category"`
	Type                 string     `json:"type"`
	Subtype              string     `json:"subtype"`
	Currency             string     `json:"currency"`
	Status               string     `json:"status"`
	Limit                *wireMoney `json:"limit,omitempty"`
	InterestRate         *float64   `json:"interest_rate,omitempty"`
	MinimumPaymentAmount *wireMoney `json:"minimum_payment_amount,omitempty"`
	PaymentDueDate       string     `json:"payment_due_date,omitempty"`
	Loan                 *wireLoan  `json:"loan,omitempty"`
}

type wireAccountList struct {
	Accounts *[]wireAccount `json:"accounts"`
}

type wireBalance struct {
	Current             *wireSignedMoney `json:"current"`
	Available           *wireSignedMoney `json:"available,omitempty"`
	Statement           *wireSignedMoney `json:"statement,omitempty"`
	StatementDate       string           `json:"statement_date,omitempty"`
	CreditLinesIncluded *bool            `json:"credit_lines_included"`
}

type wireTransaction struct {
	ID                string     `json:"id"`
	Date              string     `json:"date"`
	CreditDebit       string     `json:"credit_debit"`
	Amount            *wireMoney `json:"amount"`
	ForeignAmount     *wireMoney `json:"foreign_amount,omitempty"`
	TransferMethod    string     `json:"transfer_method"`
	TransferSubmethod string     `json:"transfer_submethod"`
	Description       string     `json:"description"`
	RecipientRef      string     `json:"recipient_reference,omitempty"`
	OtherDescription  string     `json:"other_description,omitempty"`
	MerchantName      string     `json:"merchant_name,omitempty"`
	MCC               string     `json:"mcc,omitempty"`
	Settled           *bool      `json:"settled"`
}

type wireTransactionPage struct {
	Transactions *[]wireTransaction `json:"transactions"`
	More         *bool              `json:"more"`
	NextCursor   string             `json:"next_cursor,omitempty"`
}

// cursorRE is the core's cursor as the contract allows it (docs/connector-openapi.yaml, Cursor).
var cursorRE = regexp.MustCompile(`^[\x21-\x7e]{1,512}$`)

type wireHealth struct {
	Status      string `json:"status"`
	TestInserts bool   `json:"test_inserts,omitempty"`
}

// Problem codes of docs/connector-openapi.yaml (components/schemas/Problem).
const (
	CodeInvalidCredentials = "invalid_credentials"
	CodeNotFound           = "not_found"
	CodeAccountBlocked     = "account_blocked"
	CodeAccountDormant     = "account_dormant"
	CodeAccountClosed      = "account_closed"
	CodeUnavailable        = "unavailable"
	CodeInvalidRequest     = "invalid_request"
	CodeInvalidOTP         = "invalid_otp"
	CodeChallengeExpired   = "challenge_expired"
)

// Problem is the error body of the contract (application/problem+json).
type Problem struct {
	Code   string `json:"code"`
	Detail string `json:"detail,omitempty"`
}

// errContract marks an answer outside docs/connector-openapi.yaml.
var errContract = errors.New("answer outside the connector contract")

const dateLayout = "2006-01-02"

// myt is Malaysia time (+08:00, no daylight saving; spec paynet-dp.md §5.6).
var myt = time.FixedZone("MYT", 8*3600)

func contractErr(field, why string) error {
	return fmt.Errorf("%w: %s %s", errContract, field, why)
}

func required(field, v string) error {
	if v == "" {
		return contractErr(field, "is missing")
	}
	return nil
}

func oneOf(field, v string, allowed ...string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return contractErr(field, "is not one of the values the contract allows")
}

// formatAmount renders unsigned minor units as "1234.56" (the direction is the indicator).
func formatAmount(minor int64) string {
	if minor < 0 {
		minor = -minor
	}
	return connector.FormatAmount(minor)
}

// parseAmount parses ^\d{1,13}\.\d{2}$ into minor units.
func parseAmount(field, s string) (int64, error) {
	v, err := connector.ParseAmount(s)
	if err != nil {
		return 0, contractErr(field, "is not a decimal amount with exactly two decimals")
	}
	return v, nil
}

func currencyOK(field, c string) error {
	if len(c) != 3 || c[0] < 'A' || c[0] > 'Z' || c[1] < 'A' || c[1] > 'Z' || c[2] < 'A' || c[2] > 'Z' {
		return contractErr(field, "is not an ISO 4217 currency")
	}
	return nil
}

func moneyToWire(m connector.Money) *wireMoney {
	return &wireMoney{Amount: formatAmount(m.Minor), Currency: m.Currency}
}

func moneyFromWire(field string, w *wireMoney) (connector.Money, error) {
	if w == nil {
		return connector.Money{}, contractErr(field, "is missing")
	}
	minor, err := parseAmount(field+".amount", w.Amount)
	if err != nil {
		return connector.Money{}, err
	}
	if err := currencyOK(field+".currency", w.Currency); err != nil {
		return connector.Money{}, err
	}
	return connector.Money{Minor: minor, Currency: w.Currency}, nil
}

func optMoneyFromWire(field string, w *wireMoney) (*connector.Money, error) {
	if w == nil {
		return nil, nil
	}
	m, err := moneyFromWire(field, w)
	return &m, err
}

func signedToWire(m connector.Money, indicator string) *wireSignedMoney {
	return &wireSignedMoney{Amount: formatAmount(m.Minor), Currency: m.Currency, Indicator: indicator}
}

func signedFromWire(field string, w *wireSignedMoney) (connector.Money, string, error) {
	m, err := moneyFromWire(field, &wireMoney{Amount: w.Amount, Currency: w.Currency})
	if err != nil {
		return m, "", err
	}
	return m, w.Indicator, oneOf(field+".indicator", w.Indicator, "credit", "debit")
}

func dateToWire(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.In(myt).Format(dateLayout)
}

func dateFromWire(field, s string) (time.Time, error) {
	t, err := time.ParseInLocation(dateLayout, s, myt)
	if err != nil {
		return time.Time{}, contractErr(field, "is not a date YYYY-MM-DD")
	}
	return t, nil
}

func optDateFromWire(field, s string) (*time.Time, error) {
	if s == "" {
		return nil, nil
	}
	t, err := dateFromWire(field, s)
	return &t, err
}

func customerToWire(c connector.Customer) wireCustomer {
	return wireCustomer{CustomerRef: c.Ref, Name: c.Name, IDType: c.IDType, IDNumber: c.IDNumber,
		HashedIDNumber: c.HashedIDNumber, MaskedIDNumber: c.MaskedIDNumber, MobileNumber: c.MobileNumber, Email: c.Email}
}

func customerFromWire(w *wireCustomer) (connector.Customer, error) {
	err := errors.Join(required("customer_ref", w.CustomerRef), required("name", w.Name),
		oneOf("id_type", w.IDType, "nric", "passport"), idNumberOrHash(w))
	return connector.Customer{Ref: w.CustomerRef, Name: w.Name, IDType: w.IDType, IDNumber: w.IDNumber,
		HashedIDNumber: w.HashedIDNumber, MaskedIDNumber: w.MaskedIDNumber, MobileNumber: w.MobileNumber, Email: w.Email}, err
}

var (
	hashedIDPattern = regexp.MustCompile(`^[A-Za-z0-9+/]{43}=$`)
	maskedIDPattern = regexp.MustCompile(`^\*{2,20}[A-Z0-9]{0,4}$`)
)

// idNumberOrHash checks the customer's identity (docs/connector-openapi.yaml, Customer): either
// id_number alone, or hashed_id_number (SHA-256, design §3.11) with masked_id_number (stars and
// at most the last four characters, so no clear ID number reaches PayNet as "masked").
func idNumberOrHash(w *wireCustomer) error {
	switch {
	case w.IDNumber != "" && (w.HashedIDNumber != "" || w.MaskedIDNumber != ""):
		return contractErr("id_number", "comes with hashed_id_number or masked_id_number; give one form")
	case w.IDNumber != "":
		return nil
	case w.HashedIDNumber == "" || w.MaskedIDNumber == "":
		return contractErr("id_number", "is missing, and hashed_id_number with masked_id_number are not both given")
	case !hashedIDPattern.MatchString(w.HashedIDNumber):
		return contractErr("hashed_id_number", "is not base64 of a SHA-256")
	case !maskedIDPattern.MatchString(w.MaskedIDNumber):
		return contractErr("masked_id_number", "is not stars followed by at most four characters")
	}
	return nil
}

func accountToWire(a *connector.Account) wireAccount {
	w := wireAccount{AccountRef: a.Ref, CustomerRef: a.CustomerRef, Number: a.Number, Name: a.Name,
		HolderName: a.HolderName, HolderType: a.HolderType, Category: a.Category, Type: a.Type,
		Subtype: a.Subtype, Currency: a.Currency, Status: a.Status, InterestRate: a.InterestRate,
		PaymentDueDate: dateToWire(a.PaymentDueDate)}
	if a.Limit != nil {
		w.Limit = moneyToWire(*a.Limit)
	}
	if a.MinimumPaymentAmount != nil {
		w.MinimumPaymentAmount = moneyToWire(*a.MinimumPaymentAmount)
	}
	if a.Loan != nil {
		w.Loan = &wireLoan{LoanAmount: moneyToWire(a.Loan.LoanAmount),
			OriginationDate: dateToWire(&a.Loan.OriginationDate), MaturityDate: dateToWire(&a.Loan.MaturityDate)}
	}
	return w
}

func accountFromWire(w *wireAccount) (connector.Account, error) {
	a := connector.Account{Ref: w.AccountRef, CustomerRef: w.CustomerRef, Number: w.Number, Name: w.Name,
		HolderName: w.HolderName, HolderType: w.HolderType, Category: w.Category, Type: w.Type,
		Subtype: w.Subtype, Currency: w.Currency, Status: w.Status, InterestRate: w.InterestRate}
	errs := []error{required("account_ref", w.AccountRef), required("customer_ref", w.CustomerRef),
		required("number", w.Number), required("name", w.Name), required("holder_name", w.HolderName),
		oneOf("holder_type", w.HolderType, connector.HolderIndividual, connector.HolderJoint),
		oneOf("category", w.Category, "retail", "corporate"),
		oneOf("type", w.Type, connector.TypeDeposit, connector.TypeCredit, connector.TypeLoan),
		oneOf("subtype", w.Subtype, connector.SubtypeSavings, connector.SubtypeCurrent,
			connector.SubtypeCreditCard, connector.SubtypeHirePurchase, connector.SubtypeMortgage),
		currencyOK("currency", w.Currency),
		oneOf("status", w.Status, connector.StatusActive, connector.StatusDormant, connector.StatusBlocked, connector.StatusClosed)}
	if r := w.InterestRate; r != nil && (*r < 0 || *r > 100) {
		errs = append(errs, contractErr("interest_rate", "is outside 0..100"))
	}
	var err error
	a.Limit, err = optMoneyFromWire("limit", w.Limit)
	errs = append(errs, err)
	a.MinimumPaymentAmount, err = optMoneyFromWire("minimum_payment_amount", w.MinimumPaymentAmount)
	errs = append(errs, err)
	a.PaymentDueDate, err = optDateFromWire("payment_due_date", w.PaymentDueDate)
	errs = append(errs, err)
	if w.Loan != nil {
		var l connector.LoanDetails
		var e1, e2, e3 error
		l.LoanAmount, e1 = moneyFromWire("loan.loan_amount", w.Loan.LoanAmount)
		l.OriginationDate, e2 = dateFromWire("loan.origination_date", w.Loan.OriginationDate)
		l.MaturityDate, e3 = dateFromWire("loan.maturity_date", w.Loan.MaturityDate)
		a.Loan = &l
		errs = append(errs, e1, e2, e3)
	}
	return a, errors.Join(errs...)
}

func balanceToWire(b *connector.Balance) wireBalance {
	cli := b.CreditLinesIncluded
	w := wireBalance{Current: signedToWire(b.Current, b.CurrentIndicator), CreditLinesIncluded: &cli,
		StatementDate: dateToWire(b.StatementDate)}
	if b.Available != nil {
		w.Available = signedToWire(*b.Available, b.AvailableIndicator)
	}
	if b.Statement != nil {
		w.Statement = signedToWire(*b.Statement, b.StatementIndicator)
	}
	return w
}

func balanceFromWire(w *wireBalance) (connector.Balance, error) {
	var b connector.Balance
	if w.Current == nil {
		return b, contractErr("current", "is missing")
	}
	if w.CreditLinesIncluded == nil {
		return b, contractErr("credit_lines_included", "is missing")
	}
	b.CreditLinesIncluded = *w.CreditLinesIncluded
	var err error
	if b.Current, b.CurrentIndicator, err = signedFromWire("current", w.Current); err != nil {
		return b, err
	}
	if w.Available != nil {
		var m connector.Money
		if m, b.AvailableIndicator, err = signedFromWire("available", w.Available); err != nil {
			return b, err
		}
		b.Available = &m
	}
	if w.Statement != nil {
		var m connector.Money
		if m, b.StatementIndicator, err = signedFromWire("statement", w.Statement); err != nil {
			return b, err
		}
		b.Statement = &m
	}
	b.StatementDate, err = optDateFromWire("statement_date", w.StatementDate)
	return b, err
}

func transactionToWire(t *connector.Transaction) wireTransaction {
	settled := t.Settled
	w := wireTransaction{ID: t.ID, Date: t.Date.In(myt).Format(time.RFC3339Nano), CreditDebit: t.CreditDebit,
		Amount: moneyToWire(t.Amount), TransferMethod: t.TransferMethod, TransferSubmethod: t.TransferSubmethod,
		Description: t.Description, RecipientRef: t.RecipientRef, OtherDescription: t.OtherDescription,
		MerchantName: t.MerchantName, MCC: t.MCC, Settled: &settled}
	if t.ForeignAmount != nil {
		w.ForeignAmount = moneyToWire(*t.ForeignAmount)
	}
	return w
}

func transactionFromWire(i int, w *wireTransaction) (connector.Transaction, error) {
	f := func(name string) string { return "transactions[" + strconv.Itoa(i) + "]." + name }
	t := connector.Transaction{ID: w.ID, CreditDebit: w.CreditDebit, TransferMethod: w.TransferMethod,
		TransferSubmethod: w.TransferSubmethod, Description: w.Description, RecipientRef: w.RecipientRef,
		OtherDescription: w.OtherDescription, MerchantName: w.MerchantName, MCC: w.MCC}
	errs := []error{required(f("id"), w.ID), oneOf(f("credit_debit"), w.CreditDebit, "credit", "debit"),
		required(f("transfer_method"), w.TransferMethod), required(f("transfer_submethod"), w.TransferSubmethod)}
	if len(w.Description) > 300 {
		errs = append(errs, contractErr(f("description"), "is longer than 300 characters"))
	}
	d, err := time.Parse(time.RFC3339Nano, w.Date)
	if err != nil {
		errs = append(errs, contractErr(f("date"), "is not an RFC 3339 date-time"))
	}
	t.Date = d.In(myt)
	if w.Settled == nil {
		errs = append(errs, contractErr(f("settled"), "is missing"))
	} else {
		t.Settled = *w.Settled
	}
	t.Amount, err = moneyFromWire(f("amount"), w.Amount)
	errs = append(errs, err)
	t.ForeignAmount, err = optMoneyFromWire(f("foreign_amount"), w.ForeignAmount)
	errs = append(errs, err)
	return t, errors.Join(errs...)
}
