package httpbank

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/google/uuid"

	"github.com/ofpdp/ofpdp/connector"
	"github.com/ofpdp/ofpdp/internal/obs"
)

// Headers every request carries (docs/connector-openapi.yaml, components/parameters).
const (
	HeaderInteractionID = "x-fapi-interaction-id"
	HeaderTraceParent   = "traceparent"
	HeaderDeadline      = "x-ofpdp-deadline-ms"
)

// DefaultMaxResponseBytes caps one answer of the core bank: a page of 1000 transactions is well
// under it.
const DefaultMaxResponseBytes = 4 << 20

// minRetryBudget is the least time a retried GET must have left to be worth sending.
const minRetryBudget = 50 * time.Millisecond

// Options configure a Client.
type Options struct {
	// BaseURL is the adapter's root; the contract's /v1/... paths are appended to it.
	BaseURL string
	// TLS is the client TLS configuration: the bank's CA as roots and, for mutual TLS, ofpdp's
	// client certificate. Nil uses the system roots.
	TLS *tls.Config
	// BearerToken, when set, is sent as Authorization: Bearer.
	BearerToken string
	// DialTimeout bounds a TCP connect and TLS handshake (default 2s).
	DialTimeout time.Duration
	// MaxConns is the connection pool size to the adapter (default 64).
	MaxConns int
	// IdleTimeout closes a kept-alive connection unused this long (default 90s).
	IdleTimeout time.Duration
	// MaxResponseBytes caps one answer (default DefaultMaxResponseBytes).
	MaxResponseBytes int64
	// Logger receives the cause of a failed call (operation, status, the contract rule broken —
	// never a value from the answer). Nil discards.
	Logger *slog.Logger
	// WrapTransport, when set, wraps the pooled transport (tests validate every exchange with it).
	WrapTransport func(http.RoundTripper) http.RoundTripper
	// Now and Rand are the clock and the randomness of trace ids (defaults: time.Now, crypto/rand).
	Now  func() time.Time
	Rand io.Reader
}

// Client is a connector.Connector that speaks docs/connector-openapi.yaml to a bank's adapter
// over HTTPS with a pool of kept-alive connections. Safe for concurrent use.
type Client struct {
	base  *url.URL
	pool  *http.Transport
	http  *http.Client
	token string
	max   int64
	log   *slog.Logger
	now   func() time.Time
	rand  io.Reader
}

var _ connector.Connector = (*Client)(nil)

// New returns a Client for o.
func New(o Options) (*Client, error) {
	u, err := url.Parse(o.BaseURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("httpbank: base URL %q must be an absolute http(s) URL without query", o.BaseURL)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	if o.DialTimeout <= 0 {
		o.DialTimeout = 2 * time.Second
	}
	if o.MaxConns <= 0 {
		o.MaxConns = 64
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 90 * time.Second
	}
	if o.MaxResponseBytes <= 0 {
		o.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	tr := &http.Transport{
		DialContext:           (&net.Dialer{Timeout: o.DialTimeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       o.TLS,
		TLSHandshakeTimeout:   o.DialTimeout,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          o.MaxConns,
		MaxIdleConnsPerHost:   o.MaxConns,
		MaxConnsPerHost:       o.MaxConns,
		IdleConnTimeout:       o.IdleTimeout,
		ResponseHeaderTimeout: 0, // the ctx deadline of each call bounds it
	}
	var rt http.RoundTripper = tr
	if o.WrapTransport != nil {
		rt = o.WrapTransport(tr)
	}
	return &Client{base: u, pool: tr, http: &http.Client{Transport: rt, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse // an adapter does not redirect ofpdp
	}}, token: o.BearerToken, max: o.MaxResponseBytes, log: o.Logger, now: o.Now, rand: o.Rand}, nil
}

// Close releases the pooled connections.
func (c *Client) Close() { c.pool.CloseIdleConnections() }

// statusError is a non-200 answer: its status and the problem code when the body had one.
type statusError struct {
	status int
	code   string
}

func (e *statusError) Error() string {
	if e.code == "" {
		return "status " + strconv.Itoa(e.status)
	}
	return "status " + strconv.Itoa(e.status) + " " + e.code
}

// call sends one request and decodes a 200 answer strictly into out. GETs are retried once after
// a connection failure or a 502/503/504 while the deadline leaves room; nothing else is.
func (c *Client) call(ctx context.Context, op, method, path string, q url.Values, body, out any) error {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return err
		}
	}
	interaction := obs.Info(ctx).InteractionID
	if interaction == "" {
		interaction = uuid.NewString()
	}
	err := c.once(ctx, method, path, q, payload, interaction, out)
	if method == http.MethodGet && retryable(err) && c.budget(ctx) >= minRetryBudget {
		err = c.once(ctx, method, path, q, payload, interaction, out)
	}
	return c.mapError(ctx, op, err)
}

func (c *Client) budget(ctx context.Context) time.Duration {
	d, ok := ctx.Deadline()
	if !ok {
		return time.Hour
	}
	return d.Sub(c.now())
}

func retryable(err error) bool {
	var se *statusError
	if errors.As(err, &se) {
		return se.status == http.StatusBadGateway || se.status == http.StatusServiceUnavailable || se.status == http.StatusGatewayTimeout
	}
	var ne net.Error
	return errors.As(err, &ne) && !ne.Timeout() || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed)
}

