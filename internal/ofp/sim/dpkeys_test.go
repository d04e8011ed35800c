package sim

import (
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ofpdp/ofpdp/internal/ofp/stdjose"
)

// TestDPKeyCache walks the DP key cache as PayNet's would behave during a rotation (spec §4.2):
// a new kid is refused until the copy expires or one rate-limited refresh on the unknown kid
// picks it up; a file that does not load keeps the previous keys.
func TestDPKeyCache(t *testing.T) {
	testPKI(t)
	oldRaw, err := os.ReadFile(filepath.Join(pkiDir, fileDPJWKS))
	if err != nil {
		t.Fatal(err)
	}
	newRaw, err := os.ReadFile(filepath.Join(otherPKIDir, fileDPJWKS))
	if err != nil {
		t.Fatal(err)
	}
	oldSet, err := stdjose.ParseJWKS(oldRaw)
	if err != nil {
		t.Fatal(err)
	}
	newSet, err := stdjose.ParseJWKS(newRaw)
	if err != nil {
		t.Fatal(err)
	}
	oldKid, newKid := oldSet.Keys[0].Kid, newSet.Keys[0].Kid
	if oldKid == newKid {
		t.Fatal("the two test PKIs share a kid")
	}

	file := filepath.Join(t.TempDir(), fileDPJWKS)
	write := func(b []byte) {
		t.Helper()
		if err := os.WriteFile(file, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(oldRaw)
	var mu sync.Mutex
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	c, err := newDPKeyCache(file, 15*time.Minute, 30*time.Second, clock, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}

	steps := []struct {
		name    string
		advance time.Duration
		file    []byte // written before the lookup when set
		kid     string
		want    bool
	}{
		{"old key known at start", 0, nil, oldKid, true},
		{"new key published: one refresh on the unknown kid is still rate-limited", 10 * time.Second, newRaw, newKid, false},
		{"after the gap the unknown kid refreshes and is found", 30 * time.Second, nil, newKid, true},
		{"the refresh replaced the set: the old kid is gone", 0, nil, oldKid, false},
		{"a just-refreshed cache does not refresh again on an unknown kid", 0, oldRaw, oldKid, false},
		{"the copy expires after the TTL and the file is read again", 15 * time.Minute, nil, oldKid, true},
		{"an unreadable file keeps the previous keys", 16 * time.Minute, []byte("{not json"), oldKid, true},
		{"and a later good read replaces them", 31 * time.Second, newRaw, newKid, true},
	}
	for _, s := range steps {
		advance(s.advance)
		if s.file != nil {
			write(s.file)
		}
		if _, got := c.ByKid(s.kid); got != s.want {
			t.Fatalf("%s: ByKid found=%v, want %v", s.name, got, s.want)
		}
	}
}

func TestNewRefusesDPKeysTTLAboveFifteenMinutes(t *testing.T) {
	_, err := New(Options{PKIDir: testPKI(t), DPID: "dp", DCID: "dc", DPAPIURL: "https://dp", DPWebURL: "https://dp",
		PublicURL: "http://sim", DPKeysTTL: 16 * time.Minute})
	if err == nil {
		t.Fatal("New accepted a DP key cache longer than PayNet's 15 minutes")
	}
}
