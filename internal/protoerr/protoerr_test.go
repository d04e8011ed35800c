package protoerr

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// Every constructor produces the status and code of design.md §4, and Write sends exactly the
// {"error","error_description"} body with no cause.
func TestWrite(t *testing.T) {
	cause := errors.New("account 1234567890 secret detail")
	cases := []struct {
		err        error
		status     int
		code       string
		retryAfter string
	}{
		{InvalidRequest("bad page_size", cause), 400, CodeInvalidRequest, ""},
		{InvalidSignature("no", cause), 401, CodeInvalidSignature, ""},
		{InvalidClaim("stale", cause), 401, CodeInvalidClaim, ""},
		{InvalidClient("cert", cause), 401, CodeInvalidClient, ""},
		{ConsentInvalid("revoked", cause), 403, CodeConsentInvalid, ""},
		{InvalidScope("no read_balances", cause), 403, CodeInvalidScope, ""},
		{AccountBlocked("dormant", cause), 403, CodeAccountBlocked, ""},
		{AccountClosed("closed", cause), 403, CodeAccountClosed, ""},
		{Transient("slow", cause, 1500*time.Millisecond), 503, CodeTransient, "2"},
		{Unavailable("keys", cause, 5*time.Second), 503, CodeTemporarilyUnavailable, "5"},
		{RateLimited(200 * time.Millisecond), 429, CodeTemporarilyUnavailable, "1"},
		{NotFound(), 404, CodeInvalidRequest, ""},
		{MethodNotAllowed(), 405, CodeInvalidRequest, ""},
		{TooLarge("too big"), 413, CodeInvalidRequest, ""},
		{NotAcceptable("jose only"), 406, CodeInvalidRequest, ""},
		{fmt.Errorf("wrapped: %w", ConsentInvalid("expired", nil)), 403, CodeConsentInvalid, ""},
		{cause, 500, CodeServerError, ""}, // anything unexpected: no detail
	}
	for _, c := range cases {
		w := httptest.NewRecorder()
		pe := Write(w, c.err)
		var body map[string]string
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			t.Fatalf("%v: body %q is not JSON", c.err, w.Body.String())
		}
		if w.Code != c.status || body["error"] != c.code || len(body) != 2 || body["error_description"] == "" {
			t.Errorf("%v: %d %v, want %d %s", c.err, w.Code, body, c.status, c.code)
		}
		if got := w.Header().Get("Retry-After"); got != c.retryAfter {
			t.Errorf("%v: Retry-After %q, want %q", c.err, got, c.retryAfter)
		}
		if w.Header().Get("Content-Type") != "application/json" || w.Header().Get("Cache-Control") != "no-store" {
			t.Errorf("%v: headers %v", c.err, w.Header())
		}
		if strings.Contains(w.Body.String(), "1234567890") {
			t.Errorf("%v: the cause leaked into the body: %s", c.err, w.Body.String())
		}
		// The cause is kept for the access log, never sent.
		if pe.Status != c.status || (errors.Is(c.err, cause) && !errors.Is(pe, cause)) {
			t.Errorf("%v: returned %+v", c.err, pe)
		}
	}
}

// error_description is one printable line (negative-tests K14: no CR, LF or TAB).
func TestWriteSanitizes(t *testing.T) {
	w := httptest.NewRecorder()
	Write(w, InvalidRequest("line one\r\nline\ttwo", nil))
	var body map[string]string
	_ = json.Unmarshal(w.Body.Bytes(), &body)
	if d := body["error_description"]; strings.ContainsAny(d, "\r\n\t") || d != "line one  line two" {
		t.Errorf("error_description %q", d)
	}
	if w.Code != http.StatusBadRequest {
		t.Errorf("status %d", w.Code)
	}
}
