package paynet

import (
	"bytes"
	"context"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ofpdp/ofpdp/internal/jose"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

const dpID = "DP9876543210"

// seen is what the fake PayNet consent API saw of one request.
type seen struct {
	method, path, contentType, interactionID, clientCN string
	body                                               []byte
	header                                             *jose.Header
	verifyErr                                          error
}

// fakePayNet is PayNet's consent API (spec §3.2.1) on httptest TLS with client-certificate
// verification. It checks the DP's client certificate and the detached JWS over the exact body,
// then answers with the scripted responses in order (the last one repeats).
type fakePayNet struct {
	srv      *httptest.Server
	verifier *jose.Verifier
	mu       sync.Mutex
	reqs     []seen
	script   []func(w http.ResponseWriter, r *http.Request)
}

func newFakePayNet(t *testing.T, p *testPKI, dpSig *jose.SigningKey, clock func() time.Time) *fakePayNet {
	t.Helper()
	f := &fakePayNet{verifier: &jose.Verifier{
		Keys:   &jose.StaticKeys{Set: &jose.KeySet{Keys: []jose.PublicKey{publicOf(t, dpSig, "sig")}}},
		Replay: jose.NewMemoryReplay(clock),
		Now:    clock,
		Issuer: dpID,
	}}
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	srvKey := ecKey(t, elliptic.P256())
	srvCert := p.issue(t, "paynet-server", srvKey.Public(), kindServer)
	pool := x509.NewCertPool()
	pool.AddCert(p.ca)
	f.srv.TLS = &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{{Certificate: [][]byte{srvCert.Raw}, PrivateKey: srvKey}},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pool,
	}
	f.srv.StartTLS()
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakePayNet) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s := seen{
		method:        r.Method,
		path:          r.URL.EscapedPath(),
		contentType:   r.Header.Get("Content-Type"),
		interactionID: r.Header.Get("x-fapi-interaction-id"),
		body:          body,
	}
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		s.clientCN = r.TLS.PeerCertificates[0].Subject.CommonName
	}
	s.header, s.verifyErr = f.verifier.VerifyDetached(r.Context(), r.Header.Get("x-fapi-signature"), body)
	f.mu.Lock()
	n := len(f.reqs)
	f.reqs = append(f.reqs, s)
	var h func(http.ResponseWriter, *http.Request)
	if len(f.script) > 0 {
		h = f.script[min(n, len(f.script)-1)]
	}
	f.mu.Unlock()
	w.Header().Set("x-fapi-interaction-id", s.interactionID)
	if s.verifyErr != nil || s.clientCN != "dp-mtls" {
		jsonError(w, http.StatusUnauthorized, "JWS.InvalidSignature")
		return
	}
	if h == nil {
		okEmpty(w, r)
		return
	}
	h(w, r)
}

func (f *fakePayNet) requests() []seen {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.reqs)
}

func okEmpty(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{}`))
}

func noContent(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }

func jsonError(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"error":%q,"error_description":"test"}`, code)
}

func status(code int, errCode string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) { jsonError(w, code, errCode) }
}

func retryAfter(v string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", v)
		jsonError(w, http.StatusTooManyRequests, "temporarily_unavailable")
	}
}

// dropConn closes the connection without an answer (a network error for the client).
func dropConn(w http.ResponseWriter, _ *http.Request) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("no hijacker")
	}
	c, _, err := hj.Hijack()
	if err == nil {
		_ = c.Close()
	}
}

// hang answers only when the client gives up.
func hang(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }

// memRecorder is a fake AttemptRecorder.
type memRecorder struct {
	mu   sync.Mutex
	as   []Attempt
	fail bool
}

func (m *memRecorder) RecordAttempt(_ context.Context, a Attempt) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.as = append(m.as, a)
	if m.fail {
		return errors.New("store down")
	}
	return nil
}

func (m *memRecorder) attempts() []Attempt {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.as)
}

// rig is a client wired to a fake PayNet.
type rig struct {
	pn     *fakePayNet
	client *Client
	clock  *fakeClock
	rec    *memRecorder
	logs   *bytes.Buffer
	ids    []string
}

type rigOpt func(*ClientOptions)

