package stdjose

import (
	"bytes"
	"crypto"
	"encoding/json"
	"fmt"
	"time"
)

// ResponseClaims are the claims of a sealed data response (design.md §3.5, spec §3.1.8).
type ResponseClaims struct {
	Iss  string   `json:"iss"`
	Aud  []string `json:"aud"`
	Data string   `json:"data"`
	Iat  int64    `json:"iat"`
	Nbf  int64    `json:"nbf"`
	Exp  int64    `json:"exp"`
	Jti  string   `json:"jti"`
}

// responseSkew is the clock tolerance for exp and nbf.
const responseSkew = 300 * time.Second

// Opened is a data response as the data consumer sees it.
type Opened struct {
	Header    map[string]json.RawMessage
	Claims    ResponseClaims
	JWEHeader map[string]json.RawMessage
	// Plaintext is the decrypted JWE: {"data": …, "meta": …}.
	Plaintext []byte
}

// OpenResponse verifies a sealed data response with the DP's keys (alg fitting the key, kid
// naming a "sig" key, no crit or b64, typ JWT when present, exp and nbf against now) and
// decrypts its JWE with decKey (design.md §3.5; negative-tests D12, D13). The caller checks
// iss and aud. On a decryption error Opened still carries the verified claims.
func OpenResponse(body []byte, dpKeys KeyLookup, decKey crypto.PrivateKey, now time.Time) (*Opened, error) {
	p, err := Parse(string(bytes.TrimSpace(body)))
	if err != nil {
		return nil, err
	}
	o := &Opened{Header: p.Header}
	if p.PayloadSeg == "" {
		return o, fmt.Errorf("%w: response JWS has no payload", ErrMalformed)
	}
	_, crit := p.Header["crit"]
	_, b64 := p.Header["b64"]
	if crit || b64 {
		return o, fmt.Errorf("%w: a response JWS carries no crit or b64", ErrCrit)
	}
	if raw, ok := p.Header["typ"]; ok {
		var typ string
		if json.Unmarshal(raw, &typ) != nil || typ != "JWT" {
			return o, fmt.Errorf("%w: typ %s", ErrMalformed, raw)
		}
	}
	k, err := (&Verifier{Keys: dpKeys}).key(p)
	if err != nil {
		return o, err
	}
	payload, err := p.Verify(k.Key, nil)
	if err != nil {
		return o, err
	}
	m, err := objectMembers(payload)
	if err != nil {
		return o, fmt.Errorf("%w: response claims: %v", ErrMalformed, err)
	}
	c := &o.Claims
	for _, f := range []struct {
		name string
		dst  any
	}{{"iss", &c.Iss}, {"aud", &c.Aud}, {"data", &c.Data}, {"iat", &c.Iat}, {"exp", &c.Exp}, {"jti", &c.Jti}, {"nbf", &c.Nbf}} {
		raw, ok := m[f.name]
		if !ok {
			if f.name == "nbf" {
				continue
			}
			return o, fmt.Errorf("%w: response claim %q missing", ErrMalformed, f.name)
		}
		if err := json.Unmarshal(raw, f.dst); err != nil {
			return o, fmt.Errorf("%w: response claim %q: %v", ErrMalformed, f.name, err)
		}
	}
	if now.After(time.Unix(c.Exp, 0).Add(responseSkew)) {
		return o, fmt.Errorf("%w: exp %d is past", ErrExpired, c.Exp)
	}
	if _, ok := m["nbf"]; ok && now.Before(time.Unix(c.Nbf, 0).Add(-responseSkew)) {
		return o, fmt.Errorf("%w: nbf %d is in the future", ErrExpired, c.Nbf)
	}
	o.Plaintext, o.JWEHeader, err = Decrypt(c.Data, decKey)
	if err != nil {
		return o, err
	}
	return o, nil
}
