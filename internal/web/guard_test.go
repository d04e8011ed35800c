package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ofpdp/ofpdp/connector"
	"github.com/ofpdp/ofpdp/internal/bank"
)

// panickyBank is the fake core bank with an adapter bug in Authenticate.
type panickyBank struct{ *fakeBank }

func (panickyBank) Authenticate(context.Context, string, string) (connector.Customer, error) {
	panic("adapter bug")
}

// blockingBank holds Authenticate until release is closed.
type blockingBank struct {
	*fakeBank
	entered chan struct{}
	release chan struct{}
}

func (b blockingBank) Authenticate(ctx context.Context, u, p string) (connector.Customer, error) {
	b.entered <- struct{}{}
	<-b.release
	return b.fakeBank.Authenticate(ctx, u, p)
}

// Behind bank.Guard (as internal/server wires it), a panicking or saturated connector shows the
// customer the "unavailable" login page (503) and is not counted as a failed login.
func TestLoginConnectorGuarded(t *testing.T) {
	for _, busy := range []bool{false, true} {
		t.Run(map[bool]string{false: "connector panics", true: "connector busy"}[busy], func(t *testing.T) {
			var g *bank.Guard
			var bb blockingBank
			hs := newHarness(t, func(o *Options) {
				var conn connector.Connector = panickyBank{o.Bank.(*fakeBank)}
				if busy {
					bb = blockingBank{fakeBank: o.Bank.(*fakeBank), entered: make(chan struct{}, 1), release: make(chan struct{})}
					conn = bb
				}
				var err error
				if g, err = bank.NewGuard(conn, 1, nil); err != nil {
					t.Fatal(err)
				}
				o.Bank = g
			})
			hs.start()
			if busy {
				// Another customer's login waits on the core bank and holds the only slot.
				go func() { _, _ = g.Authenticate(context.Background(), "someone", "else") }()
				<-bb.entered
				t.Cleanup(func() { close(bb.release) })
			}
			w := hs.post(pathLogin, url.Values{"username": {"aisyah"}, "password": {"Demo@1234"}})
			mustStatus(t, w, http.StatusServiceUnavailable)
			if !strings.Contains(w.Body.String(), "try again in a few moments") {
				t.Fatalf("not the unavailable page: %s", w.Body.String())
			}
			if n := hs.store.attempts(""); n != 0 {
				t.Fatalf("a connector failure counted as a failed login: %d attempts kept", n)
			}
		})
	}
}
