package web

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ofpdp/ofpdp/connector"
	"github.com/ofpdp/ofpdp/internal/consent"
	"github.com/ofpdp/ofpdp/internal/jose"
	"github.com/ofpdp/ofpdp/internal/journey"
	"github.com/ofpdp/ofpdp/internal/paynet"
	"github.com/ofpdp/ofpdp/internal/store"
)

// ---- fakes (house style: fakes, not mocks) ----

// fakeStore is an in-memory Store with the real store's semantics for what the journey uses:
// compare-and-swap on consent and session versions, UseOnce, login failure counting.
type fakeStore struct {
	mu       sync.Mutex
	consents map[string]store.ConsentRecord
	sessions map[string]store.Session
	once     map[string]time.Time
	counters map[string]fakeCounter
	audits   []store.AuditEntry
	outbox   []store.OutboxItem // one per consent, the first enqueued
	now      func() time.Time
}

type fakeCounter struct {
	attempts    int
	start, next time.Time
}

func newFakeStore(now func() time.Time) *fakeStore {
	return &fakeStore{
		consents: map[string]store.ConsentRecord{}, sessions: map[string]store.Session{},
		once: map[string]time.Time{}, counters: map[string]fakeCounter{}, now: now,
	}
}

func (f *fakeStore) put(c consent.Consent) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rec := f.consents[c.ConsentID]
	rec.Consent, rec.Version = c, rec.Version+1
	f.consents[c.ConsentID] = rec
}

func (f *fakeStore) record(id string) store.ConsentRecord {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.consents[id]
}

func (f *fakeStore) GetConsent(_ context.Context, id string) (*store.ConsentRecord, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rec, ok := f.consents[id]
	if !ok {
		return nil, store.ErrNotFound
	}
	return &rec, nil
}

func (f *fakeStore) Authorize(_ context.Context, id string, version int64, a store.Authorization) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rec, ok := f.consents[id]
	switch {
	case !ok:
		return 0, store.ErrNotFound
	case rec.Version != version:
		return 0, store.ErrConflict
	case (a.Status == consent.StatusAuthorized) != (a.Approved != nil):
		return 0, store.ErrInvalidArgument // an authorization, and only it, carries what was approved
	case rec.Authorization != nil || !consent.DecisionFrom(rec.Consent.Status, a.Status):
		return 0, consent.ErrNotAwaitingAuthorization
	}
	rec.Consent.Status, rec.Authorization, rec.Version = a.Status, &a, rec.Version+1
	f.consents[id] = rec
	return rec.Version, nil
}

func (f *fakeStore) UseOnce(_ context.Context, key string, until time.Time) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if exp, ok := f.once[key]; ok && f.now().Before(exp) {
		return false, nil
	}
	f.once[key] = until
	return true, nil
}

func (f *fakeStore) CreateSession(_ context.Context, s store.Session) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.sessions[s.IDHash]; ok {
		return store.ErrConflict
	}
	s.Data = slices.Clone(s.Data)
	f.sessions[s.IDHash] = s
	return nil
}

func (f *fakeStore) GetSession(_ context.Context, idHash string) (*store.Session, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.sessions[idHash]
	if !ok {
		return nil, store.ErrNotFound
	}
	s.Data = slices.Clone(s.Data)
	return &s, nil
}

func (f *fakeStore) UpdateSession(_ context.Context, s store.Session) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	cur, ok := f.sessions[s.IDHash]
	switch {
	case !ok:
		return 0, store.ErrNotFound
	case cur.Version != s.Version:
		return 0, store.ErrConflict
	}
	s.Version++
	s.CreatedAt = cur.CreatedAt
	s.Data = slices.Clone(s.Data)
	f.sessions[s.IDHash] = s
	return s.Version, nil
}

func (f *fakeStore) DeleteSession(_ context.Context, idHash string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.sessions, idHash)
	return nil
}

// ReserveLoginAttempt has store.ReserveLoginAttempt's semantics, in memory.
func (f *fakeStore) ReserveLoginAttempt(_ context.Context, key string, l store.AttemptLimit, now time.Time) (store.Reservation, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.counters[key]
	switch {
	case !ok || !c.start.After(now.Add(-l.Window)):
		c = fakeCounter{start: now}
	case c.attempts >= l.Max && (l.DelayStep == 0 || c.next.After(now)):
		retry := c.start.Add(l.Window)
		if l.DelayStep > 0 && c.next.Before(retry) {
			retry = c.next
		}
		return store.Reservation{Attempts: c.attempts, RetryAt: retry}, nil
	}
	c.attempts++
	c.next = time.Time{}
	if c.attempts >= l.Max {
		c.next = now.Add(time.Duration(c.attempts+1-l.Max) * l.DelayStep)
	}
	f.counters[key] = c
	return store.Reservation{OK: true, Attempts: c.attempts}, nil
}