func (c *Client) once(ctx context.Context, method, path string, q url.Values, payload []byte, interaction string, out any) error {
	u := *c.base
	u.Path += path
	u.RawQuery = q.Encode()
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return err
	}
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set(HeaderInteractionID, interaction)
	req.Header.Set(HeaderTraceParent, c.traceParent())
	ms := c.budget(ctx).Milliseconds()
	req.Header.Set(HeaderDeadline, strconv.FormatInt(min(max(ms, 0), 60000), 10))
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, c.max+1))
	if err != nil {
		return err
	}
	if int64(len(raw)) > c.max {
		return fmt.Errorf("%w: answer larger than %d bytes", errContract, c.max)
	}
	// 200 or 201 with a body; 204 only for an operation that expects none (verifyOTP).
	if resp.StatusCode == http.StatusNoContent && out == nil {
		return nil
	}
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated || out == nil {
		se := &statusError{status: resp.StatusCode}
		var p Problem
		if decodeStrict(raw, &p) == nil {
			se.code = p.Code
		}
		return se
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return fmt.Errorf("%w: Content-Type is not application/json", errContract)
	}
	if err := decodeStrict(raw, out); err != nil {
		return fmt.Errorf("%w: %v", errContract, err)
	}
	return nil
}

// decodeStrict decodes exactly one JSON value with no member the contract does not define, no
// duplicate member and valid UTF-8 (json v2 semantics; names match case-sensitively). v2 also
// decodes several times faster than encoding/json, which is most of the connector's overhead.
func decodeStrict(raw []byte, out any) error {
	return jsonv2.Unmarshal(raw, out, jsonv2.RejectUnknownMembers(true))
}

// traceParent is a fresh W3C Trace Context header (version 00, sampled flag clear).
func (c *Client) traceParent() string {
	var b [24]byte
	if _, err := io.ReadFull(c.rand, b[:]); err != nil {
		return "00-00000000000000000000000000000001-0000000000000001-00"
	}
	return "00-" + hex.EncodeToString(b[:16]) + "-" + hex.EncodeToString(b[16:]) + "-00"
}

// mapError turns a failed call into the sentinel errors of package connector (design §4) and
// logs the cause of anything ofpdp will answer as transient.
func (c *Client) mapError(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	var se *statusError
	if errors.As(err, &se) {
		switch {
		case se.status == http.StatusUnauthorized && se.code == CodeInvalidCredentials && op == "authenticate":
			return fmt.Errorf("connector %s: %w", op, connector.ErrInvalidCredentials)
		case se.status == http.StatusNotFound && se.code == CodeNotFound:
			return fmt.Errorf("connector %s: %w", op, connector.ErrNotFound)
		case se.status == http.StatusForbidden && (se.code == CodeAccountBlocked || se.code == CodeAccountDormant):
			return fmt.Errorf("connector %s: %w", op, connector.ErrAccountBlocked)
		case se.status == http.StatusForbidden && se.code == CodeAccountClosed:
			return fmt.Errorf("connector %s: %w", op, connector.ErrAccountClosed)
		case se.status == http.StatusUnauthorized && se.code == CodeInvalidOTP && op == "verify_otp":
			return fmt.Errorf("connector %s: %w", op, connector.ErrInvalidOTP)
		case se.status == http.StatusGone && se.code == CodeChallengeExpired:
			return fmt.Errorf("connector %s: %w", op, connector.ErrChallengeExpired)
		}
	}
	c.log.WarnContext(ctx, "core bank call failed", "op", op, "cause", err.Error())
	return fmt.Errorf("connector %s: %w: %w", op, connector.ErrUnavailable, err)
}

