package api

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/ofpdp/ofpdp/connector"
	"github.com/ofpdp/ofpdp/internal/bank"
	"github.com/ofpdp/ofpdp/internal/consent"
	"github.com/ofpdp/ofpdp/internal/jose"
	"github.com/ofpdp/ofpdp/internal/mtls"
	"github.com/ofpdp/ofpdp/internal/obs"
	"github.com/ofpdp/ofpdp/internal/paynet"
	"github.com/ofpdp/ofpdp/internal/protoerr"
	"github.com/ofpdp/ofpdp/internal/store"
)

// This file holds the resource server's test harness — the real api listener (httptest TLS with
// RequireAndVerifyClientCert and a generated CA, the mtls gate, a real jose.Verifier with
// MemoryReplay, paynet.DCKeys over an httptest JWKS server, a real jose.Signer sealing the
// responses), a fake store and a fake connector — and the cross-endpoint cases of
// negative-tests §5.6–5.7 (D8, D14–D18, O1, O4).

const (
	testDPID      = "DP9876543210"
	testDCID      = "DC0123456789"
	testPayNetIss = "paynet-ofp"
	testConsentID = "18ce19c8-85be-4049-899c-21cdc02cde79"
	testCustomer  = "cust-0001"
	testIDNumber  = "900101-14-5678"
	testInst      = "PayBank Berhad"
)

var (
	testAccountIDKey = []byte("account-id-key-for-tests-32bytes")
	testCursorKeyE2E = []byte("cursor-key-for-the-e2e-tests-32b")
)

// ---- clock -------------------------------------------------------------------------------------

// testClock is a manual clock shared by the handler, the verifier, the signers and the key caches.
// TLS keeps real time (the certificates are valid for a day around now).
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// ---- keys and PKI ------------------------------------------------------------------------------

type testKeyMaterial struct {
	paynetSig *jose.SigningKey // PayNet's request-signing key (P-384)
	dpRSA     *jose.SigningKey // the DP's response-signing key, RSA-2048 (PS256)
	dpP384    *jose.SigningKey // the DP's response-signing key, P-384 (ES384)
	dcEncPriv *rsa.PrivateKey  // the DC's encryption key
	dcEnc     jose.PublicKey
	otherPriv *rsa.PrivateKey // another DC's encryption key (D13)
	otherEnc  jose.PublicKey
}

var (
	keysOnce sync.Once
	keysVal  *testKeyMaterial
	keysErr  error
)

// testKeys generates the JOSE keys once per test binary (RSA generation is slow under -race).
func testKeys(tb testing.TB) *testKeyMaterial {
	tb.Helper()
	keysOnce.Do(func() { keysVal, keysErr = genKeys() })
	if keysErr != nil {
		tb.Fatal(keysErr)
	}
	return keysVal
}

func genKeys() (*testKeyMaterial, error) {
	var k testKeyMaterial
	p384 := func() (*ecdsa.PrivateKey, error) { return ecdsa.GenerateKey(elliptic.P384(), rand.Reader) }
	pn, err := p384()
	if err != nil {
		return nil, err
	}
	if k.paynetSig, err = signingKey(pn, "paynet-sig"); err != nil {
		return nil, err
	}
	dpR, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	if k.dpRSA, err = signingKey(dpR, "dp-sig-rsa"); err != nil {
		return nil, err
	}
	dpE, err := p384()
	if err != nil {
		return nil, err
	}
	if k.dpP384, err = signingKey(dpE, "dp-sig-p384"); err != nil {
		return nil, err
	}
	if k.dcEncPriv, k.dcEnc, err = encKey("dc-enc"); err != nil {
		return nil, err
	}
	if k.otherPriv, k.otherEnc, err = encKey("other-dc-enc"); err != nil {
		return nil, err
	}
	return &k, nil
}

func selfSigned(key crypto.Signer, cn string) (*x509.Certificate, error) {
	tpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-24 * time.Hour),
		NotAfter:     time.Now().Add(365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, key.Public(), key)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

func signingKey(key crypto.Signer, cn string) (*jose.SigningKey, error) {
	cert, err := selfSigned(key, cn)
	if err != nil {
		return nil, err
	}
	return jose.NewSigningKey(key, []*x509.Certificate{cert})
}

func encKey(cn string) (*rsa.PrivateKey, jose.PublicKey, error) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, jose.PublicKey{}, err
	}
	cert, err := selfSigned(priv, cn)
	if err != nil {
		return nil, jose.PublicKey{}, err
	}
	pk, err := jose.PublicKeyFromChain([]*x509.Certificate{cert}, jose.UseEnc, jose.AlgRSAOAEP256)
	return priv, pk, err
}

// testPKI is the TLS side: a CA, the DP server certificate and PayNet's client certificate.
type testPKI struct {
	pool         *x509.CertPool
	server       tls.Certificate
	paynetClient tls.Certificate
	paynetLeaf   *x509.Certificate
	strayClient  tls.Certificate // chains to the CA but is not on the allow-list
}

func newTestPKI(tb testing.TB) *testPKI {
	tb.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	caTpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ofpdp test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTpl, caTpl, caKey.Public(), caKey)
	if err != nil {
		tb.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	p := &testPKI{pool: x509.NewCertPool()}
	p.pool.AddCert(ca)
	issue := func(serial int64, cn string, usage x509.ExtKeyUsage, ip net.IP) (tls.Certificate, *x509.Certificate) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			tb.Fatal(err)
		}
		tpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
		}
		if ip != nil {
			tpl.IPAddresses = []net.IP{ip}
		}
		der, err := x509.CreateCertificate(rand.Reader, tpl, ca, key.Public(), caKey)
		if err != nil {
			tb.Fatal(err)
		}
		leaf, _ := x509.ParseCertificate(der)
		return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, leaf
	}
	p.server, _ = issue(2, "dp.test", x509.ExtKeyUsageServerAuth, net.IPv4(127, 0, 0, 1))
	p.paynetClient, p.paynetLeaf = issue(3, "paynet-ofp-client", x509.ExtKeyUsageClientAuth, nil)
	p.strayClient, _ = issue(4, "someone-else", x509.ExtKeyUsageClientAuth, nil)
	return p
}