func (f *fakeStore) ReleaseLoginAttempt(_ context.Context, key string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c, ok := f.counters[key]; ok && c.attempts > 0 {
		c.attempts--
		f.counters[key] = c
	}
	return nil
}

func (f *fakeStore) ClearLoginAttempts(_ context.Context, key string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.counters, key)
	return nil
}

// attempts sums the reserved attempts of the counters whose key starts with prefix
// ("u:" usernames, "uc:" username and client, "c:" clients, "k:" consents, "g" global).
func (f *fakeStore) attempts(prefix string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for k, c := range f.counters {
		if strings.HasPrefix(k, prefix) {
			n += c.attempts
		}
	}
	return n
}

func (f *fakeStore) CountSessions(_ context.Context, consentID string) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, s := range f.sessions {
		if s.ConsentID == consentID {
			n++
		}
	}
	return n, nil
}

func (f *fakeStore) Audit(_ context.Context, e store.AuditEntry) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.audits = append(f.audits, e)
	return nil
}

func (f *fakeStore) EnqueueUpdate(_ context.Context, it store.OutboxItem) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if it.ConsentID == "" || (it.Status != consent.StatusRejected && it.Status != consent.StatusFailed) {
		return store.ErrInvalidArgument
	}
	if !slices.ContainsFunc(f.outbox, func(o store.OutboxItem) bool { return o.ConsentID == it.ConsentID }) {
		f.outbox = append(f.outbox, it)
	}
	return nil
}

func (f *fakeStore) outboxItems() []store.OutboxItem {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.outbox)
}

func (f *fakeStore) sessionCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.sessions)
}

// fakeBank is a core bank with two customers.
type fakeBank struct {
	mu        sync.Mutex
	users     map[string]struct{ password, ref string }
	customers map[string]connector.Customer
	accounts  []connector.Account
	authCalls int
	down      bool
}

func (b *fakeBank) Authenticate(_ context.Context, username, password string) (connector.Customer, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.authCalls++
	if b.down {
		return connector.Customer{}, connector.ErrUnavailable
	}
	u, ok := b.users[username]
	if !ok || u.password != password {
		return connector.Customer{}, connector.ErrInvalidCredentials
	}
	return b.customers[u.ref], nil
}

func (b *fakeBank) Customer(_ context.Context, ref string) (connector.Customer, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c, ok := b.customers[ref]
	if !ok {
		return connector.Customer{}, connector.ErrNotFound
	}
	return c, nil
}

func (b *fakeBank) Accounts(_ context.Context, ref string) ([]connector.Account, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.down {
		return nil, connector.ErrUnavailable
	}
	var out []connector.Account
	for _, a := range b.accounts {
		if a.CustomerRef == ref {
			out = append(out, a)
		}
	}
	return out, nil
}

func (b *fakeBank) Account(_ context.Context, ref string) (connector.Account, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, a := range b.accounts {
		if a.Ref == ref {
			return a, nil
		}
	}
	return connector.Account{}, connector.ErrNotFound
}

func (b *fakeBank) Balance(context.Context, string) (connector.Balance, error) {
	return connector.Balance{}, errors.New("fake bank: balances are not part of the journey")
}

func (b *fakeBank) Transactions(context.Context, connector.TransactionQuery) (connector.TransactionPage, error) {
	return connector.TransactionPage{}, errors.New("fake bank: transactions are not part of the journey")
}

func (b *fakeBank) setStatus(ref, status string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := range b.accounts {
		if b.accounts[i].Ref == ref {
			b.accounts[i].Status = status
		}
	}
}

func (b *fakeBank) calls() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.authCalls
}

func account(ref, cust, number, name, typ, subtype string, mod func(*connector.Account)) connector.Account {
	a := connector.Account{
		Ref: ref, CustomerRef: cust, Number: number, Name: name, HolderName: "Holder",
		HolderType: connector.HolderIndividual, Category: "retail", Type: typ, Subtype: subtype,
		Currency: "MYR", Status: connector.StatusActive,
	}
	if mod != nil {
		mod(&a)
	}
	return a
}

