package keysource

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ofpdp/ofpdp/internal/jose"
)

// ringDir holds keys A, B and C (files) with certificates from one CA.
type ringDir struct {
	dir  string
	keys map[string][2]string // name → key path, cert path
	kid  map[string]string
}

func newRingDir(t *testing.T) *ringDir {
	t.Helper()
	ca := newTestCA(t)
	d := &ringDir{dir: t.TempDir(), keys: map[string][2]string{}, kid: map[string]string{}}
	for _, name := range []string{"A", "B", "C"} {
		k, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		cert, certPath := ca.issue(t, d.dir, name, k.Public())
		d.keys[name] = [2]string{writeKey(t, d.dir, name, k), certPath}
		d.kid[name] = jose.Thumbprint(cert)
	}
	return d
}

// write writes the ring file with the given states ("A=active", "B=next", …).
func (d *ringDir) write(t *testing.T, states ...string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("keys:\n")
	for _, s := range states {
		name, state, _ := strings.Cut(s, "=")
		fmt.Fprintf(&b, "  - key: file:%s\n    cert: %s\n    state: %s\n", d.keys[name][0], d.keys[name][1], state)
	}
	path := filepath.Join(d.dir, "signing-keys.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func openRing(t *testing.T, file string) *Ring {
	t.Helper()
	r, err := NewRing(t.Context(), RingOptions{File: file})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r
}

func kids(t *testing.T, r *Ring) string {
	t.Helper()
	ks, err := r.Published()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, k := range ks.Keys {
		out = append(out, k.Kid)
	}
	return strings.Join(out, ",")
}

func TestParseRing(t *testing.T) {
	for _, tc := range []struct{ name, yaml, err string }{
		{"one active", "keys: [{key: a.key, cert: a.crt, state: active}]", ""},
		{"active next retired", "keys: [{key: a.key, cert: a.crt, state: retired}, {key: b.key, cert: b.crt, state: active}, {key: 'pkcs11:token=t;object=c?pin-source=/p', cert: c.crt, state: next}]", ""},
		{"no active", "keys: [{key: a.key, cert: a.crt, state: next}]", "0 active keys"},
		{"two active", "keys: [{key: a.key, cert: a.crt, state: active}, {key: b.key, cert: b.crt, state: active}]", "2 active keys"},
		{"bad state", "keys: [{key: a.key, cert: a.crt, state: current}]", `state "current"`},
		{"no cert", "keys: [{key: a.key, state: active}]", "key and cert are required"},
		{"bad uri", "keys: [{key: 'pkcs11:token=t', cert: a.crt, state: active}]", "object= or id="},
		{"unknown field", "keys: [{key: a.key, cert: a.crt, state: active, status: x}]", "field status not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseRing([]byte(tc.yaml))
			if tc.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, ErrRing) || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("err %v, want ErrRing saying %q", err, tc.err)
			}
		})
	}
}

// TestRingReload: the ring publishes active and next, signs with active, picks up a changed
// file, and keeps the previous keys (and says so in Ready) when the new file is wrong.
func TestRingReload(t *testing.T) {
	d := newRingDir(t)
	file := d.write(t, "A=active", "B=next", "C=retired")
	r := openRing(t, file)
	if got, want := kids(t, r), d.kid["A"]+","+d.kid["B"]; got != want {
		t.Fatalf("published %s, want A,B", got)
	}
	if r.Active().Kid != d.kid["A"] {
		t.Fatal("A does not sign")
	}
	if changed, err := r.Reload(t.Context()); changed || err != nil {
		t.Fatalf("reload of an unchanged file: %v, %v", changed, err)
	}

	d.write(t, "A=next", "B=active")
	if changed, err := r.Reload(t.Context()); !changed || err != nil {
		t.Fatalf("reload after promotion: %v, %v", changed, err)
	}
	if r.Active().Kid != d.kid["B"] || kids(t, r) != d.kid["B"]+","+d.kid["A"] {
		t.Fatalf("after promotion: active %s, published %s", r.Active().Kid, kids(t, r))
	}

	d.write(t, "A=active", "B=active")
	if _, err := r.Reload(t.Context()); !errors.Is(err, ErrRing) {
		t.Fatalf("two active keys: %v", err)
	}
	if r.Active().Kid != d.kid["B"] {
		t.Fatal("a broken file changed the active key")
	}
	if err := r.Ready(t.Context()); !errors.Is(err, ErrRing) {
		t.Fatalf("Ready after a failed reload: %v", err)
	}
	d.write(t, "B=active")
	if _, err := r.Reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := r.Ready(t.Context()); err != nil {
		t.Fatalf("Ready after a good reload: %v", err)
	}
	if kids(t, r) != d.kid["B"] {
		t.Fatalf("after retiring A: %s", kids(t, r))
	}
}

// TestRingCheckPicksUpChanges: Check reloads a changed file without restart, and keeps the
// previous keys when the new file is bad.
func TestRingCheckPicksUpChanges(t *testing.T) {
	d := newRingDir(t)
	file := d.write(t, "A=active")
	r := openRing(t, file)
	d.write(t, "A=next", "B=active")
	r.Check(t.Context())
	if r.Active().Kid != d.kid["B"] {
		t.Fatalf("Check did not pick up the promotion: %s", r.Active().Kid)
	}
	if err := os.WriteFile(file, []byte("not a ring"), 0o600); err != nil {
		t.Fatal(err)
	}
	r.Check(t.Context())
	if r.Active().Kid != d.kid["B"] {
		t.Fatalf("a bad file replaced the keys: %s", r.Active().Kid)
	}
}

