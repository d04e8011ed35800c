package sandbox_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/ofpdp/ofpdp/internal/ofp/conformance"
	"github.com/ofpdp/ofpdp/internal/ofp/sim"
	"github.com/ofpdp/ofpdp/internal/ofp/wire"
	"github.com/ofpdp/ofpdp/internal/sandbox"
)

// conform is `ofpdp conformance --sandbox` against info; every failed row is a test error.
func conform(ctx context.Context, t *testing.T, name string, info sandbox.Info) *conformance.Report {
	t.Helper()
	target := conformance.Target{APIURL: info.DP.APIURL, WebURL: info.DP.WebURL, PKIDir: info.PKIDir,
		RedirectURI: info.RedirectURI, DPID: info.DPID, DCID: info.DCID}
	if info.DP.AdminToken != "" { // as `ofpdp conformance --sandbox` does: the revocation group uses the admin API
		target.RevokeURL = strings.TrimRight(info.DP.OpsURL, "/") + "/admin/v1/consents/{consent_id}/revoke"
		target.RevokeToken = info.DP.AdminToken
	}
	for _, u := range info.Users {
		target.Users = append(target.Users, conformance.User{Username: u.Username, Password: u.Password,
			IDType: wire.IDType(u.IDType), IDNumber: u.IDNumber})
	}
	rep, err := conformance.Run(ctx, conformance.Options{Target: target, Sim: &sim.Client{BaseURL: info.PayNet.URL}})
	if err != nil {
		t.Fatalf("%s: conformance: %v", name, err)
	}
	var table bytes.Buffer
	_ = rep.WriteTable(&table)
	t.Logf("%s: conformance report:\n%s", name, table.String())
	for _, f := range rep.Failures() {
		t.Errorf("%s: %s failed: %s — expected %s, got %s", name, f.ID, f.Check, f.Expected, f.Got)
	}
	return rep
}
