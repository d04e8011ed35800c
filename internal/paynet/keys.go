package paynet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/ofpdp/ofpdp/internal/jose"
)

// Cache limits of spec §3.2.2 / §8.2 and design.md §3.2.
const (
	// MaxKeysTTL is the longest a fetched JWKS is used: PayNet allows caching for at most 15 min.
	MaxKeysTTL = 15 * time.Minute
	// DefaultMinRefreshInterval spaces refreshes caused by unknown kids or failed fetches.
	DefaultMinRefreshInterval = 30 * time.Second
	// maxJWKSSize caps a fetched JWKS document.
	maxJWKSSize = 1 << 20
	// fetchTimeout bounds one fetch, whoever started it.
	fetchTimeout = 10 * time.Second
)

// ErrKeysUnavailable means no usable key set: the last fetch failed and the cached set, if any,
// is past its TTL (negative-tests O1: fail closed).
var ErrKeysUnavailable = errors.New("paynet: key set unavailable")

// KeySource fetches a JWKS document.
type KeySource interface {
	Fetch(ctx context.Context) ([]byte, error)
}

type httpSource struct {
	client *http.Client
	url    string
}

// HTTPSource fetches a JWKS with GET from url using client (spec §3.2.2). Only a 2xx answer of at
// most 1 MiB is accepted.
func HTTPSource(client *http.Client, url string) KeySource {
	return &httpSource{client: client, url: url}
}

func (s *httpSource) Fetch(ctx context.Context) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return nil, fmt.Errorf("paynet: JWKS request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("paynet: fetch JWKS: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxJWKSSize))
		return nil, fmt.Errorf("paynet: fetch JWKS %s: HTTP %d", s.url, resp.StatusCode)
	}
	return readCapped(resp.Body, "JWKS "+s.url)
}

type fileSource struct{ path string }

// FileSource reads a JWKS from a file (paynet.jwks_file), read again at every refresh so that a
// replaced file is picked up.
func FileSource(path string) KeySource { return fileSource{path: path} }

func (s fileSource) Fetch(ctx context.Context) ([]byte, error) {
	f, err := os.Open(s.path)
	if err != nil {
		return nil, fmt.Errorf("paynet: JWKS file: %w", err)
	}
	defer f.Close()
	return readCapped(f, "JWKS file "+s.path)
}

func readCapped(r io.Reader, what string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxJWKSSize+1))
	if err != nil {
		return nil, fmt.Errorf("paynet: read %s: %w", what, err)
	}
	if len(b) > maxJWKSSize {
		return nil, fmt.Errorf("paynet: %s is larger than %d bytes", what, maxJWKSSize)
	}
	return b, nil
}

// KeysOptions configures a Keys cache.
type KeysOptions struct {
	Source KeySource
	// TTL is the longest a fetched set is used (default and maximum MaxKeysTTL). A set older
	// than TTL/2 is refreshed in the background while it is still served.
	TTL time.Duration
	// MinRefreshInterval spaces refreshes caused by an unknown kid, and retries after a failed
	// fetch (default DefaultMinRefreshInterval).
	MinRefreshInterval time.Duration
	Now                func() time.Time
	Logger             *slog.Logger
	// OnFetchFailure, when set, is called after every failed fetch (a metric).
	OnFetchFailure func()
}

// Keys caches one JWKS (design.md §3.2; negative-tests O1, S7). It never fetches per request:
//
//   - a fetched set is served for TTL (≤ 15 min); from TTL/2 on, the first caller starts one
//     background refresh and every caller keeps getting the cached set;
//   - at most one fetch runs at a time; callers that need its result wait for it;
//   - a kid (or thumbprint) not in the set causes at most one refresh per MinRefreshInterval;
//   - when a refresh fails, the cached set is served until its TTL ends, then every call fails
//     with ErrKeysUnavailable (fail closed), and a new fetch is tried at most once per
//     MinRefreshInterval.
//
// Keys is safe for concurrent use.
type Keys struct {
	src        KeySource
	ttl        time.Duration
	minRefresh time.Duration
	now        func() time.Time
	log        *slog.Logger
	onFailure  func()

	mu         sync.Mutex
	set        *jose.KeySet
	fetchedAt  time.Time // start of the fetch that produced set
	lastFetch  time.Time // start of the last fetch, successful or not; zero before the first
	lastErr    error     // error of the last fetch; nil when it succeeded
	lastForced time.Time // start of the last refresh caused by a miss; zero before the first
	inflight   *fetchCall
}

var _ jose.KeyResolver = (*Keys)(nil)

// fetchCall is one fetch in flight; done is closed when it ends.
type fetchCall struct {
	done chan struct{}
}

// NewKeys returns a cache over o.Source. It panics when o.Source is nil (a wiring error).
func NewKeys(o KeysOptions) *Keys {
	if o.Source == nil {
		panic("paynet: NewKeys without a Source")
	}
	k := &Keys{src: o.Source, ttl: o.TTL, minRefresh: o.MinRefreshInterval, now: o.Now, log: o.Logger, onFailure: o.OnFetchFailure}
	if k.ttl <= 0 || k.ttl > MaxKeysTTL {
		k.ttl = MaxKeysTTL
	}
	if k.minRefresh <= 0 {
		k.minRefresh = DefaultMinRefreshInterval
	}
	if k.now == nil {
		k.now = time.Now
	}
	if k.log == nil {
		k.log = slog.Default()
	}
	return k
}