func newRig(t *testing.T, opts ...rigOpt) *rig {
	t.Helper()
	p := newTestPKI(t)
	dpSig := p.signingKey(t, "dp-sig")
	clock := newClock()
	r := &rig{clock: clock, rec: &memRecorder{}, logs: &bytes.Buffer{}}
	r.pn = newFakePayNet(t, p, dpSig, clock.Now)
	certFile, keyFile, caFile := p.tlsFiles(t, t.TempDir(), "dp-mtls")
	hc, err := NewMTLSClient(certFile, keyFile, caFile, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var idMu sync.Mutex
	o := ClientOptions{
		BaseURL:    r.pn.srv.URL + "/",
		HTTPClient: hc,
		Signer:     &jose.Signer{Key: dpSig, Issuer: dpID, Now: clock.Now},
		Recorder:   r.rec,
		Now:        clock.Now,
		Sleep:      clock.Sleep,
		NewID: func() string {
			idMu.Lock()
			defer idMu.Unlock()
			id := fmt.Sprintf("iid-%d", len(r.ids)+1)
			r.ids = append(r.ids, id)
			return id
		},
		Logger: slog.New(slog.NewTextHandler(r.logs, nil)),
	}
	for _, opt := range opts {
		opt(&o)
	}
	r.client, err = NewClient(o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func authorizedUpdate() Update {
	return Update{
		ConsentID: "18ce19c8-85be-4049-899c-21cdc02cde79",
		Status:    StatusAuthorized,
		IDToken:   "eyJhbGciOiJQUzI1NiIsImtpZCI6ImRwIn0.eyJzdWIiOiJ1In0.c2ln",
		UserIdentity: &UserIdentity{
			IDType:         "nric",
			MaskedIDNumber: "********1234",
			HashedIDNumber: "eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eA==",
		},
		Accounts: []Account{
			{AccountID: "acc-550e8400-0010", AccountNumber: "1234567890", AccountName: "My Savings Account"},
			{AccountID: "acc-550e8400-0011", AccountNumber: "123456******7890", AccountName: "Visa Platinum"},
		},
	}
}

func rejectedUpdate() Update {
	return Update{
		ConsentID:    "5b1f0c1e-2d7a-4c55-9d1e-0a7f3e2b9c44",
		Status:       StatusRejected,
		StatusReason: &StatusReason{ReasonCode: "not_allowed", ReasonDescription: "customer rejected the consent"},
	}
}

// checkGolden compares got with testdata/name, rewriting it under -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("body differs from %s:\ngot  %s\nwant %s", path, got, want)
	}
}

// TestUpdateConsentWire checks one successful PATCH end to end: path, headers, client
// certificate, detached JWS over the exact body, and the body itself against golden files
// (spec §3.2.1; design.md §3.4, §3.7, §3.9).
func TestUpdateConsentWire(t *testing.T) {
	cases := []struct {
		name       string
		u          Update
		sendReason bool
		answer     func(http.ResponseWriter, *http.Request)
		golden     string
	}{
		{"authorized", authorizedUpdate(), false, okEmpty, "patch_authorized.json"},
		{"authorized 204", authorizedUpdate(), false, noContent, "patch_authorized.json"},
		{"rejected without status_reason", rejectedUpdate(), false, okEmpty, "patch_rejected.json"},
		{"rejected with status_reason", rejectedUpdate(), true, okEmpty, "patch_rejected_reason.json"},
		{"failed", Update{ConsentID: "c-1", Status: StatusFailed}, false, okEmpty, "patch_failed.json"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, func(o *ClientOptions) { o.SendStatusReason = tc.sendReason })
			r.pn.script = append(r.pn.script, tc.answer)
			if err := r.client.UpdateConsent(t.Context(), tc.u); err != nil {
				t.Fatalf("UpdateConsent: %v", err)
			}
			reqs := r.pn.requests()
			if len(reqs) != 1 {
				t.Fatalf("requests = %d, want 1", len(reqs))
			}
			s := reqs[0]
			if s.verifyErr != nil {
				t.Fatalf("PayNet could not verify the signature: %v", s.verifyErr)
			}
			if s.method != http.MethodPatch || s.path != "/v1/consents/"+tc.u.ConsentID {
				t.Errorf("request = %s %s", s.method, s.path)
			}
			if s.contentType != "application/json" || s.clientCN != "dp-mtls" || s.interactionID != "iid-1" {
				t.Errorf("content-type %q, client cert %q, interaction id %q", s.contentType, s.clientCN, s.interactionID)
			}
			if s.header.Iss != dpID || s.header.Jti == "" || !s.header.Iat.Equal(t0) {
				t.Errorf("JWS header = %+v", s.header)
			}
			checkGolden(t, tc.golden, s.body)
			if strings.Contains(r.logs.String(), "eyJ") || strings.Contains(r.logs.String(), "1234567890") {
				t.Errorf("log holds a token or an account number:\n%s", r.logs)
			}
			as := r.rec.attempts()
			if len(as) != 1 || as[0].Outcome != OutcomeSuccess || as[0].Error != "" || as[0].Number != 1 ||
				as[0].Method != http.MethodPatch || as[0].URL != r.pn.srv.URL+"/v1/consents/"+tc.u.ConsentID ||
				as[0].InteractionID != "iid-1" || !as[0].StartedAt.Equal(t0) {
				t.Errorf("recorded %+v", as)
			}
			if got := as[0].HTTPStatus; got != 200 && got != 204 {
				t.Errorf("recorded status %d", got)
			}
		})
	}
}

