package api

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ofpdp/ofpdp/connector"
)

var (
	testCursorKey = []byte("cursor-key-for-tests-32-bytes!!!")
	cursorNow     = time.Date(2026, 6, 30, 10, 0, 0, 0, myt)
)

func sampleCursor() cursor {
	return cursor{
		ReqFrom:    time.Date(2026, 1, 1, 0, 0, 0, 0, myt),
		From:       time.Date(2026, 1, 1, 0, 0, 0, 0, myt),
		To:         cursorNow,
		PageSize:   100,
		CoreCursor: "1777777777000000500~txn-000123",
		Expiry:     cursorNow.Add(15 * time.Minute),
	}
}

func TestCursorRoundTrip(t *testing.T) {
	cc := cursorCodec{key: testCursorKey}
	for name, c := range map[string]cursor{
		"requested from": sampleCursor(),
		"nothing asked":  func() cursor { c := sampleCursor(); c.ReqFrom = time.Time{}; return c }(),
		"both asked":     func() cursor { c := sampleCursor(); c.ReqTo = cursorNow.Add(48 * time.Hour); return c }(),
		"max page, longest core cursor": func() cursor {
			c := sampleCursor()
			c.PageSize, c.CoreCursor = 500, strings.Repeat("~", connector.MaxCursorLen)
			return c
		}(),
	} {
		tok, err := cc.encode("c-1", "acc-1", c)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, err := cc.decode(tok, "c-1", "acc-1", cursorNow)
		if err != nil {
			t.Fatalf("%s: decode: %v", name, err)
		}
		if !got.ReqFrom.Equal(c.ReqFrom) || !got.ReqTo.Equal(c.ReqTo) || !got.From.Equal(c.From) ||
			!got.To.Equal(c.To) || got.PageSize != c.PageSize ||
			got.CoreCursor != c.CoreCursor || !got.Expiry.Equal(c.Expiry) {
			t.Errorf("%s: round trip = %+v, want %+v", name, got, c)
		}
	}
}

func TestCursorRefusals(t *testing.T) {
	cc := cursorCodec{key: testCursorKey}
	tok, err := cc.encode("c-1", "acc-1", sampleCursor())
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(tok)
	flip := func(i int) string {
		b := append([]byte(nil), raw...)
		b[i] ^= 1
		return base64.RawURLEncoding.EncodeToString(b)
	}
	for _, c := range []struct {
		name, tok, consent, account string
		now                         time.Time
		want                        error
	}{
		{"valid", tok, "c-1", "acc-1", cursorNow, nil},
		{"other consent", tok, "c-2", "acc-1", cursorNow, ErrCursorMismatch},
		{"other account", tok, "c-1", "acc-2", cursorNow, ErrCursorMismatch},
		{"ids shifted", tok, "c-1a", "cc-1", cursorNow, ErrCursorMismatch},
		{"page size changed", flip(2 + 8*4 + 8 + 1), "c-1", "acc-1", cursorNow, ErrCursorMismatch},
		{"position changed", flip(len(raw) - 33), "c-1", "acc-1", cursorNow, ErrCursorMismatch},
		{"mac changed", flip(len(raw) - 1), "c-1", "acc-1", cursorNow, ErrCursorMismatch},
		{"other key", mustEncode(t, cursorCodec{key: []byte("another-cursor-key-of-32-bytes!!")}), "c-1", "acc-1", cursorNow, ErrCursorMismatch},
		{"expired", tok, "c-1", "acc-1", cursorNow.Add(15 * time.Minute), ErrCursorExpired},
		{"empty", "", "c-1", "acc-1", cursorNow, ErrCursorMalformed},
		{"not base64", "!!!!", "c-1", "acc-1", cursorNow, ErrCursorMalformed},
		{"padded", tok + "=", "c-1", "acc-1", cursorNow, ErrCursorMalformed},
		{"line break inside", tok[:9] + "\r\n" + tok[9:], "c-1", "acc-1", cursorNow, ErrCursorMalformed},
		{"truncated", tok[:20], "c-1", "acc-1", cursorNow, ErrCursorMalformed},
		{"too long", string(make([]byte, cursorMaxLength+1)), "c-1", "acc-1", cursorNow, ErrCursorMalformed},
	} {
		_, err := cc.decode(c.tok, c.consent, c.account, c.now)
		if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
	}
}

func mustEncode(t *testing.T, cc cursorCodec) string {
	t.Helper()
	tok, err := cc.encode("c-1", "acc-1", sampleCursor())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestCursorPayloadStrict(t *testing.T) {
	p, err := marshalCursor(sampleCursor())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := unmarshalCursor(p); err != nil {
		t.Fatalf("valid payload: %v", err)
	}
	for name, b := range map[string][]byte{
		"empty":         {},
		"version":       append([]byte{1}, p[1:]...),
		"unknown flag":  append([]byte{cursorVersion, 0x80}, p[2:]...),
		"trailing byte": append(append([]byte(nil), p...), 0),
		"short":         p[:len(p)-1],
		"no fields":     p[:2],
	} {
		if _, err := unmarshalCursor(b); !errors.Is(err, ErrCursorMalformed) {
			t.Errorf("%s: err = %v, want ErrCursorMalformed", name, err)
		}
	}
	bad := sampleCursor()
	bad.CoreCursor = ""
	if _, err := marshalCursor(bad); err == nil {
		t.Error("a cursor without a position was written")
	}
	bad.CoreCursor = strings.Repeat("x", connector.MaxCursorLen+1)
	if _, err := marshalCursor(bad); err == nil {
		t.Error("a cursor with an oversized core cursor was written")
	}
	bad = sampleCursor()
	bad.PageSize = 0
	if _, err := marshalCursor(bad); err == nil {
		t.Error("a cursor without a page size was written")
	}
}

// FuzzCursor feeds arbitrary tokens to the cursor parser (untrusted input: next_page_params).
// Decoding must never panic; a token that decodes must re-encode to itself (one encoding per
// cursor), and so must any payload the inner parser accepts.
func FuzzCursor(f *testing.F) {
	cc := cursorCodec{key: testCursorKey}
	tok, err := cc.encode("c-1", "acc-1", sampleCursor())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(tok)
	f.Add("")
	f.Add("AQ")
	f.Add(tok[:len(tok)-2])
	f.Fuzz(func(t *testing.T, s string) {
		if c, err := cc.decode(s, "c-1", "acc-1", cursorNow); err == nil {
			again, err := cc.encode("c-1", "acc-1", c)
			if err != nil || again != s {
				t.Fatalf("decoded cursor re-encodes to %q (%v), want %q", again, err, s)
			}
		}
		if c, err := unmarshalCursor([]byte(s)); err == nil {
			p, err := marshalCursor(c)
			if err != nil || string(p) != s {
				t.Fatalf("parsed payload re-marshals to %x (%v), want %x", p, err, s)
			}
		}
	})
}
