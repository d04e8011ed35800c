package browsertest

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ofpdp/ofpdp/internal/ofp/sim"
	"github.com/ofpdp/ofpdp/internal/sandbox"
)

// sandboxStartTimeout bounds the sandbox's start-up (PKI generation, listeners).
const sandboxStartTimeout = 45 * time.Second

// Sandbox is a running sandbox as a test sees it: its sandbox.json (design.md §8).
type Sandbox struct {
	sandbox.Info
}

// StartSandbox runs the whole sandbox (DP, PayNet simulator, mock DC) in-process on ephemeral
// loopback ports in a temporary directory, and stops it when the test ends. Its log goes to
// sandbox.log in the test's artifact directory. configure, when given, adjusts the options
// (e.g. WebTLS).
func StartSandbox(t testing.TB, configure ...func(*sandbox.Options)) *Sandbox {
	t.Helper()
	dir := screenshotDir(t)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("browsertest: %v", err)
	}
	logFile, err := os.Create(filepath.Join(dir, "sandbox.log"))
	if err != nil {
		t.Fatalf("browsertest: %v", err)
	}
	t.Cleanup(func() { _ = logFile.Close() }) // after Stop: cleanups run last-in first-out
	logger := slog.New(slog.NewTextHandler(logFile, &slog.HandlerOptions{Level: slog.LevelInfo}))

	ctx, cancel := context.WithTimeout(context.Background(), sandboxStartTimeout)
	defer cancel()
	o := sandbox.Options{Dir: t.TempDir(), Ephemeral: true, Logger: logger}
	for _, c := range configure {
		c(&o)
	}
	run, err := sandbox.Start(ctx, o)
	if err != nil {
		t.Fatalf("starting the sandbox: %v", err)
	}
	t.Cleanup(func() {
		if err := run.Stop(); err != nil {
			t.Errorf("stopping the sandbox: %v", err)
		}
	})
	// What sandbox.json promises, checked as `ofpdp conformance --sandbox` reads it.
	raw, err := json.Marshal(run.Info())
	if err != nil {
		t.Fatalf("sandbox info: %v", err)
	}
	info, err := sandbox.ParseInfo(raw)
	if err != nil {
		t.Fatalf("sandbox info: %v", err)
	}
	return &Sandbox{Info: info}
}

// Sim is a client of the PayNet simulator's JSON API.
func (s *Sandbox) Sim() *sim.Client { return &sim.Client{BaseURL: s.PayNet.URL} }

// User returns the demo customer with this username; the test fails without one.
func (s *Sandbox) User(t testing.TB, username string) sandbox.UserInfo {
	t.Helper()
	for _, u := range s.Users {
		if u.Username == username {
			return u
		}
	}
	t.Fatalf("sandbox.json lists no user %q: %+v", username, s.Users)
	return sandbox.UserInfo{}
}

// TrustCertFiles are the certificates the browser must accept for the DP's web listener: none
// when it is plain HTTP (the sandbox default), else the sandbox's dp-server.crt and ca.crt.
func (s *Sandbox) TrustCertFiles() []string {
	u, err := url.Parse(s.DP.WebURL)
	if err != nil || u.Scheme != "https" {
		return nil
	}
	return []string{filepath.Join(s.PKIDir, "dp-server.crt"), filepath.Join(s.PKIDir, "ca.crt")}
}
