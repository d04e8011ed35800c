package jose

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
)

// maxCompactLen bounds an inbound signature header or authorize parameter.
const maxCompactLen = 16 << 10

// maxIDLen bounds jti and kid values.
const maxIDLen = 256

// strictB64 is base64url without padding that also refuses non-canonical trailing bits,
// so that the bytes jwx re-encodes to verify are exactly the bytes received.
var strictB64 = base64.RawURLEncoding.Strict()

// critUnderstood are the only crit names this profile understands (design.md §3.2).
var critUnderstood = []string{"iat", "iss", "jti", "b64"}

// Header is the protected header of a verified JWS.
type Header struct {
	Alg, Kid, Iss, Jti, Typ string
	Iat                     time.Time // zero when absent
	B64                     bool      // true unless b64:false
	Crit                    []string
}

// protected is a parsed protected header with the presence of each member.
type protected struct {
	Header
	members                                 map[string]json.RawMessage
	hasIat, hasIss, hasJti, hasB64, hasCrit bool
}

// jwsParts is a compact JWS split into its three segments, header decoded.
type jwsParts struct {
	raw                   string
	header, payload, sign string
	hdr                   protected
}

// splitJWS splits a compact JWS (RFC 7515 §7.1) and parses its protected header.
// Errors wrap ErrMissing, ErrMalformed or the sentinel of the offending member.
func splitJWS(s string, limit int) (*jwsParts, error) {
	if s == "" {
		return nil, ErrMissing
	}
	if limit > 0 && len(s) > limit {
		return nil, fmt.Errorf("%w: JWS of %d bytes exceeds %d", ErrMalformed, len(s), limit)
	}
	if strings.Count(s, ".") != 2 {
		return nil, fmt.Errorf("%w: compact JWS must have three segments", ErrMalformed)
	}
	p := &jwsParts{raw: s}
	p.header, p.payload, p.sign = cut3(s)
	hb, err := strictB64.DecodeString(p.header)
	if err != nil || len(hb) == 0 {
		return nil, fmt.Errorf("%w: protected header is not base64url", ErrMalformed)
	}
	h, err := parseProtected(hb)
	if err != nil {
		return nil, err
	}
	if _, err := sigAlg(h.Alg); err != nil { // before the signature: "none" has none
		return nil, err
	}
	if _, err := strictB64.DecodeString(p.sign); err != nil || p.sign == "" {
		return nil, fmt.Errorf("%w: signature is not base64url", ErrMalformed)
	}
	if p.payload != "" {
		if _, err := strictB64.DecodeString(p.payload); err != nil && h.B64 {
			return nil, fmt.Errorf("%w: payload is not base64url", ErrMalformed)
		}
	}
	p.hdr = h
	return p, nil
}

func cut3(s string) (a, b, c string) {
	a, rest, _ := strings.Cut(s, ".")
	b, c, _ = strings.Cut(rest, ".")
	return a, b, c
}

