package sandbox_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ofpdp/ofpdp/internal/keysource"
	"github.com/ofpdp/ofpdp/internal/pki"
	"github.com/ofpdp/ofpdp/internal/sandbox"
)

// TestSandboxSigningKeyRotation walks the rotation procedure of docs/operations.md against one
// running sandbox, as PayNet would see it (spec §4.2): the simulator caches the DP's keys
// (dp.jwks.json) for a short TTL, the DP's key ring hot-reloads, and nothing restarts. Each
// phase — next key published, simulator cache expired, promoted, old key retired — runs
// conformance (PATCH signature, id_token, response JWS), and the timeline is logged.
func TestSandboxSigningKeyRotation(t *testing.T) {
	if testing.Short() {
		t.Skip("runs conformance against the sandbox four times")
	}
	const (
		ttl    = 3 * time.Second // the simulator's DP key cache (PayNet: 15 min)
		reload = time.Second     // the DP's keys.reload_interval (default 30 s)
	)
	dir := t.TempDir()
	pkiDir := filepath.Join(dir, sandbox.PKISubdir)
	if _, err := pki.Generate(pkiDir, pki.Options{Hosts: []string{"localhost", sandbox.Host}}); err != nil {
		t.Fatal(err)
	}
	next, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(next)
	nextKey, nextCert := filepath.Join(dir, "dp-sig-next.key"), filepath.Join(dir, "dp-sig-next.crt")
	if err := os.WriteFile(nextKey, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	certPEM, err := pki.IssuePEM(pkiDir, "dp-sig", next.Public(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(nextCert, certPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	ring := filepath.Join(dir, "signing-keys.yaml")
	writeRing := func(oldState, newState string) {
		t.Helper()
		body := fmt.Sprintf("keys:\n- {key: %s, cert: %s, state: %s}\n", filepath.Join(pkiDir, "dp-sig.key"), filepath.Join(pkiDir, "dp-sig.crt"), oldState)
		if newState != "" {
			body += fmt.Sprintf("- {key: %s, cert: %s, state: %s}\n", nextKey, nextCert, newState)
		}
		if err := os.WriteFile(ring, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// publish is what the operator hands PayNet: `ofpdp pki inspect RING --jwks-out dp.jwks.json`.
	publish := func(wantKids int) {
		t.Helper()
		ks, err := keysource.PublishedJWKS(ring)
		if err != nil {
			t.Fatal(err)
		}
		if len(ks.Keys) != wantKids {
			t.Fatalf("the ring publishes %d keys, want %d", len(ks.Keys), wantKids)
		}
		raw, err := ks.JSON()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(pkiDir, "dp.jwks.json"), append(raw, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	writeRing("active", "")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	r, err := sandbox.Start(ctx, sandbox.Options{Dir: dir, Ephemeral: true, SigningKeysFile: ring,
		KeysReloadInterval: reload, DPKeysTTL: ttl, DPKeysRefreshGap: ttl})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := r.Stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	}()
	t0 := time.Now()
	var timeline []string
	mark := func(what string) {
		line := fmt.Sprintf("t0+%5.1fs  %s", time.Since(t0).Seconds(), what)
		timeline = append(timeline, line)
		t.Log(line)
	}
	defer func() {
		t.Logf("rotation timeline (simulator DP-key TTL %s, DP ring reload %s):\n%s", ttl, reload, strings.Join(timeline, "\n"))
	}()
	phase := func(name string) {
		t.Helper()
		mark(name + ": conformance")
		rep := conform(ctx, t, name, r.Info())
		mark(fmt.Sprintf("%s: %d checks, %d failed", name, len(rep.Results), len(rep.Failures())))
	}

	mark("dp-sig active and alone; the simulator caches {dp-sig}")
	phase("1 before")
	writeRing("active", "next")
	publish(2)
	mark("next key added to the ring and sent to PayNet: dp.jwks.json = {dp-sig, next}")
	phase("2 next published, dp-sig signs")
	time.Sleep(ttl + reload)
	mark("waited for the simulator's cache (TTL)")
	writeRing("next", "active")
	time.Sleep(2 * reload)
	mark("promoted without restart: next signs, dp-sig still published")
	phase("3 promoted")
	writeRing("retired", "active")
	publish(1)
	time.Sleep(ttl + 2*reload)
	mark("dp-sig retired: dp.jwks.json = {next}; the simulator's cache expired again")
	phase("4 retired")
}
