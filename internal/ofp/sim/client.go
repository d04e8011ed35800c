package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Client is the Go client of the simulator's JSON API (docs/sandbox.md), used by the mock DC, the
// conformance runner and tests. BaseURL is the public listener's base URL; HTTPClient defaults to
// http.DefaultClient.
type Client struct {
	BaseURL    string
	HTTPClient *http.Client
}

// APIError is a refusal of the JSON API: its HTTP status and error body. Calls whose answer also
// carries a result (CreateConsent answering 502, the RS calls answering 502) return both.
type APIError struct {
	Status          int
	Code            string
	Description     string
	Body            []byte
	ResultAvailable bool
}

func (e *APIError) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("sim: HTTP %d", e.Status)
	}
	return fmt.Sprintf("sim: HTTP %d: %s: %s", e.Status, e.Code, e.Description)
}

// maxClientBody bounds what the client reads of an answer.
const maxClientBody = 32 << 20

// do sends one request and decodes a 2xx answer into out. Statuses listed in alsoDecode are
// decoded too, and returned with an *APIError.
func (c *Client) do(ctx context.Context, method, path string, in, out any, alsoDecode ...int) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("sim: encoding the request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.BaseURL, "/")+path, body)
	if err != nil {
		return fmt.Errorf("sim: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := c.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("sim: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxClientBody))
	if err != nil {
		return fmt.Errorf("sim: reading the answer: %w", err)
	}
	ok := resp.StatusCode >= 200 && resp.StatusCode <= 299
	decode := ok
	for _, s := range alsoDecode {
		decode = decode || resp.StatusCode == s
	}
	if decode && out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("sim: decoding the answer (HTTP %d): %w", resp.StatusCode, err)
		}
	}
	if ok {
		return nil
	}
	ae := &APIError{Status: resp.StatusCode, Body: b, ResultAvailable: decode && out != nil}
	var eb ErrorBody
	if json.Unmarshal(b, &eb) == nil {
		ae.Code, ae.Description = eb.Error, eb.ErrorDescription
	}
	return ae
}

// Info returns how the simulator is set up (GET /sim/info).
func (c *Client) Info(ctx context.Context) (*Info, error) {
	var out Info
	if err := c.do(ctx, http.MethodGet, "/sim/info", nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// CreateConsent creates a consent and sends consent_created to the DP (POST /sim/consents). When
// the DP did not acknowledge the event it returns the response together with an *APIError (502).
func (c *Client) CreateConsent(ctx context.Context, req CreateConsentRequest) (*CreateConsentResponse, error) {
	var out CreateConsentResponse
	err := c.do(ctx, http.MethodPost, "/sim/consents", req, &out, http.StatusBadGateway)
	if err != nil && out.ConsentID == "" {
		return nil, err
	}
	return &out, err
}

// Consent returns a consent as PayNet holds it with its history (GET /sim/consents/{id}).
func (c *Client) Consent(ctx context.Context, consentID string) (*ConsentView, error) {
	var out ConsentView
	if err := c.do(ctx, http.MethodGet, "/sim/consents/"+url.PathEscape(consentID), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// SetStatus applies a lifecycle action and sends the event (POST /sim/consents/{id}/status).
func (c *Client) SetStatus(ctx context.Context, consentID string, req StatusRequest) (*StatusResponse, error) {
	var out StatusResponse
	if err := c.do(ctx, http.MethodPost, "/sim/consents/"+url.PathEscape(consentID)+"/status", req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func (c *Client) data(ctx context.Context, path string) (*DataResponse, error) {
	var out DataResponse
	err := c.do(ctx, http.MethodGet, path, nil, &out, http.StatusBadGateway)
	if err != nil {
		if ae, ok := err.(*APIError); ok && ae.ResultAvailable {
			return &out, nil
		}
		return nil, err
	}
	return &out, nil
}

func accountPath(consentID, accountID string) string {
	return "/sim/consents/" + url.PathEscape(consentID) + "/accounts/" + url.PathEscape(accountID)
}

// Account fetches an account through the DP (GET /sim/consents/{id}/accounts/{account_id}).
// A DP that could not be reached gives HTTPStatus 0 and a sim.upstream_unreachable Error.
func (c *Client) Account(ctx context.Context, consentID, accountID string) (*DataResponse, error) {
	return c.data(ctx, accountPath(consentID, accountID))
}

// Balances fetches an account's balances through the DP (…/balances).
func (c *Client) Balances(ctx context.Context, consentID, accountID string) (*DataResponse, error) {
	return c.data(ctx, accountPath(consentID, accountID)+"/balances")
}

// Transactions fetches a page of an account's transactions through the DP (…/transactions).
func (c *Client) Transactions(ctx context.Context, consentID, accountID string, q TransactionsQuery) (*DataResponse, error) {
	v := url.Values{}
	if q.FromDate != "" {
		v.Set("from_date", q.FromDate)
	}
	if q.ToDate != "" {
		v.Set("to_date", q.ToDate)
	}
	if q.PageSize != 0 {
		v.Set("page_size", strconv.Itoa(q.PageSize))
	}
	if q.NextPageParams != "" {
		v.Set("next_page_params", q.NextPageParams)
	}
	p := accountPath(consentID, accountID) + "/transactions"
	if len(v) > 0 {
		p += "?" + v.Encode()
	}
	return c.data(ctx, p)
}

// UserInfo fetches the customer's claims through the DP (GET /sim/userinfo/{id}).
func (c *Client) UserInfo(ctx context.Context, consentID string) (*DataResponse, error) {
	return c.data(ctx, "/sim/userinfo/"+url.PathEscape(consentID))
}

// Updates returns the most recent PATCH requests received, whatever their consent (GET /sim/updates).
func (c *Client) Updates(ctx context.Context) ([]UpdateRecord, error) {
	var out []UpdateRecord
	if err := c.do(ctx, http.MethodGet, "/sim/updates", nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// SetFault injects a fault into the next f.Count PATCH requests (POST /sim/faults); Count 0 clears it.
func (c *Client) SetFault(ctx context.Context, f Fault) error {
	return c.do(ctx, http.MethodPost, "/sim/faults", f, nil)
}

// Fault returns the pending fault (GET /sim/faults).
func (c *Client) Fault(ctx context.Context) (*Fault, error) {
	var out Fault
	if err := c.do(ctx, http.MethodGet, "/sim/faults", nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
