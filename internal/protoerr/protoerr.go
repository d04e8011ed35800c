package protoerr

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Error codes of design.md §4 (spec paynet-dp.md §6.2–6.3).
const (
	CodeInvalidRequest         = "invalid_request"
	CodeInvalidSignature       = "JWS.InvalidSignature"
	CodeInvalidClaim           = "JWS.InvalidClaim"
	CodeInvalidClient          = "invalid_client"
	CodeConsentInvalid         = "Consent.Invalid"
	CodeInvalidScope           = "AccessToken.InvalidScope"
	CodeAccountBlocked         = "Consent.AccountTemporarilyBlocked"
	CodeAccountClosed          = "Consent.PermanentAccountAccessFailure"
	CodeTransient              = "Consent.TransientAccountAccessFailure"
	CodeTemporarilyUnavailable = "temporarily_unavailable"
	CodeServerError            = "server_error"
)

// Error is the one protocol error type (design.md §4, §7.4): an HTTP status, a code, a public
// text that is safe to return, and the cause, which is logged and never returned.
type Error struct {
	Status     int
	Code       string
	Public     string
	Cause      error
	RetryAfter time.Duration // sent as Retry-After when > 0
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return e.Code + ": " + e.Public + ": " + e.Cause.Error()
	}
	return e.Code + ": " + e.Public
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Cause }

func newErr(status int, code, public string, cause error) *Error {
	return &Error{Status: status, Code: code, Public: public, Cause: cause}
}

// InvalidRequest: malformed body, parameter or header (400).
func InvalidRequest(public string, cause error) *Error {
	return newErr(http.StatusBadRequest, CodeInvalidRequest, public, cause)
}

// InvalidSignature: signature missing, unverifiable, wrong key or bad alg (401).
func InvalidSignature(public string, cause error) *Error {
	return newErr(http.StatusUnauthorized, CodeInvalidSignature, public, cause)
}

// InvalidClaim: iat outside the window, jti replayed, bad iss, bad crit or b64 (401).
func InvalidClaim(public string, cause error) *Error {
	return newErr(http.StatusUnauthorized, CodeInvalidClaim, public, cause)
}

// InvalidClient: a valid client certificate that is not an allowed PayNet certificate (401).
func InvalidClient(public string, cause error) *Error {
	return newErr(http.StatusUnauthorized, CodeInvalidClient, public, cause)
}

// ConsentInvalid: consent unknown, not authorized, expired, account not in consent, illegal transition (403).
func ConsentInvalid(public string, cause error) *Error {
	return newErr(http.StatusForbidden, CodeConsentInvalid, public, cause)
}

// InvalidScope: the consent does not grant the permission (403).
func InvalidScope(public string, cause error) *Error {
	return newErr(http.StatusForbidden, CodeInvalidScope, public, cause)
}

// AccountBlocked: the account is dormant or blocked (403).
func AccountBlocked(public string, cause error) *Error {
	return newErr(http.StatusForbidden, CodeAccountBlocked, public, cause)
}

// AccountClosed: the account is closed (403).
func AccountClosed(public string, cause error) *Error {
	return newErr(http.StatusForbidden, CodeAccountClosed, public, cause)
}

// Transient: the core bank is slow or down (503 with Retry-After).
func Transient(public string, cause error, retryAfter time.Duration) *Error {
	e := newErr(http.StatusServiceUnavailable, CodeTransient, public, cause)
	e.RetryAfter = retryAfter
	return e
}

// Unavailable: a dependency other than the core bank (e.g. PayNet's key service) cannot be
// reached; 503 temporarily_unavailable with Retry-After.
func Unavailable(public string, cause error, retryAfter time.Duration) *Error {
	e := newErr(http.StatusServiceUnavailable, CodeTemporarilyUnavailable, public, cause)
	e.RetryAfter = retryAfter
	return e
}

// RateLimited: too many requests (429 with Retry-After).
func RateLimited(retryAfter time.Duration) *Error {
	e := newErr(http.StatusTooManyRequests, CodeTemporarilyUnavailable, "rate limit exceeded, retry later", nil)
	e.RetryAfter = retryAfter
	return e
}

// NotFound: unknown route (404).
func NotFound() *Error {
	return newErr(http.StatusNotFound, CodeInvalidRequest, "no such resource", nil)
}

// MethodNotAllowed: the route exists but not for this method (405).
func MethodNotAllowed() *Error {
	return newErr(http.StatusMethodNotAllowed, CodeInvalidRequest, "method not allowed", nil)
}

// TooLarge: the request body is over the limit (413).
func TooLarge(public string) *Error {
	return newErr(http.StatusRequestEntityTooLarge, CodeInvalidRequest, public, nil)
}

// NotAcceptable: the Accept header excludes what the endpoint produces (406).
func NotAcceptable(public string) *Error {
	return newErr(http.StatusNotAcceptable, CodeInvalidRequest, public, nil)
}

// Internal: anything unexpected (500, no detail returned).
func Internal(cause error) *Error {
	return newErr(http.StatusInternalServerError, CodeServerError, "internal error", cause)
}

// From returns err as a protocol error; anything that is not one becomes a 500 server_error
// whose cause is err.
func From(err error) *Error {
	var pe *Error
	if errors.As(err, &pe) {
		return pe
	}
	return Internal(err)
}

// Body is the JSON error body of design.md §4.
type Body struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// Write sends err as the design.md §4 JSON body with its status (and Retry-After). It returns the
// protocol error so the caller can log the cause.
func Write(w http.ResponseWriter, err error) *Error {
	pe := From(err)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	if pe.RetryAfter > 0 {
		secs := int((pe.RetryAfter + time.Second - 1) / time.Second)
		h.Set("Retry-After", strconv.Itoa(secs))
	}
	w.WriteHeader(pe.Status)
	b, _ := json.Marshal(Body{Error: pe.Code, Description: sanitize(pe.Public)})
	_, _ = w.Write(b)
	return pe
}

// sanitize keeps error_description to one printable line (no CR, LF or TAB; negative-tests K14).
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' || r == '\t' || r < 0x20 {
			return ' '
		}
		return r
	}, s)
}
