package demo

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"io"
	"math/big"
	"sync"
	"time"

	"github.com/ofpdp/ofpdp/connector"
)

var _ connector.SecondFactor = (*Connector)(nil)

const (
	// ChallengeTTL is how long a demo challenge stays open (a bank's OTP typically lives 2–5 minutes).
	ChallengeTTL = 3 * time.Minute
	// maxOpenChallenges bounds the demo's memory: the oldest are dropped first.
	maxOpenChallenges = 10000
	otpDigits         = 6
)

// challenge is one second factor in flight. code is the OTP; it lives only here, in memory.
type challenge struct {
	customerRef string
	method      connector.Method
	code        string
	expires     time.Time
	status      connector.ChallengeStatus
}

type challenges struct {
	mu    sync.Mutex
	now   func() time.Time
	rand  io.Reader
	open  map[string]*challenge
	order []string
}

func newChallenges(o Options) *challenges {
	cs := &challenges{now: o.Now, rand: o.Random, open: map[string]*challenge{}}
	if cs.now == nil {
		cs.now = time.Now
	}
	if cs.rand == nil {
		cs.rand = rand.Reader
	}
	return cs
}

// StartChallenge sends a code or an approval request to a known customer. The demo bank has no
// SMS gateway or app: the sandbox shows the code and the approval buttons (SandboxChallenge,
// SandboxDecide).
func (c *Connector) StartChallenge(ctx context.Context, r connector.ChallengeRequest) (connector.Challenge, error) {
	if err := c.wait(ctx); err != nil {
		return connector.Challenge{}, err
	}
	cu, ok := c.customers[r.CustomerRef]
	if !ok {
		return connector.Challenge{}, connector.ErrNotFound
	}
	if !r.Method.Valid() {
		return connector.Challenge{}, fmt.Errorf("demo: unknown second-factor method %q", r.Method)
	}
	cs := c.challenges
	idb := make([]byte, 16)
	if _, err := io.ReadFull(cs.rand, idb); err != nil {
		return connector.Challenge{}, fmt.Errorf("%w: %v", connector.ErrUnavailable, err)
	}
	ch := &challenge{customerRef: r.CustomerRef, method: r.Method, status: connector.ChallengePending}
	if r.Method == connector.MethodOTP {
		n, err := rand.Int(cs.rand, big.NewInt(1_000_000))
		if err != nil {
			return connector.Challenge{}, fmt.Errorf("%w: %v", connector.ErrUnavailable, err)
		}
		ch.code = fmt.Sprintf("%0*d", otpDigits, n.Int64())
	}
	id := hex.EncodeToString(idb)
	cs.mu.Lock()
	defer cs.mu.Unlock()
	ch.expires = cs.now().Add(ChallengeTTL)
	cs.open[id] = ch
	cs.order = append(cs.order, id)
	for len(cs.order) > maxOpenChallenges {
		delete(cs.open, cs.order[0])
		cs.order = cs.order[1:]
	}
	dest := "Demo Bank app"
	if r.Method == connector.MethodOTP {
		dest = maskMobile(cu.MobileNumber)
	}
	return connector.Challenge{ID: id, Method: r.Method, ExpiresAt: ch.expires, Destination: dest}, nil
}

// maskMobile keeps the last three digits of a mobile number.
func maskMobile(n string) string {
	if len(n) <= 3 {
		return "•••"
	}
	return "•••••" + n[len(n)-3:]
}

// live returns the open challenge id, or ErrChallengeExpired. cs.mu is held.
func (cs *challenges) live(id string, m connector.Method) (*challenge, error) {
	ch, ok := cs.open[id]
	if !ok || ch.method != m {
		return nil, connector.ErrChallengeExpired
	}
	if !cs.now().Before(ch.expires) {
		ch.status = connector.ChallengeExpired
	}
	return ch, nil
}

// VerifyOTP checks a code in constant time; a right code ends the challenge.
func (c *Connector) VerifyOTP(ctx context.Context, challengeID, otp string) error {
	if err := c.wait(ctx); err != nil {
		return err
	}
	cs := c.challenges
	cs.mu.Lock()
	defer cs.mu.Unlock()
	ch, err := cs.live(challengeID, connector.MethodOTP)
	if err != nil {
		return err
	}
	if ch.status != connector.ChallengePending {
		return connector.ErrChallengeExpired
	}
	if subtle.ConstantTimeCompare([]byte(otp), []byte(ch.code)) != 1 {
		return connector.ErrInvalidOTP
	}
	ch.status = connector.ChallengeApproved
	delete(cs.open, challengeID)
	return nil
}

// ChallengeStatus is where an app approval stands.
func (c *Connector) ChallengeStatus(ctx context.Context, challengeID string) (connector.ChallengeStatus, error) {
	if err := c.wait(ctx); err != nil {
		return "", err
	}
	cs := c.challenges
	cs.mu.Lock()
	defer cs.mu.Unlock()
	ch, err := cs.live(challengeID, connector.MethodApp)
	if err != nil {
		return "", err
	}
	return ch.status, nil
}

// SandboxChallenge is what the sandbox page shows of a customer's newest open challenge: its
// id, method and, for an OTP, the code (a real bank's code reaches only the customer's phone).
// ok is false when the customer has none.
func (c *Connector) SandboxChallenge(customerRef string) (id string, method connector.Method, code string, ok bool) {
	cs := c.challenges
	cs.mu.Lock()
	defer cs.mu.Unlock()
	for i := len(cs.order) - 1; i >= 0; i-- {
		ch, live := cs.open[cs.order[i]]
		if live && ch.customerRef == customerRef && ch.status == connector.ChallengePending && cs.now().Before(ch.expires) {
			return cs.order[i], ch.method, ch.code, true
		}
	}
	return "", "", "", false
}

// SandboxDecide approves or refuses a pending app approval, as the customer would in the
// bank's app. It reports whether there was one.
func (c *Connector) SandboxDecide(challengeID string, approve bool) bool {
	cs := c.challenges
	cs.mu.Lock()
	defer cs.mu.Unlock()
	ch, err := cs.live(challengeID, connector.MethodApp)
	if err != nil || ch.status != connector.ChallengePending {
		return false
	}
	ch.status = connector.ChallengeRefused
	if approve {
		ch.status = connector.ChallengeApproved
	}
	return true
}
