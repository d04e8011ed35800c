package sandbox_test

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ofpdp/ofpdp/internal/connectortest"
	"github.com/ofpdp/ofpdp/internal/sandbox"
)

// startPythonAdapter runs testdata/adapter.py, a core-bank adapter written from
// docs/connector-openapi.yaml alone with Python's standard library, and returns its URL.
func startPythonAdapter(t *testing.T, args ...string) string {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("python3 is required under CI=true: the adapter in another language must run")
		}
		t.Skip("python3 is not installed: the Python core-bank adapter cannot run (apt-get install python3)")
	}
	cmd := exec.Command(py, append([]string{"testdata/adapter.py", "testdata/adapter-data.json"}, args...)...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(out)
		if s.Scan() {
			line <- s.Text()
		}
		close(line)
	}()
	select {
	case l := <-line:
		u, ok := strings.CutPrefix(l, "listening on ")
		if !ok {
			t.Fatalf("adapter said %q", l)
		}
		return u
	case <-time.After(30 * time.Second):
		t.Fatal("the Python adapter did not start")
	}
	return ""
}

// kitPython runs connector-test against the Python adapter at url and returns its table; every
// row must pass.
func kitPython(ctx context.Context, t *testing.T, url string) string {
	t.Helper()
	raw, err := os.ReadFile("testdata/adapter-customer.json")
	if err != nil {
		t.Fatal(err)
	}
	customer, err := connectortest.ParseCustomer(raw)
	if err != nil {
		t.Fatal(err)
	}
	kit, err := connectortest.Run(ctx, connectortest.Options{URL: url, Customer: customer})
	if err != nil {
		t.Fatal(err)
	}
	var table strings.Builder
	_ = kit.WriteTable(&table)
	t.Logf("connector-test against the Python adapter:\n%s", table.String())
	if kit.Failed != 0 {
		t.Fatalf("connector-test: %d failed", kit.Failed)
	}
	// The Python adapter has no second factor: only those optional rows may be skipped.
	for _, r := range kit.Results {
		if r.Status == "skip" && !strings.HasPrefix(r.ID, "factor-") {
			t.Errorf("connector-test row %s skipped: %s", r.ID, r.Detail)
		}
	}
	return table.String()
}

// The Python adapter with its test-only insert operation on: connector-test adds the tx-inserts
// row (a walk while transactions are booked) and its keyset cursor passes it.
func TestPythonAdapterStableUnderInserts(t *testing.T) {
	if table := kitPython(t.Context(), t, startPythonAdapter(t, "--test-inserts")); !strings.Contains(table, "tx-inserts") {
		t.Error("no tx-inserts row although the adapter offers test inserts")
	}
}

// An adapter written in another language from the OpenAPI document alone passes connector-test
// and serves the sandbox: the whole conformance run passes with the DP calling it.
func TestPythonAdapterServesTheSandbox(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole sandbox")
	}
	url := startPythonAdapter(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if table := kitPython(ctx, t, url); strings.Contains(table, "tx-inserts") {
		t.Error("tx-inserts ran although the adapter does not offer test inserts")
	}

	conformStarted(ctx, t, sandbox.Options{Dir: t.TempDir(), Ephemeral: true, BankURL: url,
		Users: []sandbox.UserInfo{
			{Username: "aisyah", Password: "Demo@1234", Name: "NUR AISYAH BINTI AHMAD", IDType: "nric", IDNumber: "900101-14-5678"},
			{Username: "tan", Password: "Demo@5678", Name: "TAN WEI MING", IDType: "nric", IDNumber: "850615-10-5123"}}})
}

// The in-process path (--connector demo) still passes the whole conformance run; the default
// (the mock core bank over HTTP) is conformance's own sandbox test.
func TestConformanceInProcessConnector(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole sandbox")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	conformStarted(ctx, t, sandbox.Options{Dir: t.TempDir(), Ephemeral: true, Connector: sandbox.ConnectorDemo})
}

// conformStarted starts a sandbox with o and runs every conformance check against it: all must
// pass, none may be skipped.
func conformStarted(ctx context.Context, t *testing.T, o sandbox.Options) {
	t.Helper()
	r, err := sandbox.Start(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = r.Stop() }()
	rep := conform(ctx, t, "bank.url "+r.Info().Bank.URL, r.Info())
	if rep.Skipped > 0 || len(rep.Results) < 100 {
		t.Errorf("%d checks, %d skipped", len(rep.Results), rep.Skipped)
	}
}
