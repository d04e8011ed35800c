package api

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/ofpdp/ofpdp/connector"
)

// This file turns the core bank's types (internal/bank) into the JSON shapes of spec
// paynet-dp.md §5.4 (Account), §5.5 (Balance), §5.6 (Transaction) and §3.1.3 (userinfo).
// Mandatory fields are always present; empty optionals are omitted. Amounts are formatted from
// minor units without floating point.

// myt is Malaysia Time (UTC+08:00, no daylight saving). Transaction timestamps are sent in MYT
// (spec §3.0, §5.6) and a date-only query parameter names an MYT calendar day (§5.7).
var myt = time.FixedZone("MYT", 8*60*60)

// errShape is wrapped by every refusal of bank data that cannot be put in a spec shape (a bank or
// connector defect: the request ends in 500 server_error).
var errShape = errors.New("bank data does not fit the spec shape")

// Credit and debit indicators (spec §5.5, §5.6).
const (
	indicatorCredit = "credit"
	indicatorDebit  = "debit"
)

// amountJSON is the Amount type of spec §5.4–5.6: {"amount": "23.78", "currency": "MYR"}.
type amountJSON struct {
	Amount   string `json:"amount"`
	Currency string `json:"currency"`
}

// balanceAmountJSON is a balance of spec §5.5: {"amount": Amount, "credit_debit_indicator": …}.
type balanceAmountJSON struct {
	Amount               amountJSON `json:"amount"`
	CreditDebitIndicator string     `json:"credit_debit_indicator"`
}

// loanDetailsJSON is loan_details of spec §5.4 (v1.3 and later).
type loanDetailsJSON struct {
	LoanAmount      amountJSON `json:"loan_amount"`
	OriginationDate string     `json:"origination_date"`
	MaturityDate    string     `json:"maturity_date"`
}

// accountJSON is the Account object of spec §5.4, fields in the order of the spec table.
type accountJSON struct {
	AccountID            string           `json:"account_id"`
	AccountNumber        string           `json:"account_number"`
	AccountName          string           `json:"account_name"`
	AccountHolderName    string           `json:"account_holder_name"`
	InstitutionName      string           `json:"institution_name"`
	Category             string           `json:"category"`
	Type                 string           `json:"type"`
	Subtype              string           `json:"subtype"`
	LoanDetails          *loanDetailsJSON `json:"loan_details,omitempty"`
	Limit                *amountJSON      `json:"limit,omitempty"`
	InterestRate         *float64         `json:"interest_rate,omitempty"`
	MinimumPaymentAmount *amountJSON      `json:"minimum_payment_amount,omitempty"`
	PaymentDueDate       string           `json:"payment_due_date,omitempty"`
}

// balanceJSON is the Balance object of spec §5.5.
type balanceJSON struct {
	AccountID           string             `json:"account_id"`
	CurrentBalance      balanceAmountJSON  `json:"current_balance"`
	AvailableBalance    *balanceAmountJSON `json:"available_balance,omitempty"`
	StatementBalance    *balanceAmountJSON `json:"statement_balance,omitempty"`
	StatementDate       string             `json:"statement_date,omitempty"`
	CreditLinesIncluded bool               `json:"credit_lines_included"`
}

// transactionJSON is the Transaction object of spec §5.6.
type transactionJSON struct {
	AccountID               string      `json:"account_id"`
	TransactionID           string      `json:"transaction_id"`
	TransactionDate         string      `json:"transaction_date"`
	CreditDebitIndicator    string      `json:"credit_debit_indicator"`
	Amount                  amountJSON  `json:"amount"`
	ForeignCurrencyAmount   *amountJSON `json:"foreign_currency_amount,omitempty"`
	TransferMethod          string      `json:"transfer_method,omitempty"`
	TransferSubmethod       string      `json:"transfer_submethod,omitempty"`
	Description             string      `json:"description"`
	RecipientReference      string      `json:"recipient_reference,omitempty"`
	OtherPaymentDescription string      `json:"other_payment_description,omitempty"`
	MerchantName            string      `json:"merchant_name,omitempty"`
	MCC                     string      `json:"mcc,omitempty"`
	IsSettled               bool        `json:"is_settled"`
}

// userinfoJSON is the userinfo response of spec §3.1.3 (claims as far as the bank knows them).
type userinfoJSON struct {
	Sub            string `json:"sub"`
	Name           string `json:"name,omitempty"`
	Email          string `json:"email,omitempty"`
	IDType         string `json:"id_type,omitempty"`
	HashedIDNumber string `json:"hashed_id_number,omitempty"`
}

// formatMinor formats minor units (sen) as the spec's decimal string "1234.56" (spec §5.6:
// two decimals, pattern ^\d{1,13}\.\d{2}$), without floating point. Amounts carry no sign: the
// direction is the credit/debit indicator, so a negative amount is refused.
func formatMinor(minor int64) (string, error) {
	if minor < 0 {
		return "", fmt.Errorf("%w: negative amount", errShape)
	}
	whole, frac := minor/100, minor%100
	if whole >= 1e13 {
		return "", fmt.Errorf("%w: amount has more than 13 integer digits", errShape)
	}
	b := make([]byte, 0, 24)
	b = strconv.AppendInt(b, whole, 10)
	b = append(b, '.', byte('0'+frac/10), byte('0'+frac%10))
	return string(b), nil
}

func validCurrency(c string) bool {
	if len(c) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if c[i] < 'A' || c[i] > 'Z' {
			return false
		}
	}
	return true
}

