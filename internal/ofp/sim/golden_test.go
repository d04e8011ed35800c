package sim

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ofpdp/ofpdp/internal/consent"
	"github.com/ofpdp/ofpdp/internal/ofp/wire"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestGoldenEvents pins the exact events the simulator sends (spec §3.1.1, §5.1): the
// consent_created event of a new consent and the consent_status_updated event after the DP's
// authorized PATCH. Both must parse with the DP's own event parser. Run with -update to rewrite.
func TestGoldenEvents(t *testing.T) {
	created := time.Date(2025, 3, 14, 2, 30, 0, 0, time.UTC)
	clock := created
	s, err := New(Options{
		PKIDir: testPKI(t), DPID: testDPID, DCID: testDCID, DPAPIURL: "https://localhost:8443",
		DPWebURL: "https://localhost:8444", PublicURL: "http://127.0.0.1:8446",
		Now: func() time.Time { return clock }, NewID: func() string { return "5f0c2b7e-8a41-4c3e-9d2a-6b1f0e4c7a19" },
	})
	if err != nil {
		t.Fatal(err)
	}
	req := CreateConsentRequest{
		Purpose: wire.PurposePFM, ValidityDays: 180, IDType: wire.IDTypeNRIC, IDNumber: testIDNumber,
		Permissions: []wire.Permission{wire.PermReadAccounts, wire.PermReadBalances, wire.PermReadTransactions},
	}
	if err := s.validateCreate(&req); err != nil {
		t.Fatal(err)
	}
	c := s.newConsent(req, s.newID(), created)
	s.state.add(&record{consent: c, updatedAt: created})

	clock = created.Add(90 * time.Second)
	snap, perr := s.applyUpdate(c.ConsentID, &updateBody{
		Status:   "authorized",
		Accounts: []Account{{AccountID: "q8R2kV0tXbL3mN5pZ7sW9yA1cE", AccountNumber: "1234567890", AccountName: "Savings Account-i"}},
	})
	if perr != nil {
		t.Fatal(perr)
	}
	for name, ev := range map[string]struct {
		typ wire.EventType
		c   Consent
	}{
		"event_consent_created.json":        {wire.EventCreated, c},
		"event_consent_status_updated.json": {wire.EventStatusUpdated, snap},
	} {
		body, err := eventBody(ev.typ, ev.c)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := consent.ParseEvent(body, consent.Rules{DPID: testDPID, Now: clock}); err != nil {
			t.Errorf("%s: the DP's parser refuses it: %v", name, err)
		}
		var pretty bytes.Buffer
		if err := json.Indent(&pretty, body, "", "  "); err != nil {
			t.Fatal(err)
		}
		pretty.WriteByte('\n')
		path := filepath.Join("testdata", name)
		if *update {
			if err := os.WriteFile(path, pretty.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update to create it)", err)
		}
		if !bytes.Equal(pretty.Bytes(), want) {
			t.Errorf("%s differs from the golden file (run with -update if intended):\n%s", name, pretty.Bytes())
		}
	}
}
