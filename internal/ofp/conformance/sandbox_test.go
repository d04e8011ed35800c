package conformance_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/ofpdp/ofpdp/internal/ofp/conformance"
	"github.com/ofpdp/ofpdp/internal/ofp/sim"
	"github.com/ofpdp/ofpdp/internal/ofp/wire"
	"github.com/ofpdp/ofpdp/internal/sandbox"
)

// startSandbox runs `ofpdp sandbox` in-process on ephemeral loopback ports in a temporary
// directory (issue 6 §5).
func startSandbox(t *testing.T) sandbox.Info {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r, err := sandbox.Start(ctx, sandbox.Options{Dir: t.TempDir(), Ephemeral: true})
	if err != nil {
		t.Fatalf("starting the sandbox: %v", err)
	}
	t.Cleanup(func() {
		if err := r.Stop(); err != nil {
			t.Errorf("stopping the sandbox: %v", err)
		}
	})
	return r.Info()
}

// targetOf is what `ofpdp conformance --sandbox` builds from sandbox.json.
func targetOf(info sandbox.Info) (conformance.Target, *sim.Client) {
	t := conformance.Target{APIURL: info.DP.APIURL, WebURL: info.DP.WebURL, PKIDir: info.PKIDir,
		RedirectURI: info.RedirectURI, DPID: info.DPID, DCID: info.DCID,
		RevokeURL: info.DP.OpsURL + "/admin/v1/consents/{consent_id}/revoke", RevokeToken: info.DP.AdminToken}
	for _, u := range info.Users {
		t.Users = append(t.Users, conformance.User{Username: u.Username, Password: u.Password,
			IDType: wire.IDType(u.IDType), IDNumber: u.IDNumber})
	}
	return t, &sim.Client{BaseURL: info.PayNet.URL}
}

func run(t *testing.T, o conformance.Options) *conformance.Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	rep, err := conformance.Run(ctx, o)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	var table bytes.Buffer
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	t.Logf("conformance report:\n%s", table.String())
	return rep
}

// TestSandboxConforms is `ofpdp conformance --sandbox` against the sandbox: every row must pass.
func TestSandboxConforms(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole sandbox")
	}
	info := startSandbox(t)
	target, client := targetOf(info)
	rep := run(t, conformance.Options{Target: target, Sim: client})
	for _, f := range rep.Failures() {
		t.Errorf("%s failed: %s — expected %s, got %s", f.ID, f.Check, f.Expected, f.Got)
	}
	if rep.Skipped > 0 {
		t.Errorf("%d checks skipped against the sandbox", rep.Skipped)
	}
	if len(rep.Results) < 100 {
		t.Errorf("only %d checks ran", len(rep.Results))
	}
	for _, id := range append([]string{"E2E-5", "E2E-6a", "E2E-6b", "E2E-7", "E2E-8", "E2E-9a", "E2E-9b", "E2E-10", "E2E-11a",
		"E2E-11b", "DoD-1", "DoD-2", "DoD-3", "DoD-4", "T1", "T2-ca", "T2-cert", "T7-tls10", "T7-tls11", "T7-cbc", "U11-other",
		"C9-revoke", "C9-expire", "C10", "R1-data", "R2-paynet", "R3-event"}, conformance.DataIDs...) {
		if _, ok := rep.Result(id); !ok {
			t.Errorf("row %s missing", id)
		}
	}

	// Every consent the DP authorized named the customer who logged in (spec §5.1,
	// design.md §3.11): the journeys bind consents to the user they log in as.
	ups, err := client.Updates(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	hashes := map[string]bool{}
	for _, u := range info.Users {
		hashes[wire.HashIDNumber(u.IDNumber)] = true
	}
	authorized := 0
	for _, u := range ups {
		if !u.Accepted || u.Status != string(wire.StatusAuthorized) {
			continue
		}
		authorized++
		v, err := client.Consent(context.Background(), u.ConsentID)
		if err != nil {
			t.Fatal(err)
		}
		if v.IDType == "" || !hashes[v.HashedIDNumber] {
			t.Errorf("consent %s was authorized without naming a demo customer (id_type %q)", u.ConsentID, v.IDType)
		}
	}
	if authorized == 0 {
		t.Error("no authorized consent to check")
	}

	// A second run against the same sandbox passes too: nothing the first left behind (locked
	// logins, rate limits, consumed consents) gets in the way.
	rep2 := run(t, conformance.Options{Target: target, Sim: client, Groups: []string{conformance.GroupData}})
	for _, f := range rep2.Failures() {
		t.Errorf("second run: %s failed: %s", f.ID, f.Got)
	}
}
