package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/ofpdp/ofpdp/connector"
	"github.com/ofpdp/ofpdp/internal/bank"
	"github.com/ofpdp/ofpdp/internal/consent"
	"github.com/ofpdp/ofpdp/internal/jose"
	"github.com/ofpdp/ofpdp/internal/obs"
	"github.com/ofpdp/ofpdp/internal/paynet"
	"github.com/ofpdp/ofpdp/internal/protoerr"
	"github.com/ofpdp/ofpdp/internal/store"
)

// This file wires the resource server (spec paynet-dp.md §3.1.3, §3.1.5–3.1.8; design.md §3.1,
// §3.5, §3.12, §3.14): the checks every data request passes, in this order, before the core bank
// is asked anything (design.md §6 "the connector only ever sees account references the consent
// allows and a clamped date range"):
//
//	Accept (406) → x-enc-kid present (400) → consent_id and account_id well formed (400) →
//	endpoint parameters (400) → consent known (403) → per-DC rate limit (429) → per-consent rate
//	limit (429) → customer's approval recorded, consent authorized and not past the effective
//	expiry (403 Consent.Invalid) → permission in the effective consent (403
//	AccessToken.InvalidScope) → account in the effective consent (403 Consent.Invalid) → DC encryption key
//	(400 / 503) → connector under a deadline (403 / 503) → JSON → JWE inside a DP-signed JWS →
//	200 application/jose.
//
// The effective consent is consent.Effective: PayNet's consent intersected with what the
// customer approved, with the earlier expiry. The consent and the account's bank reference come
// from one store read (ConsentAccount).
// mTLS and the request signature are checked earlier, by the middleware.

// ConsentReader is what the resource server reads of stored consents. *store.Store implements it.
type ConsentReader interface {
	// GetConsent returns the consent, or an error wrapping store.ErrNotFound (userinfo).
	GetConsent(ctx context.Context, consentID string) (*store.ConsentRecord, error)
	// ConsentAccount returns the consent (or an error wrapping store.ErrNotFound) and the bank's
	// reference of the DP account_id, "" when the consent does not authorize that account.
	ConsentAccount(ctx context.Context, consentID, accountID string) (*store.ConsentRecord, string, error)
}

// BankReader is the part of the core-bank connector the resource server uses (design.md §6).
// Every connector.Connector implements it.
type BankReader interface {
	Customer(ctx context.Context, customerRef string) (connector.Customer, error)
	Account(ctx context.Context, accountRef string) (connector.Account, error)
	Balance(ctx context.Context, accountRef string) (connector.Balance, error)
	Transactions(ctx context.Context, q connector.TransactionQuery) (connector.TransactionPage, error)
}

// EncryptionKeys finds a DC's encryption key by x-enc-kid (spec §4.3; design §3.5).
// *paynet.DCKeys implements it; errors wrap paynet.ErrUnknownEncKey or paynet.ErrKeysUnavailable.
type EncryptionKeys interface {
	EncryptionKey(ctx context.Context, dcID, encKid string) (jose.PublicKey, error)
}

// ResponseSealer builds the data response of design §3.5 (JWE to the DC inside a JWS by the DP).
// *jose.Signer implements it.
type ResponseSealer interface {
	Seal(plaintext []byte, encKey jose.PublicKey, aud []string) ([]byte, error)
}

