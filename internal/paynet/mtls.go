package paynet

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"
)

// NewMTLSClient returns the HTTP client for calls to PayNet (spec §4.1, design.md §2): it presents
// the DP's client certificate (certFile/keyFile, PEM; certFile may hold the chain, leaf first),
// trusts only the CAs in caFile for PayNet's server certificate, speaks TLS 1.2 or later, does not
// follow redirects (a signed request is never replayed to another URL; a 3xx is an answer), and
// gives up on a call after timeout (0 means no client-level timeout; callers' contexts still
// apply).
func NewMTLSClient(certFile, keyFile, caFile string, timeout time.Duration) (*http.Client, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("paynet: mTLS client certificate: %w", err)
	}
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("paynet: PayNet CA bundle: %w", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("paynet: PayNet CA bundle %s holds no PEM certificate", caFile)
	}
	if timeout < 0 {
		return nil, errors.New("paynet: negative mTLS client timeout")
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{cert},
		RootCAs:      roots,
	}
	tr.ForceAttemptHTTP2 = true
	return &http.Client{
		Transport: tr,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}, nil
}
