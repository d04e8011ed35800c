package stdjose

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"math/big"
	"strings"
)

// B64 is base64url without padding (RFC 7515 §2).
var B64 = base64.RawURLEncoding

// Errors. Each error returned by this package wraps one of them.
var (
	ErrMalformed  = errors.New("stdjose: malformed")
	ErrAlgorithm  = errors.New("stdjose: algorithm not allowed")
	ErrUnknownKey = errors.New("stdjose: unknown key")
	ErrSignature  = errors.New("stdjose: signature invalid")
	ErrDecrypt    = errors.New("stdjose: decryption failed")
	// Claim errors: the signature may be good but a header or claim rule fails.
	ErrIat     = errors.New("stdjose: iat invalid")
	ErrJti     = errors.New("stdjose: jti invalid")
	ErrReplay  = errors.New("stdjose: jti replayed")
	ErrIssuer  = errors.New("stdjose: iss invalid")
	ErrCrit    = errors.New("stdjose: crit invalid")
	ErrB64     = errors.New("stdjose: b64 invalid")
	ErrExpired = errors.New("stdjose: expired or not yet valid")
)

// IsClaimError reports whether err is a header/claim rule failure (answered as
// JWS.InvalidClaim, design.md §4) rather than a signature failure (JWS.InvalidSignature).
func IsClaimError(err error) bool {
	for _, e := range []error{ErrIat, ErrJti, ErrReplay, ErrIssuer, ErrCrit, ErrB64, ErrExpired} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// Member is one protected-header member.
type Member struct {
	Name  string
	Value any
}

// Header is a protected header kept in order, so that its bytes are exactly what a caller
// describes (a test case may need duplicate-looking or oddly ordered members).
type Header []Member

// With returns a copy of h with name set to value (replaced in place, or appended).
func (h Header) With(name string, value any) Header {
	out := make(Header, 0, len(h)+1)
	found := false
	for _, m := range h {
		if m.Name == name {
			out = append(out, Member{name, value})
			found = true
			continue
		}
		out = append(out, m)
	}
	if !found {
		out = append(out, Member{name, value})
	}
	return out
}

// Without returns a copy of h without name.
func (h Header) Without(name string) Header {
	out := make(Header, 0, len(h))
	for _, m := range h {
		if m.Name != name {
			out = append(out, m)
		}
	}
	return out
}

// Get returns the value of name.
func (h Header) Get(name string) (any, bool) {
	for _, m := range h {
		if m.Name == name {
			return m.Value, true
		}
	}
	return nil, false
}

// MarshalJSON writes the members in order.
func (h Header) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, m := range h {
		if i > 0 {
			buf.WriteByte(',')
		}
		k, err := json.Marshal(m.Name)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(m.Value)
		if err != nil {
			return nil, fmt.Errorf("header member %s: %w", m.Name, err)
		}
		buf.Write(k)
		buf.WriteByte(':')
		buf.Write(v)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// Spec describes one compact JWS to build.
type Spec struct {
	// Header is the protected header; RawHeader, when set, is used verbatim instead.
	Header    Header
	RawHeader []byte
	// Payload is the JWS payload (a request body, the claims of a JWT, a consent_id).
	Payload []byte
	// Detached leaves the payload segment empty (RFC 7515 Appendix F).
	Detached bool
	// Unencoded signs the raw payload instead of its base64url form (RFC 7797 §3), whatever
	// the header says; a case that lies about b64 sets this and the header independently.
	Unencoded bool
	// Alg is the algorithm actually used, whatever the header says: PS256, RS256, ES256,
	// ES384, ES512, HS256 or none.
	Alg string
	// Key signs: a crypto.Signer (*rsa.PrivateKey, *ecdsa.PrivateKey), or []byte for HS256.
	Key any
}

// Build returns the compact serialization (RFC 7515 §7.1).
func (s Spec) Build() (string, error) {
	hb := s.RawHeader
	if hb == nil {
		var err error
		if hb, err = json.Marshal(s.Header); err != nil {
			return "", fmt.Errorf("stdjose: header: %w", err)
		}
	}
	h := B64.EncodeToString(hb)
	sig, err := SignInput(s.Alg, s.Key, SigningInput(h, s.Payload, !s.Unencoded))
	if err != nil {
		return "", err
	}
	p := ""
	if !s.Detached {
		if s.Unencoded {
			p = string(s.Payload)
		} else {
			p = B64.EncodeToString(s.Payload)
		}
	}
	return h + "." + p + "." + B64.EncodeToString(sig), nil
}

// SigningInput is ASCII(BASE64URL(header) || '.' || payload part) (RFC 7515 §5.1 step 5;
// RFC 7797 §3 when b64 is false).
func SigningInput(headerSeg string, payload []byte, b64 bool) []byte {
	if b64 {
		return []byte(headerSeg + "." + B64.EncodeToString(payload))
	}
	return append([]byte(headerSeg+"."), payload...)
}

func digest(alg string, input []byte) (crypto.Hash, []byte, error) {
	var h hash.Hash
	var id crypto.Hash
	switch alg {
	case "PS256", "RS256", "ES256", "HS256":
		h, id = sha256.New(), crypto.SHA256
	case "ES384":
		h, id = sha512.New384(), crypto.SHA384
	case "ES512":
		h, id = sha512.New(), crypto.SHA512
	default:
		return 0, nil, fmt.Errorf("%w: %q", ErrAlgorithm, alg)
	}
	h.Write(input)
	return id, h.Sum(nil), nil
}

// SignInput computes a JWS signature (RFC 7518 §3) of input.
func SignInput(alg string, key any, input []byte) ([]byte, error) {
	if alg == "none" {
		return nil, nil
	}
	if alg == "HS256" {
		k, ok := key.([]byte)
		if !ok {
			return nil, fmt.Errorf("%w: HS256 needs a []byte key", ErrAlgorithm)
		}
		m := hmac.New(sha256.New, k)
		m.Write(input)
		return m.Sum(nil), nil
	}
	id, d, err := digest(alg, input)
	if err != nil {
		return nil, err
	}
	switch k := key.(type) {
	case *rsa.PrivateKey:
		switch alg {
		case "PS256":
			return rsa.SignPSS(rand.Reader, k, id, d, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		case "RS256":
			return rsa.SignPKCS1v15(rand.Reader, k, id, d)
		}
	case *ecdsa.PrivateKey:
		if alg == "ES256" || alg == "ES384" || alg == "ES512" {
			r, s, err := ecdsa.Sign(rand.Reader, k, d)
			if err != nil {
				return nil, err
			}
			// RFC 7518 §3.4: R and S as fixed-size big-endian octet strings, concatenated.
			size := (k.Curve.Params().BitSize + 7) / 8
			out := make([]byte, 2*size)
			r.FillBytes(out[:size])
			s.FillBytes(out[size:])
			return out, nil
		}
	}
	return nil, fmt.Errorf("%w: %s with a %T key", ErrAlgorithm, alg, key)
}

// curveAlg is the one algorithm of design.md §3.2 each EC curve may use.
var curveAlg = map[string]string{"P-384": "ES384", "P-521": "ES512"}

// AlgForKey is the algorithm a key signs with (design.md §3.4): RSA → PS256, P-384 → ES384,
// P-521 → ES512.
func AlgForKey(pub crypto.PublicKey) (string, error) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			return "", fmt.Errorf("%w: RSA key of %d bits", ErrAlgorithm, k.N.BitLen())
		}
		return "PS256", nil
	case *ecdsa.PublicKey:
		if a, ok := curveAlg[k.Curve.Params().Name]; ok {
			return a, nil
		}
		return "", fmt.Errorf("%w: curve %s", ErrAlgorithm, k.Curve.Params().Name)
	}
	return "", fmt.Errorf("%w: key type %T", ErrAlgorithm, pub)
}

