package api

import (
	"crypto/x509"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/ofpdp/ofpdp/internal/mtls"
	"github.com/ofpdp/ofpdp/internal/protoerr"
)

// DiagnosticsMTLSPath answers with the client certificate the api listener saw (docs/deploy.md,
// onboarding): mutual TLS required, no request signature, nothing stored.
const DiagnosticsMTLSPath = "/v1/diagnostics/mtls"

// MTLSDiagnosis is the answer of DiagnosticsMTLSPath.
type MTLSDiagnosis struct {
	Subject     string    `json:"subject"`
	Issuer      string    `json:"issuer"`
	Fingerprint string    `json:"fingerprint_sha256"`
	Serial      string    `json:"serial_number"`
	NotAfter    time.Time `json:"not_after"`
	// Allowed tells whether paynet.client_cert_fingerprints / client_cert_subjects admit it.
	Allowed bool `json:"allowed"`
}

func (h *Handler) diagnosticsMTLS(w http.ResponseWriter, r *http.Request) {
	cert, err := h.gate.Peer(r)
	if err != nil {
		if errors.Is(err, mtls.ErrNoCertificate) {
			fail(w, r, protoerr.InvalidClient("a client certificate is required", err))
			return
		}
		fail(w, r, protoerr.InvalidClient("client certificate not verified", err))
		return
	}
	_, checkErr := h.gate.Check(r)
	b, err := json.Marshal(diagnose(cert, checkErr == nil))
	if err != nil {
		fail(w, r, protoerr.Internal(err))
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "application/json")
	hd.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

func diagnose(cert *x509.Certificate, allowed bool) MTLSDiagnosis {
	return MTLSDiagnosis{Subject: cert.Subject.String(), Issuer: cert.Issuer.String(), Fingerprint: mtls.Fingerprint(cert),
		Serial: cert.SerialNumber.Text(16), NotAfter: cert.NotAfter.UTC(), Allowed: allowed}
}
