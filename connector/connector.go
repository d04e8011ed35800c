package connector

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"time"
)

// Errors a connector returns. ofpdp maps them to design.md §4.
var (
	// ErrInvalidCredentials: the username/password pair is wrong (never say which).
	ErrInvalidCredentials = errors.New("bank: invalid credentials")
	// ErrNotFound: no such customer or account.
	ErrNotFound = errors.New("bank: not found")
	// ErrAccountBlocked: the account is dormant or blocked (Consent.AccountTemporarilyBlocked).
	ErrAccountBlocked = errors.New("bank: account temporarily blocked")
	// ErrAccountClosed: the account is closed (Consent.PermanentAccountAccessFailure).
	ErrAccountClosed = errors.New("bank: account closed")
	// ErrUnavailable: the core bank is down or slow (Consent.TransientAccountAccessFailure).
	ErrUnavailable = errors.New("bank: core system unavailable")
)

// Customer is a bank customer as the connector knows them.
type Customer struct {
	// Ref is the bank's stable, opaque customer reference. It is never the ID number.
	Ref    string
	Name   string
	IDType string // "nric" or "passport"
	// IDNumber is the raw ID number: used only to hash and mask, never logged or stored in clear.
	// A bank that does not hand the raw number out leaves it empty and gives HashedIDNumber and
	// MaskedIDNumber instead (both, and only then).
	IDNumber string
	// HashedIDNumber is hashed_id_number as HashIDNumber computes it (design §3.11).
	HashedIDNumber string
	// MaskedIDNumber is masked_id_number (spec §5.8): stars, then at most the last four characters.
	MaskedIDNumber string
	MobileNumber   string // E.164, optional
	Email          string // optional
}

// Identity returns hashed_id_number and masked_id_number for the consent update's
// user_identity (spec §5.8) and the id_token: computed from IDNumber when the bank gave it,
// otherwise as the bank gave them.
func (c *Customer) Identity() (hashed, masked string) {
	if c.IDNumber != "" {
		return HashIDNumber(c.IDNumber), MaskIDNumber(c.IDNumber)
	}
	return c.HashedIDNumber, c.MaskedIDNumber
}

// NormalizeIDNumber prepares an ID number for hashing (design §3.11): upper-cased, spaces and
// dashes removed. Nothing else is removed — not tabs, newlines or other white space — so the hash
// is exactly the one PayNet's side computes from the same rule.
func NormalizeIDNumber(id string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, strings.ToUpper(id))
}