// DataOptions configure the resource endpoints. Consents, Bank, DCKeys, Sealer, InstitutionName,
// AccountIDKey and CursorKey are required.
type DataOptions struct {
	Consents ConsentReader
	Bank     BankReader
	DCKeys   EncryptionKeys
	Sealer   ResponseSealer
	// InstitutionName is institution_name of every Account (spec §5.4), e.g. "PayBank Berhad".
	InstitutionName string
	// AccountIDKey is the server secret (≥ 32 bytes) behind account ids and the subject id
	// (design §3.8; SubjectID).
	AccountIDKey []byte
	// CursorKey authenticates next_page_params (≥ 32 bytes; the same on every replica).
	CursorKey []byte
	// CursorTTL is how long a next_page_params stays usable (default 15 min).
	CursorTTL time.Duration
	// HistoryMonths is how far back transactions are served (default 12; spec §5.7).
	HistoryMonths int
	// RateLimitPerMinute is the per-DC limit with an equal burst (default 200; spec §7.1).
	RateLimitPerMinute int
	// RateLimitPerConsentPerMinute is the per-consent limit with an equal burst, counted after
	// the per-DC one (default 60; negative-tests D16 "limits per DC and per consent").
	RateLimitPerConsentPerMinute int
	// BankTimeout bounds the connector calls of one request (default 4 s; must stay under
	// PayNet's 5 s, design §3.14).
	BankTimeout time.Duration
}

// Defaults of DataOptions.
const (
	DefaultCursorTTL                    = 15 * time.Minute
	DefaultHistoryMonths                = 12
	DefaultRateLimitPerMinute           = 200
	DefaultRateLimitPerConsentPerMinute = 60
	DefaultBankTimeout                  = 4 * time.Second
	// payNetTimeout is PayNet's synchronous budget (spec §3.0, §7.1); BankTimeout must be below it.
	payNetTimeout = 5 * time.Second
	// transientRetryAfter is the Retry-After of a 503 (core bank or key set unavailable).
	transientRetryAfter = 5 * time.Second
	minSecretLen        = 32
)

// Metric endpoint labels (obs.Metrics.DataResponses).
const (
	endpointAccount      = "account"
	endpointBalances     = "balances"
	endpointTransactions = "transactions"
	endpointUserinfo     = "userinfo"
)

// Response audience (design §3.5): PayNet and the DC the data is for.
const audiencePayNet = "Paynet OFP"

// dataServer serves the resource endpoints on the api listener.
type dataServer struct {
	h           *Handler
	consents    ConsentReader
	bank        BankReader
	keys        EncryptionKeys
	sealer      ResponseSealer
	institution string
	subjectKey  []byte
	cursors     cursorCodec
	cursorTTL   time.Duration
	history     int
	limits      *dataLimits
	bankTimeout time.Duration
}

func newDataServer(h *Handler, o DataOptions) (*dataServer, error) {
	if o.Consents == nil || o.Bank == nil || o.DCKeys == nil || o.Sealer == nil {
		return nil, errors.New("api: DataOptions needs Consents, Bank, DCKeys and Sealer")
	}
	if o.InstitutionName == "" {
		return nil, errors.New("api: DataOptions.InstitutionName is required")
	}
	if len(o.AccountIDKey) < minSecretLen || len(o.CursorKey) < minSecretLen {
		return nil, fmt.Errorf("api: DataOptions.AccountIDKey and CursorKey need at least %d bytes", minSecretLen)
	}
	d := &dataServer{h: h, consents: o.Consents, bank: o.Bank, keys: o.DCKeys, sealer: o.Sealer,
		institution: o.InstitutionName, subjectKey: o.AccountIDKey, cursors: cursorCodec{key: o.CursorKey},
		cursorTTL: o.CursorTTL, history: o.HistoryMonths, bankTimeout: o.BankTimeout}
	if d.cursorTTL == 0 {
		d.cursorTTL = DefaultCursorTTL
	}
	if d.history == 0 {
		d.history = DefaultHistoryMonths
	}
	if d.bankTimeout == 0 {
		d.bankTimeout = DefaultBankTimeout
	}
	perMinute, perConsent := o.RateLimitPerMinute, o.RateLimitPerConsentPerMinute
	if perMinute == 0 {
		perMinute = DefaultRateLimitPerMinute
	}
	if perConsent == 0 {
		perConsent = DefaultRateLimitPerConsentPerMinute
	}
	switch {
	case d.cursorTTL < 0 || d.history < 0 || perMinute < 0 || perConsent < 0 || d.bankTimeout < 0:
		return nil, errors.New("api: DataOptions durations and limits must not be negative")
	case d.bankTimeout >= payNetTimeout:
		return nil, fmt.Errorf("api: DataOptions.BankTimeout %v must be below PayNet's %v", d.bankTimeout, payNetTimeout)
	}
	d.limits = newDataLimits(perMinute, perConsent)
	return d, nil
}

