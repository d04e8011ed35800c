package paynet

import (
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode"
)

// FuzzParseRetryAfter: PayNet's Retry-After header is untrusted input. Parsing never panics and
// never yields a negative or unbounded wait.
func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"", "0", "3", "86400", "99999999999999999999", "-1", "1.5",
		t0.Add(time.Minute).Format(http.TimeFormat), "Sunday, 01-Mar-26 09:00:05 GMT", "Sun Mar  1 09:00:05 2026"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		d, ok := parseRetryAfter(v, t0)
		if d < 0 || d > maxRetryAfter {
			t.Fatalf("parseRetryAfter(%q) = %v", v, d)
		}
		if !ok && d != 0 {
			t.Fatalf("parseRetryAfter(%q) = %v without ok", v, d)
		}
	})
}

// FuzzErrorCode: PayNet's error body is untrusted input. A code kept is short, printable ASCII
// without spaces (safe to log and record).
func FuzzErrorCode(f *testing.F) {
	for _, s := range []string{`{"error":"Consent.Invalid","error_description":"x"}`, `{"error":""}`,
		`{"error":1}`, `{"error":"a b"}`, `<html></html>`, `{"error":"\u0000"}`, `{"error":"x","error":"y"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		code := errorCode(body)
		if len(code) > maxCodeLen {
			t.Fatalf("code of %d bytes", len(code))
		}
		if strings.ContainsFunc(code, func(r rune) bool { return r > unicode.MaxASCII || !unicode.IsPrint(r) || r == ' ' }) {
			t.Fatalf("unsafe code %q", code)
		}
	})
}