// ---- fake store --------------------------------------------------------------------------------

// fakeStore holds consent records in memory and applies store.ConsentAccount's rule. reads
// counts the consent reads (GetConsent and ConsentAccount calls).
type fakeStore struct {
	mu    sync.Mutex
	recs  map[string]store.ConsentRecord
	fail  error // returned by every call when set
	reads int
}

func newFakeStore() *fakeStore { return &fakeStore{recs: map[string]store.ConsentRecord{}} }

func (s *fakeStore) put(rec store.ConsentRecord) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recs[rec.Consent.ConsentID] = rec
}

func (s *fakeStore) edit(id string, fn func(*store.ConsentRecord)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.recs[id]
	fn(&rec)
	s.recs[id] = rec
}

// Reads returns how many consent reads were made.
func (s *fakeStore) Reads() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reads
}

func (s *fakeStore) GetConsent(_ context.Context, id string) (*store.ConsentRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads++
	if s.fail != nil {
		return nil, s.fail
	}
	rec, ok := s.recs[id]
	if !ok {
		return nil, store.ErrNotFound
	}
	return &rec, nil
}

func (s *fakeStore) ConsentAccount(ctx context.Context, consentID, accountID string) (*store.ConsentRecord, string, error) {
	rec, err := s.GetConsent(ctx, consentID)
	if err != nil {
		return nil, "", err
	}
	return rec, rec.AccountRef(accountID), nil
}

// ---- fake connector ----------------------------------------------------------------------------

// fakeBank is an in-memory core bank. Transactions are served newest first with ties broken by
// descending ID, continuing strictly after the position its NextCursor names ("unixnano~id").
type fakeBank struct {
	mu        sync.Mutex
	customers map[string]connector.Customer
	accounts  map[string]connector.Account
	balances  map[string]connector.Balance
	txs       map[string][]connector.Transaction
	// delay makes every call wait; with ignoreCtx it does not stop at the deadline.
	delay     time.Duration
	ignoreCtx bool
	errs      map[string]error // by account or customer ref
	panicWith any              // non-nil: every call panics with it
	calls     int
	queries   []connector.TransactionQuery
}

func (b *fakeBank) enter(ctx context.Context, ref string) error {
	b.mu.Lock()
	b.calls++
	delay, ignore, err, panicWith := b.delay, b.ignoreCtx, b.errs[ref], b.panicWith
	b.mu.Unlock()
	if panicWith != nil {
		panic(panicWith)
	}
	if delay > 0 {
		if ignore {
			time.Sleep(delay)
		} else {
			select {
			case <-time.After(delay):
			case <-ctx.Done():
				return fmt.Errorf("fake bank: %w", ctx.Err())
			}
		}
	}
	return err
}

// Authenticate and Accounts complete connector.Connector (the web journey's calls), so that the fake
// can sit behind bank.Guard; the resource server never calls them.
func (b *fakeBank) Authenticate(context.Context, string, string) (connector.Customer, error) {
	return connector.Customer{}, connector.ErrInvalidCredentials
}

func (b *fakeBank) Accounts(ctx context.Context, customerRef string) ([]connector.Account, error) {
	if err := b.enter(ctx, customerRef); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []connector.Account
	for _, a := range b.accounts {
		if a.CustomerRef == customerRef {
			out = append(out, a)
		}
	}
	return out, nil
}

func (b *fakeBank) Calls() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.calls
}

