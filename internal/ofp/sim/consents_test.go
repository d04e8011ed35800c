package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ofpdp/ofpdp/internal/consent"
	"github.com/ofpdp/ofpdp/internal/jose"
	"github.com/ofpdp/ofpdp/internal/ofp/wire"
)

func TestExpirationFor(t *testing.T) {
	tests := []struct {
		now  string
		days int
		want string
	}{
		{"2026-05-20T03:00:00Z", 1, "2026-05-21T23:59:59+08:00"},
		// 17:00 UTC is already the next day in Malaysia.
		{"2026-05-20T17:00:00Z", 1, "2026-05-22T23:59:59+08:00"},
		{"2026-12-31T10:00:00Z", 180, "2027-06-29T23:59:59+08:00"},
	}
	for _, tt := range tests {
		now, err := time.Parse(time.RFC3339, tt.now)
		if err != nil {
			t.Fatal(err)
		}
		if got := ExpirationFor(now, tt.days).Format(time.RFC3339); got != tt.want {
			t.Errorf("ExpirationFor(%s, %d) = %s, want %s", tt.now, tt.days, got, tt.want)
		}
	}
}

func TestCreateConsentSendsSignedEvent(t *testing.T) {
	h := newHarness(t, nil)
	resp, ev := h.createConsent(t, CreateConsentRequest{
		Purpose: wire.PurposeCreditUnderwriting, Permissions: []wire.Permission{wire.PermReadBalances},
		ValidityDays: 30, IDType: wire.IDTypeNRIC, IDNumber: testIDNumber,
		DCRedirectURI: "http://127.0.0.1:9/cb?x=1",
	})
	if !resp.Event.Accepted() || resp.Event.EventType != wire.EventCreated {
		t.Fatalf("event record = %+v", resp.Event)
	}
	if ev.ClientSum != certSum(t, h.dir, "paynet-mtls") {
		t.Error("the event was not sent with paynet-mtls.crt")
	}
	if ev.VerifyErr != nil {
		t.Fatalf("event signature does not verify with PayNet's keys: %v", ev.VerifyErr)
	}
	if ev.Header.Iss != DefaultPayNetIssuer || ev.Header.Jti == "" {
		t.Errorf("signature header = %+v", ev.Header)
	}
	if ev.ParseErr != nil {
		t.Fatalf("the DP's parser refuses the event: %v", ev.ParseErr)
	}
	c := ev.Event.Consent
	if ev.Event.Type != consent.EventCreated || c.ConsentID != resp.ConsentID || c.Status != consent.StatusAwaitingAuthorization ||
		c.DCID != testDCID || c.DPID != testDPID || c.Purpose != consent.PurposeCreditUnderwriting ||
		c.IDType != consent.IDTypeNRIC || c.HashedIDNumber != wire.HashIDNumber(testIDNumber) ||
		c.ConsentType != wire.ConsentTypeAccountAccess || len(c.Permissions) != 1 {
		t.Errorf("event consent = %+v", c)
	}
	if !strings.HasSuffix(ev.Wire.Data.ExpirationDatetime, "T23:59:59+08:00") {
		t.Errorf("expiration_datetime = %s", ev.Wire.Data.ExpirationDatetime)
	}
	if !strings.HasSuffix(ev.Wire.Data.CreatedAt, "Z") || ev.Wire.Data.CreatedAt != ev.Wire.Data.UpdatedAt {
		t.Errorf("created_at/updated_at = %s/%s", ev.Wire.Data.CreatedAt, ev.Wire.Data.UpdatedAt)
	}

	// The authorize URL: DP web base, our callback, and PayNet's attached signature over consent_id.
	u, err := url.Parse(resp.AuthorizeURL)
	if err != nil {
		t.Fatal(err)
	}
	if u.Scheme+"://"+u.Host+u.Path != "https://localhost:8444/v1/oauth/authorize" {
		t.Errorf("authorize URL = %s", resp.AuthorizeURL)
	}
	q := u.Query()
	if q.Get("consent_id") != resp.ConsentID || q.Get("redirect_uri") != h.sim.RedirectURI() {
		t.Errorf("authorize query = %v", q)
	}
	v := &jose.Verifier{Keys: jose.StaticKeys{Set: mustKeySet(t, h.dir, "paynet.jwks.json")}}
	hdr, payload, err := v.VerifyAttached(context.Background(), q.Get("signature"))
	if err != nil {
		t.Fatalf("authorize signature: %v", err)
	}
	if string(payload) != resp.ConsentID || hdr.Iss != "" || hdr.Jti != "" {
		t.Errorf("authorize signature payload %q header %+v", payload, hdr)
	}

	view, err := h.client.Consent(context.Background(), resp.ConsentID)
	if err != nil {
		t.Fatal(err)
	}
	if view.Status != wire.StatusAwaitingAuthorization || len(view.EventsSent) != 1 || view.EventsSent[0].HTTPStatus != 200 ||
		view.AuthorizeURL != resp.AuthorizeURL || view.DCRedirectURI != "http://127.0.0.1:9/cb?x=1" || view.Callback != nil {
		t.Errorf("view = %+v", view)
	}
	if bytes.Contains(mustMarshal(t, view), []byte(testIDNumber)) {
		t.Error("the consent view contains the raw ID number")
	}
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCreateConsentValidation(t *testing.T) {
	h := newHarness(t, nil)
	all := []wire.Permission{wire.PermReadAccounts}
	tests := []struct {
		name string
		body string
	}{
		{"bad purpose", `{"purpose":"marketing","permissions":["read_accounts"]}`},
		{"unspecified purpose", `{"purpose":"consent_purpose_unspecified","permissions":["read_accounts"]}`},
		{"no permissions", `{"purpose":"pfm","permissions":[]}`},
		{"bad permission", `{"purpose":"pfm","permissions":["read_everything"]}`},
		{"duplicate permission", `{"purpose":"pfm","permissions":["read_accounts","read_accounts"]}`},
		{"negative validity", `{"purpose":"pfm","permissions":["read_accounts"],"validity_days":-1}`},
		{"validity too long", `{"purpose":"pfm","permissions":["read_accounts"],"validity_days":99999}`},
		{"id_type without number", `{"purpose":"pfm","permissions":["read_accounts"],"id_type":"nric"}`},
		{"number without id_type", `{"purpose":"pfm","permissions":["read_accounts"],"id_number":"1"}`},
		{"bad id_type", `{"purpose":"pfm","permissions":["read_accounts"],"id_type":"license","id_number":"1"}`},
		{"relative redirect", `{"purpose":"pfm","permissions":["read_accounts"],"dc_redirect_uri":"/cb"}`},
		{"dc_id too long", `{"purpose":"pfm","permissions":["read_accounts"],"dc_id":"` + strings.Repeat("x", 37) + `"}`},
		{"unknown member", `{"purpose":"pfm","permissions":["read_accounts"],"extra":1}`},
		{"not JSON", `{"purpose":`},
		{"trailing data", `{"purpose":"pfm","permissions":["read_accounts"]} {}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.Post(h.client.BaseURL+"/sim/consents", "application/json", strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = resp.Body.Close() }()
			var eb ErrorBody
			_ = json.NewDecoder(resp.Body).Decode(&eb)
			if resp.StatusCode != http.StatusBadRequest || eb.Error != "invalid_request" {
				t.Errorf("status %d body %+v, want 400 invalid_request", resp.StatusCode, eb)
			}
		})
	}
	if h.sim.state.len() != 0 {
		t.Errorf("refused requests created %d consents", h.sim.state.len())
	}
	// The Go client reports the same refusal.
	_, err := h.client.CreateConsent(context.Background(), CreateConsentRequest{Purpose: "x", Permissions: all})
	if !isAPIError(err, http.StatusBadRequest) {
		t.Errorf("client error = %v", err)
	}
}

func TestCreateConsentDPRefusesEvent(t *testing.T) {
	h := newHarness(t, nil)
	h.dp.setEventReply(func(receivedEvent) (int, string) {
		return http.StatusForbidden, `{"error":"Consent.Invalid","error_description":"no"}`
	})
	resp, err := h.client.CreateConsent(context.Background(), CreateConsentRequest{
		Purpose: wire.PurposePFM, Permissions: []wire.Permission{wire.PermReadAccounts},
	})
	if !isAPIError(err, http.StatusBadGateway) {
		t.Fatalf("error = %v, want 502", err)
	}
	if resp == nil || resp.ConsentID == "" || resp.Event.HTTPStatus != http.StatusForbidden ||
		resp.Event.Error != "Consent.Invalid: no" {
		t.Fatalf("response = %+v", resp)
	}
	h.dp.nextEvent(t)
}

func TestCreateConsentDPUnreachable(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.DPAPIURL = "https://127.0.0.1:1" })
	resp, err := h.client.CreateConsent(context.Background(), CreateConsentRequest{
		Purpose: wire.PurposePFM, Permissions: []wire.Permission{wire.PermReadAccounts},
	})
	if !isAPIError(err, http.StatusBadGateway) || resp == nil || resp.Event.HTTPStatus != 0 || resp.Event.Error == "" {
		t.Fatalf("resp %+v err %v", resp, err)
	}
}

func TestStatusActions(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	created, _ := h.createConsent(t, CreateConsentRequest{})
	id := created.ConsentID

	// Illegal from awaiting_authorization (spec §5.2): refused, nothing sent.
	if _, err := h.client.SetStatus(ctx, id, StatusRequest{Action: ActionRevoke}); !isAPIError(err, http.StatusConflict) {
		t.Fatalf("revoke awaiting: %v", err)
	}
	if _, err := h.client.SetStatus(ctx, id, StatusRequest{Action: "delete"}); !isAPIError(err, http.StatusBadRequest) {
		t.Fatalf("unknown action: %v", err)
	}
	if _, err := h.client.SetStatus(ctx, "nope", StatusRequest{Action: ActionRevoke}); !isAPIError(err, http.StatusNotFound) {
		t.Fatalf("unknown consent: %v", err)
	}

	// Authorize through a PATCH, then walk the lifecycle.
	if st, eb := h.patch(t, h.dpHTTP, id, h.authorizedBody(t, id, nil), ""); st != http.StatusOK {
		t.Fatalf("PATCH: %d %+v", st, eb)
	}
	h.dp.nextEvent(t) // consent_status_updated authorized

	steps := []struct {
		req        StatusRequest
		want       wire.Status
		wantReason string
		wantBy     string
	}{
		{StatusRequest{Action: ActionSuspend}, wire.StatusSuspended, "not_allowed", "ofp"},
		{StatusRequest{Action: ActionReinstate}, wire.StatusAuthorized, "", "ofp"},
		{StatusRequest{Action: ActionRevoke, ReasonCode: "duplicate", UpdatedBy: "ofp"}, wire.StatusRevoked, "duplicate", "ofp"},
	}
	lastUpdated := ""
	for _, st := range steps {
		resp, err := h.client.SetStatus(ctx, id, st.req)
		if err != nil {
			t.Fatalf("%s: %v", st.req.Action, err)
		}
		if resp.Status != st.want || resp.HTTPStatus != http.StatusOK || resp.Error != "" {
			t.Fatalf("%s: %+v", st.req.Action, resp)
		}
		ev := h.dp.nextEvent(t)
		if ev.VerifyErr != nil || ev.ParseErr != nil {
			t.Fatalf("%s event: verify %v parse %v", st.req.Action, ev.VerifyErr, ev.ParseErr)
		}
		c := ev.Event.Consent
		if ev.Event.Type != consent.EventStatusUpdated || string(c.Status) != string(st.want) || c.UpdatedBy != st.wantBy {
			t.Errorf("%s event = %s %+v", st.req.Action, ev.Event.Type, c)
		}
		gotReason := ""
		if c.StatusReason != nil {
			gotReason = c.StatusReason.ReasonCode
		}
		if gotReason != st.wantReason {
			t.Errorf("%s status_reason = %q, want %q", st.req.Action, gotReason, st.wantReason)
		}
		if len(c.Accounts) != 1 || c.Accounts[0].AccountID != "a1b2c3d4e5f6" {
			t.Errorf("%s event accounts = %+v", st.req.Action, c.Accounts)
		}
		if ev.Wire.Data.UpdatedAt <= lastUpdated {
			t.Errorf("updated_at %s not after %s", ev.Wire.Data.UpdatedAt, lastUpdated)
		}
		lastUpdated = ev.Wire.Data.UpdatedAt
	}
	// Terminal: a further action is refused unless forced (negative-tests C3 against the DP).
	if _, err := h.client.SetStatus(ctx, id, StatusRequest{Action: ActionReinstate}); !isAPIError(err, http.StatusConflict) {
		t.Fatalf("reinstate revoked: %v", err)
	}
	h.dp.setEventReply(func(receivedEvent) (int, string) {
		return http.StatusForbidden, `{"error":"Consent.Invalid","error_description":"illegal consent status transition"}`
	})
	resp, err := h.client.SetStatus(ctx, id, StatusRequest{Action: ActionReinstate, Force: true})
	if err != nil || resp.HTTPStatus != http.StatusForbidden || !strings.HasPrefix(resp.Error, "Consent.Invalid") {
		t.Fatalf("forced reinstate: %+v %v", resp, err)
	}
	h.dp.nextEvent(t)
	waitFor(t, "six events recorded", func() bool {
		view, err := h.client.Consent(ctx, id)
		return err == nil && len(view.EventsSent) == 6
	})
	// Bad reason codes and updated_by values are refused before anything is sent.
	for _, req := range []StatusRequest{
		{Action: ActionRevoke, ReasonCode: "because"},
		{Action: ActionRevoke, UpdatedBy: "someone"},
		{Action: ActionRevoke, ReasonDescription: "x"},
		{Action: ActionReinstate, ReasonCode: "duplicate", Force: true},
	} {
		if _, err := h.client.SetStatus(ctx, id, req); !isAPIError(err, http.StatusBadRequest) {
			t.Errorf("%+v: %v", req, err)
		}
	}
}

func TestStateIsBounded(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.MaxConsents = 3 })
	var ids []string
	for range 5 {
		resp, _ := h.createConsent(t, CreateConsentRequest{})
		ids = append(ids, resp.ConsentID)
	}
	ctx := context.Background()
	for i, id := range ids {
		_, err := h.client.Consent(ctx, id)
		if i < 2 && !isAPIError(err, http.StatusNotFound) {
			t.Errorf("consent %d still held: %v", i, err)
		}
		if i >= 2 && err != nil {
			t.Errorf("consent %d dropped: %v", i, err)
		}
	}
	info, err := h.client.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.ConsentsHeld != 3 || info.ConsentsLimit != 3 || info.RedirectURI != h.sim.RedirectURI() || info.EncKid != h.sim.EncKid() {
		t.Errorf("info = %+v", info)
	}
}

func TestJWKSRoutes(t *testing.T) {
	h := newHarness(t, nil)
	get := func(client *http.Client, path string) (int, []byte) {
		resp, err := client.Get(h.mtlsURL + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer func() { _ = resp.Body.Close() }()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	for path, file := range map[string]string{"/v1/jwks/paynet": "paynet.jwks.json", "/v1/jwks/" + testDCID: "dc.jwks.json"} {
		st, b := get(h.dpHTTP, path)
		want := mustKeySet(t, h.dir, file)
		got, err := jose.ParseJWKS(b)
		if st != http.StatusOK || err != nil || len(got.Keys) != len(want.Keys) || got.Keys[0].Kid != want.Keys[0].Kid {
			t.Errorf("%s: %d %v", path, st, err)
		}
	}
	if st, _ := get(h.dpHTTP, "/v1/jwks/DC-UNKNOWN"); st != http.StatusNotFound {
		t.Errorf("unknown dc: %d", st)
	}
	if st, _ := get(mtlsClient(t, h.dir, "", ""), "/v1/jwks/paynet"); st != http.StatusForbidden {
		t.Errorf("no client cert: %d", st)
	}
	if st, _ := get(mtlsClient(t, h.dir, h.dir, "paynet-mtls"), "/v1/jwks/paynet"); st != http.StatusForbidden {
		t.Errorf("wrong client cert: %d", st)
	}
}

func TestServeRejectsSecondCall(t *testing.T) {
	h := newHarness(t, nil)
	if _, err := h.client.Info(context.Background()); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	if err := h.sim.Serve(context.Background(), ln, ln); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("second Serve: %v", err)
	}
	if err := h.sim.Serve(context.Background(), nil, nil); err == nil {
		t.Error("Serve with nil listeners succeeded")
	}
}

func TestNewValidatesOptions(t *testing.T) {
	dir := testPKI(t)
	good := Options{PKIDir: dir, DPID: testDPID, DCID: testDCID, DPAPIURL: "https://localhost:8443",
		DPWebURL: "https://localhost:8444", PublicURL: "http://127.0.0.1:8446"}
	if _, err := New(good); err != nil {
		t.Fatalf("good options: %v", err)
	}
	for name, mod := range map[string]func(*Options){
		"no dp_id":        func(o *Options) { o.DPID = "" },
		"relative url":    func(o *Options) { o.DPAPIURL = "localhost:8443" },
		"url with query":  func(o *Options) { o.PublicURL = "http://x/?a=b" },
		"missing pki dir": func(o *Options) { o.PKIDir = t.TempDir() },
	} {
		o := good
		mod(&o)
		if _, err := New(o); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
}
