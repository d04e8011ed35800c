package ratelimit

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Keyed is a request limit per key — a data consumer, a consent, a client address: a token
// bucket per key refilling perMinute tokens a minute with a burst of perMinute. Idle buckets are
// dropped (tidy), so memory follows the keys active in the last minute. It is safe for
// concurrent use.
type Keyed struct {
	perMinute int
	every     rate.Limit

	mu       sync.Mutex
	buckets  map[string]*bucket
	lastTidy time.Time
}

type bucket struct {
	lim  *rate.Limiter
	last time.Time
}

// TidyAfter is how many buckets may exist before idle ones are dropped. A bucket idle for a
// full minute has refilled to its burst, so dropping it changes nothing.
const TidyAfter = 1024

// NewPerMinute returns a Keyed limit of perMinute requests a minute per key.
func NewPerMinute(perMinute int) *Keyed {
	return &Keyed{
		perMinute: perMinute,
		every:     rate.Limit(float64(perMinute) / 60),
		buckets:   make(map[string]*bucket),
	}
}

// Allow takes one token of key's bucket at now. When none is left it takes nothing and returns
// false with how long until a token is available (for Retry-After).
func (l *Keyed) Allow(key string, now time.Time) (bool, time.Duration) {
	r, wait := l.Reserve(key, now)
	return r != nil, wait
}

// Reserve is Allow returning the token taken, which the caller may give back with
// r.CancelAt(now); on refusal it returns nil and the wait.
func (l *Keyed) Reserve(key string, now time.Time) (*rate.Reservation, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		l.tidy(now)
		b = &bucket{lim: rate.NewLimiter(l.every, l.perMinute)}
		l.buckets[key] = b
	}
	b.last = now
	r := b.lim.ReserveN(now, 1)
	if !r.OK() {
		return nil, time.Minute
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return nil, d
	}
	return r, 0
}

// tidy drops buckets idle for over a minute once there are many of them (at most once a minute).
func (l *Keyed) tidy(now time.Time) {
	if len(l.buckets) < TidyAfter || now.Sub(l.lastTidy) < time.Minute {
		return
	}
	l.lastTidy = now
	for k, b := range l.buckets {
		if now.Sub(b.last) > time.Minute {
			delete(l.buckets, k)
		}
	}
}

// PerMinute returns the limit's requests a minute per key.
func (l *Keyed) PerMinute() int { return l.perMinute }
