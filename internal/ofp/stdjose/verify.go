package stdjose

import (
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Verifier checks signatures a party receives under the profile of design.md §3.2: alg ∈
// {PS256, ES384, ES512} fitting the key, kid naming a "sig" key of Keys, and for a detached
// request signature iat within ±Skew, jti never seen within ReplayTTL, iss equal to Issuer
// when set, and crit naming exactly understood, present members. Safe for concurrent use.
type Verifier struct {
	Keys      KeyLookup
	Now       func() time.Time
	Issuer    string
	Skew      time.Duration // default 300 s
	ReplayTTL time.Duration // default 10 min

	mu   sync.Mutex
	seen map[string]time.Time
}

// KeyLookup finds a verification key by kid: a fixed *KeySet, or a cache that refreshes it
// (the simulator's copy of the DP's JWKS, spec §4.2).
type KeyLookup interface {
	ByKid(kid string) (PublicKey, bool)
}

// understood are the header parameters a crit may name (design.md §3.2).
var understood = []string{"iat", "iss", "jti", "b64"}

func (v *Verifier) skew() time.Duration {
	if v.Skew > 0 {
		return v.Skew
	}
	return 300 * time.Second
}

// key resolves kid to a signing key.
func (v *Verifier) key(p *Parsed) (PublicKey, error) {
	if p.Kid == "" {
		return PublicKey{}, fmt.Errorf("%w: kid missing", ErrUnknownKey)
	}
	k, ok := v.Keys.ByKid(p.Kid)
	if !ok || k.Use != "sig" {
		return PublicKey{}, fmt.Errorf("%w: kid %q", ErrUnknownKey, p.Kid)
	}
	return k, nil
}

// checkCrit applies RFC 7515 §4.1.11 and RFC 7797 §6: crit is a non-empty array of
// understood names, each present in the header, including b64 when b64 is present and every
// name of must.
func checkCrit(h map[string]json.RawMessage, must []string) error {
	raw, ok := h["crit"]
	if !ok {
		if len(must) > 0 {
			return fmt.Errorf("%w: crit missing", ErrCrit)
		}
		if _, b := h["b64"]; b {
			return fmt.Errorf("%w: b64 present but crit missing", ErrB64)
		}
		return nil
	}
	var crit []string
	if json.Unmarshal(raw, &crit) != nil || len(crit) == 0 {
		return fmt.Errorf("%w: crit is not a non-empty array of strings", ErrCrit)
	}
	for _, n := range crit {
		if !slices.Contains(understood, n) {
			return fmt.Errorf("%w: crit names %q, not understood", ErrCrit, n)
		}
		if _, ok := h[n]; !ok {
			return fmt.Errorf("%w: crit names %q, absent from the header", ErrCrit, n)
		}
	}
	for _, n := range must {
		if !slices.Contains(crit, n) {
			return fmt.Errorf("%w: crit does not list %q", ErrCrit, n)
		}
	}
	if _, b := h["b64"]; b && !slices.Contains(crit, "b64") {
		return fmt.Errorf("%w: b64 present but not listed in crit", ErrB64)
	}
	return nil
}

// VerifyDetached verifies a detached request signature (header..signature) over body: the
// form of design.md §3.4 that DPs send PayNet (PATCH). It returns the header members.
func (v *Verifier) VerifyDetached(sig string, body []byte) (map[string]json.RawMessage, error) {
	p, err := Parse(sig)
	if err != nil {
		return nil, err
	}
	if p.PayloadSeg != "" {
		return nil, fmt.Errorf("%w: payload segment present in a detached JWS", ErrMalformed)
	}
	k, err := v.key(p)
	if err != nil {
		return nil, err
	}
	if body == nil {
		body = []byte{}
	}
	if _, err := p.Verify(k.Key, body); err != nil {
		return nil, err
	}
	if err := checkCrit(p.Header, []string{"iat", "iss", "jti"}); err != nil {
		return nil, err
	}
	var iss, jti string
	var iat int64
	if json.Unmarshal(p.Header["iat"], &iat) != nil {
		return nil, fmt.Errorf("%w: iat is not a NumericDate", ErrIat)
	}
	now := v.Now()
	if d := now.Sub(time.Unix(iat, 0)); d > v.skew() || d < -v.skew() {
		return nil, fmt.Errorf("%w: iat %d is %s away from now", ErrIat, iat, d.Round(time.Second))
	}
	if json.Unmarshal(p.Header["iss"], &iss) != nil || (v.Issuer != "" && iss != v.Issuer) {
		return nil, fmt.Errorf("%w: iss %s, want %q", ErrIssuer, p.Header["iss"], v.Issuer)
	}
	if json.Unmarshal(p.Header["jti"], &jti) != nil || jti == "" {
		return nil, fmt.Errorf("%w: jti missing or not a string", ErrJti)
	}
	if !v.useOnce(jti, now) {
		return nil, fmt.Errorf("%w: %q", ErrReplay, jti)
	}
	return p.Header, nil
}

// useOnce records jti and reports whether it was new within ReplayTTL.
func (v *Verifier) useOnce(jti string, now time.Time) bool {
	ttl := v.ReplayTTL
	if ttl <= 0 {
		ttl = 10 * time.Minute
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.seen == nil {
		v.seen = map[string]time.Time{}
	}
	for k, until := range v.seen {
		if now.After(until) {
			delete(v.seen, k)
		}
	}
	if until, ok := v.seen[jti]; ok && !now.After(until) {
		return false
	}
	v.seen[jti] = now.Add(ttl)
	return true
}

// VerifyAttached verifies an attached JWS (an id_token, an authorize signature) and returns
// its header members and payload. An unencoded payload is refused; a crit, when present,
// must name understood, present members.
func (v *Verifier) VerifyAttached(compact string) (map[string]json.RawMessage, []byte, error) {
	p, err := Parse(compact)
	if err != nil {
		return nil, nil, err
	}
	if !p.B64 {
		return nil, nil, fmt.Errorf("%w: b64=false with an attached payload", ErrB64)
	}
	if p.PayloadSeg == "" {
		return nil, nil, fmt.Errorf("%w: no payload", ErrMalformed)
	}
	k, err := v.key(p)
	if err != nil {
		return nil, nil, err
	}
	payload, err := p.Verify(k.Key, nil)
	if err != nil {
		return nil, nil, err
	}
	if err := checkCrit(p.Header, nil); err != nil {
		return nil, nil, err
	}
	return p.Header, payload, nil
}
