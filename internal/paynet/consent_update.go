package paynet

import (
	"bytes"
	"context"
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
	"unicode"

	"github.com/google/uuid"

	"github.com/ofpdp/ofpdp/internal/jose"
)

// Statuses a DP may send in a consent update (design.md §3.9: lowercase; approve → authorized,
// reject or cancel → rejected, identity mismatch, lockout or timeout → failed).
const (
	StatusAuthorized = "authorized"
	StatusRejected   = "rejected"
	StatusFailed     = "failed"
)

// Outcomes recorded for each attempt of a consent update (Attempt.Outcome).
const (
	OutcomeSuccess      = "success"       // 2xx
	OutcomeClientError  = "client_error"  // 3xx or 4xx other than 429: not retried
	OutcomeThrottled    = "throttled"     // 429
	OutcomeServerError  = "server_error"  // 5xx
	OutcomeNetworkError = "network_error" // no HTTP response (connection, TLS, reset)
	OutcomeTimeout      = "timeout"       // no HTTP response before the budget or the caller's deadline
)

// Defaults of ClientOptions.
const (
	DefaultMaxAttempts = 3
	DefaultBudget      = 4 * time.Second
	DefaultBackoff     = 250 * time.Millisecond
)

// maxResponseBody caps how much of PayNet's answer to a PATCH is read (it is `{}` or an error body).
const maxResponseBody = 64 << 10

// ErrInvalidUpdate is returned, before anything is sent, for an Update that breaks the PATCH
// schema of spec §3.2.1.
var ErrInvalidUpdate = errors.New("paynet: invalid consent update")

// UserIdentity is the user_identity object of the consent update (spec §3.2.1, §5.8). It carries
// only masked and hashed identifiers.
type UserIdentity struct {
	IDType             string `json:"id_type"`
	MaskedIDNumber     string `json:"masked_id_number"`
	HashedIDNumber     string `json:"hashed_id_number"`
	MaskedMobileNumber string `json:"masked_mobile_number,omitempty"`
	HashedMobileNumber string `json:"hashed_mobile_number,omitempty"`
}

// Account is one item of the consent update's accounts (spec §3.2.1; design.md §3.7, §3.8).
// AccountNumber is masked first-6/last-4 for credit cards by the caller.
type Account struct {
	AccountID     string `json:"account_id"`
	AccountNumber string `json:"account_number"`
	AccountName   string `json:"account_name"`
}

// StatusReason is the optional status_reason of a negative update (spec §5.1, §9 item 7). It is
// sent only when ClientOptions.SendStatusReason is set.
type StatusReason struct {
	ReasonCode        string `json:"reason_code"`
	ReasonDescription string `json:"reason_description"`
}

// Update is the body of PATCH /v1/consents/{consent_id} (spec §3.2.1).
type Update struct {
	ConsentID    string
	Status       string        // StatusAuthorized, StatusRejected or StatusFailed
	IDToken      string        // v1.2.1 profile: required when authorized; empty in the oidc profile
	UserIdentity *UserIdentity // required when authorized
	Accounts     []Account     // required (non-empty) when authorized
	StatusReason *StatusReason // sent only when the client's SendStatusReason is true
}

// wireUpdate is the JSON of an Update as sent.
type wireUpdate struct {
	ConsentID    string        `json:"consent_id"`
	Status       string        `json:"status"`
	IDToken      string        `json:"id_token,omitempty"`
	UserIdentity *UserIdentity `json:"user_identity,omitempty"`
	Accounts     []Account     `json:"accounts,omitempty"`
	StatusReason *StatusReason `json:"status_reason,omitempty"`
}

// validate checks the fields spec §3.2.1 marks required.
func (u Update) validate() error {
	if u.ConsentID == "" {
		return fmt.Errorf("%w: consent_id is empty", ErrInvalidUpdate)
	}
	switch u.Status {
	case StatusAuthorized:
		if u.UserIdentity == nil {
			return fmt.Errorf("%w: user_identity is required when status is authorized", ErrInvalidUpdate)
		}
		if len(u.Accounts) == 0 {
			return fmt.Errorf("%w: accounts are required when status is authorized", ErrInvalidUpdate)
		}
	case StatusRejected, StatusFailed:
	default:
		return fmt.Errorf("%w: status %q is not authorized, rejected or failed", ErrInvalidUpdate, u.Status)
	}
	return nil
}

