package bank

import (
	"github.com/ofpdp/ofpdp/connector"

	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
)

// Errors of Guard.
var (
	// ErrBusy: Guard's limit of connector calls in flight is reached. The caller answers at once
	// (the api listener: 503 Consent.TransientAccountAccessFailure with Retry-After, design §4)
	// instead of piling more calls onto a core bank that is already slow.
	ErrBusy = errors.New("bank: too many connector calls in flight")
	// ErrPanic: the connector panicked and Guard recovered it; the cause is logged, the caller
	// answers 500 server_error (design §4 "anything unexpected").
	ErrPanic = errors.New("bank: connector panicked")
)

// Guard is a Connector around another one that keeps the process alive and the core bank
// unburdened (design §6, §3.14): a panic in a call becomes ErrPanic (logged with its stack), and
// at most a fixed number of calls run at once; a call beyond that fails with ErrBusy without
// waiting. A slot is held until the wrapped call returns, even when the caller gave up at its
// deadline, so calls stuck in a slow core bank count against the limit. Safe for concurrent use.
type Guard struct {
	next connector.Connector
	sem  chan struct{}
	log  *slog.Logger
}

// NewGuard wraps next with at most maxInFlight concurrent calls (at least 1). A nil logger discards.
func NewGuard(next connector.Connector, maxInFlight int, logger *slog.Logger) (*Guard, error) {
	if next == nil {
		return nil, errors.New("bank: NewGuard needs a connector")
	}
	if maxInFlight < 1 {
		return nil, fmt.Errorf("bank: max in-flight calls must be at least 1, got %d", maxInFlight)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Guard{next: next, sem: make(chan struct{}, maxInFlight), log: logger}, nil
}

// guarded runs one connector call under the limit and turns a panic into ErrPanic.
func guarded[T any](ctx context.Context, g *Guard, op string, call func() (T, error)) (v T, err error) {
	select {
	case g.sem <- struct{}{}:
	default:
		return v, fmt.Errorf("connector %s: %w", op, ErrBusy)
	}
	defer func() {
		<-g.sem
		if p := recover(); p != nil {
			// The panic value and the stack name code, not request data; the arguments of
			// the call (references, credentials) are not logged.
			g.log.ErrorContext(ctx, "bank connector panicked", "op", op, "panic", fmt.Sprint(p),
				"stack", string(debug.Stack()))
			var zero T
			v, err = zero, fmt.Errorf("connector %s: %w", op, ErrPanic)
		}
	}()
	return call()
}

// Authenticate implements connector.Connector.
func (g *Guard) Authenticate(ctx context.Context, username, password string) (connector.Customer, error) {
	return guarded(ctx, g, "authenticate", func() (connector.Customer, error) { return g.next.Authenticate(ctx, username, password) })
}

// connector.Customer implements connector.Connector.
func (g *Guard) Customer(ctx context.Context, customerRef string) (connector.Customer, error) {
	return guarded(ctx, g, "customer", func() (connector.Customer, error) { return g.next.Customer(ctx, customerRef) })
}

// Accounts implements connector.Connector.
func (g *Guard) Accounts(ctx context.Context, customerRef string) ([]connector.Account, error) {
	return guarded(ctx, g, "accounts", func() ([]connector.Account, error) { return g.next.Accounts(ctx, customerRef) })
}

// connector.Account implements connector.Connector.
func (g *Guard) Account(ctx context.Context, accountRef string) (connector.Account, error) {
	return guarded(ctx, g, "account", func() (connector.Account, error) { return g.next.Account(ctx, accountRef) })
}

// connector.Balance implements connector.Connector.
func (g *Guard) Balance(ctx context.Context, accountRef string) (connector.Balance, error) {
	return guarded(ctx, g, "balance", func() (connector.Balance, error) { return g.next.Balance(ctx, accountRef) })
}

// Transactions implements connector.Connector.
func (g *Guard) Transactions(ctx context.Context, q connector.TransactionQuery) (connector.TransactionPage, error) {
	return guarded(ctx, g, "transactions", func() (connector.TransactionPage, error) { return g.next.Transactions(ctx, q) })
}

// InFlight reports how many calls hold a slot now (metrics, tests).
func (g *Guard) InFlight() int { return len(g.sem) }

// WithSecondFactor is g with the second factor of the connector it wraps, under the same limit,
// when that connector has one (connector.SecondFactor); otherwise g itself, so the journey can
// tell that the bank has none.
func (g *Guard) WithSecondFactor() connector.Connector {
	if sf, ok := g.next.(connector.SecondFactor); ok {
		return &factorGuard{Guard: g, sf: sf}
	}
	return g
}

// factorGuard is a Guard whose connector has a second factor.
type factorGuard struct {
	*Guard
	sf connector.SecondFactor
}

// StartChallenge implements connector.SecondFactor.
func (g *factorGuard) StartChallenge(ctx context.Context, r connector.ChallengeRequest) (connector.Challenge, error) {
	return guarded(ctx, g.Guard, "start_challenge", func() (connector.Challenge, error) { return g.sf.StartChallenge(ctx, r) })
}

// VerifyOTP implements connector.SecondFactor.
func (g *factorGuard) VerifyOTP(ctx context.Context, challengeID, otp string) error {
	_, err := guarded(ctx, g.Guard, "verify_otp", func() (struct{}, error) { return struct{}{}, g.sf.VerifyOTP(ctx, challengeID, otp) })
	return err
}

// ChallengeStatus implements connector.SecondFactor.
func (g *factorGuard) ChallengeStatus(ctx context.Context, challengeID string) (connector.ChallengeStatus, error) {
	return guarded(ctx, g.Guard, "challenge_status", func() (connector.ChallengeStatus, error) { return g.sf.ChallengeStatus(ctx, challengeID) })
}
