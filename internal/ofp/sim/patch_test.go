package sim

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ofpdp/ofpdp/internal/consent"
	"github.com/ofpdp/ofpdp/internal/jose"
	"github.com/ofpdp/ofpdp/internal/ofp/wire"
)

func TestPatchAccepted(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.IDTokenIssuer = "https://localhost:8444" })
	created, _ := h.createConsent(t, CreateConsentRequest{IDType: wire.IDTypeNRIC, IDNumber: testIDNumber})
	id := created.ConsentID
	if st, eb := h.patch(t, h.dpHTTP, id, h.authorizedBody(t, id, nil), ""); st != http.StatusOK {
		t.Fatalf("PATCH = %d %+v", st, eb)
	}
	ev := h.dp.nextEvent(t)
	if ev.VerifyErr != nil || ev.ParseErr != nil {
		t.Fatalf("status event: verify %v parse %v", ev.VerifyErr, ev.ParseErr)
	}
	c := ev.Event.Consent
	if ev.Event.Type != consent.EventStatusUpdated || c.Status != consent.StatusAuthorized || c.UpdatedBy != "data_provider_user" ||
		c.HashedIDNumber != wire.HashIDNumber(testIDNumber) {
		t.Errorf("status event = %s %+v", ev.Event.Type, c)
	}
	if ev.Wire.Data.AccountAccess == nil || len(ev.Wire.Data.AccountAccess.Accounts) != 1 ||
		ev.Wire.Data.AccountAccess.Accounts[0] != (Account{AccountID: "a1b2c3d4e5f6", AccountNumber: "1234567890", AccountName: "Savings"}) {
		t.Errorf("account_access = %+v", ev.Wire.Data.AccountAccess)
	}
	if ev.Wire.Data.UpdatedAt <= ev.Wire.Data.CreatedAt {
		t.Errorf("updated_at %s not after created_at %s", ev.Wire.Data.UpdatedAt, ev.Wire.Data.CreatedAt)
	}
	waitFor(t, "the status event recorded", func() bool {
		v, err := h.client.Consent(context.Background(), id)
		return err == nil && len(v.EventsSent) == 2
	})
	view, err := h.client.Consent(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if view.Status != wire.StatusAuthorized || len(view.UpdatesReceived) != 1 {
		t.Fatalf("view = %+v", view)
	}
	u := view.UpdatesReceived[0]
	if !u.Accepted || u.HTTPStatus != 200 || u.Status != "authorized" || u.Error != "" ||
		u.InteractionID != "11111111-2222-4333-8444-555555555555" {
		t.Errorf("update record = %+v", u)
	}
	var claims map[string]any
	if err := json.Unmarshal(u.IDTokenClaims, &claims); err != nil || claims["aud"] != testDCID || claims["sub"] != "sub-123" {
		t.Errorf("id_token_claims = %s (%v)", u.IDTokenClaims, err)
	}
	if got := view.AuthorizedAccounts(); len(got) != 1 || got[0].AccountID != "a1b2c3d4e5f6" {
		t.Errorf("AuthorizedAccounts = %+v", got)
	}
	if view.EventsSent[1].EventType != wire.EventStatusUpdated || view.EventsSent[1].Status != wire.StatusAuthorized {
		t.Errorf("events_sent = %+v", view.EventsSent)
	}

	// A second update for the same consent: no longer awaiting_authorization (409).
	if st, eb := h.patch(t, h.dpHTTP, id, h.authorizedBody(t, id, nil), ""); st != http.StatusConflict || eb.Error != codeConsentInvalid {
		t.Errorf("second PATCH = %d %+v", st, eb)
	}
}

func TestPatchRejectedAndFailed(t *testing.T) {
	for _, tt := range []struct {
		body       string
		want       wire.Status
		wantReason string
	}{
		{`{"status":"rejected"}`, wire.StatusRejected, "not_allowed"},
		{`{"status":"failed","status_reason":{"reason_code":"timeout","reason_description":"window over"}}`, wire.StatusFailed, "timeout"},
		{`{"status":"failed"}`, wire.StatusFailed, ""},
	} {
		t.Run(string(tt.want)+tt.wantReason, func(t *testing.T) {
			h := newHarness(t, nil)
			created, _ := h.createConsent(t, CreateConsentRequest{})
			if st, eb := h.patch(t, h.dpHTTP, created.ConsentID, []byte(tt.body), ""); st != http.StatusOK {
				t.Fatalf("PATCH = %d %+v", st, eb)
			}
			ev := h.dp.nextEvent(t)
			if ev.ParseErr != nil {
				t.Fatal(ev.ParseErr)
			}
			c := ev.Event.Consent
			reason := ""
			if c.StatusReason != nil {
				reason = c.StatusReason.ReasonCode
			}
			if string(c.Status) != string(tt.want) || reason != tt.wantReason || len(c.Accounts) != 0 {
				t.Errorf("event consent = %+v", c)
			}
		})
	}
}

