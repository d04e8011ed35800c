package sim

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/ofpdp/ofpdp/internal/ofp/stdjose"
)

// Defaults of the DP key cache (spec paynet-dp.md §4.2: PayNet caches a participant's keys for
// at most 15 minutes and refetches on a key it does not know).
const (
	DefaultDPKeysTTL        = 15 * time.Minute
	DefaultDPKeysRefreshGap = 30 * time.Second
)

// dpKeyCache resolves the DP's verification keys from dp.jwks.json the way PayNet resolves a
// participant's keys: the file is read again once the copy in hand is older than ttl, and an
// unknown kid triggers one refresh, at most one per gap. A file that does not load keeps the
// previous keys (and is logged); the next lookup tries again.
type dpKeyCache struct {
	path   string
	ttl    time.Duration
	gap    time.Duration
	now    func() time.Time
	logger *slog.Logger

	mu       sync.Mutex
	keys     *stdjose.KeySet
	loadedAt time.Time // when keys were read
	tried    time.Time // when the last read was attempted, successful or not
}

func newDPKeyCache(path string, ttl, gap time.Duration, now func() time.Time, logger *slog.Logger) (*dpKeyCache, error) {
	c := &dpKeyCache{path: path, ttl: ttl, gap: gap, now: now, logger: logger}
	ks, err := readJWKS(path)
	if err != nil {
		return nil, err
	}
	c.keys, c.loadedAt, c.tried = ks, now(), now()
	return c, nil
}

// ByKid implements stdjose.KeyLookup.
func (c *dpKeyCache) ByKid(kid string) (stdjose.PublicKey, bool) {
	ctx := context.Background()
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if now.Sub(c.loadedAt) >= c.ttl && now.Sub(c.tried) >= c.gap {
		c.refresh(ctx, now, "expired")
	}
	if k, ok := c.keys.ByKid(kid); ok {
		return k, true
	}
	if now.Sub(c.tried) >= c.gap {
		c.refresh(ctx, now, "unknown kid")
		return c.keys.ByKid(kid)
	}
	return stdjose.PublicKey{}, false
}

// refresh reads the file again; called with mu held.
func (c *dpKeyCache) refresh(ctx context.Context, now time.Time, why string) {
	c.tried = now
	ks, err := readJWKS(c.path)
	if err != nil {
		c.logger.ErrorContext(ctx, "DP keys not refreshed; the previous ones stay in use", "reason", why, "err", err)
		return
	}
	c.keys, c.loadedAt = ks, now
	c.logger.InfoContext(ctx, "DP keys refreshed", "reason", why, "keys", len(ks.Keys))
}
