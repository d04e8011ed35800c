package sim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/ofpdp/ofpdp/internal/obs"
	"github.com/ofpdp/ofpdp/internal/ofp/stdjose"
)

// Resource kinds forwarded by the RS side (spec §3.1.5–3.1.7).
type rsKind int

const (
	rsAccount rsKind = iota
	rsBalances
	rsTransactions
)

// Transaction query parameters forwarded verbatim (spec §5.7).
var txParams = []string{"from_date", "to_date", "page_size", "next_page_params"}

// Error codes of DataResponse.Error produced by the simulator itself.
const (
	codeUpstream        = "sim.upstream_unreachable"
	codeInvalidResponse = "sim.invalid_response"
)

// handleRS forwards a resource request to the DP (spec §2.2 step 12) and answers a DataResponse.
func (s *Sim) handleRS(kind rsKind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, accountID := r.PathValue("id"), r.PathValue("account_id")
		obs.Info(r.Context()).ConsentID = id
		q := url.Values{"consent_id": {id}}
		if kind == rsTransactions {
			in := r.URL.Query()
			for _, p := range txParams {
				if vs, ok := in[p]; ok {
					q[p] = vs
				}
			}
		}
		path := "/v1/accounts/" + url.PathEscape(accountID)
		switch kind {
		case rsBalances:
			path += "/balances"
		case rsTransactions:
			path += "/transactions"
		}
		resp := s.fetchData(r.Context(), path+"?"+q.Encode(), s.dcOf(id))
		writeData(w, resp)
	}
}

// handleUserInfo forwards GET /v1/oauth/userinfo?consent_id= (design.md §3.12; plain JSON answer).
func (s *Sim) handleUserInfo(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	obs.Info(r.Context()).ConsentID = id
	resp := s.fetchData(r.Context(), "/v1/oauth/userinfo?"+url.Values{"consent_id": {id}}.Encode(), "")
	writeData(w, resp)
}

func writeData(w http.ResponseWriter, resp DataResponse) {
	status := http.StatusOK
	if resp.HTTPStatus == 0 {
		status = http.StatusBadGateway
	}
	writeJSON(w, status, resp)
}

// fetchData makes a signed GET to the DP's api (an empty detached payload, design.md §3.2) with
// x-enc-kid naming the DC's encryption certificate, and, when sealed is true, verifies the DP's
// response JWS with dp.jwks.json and decrypts the JWE with dc-enc.key (design.md §3.5). Otherwise
// the answer is plain JSON. The response is sealed when dcID, the audience expected, is not empty.
func (s *Sim) fetchData(ctx context.Context, pathQuery string, dcID string) DataResponse {
	sealed := dcID != ""
	out := DataResponse{InteractionID: s.newID()}
	extra := http.Header{}
	extra.Set(headerEncKid, s.encKid)
	if sealed {
		extra.Set("Accept", "application/jose")
	} else {
		extra.Set("Accept", "application/json")
	}
	resp, err := s.callDP(ctx, http.MethodGet, s.opt.DPAPIURL+pathQuery, nil, out.InteractionID, extra)
	if err != nil {
		out.Error = mustJSON(ErrorBody{Error: codeUpstream, ErrorDescription: err.Error()})
		return out
	}
	out.HTTPStatus = resp.status
	out.Raw = string(resp.body)
	if resp.status < 200 || resp.status > 299 {
		if json.Valid(resp.body) {
			out.Error = json.RawMessage(resp.body)
		} else {
			out.Error = mustJSON(ErrorBody{Error: codeInvalidResponse, ErrorDescription: "the DP's error body is not JSON: " + errorSummary(resp.body)})
		}
		return out
	}
	if !sealed {
		if !json.Valid(resp.body) {
			out.Error = mustJSON(ErrorBody{Error: codeInvalidResponse, ErrorDescription: "the DP's answer is not JSON"})
			return out
		}
		out.Data = json.RawMessage(resp.body)
		return out
	}
	claims, plain, err := s.openResponse(resp, dcID)
	if err != nil {
		out.Error = mustJSON(ErrorBody{Error: codeInvalidResponse, ErrorDescription: err.Error()})
		return out
	}
	out.Data = plain
	out.ResponseClaims = mustJSON(responseClaims{
		Iss: claims.Iss, Aud: claims.Aud, Iat: claims.Iat, Nbf: claims.Nbf, Exp: claims.Exp, Jti: claims.Jti,
	})
	return out
}

// openResponse checks a sealed data response as a DC would (design.md §3.5; negative-tests D12):
// Content-Type application/jose, the JWS verified with the DP's keys, aud naming PayNet and the DC,
// and the JWE decrypted with the DC's key, whose plaintext must be a JSON object with "data".
func (s *Sim) openResponse(resp *dpResponse, dcID string) (stdjose.ResponseClaims, json.RawMessage, error) {
	mt, _, err := mime.ParseMediaType(resp.header.Get("Content-Type"))
	if err != nil || mt != "application/jose" {
		return stdjose.ResponseClaims{}, nil, fmt.Errorf("Content-Type is %q, not application/jose", resp.header.Get("Content-Type"))
	}
	o, err := stdjose.OpenResponse(resp.body, s.dpKeys, s.decKey, s.now())
	if err != nil {
		if o != nil {
			return o.Claims, nil, err
		}
		return stdjose.ResponseClaims{}, nil, err
	}
	claims, plain := o.Claims, o.Plaintext
	if claims.Iss != s.opt.DPID {
		return claims, nil, fmt.Errorf("response iss %q is not the dp_id", claims.Iss)
	}
	if !slices.Contains(claims.Aud, AudiencePayNet) || !slices.Contains(claims.Aud, dcID) {
		return claims, nil, fmt.Errorf("response aud %q does not name %q and the dc_id", claims.Aud, AudiencePayNet)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(plain, &obj); err != nil || obj == nil {
		return claims, nil, errors.New("decrypted payload is not a JSON object")
	}
	if _, ok := obj["data"]; !ok {
		return claims, nil, errors.New(`decrypted payload has no "data" member`)
	}
	return claims, json.RawMessage(plain), nil
}

// AudiencePayNet is PayNet's audience name in data responses (design.md §3.5).
const AudiencePayNet = "Paynet OFP"

// responseClaims are the verified response JWS claims shown in DataResponse (data, the JWE, left out).
type responseClaims struct {
	Iss string   `json:"iss"`
	Aud []string `json:"aud"`
	Iat int64    `json:"iat"`
	Nbf int64    `json:"nbf"`
	Exp int64    `json:"exp"`
	Jti string   `json:"jti"`
}

// dcOf is the dc_id of a held consent, or the simulator's DC for a consent it does not hold.
func (s *Sim) dcOf(id string) string {
	dc := s.opt.DCID
	s.state.update(id, func(r *record) { dc = r.consent.DCID })
	return dc
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		return json.RawMessage(strconv.Quote(err.Error()))
	}
	return b
}
