package paynet

import (
	"errors"
	"net/http"
	"testing"
)

// TestRevokeConsentWire: the default POST and the PATCH fallback reach PayNet signed over mTLS
// with the configured path and body (spec §3.2.3), and are recorded as attempts.
func TestRevokeConsentWire(t *testing.T) {
	const id = "18ce19c8-85be-4049-899c-21cdc02cde79"
	cases := []struct {
		name, method, path, golden string
		opt                        RevokeOptions
	}{
		{"default POST", http.MethodPost, "/v1/consents/" + id + "/revoke", "revoke_post.json", RevokeOptions{}},
		{"PATCH fallback", http.MethodPatch, "/v1/consents/" + id, "revoke_patch.json",
			RevokeOptions{Method: "patch", Path: "/v1/consents/{consent_id}"}},
		{"custom body", http.MethodPost, "/ofp/revocations/" + id, "revoke_custom.json",
			RevokeOptions{Path: "/ofp/revocations/{consent_id}", Body: `{"id":"{consent_id}","why":"{reason_description}"}`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, func(o *ClientOptions) { o.Revoke = tc.opt })
			if err := r.client.RevokeConsent(t.Context(), Revocation{ConsentID: id, Description: `revoked by the "customer"`}); err != nil {
				t.Fatal(err)
			}
			reqs := r.pn.requests()
			if len(reqs) != 1 || reqs[0].verifyErr != nil || reqs[0].clientCN != "dp-mtls" {
				t.Fatalf("requests %+v", reqs)
			}
			s := reqs[0]
			if s.method != tc.method || s.path != tc.path || s.contentType != "application/json" {
				t.Errorf("request %s %s %s", s.method, s.path, s.contentType)
			}
			checkGolden(t, tc.golden, s.body)
			as := r.rec.attempts()
			if len(as) != 1 || as[0].Method != tc.method || as[0].ConsentID != id || as[0].Outcome != OutcomeSuccess {
				t.Errorf("attempts %+v", as)
			}
		})
	}
}

// TestRevokeConsentRefusedAndRetried: a 4xx is a definite refusal, a 503 is retryable.
func TestRevokeConsentRefusedAndRetried(t *testing.T) {
	r := newRig(t)
	r.pn.script = append(r.pn.script, status(http.StatusConflict, "Consent.Invalid"))
	err := r.client.RevokeConsent(t.Context(), Revocation{ConsentID: "c-1"})
	var ue *UpdateError
	if !errors.As(err, &ue) || ue.Retryable || ue.Status != http.StatusConflict || ue.Code != "Consent.Invalid" {
		t.Fatalf("refusal: %v", err)
	}
	r = newRig(t)
	r.pn.script = append(r.pn.script, status(http.StatusServiceUnavailable, "temporarily_unavailable"))
	err = r.client.RevokeConsent(t.Context(), Revocation{ConsentID: "c-1"})
	if !errors.As(err, &ue) || !ue.Retryable || ue.Attempts != DefaultMaxAttempts {
		t.Fatalf("outage: %v", err)
	}
	if err := r.client.RevokeConsent(t.Context(), Revocation{}); !errors.Is(err, ErrInvalidUpdate) {
		t.Fatalf("no consent_id: %v", err)
	}
}

// TestRevokeOptionsRefused: configuration that cannot make a request is refused at start.
func TestRevokeOptionsRefused(t *testing.T) {
	for _, o := range []RevokeOptions{
		{Method: "DELETE"},
		{Path: "/v1/consents/revoke"},
		{Path: "v1/consents/{consent_id}"},
		{Path: "/v1/{consent_id}/{consent_id}"},
		{Path: "/v1/consents/{consent_id}?x=1"},
		{Body: `{"status":"revoked"`},
		{Body: `"{consent_id}"`},
		{ReasonCode: "two words"},
	} {
		if _, err := o.withDefaults(); !errors.Is(err, ErrInvalidRevokeConfig) {
			t.Errorf("%+v: %v", o, err)
		}
	}
}
