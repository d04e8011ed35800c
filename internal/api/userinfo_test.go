package api

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/ofpdp/ofpdp/connector"
	"github.com/ofpdp/ofpdp/internal/consent"
	"github.com/ofpdp/ofpdp/internal/protoerr"
	"github.com/ofpdp/ofpdp/internal/store"
)

const userinfoPath = "/v1/oauth/userinfo?consent_id=" + testConsentID

// Userinfo (spec §3.1.3): plain JSON claims of the authorizing customer; sub = SubjectID; the
// hashed_id_number of the customer; no x-enc-kid needed.
func TestUserinfo(t *testing.T) {
	e := newEnv(t)
	for _, accept := range []string{"", "application/json", "*/*"} {
		resp := e.do(req{path: userinfoPath, header: map[string]string{HeaderEncKid: "", "Accept": accept}})
		body := readBody(t, resp)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" ||
			resp.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("status %d, headers %v, body %s", resp.StatusCode, resp.Header, body)
		}
		var got map[string]any
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatal(err)
		}
		want := map[string]any{
			"sub": consent.SubjectID(testAccountIDKey, testCustomer), "name": "Nur Aisyah binti Ahmad",
			"email": "aisyah@example.my", "id_type": "nric", "hashed_id_number": consent.HashIDNumber(testIDNumber),
		}
		if len(got) != len(want) {
			t.Errorf("claims %v, want %v", got, want)
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s = %v, want %v", k, got[k], v)
			}
		}
	}
}

func TestUserinfoRefusals(t *testing.T) {
	for _, c := range []struct {
		name   string
		setup  func(e *testEnv)
		r      req
		status int
		code   string
	}{
		{"accept jose", nil, req{path: userinfoPath, header: map[string]string{"Accept": "application/jose"}}, 406, protoerr.CodeInvalidRequest},
		{"no consent_id", nil, req{path: "/v1/oauth/userinfo"}, 400, protoerr.CodeInvalidRequest},
		{"unknown consent", nil, req{path: "/v1/oauth/userinfo?consent_id=0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"}, 403, protoerr.CodeConsentInvalid},
		{"revoked", func(e *testEnv) {
			e.store.edit(testConsentID, func(r *store.ConsentRecord) { r.Consent.Status = consent.StatusRevoked })
		}, req{path: userinfoPath}, 403, protoerr.CodeConsentInvalid},
		{"expired", func(e *testEnv) {
			e.store.edit(testConsentID, func(r *store.ConsentRecord) { r.Consent.ExpirationDatetime = e.clock.Now().Add(-1) })
		}, req{path: userinfoPath}, 403, protoerr.CodeConsentInvalid},
		{"no authorization", func(e *testEnv) {
			e.store.edit(testConsentID, func(r *store.ConsentRecord) { r.Authorization = nil })
		}, req{path: userinfoPath}, 403, protoerr.CodeConsentInvalid},
		{"identity differs from the consent", func(e *testEnv) {
			e.store.edit(testConsentID, func(r *store.ConsentRecord) { r.Consent.HashedIDNumber = consent.HashIDNumber("A1234567") })
		}, req{path: userinfoPath}, 403, protoerr.CodeConsentInvalid},
		{"customer gone", func(e *testEnv) { delete(e.bank.customers, testCustomer) }, req{path: userinfoPath}, 403, protoerr.CodeConsentInvalid},
		{"core bank down", func(e *testEnv) { e.bank.errs[testCustomer] = connector.ErrUnavailable }, req{path: userinfoPath}, 503, protoerr.CodeTransient},
		{"unsigned", nil, req{path: userinfoPath, noSig: true}, 401, protoerr.CodeInvalidSignature},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			if c.setup != nil {
				c.setup(e)
			}
			wantError(t, e.do(c.r), c.status, c.code)
		})
	}
}
