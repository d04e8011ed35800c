package sim

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ofpdp/ofpdp/internal/consent"
	"github.com/ofpdp/ofpdp/internal/jose"
	"github.com/ofpdp/ofpdp/internal/ofp/wire"
	"github.com/ofpdp/ofpdp/internal/pki"
)

const (
	testDPID = "DP0000000001"
	testDCID = "DC0000000001"
)

var (
	pkiOnce             sync.Once
	pkiDir, otherPKIDir string
	pkiErr              error
)

// TestMain generates the development PKI of design.md §8 once for the whole package (RSA key
// generation is slow under -race), plus a second, unrelated PKI for "foreign CA" cases.
func TestMain(m *testing.M) {
	code := m.Run()
	for _, d := range []string{pkiDir, otherPKIDir} {
		if d != "" {
			_ = os.RemoveAll(filepath.Dir(d))
		}
	}
	os.Exit(code)
}

func testPKI(t testing.TB) string {
	t.Helper()
	pkiOnce.Do(func() {
		root, err := os.MkdirTemp("", "sim-pki-")
		if err != nil {
			pkiErr = err
			return
		}
		pkiDir, otherPKIDir = filepath.Join(root, "pki"), filepath.Join(root, "other")
		if _, pkiErr = pki.Generate(pkiDir, pki.Options{SigAlg: "ES384"}); pkiErr != nil {
			return
		}
		_, pkiErr = pki.Generate(otherPKIDir, pki.Options{SigAlg: "ES384"})
	})
	if pkiErr != nil {
		t.Fatalf("generating the test PKI: %v", pkiErr)
	}
	return pkiDir
}

