package sim

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestRSForwarding(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	created, _ := h.createConsent(t, CreateConsentRequest{})
	id := created.ConsentID

	calls := []struct {
		name      string
		call      func() (*DataResponse, error)
		wantPath  string
		wantQuery url.Values
	}{
		{"account", func() (*DataResponse, error) { return h.client.Account(ctx, id, "acc/1") },
			"/v1/accounts/acc/1", url.Values{"consent_id": {id}}},
		{"balances", func() (*DataResponse, error) { return h.client.Balances(ctx, id, "acc1") },
			"/v1/accounts/acc1/balances", url.Values{"consent_id": {id}}},
		{"transactions", func() (*DataResponse, error) {
			return h.client.Transactions(ctx, id, "acc1", TransactionsQuery{FromDate: "2026-01-01", ToDate: "2026-02-01", PageSize: 10, NextPageParams: "abc=="})
		}, "/v1/accounts/acc1/transactions", url.Values{
			"consent_id": {id}, "from_date": {"2026-01-01"}, "to_date": {"2026-02-01"}, "page_size": {"10"}, "next_page_params": {"abc=="},
		}},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			resp, err := c.call()
			if err != nil {
				t.Fatal(err)
			}
			got := h.dp.lastData()
			if got.VerifyErr != nil {
				t.Errorf("request signature over the empty body: %v", got.VerifyErr)
			}
			if got.EncKid != h.sim.EncKid() || got.EncKid == "" || got.Accept != "application/jose" {
				t.Errorf("x-enc-kid %q accept %q", got.EncKid, got.Accept)
			}
			if got.InteractionID == "" || got.InteractionID != resp.InteractionID {
				t.Errorf("interaction id %q vs %q", got.InteractionID, resp.InteractionID)
			}
			p, _ := url.PathUnescape(got.Path)
			q, _ := url.ParseQuery(got.Query)
			if p != c.wantPath || q.Encode() != c.wantQuery.Encode() {
				t.Errorf("forwarded %s?%s, want %s?%s", p, got.Query, c.wantPath, c.wantQuery.Encode())
			}
			if resp.HTTPStatus != 200 || !isNullJSON(resp.Error) {
				t.Fatalf("response = %+v", resp)
			}
			var plain struct {
				Data struct{ Path string } `json:"data"`
			}
			if err := json.Unmarshal(resp.Data, &plain); err != nil || plain.Data.Path != got.Path {
				t.Errorf("data = %s (%v)", resp.Data, err)
			}
			if !strings.HasPrefix(resp.Raw, "ey") || strings.Count(resp.Raw, ".") != 2 {
				t.Errorf("raw = %.40s", resp.Raw)
			}
			var claims responseClaims
			if err := json.Unmarshal(resp.ResponseClaims, &claims); err != nil || claims.Iss != testDPID {
				t.Errorf("response claims = %s", resp.ResponseClaims)
			}
		})
	}

	// The DP's error body is passed through.
	h.dp.setDataReply(func(*http.Request) (int, string, []byte) {
		return 403, "application/json", []byte(`{"error":"Consent.Invalid","error_description":"consent is revoked"}`)
	})
	resp, err := h.client.Balances(ctx, id, "acc1")
	if err != nil {
		t.Fatal(err)
	}
	var eb ErrorBody
	if resp.HTTPStatus != 403 || json.Unmarshal(resp.Error, &eb) != nil || eb.Error != "Consent.Invalid" || !isNullJSON(resp.Data) {
		t.Errorf("error passthrough = %+v", resp)
	}

	// A response that does not verify is reported, not passed on as data.
	for name, reply := range map[string]func(*http.Request) (int, string, []byte){
		"tampered": func(r *http.Request) (int, string, []byte) {
			key, _ := h.dp.dcKeys.ByThumbprint(h.sim.EncKid(), "enc")
			b, _ := h.dp.dpSigner.Seal([]byte(`{"data":{}}`), key, []string{AudiencePayNet, testDCID})
			b[len(b)-3] ^= 1
			return 200, "application/jose", b
		},
		"wrong audience": func(r *http.Request) (int, string, []byte) {
			key, _ := h.dp.dcKeys.ByThumbprint(h.sim.EncKid(), "enc")
			b, _ := h.dp.dpSigner.Seal([]byte(`{"data":{}}`), key, []string{AudiencePayNet, "OTHER-DC"})
			return 200, "application/jose", b
		},
		"plaintext JSON": func(r *http.Request) (int, string, []byte) {
			return 200, "application/json", []byte(`{"data":{}}`)
		},
		"no data member": func(r *http.Request) (int, string, []byte) {
			key, _ := h.dp.dcKeys.ByThumbprint(h.sim.EncKid(), "enc")
			b, _ := h.dp.dpSigner.Seal([]byte(`{"meta":{}}`), key, []string{AudiencePayNet, testDCID})
			return 200, "application/jose", b
		},
	} {
		h.dp.setDataReply(reply)
		resp, err := h.client.Balances(ctx, id, "acc1")
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(resp.Error, &eb); err != nil || eb.Error != codeInvalidResponse || !isNullJSON(resp.Data) || resp.Raw == "" {
			t.Errorf("%s: %+v", name, resp)
		}
	}
}