// routes registers the resource endpoints (design §3.1, §3.12). An unknown sub-resource such as
// /v1/accounts/{id}/foobar matches none of them and gets the mux's 404 (negative-tests D17).
func (d *dataServer) routes(mux *http.ServeMux) {
	h := d.h
	h.route(mux, []string{http.MethodGet}, "/v1/accounts/{account_id}", d.account)
	h.route(mux, []string{http.MethodGet, http.MethodPost}, "/v1/accounts/{account_id}/balances", d.balances)
	h.route(mux, []string{http.MethodGet}, "/v1/accounts/{account_id}/transactions", d.transactions)
	h.route(mux, []string{http.MethodGet}, "/v1/oauth/userinfo", d.userinfo)
}

// resourceRequest is one data request as it passes the checks.
type resourceRequest struct {
	now        time.Time
	encKid     string
	consentID  string
	accountID  string
	accountRef string
	record     *store.ConsentRecord
	tx         txParams // transactions only
}

// resource describes one data endpoint.
type resource struct {
	endpoint string
	perm     consent.Permission
	// params parses the endpoint's own query parameters (400) before anything is looked up.
	params func(q url.Values, rr *resourceRequest) error
	// fetch reads the bank under the deadline of ctx and returns the plaintext
	// {"data": …, "meta": {…}} (design §3.5).
	fetch func(ctx context.Context, rr *resourceRequest) ([]byte, error)
}