func TestPatchRefusals(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.IDTokenIssuer = "https://localhost:8444" })
	paynetSigner := signer(t, h.dir, "paynet-sig", testDPID) // a key not in dp.jwks.json
	wrongIss := signer(t, h.dir, "dp-sig", "SOMEONE-ELSE")
	now := time.Now()

	type tc struct {
		name    string
		consent CreateConsentRequest
		client  func() *http.Client
		body    func(id string) []byte
		sig     func(body []byte) string // nil = good signature
		status  int
		code    string
	}
	auth := func(mod func(map[string]any)) func(string) []byte {
		return func(id string) []byte { return h.authorizedBody(t, id, mod) }
	}
	token := func(mod func(*jose.IDTokenClaims)) func(map[string]any) {
		return func(m map[string]any) { m["id_token"] = h.idToken(t, mod) }
	}
	withID := CreateConsentRequest{IDType: wire.IDTypeNRIC, IDNumber: "A1234567"}
	tests := []tc{
		{name: "no client certificate", client: func() *http.Client { return mtlsClient(t, h.dir, "", "") },
			body: auth(nil), status: 403, code: "invalid_client"},
		{name: "PayNet's own client certificate", client: func() *http.Client { return mtlsClient(t, h.dir, h.dir, "paynet-mtls") },
			body: auth(nil), status: 403, code: "invalid_client"},
		{name: "signature missing", body: auth(nil), sig: func([]byte) string { return "-" }, status: 401, code: codeInvalidSignature},
		{name: "signature over another body", body: auth(nil), sig: func(b []byte) string {
			s, _ := h.dpSigner.SignDetached(append([]byte(" "), b...))
			return s
		}, status: 401, code: codeInvalidSignature},
		{name: "signature truncated", body: auth(nil), sig: func(b []byte) string {
			s, _ := h.dpSigner.SignDetached(b)
			return s[:len(s)-1]
		}, status: 401, code: codeInvalidSignature},
		{name: "signed by a key not in dp.jwks.json", body: auth(nil), sig: func(b []byte) string {
			s, _ := paynetSigner.SignDetached(b)
			return s
		}, status: 401, code: codeInvalidSignature},
		{name: "iss is not the dp_id", body: auth(nil), sig: func(b []byte) string {
			s, _ := wrongIss.SignDetached(b)
			return s
		}, status: 401, code: codeInvalidClaim},
		{name: "attached JWS", body: auth(nil), sig: func(b []byte) string {
			s, _ := h.dpSigner.SignAttached(b)
			return s
		}, status: 401, code: codeInvalidSignature},
		{name: "not JSON", body: func(string) []byte { return []byte(`{"status":`) }, status: 400, code: codeInvalidRequest},
		{name: "unknown member", body: auth(func(m map[string]any) { m["extra"] = true }), status: 400, code: codeInvalidRequest},
		{name: "unknown status", body: func(string) []byte { return []byte(`{"status":"approved"}`) }, status: 400, code: codeInvalidRequest},
		{name: "capitalised status", body: func(string) []byte { return []byte(`{"status":"Rejected"}`) }, status: 400, code: codeInvalidRequest},
		{name: "consent_id differs from path", body: auth(func(m map[string]any) { m["consent_id"] = "another" }), status: 400, code: codeInvalidRequest},
		{name: "authorized without id_token", body: auth(func(m map[string]any) { delete(m, "id_token") }), status: 400, code: codeInvalidRequest},
		{name: "authorized without user_identity", body: auth(func(m map[string]any) { delete(m, "user_identity") }), status: 400, code: codeInvalidRequest},
		{name: "authorized without accounts", body: auth(func(m map[string]any) { m["accounts"] = []any{} }), status: 400, code: codeInvalidRequest},
		{name: "account_id longer than 36", body: auth(func(m map[string]any) {
			m["accounts"] = []any{map[string]any{"account_id": strings.Repeat("a", 37), "account_number": "1", "account_name": "n"}}
		}), status: 400, code: codeInvalidRequest},
		{name: "account without number", body: auth(func(m map[string]any) {
			m["accounts"] = []any{map[string]any{"account_id": "a1", "account_name": "n"}}
		}), status: 400, code: codeInvalidRequest},
		{name: "account_id derived from the account number", body: auth(func(m map[string]any) {
			m["accounts"] = []any{map[string]any{"account_id": "acc-1234567890", "account_number": "1234567890", "account_name": "n"}}
		}), status: 400, code: codeInvalidRequest},
		{name: "duplicate account ids", body: auth(func(m map[string]any) {
			a := map[string]any{"account_id": "a1", "account_number": "1", "account_name": "n"}
			m["accounts"] = []any{a, a}
		}), status: 400, code: codeInvalidRequest},
		{name: "hashed_id_number not base64 of SHA-256", body: auth(func(m map[string]any) {
			m["user_identity"].(map[string]any)["hashed_id_number"] = "abc"
		}), status: 400, code: codeInvalidRequest},
		{name: "rejection carrying accounts", body: func(string) []byte {
			return []byte(`{"status":"rejected","accounts":[{"account_id":"a","account_number":"1","account_name":"n"}]}`)
		}, status: 400, code: codeInvalidRequest},
		{name: "id_token aud is not the dc_id", body: auth(token(func(c *jose.IDTokenClaims) { c.Audience = "Paynet OFP" })), status: 400, code: codeInvalidRequest},
		{name: "id_token expired", body: auth(token(func(c *jose.IDTokenClaims) {
			c.IssuedAt, c.Expiry = now.Add(-20*time.Minute), now.Add(-10*time.Minute)
		})), status: 400, code: codeInvalidRequest},
		{name: "id_token exp beyond iat+600", body: auth(token(func(c *jose.IDTokenClaims) { c.Expiry = c.IssuedAt.Add(time.Hour) })), status: 400, code: codeInvalidRequest},
		{name: "id_token iss not the DP issuer", body: auth(token(func(c *jose.IDTokenClaims) { c.Issuer = "https://evil" })), status: 400, code: codeInvalidRequest},
		{name: "id_token signed by another key", body: auth(func(m map[string]any) {
			tok, err := paynetSigner.SignIDToken(jose.IDTokenClaims{Issuer: "https://localhost:8444", Subject: "s", Audience: testDCID,
				IssuedAt: now, Expiry: now.Add(5 * time.Minute), AuthTime: now, IDType: "nric", HashedIDNumber: wire.HashIDNumber(testIDNumber)})
			if err != nil {
				t.Fatal(err)
			}
			m["id_token"] = tok
		}), status: 400, code: codeInvalidRequest},
		{name: "id_token tampered", body: auth(func(m map[string]any) {
			tok := h.idToken(t, nil)
			parts := strings.Split(tok, ".")
			m["id_token"] = parts[0] + "." + parts[1] + "A." + parts[2]
		}), status: 400, code: codeInvalidRequest},
		{name: "id_token identity differs from user_identity", body: auth(token(func(c *jose.IDTokenClaims) {
			c.HashedIDNumber = wire.HashIDNumber("A1234567")
		})), status: 400, code: codeInvalidRequest},
		{name: "customer differs from the consent's", consent: withID, body: auth(nil), status: 400, code: codeInvalidRequest},
		{name: "unknown consent", body: func(string) []byte { return []byte(`{"status":"rejected"}`) }, status: 404, code: codeConsentNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			created, _ := h.createConsent(t, tt.consent)
			id := created.ConsentID
			if tt.code == codeConsentNotFound {
				id = "00000000-0000-4000-8000-000000000000"
			}
			body := tt.body(id)
			sig := ""
			if tt.sig != nil {
				sig = tt.sig(body)
			}
			client := h.dpHTTP
			if tt.client != nil {
				client = tt.client()
			}
			st, eb := h.patch(t, client, id, body, sig)
			if st != tt.status || eb.Error != tt.code {
				t.Fatalf("PATCH = %d %+v, want %d %s", st, eb, tt.status, tt.code)
			}
			if id == created.ConsentID {
				view, err := h.client.Consent(context.Background(), id)
				if err != nil {
					t.Fatal(err)
				}
				if view.Status != wire.StatusAwaitingAuthorization {
					t.Errorf("status changed to %s", view.Status)
				}
				if len(view.UpdatesReceived) != 1 || view.UpdatesReceived[0].Accepted || view.UpdatesReceived[0].HTTPStatus != st ||
					view.UpdatesReceived[0].Error == "" {
					t.Errorf("updates_received = %+v", view.UpdatesReceived)
				}
				if len(view.EventsSent) != 1 {
					t.Errorf("events sent after a refused PATCH: %+v", view.EventsSent)
				}
			}
		})
	}
	ups, err := h.client.Updates(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(ups) != len(tests) {
		t.Errorf("GET /sim/updates lists %d, want %d", len(ups), len(tests))
	}
}