func TestUserInfoForwarding(t *testing.T) {
	h := newHarness(t, nil)
	resp, err := h.client.UserInfo(context.Background(), "c-1")
	if err != nil {
		t.Fatal(err)
	}
	got := h.dp.lastData()
	if got.Path != "/v1/oauth/userinfo" || got.Query != "consent_id=c-1" || got.VerifyErr != nil || got.Accept != "application/json" {
		t.Errorf("forwarded = %+v", got)
	}
	if resp.HTTPStatus != 200 || string(resp.Data) != `{"sub":"abc","id_type":"nric"}` {
		t.Errorf("response = %+v", resp)
	}
}

func TestRSUnreachable(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.DPAPIURL = "https://127.0.0.1:1" })
	resp, err := h.client.Balances(context.Background(), "c", "a")
	if err != nil {
		t.Fatal(err)
	}
	var eb ErrorBody
	if resp.HTTPStatus != 0 || json.Unmarshal(resp.Error, &eb) != nil || eb.Error != codeUpstream {
		t.Errorf("response = %+v", resp)
	}
}

func TestCallback(t *testing.T) {
	h := newHarness(t, nil)
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(q url.Values) *http.Response {
		t.Helper()
		resp, err := noRedirect.Get(h.sim.RedirectURI() + "?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		return resp
	}
	ctx := context.Background()

	// Approved: the DP PATCHed authorized, then sent the browser back with consent_id only.
	ok, _ := h.createConsent(t, CreateConsentRequest{DCRedirectURI: "http://dc.example/cb?app=kira"})
	if st, _ := h.patch(t, h.dpHTTP, ok.ConsentID, h.authorizedBody(t, ok.ConsentID, nil), ""); st != 200 {
		t.Fatal(st)
	}
	h.dp.nextEvent(t)
	resp := get(url.Values{"consent_id": {ok.ConsentID}})
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || loc.Host != "dc.example" || loc.Path != "/cb" ||
		loc.Query().Get("app") != "kira" || loc.Query().Get("consent_id") != ok.ConsentID ||
		loc.Query().Get("status") != "authorized" || loc.Query().Get("error") != "" {
		t.Errorf("approved: %d %s", resp.StatusCode, loc)
	}
	view, _ := h.client.Consent(ctx, ok.ConsentID)
	if view.Callback == nil || view.Callback.Outcome != OutcomeAuthorized || view.Callback.RedirectedTo != loc.String() ||
		view.Callback.Query["consent_id"] != ok.ConsentID {
		t.Errorf("callback record = %+v", view.Callback)
	}

	// Rejected: error and error_description are forwarded.
	rej, _ := h.createConsent(t, CreateConsentRequest{DCRedirectURI: "http://dc.example/cb"})
	resp = get(url.Values{"consent_id": {rej.ConsentID}, "error": {"access_denied"}, "error_description": {"The customer declined"}})
	loc, _ = url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || loc.Query().Get("error") != "access_denied" ||
		loc.Query().Get("error_description") != "The customer declined" || loc.Query().Get("status") != "" {
		t.Errorf("rejected: %d %s", resp.StatusCode, loc)
	}

	// No error, but PayNet never received an authorized PATCH: not authorized.
	odd, _ := h.createConsent(t, CreateConsentRequest{DCRedirectURI: "http://dc.example/cb"})
	resp = get(url.Values{"consent_id": {odd.ConsentID}})
	loc, _ = url.Parse(resp.Header.Get("Location"))
	if loc.Query().Get("error") != "server_error" || loc.Query().Get("status") != "" {
		t.Errorf("unauthorized success: %s", loc)
	}

	// Unknown consent or none: an error page, no redirect.
	for _, q := range []url.Values{{"consent_id": {"nope"}}, {}} {
		if resp := get(q); resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
			t.Errorf("%v: %d", q, resp.StatusCode)
		}
	}

	// No DC callback: the outcome is shown.
	plain, _ := h.createConsent(t, CreateConsentRequest{})
	resp, err := http.Get(h.sim.RedirectURI() + "?consent_id=" + plain.ConsentID + "&error=access_denied")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Errorf("no dc callback: %d", resp.StatusCode)
	}
	view, _ = h.client.Consent(ctx, plain.ConsentID)
	if view.Callback == nil || view.Callback.Outcome != OutcomeError || view.Callback.Error != "access_denied" {
		t.Errorf("callback record = %+v", view.Callback)
	}
}

func isNullJSON(raw json.RawMessage) bool { return raw == nil || string(raw) == "null" }
