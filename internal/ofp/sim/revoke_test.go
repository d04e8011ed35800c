package sim

import (
	"context"
	"net/http"
	"testing"

	"github.com/ofpdp/ofpdp/internal/consent"
	"github.com/ofpdp/ofpdp/internal/ofp/wire"
)

// TestRevokeByDP: the default DP-initiated revocation (spec §3.2.3) and the PATCH fallback revoke
// an authorized consent, the consumer side sees it, PayNet's event goes back to the DP; bad
// calls are refused with nothing changed.
func TestRevokeByDP(t *testing.T) {
	for _, tc := range []struct {
		name, method, suffix, body string
	}{
		{"POST", http.MethodPost, "/revoke", `{"status_reason":{"reason_code":"not_allowed","reason_description":"revoked by the customer at the data provider"}}`},
		{"PATCH fallback", http.MethodPatch, "", ""}, // body built below: it names the consent
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, func(o *Options) { o.IDTokenIssuer = "https://localhost:8444" })
			created, _ := h.createConsent(t, CreateConsentRequest{IDType: wire.IDTypeNRIC, IDNumber: testIDNumber})
			id := created.ConsentID
			path := "/v1/consents/" + id + tc.suffix
			body := []byte(tc.body)
			if tc.method == http.MethodPatch {
				body = []byte(`{"consent_id":"` + id + `","status":"revoked","status_reason":{"reason_code":"not_allowed","reason_description":"x"}}`)
			}
			// Not yet authorized: 409, nothing changes.
			if st, eb := h.call(t, h.dpHTTP, tc.method, path, body, ""); st != http.StatusConflict || eb.Error != codeConsentInvalid {
				t.Fatalf("revoking an awaiting consent = %d %+v", st, eb)
			}
			if st, eb := h.patch(t, h.dpHTTP, id, h.authorizedBody(t, id, nil), ""); st != http.StatusOK {
				t.Fatalf("PATCH = %d %+v", st, eb)
			}
			h.dp.nextEvent(t)
			for _, bad := range []struct {
				body []byte
				sig  string
				want int
			}{
				{body, "-", http.StatusUnauthorized},
				{[]byte(`{"status_reason":{"reason_code":"because","reason_description":"x"}}`), "", http.StatusBadRequest},
				{[]byte(`{}`), "", http.StatusBadRequest},
			} {
				if tc.method == http.MethodPatch && string(bad.body) == "{}" {
					continue // an empty PATCH is a schema error of its own, covered by the PATCH tests
				}
				if st, _ := h.call(t, h.dpHTTP, tc.method, path, bad.body, bad.sig); st != bad.want {
					t.Errorf("%s (sig %q) = %d, want %d", bad.body, bad.sig, st, bad.want)
				}
			}
			if st, eb := h.call(t, h.dpHTTP, tc.method, path, body, ""); st != http.StatusOK {
				t.Fatalf("revocation = %d %+v", st, eb)
			}
			ev := h.dp.nextEvent(t)
			if ev.VerifyErr != nil || ev.Event.Type != consent.EventStatusUpdated || ev.Event.Consent.Status != consent.StatusRevoked {
				t.Fatalf("event after the revocation: %+v", ev.Event)
			}
			view, err := h.client.Consent(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			last := view.UpdatesReceived[len(view.UpdatesReceived)-1]
			if view.Status != wire.StatusRevoked || !last.Accepted || last.Status != "revoked" {
				t.Fatalf("view %s, last update %+v", view.Status, last)
			}
			// Twice: already revoked.
			if st, _ := h.call(t, h.dpHTTP, tc.method, path, body, ""); st != http.StatusConflict {
				t.Fatalf("second revocation = %d", st)
			}
		})
	}
}