// Authenticate implements connector.Connector (POST /v1/customers/authenticate; never retried).
func (c *Client) Authenticate(ctx context.Context, username, password string) (connector.Customer, error) {
	var w wireCustomer
	if err := c.call(ctx, "authenticate", http.MethodPost, "/v1/customers/authenticate", nil,
		wireCredentials{Username: username, Password: password}, &w); err != nil {
		return connector.Customer{}, err
	}
	cu, err := customerFromWire(&w)
	return converted(ctx, c, "authenticate", cu, err)
}

// Customer implements connector.Connector (GET /v1/customers/{customerRef}).
func (c *Client) Customer(ctx context.Context, customerRef string) (connector.Customer, error) {
	var w wireCustomer
	if err := c.call(ctx, "customer", http.MethodGet, "/v1/customers/"+url.PathEscape(customerRef), nil, nil, &w); err != nil {
		return connector.Customer{}, err
	}
	cu, err := customerFromWire(&w)
	return converted(ctx, c, "customer", cu, err)
}

// Accounts implements connector.Connector (GET /v1/customers/{customerRef}/accounts).
func (c *Client) Accounts(ctx context.Context, customerRef string) ([]connector.Account, error) {
	var w wireAccountList
	if err := c.call(ctx, "accounts", http.MethodGet, "/v1/customers/"+url.PathEscape(customerRef)+"/accounts", nil, nil, &w); err != nil {
		return nil, err
	}
	if w.Accounts == nil {
		return converted(ctx, c, "accounts", []connector.Account(nil), contractErr("accounts", "is missing"))
	}
	out := make([]connector.Account, 0, len(*w.Accounts))
	for i := range *w.Accounts {
		a, err := accountFromWire(&(*w.Accounts)[i])
		if err != nil {
			return converted(ctx, c, "accounts", []connector.Account(nil), fmt.Errorf("accounts[%d]: %w", i, err))
		}
		out = append(out, a)
	}
	return out, nil
}

// Account implements connector.Connector (GET /v1/accounts/{accountRef}).
func (c *Client) Account(ctx context.Context, accountRef string) (connector.Account, error) {
	var w wireAccount
	if err := c.call(ctx, "account", http.MethodGet, "/v1/accounts/"+url.PathEscape(accountRef), nil, nil, &w); err != nil {
		return connector.Account{}, err
	}
	a, err := accountFromWire(&w)
	if err == nil && a.Ref != accountRef {
		err = contractErr("account_ref", "is not the account asked for")
	}
	return converted(ctx, c, "account", a, err)
}

// Balance implements connector.Connector (GET /v1/accounts/{accountRef}/balance).
func (c *Client) Balance(ctx context.Context, accountRef string) (connector.Balance, error) {
	var w wireBalance
	if err := c.call(ctx, "balance", http.MethodGet, "/v1/accounts/"+url.PathEscape(accountRef)+"/balance", nil, nil, &w); err != nil {
		return connector.Balance{}, err
	}
	b, err := balanceFromWire(&w)
	return converted(ctx, c, "balance", b, err)
}

// Transactions implements connector.Connector (GET /v1/accounts/{accountRef}/transactions). A
// page that breaks the order, strays outside the window, is longer than the limit, or says more
// without a next_cursor (or a next_cursor without more) is out of contract: ofpdp serves no
// partial answer.
func (c *Client) Transactions(ctx context.Context, q connector.TransactionQuery) (connector.TransactionPage, error) {
	v := url.Values{}
	v.Set("from", q.From.In(myt).Format(time.RFC3339Nano))
	v.Set("to", q.To.In(myt).Format(time.RFC3339Nano))
	v.Set("limit", strconv.Itoa(q.Limit))
	if q.Cursor != "" {
		v.Set("cursor", q.Cursor)
	}
	var w wireTransactionPage
	if err := c.call(ctx, "transactions", http.MethodGet, "/v1/accounts/"+url.PathEscape(q.AccountRef)+"/transactions", v, nil, &w); err != nil {
		return connector.TransactionPage{}, err
	}
	page, err := pageFromWire(&w, q)
	return converted(ctx, c, "transactions", page, err)
}

