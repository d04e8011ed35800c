package jose

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/lestrrat-go/jwx/v3/jws"
)

// Signer produces the DP's outbound signatures (design.md §3.4): detached request
// signatures (PATCH), attached JWS, JWTs (id_token, sealed responses). Safe for
// concurrent use.
type Signer struct {
	Key *SigningKey
	// Active, when set, is asked for the signing key at every signature instead of Key, so that
	// a key rotation takes effect without restart (the active key of a key ring).
	Active interface{ Active() *SigningKey }
	Issuer string           // iss in detached headers (= dp_id) and in sealed responses
	Now    func() time.Time // default time.Now
	NewID  func() string    // default uuid.NewString
}

func (s *Signer) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Signer) newID() string {
	if s.NewID != nil {
		return s.NewID()
	}
	return uuid.NewString()
}

// SignDetached returns "header..signature" over body (RFC 7515 Appendix F) with the
// header {alg, kid, iss, jti (new uuid), iat (now), crit ["iat","iss","jti"]} and the
// default b64 (design.md §3.4). Every call has a new jti and iat.
func (s *Signer) SignDetached(body []byte) (string, error) {
	return s.signDetached(body, true)
}

// SignDetachedUnencoded is SignDetached with an RFC 7797 unencoded payload: the header
// adds "b64":false and crit ["iat","iss","jti","b64"]. ofpdp does not send these to
// PayNet; the conformance runner and the tests use it to exercise b64=false.
func (s *Signer) SignDetachedUnencoded(body []byte) (string, error) {
	return s.signDetached(body, false)
}

func (s *Signer) signDetached(body []byte, b64 bool) (string, error) {
	if s.Issuer == "" {
		return "", errors.New("jose: Signer.Issuer is not configured")
	}
	jti := s.newID()
	if jti == "" {
		return "", errors.New("jose: Signer.NewID returned an empty id")
	}
	h := jws.NewHeaders()
	crit := []string{"iat", "iss", "jti"}
	for _, kv := range []struct {
		k string
		v any
	}{{"iss", s.Issuer}, {"jti", jti}, {"iat", s.now().Unix()}} {
		if err := h.Set(kv.k, kv.v); err != nil {
			return "", fmt.Errorf("jose: header %s: %w", kv.k, err)
		}
	}
	if !b64 {
		if err := h.Set(jws.B64Key, false); err != nil {
			return "", fmt.Errorf("jose: header b64: %w", err)
		}
		crit = append(crit, "b64")
	}
	if err := h.Set(jws.CriticalKey, crit); err != nil {
		return "", fmt.Errorf("jose: header crit: %w", err)
	}
	if body == nil {
		body = []byte{}
	}
	out, err := s.sign(nil, h, body)
	if err != nil {
		return "", err
	}
	return string(out), nil
}

// SignAttached returns a compact JWS with the header exactly {alg, kid} and the raw
// payload: the shape of PayNet's authorize `signature` (spec paynet-dp.md §2.4).
func (s *Signer) SignAttached(payload []byte) (string, error) {
	out, err := s.sign(payload, jws.NewHeaders(), nil)
	if err != nil {
		return "", err
	}
	return string(out), nil
}

// SignJWT returns a compact JWS with the header {alg, kid, typ:"JWT"} whose payload is the
// JSON encoding of claims (RFC 7519).
func (s *Signer) SignJWT(claims any) (string, error) {
	b, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("jose: marshal claims: %w", err)
	}
	out, err := s.signJWT(b)
	if err != nil {
		return "", err
	}
	return string(out), nil
}

func (s *Signer) signJWT(payload []byte) ([]byte, error) {
	h := jws.NewHeaders()
	if err := h.Set(jws.TypeKey, "JWT"); err != nil {
		return nil, fmt.Errorf("jose: header typ: %w", err)
	}
	return s.sign(payload, h, nil)
}

// sign signs with the SigningKey, adding kid to h; detached != nil signs a detached payload.
func (s *Signer) sign(payload []byte, h jws.Headers, detached []byte) ([]byte, error) {
	key := s.Key
	if s.Active != nil {
		key = s.Active.Active()
	}
	if err := key.check(); err != nil {
		return nil, err
	}
	alg, err := sigAlg(key.Alg)
	if err != nil {
		return nil, err
	}
	if err := h.Set(jws.KeyIDKey, key.Kid); err != nil {
		return nil, fmt.Errorf("jose: header kid: %w", err)
	}
	opts := []jws.SignOption{jws.WithKey(alg, key.Key, jws.WithProtectedHeaders(h))}
	if detached != nil {
		opts = append(opts, jws.WithDetachedPayload(detached))
	}
	out, err := jws.Sign(payload, opts...)
	if err != nil {
		return nil, fmt.Errorf("jose: sign: %w", err)
	}
	return out, nil
}

// IDTokenClaims are the id_token claims of spec paynet-dp.md §4.5.
type IDTokenClaims struct {
	Issuer, Subject, Audience  string
	IssuedAt, Expiry, AuthTime time.Time
	IDType, HashedIDNumber     string
	Nonce                      string // omitted when empty (oidc profile only)
}

type idTokenJSON struct {
	Iss            string `json:"iss"`
	Sub            string `json:"sub"`
	Aud            string `json:"aud"`
	Exp            int64  `json:"exp"`
	Iat            int64  `json:"iat"`
	AuthTime       int64  `json:"auth_time"`
	IDType         string `json:"id_type"`
	HashedIDNumber string `json:"hashed_id_number"`
	Nonce          string `json:"nonce,omitempty"`
}

// SignIDToken signs an id_token (spec §4.5; OpenID Connect Core §2) with numeric dates.
// Every claim but Nonce is required and Expiry must be after IssuedAt.
func (s *Signer) SignIDToken(c IDTokenClaims) (string, error) {
	for _, f := range []struct{ name, v string }{
		{"iss", c.Issuer}, {"sub", c.Subject}, {"aud", c.Audience},
		{"id_type", c.IDType}, {"hashed_id_number", c.HashedIDNumber},
	} {
		if f.v == "" {
			return "", fmt.Errorf("jose: id_token: %s is empty", f.name)
		}
	}
	if c.IssuedAt.IsZero() || c.AuthTime.IsZero() || !c.Expiry.After(c.IssuedAt) {
		return "", errors.New("jose: id_token: iat and auth_time are required and exp must be after iat")
	}
	return s.SignJWT(idTokenJSON{
		Iss: c.Issuer, Sub: c.Subject, Aud: c.Audience,
		Exp: c.Expiry.Unix(), Iat: c.IssuedAt.Unix(), AuthTime: c.AuthTime.Unix(),
		IDType: c.IDType, HashedIDNumber: c.HashedIDNumber, Nonce: c.Nonce,
	})
}