// VerifyInput checks sig over input for alg ∈ {PS256, ES384, ES512} and a key that fits it
// (design.md §3.2); anything else is ErrAlgorithm.
func VerifyInput(alg string, pub crypto.PublicKey, input, sig []byte) error {
	want, err := AlgForKey(pub)
	if err != nil {
		return err
	}
	if alg != want {
		return fmt.Errorf("%w: %q with a key for %s", ErrAlgorithm, alg, want)
	}
	id, d, err := digest(alg, input)
	if err != nil {
		return err
	}
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if rsa.VerifyPSS(k, id, d, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}) != nil {
			return ErrSignature
		}
	case *ecdsa.PublicKey:
		size := (k.Curve.Params().BitSize + 7) / 8
		if len(sig) != 2*size {
			return fmt.Errorf("%w: ECDSA signature of %d bytes", ErrSignature, len(sig))
		}
		r, s := new(big.Int).SetBytes(sig[:size]), new(big.Int).SetBytes(sig[size:])
		if !ecdsa.Verify(k, d, r, s) {
			return ErrSignature
		}
	}
	return nil
}

// Parsed is a compact JWS split and its header decoded.
type Parsed struct {
	HeaderSeg, PayloadSeg string
	Signature             []byte
	// Header holds the protected header members as raw JSON.
	Header map[string]json.RawMessage
	Alg    string
	Kid    string
	// B64 is the RFC 7797 b64 member, true when absent.
	B64 bool
}

