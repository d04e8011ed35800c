//go:build pkcs11 && cgo

package keysource

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/pkcs11"

	"github.com/ofpdp/ofpdp/internal/jose"
	"github.com/ofpdp/ofpdp/internal/keysource/softhsm"
)

// TestPKCS11SignsEveryProfileAlg signs a detached PATCH signature and a JWT with an RSA-2048
// and a P-384 key that live in a SoftHSM2 token, and verifies them with the public key only.
func TestPKCS11SignsEveryProfileAlg(t *testing.T) {
	tok := softhsm.NewForTest(t, "ofpdp-test")
	ca := newTestCA(t)
	for _, tc := range []struct{ label, kind, alg string }{
		{"dp-sig-rsa", softhsm.RSA2048, jose.AlgPS256},
		{"dp-sig-ec", softhsm.P384, jose.AlgES384},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			pub, err := tok.GenerateKey(tc.label, tc.kind)
			if err != nil {
				t.Fatal(err)
			}
			key, err := Open(t.Context(), tok.URI(tc.label), Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer key.Close()
			if !sameKey(key.Public(), pub) {
				t.Fatal("opened key's public key differs from the generated one")
			}
			cert, _ := ca.issue(t, t.TempDir(), tc.label, pub)
			sk, err := jose.NewSigningKey(key, []*x509.Certificate{cert})
			if err != nil {
				t.Fatal(err)
			}
			if sk.Alg != tc.alg {
				t.Fatalf("alg %s, want %s", sk.Alg, tc.alg)
			}
			verifyWith(t, sk)
		})
	}
}

// verifyWith signs a detached signature and a JWT with sk and verifies both from sk's JWK.
func verifyWith(t *testing.T, sk *jose.SigningKey) {
	t.Helper()
	now := time.Now()
	s := &jose.Signer{Key: sk, Issuer: "DP0000000001", Now: func() time.Time { return now }}
	pk, err := sk.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	v := &jose.Verifier{Keys: jose.StaticKeys{Set: &jose.KeySet{Keys: []jose.PublicKey{pk}}},
		Replay: jose.NewMemoryReplay(func() time.Time { return now }), Now: func() time.Time { return now }}
	body := []byte(`{"status":"authorized"}`)
	sig, err := s.SignDetached(body)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.VerifyDetached(t.Context(), sig, body); err != nil {
		t.Fatalf("detached signature from the token does not verify: %v", err)
	}
	if _, err := v.VerifyDetached(t.Context(), sig, []byte(`{"status":"rejected"}`)); err == nil {
		t.Fatal("signature verified over another body")
	}
	jwt, err := s.SignAttached([]byte("consent-123"))
	if err != nil {
		t.Fatal(err)
	}
	if _, payload, err := v.VerifyAttached(t.Context(), jwt); err != nil || string(payload) != "consent-123" {
		t.Fatalf("attached JWS from the token: payload %q, err %v", payload, err)
	}
}

// TestPKCS11MTLSClientHandshake presents a client certificate whose key is in the token.
func TestPKCS11MTLSClientHandshake(t *testing.T) {
	tok := softhsm.NewForTest(t, "ofpdp-test")
	ca := newTestCA(t)
	pub, err := tok.GenerateKey("dp-mtls", softhsm.RSA2048)
	if err != nil {
		t.Fatal(err)
	}
	key, err := Open(t.Context(), tok.URI("dp-mtls"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer key.Close()
	cert, _ := ca.issue(t, t.TempDir(), "dp-mtls", pub)
	roots := x509.NewCertPool()
	roots.AddCert(ca.cert)
	var seen string
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r.TLS.PeerCertificates[0].Subject.CommonName
	}))
	srv.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: roots}
	srv.StartTLS()
	defer srv.Close()
	for _, version := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		tr := srv.Client().Transport.(*http.Transport).Clone()
		tr.TLSClientConfig.Certificates = []tls.Certificate{{Certificate: [][]byte{cert.Raw}, PrivateKey: key, Leaf: cert}}
		tr.TLSClientConfig.MaxVersion = version
		resp, err := (&http.Client{Transport: tr}).Get(srv.URL)
		if err != nil {
			t.Fatalf("TLS %x handshake with the token's key: %v", version, err)
		}
		resp.Body.Close()
		if seen != "dp-mtls" {
			t.Fatalf("server saw client %q", seen)
		}
	}
}