func (b *fakeBank) Customer(ctx context.Context, ref string) (connector.Customer, error) {
	if err := b.enter(ctx, ref); err != nil {
		return connector.Customer{}, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	c, ok := b.customers[ref]
	if !ok {
		return connector.Customer{}, fmt.Errorf("customer %s: %w", ref, connector.ErrNotFound)
	}
	return c, nil
}

func (b *fakeBank) Account(ctx context.Context, ref string) (connector.Account, error) {
	if err := b.enter(ctx, ref); err != nil {
		return connector.Account{}, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	a, ok := b.accounts[ref]
	if !ok {
		return connector.Account{}, fmt.Errorf("account %s: %w", ref, connector.ErrNotFound)
	}
	return a, nil
}

func (b *fakeBank) Balance(ctx context.Context, ref string) (connector.Balance, error) {
	if err := b.enter(ctx, ref); err != nil {
		return connector.Balance{}, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	bal, ok := b.balances[ref]
	if !ok {
		return connector.Balance{}, fmt.Errorf("balance %s: %w", ref, connector.ErrNotFound)
	}
	return bal, nil
}

// txBefore orders transactions newest first, ties by descending ID.
func txBefore(aDate time.Time, aID string, bDate time.Time, bID string) bool {
	if !aDate.Equal(bDate) {
		return aDate.After(bDate)
	}
	return aID > bID
}

func (b *fakeBank) Transactions(ctx context.Context, q connector.TransactionQuery) (connector.TransactionPage, error) {
	if err := b.enter(ctx, q.AccountRef); err != nil {
		return connector.TransactionPage{}, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.queries = append(b.queries, q)
	all := slices.Clone(b.txs[q.AccountRef])
	slices.SortFunc(all, func(x, y connector.Transaction) int {
		if txBefore(x.Date, x.ID, y.Date, y.ID) {
			return -1
		}
		return 1
	})
	var afterDate time.Time
	n, afterID, _ := strings.Cut(q.Cursor, "~")
	if q.Cursor != "" {
		ns, err := strconv.ParseInt(n, 10, 64)
		if err != nil || afterID == "" {
			return connector.TransactionPage{}, fmt.Errorf("fake bank: cursor %q", q.Cursor)
		}
		afterDate = time.Unix(0, ns)
	}
	var page connector.TransactionPage
	for _, t := range all {
		if t.Date.Before(q.From) || t.Date.After(q.To) {
			continue
		}
		if afterID != "" && !txBefore(afterDate, afterID, t.Date, t.ID) {
			continue
		}
		if len(page.Transactions) == q.Limit {
			last := page.Transactions[len(page.Transactions)-1]
			page.More, page.NextCursor = true, strconv.FormatInt(last.Date.UnixNano(), 10)+"~"+last.ID
			break
		}
		page.Transactions = append(page.Transactions, t)
	}
	return page, nil
}

func (b *fakeBank) lastQuery() connector.TransactionQuery {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.queries[len(b.queries)-1]
}

// Bank references of the fixture. Account numbers are distinctive so the log test can look for them.
const (
	refSavings = "ref-sav-1"
	refCard    = "ref-cc-1"
	refDormant = "ref-dormant-1"
	refClosed  = "ref-closed-1"
	refJoint   = "ref-joint-1"
	refMoved   = "ref-moved-1" // authorized, but the bank now says it belongs to another customer
	refOther   = "ref-other-1" // another customer's account, never in the consent

	numSavings = "7712345678901"
	numCard    = "5123456789017890"
)

func newFakeBank(now time.Time) *fakeBank {
	acct := func(ref, num, typ, sub string) connector.Account {
		return connector.Account{Ref: ref, CustomerRef: testCustomer, Number: num, Name: "My " + sub + " account",
			HolderName: "Nur Aisyah binti Ahmad", HolderType: connector.HolderIndividual, Category: "retail",
			Type: typ, Subtype: sub, Currency: "MYR", Status: connector.StatusActive}
	}
	b := &fakeBank{
		customers: map[string]connector.Customer{testCustomer: {Ref: testCustomer, Name: "Nur Aisyah binti Ahmad",
			IDType: "nric", IDNumber: testIDNumber, Email: "aisyah@example.my"}},
		accounts: map[string]connector.Account{}, balances: map[string]connector.Balance{},
		txs: map[string][]connector.Transaction{}, errs: map[string]error{},
	}
	b.accounts[refSavings] = acct(refSavings, numSavings, connector.TypeDeposit, connector.SubtypeSavings)
	card := acct(refCard, numCard, connector.TypeCredit, connector.SubtypeCreditCard)
	card.Limit, card.InterestRate, card.MinimumPaymentAmount = ptr(myr(1500000)), ptr(15.0), ptr(myr(5000))
	b.accounts[refCard] = card
	dormant := acct(refDormant, "7700000000011", connector.TypeDeposit, connector.SubtypeSavings)
	dormant.Status = connector.StatusDormant
	b.accounts[refDormant] = dormant
	closed := acct(refClosed, "7700000000022", connector.TypeDeposit, connector.SubtypeCurrent)
	closed.Status = connector.StatusClosed
	b.accounts[refClosed] = closed
	joint := acct(refJoint, "7700000000033", connector.TypeDeposit, connector.SubtypeSavings)
	joint.HolderType = connector.HolderJoint
	b.accounts[refJoint] = joint
	moved := acct(refMoved, "7700000000044", connector.TypeDeposit, connector.SubtypeSavings)
	moved.CustomerRef = "cust-0002"
	b.accounts[refMoved] = moved
	other := acct(refOther, "7700000000055", connector.TypeDeposit, connector.SubtypeSavings)
	other.CustomerRef = "cust-0002"
	b.accounts[refOther] = other
	b.balances[refSavings] = fixtureDepositBalance
	b.balances[refCard] = fixtureCardBalance
	b.txs[refSavings] = fixtureTransactions(now)
	return b
}

// fixtureTransactions: 280 transactions over the 14 months before now, every fourth pair sharing
// a timestamp (to exercise the tie-break), some in the future (to check to_date clamping).
func fixtureTransactions(now time.Time) []connector.Transaction {
	var out []connector.Transaction
	start := now.In(myt).AddDate(0, -14, 0)
	step := now.Sub(start) / 280
	for i := 0; i < 282; i++ {
		d := start.Add(time.Duration(i) * step).Truncate(time.Second)
		if i%4 == 1 {
			d = out[i-1].Date
		}
		ind := "debit"
		if i%5 == 0 {
			ind = "credit"
		}
		out = append(out, connector.Transaction{
			ID: fmt.Sprintf("txn-%05d", i), Date: d.In(myt), CreditDebit: ind,
			Amount: myr(int64(100 + i*37)), TransferMethod: "funds_transfer", TransferSubmethod: "duitnow_transfer",
			Description: fmt.Sprintf("transfer %d", i), Settled: i%7 != 0,
		})
	}
	return out
}

// ---- the environment ---------------------------------------------------------------------------

type envOption func(*envConfig)

type envConfig struct {
	data   DataOptions
	dpKey  func(*testKeyMaterial) *jose.SigningKey
	logger *slog.Logger
}

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type testEnv struct {
	t        *testing.T
	clock    *testClock
	keys     *testKeyMaterial
	pki      *testPKI
	srv      *httptest.Server
	client   *http.Client
	signer   *jose.Signer // PayNet's request signer
	dpKeys   jose.KeyResolver
	store    *fakeStore
	bank     *fakeBank
	logs     *syncBuffer
	metrics  *obs.Metrics
	accounts map[string]string // bank ref → DP account_id
	jwksHits *int
}

// unusedEvents is the EventStore of the data tests: they never post consent events.
type unusedEvents struct{}

func (unusedEvents) ApplyEvent(context.Context, consent.Event, store.EventReceipt) (consent.Decision, error) {
	return consent.Decision{}, errors.New("the data tests post no consent events")
}

// newAPIHandler builds the api handler with the resource endpoints (Options.Data).
func newAPIHandler(o Options, d DataOptions) (*Handler, error) {
	o.Data = &d
	return New(o)
}

func newEnv(t *testing.T, opts ...envOption) *testEnv {
	t.Helper()
	k := testKeys(t)
	e := &testEnv{t: t, keys: k, pki: newTestPKI(t), logs: &syncBuffer{}, metrics: obs.NewMetrics(),
		clock: &testClock{t: time.Now().Truncate(time.Second)}, store: newFakeStore()}
	e.bank = newFakeBank(e.clock.Now())
	logger := slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	// PayNet's JWKS of DC keys, over TLS, fetched by the real paynet.DCKeys.
	jwks, err := (&jose.KeySet{Keys: []jose.PublicKey{k.dcEnc}}).JSON()
	if err != nil {
		t.Fatal(err)
	}
	hits := 0
	var hitsMu sync.Mutex
	e.jwksHits = &hits
	jwksSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hitsMu.Lock()
		hits++
		hitsMu.Unlock()
		if r.URL.Path != "/jwks/"+testDCID {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(jwks)
	}))
	t.Cleanup(jwksSrv.Close)
	dcKeys, err := paynet.NewDCKeys(paynet.DCKeysOptions{Client: jwksSrv.Client(), URLTemplate: jwksSrv.URL + "/jwks/{dc_id}",
		Now: e.clock.Now, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}

	cfg := envConfig{
		data: DataOptions{Consents: e.store, Bank: e.bank, DCKeys: dcKeys, InstitutionName: testInst,
			AccountIDKey: testAccountIDKey, CursorKey: testCursorKeyE2E, RateLimitPerMinute: 10000,
			RateLimitPerConsentPerMinute: 10000},
		dpKey:  func(k *testKeyMaterial) *jose.SigningKey { return k.dpRSA },
		logger: logger,
	}
	for _, o := range opts {
		o(&cfg)
	}
	dpKey := cfg.dpKey(k)
	cfg.data.Sealer = &jose.Signer{Key: dpKey, Issuer: testDPID, Now: e.clock.Now}
	dpPub, err := dpKey.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	e.dpKeys = jose.StaticKeys{Set: &jose.KeySet{Keys: []jose.PublicKey{dpPub}}}
	pnPub, err := k.paynetSig.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	verifier := &jose.Verifier{Keys: jose.StaticKeys{Set: &jose.KeySet{Keys: []jose.PublicKey{pnPub}}},
		Replay: jose.NewMemoryReplay(e.clock.Now), Now: e.clock.Now, Issuer: testPayNetIss}
	e.signer = &jose.Signer{Key: k.paynetSig, Issuer: testPayNetIss, Now: e.clock.Now}
	gate, err := mtls.NewGate(mtls.GateOptions{Fingerprints: []string{mtls.Fingerprint(e.pki.paynetLeaf)}})
	if err != nil {
		t.Fatal(err)
	}
	h, err := newAPIHandler(Options{DPID: testDPID, Gate: gate, Verifier: verifier, Events: unusedEvents{},
		Metrics: e.metrics, Logger: cfg.logger, Now: e.clock.Now}, cfg.data)
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewUnstartedServer(h)
	e.srv.TLS = mtls.ServerConfig(e.pki.server, e.pki.pool)
	e.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshake refused on purpose
	e.srv.StartTLS()
	t.Cleanup(e.srv.Close)
	e.client = e.tlsClient(e.pki.paynetClient)
	e.putConsent(e.clock.Now())
	return e
}

func (e *testEnv) tlsClient(cert tls.Certificate) *http.Client {
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: e.pki.pool, Certificates: []tls.Certificate{cert},
		MinVersion: tls.VersionTLS12}}
	e.t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// putConsent stores the fixture consent: authorized, all permissions, with the accounts of the
// fixture bank except refOther.
func (e *testEnv) putConsent(now time.Time) {
	e.accounts = map[string]string{}
	var auth []store.AuthorizedAccount
	var listed []consent.Account
	for _, ref := range []string{refSavings, refCard, refDormant, refClosed, refJoint, refMoved, refOther} {
		id := consent.AccountID(testAccountIDKey, testDCID, ref)
		e.accounts[ref] = id
		if ref == refOther {
			continue
		}
		a := e.bank.accounts[ref]
		auth = append(auth, store.AuthorizedAccount{AccountID: id, AccountRef: ref, AccountNumber: a.Number, AccountName: a.Name})
		listed = append(listed, consent.Account{AccountID: id, AccountNumber: a.Number, AccountName: a.Name})
	}
	e.store.put(store.ConsentRecord{
		Consent: consent.Consent{
			ConsentID: testConsentID, DCID: testDCID, DPID: testDPID, IDType: consent.IDTypeNRIC,
			HashedIDNumber: consent.HashIDNumber(testIDNumber), ConsentType: consent.TypeAccountAccess,
			Purpose:            consent.PurposePFM,
			Permissions:        []consent.Permission{consent.PermReadAccounts, consent.PermReadBalances, consent.PermReadTransactions},
			ExpirationDatetime: now.Add(180 * 24 * time.Hour), Status: consent.StatusAuthorized, Accounts: listed,
			CreatedAt: now.Add(-time.Hour), UpdatedAt: now.Add(-50 * time.Minute),
		},
		Version:       2,
		Authorization: &store.Authorization{Status: consent.StatusAuthorized, CustomerRef: testCustomer, Accounts: auth, DecidedAt: now.Add(-55 * time.Minute)},
	})
	e.store.edit(testConsentID, func(r *store.ConsentRecord) {
		r.Authorization.Approved = new(consent.Approve(r.Consent, ids(auth)))
	})
}

// req describes one request to the api listener.
type req struct {
	method string
	path   string            // with query
	header map[string]string // "" value deletes a default header
	body   []byte
	client *http.Client
	noSig  bool
}

// dataPath builds /v1/accounts/{id}{suffix}?consent_id=…&extra.
func dataPath(accountID, suffix string, query ...string) string {
	q := url.Values{"consent_id": {testConsentID}}
	for i := 0; i+1 < len(query); i += 2 {
		q.Add(query[i], query[i+1])
	}
	return "/v1/accounts/" + url.PathEscape(accountID) + suffix + "?" + q.Encode()
}

// do sends r signed by PayNet (detached JWS over the exact body) with x-enc-kid of the DC key.
func (e *testEnv) do(r req) *http.Response {
	e.t.Helper()
	if r.method == "" {
		r.method = http.MethodGet
	}
	hr, err := http.NewRequest(r.method, e.srv.URL+r.path, bytes.NewReader(r.body))
	if err != nil {
		e.t.Fatal(err)
	}
	hr.Header.Set(HeaderEncKid, e.keys.dcEnc.Thumbprint)
	if !r.noSig {
		sig, err := e.signer.SignDetached(r.body)
		if err != nil {
			e.t.Fatal(err)
		}
		hr.Header.Set(HeaderSignature, sig)
	}
	for k, v := range r.header {
		if v == "" {
			hr.Header.Del(k)
		} else {
			hr.Header.Set(k, v)
		}
	}
	c := r.client
	if c == nil {
		c = e.client
	}
	resp, err := c.Do(hr)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp
}

func readBody(t *testing.T, resp *http.Response) []byte {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// open verifies a 200 data response as a DC would (jose.OpenResponse with the DP keys and the DC
// key), checks the envelope of design §3.5, and returns the decrypted plaintext.
func (e *testEnv) open(resp *http.Response) map[string]json.RawMessage {
	e.t.Helper()
	body := readBody(e.t, resp)
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("status %d, body %s\nlogs: %s", resp.StatusCode, body, e.logs.String())
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/jose" {
		e.t.Log(e.logs.String())
		e.t.Fatalf("Content-Type %q, want application/jose", ct)
	}
	claims, plaintext, err := jose.OpenResponse(context.Background(), body, e.dpKeys, e.keys.dcEncPriv, e.clock.Now())
	if err != nil {
		e.t.Fatalf("OpenResponse: %v", err)
	}
	if claims.Iss != testDPID || !slices.Equal(claims.Aud, []string{"Paynet OFP", testDCID}) ||
		claims.Exp != claims.Iat+3600 || claims.Nbf != claims.Iat || claims.Jti == "" {
		e.t.Errorf("response claims %+v", claims)
	}
	if claims.Iat != e.clock.Now().Unix() {
		e.t.Errorf("iat %d, want %d", claims.Iat, e.clock.Now().Unix())
	}
	var jweHeader map[string]any
	seg, _, _ := strings.Cut(claims.Data, ".")
	hb, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil || json.Unmarshal(hb, &jweHeader) != nil {
		e.t.Fatalf("JWE header %q: %v", seg, err)
	}
	want := map[string]any{"alg": "RSA-OAEP-256", "enc": "A256GCM", "cty": "JWT", "kid": e.keys.dcEnc.Thumbprint}
	for k, v := range want {
		if jweHeader[k] != v {
			e.t.Errorf("JWE header %s = %v, want %v", k, jweHeader[k], v)
		}
	}
	if _, ok := jweHeader["zip"]; ok {
		e.t.Error("JWE header has zip")
	}
	var env map[string]json.RawMessage
	if err := json.Unmarshal(plaintext, &env); err != nil {
		e.t.Fatalf("plaintext: %v", err)
	}
	if _, ok := env["data"]; !ok || len(env) != 2 || env["meta"] == nil {
		e.t.Errorf("plaintext keys: %s", plaintext)
	}
	return env
}

// wantError checks a refusal: status, design §4 JSON body (D14), code, and no sealed data.
func wantError(t *testing.T, resp *http.Response, status int, code string) protoerr.Body {
	t.Helper()
	body := readBody(t, resp)
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d (body %s)", resp.StatusCode, status, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q, want application/json", ct)
	}
	var b protoerr.Body
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		t.Fatalf("error body %s: %v", body, err)
	}
	if b.Error != code || b.Description == "" {
		t.Fatalf("error %q (%q), want %q", b.Error, b.Description, code)
	}
	return b
}

