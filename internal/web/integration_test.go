package web

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ofpdp/ofpdp/internal/bank/demo"
	"github.com/ofpdp/ofpdp/internal/consent"
	"github.com/ofpdp/ofpdp/internal/jose"
	"github.com/ofpdp/ofpdp/internal/journey"
	"github.com/ofpdp/ofpdp/internal/paynet"
	"github.com/ofpdp/ofpdp/internal/store"
)

// fakePayNet is PayNet's consent API for the integration test: it verifies the DP's detached
// signature over the exact body and keeps what it received.
type fakePayNet struct {
	mu       sync.Mutex
	verifier *jose.Verifier
	bodies   [][]byte
	paths    []string
	t        *testing.T
}

func (p *fakePayNet) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if r.Method != http.MethodPatch {
		http.Error(w, `{"error":"invalid_request"}`, http.StatusMethodNotAllowed)
		return
	}
	if _, err := p.verifier.VerifyDetached(r.Context(), r.Header.Get("x-fapi-signature"), body); err != nil {
		p.t.Errorf("PATCH signature: %v", err)
		http.Error(w, `{"error":"JWS.InvalidSignature"}`, http.StatusUnauthorized)
		return
	}
	p.mu.Lock()
	p.bodies, p.paths = append(p.bodies, body), append(p.paths, r.URL.Path)
	p.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{}`))
}

type callRecorder struct{ s *store.Store }

func (c callRecorder) RecordAttempt(ctx context.Context, a paynet.Attempt) error {
	return c.s.RecordOutboundCall(ctx, store.OutboundCall{
		ConsentID: a.ConsentID, Method: a.Method, URL: a.URL, InteractionID: a.InteractionID, Outcome: a.Outcome,
		Error: a.Error, Attempt: a.Number, HTTPStatus: a.HTTPStatus, StartedAt: a.StartedAt, Duration: a.Duration,
	})
}

func rsaKey(t *testing.T, kid string) (*jose.SigningKey, *jose.KeySet) {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	sk := &jose.SigningKey{Key: k, Kid: kid, Alg: "PS256"}
	pub, err := sk.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	return sk, &jose.KeySet{Keys: []jose.PublicKey{pub}}
}

// TestIntegrationApprove runs the journey on the real dependencies: the SQLite store, the demo
// bank, internal/jose for PayNet's authorize signature and the id_token, and internal/paynet
// PATCHing a PayNet stand-in over TLS that verifies the DP's signature.
func TestIntegrationApprove(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	ctx := t.Context()
	now := time.Now().Truncate(time.Second)
	clk := &clock{t: now}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))

	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "ofpdp.db"), store.Options{Now: clk.now, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	c := testConsent(now)
	c.HashedIDNumber = consent.HashIDNumber("900101-14-5678") // demo customer aisyah
	c.ExpirationDatetime = now.Add(180 * 24 * time.Hour)
	raw, _ := json.Marshal(map[string]any{"event_type": consent.EventCreated, "data": c})
	if _, err := st.ApplyEvent(ctx, consent.Event{Type: consent.EventCreated, Consent: c, Raw: raw},
		store.EventReceipt{Type: consent.EventCreated, Raw: raw, ReceivedAt: now}); err != nil {
		t.Fatal(err)
	}

	bk, err := demo.Embedded(demo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	pnKey, pnKeys := rsaKey(t, "paynet-sig")
	dpKey, dpKeys := rsaKey(t, "dp-sig")
	pnSigner := &jose.Signer{Key: pnKey, Issuer: "paynet", Now: clk.now}
	dpSigner := &jose.Signer{Key: dpKey, Issuer: testDPID, Now: clk.now}
	sig, err := pnSigner.SignAttached([]byte(testConsentID))
	if err != nil {
		t.Fatal(err)
	}

	pn := &fakePayNet{t: t, verifier: &jose.Verifier{Keys: jose.StaticKeys{Set: dpKeys}, Replay: jose.NewMemoryReplay(clk.now), Now: clk.now}}
	srv := httptest.NewTLSServer(pn)
	t.Cleanup(srv.Close)
	client, err := paynet.NewClient(paynet.ClientOptions{
		BaseURL: srv.URL, HTTPClient: srv.Client(), Signer: dpSigner, Recorder: callRecorder{st}, Now: clk.now, Logger: logger,
	})
	if err != nil {
		t.Fatal(err)
	}

	h, err := New(Options{
		Store: st, Bank: bk, Updater: client, IDTokens: dpSigner,
		Signatures:        &jose.Verifier{Keys: jose.StaticKeys{Set: pnKeys}, Replay: jose.NewMemoryReplay(clk.now), Now: clk.now},
		DPID:              testDPID,
		IDTokenIssuer:     "https://dp.bank.example",
		RedirectAllowlist: []string{testRedirect},
		AccountIDKey:      testKey,
		Branding:          Branding{BankName: "Demo Bank Berhad"},
		Now:               clk.now,
		Logger:            logger,
	})
	if err != nil {
		t.Fatal(err)
	}
	hs := &harness{t: t, h: h, clock: clk}

	mustRedirect(t, hs.do(http.MethodGet, authorizeURL(testConsentID, testRedirect, sig), nil), pathLogin)
	mustStatus(t, hs.do(http.MethodGet, pathLogin, nil), http.StatusOK)
	mustStatus(t, hs.post(pathLogin, url.Values{"username": {"aisyah"}, "password": {"wrong"}}), http.StatusOK)
	mustRedirect(t, hs.post(pathLogin, url.Values{"username": {"aisyah"}, "password": {demo.Logins()[0].Password}}), pathAccounts)
	page := hs.do(http.MethodGet, pathAccounts, nil).Body.String()
	var ids []string
	for _, m := range regexp.MustCompile(`name="account" value="([^"]+)"`).FindAllStringSubmatch(page, -1) {
		ids = append(ids, m[1])
	}
	if len(ids) < 2 {
		t.Fatalf("demo customer offered %d accounts", len(ids))
	}
	mustRedirect(t, hs.post(pathAccounts, url.Values{"account": ids}), pathReview)
	mustStatus(t, hs.do(http.MethodGet, pathReview, nil), http.StatusOK)
	mustRedirect(t, hs.decide("approve"), pathComplete)
	mustRedirect(t, hs.decide("approve"), pathComplete) // a replay: no second PATCH

	pn.mu.Lock()
	bodies, paths := pn.bodies, pn.paths
	pn.mu.Unlock()
	if len(bodies) != 1 || paths[0] != "/v1/consents/"+testConsentID {
		t.Fatalf("%d PATCHes to %v", len(bodies), paths)
	}
	var got struct {
		ConsentID    string `json:"consent_id"`
		Status       string `json:"status"`
		IDToken      string `json:"id_token"`
		UserIdentity struct {
			IDType, MaskedIDNumber, HashedIDNumber string
		} `json:"user_identity"`
		Accounts []paynet.Account `json:"accounts"`
	}
	if err := json.Unmarshal(bodies[0], &got); err != nil {
		t.Fatal(err)
	}
	if got.Status != "authorized" || got.ConsentID != testConsentID || len(got.Accounts) != len(ids) {
		t.Fatalf("PATCH body %s", bodies[0])
	}
	for _, a := range got.Accounts {
		if !strings.HasPrefix(a.AccountID, "acc-") || a.AccountNumber == "" || a.AccountName == "" {
			t.Errorf("account %+v", a)
		}
	}
	if strings.Contains(string(bodies[0]), "900101") {
		t.Fatal("the raw ID number was sent")
	}
	idv := &jose.Verifier{Keys: jose.StaticKeys{Set: dpKeys}, Replay: jose.NewMemoryReplay(clk.now), Now: clk.now}
	hdr, payload, err := idv.VerifyAttached(ctx, got.IDToken)
	if err != nil {
		t.Fatalf("id_token does not verify with the DP key: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	if hdr.Kid != "dp-sig" || claims["iss"] != "https://dp.bank.example" || claims["aud"] != testDCID ||
		claims["hashed_id_number"] != c.HashedIDNumber || claims["id_type"] != "nric" ||
		claims["exp"].(float64)-claims["iat"].(float64) != 600 || len(claims["sub"].(string)) != 27 {
		t.Fatalf("id_token %v %s", hdr, payload)
	}

	rec, err := st.GetConsent(ctx, testConsentID)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Authorization == nil || rec.Authorization.Status != consent.StatusAuthorized || rec.Consent.Status != consent.StatusAuthorized {
		t.Fatalf("stored %+v", rec.Authorization)
	}
	for _, a := range got.Accounts {
		if ref, err := st.AccountRef(ctx, testConsentID, a.AccountID); err != nil || ref == "" {
			t.Errorf("AccountRef(%s) = %q, %v", a.AccountID, ref, err)
		}
	}
	calls, err := st.OutboundCalls(ctx, testConsentID)
	if err != nil || len(calls) != 1 || calls[0].HTTPStatus != 200 {
		t.Fatalf("outbound calls %+v, %v", calls, err)
	}

	w := hs.post(pathDone, nil)
	mustRedirect(t, w, testRedirect+"?consent_id="+testConsentID)
	// The same authorize link again: the consent is decided (U7).
	hs.cookie = ""
	mustErrorRedirect(t, hs.do(http.MethodGet, authorizeURL(testConsentID, testRedirect, sig), nil), testRedirect, testConsentID, journey.ReasonNotAwaiting)
}
