package conformance

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/ofpdp/ofpdp/internal/ofp/wire"
)

// observe keeps an error answer of the api listener for D14.
func (r *runner) observe(what string, a *apiResp) {
	if a == nil || a.Status < 400 {
		return
	}
	r.errorBodies = append(r.errorBodies, observed{what: what, status: a.Status, contentType: a.contentType(), body: a.Body})
}

// definitionOfDone checks the four items of spec paynet-dp.md §7.6 "Definition of Done".
func (r *runner) definitionOfDone(ctx context.Context) {
	r.check("DoD-1", "POST /v1/consents/events: a signed consent_created is acknowledged; the same body unsigned is refused",
		"200 application/json {}; unsigned 401 JWS.InvalidSignature", func() (string, bool) {
			body, err := r.createdEvent(newID(), r.now())
			if err != nil {
				return err.Error(), false
			}
			unsigned, err := r.pn.do(ctx, call{method: http.MethodPost, path: "/v1/consents/events", body: body, sig: strp("")})
			if err != nil {
				return oneLine(err), false
			}
			r.observe("unsigned event", unsigned)
			a, err := r.pn.event(ctx, body)
			if err != nil {
				return oneLine(err), false
			}
			var obj map[string]any
			empty := json.Unmarshal(a.Body, &obj) == nil && obj != nil && len(obj) == 0
			got := fmt.Sprintf("signed: %s body %q; unsigned: %s", a.describe(), cell(string(a.Body), 20), unsigned.describe())
			return got, a.Status == http.StatusOK && a.contentType() == "application/json" && empty &&
				expectRefusal(unsigned, http.StatusUnauthorized, "JWS.InvalidSignature")
		})

	journeyIDs := []string{"E2E-5", "E2E-6a", "E2E-6b", "E2E-7", "E2E-8", "E2E-9a", "E2E-10", "E2E-9b"}
	r.check("DoD-2", "GET /v1/oauth/authorize: the customer goes through authentication to approval or rejection",
		"E2E-5 … E2E-10 and E2E-9b pass", func() (string, bool) {
			var failed []string
			for _, id := range journeyIDs {
				if res, ok := r.rep.Result(id); !ok || res.Outcome != Pass {
					failed = append(failed, id)
				}
			}
			if len(failed) > 0 {
				return fmt.Sprintf("failed or missing: %v", failed), false
			}
			return "all pass", true
		})

	r.check("DoD-3", "PATCH /v1/consents/{consent_id}: positive status on approval, negative on rejection",
		"PayNet accepted authorized for the approved consent and rejected/failed for the rejected one", func() (string, bool) {
			m, err := r.mainConsent()
			if err != nil {
				return err.Error(), false
			}
			if r.rejected == "" {
				return fmt.Sprintf("no rejected consent (%v)", r.rejectedErr), false
			}
			va, err := r.sim.Consent(ctx, m.ConsentID)
			if err != nil {
				return err.Error(), false
			}
			vb, err := r.sim.Consent(ctx, r.rejected)
			if err != nil {
				return err.Error(), false
			}
			pos, neg := false, false
			for _, u := range va.UpdatesReceived {
				pos = pos || u.Accepted && u.Status == string(wire.StatusAuthorized)
			}
			for _, u := range vb.UpdatesReceived {
				neg = neg || u.Accepted && (u.Status == string(wire.StatusRejected) || u.Status == string(wire.StatusFailed))
			}
			return fmt.Sprintf("approved: %s; rejected: %s", describeUpdates(va.UpdatesReceived), describeUpdates(vb.UpdatesReceived)), pos && neg
		})

	r.check("DoD-4", "GET /v1/accounts/{account_id}/balances: encrypted and signed response",
		"200 application/jose; JWS by the DP's key (iss dp_id, aud [Paynet OFP, dc_id], exp = iat + 3600); JWE RSA-OAEP-256/A256GCM to x-enc-kid; balance of that account",
		func() (string, bool) {
			m, err := r.mainConsent()
			if err != nil {
				return err.Error(), false
			}
			a, err := r.dataDo(ctx, r.pn.dataCall(dataPath(m.ConsentID, m.Accounts[0], "/balances", nil)))
			if err != nil {
				return oneLine(err), false
			}
			o, err := r.open(a)
			if err != nil {
				return err.Error(), false
			}
			var env struct {
				Data struct {
					AccountID      string          `json:"account_id"`
					CurrentBalance json.RawMessage `json:"current_balance"`
				} `json:"data"`
			}
			if err := json.Unmarshal(o.Plaintext, &env); err != nil {
				return "plaintext: " + err.Error(), false
			}
			got := fmt.Sprintf("JWS %v/%v, JWE %v/%v, account_id matches: %v", o.JWSHeader["alg"], o.JWSHeader["typ"],
				o.JWEHeader["alg"], o.JWEHeader["enc"], env.Data.AccountID == m.Accounts[0])
			return got, env.Data.AccountID == m.Accounts[0] && len(env.Data.CurrentBalance) > 0
		})
}

