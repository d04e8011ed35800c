package paynet

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ofpdp/ofpdp/internal/jose"
)

// jwksServer is a JWKS endpoint whose document, availability and latency the test controls, and
// which counts the requests it gets.
type jwksServer struct {
	srv      *httptest.Server
	requests atomic.Int64
	mu       sync.Mutex
	doc      []byte
	down     bool
	gate     chan struct{} // when non-nil, requests wait for it to close
	entered  chan struct{} // receives once per request that reached the handler
	paths    []string
	accepts  []string
}

func newJWKSServer(t *testing.T, tls bool, doc []byte) *jwksServer {
	t.Helper()
	s := &jwksServer{doc: doc, entered: make(chan struct{}, 100)}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		s.mu.Lock()
		s.paths = append(s.paths, r.URL.EscapedPath())
		s.accepts = append(s.accepts, r.Header.Get("Accept"))
		gate, doc, down := s.gate, s.doc, s.down
		s.mu.Unlock()
		s.entered <- struct{}{}
		if gate != nil {
			<-gate
		}
		if down {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(doc)
	})
	if tls {
		s.srv = httptest.NewTLSServer(h)
	} else {
		s.srv = httptest.NewServer(h)
	}
	t.Cleanup(s.srv.Close)
	return s
}

func (s *jwksServer) set(doc []byte) { s.mu.Lock(); s.doc = doc; s.mu.Unlock() }

func (s *jwksServer) setDown(down bool) { s.mu.Lock(); s.down = down; s.mu.Unlock() }

func (s *jwksServer) setGate(g chan struct{}) { s.mu.Lock(); s.gate = g; s.mu.Unlock() }

// seen returns copies of the recorded paths and Accept headers.
func (s *jwksServer) seen() (r struct{ paths, accepts []string }) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r.paths = append(r.paths, s.paths...)
	r.accepts = append(r.accepts, s.accepts...)
	return r
}

func (s *jwksServer) count() int { return int(s.requests.Load()) }

// settle waits until no fetch of k is in flight (background refreshes included).
func settle(t *testing.T, k *Keys) {
	t.Helper()
	k.mu.Lock()
	c := k.inflight
	k.mu.Unlock()
	if c == nil {
		return
	}
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		t.Fatal("fetch did not finish")
	}
}

type keysRig struct {
	k     *Keys
	srv   *jwksServer
	clock *fakeClock
	logs  *bytes.Buffer
	// failures counts OnFetchFailure calls.
	failures atomic.Int64
}

func newKeysRig(t *testing.T, doc []byte, ttl, minRefresh time.Duration) *keysRig {
	t.Helper()
	r := &keysRig{srv: newJWKSServer(t, false, doc), clock: newClock(), logs: &bytes.Buffer{}}
	r.k = NewKeys(KeysOptions{
		Source:             HTTPSource(r.srv.srv.Client(), r.srv.srv.URL+"/jwks"),
		TTL:                ttl,
		MinRefreshInterval: minRefresh,
		Now:                r.clock.Now,
		Logger:             slog.New(slog.NewTextHandler(&lockedWriter{w: r.logs}, nil)),
		OnFetchFailure:     func() { r.failures.Add(1) },
	})
	return r
}

// lockedWriter lets a background fetch log while the test reads.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (r *keysRig) wantKey(t *testing.T, kid string) {
	t.Helper()
	k, err := r.k.SigningKey(t.Context(), kid)
	if err != nil {
		t.Fatalf("SigningKey(%s): %v", kid, err)
	}
	if k.Kid != kid || k.Use != "sig" {
		t.Fatalf("SigningKey(%s) = %+v", kid, k)
	}
}

func (r *keysRig) wantErr(t *testing.T, kid string, target error) {
	t.Helper()
	if _, err := r.k.SigningKey(t.Context(), kid); !errors.Is(err, target) {
		t.Fatalf("SigningKey(%s) error = %v, want %v", kid, err, target)
	}
}

func (r *keysRig) wantRequests(t *testing.T, n int) {
	t.Helper()
	settle(t, r.k)
	if got := r.srv.count(); got != n {
		t.Fatalf("JWKS requests = %d, want %d", got, n)
	}
}