// ---- cross-endpoint cases ----------------------------------------------------------------------

// D8: x-fapi-interaction-id echoed when sent, generated when absent, malformed → 400; a Date
// header within ±5 min on every answer.
func TestDataInteractionIDAndDate(t *testing.T) {
	e := newEnv(t)
	path := dataPath(e.accounts[refSavings], "/balances")
	checkDate := func(resp *http.Response) {
		t.Helper()
		d, err := http.ParseTime(resp.Header.Get("Date"))
		if err != nil || time.Since(d).Abs() > 5*time.Minute {
			t.Errorf("Date header %q (%v)", resp.Header.Get("Date"), err)
		}
	}
	const iid = "2b9a1b49-4f0d-4a3f-9f5e-3a4c3f9b1d11"
	resp := e.do(req{path: path, header: map[string]string{HeaderInteractionID: iid}})
	if got := resp.Header.Get(HeaderInteractionID); got != iid {
		t.Errorf("echoed interaction id %q, want %q", got, iid)
	}
	checkDate(resp)
	e.open(resp)

	resp = e.do(req{path: path})
	if got := resp.Header.Get(HeaderInteractionID); !uuidRE.MatchString(got) {
		t.Errorf("generated interaction id %q is not a UUID", got)
	}
	checkDate(resp)
	e.open(resp)

	calls := e.bank.Calls()
	resp = e.do(req{path: path, header: map[string]string{HeaderInteractionID: "not-a-uuid"}})
	checkDate(resp)
	wantError(t, resp, http.StatusBadRequest, protoerr.CodeInvalidRequest)
	if e.bank.Calls() != calls {
		t.Error("the connector was called for a refused request")
	}
}