// events runs negative-tests §5.5 C1, C2, C5–C8 against POST /v1/consents/events. Each refused
// body is signed correctly: only its content is wrong.
func (r *runner) events(ctx context.Context) {
	post := func(body []byte) (*apiResp, error) {
		a, err := r.pn.event(ctx, body)
		r.observe("event refusal", a)
		return a, err
	}
	status4xx := func(body []byte) (string, bool) {
		a, err := post(body)
		if err != nil {
			return oneLine(err), false
		}
		return a.describe(), a.Status >= 400 && a.Status < 500 && a.errorCode() != ""
	}

	r.check("C1", "consent_status_updated for a consent_id the DP never received", "4xx with an error body", func() (string, bool) {
		c := r.newConsentData(newID(), r.now())
		c.Status = wire.StatusAuthorized
		b, err := statusEvent(wire.EventStatusUpdated, c)
		if err != nil {
			return err.Error(), false
		}
		return status4xx(b)
	})

	r.check("C2", "Event for a stored consent with a different dc_id", "4xx with an error body", func() (string, bool) {
		id := newID()
		created := r.now().Add(-time.Second)
		b, err := r.createdEvent(id, created)
		if err != nil {
			return err.Error(), false
		}
		if a, err := r.pn.event(ctx, b); err != nil || a.Status != http.StatusOK {
			return "consent_created not accepted: " + describeErr(a, err), false
		}
		c := r.newConsentData(id, created)
		c.DCID = "DC-OTHER-" + newID()[:8]
		c.UpdatedAt = r.now().UTC().Format("2006-01-02T15:04:05.000Z07:00")
		ub, err := statusEvent(wire.EventUpdated, c)
		if err != nil {
			return err.Error(), false
		}
		return status4xx(ub)
	})

	// mutated returns a consent_created body for a new consent with one member of data replaced
	// (deleted when value is del).
	type del struct{}
	mutated := func(member string, value any) ([]byte, error) {
		b, err := r.createdEvent(newID(), r.now())
		if err != nil {
			return nil, err
		}
		var top struct {
			EventType json.RawMessage `json:"event_type"`
			Data      map[string]any  `json:"data"`
		}
		if err := json.Unmarshal(b, &top); err != nil {
			return nil, err
		}
		if _, isDel := value.(del); isDel {
			delete(top.Data, member)
		} else {
			top.Data[member] = value
		}
		return json.Marshal(map[string]any{"event_type": top.EventType, "data": top.Data})
	}
	bad := func(id, what, member string, value any) {
		r.check(id, what, "400 invalid_request", func() (string, bool) {
			b, err := mutated(member, value)
			if err != nil {
				return err.Error(), false
			}
			a, err := post(b)
			if err != nil {
				return oneLine(err), false
			}
			return a.describe(), expectRefusal(a, http.StatusBadRequest, "invalid_request")
		})
	}
	bad("C5-null", "consent_purpose is null", "consent_purpose", nil)
	bad("C5-empty", "dc_id is an empty string", "dc_id", "")
	bad("C5-enum", "status is consent_status_unspecified", "status", "consent_status_unspecified")
	bad("C5-array", "permissions is an empty array", "permissions", []string{})
	bad("C5-number", "consent_purpose is a fractional number", "consent_purpose", 1.5)
	bad("C5-missing", "expiration_datetime is missing", "expiration_datetime", del{})
	bad("C6-format", "created_at without a time zone (2025-01-02 10:00:00)", "created_at", "2025-01-02 10:00:00")
	bad("C6-future", "created_at one hour in the future", "created_at", r.now().Add(time.Hour).UTC().Format(time.RFC3339))
	bad("C6-order", "expiration_datetime before created_at", "expiration_datetime", r.now().Add(-24*time.Hour).UTC().Format(time.RFC3339))
	bad("C7-uuid", "consent_id is not a UUID", "consent_id", "not-a-uuid-"+newID()[:8])
	bad("C7-purpose", "consent_purpose is an unknown code (marketing)", "consent_purpose", "marketing")
	bad("C7-permission", "permissions holds an unknown code (read_everything)", "permissions", []string{"read_everything"})

	r.check("C7-event", "event_type is consent_event_type_unspecified", "400 invalid_request", func() (string, bool) {
		c := r.newConsentData(newID(), r.now())
		b, err := statusEvent("consent_event_type_unspecified", c)
		if err != nil {
			return err.Error(), false
		}
		a, err := post(b)
		if err != nil {
			return oneLine(err), false
		}
		return a.describe(), expectRefusal(a, http.StatusBadRequest, "invalid_request")
	})

	for _, c := range []struct {
		id, what, method, path string
		status                 int
	}{
		{"C8-version", "POST /v2/consents/events (unsupported version)", http.MethodPost, "/v2/consents/events", http.StatusNotFound},
		{"C8-path", "POST /v1/consents/event (unknown path)", http.MethodPost, "/v1/consents/event", http.StatusNotFound},
		{"C8-method", "GET /v1/consents/events (wrong method)", http.MethodGet, "/v1/consents/events", http.StatusMethodNotAllowed},
	} {
		r.check(c.id, c.what, fmt.Sprintf("%d invalid_request", c.status), func() (string, bool) {
			b, err := r.createdEvent(newID(), r.now())
			if err != nil {
				return err.Error(), false
			}
			if c.method == http.MethodGet {
				b = nil
			}
			a, err := r.pn.do(ctx, call{method: c.method, path: c.path, body: b})
			if err != nil {
				return oneLine(err), false
			}
			r.observe("unknown route", a)
			return a.describe(), expectRefusal(a, c.status, "invalid_request")
		})
	}
}

func describeErr(a *apiResp, err error) string {
	if err != nil {
		return oneLine(err)
	}
	return a.describe()
}
