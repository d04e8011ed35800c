package ratelimit

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestKeyed(t *testing.T) {
	now := time.Date(2026, 6, 30, 10, 0, 0, 0, time.UTC)
	l := NewPerMinute(200)
	for i := 0; i < 200; i++ {
		if ok, _ := l.Allow("dc-1", now); !ok {
			t.Fatalf("request %d of a 200 burst refused", i+1)
		}
	}
	ok, wait := l.Allow("dc-1", now)
	if ok {
		t.Fatal("request 201 within the same instant allowed")
	}
	if wait <= 0 || wait > 300*time.Millisecond+time.Millisecond {
		t.Errorf("Retry-After wait = %v, want one token's time (300 ms)", wait)
	}
	// Another DC has its own bucket.
	if ok, _ := l.Allow("dc-2", now); !ok {
		t.Error("dc-2 refused because of dc-1")
	}
	// A refusal takes no token: after the announced wait exactly one request passes.
	if ok, _ := l.Allow("dc-1", now.Add(wait)); !ok {
		t.Error("refused after waiting the announced Retry-After")
	}
	if ok, _ := l.Allow("dc-1", now.Add(wait)); ok {
		t.Error("two requests passed after one token's time")
	}
	// A minute refills the whole burst.
	later := now.Add(time.Minute + wait)
	for i := 0; i < 200; i++ {
		if ok, _ := l.Allow("dc-1", later); !ok {
			t.Fatalf("after a minute, request %d refused", i+1)
		}
	}
}

func TestKeyedTidy(t *testing.T) {
	now := time.Date(2026, 6, 30, 10, 0, 0, 0, time.UTC)
	l := NewPerMinute(2)
	for i := 0; i < TidyAfter; i++ {
		l.Allow(fmt.Sprintf("dc-%d", i), now)
	}
	l.Allow("dc-0", now.Add(90*time.Second)) // still active
	l.Allow("dc-new", now.Add(2*time.Minute))
	if n := len(l.buckets); n != 2 {
		t.Errorf("after tidying %d buckets remain, want 2 (the active one and the new one)", n)
	}
}

func TestKeyedConcurrent(t *testing.T) {
	now := time.Date(2026, 6, 30, 10, 0, 0, 0, time.UTC)
	l := NewPerMinute(100)
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				if ok, _ := l.Allow("dc", now); ok {
					mu.Lock()
					allowed++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if allowed != 100 {
		t.Errorf("%d of 400 concurrent requests allowed, want exactly the burst of 100", allowed)
	}
}

// TestDataLimits: the per-DC limit first, then the per-consent one (negative-tests D16); a request
// refused by either takes no token of the other.