// HashIDNumber is hashed_id_number (design §3.11): standard padded base64 of SHA-256 of the
// normalised ID. A bank that gives ofpdp only the hash computes it with this rule.
func HashIDNumber(id string) string {
	sum := sha256.Sum256([]byte(NormalizeIDNumber(id)))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// MaskIDNumber keeps the last four characters of a normalised ID number ("********1234").
func MaskIDNumber(id string) string {
	n := NormalizeIDNumber(id)
	if len(n) <= 4 {
		return strings.Repeat("*", len(n))
	}
	return strings.Repeat("*", len(n)-4) + n[len(n)-4:]
}

// Account types and subtypes (spec paynet-dp.md §5.4).
const (
	TypeDeposit = "deposit"
	TypeCredit  = "credit"
	TypeLoan    = "loan"

	SubtypeSavings      = "savings"
	SubtypeCurrent      = "current"
	SubtypeCreditCard   = "credit_card"
	SubtypeHirePurchase = "hire_purchase"
	SubtypeMortgage     = "mortgage"
)

// Account statuses and holder types.
const (
	StatusActive  = "active"
	StatusDormant = "dormant"
	StatusBlocked = "blocked"
	StatusClosed  = "closed"

	HolderIndividual = "individual"
	HolderJoint      = "joint"
)

// Money is an amount in minor units (sen) and an ISO 4217 currency. Minor units avoid float rounding.
type Money struct {
	Minor    int64
	Currency string
}

// LoanDetails of a loan account (spec §5.4).
type LoanDetails struct {
	LoanAmount      Money
	OriginationDate time.Time // date only
	MaturityDate    time.Time // date only
}

// Account is a bank account. Ref is the bank's reference; Number is what the customer sees.
type Account struct {
	Ref                  string
	CustomerRef          string
	Number               string // full number; ofpdp masks credit-card numbers before sharing
	Name                 string
	HolderName           string
	HolderType           string // HolderIndividual or HolderJoint
	Category             string // "retail" or "corporate"
	Type                 string
	Subtype              string
	Currency             string
	Status               string
	Limit                *Money
	InterestRate         *float64
	MinimumPaymentAmount *Money
	PaymentDueDate       *time.Time
	Loan                 *LoanDetails
}

// Eligible reports whether the account may be offered and served (spec §5.4): active,
// individual retail, MYR.
func (a *Account) Eligible() bool {
	return a.Status == StatusActive && a.HolderType == HolderIndividual && a.Category == "retail" && a.Currency == "MYR"
}

// Balance of an account (spec §5.5). Amounts are signed by CreditDebit, not by sign.
type Balance struct {
	Current             Money
	CurrentIndicator    string // "credit" or "debit"
	Available           *Money
	AvailableIndicator  string
	Statement           *Money
	StatementIndicator  string
	StatementDate       *time.Time
	CreditLinesIncluded bool
}

// Transaction of an account (spec §5.6).
type Transaction struct {
	ID                string
	Date              time.Time // with MYT zone
	CreditDebit       string    // "credit" or "debit"
	Amount            Money
	ForeignAmount     *Money
	TransferMethod    string
	TransferSubmethod string
	Description       string
	RecipientRef      string
	OtherDescription  string
	MerchantName      string
	MCC               string
	Settled           bool
}

// TransactionQuery asks for one page of an account's transactions, newest first, with a
// stable tie-break on ID. ofpdp clamps From/To to the consent's window before calling.
type TransactionQuery struct {
	AccountRef string
	From, To   time.Time // inclusive bounds
	Limit      int
	// Cursor, when set, continues the walk: the NextCursor of the previous page, exactly as the
	// connector gave it. It is the core's own (opaque to ofpdp, at most MaxCursorLen printable
	// ASCII bytes); ofpdp keeps it inside its own signed cursor and asks with the same To and
	// Limit, and a From that is the same or later (the consent's window start may advance).
	Cursor string
}

// MaxCursorLen bounds TransactionPage.NextCursor.
const MaxCursorLen = 512

// TransactionPage is one page of transactions. More reports whether another page follows.
type TransactionPage struct {
	Transactions []Transaction
	More         bool
	// NextCursor continues after the last transaction of this page; set exactly when More is.
	NextCursor string
}

// Connector is what ofpdp needs from the core bank (design.md §6). Implementations must honour
// ctx deadlines; ofpdp checks consent, permission, account scope and date windows before calling.
type Connector interface {
	// Authenticate checks a username and password and returns the customer, or ErrInvalidCredentials.
	Authenticate(ctx context.Context, username, password string) (Customer, error)
	// Customer returns the customer with this reference.
	Customer(ctx context.Context, customerRef string) (Customer, error)
	// Accounts lists all of a customer's accounts, eligible or not.
	Accounts(ctx context.Context, customerRef string) ([]Account, error)
	// Account returns one account by reference.
	Account(ctx context.Context, accountRef string) (Account, error)
	// Balance returns an account's balance now.
	Balance(ctx context.Context, accountRef string) (Balance, error)
	// Transactions returns one page of an account's transactions.
	Transactions(ctx context.Context, q TransactionQuery) (TransactionPage, error)
}

// SharedNumber is account_number as the DP shares it with PayNet and the data consumer (spec
// §3.2.1, §5.4; design §3.7): spaces and dashes removed; credit cards masked to the first 6 and
// last 4 digits with the middle starred, length kept ("123456******7890"); other accounts in full.
// The PATCH and the Account object use this one function so a consumer sees the same number in both.
func (a *Account) SharedNumber() string {
	n := strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, a.Number)
	if a.Subtype != SubtypeCreditCard && a.Type != TypeCredit {
		return n
	}
	switch {
	case len(n) <= 4:
		return strings.Repeat("*", len(n))
	case len(n) < 11:
		return strings.Repeat("*", len(n)-4) + n[len(n)-4:]
	}
	return n[:6] + strings.Repeat("*", len(n)-10) + n[len(n)-4:]
}
