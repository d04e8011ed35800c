package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ofpdp/ofpdp/connector"
	"github.com/ofpdp/ofpdp/internal/consent"
	"github.com/ofpdp/ofpdp/internal/jose"
	"github.com/ofpdp/ofpdp/internal/protoerr"
	"github.com/ofpdp/ofpdp/internal/store"
)

// wantJSON compares raw JSON with the JSON encoding of v.
func wantJSON(t *testing.T, got json.RawMessage, v any) {
	t.Helper()
	want, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("data\n got %s\nwant %s", got, want)
	}
}

// D12: GET and POST balances answer a JWS (DP key, allowed alg) around a JWE (RSA-OAEP-256 +
// A256GCM to the DC key named by x-enc-kid) whose plaintext is the connector's balance in the
// spec shape. Both DP key types.
func TestBalancesEndToEnd(t *testing.T) {
	for name, dpKey := range map[string]func(*testKeyMaterial) *jose.SigningKey{
		"PS256": func(k *testKeyMaterial) *jose.SigningKey { return k.dpRSA },
		"ES384": func(k *testKeyMaterial) *jose.SigningKey { return k.dpP384 },
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, func(c *envConfig) { c.dpKey = dpKey })
			for _, ref := range []string{refSavings, refCard} {
				for _, method := range []string{http.MethodGet, http.MethodPost} {
					id := e.accounts[ref]
					env := e.open(e.do(req{method: method, path: dataPath(id, "/balances")}))
					bal := e.bank.balances[ref]
					want, err := balanceShape(id, &bal)
					if err != nil {
						t.Fatal(err)
					}
					wantJSON(t, env["data"], want)
					if string(env["meta"]) != "{}" {
						t.Errorf("meta %s, want {}", env["meta"])
					}
				}
			}
		})
	}
}

// D13: the response cannot be opened with another DC's key.
func TestBalancesWrongDCKey(t *testing.T) {
	e := newEnv(t)
	resp := e.do(req{path: dataPath(e.accounts[refSavings], "/balances")})
	body := readBody(t, resp)
	if _, _, err := jose.OpenResponse(context.Background(), body, e.dpKeys, e.keys.otherPriv, e.clock.Now()); !errors.Is(err, jose.ErrDecrypt) {
		t.Errorf("opening with another DC's key: %v, want ErrDecrypt", err)
	}
	if _, _, err := jose.OpenResponse(context.Background(), body, e.dpKeys, e.keys.dcEncPriv, e.clock.Now()); err != nil {
		t.Errorf("opening with the DC's key: %v", err)
	}
}