// Attempt is one HTTP attempt of a consent update and its outcome, as recorded in outbound_calls
// (design.md §5). It never holds the body, the id_token or the signature.
type Attempt struct {
	ConsentID     string
	Method        string
	URL           string
	InteractionID string
	Outcome       string // one of the Outcome* constants
	Error         string // empty on success
	Number        int    // 1-based
	HTTPStatus    int    // 0 when no response arrived
	StartedAt     time.Time
	Duration      time.Duration
}

// AttemptRecorder stores attempts of outbound calls (negative-tests C11). The store adapts to it.
type AttemptRecorder interface {
	RecordAttempt(ctx context.Context, a Attempt) error
}

// UpdateError is the failure of a consent update after all its attempts.
type UpdateError struct {
	Status    int    // HTTP status of the last response; 0 when none arrived
	Code      string // PayNet's "error" field of the last response, when it was JSON
	Retryable bool   // the last failure was a network error, 5xx or 429: a later retry may succeed
	Attempts  int    // attempts made
	Err       error  // the last transport or context error, when there was one
}

func (e *UpdateError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "paynet: consent update failed after %d attempt(s)", e.Attempts)
	if e.Status != 0 {
		fmt.Fprintf(&b, ": HTTP %d", e.Status)
	}
	if e.Code != "" {
		fmt.Fprintf(&b, " %s", e.Code)
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	return b.String()
}

// Unwrap returns the last transport or context error.
func (e *UpdateError) Unwrap() error { return e.Err }

// ClientOptions configures a Client.
type ClientOptions struct {
	// BaseURL is paynet.consent_base_url (https); the client PATCHes
	// {BaseURL}/v1/consents/{consent_id} with consent_id path-escaped.
	BaseURL string
	// HTTPClient presents the DP's client certificate and trusts the PayNet CA; build it with
	// NewMTLSClient.
	HTTPClient *http.Client
	// Signer signs each attempt's body with the DP signing key (design.md §3.4).
	Signer *jose.Signer
	// Recorder records every attempt.
	Recorder AttemptRecorder
	// MaxAttempts bounds the attempts of one update (default 3).
	MaxAttempts int
	// Budget bounds all attempts of one update together, waits included (default 4 s).
	Budget time.Duration
	// Backoff is the wait before the second attempt, doubled before each later one (default
	// 250 ms); a longer Retry-After wins.
	Backoff time.Duration
	// SendStatusReason sends Update.StatusReason (spec §9 item 7; off by default).
	SendStatusReason bool
	// Revoke is how RevokeConsent calls PayNet (paynet.revoke.*; defaults when zero).
	Revoke RevokeOptions
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Sleep waits d or until ctx ends (default: a timer).
	Sleep func(ctx context.Context, d time.Duration) error
	// NewID returns x-fapi-interaction-id values (default uuid.NewString).
	NewID func() string
	// Logger (default slog.Default()).
	Logger *slog.Logger
}

// Client sends consent updates to PayNet (spec §3.2.1).
type Client struct {
	base       string
	http       *http.Client
	signer     *jose.Signer
	rec        AttemptRecorder
	max        int
	budget     time.Duration
	backoff    time.Duration
	sendReason bool
	revoke     RevokeOptions
	now        func() time.Time
	sleep      func(context.Context, time.Duration) error
	newID      func() string
	log        *slog.Logger
}

