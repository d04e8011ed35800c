package server_test

import (
	"crypto/tls"
	"encoding/json"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/ofpdp/ofpdp/internal/api"
	"github.com/ofpdp/ofpdp/internal/jose"
	"github.com/ofpdp/ofpdp/internal/mtls"
	"github.com/ofpdp/ofpdp/internal/storetest"
)

// TestDiagnosticsMTLS: GET /v1/diagnostics/mtls on the api listener answers, without a request
// signature, with the client certificate the listener verified and whether the allow-list
// admits it; a certificate the allow-list refuses is still described there (onboarding) but
// refused everywhere else.
func TestDiagnosticsMTLS(t *testing.T) {
	in := newInstall(t, storetest.Engines()[0], false)
	r := in.start(t)
	for _, c := range []struct {
		name        string
		cert        string
		wantAllowed bool
	}{
		{"PayNet's certificate", "paynet-mtls", true},
		{"a certificate of the same CA not on the allow-list", "dp-mtls", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			pair, err := tls.LoadX509KeyPair(filepath.Join(in.pkiDir, c.cert+".crt"), filepath.Join(in.pkiDir, c.cert+".key"))
			if err != nil {
				t.Fatal(err)
			}
			chain, err := jose.LoadCertificatesFile(filepath.Join(in.pkiDir, c.cert+".crt"))
			if err != nil {
				t.Fatal(err)
			}
			client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
				TLSClientConfig: &tls.Config{RootCAs: in.caPool, Certificates: []tls.Certificate{pair}}}}
			resp, err := client.Get("https://" + r.apiAddr + api.DiagnosticsMTLSPath)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var got api.MTLSDiagnosis
			if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("%d %v", resp.StatusCode, err)
			}
			want := api.MTLSDiagnosis{Subject: chain[0].Subject.String(), Issuer: chain[0].Issuer.String(),
				Fingerprint: mtls.Fingerprint(chain[0]), Serial: chain[0].SerialNumber.Text(16), NotAfter: chain[0].NotAfter.UTC(), Allowed: c.wantAllowed}
			if got != want {
				t.Errorf("diagnosis %+v, want %+v", got, want)
			}
			other, err := client.Get("https://" + r.apiAddr + "/v1/accounts")
			if err != nil {
				t.Fatal(err)
			}
			other.Body.Close()
			if !c.wantAllowed && other.StatusCode != http.StatusUnauthorized {
				t.Errorf("GET /v1/accounts with a refused certificate: %d, want 401", other.StatusCode)
			}
		})
	}
	// Without a client certificate the handshake itself fails.
	noCert := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: in.caPool}}}
	if resp, err := noCert.Get("https://" + r.apiAddr + api.DiagnosticsMTLSPath); err == nil {
		resp.Body.Close()
		t.Errorf("answered %d without a client certificate", resp.StatusCode)
	}
}