// TestUpdateConsentPathEscaped: consent_id is one path segment whatever it holds.
func TestUpdateConsentPathEscaped(t *testing.T) {
	r := newRig(t)
	u := Update{ConsentID: "a/b c?d", Status: StatusFailed}
	if err := r.client.UpdateConsent(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	if got, want := r.pn.requests()[0].path, "/v1/consents/a%2Fb%20c%3Fd"; got != want {
		t.Errorf("path = %q, want %q", got, want)
	}
}

// TestUpdateConsentRetries covers the retry rules (negative-tests C11): what is retried, how often,
// how long the client waits, and that every attempt is fresh, verified and recorded.
func TestUpdateConsentRetries(t *testing.T) {
	type fn = func(http.ResponseWriter, *http.Request)
	cases := []struct {
		name       string
		script     []fn
		wantErr    bool
		status     int
		code       string
		retryable  bool
		attempts   int
		sleeps     []time.Duration
		outcomes   []string
		errIsNetOp bool
	}{
		{
			name: "200 first time", script: []fn{okEmpty},
			attempts: 1, outcomes: []string{OutcomeSuccess},
		},
		{
			name: "503 then 502 then 200", script: []fn{status(503, "server_error"), status(502, ""), okEmpty},
			attempts: 3, sleeps: []time.Duration{250 * time.Millisecond, 500 * time.Millisecond},
			outcomes: []string{OutcomeServerError, OutcomeServerError, OutcomeSuccess},
		},
		{
			name: "500 every time", script: []fn{status(500, "server_error")},
			wantErr: true, status: 500, code: "server_error", retryable: true, attempts: 3,
			sleeps:   []time.Duration{250 * time.Millisecond, 500 * time.Millisecond},
			outcomes: []string{OutcomeServerError, OutcomeServerError, OutcomeServerError},
		},
		{
			name: "400 is not retried", script: []fn{status(400, "invalid_request"), okEmpty},
			wantErr: true, status: 400, code: "invalid_request", attempts: 1,
			outcomes: []string{OutcomeClientError},
		},
		{
			name: "409 is not retried", script: []fn{status(409, "Consent.Invalid"), okEmpty},
			wantErr: true, status: 409, code: "Consent.Invalid", attempts: 1,
			outcomes: []string{OutcomeClientError},
		},
		{
			name: "404 with an HTML body", script: []fn{func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(404)
				_, _ = io.WriteString(w, "<html>not here</html>")
			}},
			wantErr: true, status: 404, attempts: 1, outcomes: []string{OutcomeClientError},
		},
		{
			name: "429 Retry-After seconds honoured", script: []fn{retryAfter("2"), okEmpty},
			attempts: 2, sleeps: []time.Duration{2 * time.Second},
			outcomes: []string{OutcomeThrottled, OutcomeSuccess},
		},
		{
			name: "429 Retry-After HTTP-date honoured", script: []fn{retryAfter(t0.Add(3 * time.Second).Format(http.TimeFormat)), okEmpty},
			attempts: 2, sleeps: []time.Duration{3 * time.Second},
			outcomes: []string{OutcomeThrottled, OutcomeSuccess},
		},
		{
			name: "429 Retry-After shorter than backoff", script: []fn{retryAfter("0"), okEmpty},
			attempts: 2, sleeps: []time.Duration{250 * time.Millisecond},
			outcomes: []string{OutcomeThrottled, OutcomeSuccess},
		},
		{
			name: "429 Retry-After past the budget is not waited", script: []fn{retryAfter("5"), okEmpty},
			wantErr: true, status: 429, code: "temporarily_unavailable", retryable: true, attempts: 1,
			outcomes: []string{OutcomeThrottled},
		},
		{
			name: "429 twice: the second wait would pass the budget", script: []fn{retryAfter("3"), retryAfter("3"), okEmpty},
			wantErr: true, status: 429, code: "temporarily_unavailable", retryable: true, attempts: 2,
			sleeps:   []time.Duration{3 * time.Second},
			outcomes: []string{OutcomeThrottled, OutcomeThrottled},
		},
		{
			name: "network error then 200", script: []fn{dropConn, okEmpty},
			attempts: 2, sleeps: []time.Duration{250 * time.Millisecond},
			outcomes: []string{OutcomeNetworkError, OutcomeSuccess},
		},
		{
			name: "network error every time", script: []fn{dropConn},
			wantErr: true, retryable: true, attempts: 3, errIsNetOp: true,
			sleeps:   []time.Duration{250 * time.Millisecond, 500 * time.Millisecond},
			outcomes: []string{OutcomeNetworkError, OutcomeNetworkError, OutcomeNetworkError},
		},
		{
			name: "redirect is an answer, not followed", script: []fn{func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "https://elsewhere.example/v1/consents/x", http.StatusPermanentRedirect)
			}},
			wantErr: true, status: 308, attempts: 1, outcomes: []string{OutcomeClientError},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			r.pn.script = tc.script
			err := r.client.UpdateConsent(t.Context(), authorizedUpdate())
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if err != nil {
				var ue *UpdateError
				if !errors.As(err, &ue) {
					t.Fatalf("err %T is not *UpdateError", err)
				}
				if ue.Status != tc.status || ue.Code != tc.code || ue.Retryable != tc.retryable || ue.Attempts != tc.attempts {
					t.Errorf("UpdateError = %+v, want status %d code %q retryable %v attempts %d",
						ue, tc.status, tc.code, tc.retryable, tc.attempts)
				}
				if tc.errIsNetOp && ue.Err == nil {
					t.Errorf("network failure without its cause: %v", ue)
				}
			}
			reqs := r.pn.requests()
			wantReqs := tc.attempts
			if len(reqs) != wantReqs {
				t.Fatalf("PayNet saw %d requests, want %d", len(reqs), wantReqs)
			}
			jtis := map[string]bool{}
			for i, s := range reqs {
				if s.verifyErr != nil {
					t.Errorf("attempt %d: signature rejected: %v", i+1, s.verifyErr)
					continue
				}
				if jtis[s.header.Jti] {
					t.Errorf("attempt %d reuses jti %s", i+1, s.header.Jti)
				}
				jtis[s.header.Jti] = true
				if s.interactionID != "iid-1" {
					t.Errorf("attempt %d: interaction id %q, want iid-1 for every attempt", i+1, s.interactionID)
				}
				if !bytes.Equal(s.body, reqs[0].body) {
					t.Errorf("attempt %d: body differs from attempt 1", i+1)
				}
			}
			if got := r.clock.Sleeps(); !slices.Equal(got, tc.sleeps) {
				t.Errorf("sleeps = %v, want %v", got, tc.sleeps)
			}
			if got := r.clock.Now().Sub(t0); got > DefaultBudget {
				t.Errorf("spent %v, more than the %v budget", got, DefaultBudget)
			}
			as := r.rec.attempts()
			var outs []string
			for i, a := range as {
				outs = append(outs, a.Outcome)
				if a.Number != i+1 || a.InteractionID != "iid-1" || a.ConsentID != authorizedUpdate().ConsentID {
					t.Errorf("attempt %d recorded as %+v", i+1, a)
				}
				if (a.Outcome == OutcomeSuccess) != (a.Error == "") {
					t.Errorf("attempt %d: outcome %s with error %q", i+1, a.Outcome, a.Error)
				}
			}
			if !slices.Equal(outs, tc.outcomes) {
				t.Errorf("recorded outcomes %v, want %v", outs, tc.outcomes)
			}
		})
	}
}