// serve runs the checks of this file's comment for res and writes the sealed response.
func (d *dataServer) serve(w http.ResponseWriter, r *http.Request, res *resource) {
	body, err := d.resource(r, res)
	if err != nil {
		d.refuse(w, r, res.endpoint, err)
		return
	}
	d.outcome(res.endpoint, "ok")
	hd := w.Header()
	hd.Set("Content-Type", "application/jose")
	hd.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

func (d *dataServer) resource(r *http.Request, res *resource) ([]byte, error) {
	// The answer is application/jose. application/json is admitted too: PayNet forwards the data
	// consumer's request, and a DC asking for "JSON" gets the same sealed answer (a JWS is what
	// PayNet's sandbox returns to such requests); refusing it would fail the call for no gain.
	if accept := r.Header.Values("Accept"); !acceptable(accept, "application", "jose") && !names(accept, "application/json") {
		return nil, protoerr.NotAcceptable("this endpoint answers application/jose")
	}
	encKid, err := encKidHeader(r.Header)
	if err != nil {
		return nil, err
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, protoerr.InvalidRequest("the query string is malformed", err)
	}
	consentID, err := consentIDParam(q)
	if err != nil {
		return nil, err
	}
	accountID := r.PathValue("account_id")
	if !validAccountID(accountID) {
		return nil, protoerr.InvalidRequest("account_id is malformed", nil)
	}
	ctx := r.Context()
	obs.Info(ctx).ConsentID = consentID
	rr := &resourceRequest{now: d.h.now(), encKid: encKid, consentID: consentID, accountID: accountID}
	if res.params != nil {
		if err := res.params(q, rr); err != nil {
			return nil, err
		}
	}
	sctx, span := obs.StartSpan(ctx, obs.SpanStore, attribute.String(obs.AttrOperation, "consent_account"))
	rec, ref, err := d.consents.ConsentAccount(sctx, consentID, accountID)
	obs.EndSpan(span, err)
	grant, err := d.admit(rec, err, rr.now)
	if err != nil {
		return nil, err
	}
	rr.record = rec
	c := &rec.Consent
	if !grant.Has(res.perm) {
		return nil, protoerr.InvalidScope("the consent does not grant "+string(res.perm), nil)
	}
	if ref == "" {
		return nil, protoerr.ConsentInvalid("the account is not part of this consent", store.ErrNotFound)
	}
	rr.accountRef = ref
	encKey, err := d.keys.EncryptionKey(ctx, c.DCID, encKid)
	switch {
	case errors.Is(err, paynet.ErrUnknownEncKey):
		return nil, protoerr.InvalidRequest("unknown x-enc-kid", err)
	case err != nil:
		return nil, protoerr.Unavailable("the data consumer's encryption keys are unavailable, retry later", err, transientRetryAfter)
	}
	plaintext, err := callBank(ctx, d.bankTimeout, func(ctx context.Context) ([]byte, error) {
		return res.fetch(ctx, rr)
	})
	if err != nil {
		return nil, err
	}
	_, sealSpan := obs.StartSpan(ctx, obs.SpanSeal)
	body, err := d.sealer.Seal(plaintext, encKey, []string{audiencePayNet, c.DCID})
	obs.EndSpan(sealSpan, err)
	if err != nil {
		return nil, protoerr.Internal(fmt.Errorf("seal response: %w", err))
	}
	return body, nil
}

// authorizedConsent loads the consent and admits the request (admit).
func (d *dataServer) authorizedConsent(ctx context.Context, consentID string, now time.Time) (*store.ConsentRecord, error) {
	sctx, span := obs.StartSpan(ctx, obs.SpanStore, attribute.String(obs.AttrOperation, "get_consent"))
	rec, err := d.consents.GetConsent(sctx, consentID)
	obs.EndSpan(span, err)
	if _, err := d.admit(rec, err, now); err != nil {
		return nil, err
	}
	return rec, nil
}

// admit takes the result of a consent lookup, counts the request against the rate limits of the
// consent's DC and of the consent (design §3.14; negative-tests D16) and checks that the consent
// may serve data at now (spec §5.2 "only authorized may access data"; design §3.6: past
// expiration_datetime it is expired even without an event; negative-tests C9, C10). Data is
// served on the effective consent only (consent.Effective: PayNet's consent intersected with
// what the customer approved, with the earlier expiry), which it returns; a consent without the
// customer's recorded approval serves nothing.
func (d *dataServer) admit(rec *store.ConsentRecord, err error, now time.Time) (consent.Grant, error) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return consent.Grant{}, protoerr.ConsentInvalid("unknown consent_id", err)
	case err != nil:
		return consent.Grant{}, protoerr.Internal(fmt.Errorf("consent lookup: %w", err))
	}
	if ok, wait := d.limits.allow(rec.Consent.DCID, rec.Consent.ConsentID, now); !ok {
		return consent.Grant{}, protoerr.RateLimited(wait)
	}
	approved := rec.Approved()
	if approved == nil {
		if st := rec.Consent.EffectiveStatus(now); st != consent.StatusAuthorized {
			return consent.Grant{}, protoerr.ConsentInvalid("the consent is "+string(st), nil)
		}
		return consent.Grant{}, protoerr.ConsentInvalid("the customer's authorization is not recorded on this data provider", nil)
	}
	g := consent.Effective(rec.Consent, *approved)
	if st := g.EffectiveStatus(now); st != consent.StatusAuthorized {
		return consent.Grant{}, protoerr.ConsentInvalid("the consent is "+string(st), nil)
	}
	return g, nil
}

func (d *dataServer) refuse(w http.ResponseWriter, r *http.Request, endpoint string, err error) {
	pe := protoerr.From(err)
	d.outcome(endpoint, pe.Code)
	fail(w, r, pe)
}

func (d *dataServer) outcome(endpoint, outcome string) {
	if m := d.h.metrics; m != nil {
		m.DataResponses.WithLabelValues(endpoint, outcome).Inc()
	}
}

// envelope is the plaintext inside the JWE (design §3.5): {"data": …, "meta": {…}}.
type envelope struct {
	Data any `json:"data"`
	Meta any `json:"meta"`
}

// noMeta is the meta of a single object.
type noMeta struct{}