// The resource routes are signed routes: no or a bad signature → 401; a client certificate off
// the allow-list → 401; no client certificate → no TLS session.
func TestDataRequiresSignatureAndCertificate(t *testing.T) {
	e := newEnv(t)
	path := dataPath(e.accounts[refSavings], "/balances")
	wantError(t, e.do(req{path: path, noSig: true}), http.StatusUnauthorized, protoerr.CodeInvalidSignature)
	// A signature over another body (POST) does not verify.
	sig, err := e.signer.SignDetached([]byte(`{"x":1}`))
	if err != nil {
		t.Fatal(err)
	}
	wantError(t, e.do(req{path: path, method: http.MethodPost, noSig: true, header: map[string]string{HeaderSignature: sig}}),
		http.StatusUnauthorized, protoerr.CodeInvalidSignature)
	wantError(t, e.do(req{path: path, client: e.tlsClient(e.pki.strayClient)}), http.StatusUnauthorized, protoerr.CodeInvalidClient)
	hr, _ := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
	if resp, err := e.tlsClient(tls.Certificate{}).Do(hr); err == nil {
		resp.Body.Close()
		t.Fatalf("a request without a client certificate got status %d", resp.StatusCode)
	}
	if e.bank.Calls() != 0 {
		t.Error("the connector was called")
	}
}