func pageFromWire(w *wireTransactionPage, q connector.TransactionQuery) (connector.TransactionPage, error) {
	if w.Transactions == nil || w.More == nil {
		return connector.TransactionPage{}, contractErr("transactions and more", "are required")
	}
	if len(*w.Transactions) > q.Limit {
		return connector.TransactionPage{}, contractErr("transactions", "has more items than limit")
	}
	if *w.More != (w.NextCursor != "") {
		return connector.TransactionPage{}, contractErr("next_cursor", "must be given exactly when more is true")
	}
	if w.NextCursor != "" && !cursorRE.MatchString(w.NextCursor) {
		return connector.TransactionPage{}, contractErr("next_cursor", "is not 1..512 printable ASCII characters")
	}
	page := connector.TransactionPage{Transactions: make([]connector.Transaction, 0, len(*w.Transactions)),
		More: *w.More, NextCursor: w.NextCursor}
	var prevDate time.Time
	var prevID string
	for i := range *w.Transactions {
		t, err := transactionFromWire(i, &(*w.Transactions)[i])
		if err != nil {
			return connector.TransactionPage{}, err
		}
		if t.Date.Before(q.From) || t.Date.After(q.To) {
			return connector.TransactionPage{}, contractErr(fmt.Sprintf("transactions[%d].date", i), "is outside from..to")
		}
		if !prevDate.IsZero() && (t.Date.After(prevDate) || t.Date.Equal(prevDate) && t.ID >= prevID) {
			return connector.TransactionPage{}, contractErr(fmt.Sprintf("transactions[%d]", i), "is not strictly after the previous item (date, then id, descending)")
		}
		prevDate, prevID = t.Date, t.ID
		page.Transactions = append(page.Transactions, t)
	}
	return page, nil
}

// converted logs and maps an out-of-contract answer to ErrUnavailable.
func converted[T any](ctx context.Context, c *Client, op string, v T, err error) (T, error) {
	if err == nil {
		return v, nil
	}
	var zero T
	return zero, c.mapError(ctx, op, err)
}

// Ready reports whether the adapter answers GET /v1/health with {"status":"ok"} (ofpdp's /readyz).
func (c *Client) Ready(ctx context.Context) error {
	var w wireHealth
	if err := c.call(ctx, "health", http.MethodGet, "/v1/health", nil, nil, &w); err != nil {
		return err
	}
	if w.Status != "ok" {
		return c.mapError(ctx, "health", contractErr("status", `is not "ok"`))
	}
	return nil
}

var _ connector.SecondFactor = (*Client)(nil)

// StartChallenge implements connector.SecondFactor (POST /v1/customers/authenticate/challenge;
// never retried).
func (c *Client) StartChallenge(ctx context.Context, r connector.ChallengeRequest) (connector.Challenge, error) {
	var w wireChallenge
	if err := c.call(ctx, "start_challenge", http.MethodPost, "/v1/customers/authenticate/challenge", nil,
		wireChallengeRequest{CustomerRef: r.CustomerRef, Method: string(r.Method), ConsentID: r.ConsentID, DCName: r.DCName}, &w); err != nil {
		return connector.Challenge{}, err
	}
	ch := connector.Challenge{ID: w.ChallengeID, Method: connector.Method(w.Method), ExpiresAt: w.ExpiresAt, Destination: w.Destination}
	var err error
	if !refRE.MatchString(ch.ID) || ch.Method != r.Method || ch.ExpiresAt.IsZero() {
		err = fmt.Errorf("%w: challenge_id, method or expires_at out of contract", errContract)
	}
	return converted(ctx, c, "start_challenge", ch, err)
}

// VerifyOTP implements connector.SecondFactor (POST /v1/customers/authenticate/verify; never
// retried). The code is sent in the body only, and no error or log line carries it.
func (c *Client) VerifyOTP(ctx context.Context, challengeID, otp string) error {
	return c.call(ctx, "verify_otp", http.MethodPost, "/v1/customers/authenticate/verify", nil,
		wireOTPCheck{ChallengeID: challengeID, OTP: otp}, nil)
}

// ChallengeStatus implements connector.SecondFactor (GET /v1/customers/authenticate/challenge/{id}).
func (c *Client) ChallengeStatus(ctx context.Context, challengeID string) (connector.ChallengeStatus, error) {
	var w wireChallengeState
	if err := c.call(ctx, "challenge_status", http.MethodGet, "/v1/customers/authenticate/challenge/"+url.PathEscape(challengeID), nil, nil, &w); err != nil {
		return "", err
	}
	st := connector.ChallengeStatus(w.Status)
	var err error
	switch st {
	case connector.ChallengePending, connector.ChallengeApproved, connector.ChallengeRefused, connector.ChallengeExpired:
	default:
		err = fmt.Errorf("%w: status %q", errContract, w.Status)
	}
	return converted(ctx, c, "challenge_status", st, err)
}
