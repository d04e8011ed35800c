package conformance

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/ofpdp/ofpdp/internal/ofp/sim"
	"github.com/ofpdp/ofpdp/internal/ofp/wire"
)

// transport runs negative-tests §5.1 T1, T2 and T7 against the api listener.
func (r *runner) transport(ctx context.Context) {
	body, err := r.createdEvent(newID(), r.now())
	if err != nil {
		r.prerequisite("T1", "Webhook without a client certificate", "TLS refused or 401", err)
		return
	}
	refusedOr401 := func(cfg *tls.Config) (string, bool) {
		a, err := r.pn.do(ctx, call{method: http.MethodPost, path: "/v1/consents/events", body: body,
			client: newAPIClient(cfg, r.o.HTTPTimeout)})
		if err != nil {
			return refusal(err)
		}
		return a.describe(), a.Status == http.StatusUnauthorized
	}
	r.check("T1", "POST /v1/consents/events (valid signature) without a client certificate", "TLS handshake refused or 401; never processed",
		func() (string, bool) {
			return refusedOr401(&tls.Config{MinVersion: tls.VersionTLS12, RootCAs: r.k.roots})
		})
	r.check("T2-ca", "… with a client certificate from an untrusted CA", "TLS handshake refused or 401", func() (string, bool) {
		cert, err := selfIssuedClientCert()
		if err != nil {
			return err.Error(), false
		}
		return refusedOr401(clientTLS(cert, r.k.roots))
	})
	r.check("T2-cert", "… with a certificate of the same CA that is not PayNet's registered one (dp-mtls)",
		"TLS handshake refused or 401 invalid_client", func() (string, bool) {
			a, err := r.pn.do(ctx, call{method: http.MethodPost, path: "/v1/consents/events", body: body,
				client: newAPIClient(clientTLS(r.k.dpMTLS, r.k.roots), r.o.HTTPTimeout)})
			if err != nil {
				return refusal(err)
			}
			return a.describe(), expectRefusal(a, http.StatusUnauthorized, "invalid_client")
		})

	host, err := apiHost(r.t.APIURL)
	if err != nil {
		r.prerequisite("T7", "TLS versions and cipher suites", "TLS 1.2+ with FAPI suites", err)
		return
	}
	handshake := func(cfg *tls.Config) (*tls.ConnectionState, error) {
		cfg.RootCAs = r.k.roots
		cfg.Certificates = []tls.Certificate{r.k.paynetMTLS}
		cfg.ServerName, _, _ = net.SplitHostPort(host)
		d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: r.o.HTTPTimeout}, Config: cfg}
		c, err := d.DialContext(ctx, "tcp", host)
		if err != nil {
			return nil, err
		}
		defer func() { _ = c.Close() }()
		st := c.(*tls.Conn).ConnectionState()
		return &st, nil
	}
	refused := func(cfg *tls.Config) (string, bool) {
		st, err := handshake(cfg)
		if err != nil {
			return refusal(err)
		}
		return fmt.Sprintf("accepted: %s %s", tls.VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite)), false
	}
	r.check("T7-tls10", "Client offers only TLS 1.0", "handshake refused", func() (string, bool) {
		return refused(&tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS10})
	})
	r.check("T7-tls11", "Client offers only TLS 1.1", "handshake refused", func() (string, bool) {
		return refused(&tls.Config{MinVersion: tls.VersionTLS11, MaxVersion: tls.VersionTLS11})
	})
	r.check("T7-cbc", "Client offers TLS 1.2 with only non-AEAD (CBC) suites", "handshake refused", func() (string, bool) {
		return refused(&tls.Config{MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{
			tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
			tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
		}})
	})
	r.check("T7-fapi", "Client offers TLS 1.2 with the FAPI suites only", "handshake completes with an ECDHE AES-GCM suite", func() (string, bool) {
		st, err := handshake(&tls.Config{MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12, CipherSuites: bcp195Suites})
		if err != nil {
			return "refused: " + oneLine(err), false
		}
		return fmt.Sprintf("%s %s", tls.VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite)), true
	})
	r.check("T7-tls13", "Client offers TLS 1.2 and 1.3", "TLS 1.3 negotiated", func() (string, bool) {
		st, err := handshake(&tls.Config{MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS13})
		if err != nil {
			return "refused: " + oneLine(err), false
		}
		return tls.VersionName(st.Version), st.Version == tls.VersionTLS13
	})
}

// refusal judges a failed connection: the DP refusing the TLS handshake (or closing the
// connection on the request) passes; not reaching it at all, or no answer in time, does not.
func refusal(err error) (string, bool) {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return "could not connect: " + oneLine(err), false
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
		return "no answer in time: " + oneLine(err), false
	}
	return "refused: " + oneLine(err), true
}

// apiHost is host:port of the api URL.
func apiHost(apiURL string) (string, error) {
	u, err := url.Parse(apiURL)
	if err != nil {
		return "", err
	}
	if u.Port() == "" {
		return net.JoinHostPort(u.Hostname(), "443"), nil
	}
	return u.Host, nil
}

// selfIssuedClientCert is a client certificate from a CA nobody trusts (T2).
func selfIssuedClientCert() (tls.Certificate, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "conformance untrusted CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		return tls.Certificate{}, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return tls.Certificate{}, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "PayNet OFP (impostor)"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, key.Public(), caKey)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der, caDER}, PrivateKey: key}, nil
}

// newConsentData is a Consent object as PayNet creates it (spec §5.1), for events the runner
// sends itself.
func (r *runner) newConsentData(id string, created time.Time) sim.Consent {
	ts := created.UTC().Format("2006-01-02T15:04:05.000Z07:00")
	c := sim.Consent{
		ConsentID: id, DCID: r.t.DCID, DPID: r.t.DPID, ConsentType: wire.ConsentTypeAccountAccess,
		Purpose: wire.PurposePFM, Permissions: allPermissions,
		ExpirationDatetime: sim.ExpirationFor(created, sim.DefaultValidityDays).Format(time.RFC3339),
		Status:             wire.StatusAwaitingAuthorization, CreatedAt: ts, UpdatedAt: ts, UpdatedBy: "data_consumer",
	}
	if u := r.t.Users[0]; u.IDNumber != "" {
		c.IDType, c.HashedIDNumber = u.IDType, wire.HashIDNumber(u.IDNumber)
	}
	return c
}

// createdEvent is the body of a consent_created event for a new consent.
func (r *runner) createdEvent(id string, created time.Time) ([]byte, error) {
	return json.Marshal(sim.Event{EventType: wire.EventCreated, Data: r.newConsentData(id, created)})
}

// oneLine shortens an error for a report cell.
func oneLine(err error) string { return cell(err.Error(), 200) }

// bcp195Suites are the TLS 1.2 cipher suites RFC 9325 (BCP 195) §4.2 recommends, which are
// also the ECDHE suites FAPI 1.0 Advanced §8.5 allows (Go implements no DHE): ECDHE with
// AES-GCM. TLS 1.3 suites are all AEAD and not configurable in Go.
var bcp195Suites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
}

// clientTLS is PayNet's client side of an mTLS connection (spec §4.1): TLS 1.2 or later,
// BCP 195 suites, cert presented, the server verified against roots.
func clientTLS(cert tls.Certificate, roots *x509.CertPool) *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, CipherSuites: bcp195Suites, Certificates: []tls.Certificate{cert}, RootCAs: roots}
}