// TestUpdateConsentHangBudget: PayNet does not answer; the update gives up when its budget ends,
// not later, with a retryable timeout. Real time: a hung connection cannot be faked.
func TestUpdateConsentHangBudget(t *testing.T) {
	const budget = 400 * time.Millisecond
	r := newRig(t, func(o *ClientOptions) {
		o.Budget = budget
		o.Now = time.Now
		o.Sleep = nil
	})
	r.pn.script = []func(http.ResponseWriter, *http.Request){hang}
	start := time.Now()
	err := r.client.UpdateConsent(t.Context(), authorizedUpdate())
	took := time.Since(start)
	var ue *UpdateError
	if !errors.As(err, &ue) || !ue.Retryable || ue.Status != 0 || ue.Attempts != 1 {
		t.Fatalf("err = %#v", err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err %v does not wrap context.DeadlineExceeded", err)
	}
	if took < budget || took > budget+2*time.Second {
		t.Errorf("gave up after %v, budget %v", took, budget)
	}
	as := r.rec.attempts()
	if len(as) != 1 || as[0].Outcome != OutcomeTimeout || as[0].HTTPStatus != 0 {
		t.Errorf("recorded %+v", as)
	}
}

// TestUpdateConsentMaxAttempts: MaxAttempts bounds the attempts even when the budget would allow more.
func TestUpdateConsentMaxAttempts(t *testing.T) {
	r := newRig(t, func(o *ClientOptions) { o.MaxAttempts = 2; o.Budget = time.Minute })
	r.pn.script = []func(http.ResponseWriter, *http.Request){status(503, "")}
	err := r.client.UpdateConsent(t.Context(), authorizedUpdate())
	var ue *UpdateError
	if !errors.As(err, &ue) || ue.Attempts != 2 || len(r.pn.requests()) != 2 {
		t.Fatalf("err = %v, requests %d", err, len(r.pn.requests()))
	}
}

// TestUpdateConsentFreshInteractionID: each update has its own interaction id.
func TestUpdateConsentFreshInteractionID(t *testing.T) {
	r := newRig(t)
	for range 2 {
		if err := r.client.UpdateConsent(t.Context(), authorizedUpdate()); err != nil {
			t.Fatal(err)
		}
	}
	reqs := r.pn.requests()
	if len(reqs) != 2 || reqs[0].interactionID != "iid-1" || reqs[1].interactionID != "iid-2" {
		t.Errorf("interaction ids %q, %q", reqs[0].interactionID, reqs[1].interactionID)
	}
}

// TestUpdateConsentCancelled: a caller that gives up while the client waits stops the retries.
func TestUpdateConsentCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	r := newRig(t, func(o *ClientOptions) {
		o.Sleep = func(context.Context, time.Duration) error { cancel(); return context.Canceled }
	})
	r.pn.script = []func(http.ResponseWriter, *http.Request){status(503, ""), okEmpty}
	err := r.client.UpdateConsent(ctx, authorizedUpdate())
	var ue *UpdateError
	if !errors.As(err, &ue) || !errors.Is(err, context.Canceled) || ue.Attempts != 1 || ue.Status != 503 {
		t.Fatalf("err = %v", err)
	}
	if n := len(r.pn.requests()); n != 1 {
		t.Errorf("requests = %d, want 1", n)
	}
}