func newFakeBank() *fakeBank {
	return &fakeBank{
		users: map[string]struct{ password, ref string }{
			"aisyah": {"Demo@1234", "CUST-1"},
			"john":   {"Demo@1234", "CUST-2"},
		},
		customers: map[string]connector.Customer{
			"CUST-1": {Ref: "CUST-1", Name: "Aisyah", IDType: "nric", IDNumber: "900101-14-5678", MobileNumber: "+60123456789"},
			"CUST-2": {Ref: "CUST-2", Name: "John", IDType: "passport", IDNumber: "A12345678"},
		},
		accounts: []connector.Account{
			account("ACC-SAV", "CUST-1", "1234567890", "My Savings", connector.TypeDeposit, connector.SubtypeSavings, nil),
			account("ACC-CARD", "CUST-1", "4111 1111 1111 1234", "Visa Platinum", connector.TypeCredit, connector.SubtypeCreditCard, nil),
			account("ACC-DORM", "CUST-1", "5550001111", "Old Savings", connector.TypeDeposit, connector.SubtypeSavings,
				func(a *connector.Account) { a.Status = connector.StatusDormant }),
			account("ACC-JOINT", "CUST-1", "5550002222", "Joint Current", connector.TypeDeposit, connector.SubtypeCurrent,
				func(a *connector.Account) { a.HolderType = connector.HolderJoint }),
			account("ACC-USD", "CUST-1", "5550003333", "USD Savings", connector.TypeDeposit, connector.SubtypeSavings,
				func(a *connector.Account) { a.Currency = "USD" }),
			account("ACC-JOHN", "CUST-2", "9998887777", "John Savings", connector.TypeDeposit, connector.SubtypeSavings, nil),
		},
	}
}

// fakeVerifier accepts the signatures it was told about and returns their payloads.
type fakeVerifier struct{ sigs map[string]string }

func (v fakeVerifier) VerifyAttached(_ context.Context, sig string) (*jose.Header, []byte, error) {
	p, ok := v.sigs[sig]
	if !ok {
		return nil, nil, fmt.Errorf("%w: fake", jose.ErrSignature)
	}
	return &jose.Header{Alg: "PS256", Kid: "paynet"}, []byte(p), nil
}

// fakeUpdater records consent updates; err fails them; gate, when set, holds each call until closed.
type fakeUpdater struct {
	mu      sync.Mutex
	updates []paynet.Update
	err     error
	gate    chan struct{}
	started chan struct{}
}

func (u *fakeUpdater) UpdateConsent(ctx context.Context, up paynet.Update) error {
	u.mu.Lock()
	u.updates = append(u.updates, up)
	gate, started, err := u.gate, u.started, u.err
	u.mu.Unlock()
	if started != nil {
		started <- struct{}{}
	}
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return err
}

func (u *fakeUpdater) all() []paynet.Update {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.Clone(u.updates)
}

// fakeSigner records id_token claims and returns a recognisable token.
type fakeSigner struct {
	mu     sync.Mutex
	claims []jose.IDTokenClaims
}

func (s *fakeSigner) SignIDToken(c jose.IDTokenClaims) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.claims = append(s.claims, c)
	return "id-token-for-" + c.Subject, nil
}

// ---- harness ----

const (
	testConsentID = "18ce19c8-85be-4049-899c-21cdc02cde79"
	otherConsent  = "0f5a2b7e-1111-4222-8333-944455556666"
	testDCID      = "DC-550e8400"
	testDPID      = "DP9876543210"
	testSig       = "sig-for-consent"
	otherSig      = "sig-for-other-consent"
	testRedirect  = "https://paynet.example/v1/callback"
	testRedirectQ = "https://paynet.example/cb?tenant=a"
)

var testKey = []byte("0123456789abcdef0123456789abcdef")

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type harness struct {
	t      testing.TB
	h      *Handler
	clock  *clock
	store  *fakeStore
	bank   *fakeBank
	upd    *fakeUpdater
	signer *fakeSigner
	cookie string // the browser's session cookie value
	csrf   string // the last CSRF token seen in a page
	nonce  string // the last form nonce seen in a page
	lang   string // Accept-Language sent
	addr   string // RemoteAddr sent ("" = httptest's 192.0.2.1:1234)
}

func testConsent(now time.Time) consent.Consent {
	return consent.Consent{
		ConsentID: testConsentID, DCID: testDCID, DPID: testDPID,
		IDType: consent.IDTypeNRIC, HashedIDNumber: consent.HashIDNumber("900101145678"),
		ConsentType: consent.TypeAccountAccess, Purpose: consent.PurposePFM,
		Permissions:        []consent.Permission{consent.PermReadAccounts, consent.PermReadBalances, consent.PermReadTransactions},
		ExpirationDatetime: time.Date(2026, 12, 31, 23, 59, 59, 0, myt),
		Status:             consent.StatusAwaitingAuthorization,
		CreatedAt:          now.Add(-time.Minute), UpdatedAt: now.Add(-time.Minute),
	}
}

