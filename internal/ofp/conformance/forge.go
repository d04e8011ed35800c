package conformance

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
)

// This file builds JWS values byte by byte with the standard library, including the malformed
// ones of negative-tests.md §5.2 that no JOSE library will produce (alg none, HS256 keyed with a
// public key, crit naming unknown members, b64 mismatches). internal/jose is the only package
// that imports a JOSE library (design.md §7.2) and it refuses to sign such values, which is why
// the conformance runner carries its own small encoder (RFC 7515 §5.1, RFC 7797 §3). The valid
// output is checked against internal/jose's verifier in forge_test.go.

var b64 = base64.RawURLEncoding

// member is one protected-header member, kept in order so that the header bytes are exactly
// what a case describes.
type member struct {
	name  string
	value any
}

// jwsHeader is an ordered protected header.
type jwsHeader []member

// with returns a copy of h with name set to value (replaced in place, or appended).
func (h jwsHeader) with(name string, value any) jwsHeader {
	out := make(jwsHeader, 0, len(h)+1)
	found := false
	for _, m := range h {
		if m.name == name {
			out = append(out, member{name, value})
			found = true
			continue
		}
		out = append(out, m)
	}
	if !found {
		out = append(out, member{name, value})
	}
	return out
}

// without returns a copy of h without name.
func (h jwsHeader) without(name string) jwsHeader {
	out := make(jwsHeader, 0, len(h))
	for _, m := range h {
		if m.name != name {
			out = append(out, m)
		}
	}
	return out
}

// get returns the value of name.
func (h jwsHeader) get(name string) (any, bool) {
	for _, m := range h {
		if m.name == name {
			return m.value, true
		}
	}
	return nil, false
}

// MarshalJSON writes the members in order.
func (h jwsHeader) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, m := range h {
		if i > 0 {
			buf.WriteByte(',')
		}
		k, err := json.Marshal(m.name)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(m.value)
		if err != nil {
			return nil, fmt.Errorf("header member %s: %w", m.name, err)
		}
		buf.Write(k)
		buf.WriteByte(':')
		buf.Write(v)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// jwsSpec describes one JWS to build.
type jwsSpec struct {
	header jwsHeader
	// payload is the JWS payload (the request body, or the claims of an attached JWS).
	payload []byte
	// detached leaves the payload segment empty (RFC 7515 Appendix F).
	detached bool
	// unencoded signs the raw payload instead of its base64url form (RFC 7797 §3), whatever
	// the header says; a case that lies about b64 sets this and the header independently.
	unencoded bool
	// alg is the algorithm actually used to sign, whatever the header says: "PS256",
	// "ES256", "ES384", "ES512", "RS256", "HS256" or "none".
	alg string
	// key signs: crypto.Signer for the asymmetric algorithms, []byte for HS256.
	key any
}

var errForge = errors.New("conformance: cannot build JWS")

// build returns the compact serialization.
func (s jwsSpec) build() (string, error) {
	hb, err := json.Marshal(s.header)
	if err != nil {
		return "", fmt.Errorf("%w: %v", errForge, err)
	}
	h := b64.EncodeToString(hb)
	var input []byte
	if s.unencoded {
		input = append([]byte(h+"."), s.payload...)
	} else {
		input = []byte(h + "." + b64.EncodeToString(s.payload))
	}
	sig, err := signInput(s.alg, s.key, input)
	if err != nil {
		return "", err
	}
	p := ""
	if !s.detached {
		if s.unencoded {
			p = string(s.payload)
		} else {
			p = b64.EncodeToString(s.payload)
		}
	}
	return h + "." + p + "." + b64.EncodeToString(sig), nil
}

// signInput computes a JWS signature (RFC 7518 §3) over input.
func signInput(alg string, key any, input []byte) ([]byte, error) {
	digest := func(h hash.Hash) []byte { h.Write(input); return h.Sum(nil) }
	switch alg {
	case "none":
		return nil, nil
	case "HS256":
		k, ok := key.([]byte)
		if !ok {
			return nil, fmt.Errorf("%w: HS256 needs a []byte key", errForge)
		}
		m := hmac.New(sha256.New, k)
		m.Write(input)
		return m.Sum(nil), nil
	case "PS256", "RS256":
		k, ok := key.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("%w: %s needs an RSA key, have %T", errForge, alg, key)
		}
		d := digest(sha256.New())
		if alg == "RS256" {
			return rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, d)
		}
		return rsa.SignPSS(rand.Reader, k, crypto.SHA256, d, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	case "ES256", "ES384", "ES512":
		k, ok := key.(*ecdsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("%w: %s needs an EC key, have %T", errForge, alg, key)
		}
		var d []byte
		switch alg {
		case "ES256":
			d = digest(sha256.New())
		case "ES384":
			d = digest(sha512.New384())
		default:
			d = digest(sha512.New())
		}
		r, s, err := ecdsa.Sign(rand.Reader, k, d)
		if err != nil {
			return nil, err
		}
		// RFC 7518 §3.4: R and S as fixed-size big-endian octet strings, concatenated.
		size := (k.Curve.Params().BitSize + 7) / 8
		return append(fixed(r, size), fixed(s, size)...), nil
	}
	return nil, fmt.Errorf("%w: algorithm %q", errForge, alg)
}

func fixed(n *big.Int, size int) []byte {
	out := make([]byte, size)
	return n.FillBytes(out)
}
