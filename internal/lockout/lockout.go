package lockout

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ofpdp/ofpdp/internal/store"
)

// Defaults of Policy (docs/configuration.md authorize.login_*).
const (
	DefaultMaxFailures      = 5
	DefaultDelayStep        = 30 * time.Second
	DefaultHardLockFailures = 20
	DefaultWindow           = 15 * time.Minute
	DefaultPerClient        = 30
	DefaultPerConsent       = 10
	DefaultGlobalPerMinute  = 600
)

// Policy is the set of limits. A zero field takes its default.
type Policy struct {
	MaxFailures      int           // per username and client address, before progressive delay (and per journey)
	DelayStep        time.Duration // step of the progressive delay
	HardLockFailures int           // per username from any address within Window: hard lock
	Window           time.Duration // lifetime of every counter but the global one
	PerClient        int           // per client address within Window, any username
	PerConsent       int           // per consent within Window, across its journeys
	GlobalPerMinute  int           // the whole deployment, per minute
}

// WithDefaults fills zero fields and checks the policy.
func (p Policy) WithDefaults() (Policy, error) {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&p.MaxFailures, DefaultMaxFailures)
	def(&p.HardLockFailures, DefaultHardLockFailures)
	def(&p.PerClient, DefaultPerClient)
	def(&p.PerConsent, DefaultPerConsent)
	def(&p.GlobalPerMinute, DefaultGlobalPerMinute)
	if p.DelayStep == 0 {
		p.DelayStep = DefaultDelayStep
	}
	if p.Window == 0 {
		p.Window = DefaultWindow
	}
	var errs []error
	for _, f := range []struct {
		name string
		v    int
	}{{"MaxFailures", p.MaxFailures}, {"HardLockFailures", p.HardLockFailures}, {"PerClient", p.PerClient},
		{"PerConsent", p.PerConsent}, {"GlobalPerMinute", p.GlobalPerMinute}} {
		if f.v < 1 {
			errs = append(errs, fmt.Errorf("lockout: %s must be positive, got %d", f.name, f.v))
		}
	}
	if p.HardLockFailures < p.MaxFailures {
		errs = append(errs, fmt.Errorf("lockout: HardLockFailures (%d) must be at least MaxFailures (%d)", p.HardLockFailures, p.MaxFailures))
	}
	if p.DelayStep < 0 || p.Window < 0 || p.Window >= store.LoginAttemptRetention {
		errs = append(errs, fmt.Errorf("lockout: DelayStep must be positive and Window between 0 and %s", store.LoginAttemptRetention))
	}
	return p, errors.Join(errs...)
}

// Counters keeps the attempt counters across replicas; *store.Store implements it.
type Counters interface {
	ReserveLoginAttempt(ctx context.Context, key string, l store.AttemptLimit, now time.Time) (store.Reservation, error)
	ReleaseLoginAttempt(ctx context.Context, key string) error
	ClearLoginAttempts(ctx context.Context, key string) error
}

// Why an attempt was refused. Every refusal is an *Refused wrapping one of these.
var (
	ErrUsernameLocked = errors.New("lockout: username locked") // hard lock: the journey can only be cancelled
	ErrConsentLocked  = errors.New("lockout: too many attempts for this consent")
	ErrDelayed        = errors.New("lockout: username delayed for this client")
	ErrClientLimited  = errors.New("lockout: too many attempts from this client address")
	ErrGlobalLimited  = errors.New("lockout: too many failed sign-ins overall")
)

// Refused is a refusal: which limit, and from when another attempt may be allowed.
type Refused struct {
	Limit   error
	RetryAt time.Time
}

func (r *Refused) Error() string { return r.Limit.Error() }
func (r *Refused) Unwrap() error { return r.Limit }

// Locks reports whether the refusal ends the journey's sign-in (only cancel is left): the
// username's hard lock or the consent's limit. The others are temporary: try again later.
func (r *Refused) Locks() bool {
	return errors.Is(r.Limit, ErrUsernameLocked) || errors.Is(r.Limit, ErrConsentLocked)
}