func mustKeySet(t testing.TB, dir, name string) *jose.KeySet {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	ks, err := jose.ParseJWKS(b)
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

func caPool(t testing.TB, dir string) *x509.CertPool {
	t.Helper()
	certs, err := jose.LoadCertificatesFile(filepath.Join(dir, "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	p := x509.NewCertPool()
	for _, c := range certs {
		p.AddCert(c)
	}
	return p
}

func certSum(t testing.TB, dir, name string) [32]byte {
	t.Helper()
	certs, err := jose.LoadCertificatesFile(filepath.Join(dir, name+".crt"))
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(certs[0].Raw)
}

// mtlsClient is an HTTPS client trusting dir's CA and presenting the client certificate name
// from certDir ("" = none).
func mtlsClient(t testing.TB, dir, certDir, name string) *http.Client {
	t.Helper()
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: caPool(t, dir)}
	if name != "" {
		c, err := tls.LoadX509KeyPair(filepath.Join(certDir, name+".crt"), filepath.Join(certDir, name+".key"))
		if err != nil {
			t.Fatal(err)
		}
		cfg.Certificates = []tls.Certificate{c}
	}
	tr := &http.Transport{TLSClientConfig: cfg}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

func signer(t testing.TB, dir, name, iss string) *jose.Signer {
	t.Helper()
	k, err := jose.LoadSigningKey(filepath.Join(dir, name+".key"), filepath.Join(dir, name+".crt"))
	if err != nil {
		t.Fatal(err)
	}
	return &jose.Signer{Key: k, Issuer: iss}
}

// receivedEvent is one consent event the fake DP received.
type receivedEvent struct {
	Event     consent.Event
	Wire      Event
	Header    *jose.Header
	ClientSum [32]byte
	VerifyErr error
	ParseErr  error
}

// receivedData is one resource request the fake DP received.
type receivedData struct {
	Path, Query, EncKid, InteractionID, Accept string
	VerifyErr                                  error
}

// fakeDP is a DP api listener: mTLS with dp-server.crt requiring a client certificate from the
// CA; it checks PayNet's signatures and parses events with the DP's own parser.
type fakeDP struct {
	t        testing.TB
	srv      *httptest.Server
	verifier *jose.Verifier
	dpSigner *jose.Signer
	dcKeys   *jose.KeySet

	mu         sync.Mutex
	events     []receivedEvent
	data       []receivedData
	eventReply func(ev receivedEvent) (int, string)
	dataReply  func(r *http.Request) (int, string, []byte) // status, content type, body; nil = seal
	eventCh    chan receivedEvent
}

func newFakeDP(t testing.TB, dir string) *fakeDP {
	t.Helper()
	f := &fakeDP{
		t: t,
		verifier: &jose.Verifier{
			Keys: jose.StaticKeys{Set: mustKeySet(t, dir, "paynet.jwks.json")}, Replay: jose.NewMemoryReplay(time.Now),
			Issuer: DefaultPayNetIssuer,
		},
		dpSigner: signer(t, dir, "dp-sig", testDPID),
		dcKeys:   mustKeySet(t, dir, "dc.jwks.json"),
		eventCh:  make(chan receivedEvent, 100),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/consents/events", f.handleEvent)
	mux.HandleFunc("GET /v1/accounts/", f.handleData)
	mux.HandleFunc("GET /v1/oauth/userinfo", f.handleData)
	srv := httptest.NewUnstartedServer(mux)
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, "dp-server.crt"), filepath.Join(dir, "dp-server.key"))
	if err != nil {
		t.Fatal(err)
	}
	srv.TLS = &tls.Config{
		MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert},
		ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: caPool(t, dir),
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	f.srv = srv
	return f
}

func (f *fakeDP) handleEvent(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var ev receivedEvent
	ev.ClientSum = sha256.Sum256(r.TLS.PeerCertificates[0].Raw)
	ev.Header, ev.VerifyErr = f.verifier.VerifyDetached(r.Context(), r.Header.Get("x-fapi-signature"), body)
	ev.Event, ev.ParseErr = consent.ParseEvent(body, consent.Rules{DPID: testDPID})
	if err := json.Unmarshal(body, &ev.Wire); err != nil && ev.ParseErr == nil {
		ev.ParseErr = err
	}
	f.mu.Lock()
	f.events = append(f.events, ev)
	reply := f.eventReply
	f.mu.Unlock()
	f.eventCh <- ev
	status, out := http.StatusOK, "{}"
	if ev.VerifyErr != nil || ev.ParseErr != nil {
		status, out = http.StatusBadRequest, `{"error":"invalid_request","error_description":"bad event"}`
	}
	if reply != nil {
		status, out = reply(ev)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, out)
}

func (f *fakeDP) handleData(w http.ResponseWriter, r *http.Request) {
	rd := receivedData{
		Path: r.URL.Path, Query: r.URL.RawQuery, EncKid: r.Header.Get("x-enc-kid"),
		InteractionID: r.Header.Get("x-fapi-interaction-id"), Accept: r.Header.Get("Accept"),
	}
	_, rd.VerifyErr = f.verifier.VerifyDetached(r.Context(), r.Header.Get("x-fapi-signature"), nil)
	f.mu.Lock()
	f.data = append(f.data, rd)
	reply := f.dataReply
	f.mu.Unlock()
	w.Header().Set("x-fapi-interaction-id", rd.InteractionID)
	if reply != nil {
		status, ct, body := reply(r)
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(status)
		_, _ = w.Write(body)
		return
	}
	if rd.VerifyErr != nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"error":"JWS.InvalidSignature","error_description":"bad signature"}`)
		return
	}
	if r.URL.Path == "/v1/oauth/userinfo" {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"sub":"abc","id_type":"nric"}`)
		return
	}
	key, ok := f.dcKeys.ByThumbprint(rd.EncKid, "enc")
	if !ok {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"error":"invalid_request","error_description":"unknown x-enc-kid"}`)
		return
	}
	plain := fmt.Sprintf(`{"data":{"path":%q},"meta":{}}`, r.URL.Path)
	sealed, err := f.dpSigner.Seal([]byte(plain), key, []string{AudiencePayNet, testDCID})
	if err != nil {
		f.t.Errorf("seal: %v", err)
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/jose")
	_, _ = w.Write(sealed)
}

func (f *fakeDP) setEventReply(fn func(receivedEvent) (int, string)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.eventReply = fn
}

func (f *fakeDP) setDataReply(fn func(*http.Request) (int, string, []byte)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dataReply = fn
}

func (f *fakeDP) lastData() receivedData {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.data) == 0 {
		f.t.Fatal("the fake DP received no data request")
	}
	return f.data[len(f.data)-1]
}

// nextEvent waits for the next event the fake DP receives.
func (f *fakeDP) nextEvent(t testing.TB) receivedEvent {
	t.Helper()
	select {
	case ev := <-f.eventCh:
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no event reached the fake DP")
	}
	return receivedEvent{}
}

// harness is a running simulator with its fake DP.
type harness struct {
	dir      string
	sim      *Sim
	dp       *fakeDP
	client   *Client
	mtlsURL  string
	dpHTTP   *http.Client // presents dp-mtls.crt
	dpSigner *jose.Signer
}

func newHarness(t *testing.T, mod func(*Options)) *harness {
	t.Helper()
	dir := testPKI(t)
	dp := newFakeDP(t, dir)
	mtlsLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pubLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o := Options{
		PKIDir: dir, DPID: testDPID, DCID: testDCID, DCName: "Kira",
		DPAPIURL: dp.srv.URL, DPWebURL: "https://localhost:8444",
		PublicURL:   "http://" + pubLn.Addr().String(),
		HTTPTimeout: 5 * time.Second,
	}
	if mod != nil {
		mod(&o)
	}
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, mtlsLn, pubLn) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("Serve did not return after cancel")
		}
	})
	h := &harness{
		dir: dir, sim: s, dp: dp,
		client:   &Client{BaseURL: o.PublicURL, HTTPClient: &http.Client{Timeout: 10 * time.Second}},
		mtlsURL:  "https://" + mtlsLn.Addr().String(),
		dpHTTP:   mtlsClient(t, dir, dir, "dp-mtls"),
		dpSigner: signer(t, dir, "dp-sig", testDPID),
	}
	return h
}

// createConsent creates a consent through the JSON API and consumes its consent_created event.
func (h *harness) createConsent(t *testing.T, req CreateConsentRequest) (*CreateConsentResponse, receivedEvent) {
	t.Helper()
	if req.Purpose == "" {
		req.Purpose = wire.PurposePFM
	}
	if req.Permissions == nil {
		req.Permissions = []wire.Permission{wire.PermReadAccounts, wire.PermReadBalances, wire.PermReadTransactions}
	}
	resp, err := h.client.CreateConsent(context.Background(), req)
	if err != nil {
		t.Fatalf("CreateConsent: %v", err)
	}
	return resp, h.dp.nextEvent(t)
}

// patch sends a PATCH as the DP would (client is the TLS client to use; sig "" = sign body).
func (h *harness) patch(t *testing.T, client *http.Client, id string, body []byte, sig string) (int, ErrorBody) {
	t.Helper()
	return h.call(t, client, http.MethodPatch, "/v1/consents/"+id, body, sig)
}

// call sends a signed consent call of the DP (sig "" signs body, "-" sends no signature).
func (h *harness) call(t *testing.T, client *http.Client, method, path string, body []byte, sig string) (int, ErrorBody) {
	t.Helper()
	if sig == "" {
		var err error
		if sig, err = h.dpSigner.SignDetached(body); err != nil {
			t.Fatal(err)
		}
	}
	req, err := http.NewRequest(method, h.mtlsURL+path, strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("x-fapi-interaction-id", "11111111-2222-4333-8444-555555555555")
	if sig != "-" {
		req.Header.Set("x-fapi-signature", sig)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("PATCH: %v", err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	var eb ErrorBody
	if resp.StatusCode != http.StatusOK {
		if err := json.Unmarshal(b, &eb); err != nil {
			t.Fatalf("PATCH answered %d with a non-JSON body %q", resp.StatusCode, b)
		}
	} else if string(b) != "{}" {
		t.Fatalf("PATCH 200 body = %q, want {}", b)
	}
	return resp.StatusCode, eb
}

const testIDNumber = "900101-14-5678"

// idToken signs an id_token for the consent with the given changes.
func (h *harness) idToken(t *testing.T, mod func(*jose.IDTokenClaims)) string {
	t.Helper()
	now := time.Now()
	c := jose.IDTokenClaims{
		Issuer: "https://localhost:8444", Subject: "sub-123", Audience: testDCID,
		IssuedAt: now, Expiry: now.Add(10 * time.Minute), AuthTime: now.Add(-time.Minute),
		IDType: "nric", HashedIDNumber: wire.HashIDNumber(testIDNumber),
	}
	if mod != nil {
		mod(&c)
	}
	tok, err := h.dpSigner.SignIDToken(c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// authorizedBody is a good authorized PATCH body; mod may change it before encoding.
func (h *harness) authorizedBody(t *testing.T, id string, mod func(map[string]any)) []byte {
	t.Helper()
	m := map[string]any{
		"consent_id": id,
		"status":     "authorized",
		"id_token":   h.idToken(t, nil),
		"user_identity": map[string]any{
			"id_type": "nric", "masked_id_number": consent.MaskIDNumber(testIDNumber),
			"hashed_id_number": wire.HashIDNumber(testIDNumber),
		},
		"accounts": []any{
			map[string]any{"account_id": "a1b2c3d4e5f6", "account_number": "1234567890", "account_name": "Savings"},
		},
	}
	if mod != nil {
		mod(m)
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func isAPIError(err error, status int) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == status
}
