package api

import (
	"net/http"
	"testing"
	"time"

	"github.com/ofpdp/ofpdp/internal/consent"
	"github.com/ofpdp/ofpdp/internal/protoerr"
	"github.com/ofpdp/ofpdp/internal/store"
)

// TestDataEffectiveConsent: data is served on the intersection of PayNet's consent and what the
// customer approved (consent.Effective), with the earlier expiry — whatever PayNet's stored
// consent says (docs/operations.md "The effective consent").
func TestDataEffectiveConsent(t *testing.T) {
	approve := func(e *testEnv, f func(a *consent.Approved)) {
		e.store.edit(testConsentID, func(r *store.ConsentRecord) { f(r.Authorization.Approved) })
	}
	paynet := func(e *testEnv, f func(c *consent.Consent)) {
		e.store.edit(testConsentID, func(r *store.ConsentRecord) { f(&r.Consent) })
	}
	for _, c := range []struct {
		name   string
		setup  func(e *testEnv)
		suffix string
		ref    string
		status int
		code   string
	}{
		{"PayNet grants a permission the customer did not approve", func(e *testEnv) {
			approve(e, func(a *consent.Approved) {
				a.Permissions = []consent.Permission{consent.PermReadAccounts, consent.PermReadBalances}
			})
		}, "/transactions", refSavings, http.StatusForbidden, protoerr.CodeInvalidScope},
		{"an approved permission PayNet still grants", func(e *testEnv) {
			approve(e, func(a *consent.Approved) {
				a.Permissions = []consent.Permission{consent.PermReadAccounts, consent.PermReadBalances}
			})
		}, "/balances", refSavings, http.StatusOK, ""},
		{"PayNet narrowed the permissions", func(e *testEnv) {
			paynet(e, func(c *consent.Consent) { c.Permissions = []consent.Permission{consent.PermReadAccounts} })
		}, "/balances", refSavings, http.StatusForbidden, protoerr.CodeInvalidScope},
		{"past the approved expiry, before PayNet's", func(e *testEnv) {
			approve(e, func(a *consent.Approved) { a.ExpirationDatetime = e.clock.Now() })
		}, "/balances", refSavings, http.StatusForbidden, protoerr.CodeConsentInvalid},
		{"past PayNet's expiry, before the approved one", func(e *testEnv) {
			paynet(e, func(c *consent.Consent) { c.ExpirationDatetime = e.clock.Now() })
		}, "/balances", refSavings, http.StatusForbidden, protoerr.CodeConsentInvalid},
		{"before both expiries", func(e *testEnv) {
			approve(e, func(a *consent.Approved) { a.ExpirationDatetime = e.clock.Now().Add(time.Second) })
		}, "/balances", refSavings, http.StatusOK, ""},
		{"PayNet lists an account the customer did not select", func(e *testEnv) {
			paynet(e, func(c *consent.Consent) {
				c.Accounts = append(c.Accounts, consent.Account{AccountID: e.accounts[refOther]})
			})
		}, "/balances", refOther, http.StatusForbidden, protoerr.CodeConsentInvalid},
		{"authorization without a recorded approval", func(e *testEnv) {
			e.store.edit(testConsentID, func(r *store.ConsentRecord) { r.Authorization.Approved = nil })
		}, "/balances", refSavings, http.StatusForbidden, protoerr.CodeConsentInvalid},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			c.setup(e)
			resp := e.do(req{path: dataPath(e.accounts[c.ref], c.suffix)})
			if c.status == http.StatusOK {
				e.open(resp)
				return
			}
			wantError(t, resp, c.status, c.code)
			if e.bank.Calls() != 0 {
				t.Error("the connector was called for a refused request")
			}
		})
	}
}