// TestUpdateConsentRecorderFailure: a failing recorder is logged; the update still succeeds.
func TestUpdateConsentRecorderFailure(t *testing.T) {
	r := newRig(t)
	r.rec.fail = true
	if err := r.client.UpdateConsent(t.Context(), authorizedUpdate()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.logs.String(), "recording consent update attempt failed") {
		t.Errorf("recorder failure not logged:\n%s", r.logs)
	}
}

// TestUpdateConsentInvalid: updates that break the PATCH schema are refused before any call.
func TestUpdateConsentInvalid(t *testing.T) {
	ok := authorizedUpdate()
	cases := map[string]func(*Update){
		"no consent_id":           func(u *Update) { u.ConsentID = "" },
		"unknown status":          func(u *Update) { u.Status = "revoked" },
		"uppercase status":        func(u *Update) { u.Status = "Authorized" },
		"authorized without user": func(u *Update) { u.UserIdentity = nil },
		"authorized, no accounts": func(u *Update) { u.Accounts = nil },
	}
	r := newRig(t)
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			u := ok
			mutate(&u)
			if err := r.client.UpdateConsent(t.Context(), u); !errors.Is(err, ErrInvalidUpdate) {
				t.Errorf("err = %v, want ErrInvalidUpdate", err)
			}
		})
	}
	if n := len(r.pn.requests()); n != 0 {
		t.Errorf("%d requests sent for invalid updates", n)
	}
}