// TestKeysRotation (negative-tests O1): old and new kids are served together during the overlap
// and signatures by either verify; a new kid is found by one refresh; a retired kid disappears
// after the next refresh.
func TestKeysRotation(t *testing.T) {
	p := newTestPKI(t)
	oldKey, newKey := p.signingKey(t, "paynet-sig-old"), p.signingKey(t, "paynet-sig-new")
	oldPub, newPub := publicOf(t, oldKey, "sig"), publicOf(t, newKey, "sig")
	r := newKeysRig(t, jwksJSON(t, oldPub), 0, 0)

	r.wantKey(t, oldPub.Kid)
	r.wantRequests(t, 1)

	// PayNet starts the overlap and signs with the new key at once.
	r.srv.set(jwksJSON(t, oldPub, newPub))
	r.clock.Advance(time.Second)
	r.wantKey(t, newPub.Kid)
	r.wantRequests(t, 2)
	r.wantKey(t, oldPub.Kid)
	r.wantRequests(t, 2)

	// Both keys verify signatures during the overlap, through the jose.KeyResolver interface.
	v := &jose.Verifier{Keys: r.k, Replay: jose.NewMemoryReplay(r.clock.Now), Now: r.clock.Now, Issuer: "PayNet"}
	body := []byte(`{"event_type":"consent_created"}`)
	for _, sk := range []*jose.SigningKey{oldKey, newKey} {
		sig, err := (&jose.Signer{Key: sk, Issuer: "PayNet", Now: r.clock.Now}).SignDetached(body)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.VerifyDetached(t.Context(), sig, body); err != nil {
			t.Errorf("signature by %s rejected during overlap: %v", sk.Kid, err)
		}
	}
	r.wantRequests(t, 2)

	// The old key is retired; the next (TTL-driven) refresh drops it.
	r.srv.set(jwksJSON(t, newPub))
	r.clock.Advance(MaxKeysTTL / 2)
	r.wantKey(t, oldPub.Kid) // stale set still served while the background refresh runs
	r.wantRequests(t, 3)
	r.wantErr(t, oldPub.Kid, jose.ErrUnknownKey) // one forced refresh (the last was > 30 s ago) finds nothing
	r.wantRequests(t, 4)
	r.wantKey(t, newPub.Kid)
	r.wantRequests(t, 4)
}

// TestKeysDown (negative-tests O1): the endpoint goes down; the cached set is served until its
// TTL ends, then calls fail closed; retries are spaced by MinRefreshInterval; recovery works.
func TestKeysDown(t *testing.T) {
	p := newTestPKI(t)
	pub := publicOf(t, p.signingKey(t, "paynet-sig"), "sig")
	const ttl = 10 * time.Minute
	r := newKeysRig(t, jwksJSON(t, pub), ttl, 0)
	r.wantKey(t, pub.Kid)
	r.wantRequests(t, 1)
	r.srv.setDown(true)

	r.clock.Advance(ttl / 2) // stale: one background refresh, which fails
	r.wantKey(t, pub.Kid)
	r.wantRequests(t, 2)
	if !strings.Contains(r.logs.String(), "JWKS fetch failed") {
		t.Errorf("failed refresh not logged:\n%s", r.logs)
	}
	if n := r.failures.Load(); n != 1 {
		t.Errorf("OnFetchFailure called %d times, want 1 (the metric)", n)
	}

	r.clock.Advance(DefaultMinRefreshInterval - time.Second) // too soon to try again
	r.wantKey(t, pub.Kid)
	r.wantRequests(t, 2)

	r.clock.Advance(time.Second) // may try again: fails, cache still served
	r.wantKey(t, pub.Kid)
	r.wantRequests(t, 3)

	r.clock.Advance(ttl/2 - DefaultMinRefreshInterval - time.Second) // 1 s before the TTL ends
	r.wantKey(t, pub.Kid)
	r.wantRequests(t, 4)

	r.clock.Advance(time.Second) // TTL over, last try 1 s ago: fail closed without a fetch
	r.wantErr(t, pub.Kid, ErrKeysUnavailable)
	if _, err := r.k.Set(t.Context()); !errors.Is(err, ErrKeysUnavailable) {
		t.Errorf("Set after TTL: %v", err)
	}
	r.wantRequests(t, 4)

	r.clock.Advance(DefaultMinRefreshInterval) // one synchronous try, still down
	r.wantErr(t, pub.Kid, ErrKeysUnavailable)
	r.wantErr(t, pub.Kid, ErrKeysUnavailable)
	r.wantRequests(t, 5)

	r.srv.setDown(false)
	r.clock.Advance(DefaultMinRefreshInterval)
	r.wantKey(t, pub.Kid)
	r.wantRequests(t, 6)
}

// TestKeysTTLClamped: a TTL above 15 min is clamped to 15 min (spec §3.2.2).
func TestKeysTTLClamped(t *testing.T) {
	p := newTestPKI(t)
	pub := publicOf(t, p.signingKey(t, "paynet-sig"), "sig")
	r := newKeysRig(t, jwksJSON(t, pub), time.Hour, time.Hour)
	r.wantKey(t, pub.Kid)
	r.srv.setDown(true)
	r.clock.Advance(MaxKeysTTL - time.Second)
	r.wantKey(t, pub.Kid)
	r.clock.Advance(time.Second)
	r.wantErr(t, pub.Kid, ErrKeysUnavailable)
}

