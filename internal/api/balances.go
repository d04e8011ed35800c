package api

import (
	"context"
	"net/http"

	"github.com/ofpdp/ofpdp/internal/consent"
)

// balances implements GET (and POST, design §3.1) /v1/accounts/{account_id}/balances?consent_id=
// (spec paynet-dp.md §3.1.5, permission read_balances): the Balance object of spec §5.5, sealed
// (design §3.5). It is the endpoint of PayNet's Definition of Done item 4 (spec §7.6).
func (d *dataServer) balances(w http.ResponseWriter, r *http.Request) {
	d.serve(w, r, &resource{
		endpoint: endpointBalances,
		perm:     consent.PermReadBalances,
		fetch:    d.fetchBalance,
	})
}

func (d *dataServer) fetchBalance(ctx context.Context, rr *resourceRequest) ([]byte, error) {
	if _, err := d.servableAccount(ctx, rr); err != nil {
		return nil, err
	}
	b, err := d.bank.Balance(ctx, rr.accountRef)
	if err != nil {
		return nil, bankError("balance", err)
	}
	out, err := balanceShape(rr.accountID, &b)
	if err != nil {
		return nil, bankError("balance", err)
	}
	return marshalEnvelope(out, noMeta{})
}