func TestPatchReplayedSignature(t *testing.T) {
	h := newHarness(t, nil)
	created, _ := h.createConsent(t, CreateConsentRequest{})
	body := []byte(`{"status":"rejected"}`)
	sig, err := h.dpSigner.SignDetached(body)
	if err != nil {
		t.Fatal(err)
	}
	if st, eb := h.patch(t, h.dpHTTP, created.ConsentID, body, sig); st != http.StatusOK {
		t.Fatalf("first = %d %+v", st, eb)
	}
	if st, eb := h.patch(t, h.dpHTTP, created.ConsentID, body, sig); st != http.StatusUnauthorized || eb.Error != codeInvalidClaim {
		t.Fatalf("replay = %d %+v", st, eb)
	}
}

func TestPatchForeignCA(t *testing.T) {
	h := newHarness(t, nil)
	testPKI(t)
	// A DP client certificate from another CA fails the TLS handshake.
	client := mtlsClient(t, h.dir, otherPKIDir, "dp-mtls")
	req, err := http.NewRequest(http.MethodPatch, h.mtlsURL+"/v1/consents/x", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Do(req)
	if err == nil {
		_ = resp.Body.Close()
		t.Fatalf("PATCH with a foreign client certificate answered %d", resp.StatusCode)
	}
}

func TestFaultInjection(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	created, _ := h.createConsent(t, CreateConsentRequest{})
	id := created.ConsentID
	body := []byte(`{"status":"rejected"}`)

	if err := h.client.SetFault(ctx, Fault{Patch: "status:500", Count: 2}); err != nil {
		t.Fatal(err)
	}
	if f, err := h.client.Fault(ctx); err != nil || f.Patch != "status:500" || f.Count != 2 {
		t.Fatalf("fault = %+v %v", f, err)
	}
	for i := range 2 {
		if st, eb := h.patch(t, h.dpHTTP, id, body, ""); st != 500 || eb.Error != "server_error" {
			t.Fatalf("attempt %d = %d %+v", i, st, eb)
		}
	}
	if st, eb := h.patch(t, h.dpHTTP, id, body, ""); st != 200 {
		t.Fatalf("after the faults = %d %+v", st, eb)
	}
	h.dp.nextEvent(t)
	view, _ := h.client.Consent(ctx, id)
	if len(view.UpdatesReceived) != 3 || view.UpdatesReceived[0].HTTPStatus != 500 || view.UpdatesReceived[0].Status != "rejected" ||
		!view.UpdatesReceived[2].Accepted {
		t.Errorf("updates = %+v", view.UpdatesReceived)
	}

	// status:400 then cleared with count 0.
	if err := h.client.SetFault(ctx, Fault{Patch: "status:400", Count: 5}); err != nil {
		t.Fatal(err)
	}
	created2, _ := h.createConsent(t, CreateConsentRequest{})
	if st, _ := h.patch(t, h.dpHTTP, created2.ConsentID, body, ""); st != 400 {
		t.Fatalf("status:400 fault = %d", st)
	}
	if err := h.client.SetFault(ctx, Fault{Count: 0}); err != nil {
		t.Fatal(err)
	}
	if st, _ := h.patch(t, h.dpHTTP, created2.ConsentID, body, ""); st != 200 {
		t.Fatalf("after clearing = %d", st)
	}
	h.dp.nextEvent(t)

	// timeout: no answer before the client gives up.
	if err := h.client.SetFault(ctx, Fault{Patch: FaultTimeout, Count: 1}); err != nil {
		t.Fatal(err)
	}
	created3, _ := h.createConsent(t, CreateConsentRequest{})
	short := mtlsClient(t, h.dir, h.dir, "dp-mtls")
	short.Timeout = 300 * time.Millisecond
	sig, _ := h.dpSigner.SignDetached(body)
	req, _ := http.NewRequest(http.MethodPatch, h.mtlsURL+"/v1/consents/"+created3.ConsentID, strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("x-fapi-signature", sig)
	if resp, err := short.Do(req); err == nil {
		_ = resp.Body.Close()
		t.Fatalf("timeout fault answered %d", resp.StatusCode)
	}
	if st, _ := h.patch(t, h.dpHTTP, created3.ConsentID, body, ""); st != 200 {
		t.Fatalf("after the timeout = %d", st)
	}
	h.dp.nextEvent(t)

	for _, f := range []Fault{{Patch: "status:200", Count: 1}, {Patch: "slow", Count: 1}, {Patch: "status:500", Count: -1}, {Patch: "status:x", Count: 1}} {
		if err := h.client.SetFault(ctx, f); !isAPIError(err, http.StatusBadRequest) {
			t.Errorf("%+v: %v", f, err)
		}
	}
}

func TestStatusEventDelay(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.StatusEventDelay = 200 * time.Millisecond })
	created, _ := h.createConsent(t, CreateConsentRequest{})
	start := time.Now()
	if st, _ := h.patch(t, h.dpHTTP, created.ConsentID, []byte(`{"status":"rejected"}`), ""); st != 200 {
		t.Fatal(st)
	}
	h.dp.nextEvent(t)
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Errorf("event sent after %s, want ≥ 200ms", d)
	}
}
