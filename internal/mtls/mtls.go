package mtls

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"
)

// FAPICipherSuites are the TLS 1.2 suites FAPI 1.0 Advanced §8.5 and BCP 195 allow that Go
// implements (ECDHE with AES-GCM). TLS 1.3 suites are not configurable in Go and all are AEAD.
var FAPICipherSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
}

// LoadCAPool reads a PEM bundle of CA certificates.
func LoadCAPool(path string) (*x509.CertPool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("%s: no PEM certificates", path)
	}
	return pool, nil
}

// ServerConfig is the TLS configuration of a server listener. With clientCAs set, a client
// certificate chaining to them is required (the api listener); without, server TLS only (web).
func ServerConfig(cert tls.Certificate, clientCAs *x509.CertPool) *tls.Config {
	c := &tls.Config{
		MinVersion:       tls.VersionTLS12,
		CipherSuites:     FAPICipherSuites,
		Certificates:     []tls.Certificate{cert},
		CurvePreferences: []tls.CurveID{tls.X25519MLKEM768, tls.X25519, tls.CurveP256, tls.CurveP384},
	}
	if clientCAs != nil {
		c.ClientAuth = tls.RequireAndVerifyClientCert
		c.ClientCAs = clientCAs
	}
	return c
}

// ClientConfig is the TLS configuration of ofpdp's calls to PayNet: our client certificate and
// PayNet's CA as the only roots.
func ClientConfig(cert tls.Certificate, roots *x509.CertPool) *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		CipherSuites: FAPICipherSuites,
		Certificates: []tls.Certificate{cert},
		RootCAs:      roots,
	}
}

// Fingerprint is the lower-case hex SHA-256 of a certificate's DER (what the allow-list holds).
func Fingerprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return hex.EncodeToString(sum[:])
}

// ParseFingerprint parses a SHA-256 certificate fingerprint written as 64 hex digits, any case,
// optionally separated by colons as openssl prints it. It returns the canonical form
// (lower-case hex, no colons) that Fingerprint produces.
func ParseFingerprint(s string) (string, error) {
	n := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), ":", ""))
	if b, err := hex.DecodeString(n); err != nil || len(b) != sha256.Size {
		return "", fmt.Errorf("%q is not a SHA-256 fingerprint (64 hex digits)", s)
	}
	return n, nil
}

// ErrNoCertificate: the request carried no client certificate.
var ErrNoCertificate = errors.New("mtls: no client certificate")

// ErrNotAllowed: the certificate chains to the CA but is not on the allow-list.
var ErrNotAllowed = errors.New("mtls: client certificate not allowed")

// ErrAmbiguousCertificate: the proxy header carried more than one value, so which certificate the
// proxy verified cannot be known. It wraps ErrNotAllowed (design §4: 401 invalid_client).
var ErrAmbiguousCertificate = fmt.Errorf("%w: more than one client certificate header value", ErrNotAllowed)

// Gate decides whether a request comes from an allowed PayNet client certificate.
type Gate struct {
	fingerprints map[string]bool
	subjects     map[string]bool
	roots        *x509.CertPool
	header       string
	proxies      []netip.Prefix
	now          func() time.Time
}

// GateOptions configure a Gate.
type GateOptions struct {
	// Fingerprints are allowed SHA-256 fingerprints (hex, any case, colons allowed).
	Fingerprints []string
	// Subjects are allowed certificate subjects in RFC 2253 form (x509.Certificate.Subject.String()).
	Subjects []string
	// Roots verify a certificate that arrives in a proxy header (the TLS stack verifies the others).
	Roots *x509.CertPool
	// Header, when set, names the header a TLS-terminating proxy puts the URL-escaped PEM client
	// certificate in; it is read only from Proxies.
	Header  string
	Proxies []netip.Prefix
	Now     func() time.Time
}

// NewGate builds a Gate. With neither fingerprints nor subjects, every certificate that chains to
// the PayNet CA is accepted.
func NewGate(o GateOptions) (*Gate, error) {
	g := &Gate{fingerprints: map[string]bool{}, subjects: map[string]bool{}, roots: o.Roots,
		header: o.Header, proxies: o.Proxies, now: o.Now}
	if g.now == nil {
		g.now = time.Now
	}
	for _, f := range o.Fingerprints {
		n, err := ParseFingerprint(f)
		if err != nil {
			return nil, fmt.Errorf("client certificate fingerprint: %w", err)
		}
		g.fingerprints[n] = true
	}
	for _, s := range o.Subjects {
		g.subjects[s] = true
	}
	if g.header != "" && g.roots == nil {
		return nil, errors.New("a client certificate header needs the CA bundle to verify it")
	}
	return g, nil
}

// Check returns the verified, allowed client certificate of r, or ErrNoCertificate / ErrNotAllowed.
func (g *Gate) Check(r *http.Request) (*x509.Certificate, error) {
	cert, err := g.peer(r)
	if err != nil {
		return nil, err
	}
	if len(g.fingerprints) == 0 && len(g.subjects) == 0 {
		return cert, nil
	}
	if g.fingerprints[Fingerprint(cert)] || g.subjects[cert.Subject.String()] {
		return cert, nil
	}
	return nil, fmt.Errorf("%w: subject %q", ErrNotAllowed, cert.Subject.String())
}

// Peer returns r's verified client certificate (from the handshake, or from a trusted proxy's
// header) without consulting the allow-list: what the caller presented, for diagnostics.
func (g *Gate) Peer(r *http.Request) (*x509.Certificate, error) { return g.peer(r) }

func (g *Gate) peer(r *http.Request) (*x509.Certificate, error) {
	if g.header != "" && g.fromProxy(r) {
		// Design §2 lets only the configured proxies name the client certificate, and a proxy
		// sets exactly one value. A second value (a client's own header that the proxy appended
		// to, or two folded into one line: a URL-escaped PEM never holds a raw comma) means the
		// request's identity is in doubt. That is a question of who the client is, not of a
		// malformed request, so it is refused as design §4's invalid_client (401), like any
		// certificate that is not an allowed PayNet certificate, not as 400 invalid_request.
		switch vals := r.Header.Values(g.header); {
		case len(vals) > 1 || (len(vals) == 1 && strings.Contains(vals[0], ",")):
			return nil, ErrAmbiguousCertificate
		case len(vals) == 1 && vals[0] != "":
			return g.fromHeader(vals[0])
		}
	}
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return nil, ErrNoCertificate
	}
	return r.TLS.PeerCertificates[0], nil
}

func (g *Gate) fromProxy(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	addr = addr.Unmap()
	return slices.ContainsFunc(g.proxies, func(p netip.Prefix) bool { return p.Contains(addr) })
}

// fromHeader parses and verifies a URL-escaped PEM certificate (nginx $ssl_client_escaped_cert,
// Envoy/Traefik style) sent by a trusted proxy.
func (g *Gate) fromHeader(v string) (*x509.Certificate, error) {
	unescaped, err := url.QueryUnescape(v)
	if err != nil {
		return nil, fmt.Errorf("%w: header is not URL-escaped PEM", ErrNotAllowed)
	}
	block, _ := pem.Decode([]byte(unescaped))
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%w: header holds no PEM certificate", ErrNotAllowed)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotAllowed, err)
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: g.roots, CurrentTime: g.now(),
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotAllowed, err)
	}
	return cert, nil
}
