package jose

import (
	"context"
	"sync"
	"time"
)

// ReplayCache remembers jti values (design.md §3.2: "jti present and never seen before
// within 10 min"). The store implements it with an atomic insert so that it holds across
// replicas; MemoryReplay is the single-process implementation.
type ReplayCache interface {
	// UseOnce records jti until `until`; fresh is false when jti was already recorded and not yet expired.
	UseOnce(ctx context.Context, jti string, until time.Time) (fresh bool, err error)
}

// MemoryReplay is an in-memory ReplayCache, safe for concurrent use. Expired entries are
// purged at most once a minute, on use.
type MemoryReplay struct {
	now       func() time.Time
	mu        sync.Mutex
	seen      map[string]time.Time
	nextSweep time.Time
}

// NewMemoryReplay returns an empty MemoryReplay using the clock now (time.Now when nil).
func NewMemoryReplay(now func() time.Time) *MemoryReplay {
	if now == nil {
		now = time.Now
	}
	return &MemoryReplay{now: now, seen: make(map[string]time.Time)}
}

const replaySweepEvery = time.Minute

// UseOnce implements ReplayCache.
func (m *MemoryReplay) UseOnce(ctx context.Context, jti string, until time.Time) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if !now.Before(m.nextSweep) {
		for k, exp := range m.seen {
			if !now.Before(exp) {
				delete(m.seen, k)
			}
		}
		m.nextSweep = now.Add(replaySweepEvery)
	}
	if exp, ok := m.seen[jti]; ok && now.Before(exp) {
		return false, nil
	}
	m.seen[jti] = until
	return true, nil
}

// Len returns the number of jti values currently remembered (expired ones included until
// the next sweep).
func (m *MemoryReplay) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.seen)
}