// NewClient checks o and fills its defaults.
func NewClient(o ClientOptions) (*Client, error) {
	u, err := url.Parse(o.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("paynet: consent base URL: %w", err)
	}
	if u.Scheme != "https" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("paynet: consent base URL %q must be an https URL without query or fragment", o.BaseURL)
	}
	if o.HTTPClient == nil {
		return nil, errors.New("paynet: HTTPClient is required (mTLS, see NewMTLSClient)")
	}
	if o.Signer == nil || (o.Signer.Key == nil && o.Signer.Active == nil) {
		return nil, errors.New("paynet: Signer with a signing key is required")
	}
	if o.Recorder == nil {
		return nil, errors.New("paynet: Recorder is required")
	}
	if o.MaxAttempts < 0 || o.Budget < 0 || o.Backoff < 0 {
		return nil, errors.New("paynet: MaxAttempts, Budget and Backoff must not be negative")
	}
	revoke, err := o.Revoke.withDefaults()
	if err != nil {
		return nil, err
	}
	c := &Client{
		base:       strings.TrimRight(o.BaseURL, "/"),
		http:       o.HTTPClient,
		signer:     o.Signer,
		rec:        o.Recorder,
		max:        o.MaxAttempts,
		budget:     o.Budget,
		backoff:    o.Backoff,
		sendReason: o.SendStatusReason,
		revoke:     revoke,
		now:        o.Now,
		sleep:      o.Sleep,
		newID:      o.NewID,
		log:        o.Logger,
	}
	if c.max == 0 {
		c.max = DefaultMaxAttempts
	}
	if c.budget == 0 {
		c.budget = DefaultBudget
	}
	if c.backoff == 0 {
		c.backoff = DefaultBackoff
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.sleep == nil {
		c.sleep = sleepCtx
	}
	if c.newID == nil {
		c.newID = uuid.NewString
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	return c, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// attemptResult is what one attempt learnt.
type attemptResult struct {
	status     int
	code       string
	retryAfter time.Duration // 0 when absent
	err        error         // transport or context error
	outcome    string
}

func (r attemptResult) retryable() bool {
	switch r.outcome {
	case OutcomeThrottled, OutcomeServerError, OutcomeNetworkError, OutcomeTimeout:
		return true
	}
	return false
}

// UpdateConsent sends u to PayNet (spec §3.2.1; design.md §3.1, §3.4). The body is marshalled
// once; each attempt signs those exact bytes with a new detached JWS (new jti and iat) and PATCHes
// them with Content-Type application/json, x-fapi-signature and one x-fapi-interaction-id shared
// by all attempts of this update. A 2xx answer is success. Network errors, 5xx and 429 are
// retried, at most MaxAttempts times within Budget, after a doubling backoff or the answer's
// Retry-After (seconds or HTTP-date, RFC 9110 §10.2.3), whichever is longer; a wait that would end
// past the budget is not started. Any other answer is not retried. Every attempt is recorded.
// A failure is an *UpdateError; an invalid u is ErrInvalidUpdate.
func (c *Client) UpdateConsent(ctx context.Context, u Update) error {
	if err := u.validate(); err != nil {
		return err
	}
	w := wireUpdate{
		ConsentID:    u.ConsentID,
		Status:       u.Status,
		IDToken:      u.IDToken,
		UserIdentity: u.UserIdentity,
		Accounts:     u.Accounts,
	}
	if c.sendReason {
		w.StatusReason = u.StatusReason
	}
	body, err := json.Marshal(w)
	if err != nil {
		return fmt.Errorf("paynet: marshal consent update: %w", err)
	}
	return c.send(ctx, http.MethodPatch, c.base+"/v1/consents/"+url.PathEscape(u.ConsentID), u.ConsentID, body)
}

// send makes the attempts of one signed call to PayNet (UpdateConsent's rules): it signs body
// afresh for each attempt, retries network errors, 5xx and 429 within the budget, and records
// every attempt against consentID.
func (c *Client) send(ctx context.Context, method, target, consentID string, body []byte) error {
	iid := c.newID()
	deadline := c.now().Add(c.budget)
	log := c.log.With("consent_id", consentID, "interaction_id", iid, "method", method)

	uerr := &UpdateError{}
	for n := 1; n <= c.max; n++ {
		remaining := deadline.Sub(c.now())
		if remaining <= 0 {
			break
		}
		sig, err := c.signer.SignDetached(body)
		if err != nil {
			return fmt.Errorf("paynet: sign consent update: %w", err)
		}
		started := c.now()
		res := c.do(ctx, method, target, iid, sig, body, remaining)
		took := c.now().Sub(started)
		uerr.Attempts = n
		uerr.Status, uerr.Code, uerr.Err, uerr.Retryable = res.status, res.code, res.err, res.retryable()

		a := Attempt{
			ConsentID:     consentID,
			Method:        method,
			URL:           target,
			InteractionID: iid,
			Outcome:       res.outcome,
			Number:        n,
			HTTPStatus:    res.status,
			StartedAt:     started,
			Duration:      took,
		}
		if res.outcome != OutcomeSuccess {
			a.Error = (&UpdateError{Status: res.status, Code: res.code, Err: res.err, Attempts: n}).Error()
		}
		if rerr := c.rec.RecordAttempt(ctx, a); rerr != nil {
			log.Error("paynet: recording consent update attempt failed", "attempt", n, "err", rerr)
		}
		log.Info("paynet: consent update attempt", "attempt", n, "status", res.status,
			"outcome", res.outcome, "duration", took)

		if res.outcome == OutcomeSuccess {
			return nil
		}
		if !uerr.Retryable || n == c.max || ctx.Err() != nil {
			break
		}
		wait := c.backoff << (n - 1)
		if res.retryAfter > wait {
			wait = res.retryAfter
		}
		if !c.now().Add(wait).Before(deadline) {
			log.Warn("paynet: consent update budget exhausted", "attempt", n, "wait", wait)
			break
		}
		if err := c.sleep(ctx, wait); err != nil {
			uerr.Err = errors.Join(uerr.Err, err)
			break
		}
	}
	return uerr
}

// do makes one attempt, bounded by the remaining budget.
func (c *Client) do(ctx context.Context, method, target, iid, sig string, body []byte, remaining time.Duration) attemptResult {
	actx, cancel := context.WithTimeout(ctx, remaining)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, method, target, bytes.NewReader(body))
	if err != nil {
		return attemptResult{err: err, outcome: OutcomeNetworkError}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("x-fapi-interaction-id", iid)
	req.Header.Set("x-fapi-signature", sig)
	resp, err := c.http.Do(req)
	if err != nil {
		out := OutcomeNetworkError
		var ne net.Error
		if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
			out = OutcomeTimeout
		}
		return attemptResult{err: err, outcome: out}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseBody))

	res := attemptResult{status: resp.StatusCode}
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		res.outcome = OutcomeSuccess
		return res
	case resp.StatusCode == http.StatusTooManyRequests:
		res.outcome = OutcomeThrottled
	case resp.StatusCode >= 500:
		res.outcome = OutcomeServerError
	default:
		res.outcome = OutcomeClientError
	}
	res.code = errorCode(b)
	if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), c.now()); ok {
		res.retryAfter = d
	}
	return res
}