// D17 (unknown sub-resource → 404 with the standard body) and wrong methods → 405.
func TestDataUnknownRoutes(t *testing.T) {
	e := newEnv(t)
	id := e.accounts[refSavings]
	for _, p := range []string{dataPath(id, "/foobar"), dataPath(id, "/balances/x"), "/v1/accounts", "/v1/oauth/userinfo/x"} {
		wantError(t, e.do(req{path: p}), http.StatusNotFound, protoerr.CodeInvalidRequest)
	}
	for _, c := range []struct{ method, path string }{
		{http.MethodDelete, dataPath(id, "")}, {http.MethodPost, dataPath(id, "")},
		{http.MethodPut, dataPath(id, "/balances")}, {http.MethodPost, dataPath(id, "/transactions")},
		{http.MethodPost, "/v1/oauth/userinfo?consent_id=" + testConsentID},
	} {
		wantError(t, e.do(req{method: c.method, path: c.path}), http.StatusMethodNotAllowed, protoerr.CodeInvalidRequest)
	}
	if e.bank.Calls() != 0 {
		t.Error("the connector was called")
	}
}

// D18: absent, */*, application/*, application/jose and application/json (with q-values) are accepted; anything else → 406.
func TestDataAccept(t *testing.T) {
	e := newEnv(t)
	path := dataPath(e.accounts[refSavings], "/balances")
	for _, c := range []struct {
		accept string
		ok     bool
	}{
		{"", true}, {"*/*", true}, {"application/*", true}, {"application/jose", true},
		{"application/jose; q=0.5", true}, {"text/html, application/jose;q=0.1", true},
		{"APPLICATION/JOSE", true}, {"application/json, */*;q=0.1", true},
		{"application/json", true}, {"application/json;q=0, application/jose;q=0", false}, {"text/html", false}, {"application/jose;q=0", false},
		{"application/jose;q=0, */*", false}, {"*/*;q=0", false}, {"application/jwt", false},
		{"application/jose;q=2", false}, {"garbage", false},
	} {
		resp := e.do(req{path: path, header: map[string]string{"Accept": c.accept}})
		if c.ok {
			e.open(resp)
		} else {
			wantError(t, resp, http.StatusNotAcceptable, protoerr.CodeInvalidRequest)
		}
	}
}

func TestAcceptable(t *testing.T) {
	for _, c := range []struct {
		vals []string
		ok   bool
	}{
		{nil, true}, {[]string{""}, true}, {[]string{" , "}, true},
		{[]string{"text/plain", "application/jose"}, true},
		{[]string{"application/*;q=0", "application/jose"}, true},
		{[]string{"application/*;q=0.3, application/jose;q=0"}, false},
		{[]string{"application/jose;q=abc"}, false},
	} {
		if got := acceptable(c.vals, "application", "jose"); got != c.ok {
			t.Errorf("acceptable(%q) = %v, want %v", c.vals, got, c.ok)
		}
	}
}

// D16: above the per-DC limit → 429 with Retry-After; nothing reaches the connector; the
// bucket refills with time.
func TestDataRateLimit(t *testing.T) {
	e := newEnv(t, func(c *envConfig) { c.data.RateLimitPerMinute = 3 })
	path := dataPath(e.accounts[refSavings], "/balances")
	for i := 0; i < 3; i++ {
		e.open(e.do(req{path: path}))
	}
	calls := e.bank.Calls()
	resp := e.do(req{path: path})
	if ra := resp.Header.Get("Retry-After"); ra != "20" {
		t.Errorf("Retry-After %q, want 20 (one token of 3/min)", ra)
	}
	wantError(t, resp, http.StatusTooManyRequests, protoerr.CodeTemporarilyUnavailable)
	if e.bank.Calls() != calls {
		t.Error("a rate-limited request reached the connector")
	}
	// Userinfo counts against the same DC.
	wantError(t, e.do(req{path: "/v1/oauth/userinfo?consent_id=" + testConsentID}), http.StatusTooManyRequests, protoerr.CodeTemporarilyUnavailable)
	e.clock.Advance(20 * time.Second)
	e.open(e.do(req{path: path}))
}

