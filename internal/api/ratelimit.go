package api

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// rateLimiter is the per-DC request limit of the resource endpoints (design.md §3.14; spec
// paynet-dp.md §7.1 "200 requests/min per DC per DP"; negative-tests D16): a token bucket per
// dc_id refilling perMinute tokens a minute with a burst of perMinute.
type rateLimiter struct {
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

// rateTidyAfter is how many buckets may exist before idle ones are dropped. A bucket idle for a
// full minute has refilled to its burst, so dropping it changes nothing.
const rateTidyAfter = 1024

func newRateLimiter(perMinute int) *rateLimiter {
	return &rateLimiter{
		perMinute: perMinute,
		every:     rate.Limit(float64(perMinute) / 60),
		buckets:   make(map[string]*bucket),
	}
}

// allow takes one token of key's bucket at now. When none is left it takes nothing and returns
// false with how long until a token is available (for Retry-After).
func (l *rateLimiter) allow(key string, now time.Time) (bool, time.Duration) {
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
		return false, time.Minute
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// tidy drops buckets idle for over a minute once there are many of them (at most once a minute).
func (l *rateLimiter) tidy(now time.Time) {
	if len(l.buckets) < rateTidyAfter || now.Sub(l.lastTidy) < time.Minute {
		return
	}
	l.lastTidy = now
	for k, b := range l.buckets {
		if now.Sub(b.last) > time.Minute {
			delete(l.buckets, k)
		}
	}
}