// TestKeysUnknownKid (negative-tests S7): an unknown kid causes exactly one refresh per
// MinRefreshInterval, however many requests carry it.
func TestKeysUnknownKid(t *testing.T) {
	p := newTestPKI(t)
	pub := publicOf(t, p.signingKey(t, "paynet-sig"), "sig")
	const every = 45 * time.Second
	r := newKeysRig(t, jwksJSON(t, pub), 0, every)
	r.wantKey(t, pub.Kid)
	r.wantRequests(t, 1)

	for range 5 {
		r.wantErr(t, "attacker-kid", jose.ErrUnknownKey)
	}
	r.wantRequests(t, 2)
	r.clock.Advance(every - time.Second)
	r.wantErr(t, "other-kid", jose.ErrUnknownKey)
	r.wantRequests(t, 2)
	r.clock.Advance(time.Second)
	r.wantErr(t, "attacker-kid", jose.ErrUnknownKey)
	r.wantErr(t, "attacker-kid", jose.ErrUnknownKey)
	r.wantRequests(t, 3)

	r.wantErr(t, "", jose.ErrUnknownKey)
	r.wantRequests(t, 3)
}

// TestKeysWrongUse (negative-tests S7): the kid of a use=enc key used for signing is rejected,
// without a refresh.
func TestKeysWrongUse(t *testing.T) {
	p := newTestPKI(t)
	_, enc := p.encKey(t, "paynet-enc", 0)
	sig := publicOf(t, p.signingKey(t, "paynet-sig"), "sig")
	r := newKeysRig(t, jwksJSON(t, sig, enc), 0, 0)
	r.wantErr(t, enc.Kid, jose.ErrKeyUse)
	r.wantKey(t, sig.Kid)
	r.wantRequests(t, 1)
}

// TestKeysConcurrentFetch: concurrent callers on a cold cache, and concurrent unknown kids,
// cause one fetch each time.
func TestKeysConcurrentFetch(t *testing.T) {
	p := newTestPKI(t)
	pub := publicOf(t, p.signingKey(t, "paynet-sig"), "sig")
	r := newKeysRig(t, jwksJSON(t, pub), 0, 0)

	run := func(kid string, want error) {
		gate := make(chan struct{})
		r.srv.setGate(gate)
		var wg sync.WaitGroup
		errs := make(chan error, 50)
		for range 50 {
			wg.Go(func() {
				_, err := r.k.SigningKey(context.Background(), kid)
				if (want == nil && err != nil) || (want != nil && !errors.Is(err, want)) {
					errs <- err
				}
			})
		}
		<-r.srv.entered // one fetch reached the server; let the others pile up behind it
		time.Sleep(50 * time.Millisecond)
		close(gate)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("SigningKey(%s): %v", kid, err)
		}
		r.srv.setGate(nil)
	}
	run(pub.Kid, nil)
	r.wantRequests(t, 1)
	run("unknown", jose.ErrUnknownKey)
	r.wantRequests(t, 2)
}

// TestKeysCallerCancel: a caller that gives up does not spoil the fetch for the others.
func TestKeysCallerCancel(t *testing.T) {
	p := newTestPKI(t)
	pub := publicOf(t, p.signingKey(t, "paynet-sig"), "sig")
	r := newKeysRig(t, jwksJSON(t, pub), 0, 0)
	gate := make(chan struct{})
	r.srv.setGate(gate)

	ctx, cancel := context.WithCancel(t.Context())
	first := make(chan error, 1)
	go func() { _, err := r.k.Set(ctx); first <- err }()
	<-r.srv.entered
	second := make(chan error, 1)
	go func() { _, err := r.k.SigningKey(t.Context(), pub.Kid); second <- err }()
	cancel()
	if err := <-first; !errors.Is(err, context.Canceled) || !errors.Is(err, ErrKeysUnavailable) {
		t.Errorf("cancelled caller: %v", err)
	}
	close(gate)
	if err := <-second; err != nil {
		t.Errorf("other caller: %v", err)
	}
	r.wantRequests(t, 1)
}

// TestKeysBadDocument: a refresh that returns something that is not a valid JWKS is a failed
// refresh: the cached set stays.
func TestKeysBadDocument(t *testing.T) {
	p := newTestPKI(t)
	pub := publicOf(t, p.signingKey(t, "paynet-sig"), "sig")
	r := newKeysRig(t, jwksJSON(t, pub), 0, 0)
	r.wantKey(t, pub.Kid)
	for _, doc := range []string{`{"keys":[]}`, `<html>`, `{"keys":[{"kty":"oct","k":"AAAA","kid":"x"}]}`} {
		r.srv.set([]byte(doc))
		r.clock.Advance(DefaultMinRefreshInterval)
		r.wantErr(t, "new-kid", jose.ErrUnknownKey)
		r.wantKey(t, pub.Kid)
	}
	r.wantRequests(t, 4)
}