// D16 "limits per DC and per consent": one consent over its own limit gets 429 with Retry-After
// while another consent of the same DC is still served; the refused requests take nothing of the
// DC's allowance, and the DC's limit still caps the two together.
func TestDataRateLimitPerConsent(t *testing.T) {
	e := newEnv(t, func(c *envConfig) { c.data.RateLimitPerMinute, c.data.RateLimitPerConsentPerMinute = 5, 3 })
	const otherID = "0c6b1f8e-2d4a-4c3b-8e5f-7a9d1b2c3e4f"
	other, err := e.store.GetConsent(t.Context(), testConsentID)
	if err != nil {
		t.Fatal(err)
	}
	other.Consent.ConsentID = otherID
	e.store.put(*other)
	id := e.accounts[refSavings]
	pathA := dataPath(id, "/balances")
	pathB := "/v1/accounts/" + id + "/balances?consent_id=" + otherID
	for i := 0; i < 3; i++ {
		e.open(e.do(req{path: pathA}))
	}
	calls := e.bank.Calls()
	for i := 0; i < 4; i++ {
		resp := e.do(req{path: pathA})
		if ra := resp.Header.Get("Retry-After"); ra != "20" {
			t.Errorf("consent A refusal %d: Retry-After %q, want 20 (one token of 3/min)", i+1, ra)
		}
		wantError(t, resp, http.StatusTooManyRequests, protoerr.CodeTemporarilyUnavailable)
	}
	// Userinfo counts against the consent too.
	wantError(t, e.do(req{path: "/v1/oauth/userinfo?consent_id=" + testConsentID}), http.StatusTooManyRequests,
		protoerr.CodeTemporarilyUnavailable)
	if e.bank.Calls() != calls {
		t.Error("a rate-limited request reached the connector")
	}
	// Consent B of the same DC: the DC's 5/min has 2 left, the refusals above took none.
	for i := 0; i < 2; i++ {
		e.open(e.do(req{path: pathB}))
	}
	resp := e.do(req{path: pathB})
	if ra := resp.Header.Get("Retry-After"); ra != "12" {
		t.Errorf("DC limit: Retry-After %q, want 12 (one token of 5/min)", ra)
	}
	wantError(t, resp, http.StatusTooManyRequests, protoerr.CodeTemporarilyUnavailable)
	e.clock.Advance(12 * time.Second)
	e.open(e.do(req{path: pathB}))
}

// One consent read per data request: ConsentAccount (the account endpoints) or GetConsent
// (userinfo), never both.
func TestDataOneConsentRead(t *testing.T) {
	e := newEnv(t)
	id := e.accounts[refSavings]
	for _, path := range []string{dataPath(id, ""), dataPath(id, "/balances"), dataPath(id, "/transactions"),
		"/v1/oauth/userinfo?consent_id=" + testConsentID, dataPath(e.accounts[refOther], "/balances")} {
		before := e.store.Reads()
		readBody(t, e.do(req{path: path}))
		if n := e.store.Reads() - before; n != 1 {
			t.Errorf("%s: %d consent reads, want 1", path, n)
		}
	}
}

// D15: a connector slower than BankTimeout → 503 TransientAccountAccessFailure with Retry-After
// well within PayNet's 5 s, and no data; also when the connector ignores its context.
func TestDataSlowConnector(t *testing.T) {
	for _, ignore := range []bool{false, true} {
		t.Run(fmt.Sprintf("ignoreCtx=%v", ignore), func(t *testing.T) {
			e := newEnv(t, func(c *envConfig) { c.data.BankTimeout = 300 * time.Millisecond })
			e.bank.delay, e.bank.ignoreCtx = 2*time.Second, ignore
			for _, suffix := range []string{"", "/balances", "/transactions"} {
				start := time.Now()
				resp := e.do(req{path: dataPath(e.accounts[refSavings], suffix)})
				took := time.Since(start)
				if resp.Header.Get("Retry-After") == "" {
					t.Error("no Retry-After")
				}
				wantError(t, resp, http.StatusServiceUnavailable, protoerr.CodeTransient)
				if took > 1500*time.Millisecond {
					t.Errorf("%s answered after %v, want about the 300 ms budget", suffix, took)
				}
			}
			start := time.Now()
			wantError(t, e.do(req{path: "/v1/oauth/userinfo?consent_id=" + testConsentID}), http.StatusServiceUnavailable, protoerr.CodeTransient)
			if took := time.Since(start); took > 1500*time.Millisecond {
				t.Errorf("userinfo answered after %v", took)
			}
		})
	}
}

// A connector that panics, behind the bank.Guard the server wires in, answers 500 server_error
// with the cause logged, and the process (this test binary) lives on to serve the next request.
func TestDataConnectorPanic(t *testing.T) {
	e := newEnv(t, withGuard(4))
	e.bank.panicWith = "core bank adapter bug"
	for _, path := range []string{dataPath(e.accounts[refSavings], ""), dataPath(e.accounts[refSavings], "/balances"),
		dataPath(e.accounts[refSavings], "/transactions"), "/v1/oauth/userinfo?consent_id=" + testConsentID} {
		wantError(t, e.do(req{path: path}), http.StatusInternalServerError, protoerr.CodeServerError)
	}
	if logs := e.logs.String(); !strings.Contains(logs, "bank connector panicked") || !strings.Contains(logs, "core bank adapter bug") {
		t.Errorf("the panic's cause is not logged: %s", logs)
	}
	e.bank.mu.Lock()
	e.bank.panicWith = nil
	e.bank.mu.Unlock()
	resp := e.do(req{path: dataPath(e.accounts[refSavings], "/balances")})
	if body := readBody(t, resp); resp.StatusCode != http.StatusOK {
		t.Fatalf("after the panics: %d %s", resp.StatusCode, body)
	}
}

// N connector calls stuck in a slow core bank fill bank.max_in_flight; request N+1 is answered at
// once with 503 Consent.TransientAccountAccessFailure and Retry-After instead of piling on.
func TestDataConnectorBusy(t *testing.T) {
	const limit = 3
	e := newEnv(t, withGuard(limit), func(c *envConfig) { c.data.BankTimeout = 4 * time.Second })
	e.bank.delay = 800 * time.Millisecond // two calls (account, balance) per request
	var wg sync.WaitGroup
	statuses := make(chan int, limit)
	for range limit {
		wg.Go(func() {
			resp := e.do(req{path: dataPath(e.accounts[refSavings], "/balances")})
			readBody(t, resp)
			statuses <- resp.StatusCode
		})
	}
	deadline := time.Now().Add(time.Second)
	for e.bank.Calls() < limit && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	start := time.Now()
	resp := e.do(req{path: dataPath(e.accounts[refSavings], "/balances")})
	if resp.Header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	wantError(t, resp, http.StatusServiceUnavailable, protoerr.CodeTransient)
	if took := time.Since(start); took > time.Second {
		t.Errorf("the refused request waited %v", took)
	}
	wg.Wait()
	close(statuses)
	for st := range statuses {
		if st != http.StatusOK {
			t.Errorf("a request within the limit got %d", st)
		}
	}
}

