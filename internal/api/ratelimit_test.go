package api

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestDataLimits(t *testing.T) {
	now := time.Date(2026, 6, 30, 10, 0, 0, 0, time.UTC)
	l := newDataLimits(4, 2)
	for i, c := range []struct {
		at       time.Duration
		dc, cons string
		ok       bool
		wait     time.Duration // of a refusal: one token of the limit that refused
	}{
		{0, "dc-1", "c-1", true, 0},
		{0, "dc-1", "c-1", true, 0},
		{0, "dc-1", "c-1", false, 30 * time.Second}, // c-1 spent its 2/min
		{0, "dc-1", "c-1", false, 30 * time.Second}, // … and its refusals cost dc-1 nothing
		{0, "dc-1", "c-1", false, 30 * time.Second},
		{0, "dc-1", "c-2", true, 0},
		{0, "dc-1", "c-2", true, 0},
		{0, "dc-1", "c-3", false, 15 * time.Second}, // dc-1 spent its 4/min
		{0, "dc-2", "c-4", true, 0},                 // another DC has its own bucket
		{15 * time.Second, "dc-1", "c-3", true, 0},  // one dc-1 token back; c-3 still fresh
		{15 * time.Second, "dc-1", "c-3", false, 15 * time.Second},
		{30 * time.Second, "dc-1", "c-1", true, 0},                 // one token of each back
		{30 * time.Second, "dc-1", "c-1", false, 15 * time.Second}, // dc-1 empty again: its wait
		{50 * time.Second, "dc-1", "c-1", false, 10 * time.Second}, // dc-1 has 1⅓, c-1 ⅔: c-1's wait
		{50 * time.Second, "dc-1", "c-5", true, 0},                 // the dc-1 token was given back
	} {
		ok, wait := l.allow(c.dc, c.cons, now.Add(c.at))
		if ok != c.ok || wait != c.wait {
			t.Errorf("step %d (%s, %s at +%v): allow = %v, %v; want %v, %v", i, c.dc, c.cons, c.at, ok, wait, c.ok, c.wait)
		}
	}
}

// TestDataLimitsConcurrent: many consents of one DC at once never pass more than the DC's burst,
// and every consent stays within its own.
func TestDataLimitsConcurrent(t *testing.T) {
	now := time.Date(2026, 6, 30, 10, 0, 0, 0, time.UTC)
	l := newDataLimits(100, 10)
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := map[string]int{}
	for g := 0; g < 20; g++ {
		cons := fmt.Sprintf("c-%d", g)
		wg.Go(func() {
			for i := 0; i < 30; i++ {
				if ok, _ := l.allow("dc", cons, now); ok {
					mu.Lock()
					allowed[cons]++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	total := 0
	for cons, n := range allowed {
		if n > 10 {
			t.Errorf("%s: %d allowed, above its burst of 10", cons, n)
		}
		total += n
	}
	if total != 100 {
		t.Errorf("%d of 600 requests allowed, want exactly the DC's burst of 100", total)
	}
}