func TestHTTPSource(t *testing.T) {
	p := newTestPKI(t)
	doc := jwksJSON(t, publicOf(t, p.signingKey(t, "paynet-sig"), "sig"))
	s := newJWKSServer(t, false, doc)
	src := HTTPSource(s.srv.Client(), s.srv.URL+"/jwks")
	b, err := src.Fetch(t.Context())
	if err != nil || !bytes.Equal(b, doc) {
		t.Fatalf("Fetch = %q, %v", b, err)
	}
	if got := s.seen(); len(got.accepts) != 1 || got.accepts[0] != "application/json" {
		t.Errorf("Accept = %q", got.accepts)
	}
	s.setDown(true)
	if _, err := src.Fetch(t.Context()); err == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("503 accepted: %v", err)
	}
	s.setDown(false)
	s.set(bytes.Repeat([]byte(" "), maxJWKSSize+1))
	if _, err := src.Fetch(t.Context()); err == nil {
		t.Error("body over 1 MiB accepted")
	}
	s.set(bytes.Repeat([]byte(" "), maxJWKSSize))
	if _, err := src.Fetch(t.Context()); err != nil {
		t.Errorf("body of exactly 1 MiB refused: %v", err)
	}
	if _, err := HTTPSource(s.srv.Client(), "http://127.0.0.1:1/jwks").Fetch(t.Context()); err == nil {
		t.Error("unreachable endpoint gave no error")
	}
}

// TestFileSource: a JWKS file is re-read at each refresh, so a replaced file is picked up.
func TestFileSource(t *testing.T) {
	p := newTestPKI(t)
	a, b := publicOf(t, p.signingKey(t, "a"), "sig"), publicOf(t, p.signingKey(t, "b"), "sig")
	path := filepath.Join(t.TempDir(), "paynet.jwks.json")
	if err := os.WriteFile(path, jwksJSON(t, a), 0o644); err != nil {
		t.Fatal(err)
	}
	clock := newClock()
	k := NewKeys(KeysOptions{Source: FileSource(path), Now: clock.Now})
	if _, err := k.SigningKey(t.Context(), a.Kid); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, jwksJSON(t, a, b), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := k.SigningKey(t.Context(), b.Kid); err != nil {
		t.Errorf("replaced file not picked up: %v", err)
	}
	if _, err := FileSource(filepath.Join(t.TempDir(), "missing.json")).Fetch(t.Context()); err == nil {
		t.Error("missing file gave no error")
	}
	big := filepath.Join(t.TempDir(), "big.json")
	if err := os.WriteFile(big, bytes.Repeat([]byte(" "), maxJWKSSize+1), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := FileSource(big).Fetch(t.Context()); err == nil {
		t.Error("file over 1 MiB accepted")
	}
}

func TestNewKeysWithoutSourcePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("NewKeys(nil source) did not panic")
		}
	}()
	NewKeys(KeysOptions{})
}

// BenchmarkKeysSigningKey: the per-request path of inbound signature verification (cached set).
func BenchmarkKeysSigningKey(b *testing.B) {
	p := newTestPKI(b)
	var pubs []jose.PublicKey
	for i := range 4 {
		pubs = append(pubs, publicOf(b, p.signingKey(b, "paynet-sig-"+string(rune('a'+i))), "sig"))
	}
	doc := jwksJSON(b, pubs...)
	k := NewKeys(KeysOptions{Source: sourceFunc(func(context.Context) ([]byte, error) { return doc, nil })})
	kid := pubs[3].Kid
	if _, err := k.SigningKey(context.Background(), kid); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := k.SigningKey(context.Background(), kid); err != nil {
				b.Fatal(err)
			}
		}
	})
}

type sourceFunc func(context.Context) ([]byte, error)

func (f sourceFunc) Fetch(ctx context.Context) ([]byte, error) { return f(ctx) }

// A PayNet JWKS with one key ofpdp cannot use still serves its other keys, and the skipped key
// is logged by kid only.
func TestKeysSkipBadKey(t *testing.T) {
	p := newTestPKI(t)
	a := publicOf(t, p.signingKey(t, "a"), "sig")
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(jwksJSON(t, a), &set); err != nil {
		t.Fatal(err)
	}
	set.Keys = append([]map[string]any{{"kty": "OKP", "crv": "Ed25519", "kid": "future-key", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}}, set.Keys...)
	doc, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	r := newKeysRig(t, doc, 0, 0)
	r.wantKey(t, a.Kid)
	if out := r.logs.String(); !strings.Contains(out, "kid=future-key") || strings.Contains(out, "11qYAYKx") {
		t.Fatalf("log: %s", out)
	}
}
