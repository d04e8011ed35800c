package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"

	"github.com/ofpdp/ofpdp/connector"
	"github.com/ofpdp/ofpdp/internal/consent"
	"github.com/ofpdp/ofpdp/internal/obs"
	"github.com/ofpdp/ofpdp/internal/protoerr"
)

// userinfo implements GET /v1/oauth/userinfo?consent_id= (spec paynet-dp.md §3.1.3; design
// §3.12): plain JSON claims about the customer who authorized the consent, as far as the bank
// knows them. sub equals the id_token's (SubjectID).
func (d *dataServer) userinfo(w http.ResponseWriter, r *http.Request) {
	out, err := d.userinfoClaims(r)
	if err != nil {
		d.refuse(w, r, endpointUserinfo, err)
		return
	}
	b, err := json.Marshal(out)
	if err != nil {
		d.refuse(w, r, endpointUserinfo, protoerr.Internal(err))
		return
	}
	d.outcome(endpointUserinfo, "ok")
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

func (d *dataServer) userinfoClaims(r *http.Request) (*userinfoJSON, error) {
	if !acceptable(r.Header.Values("Accept"), "application", "json") {
		return nil, protoerr.NotAcceptable("this endpoint answers application/json only")
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, protoerr.InvalidRequest("the query string is malformed", err)
	}
	consentID, err := consentIDParam(q)
	if err != nil {
		return nil, err
	}
	ctx := r.Context()
	obs.Info(ctx).ConsentID = consentID
	rec, err := d.authorizedConsent(ctx, consentID, d.h.now())
	if err != nil {
		return nil, err
	}
	auth := rec.Authorization
	if auth == nil || auth.CustomerRef == "" {
		return nil, protoerr.ConsentInvalid("the consent has no authorizing customer", nil)
	}
	cust, err := callBank(ctx, d.bankTimeout, func(ctx context.Context) (connector.Customer, error) {
		c, err := d.bank.Customer(ctx, auth.CustomerRef)
		if err != nil {
			return c, bankError("customer", err)
		}
		return c, nil
	})
	if err != nil {
		return nil, err
	}
	out := &userinfoJSON{Sub: consent.SubjectID(d.subjectKey, auth.CustomerRef), Name: cust.Name, Email: cust.Email}
	if hashed, _ := cust.Identity(); hashed != "" {
		out.IDType = cust.IDType
		out.HashedIDNumber = hashed
	}
	if h := rec.Consent.HashedIDNumber; h != "" && h != out.HashedIDNumber {
		return nil, protoerr.ConsentInvalid("the customer does not match the consent",
			errors.New("userinfo: customer's hashed_id_number differs from the consent's"))
	}
	if t := rec.Consent.IDType; t != "" && out.IDType != "" && string(t) != out.IDType {
		return nil, protoerr.ConsentInvalid("the customer does not match the consent",
			errors.New("userinfo: customer's id_type differs from the consent's"))
	}
	return out, nil
}