// Attempt names one sign-in attempt.
type Attempt struct {
	Username  string // as typed; compared case-insensitively
	Client    string // the client address (web.trusted_proxies decides which one)
	ConsentID string
}

// Guard applies a Policy over Counters.
type Guard struct {
	p Policy
	c Counters
}

// New returns a Guard; p is completed with defaults and checked.
func New(p Policy, c Counters) (*Guard, error) {
	p, err := p.WithDefaults()
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, errors.New("lockout: Counters is required")
	}
	return &Guard{p: p, c: c}, nil
}

// Policy returns the policy in force, defaults filled in.
func (g *Guard) Policy() Policy { return g.p }

type counter struct {
	key    string
	limit  store.AttemptLimit
	err    error
	forget bool // cleared on success (the username's); the others are given back
}

func hash(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:])
}

// counters are an attempt's counters, most specific first, so that a refusal by a narrow limit
// takes nothing from the wider ones.
func (g *Guard) counters(a Attempt) []counter {
	user := strings.ToLower(a.Username)
	return []counter{
		{key: "uc:" + hash(user, a.Client), limit: store.AttemptLimit{Max: g.p.MaxFailures, Window: g.p.Window, DelayStep: g.p.DelayStep}, err: ErrDelayed, forget: true},
		{key: "u:" + hash(user), limit: store.AttemptLimit{Max: g.p.HardLockFailures, Window: g.p.Window}, err: ErrUsernameLocked, forget: true},
		{key: "k:" + hash(a.ConsentID), limit: store.AttemptLimit{Max: g.p.PerConsent, Window: g.p.Window}, err: ErrConsentLocked},
		{key: "c:" + hash(a.Client), limit: store.AttemptLimit{Max: g.p.PerClient, Window: g.p.Window}, err: ErrClientLimited},
		{key: "g", limit: store.AttemptLimit{Max: g.p.GlobalPerMinute, Window: time.Minute}, err: ErrGlobalLimited},
	}
}

// Ticket is a reserved attempt: end it with exactly one of Succeeded, Failed or Abandoned.
type Ticket struct {
	g    *Guard
	held []counter
}

// Begin reserves the attempt a at now on every counter. A refusal is a *Refused (nothing stays
// reserved); any other error is the store's.
func (g *Guard) Begin(ctx context.Context, a Attempt, now time.Time) (*Ticket, error) {
	t := &Ticket{g: g}
	for _, c := range g.counters(a) {
		r, err := g.c.ReserveLoginAttempt(ctx, c.key, c.limit, now)
		if err == nil && !r.OK {
			err = &Refused{Limit: c.err, RetryAt: r.RetryAt}
		}
		if err != nil {
			return nil, errors.Join(err, t.Abandoned(ctx))
		}
		t.held = append(t.held, c)
	}
	return t, nil
}

// Succeeded ends a successful sign-in: the username's counters are cleared, the others given back.
func (t *Ticket) Succeeded(ctx context.Context) error {
	var errs []error
	for _, c := range t.held {
		if c.forget {
			errs = append(errs, t.g.c.ClearLoginAttempts(ctx, c.key))
		} else {
			errs = append(errs, t.g.c.ReleaseLoginAttempt(ctx, c.key))
		}
	}
	t.held = nil
	return errors.Join(errs...)
}

// Failed ends a failed sign-in: the reservations stay, as the failure.
func (t *Ticket) Failed() { t.held = nil }

// Abandoned ends an attempt that did not happen (the bank could not answer): every reservation
// is given back.
func (t *Ticket) Abandoned(ctx context.Context) error {
	var errs []error
	for _, c := range t.held {
		errs = append(errs, t.g.c.ReleaseLoginAttempt(ctx, c.key))
	}
	t.held = nil
	return errors.Join(errs...)
}