func marshalEnvelope(data, meta any) ([]byte, error) {
	b, err := json.Marshal(envelope{Data: data, Meta: meta})
	if err != nil {
		return nil, protoerr.Internal(fmt.Errorf("encode response: %w", err))
	}
	return b, nil
}

// callBank runs fn with a deadline of timeout and returns when fn does or the deadline passes,
// whichever is first, so a connector that ignores its context still cannot hold the answer past
// the budget (design §3.14; negative-tests D15). fn's late result is dropped.
func callBank[T any](ctx context.Context, timeout time.Duration, fn func(context.Context) (T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ctx, span := obs.StartSpan(ctx, obs.SpanConnector)
	defer span.End()
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := fn(ctx)
		done <- result{v, err}
	}()
	select {
	case res := <-done:
		return res.v, res.err
	case <-ctx.Done():
		var zero T
		return zero, bankError("call", ctx.Err())
	}
}

// bankError maps a connector error to design §4. The cause keeps only the sentinel, never the
// connector's text, which may name an account (negative-tests O4).
func bankError(op string, err error) error {
	var pe *protoerr.Error
	switch {
	case errors.As(err, &pe):
		return pe
	case errors.Is(err, context.DeadlineExceeded):
		return protoerr.Transient("the core bank did not answer in time, retry later",
			fmt.Errorf("connector %s: %w", op, context.DeadlineExceeded), transientRetryAfter)
	case errors.Is(err, context.Canceled):
		return protoerr.Transient("the request was cancelled", fmt.Errorf("connector %s: %w", op, context.Canceled),
			transientRetryAfter)
	case errors.Is(err, bank.ErrBusy):
		// bank.Guard refused the call: bank.max_in_flight calls are already waiting on the core bank.
		return protoerr.Transient("the core bank is busy, retry later",
			fmt.Errorf("connector %s: %w", op, bank.ErrBusy), transientRetryAfter)
	case errors.Is(err, bank.ErrPanic):
		return protoerr.Internal(fmt.Errorf("connector %s: %w", op, bank.ErrPanic))
	case errors.Is(err, connector.ErrUnavailable):
		return protoerr.Transient("the core bank is unavailable, retry later",
			fmt.Errorf("connector %s: %w", op, connector.ErrUnavailable), transientRetryAfter)
	case errors.Is(err, connector.ErrAccountBlocked):
		return protoerr.AccountBlocked("the account is temporarily blocked", fmt.Errorf("connector %s: %w", op, connector.ErrAccountBlocked))
	case errors.Is(err, connector.ErrAccountClosed):
		return protoerr.AccountClosed("the account is permanently unavailable", fmt.Errorf("connector %s: %w", op, connector.ErrAccountClosed))
	case errors.Is(err, connector.ErrNotFound):
		return protoerr.ConsentInvalid("the requested data is not available under this consent", fmt.Errorf("connector %s: %w", op, connector.ErrNotFound))
	case errors.Is(err, errShape):
		return protoerr.Internal(err)
	}
	return protoerr.Internal(fmt.Errorf("connector %s: unexpected error of type %T", op, err))
}

// servableAccount reads the account and refuses one the bank no longer offers (spec §5.4: only
// active, individual retail, MYR accounts are shared): closed → PermanentAccountAccessFailure,
// dormant or blocked → AccountTemporarilyBlocked. customerRef, when known, must own it.
func (d *dataServer) servableAccount(ctx context.Context, rr *resourceRequest) (connector.Account, error) {
	a, err := d.bank.Account(ctx, rr.accountRef)
	if err != nil {
		return connector.Account{}, bankError("account", err)
	}
	if auth := rr.record.Authorization; auth != nil && auth.CustomerRef != "" && a.CustomerRef != auth.CustomerRef {
		return connector.Account{}, protoerr.ConsentInvalid("the account is not available under this consent",
			errors.New("connector account: owned by another customer than the consent's"))
	}
	if a.Eligible() {
		return a, nil
	}
	switch a.Status {
	case connector.StatusClosed:
		return connector.Account{}, bankError("account", connector.ErrAccountClosed)
	case connector.StatusActive:
		// Active but no longer individual retail MYR: permanently out of scope.
		return connector.Account{}, protoerr.AccountClosed("the account can no longer be shared",
			errors.New("connector account: not individual retail MYR"))
	}
	return connector.Account{}, bankError("account", connector.ErrAccountBlocked)
}