func TestNewClientOptions(t *testing.T) {
	p := newTestPKI(t)
	signer := &jose.Signer{Key: p.signingKey(t, "dp-sig"), Issuer: dpID}
	good := ClientOptions{BaseURL: "https://paynet.example", HTTPClient: &http.Client{}, Signer: signer, Recorder: &memRecorder{}}
	cases := map[string]func(*ClientOptions){
		"http base URL":     func(o *ClientOptions) { o.BaseURL = "http://paynet.example" },
		"relative base URL": func(o *ClientOptions) { o.BaseURL = "/v1" },
		"base URL query":    func(o *ClientOptions) { o.BaseURL = "https://paynet.example/?a=1" },
		"bad base URL":      func(o *ClientOptions) { o.BaseURL = "https://[::1" },
		"no HTTP client":    func(o *ClientOptions) { o.HTTPClient = nil },
		"no signer":         func(o *ClientOptions) { o.Signer = nil },
		"signer without key": func(o *ClientOptions) {
			o.Signer = &jose.Signer{Issuer: dpID}
		},
		"no recorder":      func(o *ClientOptions) { o.Recorder = nil },
		"negative budget":  func(o *ClientOptions) { o.Budget = -time.Second },
		"negative retries": func(o *ClientOptions) { o.MaxAttempts = -1 },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			o := good
			mutate(&o)
			if _, err := NewClient(o); err == nil {
				t.Error("NewClient accepted bad options")
			}
		})
	}
	c, err := NewClient(good)
	if err != nil {
		t.Fatal(err)
	}
	if c.max != DefaultMaxAttempts || c.budget != DefaultBudget || c.backoff != DefaultBackoff || c.base != "https://paynet.example" {
		t.Errorf("defaults: max %d budget %v backoff %v base %q", c.max, c.budget, c.backoff, c.base)
	}
}

func TestUpdateErrorMessage(t *testing.T) {
	e := &UpdateError{Status: 503, Code: "server_error", Retryable: true, Attempts: 3}
	if got, want := e.Error(), "paynet: consent update failed after 3 attempt(s): HTTP 503 server_error"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	e = &UpdateError{Attempts: 1, Err: context.DeadlineExceeded, Retryable: true}
	if !errors.Is(e, context.DeadlineExceeded) || !strings.Contains(e.Error(), "deadline") {
		t.Errorf("Error() = %q", e.Error())
	}
}

func TestErrorCode(t *testing.T) {
	cases := map[string]string{
		`{"error":"Consent.Invalid","error_description":"x"}`: "Consent.Invalid",
		`{"error":"invalid_request"}`:                         "invalid_request",
		`{"error":""}`:                                        "",
		`{"error":42}`:                                        "",
		`{"error":"two words"}`:                               "",
		`{"error":"line\nbreak"}`:                             "",
		`{"error":"ünïcode"}`:                                 "",
		`{"error":"` + strings.Repeat("a", 65) + `"}`:         "",
		`{"errors":[{"code":"x"}]}`:                           "",
		`<html>`:                                              "",
		``:                                                    "",
		`[]`:                                                  "",
	}
	for body, want := range cases {
		if got := errorCode([]byte(body)); got != want {
			t.Errorf("errorCode(%q) = %q, want %q", body, got, want)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	cases := []struct {
		v    string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{"7", 7 * time.Second, true},
		{" 7 ", 7 * time.Second, true},
		{"-1", 0, false},
		{"1.5", 0, false},
		{"7s", 0, false},
		{"99999999999999999999999", maxRetryAfter, true},
		{"86401", maxRetryAfter, true},
		{t0.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{t0.Add(-time.Minute).Format(http.TimeFormat), 0, true},
		{t0.Add(48 * time.Hour).Format(http.TimeFormat), maxRetryAfter, true},
		{"Sunday, 01-Mar-26 09:00:05 GMT", 5 * time.Second, true}, // RFC 850 form
		{"tomorrow", 0, false},
	}
	for _, tc := range cases {
		got, ok := parseRetryAfter(tc.v, t0)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tc.v, got, ok, tc.want, tc.ok)
		}
	}
}

// The golden bodies must stay valid JSON of the documented shape.
func TestGoldenBodiesAreJSON(t *testing.T) {
	files, _ := filepath.Glob("testdata/patch_*.json")
	if len(files) == 0 {
		t.Fatal("no golden PATCH bodies")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Errorf("%s: %v", f, err)
		}
		if m["consent_id"] == nil || m["status"] == nil {
			t.Errorf("%s lacks consent_id or status", f)
		}
	}
}