// Parse splits a compact JWS and decodes its protected header. A header with a duplicate
// member name is refused (RFC 7515 §4, last paragraph).
func Parse(compact string) (*Parsed, error) {
	seg := strings.Split(compact, ".")
	if len(seg) != 3 {
		return nil, fmt.Errorf("%w: %d segments, want 3", ErrMalformed, len(seg))
	}
	hb, err := B64.DecodeString(seg[0])
	if err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrMalformed, err)
	}
	hdr, err := objectMembers(hb)
	if err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrMalformed, err)
	}
	sig, err := B64.DecodeString(seg[2])
	if err != nil {
		return nil, fmt.Errorf("%w: signature: %v", ErrMalformed, err)
	}
	p := &Parsed{HeaderSeg: seg[0], PayloadSeg: seg[1], Signature: sig, Header: hdr, B64: true}
	if json.Unmarshal(hdr["alg"], &p.Alg) != nil || p.Alg == "" {
		return nil, fmt.Errorf("%w: alg missing or not a string", ErrAlgorithm)
	}
	if raw, ok := hdr["kid"]; ok && json.Unmarshal(raw, &p.Kid) != nil {
		return nil, fmt.Errorf("%w: kid not a string", ErrUnknownKey)
	}
	if raw, ok := hdr["b64"]; ok {
		if json.Unmarshal(raw, &p.B64) != nil {
			return nil, fmt.Errorf("%w: b64 not a boolean", ErrB64)
		}
	}
	return p, nil
}

// Payload returns the payload: detached when the payload segment is empty and detached is not
// nil, else the segment decoded as b64 says.
func (p *Parsed) Payload(detached []byte) ([]byte, error) {
	switch {
	case p.PayloadSeg == "" && detached != nil:
		return detached, nil
	case p.B64:
		b, err := B64.DecodeString(p.PayloadSeg)
		if err != nil {
			return nil, fmt.Errorf("%w: payload: %v", ErrMalformed, err)
		}
		return b, nil
	}
	return []byte(p.PayloadSeg), nil
}

// Verify checks the signature of p with pub; detached supplies the payload of a detached JWS.
// It returns the payload. Header rules beyond alg and b64 are the caller's (see Verifier).
func (p *Parsed) Verify(pub crypto.PublicKey, detached []byte) ([]byte, error) {
	payload, err := p.Payload(detached)
	if err != nil {
		return nil, err
	}
	if err := VerifyInput(p.Alg, pub, SigningInput(p.HeaderSeg, payload, p.B64), p.Signature); err != nil {
		return nil, err
	}
	return payload, nil
}

// Verify parses and verifies a compact JWS with pub; detached supplies the payload of a
// detached JWS. It returns the header members and the payload.
func Verify(compact string, pub crypto.PublicKey, detached []byte) (map[string]json.RawMessage, []byte, error) {
	p, err := Parse(compact)
	if err != nil {
		return nil, nil, err
	}
	payload, err := p.Verify(pub, detached)
	if err != nil {
		return nil, nil, err
	}
	return p.Header, payload, nil
}

// objectMembers decodes one JSON object, refusing duplicate member names and trailing data.
func objectMembers(b []byte) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, errors.New("not a JSON object")
	}
	out := map[string]json.RawMessage{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		name, _ := t.(string)
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("duplicate member %q", name)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		out[name] = v
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err == nil {
		return nil, errors.New("data after the object")
	}
	return out, nil
}

// H builds a Header from alternating names and values: H("alg", "PS256", "kid", kid).
func H(nameValues ...any) Header {
	h := make(Header, 0, len(nameValues)/2)
	for i := 0; i+1 < len(nameValues); i += 2 {
		name, _ := nameValues[i].(string)
		h = append(h, Member{Name: name, Value: nameValues[i+1]})
	}
	return h
}
