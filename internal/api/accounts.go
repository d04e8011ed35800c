package api

import (
	"context"
	"net/http"

	"github.com/ofpdp/ofpdp/internal/consent"
)

// account implements GET /v1/accounts/{account_id}?consent_id= (spec paynet-dp.md §3.1.6,
// permission read_accounts): the Account object of spec §5.4, sealed (design §3.5).
func (d *dataServer) account(w http.ResponseWriter, r *http.Request) {
	d.serve(w, r, &resource{
		endpoint: endpointAccount,
		perm:     consent.PermReadAccounts,
		fetch:    d.fetchAccount,
	})
}

func (d *dataServer) fetchAccount(ctx context.Context, rr *resourceRequest) ([]byte, error) {
	a, err := d.servableAccount(ctx, rr)
	if err != nil {
		return nil, err
	}
	out, err := accountShape(rr.accountID, &a, d.institution)
	if err != nil {
		return nil, bankError("account", err)
	}
	return marshalEnvelope(out, noMeta{})
}
