package jose

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/lestrrat-go/jwx/v3/jws"

	"github.com/ofpdp/ofpdp/internal/obs"
)

// KeyResolver finds verification keys by kid (consumer-owned: jose is the consumer).
// The paynet package implements it over PayNet's JWKS (cached ≤ 15 min, one rate-limited
// refresh on an unknown kid, design.md §3.2).
type KeyResolver interface {
	// SigningKey returns the verification key named kid, or an error wrapping ErrUnknownKey.
	SigningKey(ctx context.Context, kid string) (PublicKey, error)
}

// StaticKeys implements KeyResolver from a fixed set.
type StaticKeys struct{ Set *KeySet }

// SigningKey implements KeyResolver. It returns the key named kid whatever its use;
// the Verifier refuses keys whose use is not "sig".
func (s StaticKeys) SigningKey(_ context.Context, kid string) (PublicKey, error) {
	if k, ok := s.Set.ByKid(kid); ok {
		return k, nil
	}
	return PublicKey{}, fmt.Errorf("%w: kid %q", ErrUnknownKey, truncate(kid))
}

// Verifier verifies inbound PayNet signatures (design.md §3.2, §3.3). It is safe for
// concurrent use once configured.
type Verifier struct {
	Keys      KeyResolver
	Replay    ReplayCache      // required for VerifyDetached/VerifyRequest
	Now       func() time.Time // default time.Now
	Issuer    string           // when non-empty, iss MUST be present and equal Issuer
	Skew      time.Duration    // iat window, default 300 s both ways
	ReplayTTL time.Duration    // how long a jti is remembered, default 10 min
}

const (
	defaultSkew      = 300 * time.Second
	defaultReplayTTL = 10 * time.Minute
)

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func (v *Verifier) skew() time.Duration {
	if v.Skew > 0 {
		return v.Skew
	}
	return defaultSkew
}

func (v *Verifier) replayTTL() time.Duration {
	if v.ReplayTTL > 0 {
		return v.ReplayTTL
	}
	return defaultReplayTTL
}

// form is the shape of JWS a call accepts.
type form int

const (
	formDetached form = iota // header..signature over the request body
	formAttached             // authorize signature: payload = raw consent_id
	formClaims               // GET/HEAD: payload = {"url":…, "qpm":…}
)

// VerifyDetached verifies a detached compact JWS (header..sig) over the exact body bytes
// (design.md §3.2; RFC 7515 Appendix F; RFC 7797 for b64=false, which then needs "b64" in
// crit). alg ∈ {PS256, ES384, ES512} and fits the key; kid resolves via Keys to a "sig"
// key; iat present and within ±Skew; jti present and fresh via Replay, checked last so a
// forged request cannot burn a jti; iss per Issuer; crit present, non-empty, only iat, iss,
// jti, b64, listing iat and jti, iss when present and b64 when present. A non-empty payload
// segment is ErrAttachedPayload.
func (v *Verifier) VerifyDetached(ctx context.Context, sig string, body []byte) (*Header, error) {
	p, err := splitJWS(sig, maxCompactLen)
	if err != nil {
		return nil, err
	}
	if p.payload != "" {
		return nil, fmt.Errorf("%w: payload segment present in a detached JWS", ErrAttachedPayload)
	}
	return v.verifyDetached(ctx, p, body)
}

func (v *Verifier) verifyDetached(ctx context.Context, p *jwsParts, body []byte) (*Header, error) {
	if v.Replay == nil {
		return nil, errors.New("jose: Verifier.Replay is not configured")
	}
	h := &p.hdr
	if err := v.checkHeader(h, formDetached); err != nil {
		return nil, err
	}
	if body == nil {
		body = []byte{}
	}
	if _, err := v.verifySignature(ctx, p, body); err != nil {
		return nil, err
	}
	if err := v.useOnce(ctx, h.Jti, h.Iat); err != nil {
		return nil, err
	}
	out := h.Header
	return &out, nil
}