func newHarness(t testing.TB, mod func(*Options)) *harness {
	t.Helper()
	c := &clock{t: time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)}
	hs := &harness{t: t, clock: c, store: newFakeStore(c.now), bank: newFakeBank(), upd: &fakeUpdater{}, signer: &fakeSigner{}}
	hs.store.put(testConsent(c.now()))
	o := Options{
		Store: hs.store, Bank: hs.bank, Updater: hs.upd, IDTokens: hs.signer,
		Signatures:             fakeVerifier{sigs: map[string]string{testSig: testConsentID, otherSig: otherConsent}},
		DPID:                   testDPID,
		IDTokenIssuer:          "https://dp.bank.example",
		RedirectAllowlist:      []string{testRedirect, testRedirectQ},
		AccountIDKey:           testKey,
		RequireIdentityBinding: true,
		Branding:               Branding{BankName: "Demo Bank Berhad", PrimaryColor: "#0b5394"},
		DCs:                    map[string]DCInfo{testDCID: {Name: "Duit Planner"}},
		Now:                    c.now,
		Logger:                 slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if mod != nil {
		mod(&o)
	}
	h, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h.pollEvery, h.waitFor = 5*time.Millisecond, 2*time.Second
	hs.h = h
	return hs
}

var (
	csrfRE  = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	nonceRE = regexp.MustCompile(`name="nonce" value="([^"]+)"`)
)

// do sends a request as the browser: with its cookie, keeping any new cookie and the last
// CSRF token and nonce of the page.
func (hs *harness) do(method, target string, form url.Values, hdr ...string) *httptest.ResponseRecorder {
	hs.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	r := httptest.NewRequest(method, "https://dp.bank.example"+target, body)
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if hs.lang != "" {
		r.Header.Set("Accept-Language", hs.lang)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	if hs.cookie != "" {
		r.AddCookie(&http.Cookie{Name: hs.h.cookieName(), Value: hs.cookie})
	}
	if hs.addr != "" {
		r.RemoteAddr = hs.addr
	}
	w := httptest.NewRecorder()
	hs.h.ServeHTTP(w, r)
	for _, c := range w.Result().Cookies() {
		if c.Name == hs.h.cookieName() {
			hs.cookie = c.Value
			if c.MaxAge < 0 {
				hs.cookie = ""
			}
		}
	}
	if m := csrfRE.FindStringSubmatch(w.Body.String()); m != nil {
		hs.csrf = m[1]
	}
	if m := nonceRE.FindStringSubmatch(w.Body.String()); m != nil {
		hs.nonce = m[1]
	}
	return w
}

// raw sends a request with the browser's cookie without updating the harness (for concurrent use).
func (hs *harness) raw(method, target string, form url.Values) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, "https://dp.bank.example"+target, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.AddCookie(&http.Cookie{Name: hs.h.cookieName(), Value: hs.cookie})
	w := httptest.NewRecorder()
	hs.h.ServeHTTP(w, r)
	return w
}

// newBrowser is a second browser on the same server.
func newBrowser(hs *harness) *harness {
	b := *hs
	b.cookie, b.csrf, b.nonce = "", "", ""
	return &b
}

// post sends a journey form with the current CSRF token.
func (hs *harness) post(target string, form url.Values) *httptest.ResponseRecorder {
	hs.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", hs.csrf)
	}
	return hs.do(http.MethodPost, target, form)
}

func authorizeURL(consentID, redirect, sig string) string {
	return pathAuthorize + "?" + url.Values{"consent_id": {consentID}, "redirect_uri": {redirect}, "signature": {sig}}.Encode()
}

// start runs the authorize request and opens the login page.
func (hs *harness) start() {
	hs.t.Helper()
	w := hs.do(http.MethodGet, authorizeURL(testConsentID, testRedirect, testSig), nil)
	mustRedirect(hs.t, w, pathLogin)
	mustStatus(hs.t, hs.do(http.MethodGet, pathLogin, nil), http.StatusOK)
}

// login starts and logs in as aisyah; the browser ends on the accounts page.
func (hs *harness) login() {
	hs.t.Helper()
	hs.start()
	w := hs.post(pathLogin, url.Values{"username": {"aisyah"}, "password": {"Demo@1234"}})
	mustRedirect(hs.t, w, pathAccounts)
	mustStatus(hs.t, hs.do(http.MethodGet, pathAccounts, nil), http.StatusOK)
}

