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
	"testing"
	"time"

	"github.com/ofpdp/ofpdp/internal/jose"
	"github.com/ofpdp/ofpdp/internal/pki"
	"github.com/ofpdp/ofpdp/internal/sandbox"
)

// TestSandboxSigningKeyRotation runs the sandbox with a signing key ring: the simulator is
// handed the active and the next key (dp.jwks.json), verifies signatures by the active one,
// and after the promotion (a restart: the simulator reads the DP's keys when it starts) by the
// new one. The E2E journey (PATCH signature, id_token) and the data rows (response JWS) must
// pass in both phases.
func TestSandboxSigningKeyRotation(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole sandbox twice")
	}
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
		body := fmt.Sprintf("keys:\n- {key: %s, cert: %s, state: %s}\n- {key: %s, cert: %s, state: %s}\n",
			filepath.Join(pkiDir, "dp-sig.key"), filepath.Join(pkiDir, "dp-sig.crt"), oldState, nextKey, nextCert, newState)
		if err := os.WriteFile(ring, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	phase := func(name, ringFile string, wantKids int, runConformance bool) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		r, err := sandbox.Start(ctx, sandbox.Options{Dir: dir, Ephemeral: true, SigningKeysFile: ringFile})
		if err != nil {
			t.Fatalf("%s: start: %v", name, err)
		}
		defer func() {
			if err := r.Stop(); err != nil {
				t.Errorf("%s: stop: %v", name, err)
			}
		}()
		raw, err := os.ReadFile(filepath.Join(pkiDir, "dp.jwks.json"))
		if err != nil {
			t.Fatal(err)
		}
		ks, err := jose.ParseJWKS(raw)
		if err != nil || len(ks.Keys) != wantKids {
			t.Fatalf("%s: the simulator got %d DP keys (err %v), want %d", name, len(ks.Keys), err, wantKids)
		}
		if !runConformance {
			return
		}
		conform(ctx, t, name, r.Info())
	}

	writeRing("active", "next")
	phase("dp-sig active, next published", ring, 2, true)
	writeRing("next", "active")
	phase("next promoted, dp-sig still published", ring, 2, true)
	writeRing("retired", "active")
	phase("dp-sig retired", ring, 1, false)
	phase("no ring: dp-sig alone again", "", 1, false)
}
