package connector

import (
	"context"
	"errors"
	"time"
)

// Method is how the bank checks the second factor (design.md §3.11, spec paynet-dp.md §7.5).
type Method string

const (
	// MethodOTP: the bank sends a one-time code by its own channel (SMS, email); the customer
	// types it on the DP's page and only the bank checks it.
	MethodOTP Method = "otp"
	// MethodApp: the bank asks the customer to approve in its app; the DP's page waits.
	MethodApp Method = "app"
)

// Valid reports whether m is a method of this contract.
func (m Method) Valid() bool { return m == MethodOTP || m == MethodApp }

// ChallengeStatus is where an app approval stands.
type ChallengeStatus string

const (
	ChallengePending  ChallengeStatus = "pending"
	ChallengeApproved ChallengeStatus = "approved"
	ChallengeRefused  ChallengeStatus = "refused"
	ChallengeExpired  ChallengeStatus = "expired"
)

// Errors of the second factor.
var (
	// ErrInvalidOTP: the code is wrong (the challenge stays open until it expires).
	ErrInvalidOTP = errors.New("bank: invalid one-time code")
	// ErrChallengeExpired: the challenge is past its expiry, used, or unknown.
	ErrChallengeExpired = errors.New("bank: challenge expired")
)

// ChallengeRequest starts a second factor for a customer who passed the first.
type ChallengeRequest struct {
	CustomerRef string
	Method      Method
	// ConsentID and DCName let the bank say what the customer approves ("Duit Planner asks to
	// see your accounts"); they carry no personal data.
	ConsentID string
	DCName    string
}

// Challenge is a started second factor.
type Challenge struct {
	ID        string // the bank's opaque reference; never the code
	Method    Method
	ExpiresAt time.Time
	// Destination is where the code went or which device was asked, masked by the bank
	// ("+60••••••789", "Galaxy S24"); optional.
	Destination string
}

// SecondFactor is the optional part of a Connector for a bank that runs a second factor. A
// connector without it keeps compiling and working: authn.second_factor then refuses to start
// (the journey cannot ask a bank that has no second factor).
type SecondFactor interface {
	// StartChallenge sends a code (MethodOTP) or an approval request (MethodApp).
	StartChallenge(ctx context.Context, r ChallengeRequest) (Challenge, error)
	// VerifyOTP checks a code: nil when right, ErrInvalidOTP when wrong, ErrChallengeExpired
	// when the challenge is over. A right code ends the challenge.
	VerifyOTP(ctx context.Context, challengeID, otp string) error
	// ChallengeStatus is where an app approval stands (ErrChallengeExpired when unknown).
	ChallengeStatus(ctx context.Context, challengeID string) (ChallengeStatus, error)
}