// The refusals of the resource checks, in order (D4, D5, O1, C9, C10, design §4). Each runs on
// a fresh environment; checks before the connector must not call it.
func TestBalancesRefusals(t *testing.T) {
	otherConsent := "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"
	type tc struct {
		name     string
		setup    func(e *testEnv)
		req      func(e *testEnv) req
		status   int
		code     string
		bankUsed bool
	}
	balances := func(ref string) func(e *testEnv) req {
		return func(e *testEnv) req { return req{path: dataPath(e.accounts[ref], "/balances")} }
	}
	withStatus := func(st consent.Status) func(e *testEnv) {
		return func(e *testEnv) { e.store.edit(testConsentID, func(r *store.ConsentRecord) { r.Consent.Status = st }) }
	}
	bankErr := func(ref string, err error) func(e *testEnv) {
		return func(e *testEnv) { e.bank.errs[ref] = err }
	}
	cases := []tc{
		{"missing x-enc-kid", nil, func(e *testEnv) req {
			return req{path: dataPath(e.accounts[refSavings], "/balances"), header: map[string]string{HeaderEncKid: ""}}
		}, 400, protoerr.CodeInvalidRequest, false},
		{"malformed x-enc-kid", nil, func(e *testEnv) req {
			return req{path: dataPath(e.accounts[refSavings], "/balances"), header: map[string]string{HeaderEncKid: "abc"}}
		}, 400, protoerr.CodeInvalidRequest, false},
		{"unknown x-enc-kid (O1)", nil, func(e *testEnv) req {
			return req{path: dataPath(e.accounts[refSavings], "/balances"), header: map[string]string{HeaderEncKid: e.keys.otherEnc.Thumbprint}}
		}, 400, protoerr.CodeInvalidRequest, false},
		{"missing consent_id", nil, func(e *testEnv) req {
			return req{path: "/v1/accounts/" + e.accounts[refSavings] + "/balances"}
		}, 400, protoerr.CodeInvalidRequest, false},
		{"malformed consent_id", nil, func(e *testEnv) req {
			return req{path: "/v1/accounts/" + e.accounts[refSavings] + "/balances?consent_id=abc"}
		}, 400, protoerr.CodeInvalidRequest, false},
		{"consent_id twice", nil, func(e *testEnv) req {
			return req{path: dataPath(e.accounts[refSavings], "/balances", "consent_id", testConsentID)}
		}, 400, protoerr.CodeInvalidRequest, false},
		{"bad query escape", nil, func(e *testEnv) req {
			return req{path: dataPath(e.accounts[refSavings], "/balances") + "&x=%zz"}
		}, 400, protoerr.CodeInvalidRequest, false},
		{"account_id too long", nil, func(e *testEnv) req {
			return req{path: dataPath(strings.Repeat("a", 37), "/balances")}
		}, 400, protoerr.CodeInvalidRequest, false},
		{"unknown consent", nil, func(e *testEnv) req {
			return req{path: "/v1/accounts/" + e.accounts[refSavings] + "/balances?consent_id=" + otherConsent}
		}, 403, protoerr.CodeConsentInvalid, false},
		{"revoked", withStatus(consent.StatusRevoked), balances(refSavings), 403, protoerr.CodeConsentInvalid, false},
		{"suspended", withStatus(consent.StatusSuspended), balances(refSavings), 403, protoerr.CodeConsentInvalid, false},
		{"expired", withStatus(consent.StatusExpired), balances(refSavings), 403, protoerr.CodeConsentInvalid, false},
		{"awaiting authorization", withStatus(consent.StatusAwaitingAuthorization), balances(refSavings), 403, protoerr.CodeConsentInvalid, false},
		{"rejected", withStatus(consent.StatusRejected), balances(refSavings), 403, protoerr.CodeConsentInvalid, false},
		{"past expiration_datetime (C10)", func(e *testEnv) {
			e.store.edit(testConsentID, func(r *store.ConsentRecord) { r.Consent.ExpirationDatetime = e.clock.Now() })
		}, balances(refSavings), 403, protoerr.CodeConsentInvalid, false},
		{"permission not granted (D4)", func(e *testEnv) {
			e.store.edit(testConsentID, func(r *store.ConsentRecord) {
				r.Consent.Permissions = []consent.Permission{consent.PermReadAccounts, consent.PermReadTransactions}
			})
		}, balances(refSavings), 403, protoerr.CodeInvalidScope, false},
		{"other customer's account (D5)", nil, balances(refOther), 403, protoerr.CodeConsentInvalid, false},
		{"unknown account id (D5)", nil, func(e *testEnv) req {
			return req{path: dataPath("acc-doesnotexist0000000000000000", "/balances")}
		}, 403, protoerr.CodeConsentInvalid, false},
		{"delinked: not in PayNet's account list (D5)", func(e *testEnv) {
			e.store.edit(testConsentID, func(r *store.ConsentRecord) { r.Consent.Accounts = r.Consent.Accounts[1:] })
		}, balances(refSavings), 403, protoerr.CodeConsentInvalid, false},
		{"no local authorization", func(e *testEnv) {
			e.store.edit(testConsentID, func(r *store.ConsentRecord) { r.Authorization = nil })
		}, balances(refSavings), 403, protoerr.CodeConsentInvalid, false},
		{"store down", func(e *testEnv) { e.store.fail = errors.New("database is closed") },
			balances(refSavings), 500, protoerr.CodeServerError, false},
		{"dormant account", nil, balances(refDormant), 403, protoerr.CodeAccountBlocked, true},
		{"closed account", nil, balances(refClosed), 403, protoerr.CodeAccountClosed, true},
		{"joint account", nil, balances(refJoint), 403, protoerr.CodeAccountClosed, true},
		{"account moved to another customer", nil, balances(refMoved), 403, protoerr.CodeConsentInvalid, true},
		{"connector: blocked", bankErr(refSavings, connector.ErrAccountBlocked), balances(refSavings), 403, protoerr.CodeAccountBlocked, true},
		{"connector: closed", bankErr(refSavings, connector.ErrAccountClosed), balances(refSavings), 403, protoerr.CodeAccountClosed, true},
		{"connector: not found", bankErr(refSavings, connector.ErrNotFound), balances(refSavings), 403, protoerr.CodeConsentInvalid, true},
		{"connector: unavailable", bankErr(refSavings, connector.ErrUnavailable), balances(refSavings), 503, protoerr.CodeTransient, true},
		{"connector: unexpected", bankErr(refSavings, errors.New("boom")), balances(refSavings), 500, protoerr.CodeServerError, true},
		{"connector: balance unshapeable", func(e *testEnv) {
			b := e.bank.balances[refSavings]
			b.CurrentIndicator = "CR"
			e.bank.balances[refSavings] = b
		}, balances(refSavings), 500, protoerr.CodeServerError, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			if c.setup != nil {
				c.setup(e)
			}
			resp := e.do(c.req(e))
			if c.status == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") == "" {
				t.Error("503 without Retry-After")
			}
			wantError(t, resp, c.status, c.code)
			if used := e.bank.Calls() > 0; used != c.bankUsed {
				t.Errorf("connector called: %v, want %v", used, c.bankUsed)
			}
		})
	}
}

// After a revocation the next call is refused at once, without a restart (C9), and a consent
// expiring within seconds serves until then and not after (C10).
func TestBalancesConsentLifecycle(t *testing.T) {
	e := newEnv(t)
	path := dataPath(e.accounts[refSavings], "/balances")
	e.store.edit(testConsentID, func(r *store.ConsentRecord) { r.Consent.ExpirationDatetime = e.clock.Now().Add(10 * time.Second) })
	e.open(e.do(req{path: path}))
	e.clock.Advance(10 * time.Second)
	wantError(t, e.do(req{path: path}), http.StatusForbidden, protoerr.CodeConsentInvalid)

	e.putConsent(e.clock.Now())
	e.open(e.do(req{path: path}))
	e.store.edit(testConsentID, func(r *store.ConsentRecord) { r.Consent.Status = consent.StatusRevoked })
	calls := e.bank.Calls()
	wantError(t, e.do(req{path: path}), http.StatusForbidden, protoerr.CodeConsentInvalid)
	if e.bank.Calls() != calls {
		t.Error("the connector was called after revocation")
	}
}
