package bank

import (
	"github.com/ofpdp/ofpdp/connector"

	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// scriptedConnector panics or blocks on demand; everything else answers at once.
type scriptedConnector struct {
	panicWith any           // non-nil: every call panics with it
	block     chan struct{} // non-nil: every call waits for it to close
	started   chan struct{} // receives once per call that entered
}

func (s *scriptedConnector) enter() {
	if s.started != nil {
		s.started <- struct{}{}
	}
	if s.block != nil {
		<-s.block
	}
	if s.panicWith != nil {
		panic(s.panicWith)
	}
}

func (s *scriptedConnector) Authenticate(context.Context, string, string) (connector.Customer, error) {
	s.enter()
	return connector.Customer{Ref: "c1"}, nil
}
func (s *scriptedConnector) Customer(context.Context, string) (connector.Customer, error) {
	s.enter()
	return connector.Customer{Ref: "c1"}, nil
}
func (s *scriptedConnector) Accounts(context.Context, string) ([]connector.Account, error) {
	s.enter()
	return []connector.Account{{Ref: "a1"}}, nil
}
func (s *scriptedConnector) Account(context.Context, string) (connector.Account, error) {
	s.enter()
	return connector.Account{Ref: "a1"}, nil
}
func (s *scriptedConnector) Balance(context.Context, string) (connector.Balance, error) {
	s.enter()
	return connector.Balance{}, nil
}
func (s *scriptedConnector) Transactions(context.Context, connector.TransactionQuery) (connector.TransactionPage, error) {
	s.enter()
	return connector.TransactionPage{}, nil
}

// everyCall calls each connector.Connector method once through c.
var everyCall = map[string]func(connector.Connector) error{
	"authenticate": func(c connector.Connector) error {
		_, err := c.Authenticate(context.Background(), "u", "p")
		return err
	},
	"customer": func(c connector.Connector) error { _, err := c.Customer(context.Background(), "c1"); return err },
	"accounts": func(c connector.Connector) error { _, err := c.Accounts(context.Background(), "c1"); return err },
	"account":  func(c connector.Connector) error { _, err := c.Account(context.Background(), "a1"); return err },
	"balance":  func(c connector.Connector) error { _, err := c.Balance(context.Background(), "a1"); return err },
	"transactions": func(c connector.Connector) error {
		_, err := c.Transactions(context.Background(), connector.TransactionQuery{AccountRef: "a1"})
		return err
	},
}

func TestGuardRecoversPanics(t *testing.T) {
	for _, panicWith := range []any{"boom", errors.New("nil map"), 42} {
		g, err := NewGuard(&scriptedConnector{panicWith: panicWith}, 2, nil)
		if err != nil {
			t.Fatal(err)
		}
		for name, call := range everyCall {
			if err := call(g); !errors.Is(err, ErrPanic) {
				t.Errorf("%s panicking with %v: err = %v, want ErrPanic", name, panicWith, err)
			}
		}
		if n := g.InFlight(); n != 0 {
			t.Errorf("a recovered panic kept %d slots", n)
		}
	}
	g, _ := NewGuard(&scriptedConnector{}, 1, nil)
	for name, call := range everyCall {
		if err := call(g); err != nil {
			t.Errorf("%s without panic: %v", name, err)
		}
	}
}

// N calls block in the core bank; call N+1 gets ErrBusy at once; once one returns, a call fits again.
func TestGuardBoundsInFlight(t *testing.T) {
	for _, limit := range []int{1, 3} {
		sc := &scriptedConnector{block: make(chan struct{}), started: make(chan struct{}, limit)}
		g, err := NewGuard(sc, limit, nil)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make(chan error, limit)
		for range limit {
			wg.Go(func() { _, err := g.Balance(context.Background(), "a1"); errs <- err })
		}
		for range limit {
			<-sc.started
		}
		start := time.Now()
		for name, call := range everyCall {
			if err := call(g); !errors.Is(err, ErrBusy) {
				t.Errorf("limit %d, %s beyond it: err = %v, want ErrBusy", limit, name, err)
			}
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("ErrBusy took %v, want at once", d)
		}
		close(sc.block)
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("a call within the limit failed: %v", err)
			}
		}
		sc.started = nil
		if _, err := g.Account(context.Background(), "a1"); err != nil {
			t.Errorf("after the calls returned: %v", err)
		}
	}
}

func TestNewGuardRefuses(t *testing.T) {
	cases := []struct {
		name string
		next connector.Connector
		max  int
	}{
		{"no connector", nil, 1},
		{"zero limit", &scriptedConnector{}, 0},
		{"negative limit", &scriptedConnector{}, -1},
	}
	for _, c := range cases {
		if _, err := NewGuard(c.next, c.max, nil); err == nil {
			t.Errorf("%s: accepted", c.name)
		}
	}
}

// factorConnector is a scriptedConnector with a second factor that panics.
type factorConnector struct{ scriptedConnector }

func (f *factorConnector) StartChallenge(context.Context, connector.ChallengeRequest) (connector.Challenge, error) {
	panic("start")
}
func (f *factorConnector) VerifyOTP(context.Context, string, string) error { panic("verify") }
func (f *factorConnector) ChallengeStatus(context.Context, string) (connector.ChallengeStatus, error) {
	panic("status")
}

// TestGuardSecondFactor: the guard passes a connector's second factor through, under the same
// panic recovery, and has none when the connector has none.
func TestGuardSecondFactor(t *testing.T) {
	plain, err := NewGuard(&scriptedConnector{}, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := plain.WithSecondFactor().(connector.SecondFactor); ok {
		t.Fatal("a guard over a connector without a second factor has one")
	}
	g, err := NewGuard(&factorConnector{}, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	sf, ok := g.WithSecondFactor().(connector.SecondFactor)
	if !ok {
		t.Fatal("the second factor was lost")
	}
	ctx := context.Background()
	_, err1 := sf.StartChallenge(ctx, connector.ChallengeRequest{})
	err2 := sf.VerifyOTP(ctx, "c", "1")
	_, err3 := sf.ChallengeStatus(ctx, "c")
	for i, err := range []error{err1, err2, err3} {
		if !errors.Is(err, ErrPanic) {
			t.Errorf("call %d: %v, want ErrPanic", i, err)
		}
	}
	if g.InFlight() != 0 {
		t.Fatalf("%d slots held after the calls", g.InFlight())
	}
}