// withGuard puts the fake core bank behind bank.Guard, as internal/server does.
func withGuard(maxInFlight int) envOption {
	return func(c *envConfig) {
		g, err := bank.NewGuard(c.data.Bank.(connector.Connector), maxInFlight, c.logger)
		if err != nil {
			panic(err)
		}
		c.data.Bank = g
	}
}

func TestNewDataServerOptions(t *testing.T) {
	h := &Handler{now: time.Now}
	ok := DataOptions{Consents: newFakeStore(), Bank: &fakeBank{}, DCKeys: staticEncKeys{}, Sealer: &jose.Signer{},
		InstitutionName: testInst, AccountIDKey: testAccountIDKey, CursorKey: testCursorKeyE2E}
	d, err := newDataServer(h, ok)
	if err != nil {
		t.Fatal(err)
	}
	if d.cursorTTL != DefaultCursorTTL || d.history != DefaultHistoryMonths || d.bankTimeout != DefaultBankTimeout || d.limits.perDC.PerMinute() != DefaultRateLimitPerMinute ||
		d.limits.perConsent.PerMinute() != DefaultRateLimitPerConsentPerMinute {
		t.Errorf("defaults not applied: %+v", d)
	}
	for name, mut := range map[string]func(*DataOptions){
		"no store":       func(o *DataOptions) { o.Consents = nil },
		"no bank":        func(o *DataOptions) { o.Bank = nil },
		"no keys":        func(o *DataOptions) { o.DCKeys = nil },
		"no sealer":      func(o *DataOptions) { o.Sealer = nil },
		"no institution": func(o *DataOptions) { o.InstitutionName = "" },
		"short id key":   func(o *DataOptions) { o.AccountIDKey = []byte("short") },
		"no cursor key":  func(o *DataOptions) { o.CursorKey = nil },
		"5 s budget":     func(o *DataOptions) { o.BankTimeout = 5 * time.Second },
		"negative ttl":   func(o *DataOptions) { o.CursorTTL = -time.Second },
		"negative limit": func(o *DataOptions) { o.RateLimitPerConsentPerMinute = -1 },
	} {
		o := ok
		mut(&o)
		if _, err := newDataServer(h, o); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// staticEncKeys is an EncryptionKeys over a fixed map (the benchmarks and option tests).
type staticEncKeys map[string]jose.PublicKey

func (s staticEncKeys) EncryptionKey(_ context.Context, dcID, encKid string) (jose.PublicKey, error) {
	if k, ok := s[dcID+"/"+encKid]; ok {
		return k, nil
	}
	return jose.PublicKey{}, paynet.ErrUnknownEncKey
}

// O4: the logs of a mixed run (successes and every kind of refusal, a connector whose errors
// name the account) hold no account number, bank reference, ID number, signature or response.
func TestDataLogsHoldNoSecrets(t *testing.T) {
	e := newEnv(t)
	leaky := fmt.Errorf("core says no for account %s of %s: %w", numSavings, testIDNumber, connector.ErrUnavailable)
	var secrets []string
	for _, suffix := range []string{"", "/balances", "/transactions"} {
		for _, ref := range []string{refSavings, refCard} {
			resp := e.do(req{path: dataPath(e.accounts[ref], suffix)})
			body := readBody(t, resp)
			secrets = append(secrets, string(body))
		}
	}
	resp := e.do(req{path: "/v1/oauth/userinfo?consent_id=" + testConsentID})
	readBody(t, resp)
	e.bank.mu.Lock()
	e.bank.errs[refSavings] = leaky
	e.bank.errs[refCard] = fmt.Errorf("weird failure on %s", numCard)
	e.bank.mu.Unlock()
	for _, ref := range []string{refSavings, refCard, refDormant, refClosed, refOther} {
		readBody(t, e.do(req{path: dataPath(e.accounts[ref], "/balances")}))
	}
	sig, _ := e.signer.SignDetached(nil)
	secrets = append(secrets, sig, numSavings, numCard, (&connector.Account{Type: connector.TypeCredit, Number: numCard}).SharedNumber(), testIDNumber,
		consent.NormalizeIDNumber(testIDNumber), consent.HashIDNumber(testIDNumber), refSavings, refCard, refDormant, refClosed)
	logs := e.logs.String()
	if !strings.Contains(logs, `"route":"GET /v1/accounts/{account_id}/balances"`) || !strings.Contains(logs, testConsentID) {
		t.Fatalf("the access log is missing: %s", logs)
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(logs, s) {
			t.Errorf("the logs contain %.40q", s)
		}
	}
	// JWS/JWE material never appears (a compact JOSE header starts with eyJ).
	if strings.Contains(logs, "eyJ") {
		t.Error("the logs contain base64url JSON (a JWS or JWE)")
	}
}

// Metrics: every answer is counted by endpoint and outcome.
func TestDataMetrics(t *testing.T) {
	e := newEnv(t)
	e.open(e.do(req{path: dataPath(e.accounts[refSavings], "/balances")}))
	readBody(t, e.do(req{path: dataPath(e.accounts[refOther], "/balances")}))
	readBody(t, e.do(req{path: dataPath(e.accounts[refSavings], "/transactions", "page_size", "5")}))
	for _, c := range []struct {
		endpoint, outcome string
	}{{"balances", "ok"}, {"balances", protoerr.CodeConsentInvalid}, {"transactions", protoerr.CodeInvalidRequest}} {
		var m dto.Metric
		if err := e.metrics.DataResponses.WithLabelValues(c.endpoint, c.outcome).Write(&m); err != nil {
			t.Fatal(err)
		}
		if got := m.GetCounter().GetValue(); got != 1 {
			t.Errorf("data responses %s/%s = %v, want 1", c.endpoint, c.outcome, got)
		}
	}
}

// ids are the account ids of an authorization's accounts.
func ids(accts []store.AuthorizedAccount) []string {
	out := make([]string, len(accts))
	for i, a := range accts {
		out[i] = a.AccountID
	}
	return out
}