// parseProtected parses a JWS protected header: no duplicate members, typed members.
func parseProtected(b []byte) (protected, error) {
	m, err := members(b)
	if err != nil {
		return protected{}, fmt.Errorf("%w: protected header: %v", ErrMalformed, err)
	}
	h := protected{members: m, Header: Header{B64: true}}
	var ok bool
	if h.Alg, ok, err = stringMember(m, "alg"); err != nil || !ok || h.Alg == "" {
		return protected{}, fmt.Errorf("%w: alg missing or not a string", ErrAlgorithm)
	}
	if h.Kid, _, err = stringMember(m, "kid"); err != nil || len(h.Kid) > maxIDLen {
		return protected{}, fmt.Errorf("%w: kid is not a string of at most %d bytes", ErrUnknownKey, maxIDLen)
	}
	if h.Typ, _, err = stringMember(m, "typ"); err != nil {
		return protected{}, fmt.Errorf("%w: typ is not a string", ErrMalformed)
	}
	if h.Iss, h.hasIss, err = stringMember(m, "iss"); err != nil {
		return protected{}, fmt.Errorf("%w: iss is not a string", ErrIssuer)
	}
	if h.Jti, h.hasJti, err = stringMember(m, "jti"); err != nil {
		return protected{}, fmt.Errorf("%w: jti is not a string", ErrJti)
	}
	if raw, ok := m["iat"]; ok {
		h.hasIat = true
		t, err := numericTime(raw)
		if err != nil {
			return protected{}, fmt.Errorf("%w: iat %v", ErrIat, err)
		}
		h.Iat = t
	}
	if raw, ok := m["b64"]; ok {
		h.hasB64 = true
		switch string(bytes.TrimSpace(raw)) {
		case "true":
			h.B64 = true
		case "false":
			h.B64 = false
		default:
			return protected{}, fmt.Errorf("%w: b64 is not a boolean", ErrB64)
		}
	}
	if raw, ok := m["crit"]; ok {
		h.hasCrit = true
		if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] != '[' {
			return protected{}, fmt.Errorf("%w: crit is not an array", ErrCrit)
		}
		var crit []string
		if err := json.Unmarshal(raw, &crit); err != nil {
			return protected{}, fmt.Errorf("%w: crit is not an array of strings", ErrCrit)
		}
		h.Crit = crit
		if h.Crit == nil {
			h.Crit = []string{}
		}
	}
	return h, nil
}

// numericTime converts a NumericDate member to a time.
func numericTime(raw json.RawMessage) (time.Time, error) {
	f, err := numericDate(raw)
	if err != nil {
		return time.Time{}, err
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
}

// checkCrit applies RFC 7515 §4.1.11 and the profile (design.md §3.2): when crit is present
// it is a non-empty list of distinct understood names, each present in the header, and it
// lists every one of iat, iss, jti and b64 the header carries. required makes crit mandatory.
// A b64 member always needs crit (RFC 7797 §6).
func checkCrit(h *protected, required bool) error {
	if !h.hasCrit {
		if h.hasB64 {
			return fmt.Errorf("%w: b64 present but crit missing", ErrB64)
		}
		if required {
			return fmt.Errorf("%w: crit missing", ErrCrit)
		}
		return nil
	}
	if len(h.Crit) == 0 {
		return fmt.Errorf("%w: crit is empty", ErrCrit)
	}
	seen := make(map[string]bool, len(h.Crit))
	for _, name := range h.Crit {
		if seen[name] {
			return fmt.Errorf("%w: crit lists %q twice", ErrCrit, truncate(name))
		}
		seen[name] = true
		understood := false
		for _, u := range critUnderstood {
			understood = understood || u == name
		}
		if !understood {
			return fmt.Errorf("%w: crit names %q, which is not understood", ErrCrit, truncate(name))
		}
		if _, ok := h.members[name]; !ok {
			return fmt.Errorf("%w: crit names %q, which is not in the header", ErrCrit, name)
		}
	}
	if h.hasB64 && !seen["b64"] {
		return fmt.Errorf("%w: b64 present but not listed in crit", ErrB64)
	}
	for _, must := range []struct {
		name string
		has  bool
	}{{"iat", h.hasIat}, {"iss", h.hasIss}, {"jti", h.hasJti}} {
		if must.has && !seen[must.name] {
			return fmt.Errorf("%w: crit omits %q", ErrCrit, must.name)
		}
	}
	return nil
}

// sigAlg maps an allowed JWS alg to jwx; any other alg (none, HS*, RS*, ES256, …) is refused.
func sigAlg(alg string) (jwa.SignatureAlgorithm, error) {
	switch alg {
	case AlgPS256:
		return jwa.PS256(), nil
	case AlgES384:
		return jwa.ES384(), nil
	case AlgES512:
		return jwa.ES512(), nil
	}
	return jwa.SignatureAlgorithm{}, fmt.Errorf("%w: alg %q (allowed: PS256, ES384, ES512)", ErrAlgorithm, truncate(alg))
}
