package api

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ofpdp/ofpdp/connector"
)

// This file is the opaque transactions cursor, next_page_params (spec paynet-dp.md §3.1.7,
// §5.7: "opaque, replayed verbatim"). A cursor is base64url(payload || HMAC-SHA256(key, domain ||
// consent_id || account_id || payload)): it binds the consent, the account, the requested and
// effective date bounds, the page size, the position after the last transaction served and an
// expiry, so a changed, foreign or stale cursor is refused (400) instead of being trusted.

// Cursor errors (all answered 400 invalid_request).
var (
	// ErrCursorMalformed: not a cursor this server wrote.
	ErrCursorMalformed = errors.New("next_page_params is malformed")
	// ErrCursorMismatch: the cursor was changed or belongs to another consent, account or key.
	ErrCursorMismatch = errors.New("next_page_params does not belong to this request")
	// ErrCursorExpired: the cursor is past its expiry.
	ErrCursorExpired = errors.New("next_page_params has expired")
)

const (
	cursorVersion   = 2
	cursorDomain    = "ofpdp/transactions-cursor/v1"
	cursorMACSize   = sha256.Size
	cursorMaxLength = 1024 // characters of the encoded token; a 512-byte core cursor gives 798

	cursorHasReqFrom = 1 << 0
	cursorHasReqTo   = 1 << 1
)

// cursor is the state a next_page_params carries between pages.
type cursor struct {
	// ReqFrom and ReqTo are the bounds the first request asked for (zero when absent); a later
	// page may repeat them.
	ReqFrom, ReqTo time.Time
	// From and To are the effective bounds of the walk, after clamping at the first page.
	From, To time.Time
	PageSize int
	// CoreCursor is the connector's NextCursor for the next page: the core's own cursor, kept
	// opaque inside this signed one (design.md §6).
	CoreCursor string
	Expiry     time.Time
}

// cursorCodec writes and reads cursors with one HMAC key.
type cursorCodec struct {
	key []byte
}

var cursorB64 = base64.RawURLEncoding.Strict()

// encode returns the token for c bound to consentID and accountID.
func (cc cursorCodec) encode(consentID, accountID string, c cursor) (string, error) {
	p, err := marshalCursor(c)
	if err != nil {
		return "", err
	}
	out := append(p, cc.mac(consentID, accountID, p)...)
	return cursorB64.EncodeToString(out), nil
}

// decode verifies token for consentID and accountID and returns its cursor if it has not expired
// at now.
func (cc cursorCodec) decode(token, consentID, accountID string, now time.Time) (cursor, error) {
	// Only the base64url alphabet: the decoder would skip CR and LF, admitting many spellings.
	if len(token) == 0 || len(token) > cursorMaxLength || strings.IndexFunc(token, func(r rune) bool { return !isBase64URL(r) }) >= 0 {
		return cursor{}, ErrCursorMalformed
	}
	raw, err := cursorB64.DecodeString(token)
	if err != nil || len(raw) <= cursorMACSize {
		return cursor{}, ErrCursorMalformed
	}
	p, sum := raw[:len(raw)-cursorMACSize], raw[len(raw)-cursorMACSize:]
	if !hmac.Equal(sum, cc.mac(consentID, accountID, p)) {
		return cursor{}, ErrCursorMismatch
	}
	c, err := unmarshalCursor(p)
	if err != nil {
		return cursor{}, err
	}
	if !now.Before(c.Expiry) {
		return cursor{}, ErrCursorExpired
	}
	return c, nil
}

func (cc cursorCodec) mac(consentID, accountID string, payload []byte) []byte {
	m := hmac.New(sha256.New, cc.key)
	var n [binary.MaxVarintLen64]byte
	m.Write([]byte(cursorDomain))
	for _, s := range []string{consentID, accountID} {
		m.Write(n[:binary.PutUvarint(n[:], uint64(len(s)))])
		m.Write([]byte(s))
	}
	m.Write(payload)
	return m.Sum(nil)
}

// marshalCursor is the payload layout, version 2:
//
//	version u8 | flags u8 | [reqFrom i64] | [reqTo i64] | from i64 | to i64 |
//	expiry i64 | pageSize u16 | len(coreCursor) u16 | coreCursor
//
// Times are Unix nanoseconds (expiry: Unix seconds), big-endian.
func marshalCursor(c cursor) ([]byte, error) {
	if c.CoreCursor == "" || len(c.CoreCursor) > connector.MaxCursorLen {
		return nil, fmt.Errorf("cursor: the core's cursor must have 1 to %d bytes", connector.MaxCursorLen)
	}
	if c.PageSize <= 0 || c.PageSize > 0xffff {
		return nil, errors.New("cursor: page size out of range")
	}
	var flags byte
	if !c.ReqFrom.IsZero() {
		flags |= cursorHasReqFrom
	}
	if !c.ReqTo.IsZero() {
		flags |= cursorHasReqTo
	}
	b := make([]byte, 0, 2+5*8+2+2+len(c.CoreCursor))
	b = append(b, cursorVersion, flags)
	if flags&cursorHasReqFrom != 0 {
		b = binary.BigEndian.AppendUint64(b, uint64(c.ReqFrom.UnixNano()))
	}
	if flags&cursorHasReqTo != 0 {
		b = binary.BigEndian.AppendUint64(b, uint64(c.ReqTo.UnixNano()))
	}
	b = binary.BigEndian.AppendUint64(b, uint64(c.From.UnixNano()))
	b = binary.BigEndian.AppendUint64(b, uint64(c.To.UnixNano()))
	b = binary.BigEndian.AppendUint64(b, uint64(c.Expiry.Unix()))
	b = binary.BigEndian.AppendUint16(b, uint16(c.PageSize))
	b = binary.BigEndian.AppendUint16(b, uint16(len(c.CoreCursor)))
	b = append(b, c.CoreCursor...)
	return b, nil
}

// unmarshalCursor parses a payload strictly: known version and flags, exact length, no
// trailing bytes.
func unmarshalCursor(p []byte) (cursor, error) {
	if len(p) < 2 || p[0] != cursorVersion || p[1]&^(cursorHasReqFrom|cursorHasReqTo) != 0 {
		return cursor{}, ErrCursorMalformed
	}
	flags := p[1]
	p = p[2:]
	var c cursor
	next := func() (int64, bool) {
		if len(p) < 8 {
			return 0, false
		}
		v := int64(binary.BigEndian.Uint64(p))
		p = p[8:]
		return v, true
	}
	nano := func(dst *time.Time) bool {
		v, ok := next()
		if ok {
			*dst = time.Unix(0, v).In(myt)
		}
		return ok
	}
	if flags&cursorHasReqFrom != 0 && !nano(&c.ReqFrom) {
		return cursor{}, ErrCursorMalformed
	}
	if flags&cursorHasReqTo != 0 && !nano(&c.ReqTo) {
		return cursor{}, ErrCursorMalformed
	}
	if !nano(&c.From) || !nano(&c.To) {
		return cursor{}, ErrCursorMalformed
	}
	exp, ok := next()
	if !ok || len(p) < 4 {
		return cursor{}, ErrCursorMalformed
	}
	c.Expiry = time.Unix(exp, 0)
	c.PageSize = int(binary.BigEndian.Uint16(p))
	n := int(binary.BigEndian.Uint16(p[2:]))
	p = p[4:]
	if len(p) != n || n == 0 || n > connector.MaxCursorLen || c.PageSize == 0 {
		return cursor{}, ErrCursorMalformed
	}
	c.CoreCursor = string(p)
	return c, nil
}
