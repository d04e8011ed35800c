//go:build pkcs11 && cgo

package sandbox_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ofpdp/ofpdp/internal/jose"
	"github.com/ofpdp/ofpdp/internal/keysource/softhsm"
	"github.com/ofpdp/ofpdp/internal/sandbox"
)

// TestHSMSandboxConforms runs `ofpdp sandbox --hsm` — the DP's signing key (P-384) and mTLS
// client key (RSA-2048) in a SoftHSM2 token — and `ofpdp conformance --sandbox` against it: PATCH signatures, data
// response JWS, id_tokens and the mTLS handshakes to the simulator all come from the token,
// and the simulator verifies them. Every row must pass. A restart reuses the token.
func TestHSMSandboxConforms(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole sandbox")
	}
	if _, err := softhsm.Find(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%v, but CI=true: the PKCS#11 tests must run in CI", err)
		}
		t.Skipf("%v: PKCS#11 sandbox test skipped", err)
	}
	t.Setenv("SOFTHSM2_CONF", "") // the sandbox points it at DIR/hsm; restored afterwards
	dir := t.TempDir()
	start := func() *sandbox.Running {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		r, err := sandbox.Start(ctx, sandbox.Options{Dir: dir, Ephemeral: true, HSM: true})
		if err != nil {
			t.Fatalf("starting the HSM sandbox: %v", err)
		}
		return r
	}
	r := start()
	info := r.Info()
	if info.PKIDir != filepath.Join(dir, sandbox.HSMPKISubdir) {
		t.Fatalf("PKI dir %s", info.PKIDir)
	}
	raw, err := os.ReadFile(filepath.Join(info.PKIDir, "dp.jwks.json"))
	if err != nil {
		t.Fatal(err)
	}
	if ks, err := jose.ParseJWKS(raw); err != nil || len(ks.Keys) != 1 || ks.Keys[0].Alg != jose.AlgES384 {
		t.Fatalf("the simulator's DP JWKS should hold the token's P-384 key: %s (%v)", raw, err)
	}
	if _, err := os.Stat(filepath.Join(info.PKIDir, "dp-sig.key")); !os.IsNotExist(err) {
		t.Fatalf("dp-sig.key exists in the HSM sandbox's PKI (err %v): the key must live in the token only", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	rep := conform(ctx, t, "HSM sandbox", info)
	for _, id := range []string{"E2E-5", "E2E-7", "DoD-1", "DoD-2"} {
		if _, ok := rep.Result(id); !ok {
			t.Errorf("row %s missing", id)
		}
	}
	if err := r.Stop(); err != nil {
		t.Fatalf("stopping: %v", err)
	}

	// A second start reopens the token and its keys.
	r = start()
	if err := r.Stop(); err != nil {
		t.Fatalf("stopping the restarted sandbox: %v", err)
	}
}