// TestPKCS11ReconnectsAfterTheTokenDrops closes every session under the key (as when the HSM
// restarts) and then hides the token (unreachable): Sign and Ready fail with ErrUnavailable
// while it is gone and work again, without reopening the key, once it is back.
func TestPKCS11ReconnectsAfterTheTokenDrops(t *testing.T) {
	tok := softhsm.NewForTest(t, "ofpdp-test")
	if _, err := tok.GenerateKey("dp-sig", softhsm.P384); err != nil {
		t.Fatal(err)
	}
	k, err := Open(t.Context(), tok.URI("dp-sig"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	digest := make([]byte, 48)
	sign := func() error { _, err := k.Sign(nil, digest, crypto.SHA384); return err }

	// The HSM drops every session of this process (C_CloseAllSessions, as after an HSM
	// restart): the next signature opens sessions and logs in again by itself.
	dropSessions(t, tok.Module)
	if err := sign(); err != nil {
		t.Fatalf("sign after the sessions dropped: %v", err)
	}

	// The token becomes unreachable: its sessions drop and it is gone when ofpdp reconnects.
	dropSessions(t, tok.Module)
	tokens := filepath.Join(tok.Dir, "tokens")
	if err := os.Rename(tokens, tokens+".away"); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(tokens, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := sign(); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("sign while the token is away: %v, want ErrUnavailable", err)
	}
	err = k.Ready(context.Background())
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "ofpdp-test") {
		t.Fatalf("Ready while the token is away: %v, want ErrUnavailable naming the token", err)
	}

	// It comes back.
	if err := os.Remove(tokens); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tokens+".away", tokens); err != nil {
		t.Fatal(err)
	}
	if err := k.Ready(context.Background()); err != nil {
		t.Fatalf("Ready after the token returned: %v", err)
	}
	if err := sign(); err != nil {
		t.Fatalf("sign after the token returned: %v", err)
	}
}

// TestPKCS11ConcurrentSignersSurviveADrop: goroutines share one key (and its session pool);
// between rounds the HSM drops every session, and every signature of the next round — all
// goroutines at once on the stale pool — succeeds and verifies. The drop happens between rounds,
// not during a C_Sign: SoftHSM2 closing a session another thread is signing on crashes the
// process (SIGSEGV in the module), which no HSM connection loss reproduces.
func TestPKCS11ConcurrentSignersSurviveADrop(t *testing.T) {
	tok := softhsm.NewForTest(t, "ofpdp-test")
	pub, err := tok.GenerateKey("dp-sig", softhsm.P384)
	if err != nil {
		t.Fatal(err)
	}
	k, err := Open(t.Context(), tok.URI("dp-sig"), Options{PKCS11Sessions: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	digest := make([]byte, 48)
	for round := range 3 {
		var wg sync.WaitGroup
		errs := make(chan error, 8*5)
		for range 8 {
			wg.Go(func() {
				for range 5 {
					sig, err := k.Sign(nil, digest, crypto.SHA384)
					if err == nil && !ecdsa.VerifyASN1(pub.(*ecdsa.PublicKey), digest, sig) {
						err = errors.New("signature does not verify")
					}
					if err != nil {
						errs <- err
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("round %d: %v", round, err)
		}
		dropSessions(t, tok.Module)
	}
}

// dropSessions closes every session this process has on the module's tokens.
func dropSessions(t *testing.T, module string) {
	t.Helper()
	p := pkcs11.New(module) // the module already loaded by crypto11: same library, same state
	if p == nil {
		t.Fatal("cannot load", module)
	}
	if err := p.Initialize(); err != nil && !errors.Is(err, pkcs11.Error(pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED)) {
		t.Fatal(err)
	}
	slots, err := p.GetSlotList(true)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range slots {
		if err := p.CloseAllSessions(s); err != nil {
			t.Fatal(err)
		}
	}
}

// TestPKCS11OpenErrors: a wrong PIN, a missing key and a PIN file others can read are refused
// with an answer that says what is wrong and never contains the PIN.
func TestPKCS11OpenErrors(t *testing.T) {
	tok := softhsm.NewForTest(t, "ofpdp-test")
	if _, err := tok.GenerateKey("dp-sig", softhsm.P384); err != nil {
		t.Fatal(err)
	}
	pin, _ := os.ReadFile(tok.PINFile)
	wrongPIN := filepath.Join(t.TempDir(), "wrong.pin")
	if err := os.WriteFile(wrongPIN, []byte("00000000\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	openPIN := filepath.Join(t.TempDir(), "open.pin")
	if err := os.WriteFile(openPIN, pin, 0o644); err != nil {
		t.Fatal(err)
	}
	uri := func(object, pinFile string) string {
		return "pkcs11:token=ofpdp-test;object=" + object + "?pin-source=" + pinFile + "&module-path=" + tok.Module
	}
	for _, tc := range []struct{ name, uri, want string }{
		{"wrong PIN", uri("dp-sig", wrongPIN), "CKR_PIN_INCORRECT"},
		{"no such key", uri("nope", tok.PINFile), "was not found"},
		{"PIN file readable by others", uri("dp-sig", openPIN), "accessible by group or others"},
		{"no such token", strings.Replace(uri("dp-sig", tok.PINFile), "ofpdp-test", "other", 1), "could not find PKCS#11 token"},
		{"no module", "pkcs11:token=ofpdp-test;object=dp-sig?pin-source=" + tok.PINFile, "no PKCS#11 module"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := Open(t.Context(), tc.uri, Options{})
			if err == nil {
				k.Close()
				t.Fatal("opened")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not say %q", err, tc.want)
			}
			if strings.Contains(err.Error(), strings.TrimSpace(string(pin))) {
				t.Fatalf("error contains the PIN: %q", err)
			}
		})
	}
}
