package sandbox

import (
	"context"
	"crypto/tls"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ofpdp/ofpdp/internal/bank/demo"
	"github.com/ofpdp/ofpdp/internal/bank/httpbank"
)

// The mock core bank refuses a caller without the sandbox's client certificate: the DP reaches it
// over mutual TLS, as a bank's adapter should be reached (docs/connector.md).
func TestMockCoreBankNeedsClientCertificate(t *testing.T) {
	r := startSandbox(t, Options{Dir: t.TempDir(), Ephemeral: true})
	info := r.Info()
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := hc.Get(info.Bank.URL + "/v1/health")
	if err == nil {
		_ = resp.Body.Close()
		t.Fatalf("mock core bank answered %d without a client certificate", resp.StatusCode)
	}
}

// --connector demo keeps the in-process path: no core bank URL, the DP ready.
func TestConnectorDemoInProcess(t *testing.T) {
	r := startSandbox(t, Options{Dir: t.TempDir(), Ephemeral: true, Connector: ConnectorDemo})
	info := r.Info()
	if info.Bank.URL != "" {
		t.Errorf("bank.url %q with the in-process connector", info.Bank.URL)
	}
	if len(info.Users) != len(demo.Logins()) {
		t.Errorf("%d users, want the demo logins", len(info.Users))
	}
	if code, _ := get(t, &http.Client{Timeout: 5 * time.Second}, info.DP.OpsURL+"/readyz"); code != http.StatusOK {
		t.Errorf("ops /readyz: %d", code)
	}
}

// --bank-url points the DP at an external adapter verified with --bank-ca; sandbox.json lists no
// demo customers unless --users gives them; the DP's readiness asks the adapter.
func TestExternalBankURL(t *testing.T) {
	bank, err := demo.Embedded(demo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int32
	h := httpbank.NewHandler(bank, "")
	ext := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		h.ServeHTTP(w, r)
	}))
	defer ext.Close()
	dir := t.TempDir()
	ca := filepath.Join(dir, "bank-ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ext.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, users := range [][]UserInfo{nil, {{Username: "siti", Password: "pw", Name: "SITI", IDType: "nric", IDNumber: "850505-10-5555"}}} {
		r := startSandbox(t, Options{Dir: filepath.Join(dir, "sb"+string(rune('0'+len(users)))), Ephemeral: true,
			BankURL: ext.URL, BankCA: ca, Users: users})
		info := r.Info()
		if info.Bank.URL != ext.URL {
			t.Errorf("bank.url %q, want %q", info.Bank.URL, ext.URL)
		}
		if len(info.Users) != len(users) {
			t.Errorf("users %+v, want %+v", info.Users, users)
		}
		if _, err := ReadInfo(r.InfoPath()); err != nil {
			t.Errorf("ReadInfo: %v", err)
		}
		before := calls.Load()
		if code, _ := get(t, &http.Client{Timeout: 5 * time.Second}, info.DP.OpsURL+"/readyz"); code != http.StatusOK {
			t.Errorf("ops /readyz: %d", code)
		}
		if calls.Load() == before {
			t.Error("readiness did not ask the external core bank")
		}
		if err := r.Stop(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Start(context.Background(), Options{Dir: t.TempDir(), Ephemeral: true, Connector: "soap"}); err == nil ||
		!strings.Contains(err.Error(), "not one of http, demo") {
		t.Errorf("unknown connector: %v", err)
	}
}
