package conformance

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/ofpdp/ofpdp/internal/ofp/sim"
	"github.com/ofpdp/ofpdp/internal/ofp/wire"
)

// lifecycle runs negative-tests §5.5 C3, C9 and C10: PayNet changes a consent's status with
// signed events (sent by the simulator, spec §5.2, §7.3) and the resource server must follow at
// once, without a restart. It runs last: it suspends, revokes and expires the consents the
// other groups use.
func (r *runner) lifecycle(ctx context.Context) {
	m, mErr := r.mainConsent()
	balancesOf := func(a *authorized) (*apiResp, error) {
		return r.dataDo(ctx, r.pn.dataCall(dataPath(a.ConsentID, a.Accounts[0], "/balances", nil)))
	}
	setStatus := func(id, action string, force bool) (*sim.StatusResponse, error) {
		return r.sim.SetStatus(ctx, id, sim.StatusRequest{Action: action, Force: force})
	}
	denied := func(a *apiResp) bool { return expectRefusal(a, http.StatusForbidden, "Consent.Invalid") }

	if mErr != nil {
		r.prerequisite("C3-legal", "Suspend, then reinstate, an authorized consent", "2xx; data refused while suspended, served after", mErr)
	} else {
		r.check("C3-legal", "Suspend, then reinstate, an authorized consent (consent_status_updated events)",
			"2xx for both; data 403 Consent.Invalid while suspended, 200 after", func() (string, bool) {
				s, err := setStatus(m.ConsentID, sim.ActionSuspend, false)
				if err != nil {
					return "suspend: " + err.Error(), false
				}
				during, err := balancesOf(m)
				if err != nil {
					return oneLine(err), false
				}
				re, err := setStatus(m.ConsentID, sim.ActionReinstate, false)
				if err != nil {
					return "reinstate: " + err.Error(), false
				}
				after, err := balancesOf(m)
				if err != nil {
					return oneLine(err), false
				}
				got := fmt.Sprintf("suspend event %d, data %s; reinstate event %d, data %s", s.HTTPStatus, during.describe(), re.HTTPStatus, after.describe())
				return got, is2xx(s.HTTPStatus) && denied(during) && is2xx(re.HTTPStatus) && after.Status == http.StatusOK
			})
	}

	p, pErr := r.limitedConsent(ctx)
	if pErr != nil {
		r.prerequisite("C9-revoke", "Revoke an authorized consent", "2xx; data refused", pErr)
		r.prerequisite("C3-illegal", "Reinstate a revoked consent", "4xx", pErr)
	} else {
		r.check("C9-revoke", "Revoke an authorized consent (consent_status_updated revoked), then read its balance",
			"event 2xx; data 403 Consent.Invalid, no data", func() (string, bool) {
				before, err := balancesOf(p)
				if err != nil {
					return oneLine(err), false
				}
				s, err := setStatus(p.ConsentID, sim.ActionRevoke, false)
				if err != nil {
					return "revoke: " + err.Error(), false
				}
				after, err := balancesOf(p)
				if err != nil {
					return oneLine(err), false
				}
				got := fmt.Sprintf("before %s; revoke event %d; after %s", before.describe(), s.HTTPStatus, after.describe())
				return got, before.Status == http.StatusOK && is2xx(s.HTTPStatus) && denied(after)
			})
		r.check("C3-illegal", "revoked → authorized (a reinstate event for the revoked consent)", "4xx; data still refused",
			func() (string, bool) {
				s, err := setStatus(p.ConsentID, sim.ActionReinstate, true)
				if err != nil {
					return "reinstate: " + err.Error(), false
				}
				after, err := balancesOf(p)
				if err != nil {
					return oneLine(err), false
				}
				got := fmt.Sprintf("event %d %s; data %s", s.HTTPStatus, cell(s.Error, 40), after.describe())
				return got, s.HTTPStatus >= 400 && s.HTTPStatus < 500 && denied(after)
			})
	}

	r.check("C10", "A consent expiring in a few seconds (consent_updated with a near expiration_datetime)",
		"data 200 before expiry, 403 Consent.Invalid after it, without a restart", func() (string, bool) {
			x, err := r.approveConsent(ctx, allPermissions)
			if err != nil {
				return "approved consent: " + err.Error(), false
			}
			v, err := r.sim.Consent(ctx, x.ConsentID)
			if err != nil {
				return err.Error(), false
			}
			now := r.now()
			expiry := now.Add(6 * time.Second).Truncate(time.Second)
			c := v.Consent
			c.ExpirationDatetime = expiry.UTC().Format(time.RFC3339)
			c.UpdatedAt = now.UTC().Format("2006-01-02T15:04:05.000Z07:00")
			body, err := statusEvent(wire.EventUpdated, c)
			if err != nil {
				return err.Error(), false
			}
			ev, err := r.pn.event(ctx, body)
			if err != nil {
				return "consent_updated: " + oneLine(err), false
			}
			if ev.Status != http.StatusOK {
				return "consent_updated answered " + ev.describe(), false
			}
			before, err := balancesOf(x)
			if err != nil {
				return oneLine(err), false
			}
			if err := sleep(ctx, time.Until(expiry)+1500*time.Millisecond); err != nil {
				return err.Error(), false
			}
			after, err := balancesOf(x)
			if err != nil {
				return oneLine(err), false
			}
			return fmt.Sprintf("before %s; after %s", before.describe(), after.describe()), before.Status == http.StatusOK && denied(after)
		})

	if mErr != nil {
		r.prerequisite("C9-expire", "Expire an authorized consent", "2xx; data refused", mErr)
		return
	}
	r.check("C9-expire", "Expire an authorized consent (consent_status_updated expired), then read its balance",
		"event 2xx; data 403 Consent.Invalid, no data", func() (string, bool) {
			s, err := setStatus(m.ConsentID, sim.ActionExpire, false)
			if err != nil {
				return "expire: " + err.Error(), false
			}
			after, err := balancesOf(m)
			if err != nil {
				return oneLine(err), false
			}
			return fmt.Sprintf("expire event %d; data %s", s.HTTPStatus, after.describe()), is2xx(s.HTTPStatus) && denied(after)
		})
}

func is2xx(status int) bool { return status >= 200 && status < 300 }