// acceptable reports whether the Accept header values admit typ/sub (RFC 9110 §12.5.1): absent or
// empty admits everything; otherwise the most specific matching range decides, and q=0 refuses
// (negative-tests D18).
func acceptable(values []string, typ, sub string) bool {
	seen := false
	bestSpec, bestQ := -1, 0.0
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			seen = true
			mt, params, err := mime.ParseMediaType(part)
			if err != nil {
				continue
			}
			t, s, ok := strings.Cut(mt, "/")
			if !ok {
				continue
			}
			spec := -1
			switch {
			case t == typ && s == sub:
				spec = 2
			case t == typ && s == "*":
				spec = 1
			case t == "*" && s == "*":
				spec = 0
			}
			if spec < bestSpec || spec < 0 {
				continue
			}
			q := 1.0
			if qs, ok := params["q"]; ok {
				if q, err = strconv.ParseFloat(qs, 64); err != nil || q < 0 || q > 1 {
					continue
				}
			}
			if spec > bestSpec {
				bestSpec, bestQ = spec, q
			} else if q > bestQ {
				bestQ = q
			}
		}
	}
	if !seen {
		return true
	}
	return bestSpec >= 0 && bestQ > 0
}

// names reports whether the Accept header values name exactly mediaType with q > 0 (wildcards do
// not count: they are judged by acceptable).
func names(values []string, mediaType string) bool {
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil || mt != mediaType {
				continue
			}
			if qs, ok := params["q"]; ok {
				if q, err := strconv.ParseFloat(qs, 64); err != nil || q <= 0 || q > 1 {
					continue
				}
			}
			return true
		}
	}
	return false
}

// encKidHeader returns x-enc-kid: exactly one value, the base64url SHA-256 thumbprint of the DC
// encryption certificate (spec §4.3: 43 characters).
func encKidHeader(h http.Header) (string, error) {
	vals := h.Values(HeaderEncKid)
	switch {
	case len(vals) == 0 || vals[0] == "":
		return "", protoerr.InvalidRequest("x-enc-kid is required", nil)
	case len(vals) > 1:
		return "", protoerr.InvalidRequest("x-enc-kid given more than once", nil)
	}
	v := vals[0]
	if len(v) != 43 || strings.IndexFunc(v, func(r rune) bool { return !isBase64URL(r) }) >= 0 {
		return "", protoerr.InvalidRequest("x-enc-kid must be a base64url SHA-256 thumbprint", nil)
	}
	return v, nil
}

func isBase64URL(r rune) bool {
	return r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_'
}

// singleParam returns the one value of a query parameter; given more than once is malformed.
func singleParam(q url.Values, name string) (string, bool, error) {
	vals, ok := q[name]
	switch {
	case !ok:
		return "", false, nil
	case len(vals) > 1:
		return "", true, protoerr.InvalidRequest(name+" given more than once", nil)
	}
	return vals[0], true, nil
}

// consentIDParam returns the consent_id query parameter: required, a UUID (spec §3.0; consent
// ids are validated as UUIDs when they arrive, negative-tests C7).
func consentIDParam(q url.Values) (string, error) {
	id, ok, err := singleParam(q, "consent_id")
	if err != nil {
		return "", err
	}
	if !ok || id == "" {
		return "", protoerr.InvalidRequest("consent_id is required", nil)
	}
	if !uuidRE.MatchString(id) {
		return "", protoerr.InvalidRequest("consent_id is malformed", nil)
	}
	return id, nil
}

// validAccountID accepts 1..36 printable ASCII characters (spec §3.0: account_id ≤ 36).
func validAccountID(id string) bool {
	if len(id) == 0 || len(id) > 36 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] > '~' {
			return false
		}
	}
	return true
}