// Set returns the current key set, fetching it when none is usable.
func (k *Keys) Set(ctx context.Context) (*jose.KeySet, error) {
	k.mu.Lock()
	now := k.now()
	if k.usableAt(now) {
		if !now.Before(k.fetchedAt.Add(k.ttl/2)) && k.inflight == nil && k.mayFetch(now) {
			k.start(ctx, now) // background refresh; the caller does not wait
		}
		s := k.set
		k.mu.Unlock()
		return s, nil
	}
	c := k.inflight
	if c == nil {
		if !k.mayFetch(now) {
			err := k.unavailable()
			k.mu.Unlock()
			return nil, err
		}
		c = k.start(ctx, now)
	}
	k.mu.Unlock()
	return k.await(ctx, c)
}

// lookup finds a key with find, refreshing the set once (rate-limited) on a miss. found is false
// when the key is not in the set even after that.
func (k *Keys) lookup(ctx context.Context, find func(*jose.KeySet) (jose.PublicKey, bool)) (key jose.PublicKey, found bool, err error) {
	set, err := k.Set(ctx)
	if err != nil {
		return jose.PublicKey{}, false, err
	}
	if key, ok := find(set); ok {
		return key, true, nil
	}
	k.mu.Lock()
	now := k.now()
	c := k.inflight
	if c == nil {
		if !k.mayForce(now) {
			k.mu.Unlock()
			return jose.PublicKey{}, false, nil
		}
		k.lastForced = now
		c = k.start(ctx, now)
	}
	k.mu.Unlock()
	if set, err = k.await(ctx, c); err != nil {
		return jose.PublicKey{}, false, err
	}
	key, ok := find(set)
	return key, ok, nil
}

// SigningKey returns the signing key named kid (jose.KeyResolver). A kid not in the set, after
// at most one rate-limited refresh, is jose.ErrUnknownKey; a key whose use is not "sig" is
// jose.ErrKeyUse (negative-tests S7); no usable set is ErrKeysUnavailable.
func (k *Keys) SigningKey(ctx context.Context, kid string) (jose.PublicKey, error) {
	if kid == "" {
		return jose.PublicKey{}, fmt.Errorf("%w: empty kid", jose.ErrUnknownKey)
	}
	key, found, err := k.lookup(ctx, func(s *jose.KeySet) (jose.PublicKey, bool) { return s.ByKid(kid) })
	if err != nil {
		return jose.PublicKey{}, err
	}
	if !found {
		return jose.PublicKey{}, fmt.Errorf("%w: kid %q", jose.ErrUnknownKey, kid)
	}
	if key.Use != "sig" {
		return jose.PublicKey{}, fmt.Errorf("%w: kid %q has use %q, not sig", jose.ErrKeyUse, kid, key.Use)
	}
	return key, nil
}

// usableAt reports whether the cached set may be served at now. k.mu is held.
func (k *Keys) usableAt(now time.Time) bool {
	return k.set != nil && now.Before(k.fetchedAt.Add(k.ttl))
}

// mayFetch reports whether a fetch may start at now: the first one, one after a success (the set
// is stale, which happens at most once per TTL/2), or one at least MinRefreshInterval after the
// last (failed) one. k.mu is held.
func (k *Keys) mayFetch(now time.Time) bool {
	return k.lastFetch.IsZero() || k.lastErr == nil || now.Sub(k.lastFetch) >= k.minRefresh
}

// mayForce reports whether a miss may refresh the set at now: at most once per
// MinRefreshInterval, and not sooner than that after a failed fetch. k.mu is held.
func (k *Keys) mayForce(now time.Time) bool {
	if !k.lastForced.IsZero() && now.Sub(k.lastForced) < k.minRefresh {
		return false
	}
	return k.lastErr == nil || now.Sub(k.lastFetch) >= k.minRefresh
}

// unavailable is the fail-closed error. k.mu is held.
func (k *Keys) unavailable() error {
	if k.lastErr != nil {
		return fmt.Errorf("%w: %w", ErrKeysUnavailable, k.lastErr)
	}
	return fmt.Errorf("%w: cached set expired", ErrKeysUnavailable)
}

// start begins a fetch; it runs detached from the caller's cancellation (other callers may wait
// for it) and is bounded by fetchTimeout. k.mu is held.
func (k *Keys) start(ctx context.Context, now time.Time) *fetchCall {
	c := &fetchCall{done: make(chan struct{})}
	k.inflight = c
	k.lastFetch = now
	go func() {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), fetchTimeout)
		defer cancel()
		set, err := k.fetch(fctx)
		k.mu.Lock()
		if err == nil {
			k.set, k.fetchedAt, k.lastErr = set, now, nil
		} else {
			k.lastErr = err
			k.log.Warn("paynet: JWKS fetch failed", "err", err, "cached_set", k.set != nil)
			if k.onFailure != nil {
				k.onFailure()
			}
		}
		k.inflight = nil
		k.mu.Unlock()
		close(c.done)
	}()
	return c
}

func (k *Keys) fetch(ctx context.Context) (*jose.KeySet, error) {
	b, err := k.src.Fetch(ctx)
	if err != nil {
		return nil, err
	}
	set, err := jose.ParseJWKS(b)
	if err != nil {
		return nil, fmt.Errorf("paynet: parse JWKS: %w", err)
	}
	set.LogSkipped(ctx, k.log, "PayNet JWKS")
	if len(set.Keys) == 0 {
		return nil, errors.New("paynet: JWKS holds no keys")
	}
	return set, nil
}

// await waits for c and returns the set usable afterwards: the fetched one, or the cached one
// when the fetch failed and the cache is still within its TTL.
func (k *Keys) await(ctx context.Context, c *fetchCall) (*jose.KeySet, error) {
	select {
	case <-c.done:
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: waiting for a fetch: %w", ErrKeysUnavailable, ctx.Err())
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.usableAt(k.now()) {
		return k.set, nil
	}
	return nil, k.unavailable()
}