// maxCodeLen bounds the PayNet error code kept from a response.
const maxCodeLen = 64

// errorCode returns the "error" member of a JSON error body (spec §6.4), or "" when the body is
// not such JSON. The code is untrusted: only short, printable, space-free codes are kept, so it is
// safe in logs and recorded attempts.
func errorCode(body []byte) string {
	var e struct {
		Error json.RawMessage `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil || len(e.Error) == 0 {
		return ""
	}
	var code string
	if err := json.Unmarshal(e.Error, &code); err != nil {
		return ""
	}
	if code == "" || len(code) > maxCodeLen {
		return ""
	}
	for _, r := range code {
		if r > unicode.MaxASCII || !unicode.IsPrint(r) || r == ' ' {
			return ""
		}
	}
	return code
}

// maxRetryAfter bounds a Retry-After value so arithmetic on it cannot overflow; the budget bounds
// the real wait.
const maxRetryAfter = 24 * time.Hour

// parseRetryAfter reads a Retry-After value (RFC 9110 §10.2.3): delay-seconds or an HTTP-date,
// relative to now. A date in the past means no wait.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if v[0] >= '0' && v[0] <= '9' {
		for i := 0; i < len(v); i++ {
			if v[i] < '0' || v[i] > '9' {
				return 0, false
			}
		}
		secs, err := strconv.ParseInt(v, 10, 64)
		if err != nil || secs > int64(maxRetryAfter/time.Second) {
			return maxRetryAfter, true
		}
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	d := t.Sub(now)
	if d < 0 {
		d = 0
	}
	if d > maxRetryAfter {
		d = maxRetryAfter
	}
	return d, true
}