// VerifyAttached verifies an attached compact JWS and returns its payload: PayNet's
// authorize `signature`, payload = the raw consent_id (design.md §3.3, spec §2.4, §4.4).
// The header may be just {alg, kid}: iat, jti and crit are not required, but a present
// crit is validated like VerifyDetached's and a present iat must be inside the window.
// The same alg/kid/use rules apply. No jti is recorded (the page may be reloaded).
// An unencoded (b64=false) attached payload is refused.
func (v *Verifier) VerifyAttached(ctx context.Context, sig string) (*Header, []byte, error) {
	p, err := splitJWS(sig, maxCompactLen)
	if err != nil {
		return nil, nil, err
	}
	if p.payload == "" {
		return nil, nil, fmt.Errorf("%w: empty payload segment in an attached JWS", ErrMalformed)
	}
	if err := v.checkHeader(&p.hdr, formAttached); err != nil {
		return nil, nil, err
	}
	payload, err := v.verifySignature(ctx, p, nil)
	if err != nil {
		return nil, nil, err
	}
	out := p.hdr.Header
	return &out, payload, nil
}

// VerifyRequest is what the api middleware calls with x-fapi-signature. An empty payload
// segment → VerifyDetached over body. Otherwise, only for GET and HEAD with an empty
// body, the attached claims form (design.md §3.2, spec §9 item 9): the payload is a JSON
// object with "url" and optional "qpm" (query parameter → string or array of strings);
// url's path must equal reqURL's (escaped form, exactly) and its query must equal
// reqURL's as multisets; qpm, when present, must equal the request's query parameters.
// iat/jti/iss come from the protected header, or from the claims when absent there, and
// the same window, replay, iss and crit rules apply (crit is required when the header
// carries iat, iss or jti); a present exp/nbf claim is checked too. The returned Header
// carries the effective iat/jti/iss. The attached form for other methods →
// ErrAttachedPayload.
func (v *Verifier) VerifyRequest(ctx context.Context, sig, method string, reqURL *url.URL, body []byte) (*Header, error) {
	p, err := splitJWS(sig, maxCompactLen)
	if err != nil {
		return nil, err
	}
	if p.payload == "" {
		return v.verifyDetached(ctx, p, body)
	}
	if method != "GET" && method != "HEAD" {
		return nil, fmt.Errorf("%w: attached JWS on a %s request", ErrAttachedPayload, truncate(method))
	}
	if len(body) != 0 {
		return nil, fmt.Errorf("%w: attached JWS does not cover the request body", ErrAttachedPayload)
	}
	if v.Replay == nil {
		return nil, errors.New("jose: Verifier.Replay is not configured")
	}
	if reqURL == nil {
		return nil, fmt.Errorf("%w: no request URL", ErrURLMismatch)
	}
	h := &p.hdr
	if err := v.checkHeader(h, formClaims); err != nil {
		return nil, err
	}
	payload, err := v.verifySignature(ctx, p, nil)
	if err != nil {
		return nil, err
	}
	out := h.Header
	if err := v.checkClaims(&out, h, payload, reqURL); err != nil {
		return nil, err
	}
	if err := v.useOnce(ctx, out.Jti, out.Iat); err != nil {
		return nil, err
	}
	return &out, nil
}

// checkHeader applies the header rules that need no key: alg allow-list, kid present,
// iat/jti present (detached), b64, crit, iss and the iat window.
func (v *Verifier) checkHeader(h *protected, f form) error {
	if _, err := sigAlg(h.Alg); err != nil {
		return err
	}
	if h.Kid == "" {
		return fmt.Errorf("%w: kid missing", ErrUnknownKey)
	}
	if f == formDetached && !h.hasIat {
		return fmt.Errorf("%w: iat missing", ErrIat)
	}
	if (f == formDetached && !h.hasJti) || (h.hasJti && (h.Jti == "" || len(h.Jti) > maxIDLen)) {
		return fmt.Errorf("%w: jti missing, empty or longer than %d bytes", ErrJti, maxIDLen)
	}
	if f != formDetached && h.hasB64 && !h.B64 {
		return fmt.Errorf("%w: b64=false is only accepted with a detached payload", ErrB64)
	}
	required := f == formDetached || (f == formClaims && (h.hasIat || h.hasIss || h.hasJti || h.hasB64))
	if err := checkCrit(h, required); err != nil {
		return err
	}
	if h.hasIss || f == formDetached {
		if err := v.checkIssuer(h.Iss, h.hasIss); err != nil {
			return err
		}
	}
	if h.hasIat {
		if err := v.checkIat(h.Iat); err != nil {
			return err
		}
	}
	return nil
}

