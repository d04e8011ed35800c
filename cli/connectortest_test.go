package cli

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ofpdp/ofpdp/internal/bank/demo"
	"github.com/ofpdp/ofpdp/internal/bank/httpbank"
)

// `ofpdp connector-test` exits 0 against the mock core bank and writes both reports; 1 against
// an adapter that breaks the contract; 2 on a usage error.
func TestConnectorTestCommand(t *testing.T) {
	bank, err := demo.Embedded(demo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := httpbank.NewHandler(bank, "")
	good := httptest.NewServer(h)
	defer good.Close()
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/balance") {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		h.ServeHTTP(w, r)
	}))
	defer bad.Close()
	dir := t.TempDir()
	customer := filepath.Join("..", "internal", "connectortest", "testdata", "demo-customer.json")
	jsonOut, junitOut := filepath.Join(dir, "r.json"), filepath.Join(dir, "r.xml")

	code, out, errOut := ofpdp(t, nil, "connector-test", "--url", good.URL, "--customer", customer, "--json", jsonOut, "--junit", junitOut)
	if code != 0 || !strings.Contains(out, "PASS: 22 passed, 0 failed") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	raw, err := os.ReadFile(jsonOut)
	if err != nil || !json.Valid(raw) {
		t.Errorf("JSON report: %v", err)
	}
	if x, err := os.ReadFile(junitOut); err != nil || !strings.Contains(string(x), "<testsuite") {
		t.Errorf("JUnit report: %v", err)
	}

	code, out, _ = ofpdp(t, nil, "connector-test", "--url", bad.URL, "--customer", customer)
	if code != 1 || !strings.Contains(out, "account-active") || !strings.Contains(out, "FAIL") {
		t.Errorf("broken adapter: exit %d\n%s", code, out)
	}
	if code, _, errOut := ofpdp(t, nil, "connector-test", "--url", good.URL); code != 2 || !strings.Contains(errOut, "--customer") {
		t.Errorf("missing --customer: exit %d %s", code, errOut)
	}
}
