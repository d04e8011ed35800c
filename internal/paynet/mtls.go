package paynet

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/ofpdp/ofpdp/internal/mtls"
)

// NewMTLSClient returns the HTTP client for calls to PayNet (spec §4.1, design.md §2): it presents
// the DP's client certificate (certFile/keyFile, PEM; certFile may hold the chain, leaf first),
// trusts only the CAs in caFile for PayNet's server certificate, speaks TLS 1.2+ with the FAPI
// cipher suites of mtls.ClientConfig (the same as the api listener accepts), does not
// follow redirects (a signed request is never replayed to another URL; a 3xx is an answer), and
// gives up on a call after timeout (0 means no client-level timeout; callers' contexts still
// apply).
func NewMTLSClient(certFile, keyFile, caFile string, timeout time.Duration) (*http.Client, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("paynet: mTLS client certificate: %w", err)
	}
	return NewMTLSClientCert(cert, caFile, timeout)
}

// NewMTLSClientCert is NewMTLSClient with the client certificate given: its PrivateKey may be
// any crypto.Signer, e.g. a key in an HSM (internal/keysource).
func NewMTLSClientCert(cert tls.Certificate, caFile string, timeout time.Duration) (*http.Client, error) {
	roots, err := mtls.LoadCAPool(caFile)
	if err != nil {
		return nil, fmt.Errorf("paynet: PayNet CA bundle: %w", err)
	}
	if timeout < 0 {
		return nil, errors.New("paynet: negative mTLS client timeout")
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = mtls.ClientConfig(cert, roots)
	tr.ForceAttemptHTTP2 = true
	return &http.Client{
		Transport: tr,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}, nil
}

// NewReloadingMTLSClient is NewMTLSClientCert for material that rotates (mtls.Reloaded): every
// new connection presents the current client certificate and trusts the current CA bundle;
// connections already open keep theirs until they close (CloseIdleConnections after a reload
// moves idle ones over at once).
func NewReloadingMTLSClient(cert func() tls.Certificate, roots func() *x509.CertPool, timeout time.Duration) (*http.Client, *http.Transport, error) {
	if timeout < 0 {
		return nil, nil, errors.New("paynet: negative mTLS client timeout")
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ForceAttemptHTTP2 = true
	dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	tr.DialTLSContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		c := mtls.ClientConfig(cert(), roots())
		c.ServerName = host
		c.NextProtos = []string{"h2", "http/1.1"}
		return (&tls.Dialer{NetDialer: dialer, Config: c}).DialContext(ctx, network, addr)
	}
	return &http.Client{
		Transport: tr,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}, tr, nil
}