// review logs in, chooses refs and opens the review page.
func (hs *harness) review(refs ...string) {
	hs.t.Helper()
	hs.login()
	w := hs.post(pathAccounts, url.Values{"account": hs.ids(refs...)})
	mustRedirect(hs.t, w, pathReview)
	mustStatus(hs.t, hs.do(http.MethodGet, pathReview, nil), http.StatusOK)
}

// ids are the DP account ids of bank refs for the test DC.
func (hs *harness) ids(refs ...string) []string {
	var out []string
	for _, r := range refs {
		out = append(out, consent.AccountID(testKey, testDCID, r))
	}
	return out
}

func (hs *harness) decide(decision string) *httptest.ResponseRecorder {
	hs.t.Helper()
	return hs.post(pathDecision, url.Values{"decision": {decision}, "nonce": {hs.nonce}})
}

// journey returns the browser's current session data.
func (hs *harness) journey() journey.State {
	hs.t.Helper()
	s, err := hs.h.loadByHash(context.Background(), hashID(hs.cookie))
	if err != nil {
		hs.t.Fatalf("load session: %v", err)
	}
	return s.j
}

func mustStatus(t testing.TB, w *httptest.ResponseRecorder, want int) {
	t.Helper()
	if w.Code != want {
		t.Fatalf("status %d, want %d; Location %q; body:\n%s", w.Code, want, w.Header().Get("Location"), w.Body.String())
	}
}

func mustRedirect(t testing.TB, w *httptest.ResponseRecorder, want string) {
	t.Helper()
	mustStatus(t, w, http.StatusSeeOther)
	if got := w.Header().Get("Location"); got != want {
		t.Fatalf("Location %q, want %q", got, want)
	}
}

// leave follows a journey's ending the way a browser does (respondOutcome): a 303 to the
// same-origin /journey/complete page, which must offer the "Back to {DC}" link (a link, not a
// form: CSP form-action 'self'), then GET /journey/done. Any other answer is returned unchanged.
func (hs *harness) leave(w *httptest.ResponseRecorder) *httptest.ResponseRecorder {
	hs.t.Helper()
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != pathComplete {
		return w
	}
	page := hs.do(http.MethodGet, pathComplete, nil)
	if !strings.Contains(page.Body.String(), `id="back-to-dc" href="/journey/done"`) {
		hs.t.Fatalf("the ending page has no Back to DC link:\n%s", page.Body.String())
	}
	if strings.Contains(page.Body.String(), `action="/journey/done"`) {
		hs.t.Fatal("the ending page leaves through a form; the CSP form-action 'self' would block the redirect chain")
	}
	return hs.do(http.MethodGet, pathDone, nil)
}

// ending checks that a journey ended without an authorization the way a browser sees it: a 303 to
// /journey/complete, whose page says what happened and offers the Back to DC link. It does not
// follow the link, so the session stays for further requests.
func (hs *harness) ending(w *httptest.ResponseRecorder, kind errKind) {
	hs.t.Helper()
	mustRedirect(hs.t, w, pathComplete)
	page := hs.do(http.MethodGet, pathComplete, nil)
	mustStatus(hs.t, page, kind.status)
	mustStep(hs.t, page, "error")
	body := page.Body.String()
	cats, err := loadCatalogs()
	if err != nil {
		hs.t.Fatal(err)
	}
	title := template.HTMLEscapeString(cats[langEN]["error."+kind.code+".title"])
	if !strings.Contains(body, `id="back-to-dc" href="/journey/done"`) || !strings.Contains(body, title) {
		hs.t.Fatalf("ending page is not %q with a Back to DC link:\n%s", kind.code, body)
	}
}

// mustErrorRedirect checks a 303 to the redirect_uri with error=access_denied, a description and
// the consent_id (design §3.10).
func mustErrorRedirect(t testing.TB, w *httptest.ResponseRecorder, redirect, consentID, reason string) {
	t.Helper()
	mustStatus(t, w, http.StatusSeeOther)
	loc := w.Header().Get("Location")
	if !strings.HasPrefix(loc, redirect+"?") && !strings.HasPrefix(loc, redirect+"&") {
		t.Fatalf("Location %q does not go to %q", loc, redirect)
	}
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if q.Get("error") != "access_denied" || q.Get("consent_id") != consentID || q.Get("error_description") != descriptions[reason] {
		t.Fatalf("Location %q: want error=access_denied, consent_id=%s, description of %s", loc, consentID, reason)
	}
}

func mustStep(t testing.TB, w *httptest.ResponseRecorder, step string) {
	t.Helper()
	if !strings.Contains(w.Body.String(), `<main id="content" data-step="`+step+`">`) {
		t.Fatalf("page is not step %q:\n%s", step, w.Body.String())
	}
}