func (v *Verifier) checkIssuer(iss string, present bool) error {
	if v.Issuer == "" {
		return nil
	}
	if !present {
		return fmt.Errorf("%w: iss missing", ErrIssuer)
	}
	if iss != v.Issuer {
		return fmt.Errorf("%w: iss %q is not the configured issuer", ErrIssuer, truncate(iss))
	}
	return nil
}

func (v *Verifier) checkIat(iat time.Time) error {
	now, skew := v.now(), v.skew()
	if iat.Before(now.Add(-skew)) {
		return fmt.Errorf("%w: iat %s is more than %s in the past", ErrIat, iat.Format(time.RFC3339), skew)
	}
	if iat.After(now.Add(skew)) {
		return fmt.Errorf("%w: iat %s is more than %s in the future", ErrIat, iat.Format(time.RFC3339), skew)
	}
	return nil
}

// verifySignature resolves kid, checks use and alg against the key, and lets jwx verify
// the signature over the exact segments received (detached: over body). It returns the
// verified payload.
func (v *Verifier) verifySignature(ctx context.Context, p *jwsParts, detached []byte) ([]byte, error) {
	if v.Keys == nil {
		return nil, errors.New("jose: Verifier.Keys is not configured")
	}
	h := &p.hdr
	key, err := v.Keys.SigningKey(ctx, h.Kid)
	if err != nil {
		if errors.Is(err, ErrUnknownKey) {
			return nil, err
		}
		return nil, fmt.Errorf("jose: resolve kid %q: %w", truncate(h.Kid), err)
	}
	if err := verifyKeyFits(key, h.Alg); err != nil {
		return nil, err
	}
	return jwxVerify(ctx, p.raw, h.Alg, key.Key, detached)
}

// verifyKeyFits checks that key is a signing key for alg.
func verifyKeyFits(key PublicKey, alg string) error {
	if key.Use != UseSig {
		return fmt.Errorf("%w: key %q has use %q, not sig", ErrKeyUse, truncate(key.Kid), key.Use)
	}
	want, err := AlgForKey(key.Key)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrAlgorithm, err)
	}
	if alg != want || (key.Alg != "" && key.Alg != alg) {
		return fmt.Errorf("%w: alg %s does not fit key %q (%s)", ErrAlgorithm, alg, truncate(key.Kid), want)
	}
	return nil
}

// jwxVerify lets jwx verify a compact JWS whose header the caller has already checked.
// Crit validation stays on in jwx too (RFC 7515 §4.1.11), declaring only the names this
// profile processes itself.
func jwxVerify(ctx context.Context, compact, alg string, key any, detached []byte) ([]byte, error) {
	a, err := sigAlg(alg)
	if err != nil {
		return nil, err
	}
	opts := []jws.VerifyOption{
		jws.WithKey(a, key),
		jws.WithContext(ctx),
		jws.WithCritValidation(true),
		jws.WithCritExtension("iat", "iss", "jti"),
	}
	if detached != nil {
		opts = append(opts, jws.WithDetachedPayload(detached))
	}
	payload, err := jws.Verify([]byte(compact), opts...)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%w: %v", ErrSignature, err)
	}
	return payload, nil
}

// useOnce records jti for max(now+ReplayTTL, iat+Skew): as long as the same message could
// still pass the iat window.
func (v *Verifier) useOnce(ctx context.Context, jti string, iat time.Time) error {
	until := v.now().Add(v.replayTTL())
	if end := iat.Add(v.skew()); end.After(until) {
		until = end
	}
	ctx, span := obs.StartSpan(ctx, obs.SpanReplay)
	fresh, err := v.Replay.UseOnce(ctx, jti, until)
	obs.EndSpan(span, err)
	if err != nil {
		return fmt.Errorf("jose: replay cache: %w", err)
	}
	if !fresh {
		return fmt.Errorf("%w: jti %q", ErrReplay, truncate(jti))
	}
	return nil
}

