package server

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"time"

	"github.com/ofpdp/ofpdp/internal/config"
	"github.com/ofpdp/ofpdp/internal/jose"
	"github.com/ofpdp/ofpdp/internal/obs"
)

// recordCertificateExpiry sets ofpdp_certificate_expiry_timestamp_seconds for every certificate
// the server uses (design §8): the listeners' TLS certificate, the mTLS client certificate and the
// signing certificate handed to PayNet (spec §4.1, §4.2), and PayNet's CA bundle. For a chain or
// a bundle the earliest notAfter counts: it is the first one that breaks handshakes.
func recordCertificateExpiry(m *obs.Metrics, cfg *config.Config) error {
	for _, c := range []struct{ name, key, file string }{
		{"tls_server", "tls.cert_file", cfg.TLS.CertFile},
		{"mtls_client", "keys.mtls_cert_file", cfg.Keys.MTLSCertFile},
		{"signing", "keys.signing_cert_file", cfg.Keys.SigningCertFile},
		{"paynet_ca", "paynet.ca_file", cfg.PayNet.CAFile},
	} {
		certs, err := jose.LoadCertificatesFile(c.file)
		if err != nil {
			return fmt.Errorf("%s: %w", c.key, err)
		}
		var earliest time.Time
		for _, cert := range certs {
			if earliest.IsZero() || cert.NotAfter.Before(earliest) {
				earliest = cert.NotAfter
			}
		}
		m.CertificateExpiry.WithLabelValues(c.name).Set(float64(earliest.Unix()))
	}
	return nil
}

// recordChainExpiry sets ofpdp_certificate_expiry_timestamp_seconds{name} from a loaded
// certificate chain (a reload moves it to the new certificate's expiry).
func recordChainExpiry(m *obs.Metrics, name string, c tls.Certificate) {
	var earliest time.Time
	for _, der := range c.Certificate {
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			continue
		}
		if earliest.IsZero() || cert.NotAfter.Before(earliest) {
			earliest = cert.NotAfter
		}
	}
	if !earliest.IsZero() {
		m.CertificateExpiry.WithLabelValues(name).Set(float64(earliest.Unix()))
	}
}
