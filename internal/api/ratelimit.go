package api

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// rateLimiter is a request limit of the resource endpoints, per DC (design.md §3.14; spec
// paynet-dp.md §7.1 "200 requests/min per DC per DP") or per consent (negative-tests D16): a
// token bucket per key (dc_id or consent_id) refilling perMinute tokens a minute with a burst of
// perMinute. Idle buckets are dropped (tidy), so memory follows the keys active in the last minute.
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
	r, wait := l.reserve(key, now)
	return r != nil, wait
}

// reserve is allow returning the token taken, which the caller may give back with
// r.CancelAt(now); on refusal it returns nil and the wait.
func (l *rateLimiter) reserve(key string, now time.Time) (*rate.Reservation, time.Duration) {
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

// dataLimits are the two limits of a data request (negative-tests D16 "limits per DC and per
// consent"): the DC's (design §3.14), then the consent's, so that one busy consent cannot take
// the whole allowance of its DC.
type dataLimits struct {
	// mu makes the two checks one step: a DC token given back is restored exactly only when no
	// other reservation of that DC came in between.
	mu                sync.Mutex
	perDC, perConsent *rateLimiter
}

func newDataLimits(perDCPerMinute, perConsentPerMinute int) *dataLimits {
	return &dataLimits{perDC: newRateLimiter(perDCPerMinute), perConsent: newRateLimiter(perConsentPerMinute)}
}

// allow takes a token of the DC's bucket and one of the consent's. A request refused by either
// takes none: the DC's token is given back when the consent's limit refuses, so requests of a
// consent over its limit do not count against the other consents of its DC. The wait is that of
// the limit that refused.
func (d *dataLimits) allow(dcID, consentID string, now time.Time) (bool, time.Duration) {
	d.mu.Lock()
	defer d.mu.Unlock()
	dcTok, wait := d.perDC.reserve(dcID, now)
	if dcTok == nil {
		return false, wait
	}
	if ok, wait := d.perConsent.allow(consentID, now); !ok {
		dcTok.CancelAt(now)
		return false, wait
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
