package conformance

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ofpdp/ofpdp/internal/ofp/sim"
	"github.com/ofpdp/ofpdp/internal/ofp/wire"
)

// revocationIDs are the rows of the revocation group.
var revocationIDs = []string{"R1-data", "R2-paynet", "R3-event"}

// defaultRevokeWait bounds how long a DP's revocation may take to reach PayNet.
const defaultRevokeWait = 60 * time.Second

// revocation checks DP-initiated revocation (spec paynet-dp.md §3.2.3, §7.3): the DP is made to
// revoke a consent of its own accord (Target.RevokeURL), then
//
//   - R1-data: the DP refuses data for it at once, whatever PayNet has heard;
//   - R2-paynet: the DP tells PayNet, signed over mTLS, at the simulator's revoke endpoint
//     (default POST /v1/consents/{consent_id}/revoke, or PATCH with status revoked), and
//     PayNet's consent becomes revoked with updated_by data_provider;
//   - R3-event: the DP acknowledges PayNet's consent_status_updated revoked event that follows,
//     and still refuses data.
func (r *runner) revocation(ctx context.Context) {
	what := map[string][2]string{
		"R1-data":   {"The DP revokes an authorized consent of its own accord, then PayNet reads its balance", "revoke accepted; data 403 Consent.Invalid at once"},
		"R2-paynet": {"The DP tells PayNet of the revocation (signed, mTLS, the revoke endpoint)", "PayNet's consent revoked by the data provider, the call accepted"},
		"R3-event":  {"PayNet's consent_status_updated revoked event after the DP's revocation", "event 2xx; data still 403 Consent.Invalid"},
	}
	if r.t.RevokeURL == "" {
		for _, id := range revocationIDs {
			r.skip(id, what[id][0], what[id][1], "no way to make this DP revoke a consent: give the DP's revoke hook (--dp-revoke-url)")
		}
		return
	}
	a, err := r.approveConsent(ctx, []wire.Permission{wire.PermReadBalances})
	if err != nil {
		for _, id := range revocationIDs {
			r.prerequisite(id, what[id][0], what[id][1], err)
		}
		return
	}
	balances := func() (*apiResp, error) {
		return r.dataDo(ctx, r.pn.dataCall(dataPath(a.ConsentID, a.Accounts[0], "/balances", nil)))
	}
	denied := func(x *apiResp) bool { return expectRefusal(x, http.StatusForbidden, "Consent.Invalid") }

	revoked := false
	r.check("R1-data", what["R1-data"][0], what["R1-data"][1], func() (string, bool) {
		before, err := balances()
		if err != nil {
			return oneLine(err), false
		}
		status, err := r.revokeAtDP(ctx, a.ConsentID)
		if err != nil {
			return "revoke hook: " + oneLine(err), false
		}
		after, err := balances()
		if err != nil {
			return oneLine(err), false
		}
		revoked = is2xx(status)
		return fmt.Sprintf("before %s; revoke hook %d; after %s", before.describe(), status, after.describe()),
			before.Status == http.StatusOK && revoked && denied(after)
	})
	if !revoked {
		for _, id := range revocationIDs[1:] {
			r.prerequisite(id, what[id][0], what[id][1], errors.New("the DP did not revoke the consent (R1-data)"))
		}
		return
	}
	wait := r.t.RevokeWait
	if wait <= 0 {
		wait = defaultRevokeWait
	}
	var view *sim.ConsentView
	r.check("R2-paynet", what["R2-paynet"][0], what["R2-paynet"][1], func() (string, bool) {
		v, ok, err := r.pollConsentFor(ctx, a.ConsentID, wait, func(v *sim.ConsentView) bool {
			return v.Status == wire.StatusRevoked
		})
		if err != nil {
			return oneLine(err), false
		}
		view = v
		u, seen := lastMatch(v.UpdatesReceived, func(u sim.UpdateRecord) bool { return u.Status == string(wire.StatusRevoked) })
		got := fmt.Sprintf("PayNet's status %s, updated_by %s", v.Status, v.UpdatedBy)
		if seen {
			got += fmt.Sprintf("; revocation call %d accepted=%v %s", u.HTTPStatus, u.Accepted, u.Error)
		} else {
			got += fmt.Sprintf("; no revocation call within %s", wait)
		}
		return got, ok && seen && u.Accepted && v.UpdatedBy == "data_provider"
	})
	r.check("R3-event", what["R3-event"][0], what["R3-event"][1], func() (string, bool) {
		if view == nil || view.Status != wire.StatusRevoked {
			return "not run: PayNet's consent is not revoked (R2-paynet)", false
		}
		v, ok, err := r.pollConsent(ctx, a.ConsentID, func(v *sim.ConsentView) bool {
			_, sent := lastMatch(v.EventsSent, func(e sim.EventRecord) bool { return e.Status == wire.StatusRevoked })
			return sent
		})
		if err != nil {
			return oneLine(err), false
		}
		ev, _ := lastMatch(v.EventsSent, func(e sim.EventRecord) bool { return e.Status == wire.StatusRevoked })
		after, err := balances()
		if err != nil {
			return oneLine(err), false
		}
		if !ok || ev == nil {
			return "PayNet sent no revoked event", false
		}
		return fmt.Sprintf("event %d %s; data %s", ev.HTTPStatus, ev.Error, after.describe()), ev.Accepted() && denied(after)
	})
}

// revokeAtDP makes the DP revoke the consent through Target.RevokeURL and returns the HTTP status.
func (r *runner) revokeAtDP(ctx context.Context, consentID string) (int, error) {
	target := strings.ReplaceAll(r.t.RevokeURL, "{consent_id}", url.PathEscape(consentID))
	ctx, cancel := context.WithTimeout(ctx, r.o.HTTPTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(`{"reason":"conformance run: DP-initiated revocation"}`))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if r.t.RevokeToken != "" {
		req.Header.Set("Authorization", "Bearer "+r.t.RevokeToken)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, nil
}