// paynetCache is PayNet's view of the DP's keys: it fetches the DP JWKS (as JSON, the way
// it is handed over) and keeps it for ttl, like every JWKS cache of the spec (§4.2: ≤ 15 min).
type paynetCache struct {
	fetch   func() ([]byte, error)
	ttl     time.Duration
	now     func() time.Time
	set     *jose.KeySet
	fetched time.Time
}

func (c *paynetCache) SigningKey(ctx context.Context, kid string) (jose.PublicKey, error) {
	if c.set == nil || c.now().Sub(c.fetched) >= c.ttl {
		b, err := c.fetch()
		if err != nil {
			return jose.PublicKey{}, err
		}
		if c.set, err = jose.ParseJWKS(b); err != nil {
			return jose.PublicKey{}, err
		}
		c.fetched = c.now()
	}
	return jose.StaticKeys{Set: c.set}.SigningKey(ctx, kid)
}

// TestRotationWithOverlap walks docs/operations.md "Rotating the signing key" against a
// PayNet that caches the DP's JWKS for 15 minutes, and shows why the wait matters: promoted
// before PayNet's cache expires, the new key's signatures are refused.
func TestRotationWithOverlap(t *testing.T) {
	d := newRingDir(t)
	file := d.write(t, "A=active")
	r := openRing(t, file)
	t0 := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	now := t0
	clock := func() time.Time { return now }
	cache := &paynetCache{ttl: 15 * time.Minute, now: clock, fetch: func() ([]byte, error) {
		ks, err := r.Published()
		if err != nil {
			return nil, err
		}
		return ks.JSON()
	}}
	verifier := &jose.Verifier{Keys: cache, Replay: jose.NewMemoryReplay(clock), Now: clock, Issuer: "DP0000000001"}
	signer := &jose.Signer{Active: r, Issuer: "DP0000000001", Now: clock}
	patch := func(step string, wantOK bool) {
		t.Helper()
		body := []byte(`{"status":"authorized"}`)
		sig, err := signer.SignDetached(body)
		if err != nil {
			t.Fatal(err)
		}
		_, err = verifier.VerifyDetached(t.Context(), sig, body)
		if wantOK && err != nil {
			t.Fatalf("%s (t0+%v): PayNet refused the PATCH signature: %v", step, now.Sub(t0), err)
		}
		if !wantOK && !errors.Is(err, jose.ErrUnknownKey) {
			t.Fatalf("%s (t0+%v): PayNet accepted a signature by a key it has not cached yet (err %v)", step, now.Sub(t0), err)
		}
	}
	reload := func(states ...string) {
		t.Helper()
		d.write(t, states...)
		if _, err := r.Reload(t.Context()); err != nil {
			t.Fatal(err)
		}
	}

	patch("t0: A active, PayNet caches {A}", true)

	now = t0.Add(1 * time.Minute) // step 1: add B as next; the DP JWKS sent to PayNet is {A, B}
	reload("A=active", "B=next")
	patch("A still signs", true)

	now = t0.Add(2 * time.Minute) // promoting now would be too early: PayNet still holds {A}
	reload("A=next", "B=active")
	patch("B promoted before PayNet refreshed", false)
	reload("A=active", "B=next") // back out

	now = t0.Add(16 * time.Minute) // step 2: PayNet's cache (≤ 15 min) has expired; it refetches {A, B}
	patch("A signs, PayNet refreshes to {A, B}", true)
	reload("A=next", "B=active") // step 3: promote
	patch("B signs", true)

	now = t0.Add(32 * time.Minute) // step 4: after another cache period, retire A
	reload("A=retired", "B=active")
	patch("B signs after A is retired", true)
	if got := kids(t, r); got != d.kid["B"] {
		t.Fatalf("published after retirement: %s", got)
	}
}

// TestPublishedJWKSFromCertificates: the JWKS built from the ring file's certificates alone is
// the one the running ring publishes.
func TestPublishedJWKSFromCertificates(t *testing.T) {
	d := newRingDir(t)
	file := d.write(t, "C=retired", "B=next", "A=active")
	r := openRing(t, file)
	fromRing, err := r.Published()
	if err != nil {
		t.Fatal(err)
	}
	fromFile, err := PublishedJWKS(file)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := fromRing.JSON()
	b, _ := fromFile.JSON()
	if string(a) != string(b) {
		t.Fatalf("ring publishes\n%s\nthe file gives\n%s", a, b)
	}
	if len(fromFile.Keys) != 2 || fromFile.Keys[0].Kid != d.kid["A"] || fromFile.Keys[1].Kid != d.kid["B"] {
		t.Fatalf("want A (active) then B (next), got %+v", fromFile.Keys)
	}
	raw, _ := os.ReadFile(file)
	if !IsRingFile(raw) || IsRingFile(b) || IsRingFile([]byte("-----BEGIN CERTIFICATE-----\n")) {
		t.Fatal("IsRingFile")
	}
}
