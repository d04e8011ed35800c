package stdjose

import (
	"crypto"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Signer signs as one party: its key, the kid its JWKS publishes for it, and its iss.
type Signer struct {
	Key    crypto.Signer
	Kid    string
	Issuer string
	Now    func() time.Time
	NewID  func() string
}

// LoadSigner reads a PEM private key and its certificate; the kid is the certificate's
// thumbprint, as in the development PKI's JWKS (design.md §8).
func LoadSigner(keyFile, certFile, issuer string, now func() time.Time, newID func() string) (*Signer, error) {
	key, err := LoadPrivateKeyFile(keyFile)
	if err != nil {
		return nil, err
	}
	chain, err := LoadCertificatesFile(certFile)
	if err != nil {
		return nil, err
	}
	return NewSigner(key, chain[0], issuer, now, newID)
}

// NewSigner checks that cert carries key and returns its signer.
func NewSigner(key crypto.Signer, cert *x509.Certificate, issuer string, now func() time.Time, newID func() string) (*Signer, error) {
	eq, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !eq.Equal(cert.PublicKey) {
		return nil, fmt.Errorf("%w: the certificate does not carry the key", ErrKey)
	}
	if _, err := AlgForKey(key.Public()); err != nil {
		return nil, err
	}
	return &Signer{Key: key, Kid: Thumbprint(cert), Issuer: issuer, Now: now, NewID: newID}, nil
}

// Alg is the algorithm the key signs with.
func (s *Signer) Alg() string {
	a, _ := AlgForKey(s.Key.Public())
	return a
}

// DetachedHeader is the header of a detached request signature (design.md §3.2, §3.4;
// spec §4.2): {alg, kid, iss, jti, iat, crit ["iat","iss","jti"]}, plus b64:false and "b64" in
// crit for an RFC 7797 unencoded payload.
func (s *Signer) DetachedHeader(b64 bool) (Header, error) {
	if s.Issuer == "" || s.NewID == nil || s.Now == nil {
		return nil, errors.New("stdjose: Signer needs Issuer, Now and NewID")
	}
	h := Header{{"alg", s.Alg()}, {"kid", s.Kid}, {"iss", s.Issuer}, {"jti", s.NewID()}, {"iat", s.Now().Unix()}}
	if b64 {
		return h.With("crit", []string{"iat", "iss", "jti"}), nil
	}
	return h.With("b64", false).With("crit", []string{"iat", "iss", "jti", "b64"}), nil
}

// SignDetached returns "header..signature" over body (RFC 7515 Appendix F).
func (s *Signer) SignDetached(body []byte) (string, error) {
	h, err := s.DetachedHeader(true)
	if err != nil {
		return "", err
	}
	return Spec{Header: h, Payload: body, Detached: true, Alg: s.Alg(), Key: s.Key}.Build()
}

// SignDetachedUnencoded is SignDetached with an unencoded payload (RFC 7797).
func (s *Signer) SignDetachedUnencoded(body []byte) (string, error) {
	h, err := s.DetachedHeader(false)
	if err != nil {
		return "", err
	}
	return Spec{Header: h, Payload: body, Detached: true, Unencoded: true, Alg: s.Alg(), Key: s.Key}.Build()
}

// SignAttached returns a compact JWS with the header exactly {alg, kid} and the raw payload:
// PayNet's authorize signature over the consent_id (spec §2.4, §4.4).
func (s *Signer) SignAttached(payload []byte) (string, error) {
	return Spec{Header: Header{{"alg", s.Alg()}, {"kid", s.Kid}}, Payload: payload, Alg: s.Alg(), Key: s.Key}.Build()
}

// SignJWT returns a JWS with header {alg, kid, typ:"JWT"} over the JSON of claims (RFC 7519).
func (s *Signer) SignJWT(claims any) (string, error) {
	b, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	return Spec{Header: Header{{"alg", s.Alg()}, {"kid", s.Kid}, {"typ", "JWT"}}, Payload: b, Alg: s.Alg(), Key: s.Key}.Build()
}
