package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/ofpdp/ofpdp/internal/consent"
	"github.com/ofpdp/ofpdp/internal/protoerr"
	"github.com/ofpdp/ofpdp/internal/store"
)

// GET /v1/accounts/{account_id}: the connector's account in the spec §5.4 shape, sealed; a
// credit card number masked; the DP account id, never the bank reference.
func TestAccountEndToEnd(t *testing.T) {
	e := newEnv(t)
	for _, ref := range []string{refSavings, refCard} {
		id := e.accounts[ref]
		env := e.open(e.do(req{path: dataPath(id, "")}))
		a := e.bank.accounts[ref]
		want, err := accountShape(id, &a, testInst)
		if err != nil {
			t.Fatal(err)
		}
		wantJSON(t, env["data"], want)
		if strings.Contains(string(env["data"]), ref) {
			t.Error("the bank reference leaked into the account")
		}
	}
	env := e.open(e.do(req{path: dataPath(e.accounts[refCard], "")}))
	if !strings.Contains(string(env["data"]), `"account_number":"512345******7890"`) {
		t.Errorf("card number not masked: %s", env["data"])
	}
}

// D4: the account endpoint needs read_accounts.
func TestAccountPermission(t *testing.T) {
	e := newEnv(t)
	e.store.edit(testConsentID, func(r *store.ConsentRecord) {
		r.Consent.Permissions = []consent.Permission{consent.PermReadBalances}
	})
	wantError(t, e.do(req{path: dataPath(e.accounts[refSavings], "")}), http.StatusForbidden, protoerr.CodeInvalidScope)
	e.open(e.do(req{path: dataPath(e.accounts[refSavings], "/balances")}))
	wantError(t, e.do(req{path: dataPath(e.accounts[refSavings], "/transactions")}), http.StatusForbidden, protoerr.CodeInvalidScope)
}