// checkClaims applies the attached claims form (url/qpm) and fills the effective iat, jti
// and iss into out.
func (v *Verifier) checkClaims(out *Header, h *protected, payload []byte, reqURL *url.URL) error {
	c, err := members(payload)
	if err != nil {
		return fmt.Errorf("%w: claims: %v", ErrMalformed, err)
	}
	if !h.hasIat {
		raw, ok := c["iat"]
		if !ok {
			return fmt.Errorf("%w: iat missing from header and claims", ErrIat)
		}
		t, err := numericTime(raw)
		if err != nil {
			return fmt.Errorf("%w: iat %v", ErrIat, err)
		}
		if err := v.checkIat(t); err != nil {
			return err
		}
		out.Iat = t
	}
	if !h.hasJti {
		jti, ok, err := stringMember(c, "jti")
		if err != nil || !ok || jti == "" || len(jti) > maxIDLen {
			return fmt.Errorf("%w: jti missing from header and claims", ErrJti)
		}
		out.Jti = jti
	}
	if !h.hasIss {
		iss, ok, err := stringMember(c, "iss")
		if err != nil {
			return fmt.Errorf("%w: iss is not a string", ErrIssuer)
		}
		if err := v.checkIssuer(iss, ok); err != nil {
			return err
		}
		out.Iss = iss
	}
	now, skew := v.now(), v.skew()
	if raw, ok := c["exp"]; ok {
		t, err := numericTime(raw)
		if err != nil || now.After(t.Add(skew)) {
			return fmt.Errorf("%w: exp", ErrExpired)
		}
	}
	if raw, ok := c["nbf"]; ok {
		t, err := numericTime(raw)
		if err != nil || now.Before(t.Add(-skew)) {
			return fmt.Errorf("%w: nbf", ErrExpired)
		}
	}
	return matchURL(c, reqURL)
}

// matchURL compares the claims' url (and qpm) with the request URL.
func matchURL(c map[string]json.RawMessage, reqURL *url.URL) error {
	s, ok, err := stringMember(c, "url")
	if err != nil || !ok || s == "" {
		return fmt.Errorf("%w: url claim missing", ErrURLMismatch)
	}
	signed, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%w: url claim is not a URL", ErrURLMismatch)
	}
	if signed.EscapedPath() != reqURL.EscapedPath() {
		return fmt.Errorf("%w: path differs", ErrURLMismatch)
	}
	reqQuery, err := url.ParseQuery(reqURL.RawQuery)
	if err != nil {
		return fmt.Errorf("%w: request query is malformed", ErrURLMismatch)
	}
	signedQuery, err := url.ParseQuery(signed.RawQuery)
	if err != nil {
		return fmt.Errorf("%w: url claim query is malformed", ErrURLMismatch)
	}
	if !sameValues(signedQuery, reqQuery) {
		return fmt.Errorf("%w: query differs", ErrURLMismatch)
	}
	if raw, ok := c["qpm"]; ok {
		qpm, err := parseQPM(raw)
		if err != nil {
			return fmt.Errorf("%w: qpm: %v", ErrURLMismatch, err)
		}
		if !sameValues(qpm, reqQuery) {
			return fmt.Errorf("%w: qpm differs from the query", ErrURLMismatch)
		}
	}
	return nil
}

// parseQPM reads {"name": "value" | ["v1","v2"], …}.
func parseQPM(raw json.RawMessage) (url.Values, error) {
	m, err := members(raw)
	if err != nil {
		return nil, err
	}
	out := make(url.Values, len(m))
	for name, val := range m {
		if isJSONString(val) {
			var s string
			if err := json.Unmarshal(val, &s); err != nil {
				return nil, err
			}
			out[name] = []string{s}
			continue
		}
		var list []string
		if err := json.Unmarshal(val, &list); err != nil || list == nil {
			return nil, fmt.Errorf("value of %q is neither a string nor an array of strings", truncate(name))
		}
		out[name] = list
	}
	return out, nil
}

// sameValues compares two query parameter sets as multisets.
func sameValues(a, b url.Values) bool {
	if len(a) != len(b) {
		return false
	}
	for k, av := range a {
		bv, ok := b[k]
		if !ok || len(av) != len(bv) {
			return false
		}
		as, bs := slices.Clone(av), slices.Clone(bv)
		slices.Sort(as)
		slices.Sort(bs)
		if !slices.Equal(as, bs) {
			return false
		}
	}
	return true
}