func amountShape(m connector.Money) (amountJSON, error) {
	if !validCurrency(m.Currency) {
		return amountJSON{}, fmt.Errorf("%w: currency is not an ISO 4217 code", errShape)
	}
	s, err := formatMinor(m.Minor)
	if err != nil {
		return amountJSON{}, err
	}
	return amountJSON{Amount: s, Currency: m.Currency}, nil
}

func optionalAmount(m *connector.Money) (*amountJSON, error) {
	if m == nil {
		return nil, nil
	}
	a, err := amountShape(*m)
	if err != nil {
		return nil, err
	}
	return &a, nil
}

func validIndicator(s string) bool { return s == indicatorCredit || s == indicatorDebit }

func balanceAmount(m connector.Money, indicator string) (balanceAmountJSON, error) {
	if !validIndicator(indicator) {
		return balanceAmountJSON{}, fmt.Errorf("%w: credit_debit_indicator must be credit or debit", errShape)
	}
	a, err := amountShape(m)
	if err != nil {
		return balanceAmountJSON{}, err
	}
	return balanceAmountJSON{Amount: a, CreditDebitIndicator: indicator}, nil
}

func optionalBalanceAmount(m *connector.Money, indicator string) (*balanceAmountJSON, error) {
	if m == nil {
		return nil, nil
	}
	b, err := balanceAmount(*m, indicator)
	if err != nil {
		return nil, err
	}
	return &b, nil
}

// formatDate formats a date-only value (spec §5.4, §5.5 "date YYYY-MM-DD") in its own location:
// the bank's calendar date is kept as given, never shifted by a zone conversion.
func formatDate(t time.Time) string { return t.Format(time.DateOnly) }

// accountShape builds the Account object (spec §5.4). accountID is the DP-assigned id of the
// consent (design §3.8), never the bank's reference.
func accountShape(accountID string, a *connector.Account, institution string) (accountJSON, error) {
	out := accountJSON{
		AccountID:         accountID,
		AccountNumber:     a.SharedNumber(),
		AccountName:       a.Name,
		AccountHolderName: a.HolderName,
		InstitutionName:   institution,
		Category:          a.Category,
		Type:              a.Type,
		Subtype:           a.Subtype,
	}
	if a.Loan != nil {
		amt, err := amountShape(a.Loan.LoanAmount)
		if err != nil {
			return accountJSON{}, err
		}
		out.LoanDetails = &loanDetailsJSON{
			LoanAmount:      amt,
			OriginationDate: formatDate(a.Loan.OriginationDate),
			MaturityDate:    formatDate(a.Loan.MaturityDate),
		}
	}
	var err error
	if out.Limit, err = optionalAmount(a.Limit); err != nil {
		return accountJSON{}, err
	}
	if out.MinimumPaymentAmount, err = optionalAmount(a.MinimumPaymentAmount); err != nil {
		return accountJSON{}, err
	}
	if a.InterestRate != nil {
		r := *a.InterestRate
		if math.IsNaN(r) || math.IsInf(r, 0) {
			return accountJSON{}, fmt.Errorf("%w: interest rate is not a number", errShape)
		}
		out.InterestRate = &r
	}
	if a.PaymentDueDate != nil {
		out.PaymentDueDate = formatDate(*a.PaymentDueDate)
	}
	return out, nil
}

// balanceShape builds the Balance object (spec §5.5, sandbox nesting of §9 item 16).
func balanceShape(accountID string, b *connector.Balance) (balanceJSON, error) {
	cur, err := balanceAmount(b.Current, b.CurrentIndicator)
	if err != nil {
		return balanceJSON{}, err
	}
	out := balanceJSON{AccountID: accountID, CurrentBalance: cur, CreditLinesIncluded: b.CreditLinesIncluded}
	if out.AvailableBalance, err = optionalBalanceAmount(b.Available, b.AvailableIndicator); err != nil {
		return balanceJSON{}, err
	}
	if out.StatementBalance, err = optionalBalanceAmount(b.Statement, b.StatementIndicator); err != nil {
		return balanceJSON{}, err
	}
	if b.StatementDate != nil {
		out.StatementDate = formatDate(*b.StatementDate)
	}
	return out, nil
}

// transactionShape builds the Transaction object (spec §5.6): transaction_date in RFC 3339 at
// +08:00.
func transactionShape(accountID string, t *connector.Transaction) (transactionJSON, error) {
	if !validIndicator(t.CreditDebit) {
		return transactionJSON{}, fmt.Errorf("%w: credit_debit_indicator must be credit or debit", errShape)
	}
	if t.ID == "" || t.Date.IsZero() {
		return transactionJSON{}, fmt.Errorf("%w: transaction without id or date", errShape)
	}
	amt, err := amountShape(t.Amount)
	if err != nil {
		return transactionJSON{}, err
	}
	fx, err := optionalAmount(t.ForeignAmount)
	if err != nil {
		return transactionJSON{}, err
	}
	return transactionJSON{
		AccountID:               accountID,
		TransactionID:           t.ID,
		TransactionDate:         t.Date.In(myt).Format(time.RFC3339),
		CreditDebitIndicator:    t.CreditDebit,
		Amount:                  amt,
		ForeignCurrencyAmount:   fx,
		TransferMethod:          t.TransferMethod,
		TransferSubmethod:       t.TransferSubmethod,
		Description:             t.Description,
		RecipientReference:      t.RecipientRef,
		OtherPaymentDescription: t.OtherDescription,
		MerchantName:            t.MerchantName,
		MCC:                     t.MCC,
		IsSettled:               t.Settled,
	}, nil
}
