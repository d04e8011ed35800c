package connectortest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ofpdp/ofpdp/connector"
)

// Customer is the --customer file: a test customer of the bank's adapter and the accounts the
// kit exercises. Only username, password and accounts.active are required.
type Customer struct {
	Username    string `json:"username"`
	Password    string `json:"password"`
	CustomerRef string `json:"customer_ref,omitempty"`
	// IDType and IDNumber, when given, are the customer's identity: the adapter's id_number, or its
	// hashed_id_number, must be this number's (design §3.11).
	IDType   string `json:"id_type,omitempty"`
	IDNumber string `json:"id_number,omitempty"`
	// Accounts names an account reference per status: active (required), dormant, blocked, closed.
	// They may belong to other customers.
	Accounts map[string]string `json:"accounts"`
	// ForeignAccount is an account of another customer.
	ForeignAccount string `json:"foreign_account,omitempty"`
	// TransactionsAccount is walked (default accounts.active); it should have a few hundred
	// transactions in the window.
	TransactionsAccount string `json:"transactions_account,omitempty"`
	// From and To are the window walked, YYYY-MM-DD Malaysian days, inclusive (default: the 90
	// days before today).
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
}

// ParseCustomer decodes and checks a --customer file.
func ParseCustomer(b []byte) (Customer, error) {
	var c Customer
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return c, fmt.Errorf("customer file: %w", err)
	}
	switch {
	case c.Username == "" || c.Password == "":
		return c, errors.New("customer file: username and password are required")
	case c.Accounts["active"] == "":
		return c, errors.New("customer file: accounts.active is required")
	case (c.IDType == "") != (c.IDNumber == ""):
		return c, errors.New("customer file: id_type and id_number go together")
	case c.IDType != "" && c.IDType != "nric" && c.IDType != "passport":
		return c, errors.New("customer file: id_type: want nric or passport")
	}
	for k := range c.Accounts {
		if !slices.Contains([]string{"active", "dormant", "blocked", "closed"}, k) {
			return c, fmt.Errorf("customer file: accounts.%s: want active, dormant, blocked or closed", k)
		}
	}
	for _, d := range []string{c.From, c.To} {
		if _, err := time.Parse(dateLayout, d); d != "" && err != nil {
			return c, fmt.Errorf("customer file: %q is not a date YYYY-MM-DD", d)
		}
	}
	return c, nil
}

// Options configure a run.
type Options struct {
	URL         string      // the adapter's root
	TLS         *tls.Config // roots and client certificate; nil = system roots
	BearerToken string
	Customer    Customer
	// Deadline is what the kit announces in x-ofpdp-deadline-ms and the longest a call may take
	// (default 4s, ofpdp's bank.timeout).
	Deadline time.Duration
	// PageSize is the limit of the transactions walk (default 50).
	PageSize int
	Now      func() time.Time
}

// Result is one row of the report.
type Result struct {
	ID     string `json:"id"`
	Check  string `json:"check"`
	Status string `json:"status"` // pass, fail, skip
	Detail string `json:"detail,omitempty"`
	Millis int64  `json:"ms"`
}

// Report is a whole run.
type Report struct {
	URL     string   `json:"url"`
	Results []Result `json:"results"`
	Passed  int      `json:"passed"`
	Failed  int      `json:"failed"`
	Skipped int      `json:"skipped"`
}

// Result returns the row with this id.
func (r *Report) Result(id string) (Result, bool) {
	for _, x := range r.Results {
		if x.ID == id {
			return x, true
		}
	}
	return Result{}, false
}

const dateLayout = "2006-01-02"

var myt = time.FixedZone("MYT", 8*3600)

type kit struct {
	o     Options
	vt    *Transport
	hc    *http.Client
	base  string
	mu    sync.Mutex
	slow  []string
	calls int
	rep   *Report
}

// response is one answer as the kit sees it.
type response struct {
	status int
	body   []byte
	ctype  string
}

func (r response) problem() string {
	var p struct {
		Code string `json:"code"`
	}
	_ = json.Unmarshal(r.body, &p)
	return p.Code
}

// Run checks the adapter at o.URL against docs/connector-openapi.yaml and the behaviour the
// document describes. An error means the run itself could not start (bad options); failures of
// the adapter are rows of the report.
func Run(ctx context.Context, o Options) (*Report, error) {
	if o.Deadline <= 0 {
		o.Deadline = 4 * time.Second
	}
	if o.PageSize <= 0 {
		o.PageSize = 50
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	u, err := url.Parse(o.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("connector-test: --url %q is not an http(s) URL", o.URL)
	}
	base := strings.TrimSuffix(o.URL, "/")
	contract, err := LoadContract(base)
	if err != nil {
		return nil, err
	}
	tr := &http.Transport{TLSClientConfig: o.TLS, MaxIdleConnsPerHost: 8}
	defer tr.CloseIdleConnections()
	vt := &Transport{Contract: contract, Next: tr}
	k := &kit{o: o, vt: vt, hc: &http.Client{Transport: vt, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}, base: base, rep: &Report{URL: o.URL}}
	k.runAll(ctx, contract)
	for _, r := range k.rep.Results {
		switch r.Status {
		case "pass":
			k.rep.Passed++
		case "fail":
			k.rep.Failed++
		default:
			k.rep.Skipped++
		}
	}
	return k.rep, nil
}

// call sends one request of the contract with its headers and times it against the deadline.
func (k *kit) call(ctx context.Context, method, path string, q url.Values, body any) (response, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	target := k.base + path
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	ctx, cancel := context.WithTimeout(ctx, k.o.Deadline+2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return response{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	var id [16]byte
	_, _ = rand.Read(id[:])
	id[6], id[8] = id[6]&0x0f|0x40, id[8]&0x3f|0x80
	h := hex.EncodeToString(id[:])
	req.Header.Set("x-fapi-interaction-id", h[:8]+"-"+h[8:12]+"-"+h[12:16]+"-"+h[16:20]+"-"+h[20:])
	req.Header.Set("traceparent", "00-"+h+"-"+h[:16]+"-00")
	req.Header.Set("x-ofpdp-deadline-ms", strconv.FormatInt(k.o.Deadline.Milliseconds(), 10))
	if k.o.BearerToken != "" {
		req.Header.Set("Authorization", "Bearer "+k.o.BearerToken)
	}
	start := time.Now()
	resp, err := k.hc.Do(req)
	d := time.Since(start)
	k.mu.Lock()
	k.calls++
	if d > k.o.Deadline {
		k.slow = append(k.slow, fmt.Sprintf("%s %s took %v", method, path, d.Round(time.Millisecond)))
	}
	k.mu.Unlock()
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, body: b, ctype: resp.Header.Get("Content-Type")}, err
}

// row runs one check: its own failures plus every objection of the document to its exchanges.
func (k *kit) row(id, check string, f func(fail func(format string, args ...any)) (skip string)) {
	start := time.Now()
	var problems []string
	fail := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	skip := f(fail)
	for _, ex := range k.vt.Take() {
		if ex.RequestErr != nil {
			fail("request outside the document (a bug of the kit): %v", firstLine(ex.RequestErr))
		}
		if ex.ResponseErr != nil {
			fail("%s answer %d outside the document: %s", ex.Operation, ex.Status, firstLine(ex.ResponseErr))
		}
	}
	r := Result{ID: id, Check: check, Status: "pass", Millis: time.Since(start).Milliseconds()}
	switch {
	case len(problems) > 0:
		r.Status, r.Detail = "fail", strings.Join(problems, "; ")
	case skip != "":
		r.Status, r.Detail = "skip", skip
	}
	k.rep.Results = append(k.rep.Results, r)
}

func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

// expect checks an error answer: its status and problem code.
func expect(fail func(string, ...any), what string, r response, err error, status int, codes ...string) {
	switch {
	case err != nil:
		fail("%s: %v", what, err)
	case r.status != status || !slices.Contains(codes, r.problem()):
		fail("%s: got %d %q, want %d %s", what, r.status, r.problem(), status, strings.Join(codes, " or "))
	case !strings.HasPrefix(r.ctype, "application/problem+json"):
		fail("%s: Content-Type %q, want application/problem+json", what, r.ctype)
	}
}

func ok(fail func(string, ...any), what string, r response, err error, out any) bool {
	if err != nil {
		fail("%s: %v", what, err)
		return false
	}
	if r.status != http.StatusOK {
		fail("%s: got %d %q, want 200", what, r.status, r.problem())
		return false
	}
	if out != nil {
		if err := json.Unmarshal(r.body, out); err != nil {
			fail("%s: %v", what, err)
			return false
		}
	}
	return true
}

// kitIdentity is what the kit reads of a Customer answer.
type kitIdentity struct {
	CustomerRef    string `json:"customer_ref"`
	IDType         string `json:"id_type"`
	IDNumber       string `json:"id_number"`
	HashedIDNumber string `json:"hashed_id_number"`
	MaskedIDNumber string `json:"masked_id_number"`
}

// identity is an identity reduced to what ofpdp sends PayNet (spec §5.8); it never holds a raw number.
type identity struct{ idType, hashed, masked string }

func (k *kitIdentity) identity() identity {
	cu := connector.Customer{IDType: k.IDType, IDNumber: k.IDNumber, HashedIDNumber: k.HashedIDNumber, MaskedIDNumber: k.MaskedIDNumber}
	h, m := cu.Identity()
	return identity{k.IDType, h, m}
}

func (i identity) describe() string {
	return fmt.Sprintf("id_type %q hashed_id_number %q masked_id_number %q", i.idType, i.hashed, i.masked)
}

type kitAccount struct {
	AccountRef  string `json:"account_ref"`
	CustomerRef string `json:"customer_ref"`
	Status      string `json:"status"`
}

type kitTx struct {
	ID   string `json:"id"`
	Date string `json:"date"`
	at   time.Time
}

type kitPage struct {
	Transactions []kitTx `json:"transactions"`
	More         bool    `json:"more"`
	NextCursor   string  `json:"next_cursor"`
}

// window is the walked window: whole Malaysian days, inclusive.
func (k *kit) window() (from, to time.Time) {
	c := k.o.Customer
	today := k.o.Now().In(myt)
	y, m, d := today.Date()
	to = time.Date(y, m, d, 0, 0, 0, 0, myt).Add(-time.Nanosecond)
	from = time.Date(y, m, d-90, 0, 0, 0, 0, myt)
	if c.From != "" {
		from, _ = time.ParseInLocation(dateLayout, c.From, myt)
	}
	if c.To != "" {
		t, _ := time.ParseInLocation(dateLayout, c.To, myt)
		to = t.AddDate(0, 0, 1).Add(-time.Nanosecond)
	}
	return from, to
}

func (k *kit) page(ctx context.Context, ref string, from, to time.Time, limit int, cursor string) (kitPage, response, error) {
	q := url.Values{"from": {from.Format(time.RFC3339Nano)}, "to": {to.Format(time.RFC3339Nano)}, "limit": {strconv.Itoa(limit)}}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	var p kitPage
	r, err := k.call(ctx, http.MethodGet, "/v1/accounts/"+url.PathEscape(ref)+"/transactions", q, nil)
	if err == nil && r.status == http.StatusOK {
		err = json.Unmarshal(r.body, &p)
		for i := range p.Transactions {
			t := &p.Transactions[i]
			if t.at, err = time.Parse(time.RFC3339Nano, t.Date); err != nil {
				break
			}
		}
	}
	return p, r, err
}

// walk reads every page of the window; it reports order, duplicates, window and limit problems.
func (k *kit) walk(ctx context.Context, fail func(string, ...any), ref string, from, to time.Time, limit int) []kitTx {
	var all []kitTx
	seen := map[string]bool{}
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 10000 {
			fail("more than 10000 pages: the walk does not end")
			return all
		}
		p, r, err := k.page(ctx, ref, from, to, limit, cursor)
		if !ok(fail, "transactions page "+strconv.Itoa(pages+1), r, err, nil) {
			return all
		}
		if len(p.Transactions) > limit {
			fail("page %d has %d items, over the limit %d", pages+1, len(p.Transactions), limit)
		}
		for _, t := range p.Transactions {
			if seen[t.ID] {
				fail("transaction %s returned twice", t.ID)
				return all
			}
			seen[t.ID] = true
			if t.at.Before(from) || t.at.After(to) {
				fail("transaction %s at %s is outside %s..%s", t.ID, t.Date, from.Format(time.RFC3339), to.Format(time.RFC3339))
			}
			if n := len(all); n > 0 {
				prev := all[n-1]
				if t.at.After(prev.at) || t.at.Equal(prev.at) && t.ID >= prev.ID {
					fail("transaction %s does not follow %s in (date, id) descending order", t.ID, prev.ID)
					return all
				}
			}
			all = append(all, t)
		}
		if !p.More {
			return all
		}
		if p.NextCursor == "" {
			fail("page %d says more: true without a next_cursor", pages+1)
			return all
		}
		cursor = p.NextCursor
	}
}

func (k *kit) runAll(ctx context.Context, contract *Contract) {
	c := k.o.Customer
	customerRef := c.CustomerRef
	unknown := "ofpdp-kit-unknown-" + strconv.FormatInt(k.o.Now().UnixNano()%1e9, 36)

	testInserts := false
	k.row("health", "GET /v1/health answers 200 {status: ok}", func(fail func(string, ...any)) string {
		var h struct {
			Status      string `json:"status"`
			TestInserts bool   `json:"test_inserts"`
		}
		if r, err := k.call(ctx, http.MethodGet, "/v1/health", nil, nil); ok(fail, "health", r, err, &h) && h.Status != "ok" {
			fail("status %q", h.Status)
		}
		testInserts = h.TestInserts
		return ""
	})
	var authID, getID *kitIdentity
	k.row("auth-ok", "authenticate with the right password returns the customer", func(fail func(string, ...any)) string {
		var cu kitIdentity
		r, err := k.call(ctx, http.MethodPost, "/v1/customers/authenticate", nil, map[string]string{"username": c.Username, "password": c.Password})
		if ok(fail, "authenticate", r, err, &cu) {
			authID = &cu
			if customerRef != "" && cu.CustomerRef != customerRef {
				fail("customer_ref %q, want %q", cu.CustomerRef, customerRef)
			}
			customerRef = cu.CustomerRef
		}
		return ""
	})
	k.row("auth-wrong-password", "a wrong password is 401 invalid_credentials", func(fail func(string, ...any)) string {
		r, err := k.call(ctx, http.MethodPost, "/v1/customers/authenticate", nil, map[string]string{"username": c.Username, "password": c.Password + "x"})
		expect(fail, "wrong password", r, err, http.StatusUnauthorized, "invalid_credentials")
		return ""
	})
	k.row("auth-unknown-user", "an unknown username is 401 invalid_credentials, the same answer", func(fail func(string, ...any)) string {
		r, err := k.call(ctx, http.MethodPost, "/v1/customers/authenticate", nil, map[string]string{"username": unknown, "password": c.Password})
		expect(fail, "unknown user", r, err, http.StatusUnauthorized, "invalid_credentials")
		return ""
	})
	k.row("customer", "GET the customer (userinfo claims)", func(fail func(string, ...any)) string {
		if customerRef == "" {
			return "no customer_ref (authentication failed)"
		}
		var cu kitIdentity
		r, err := k.call(ctx, http.MethodGet, "/v1/customers/"+url.PathEscape(customerRef), nil, nil)
		if ok(fail, "customer", r, err, &cu) {
			getID = &cu
			if cu.CustomerRef != customerRef {
				fail("customer_ref %q, want %q", cu.CustomerRef, customerRef)
			}
		}
		return ""
	})
	k.row("customer-identity", "the identity (id_type, id_number or hashed_id_number with masked_id_number) is the same in authenticate and GET, and the customer file's", func(fail func(string, ...any)) string {
		if authID == nil || getID == nil {
			return "no customer answer to compare"
		}
		a, g := authID.identity(), getID.identity()
		if a != g {
			fail("authenticate gives %s, GET gives %s", a.describe(), g.describe())
		}
		if c.IDType != "" {
			want := identity{c.IDType, connector.HashIDNumber(c.IDNumber), connector.MaskIDNumber(c.IDNumber)}
			if a.idType != want.idType || a.hashed != want.hashed {
				fail("the adapter gives %s, the customer file's id_type %s and id_number hash to %s", a.describe(), want.idType, want.hashed)
			}
		}
		return ""
	})
	k.row("customer-unknown", "an unknown customer is 404 not_found", func(fail func(string, ...any)) string {
		r, err := k.call(ctx, http.MethodGet, "/v1/customers/"+unknown, nil, nil)
		expect(fail, "unknown customer", r, err, http.StatusNotFound, "not_found")
		r, err = k.call(ctx, http.MethodGet, "/v1/customers/"+unknown+"/accounts", nil, nil)
		expect(fail, "unknown customer's accounts", r, err, http.StatusNotFound, "not_found")
		return ""
	})
	k.row("accounts", "the customer's accounts: the active one listed, a foreign one not, each the customer's", func(fail func(string, ...any)) string {
		if customerRef == "" {
			return "no customer_ref (authentication failed)"
		}
		var list struct{ Accounts []kitAccount }
		r, err := k.call(ctx, http.MethodGet, "/v1/customers/"+url.PathEscape(customerRef)+"/accounts", nil, nil)
		if !ok(fail, "accounts", r, err, &list) {
			return ""
		}
		var refs []string
		for _, a := range list.Accounts {
			refs = append(refs, a.AccountRef)
			if a.CustomerRef != customerRef {
				fail("account %s has customer_ref %q", a.AccountRef, a.CustomerRef)
			}
		}
		if !slices.Contains(refs, c.Accounts["active"]) {
			fail("accounts.active %s is not listed", c.Accounts["active"])
		}
		if c.ForeignAccount != "" && slices.Contains(refs, c.ForeignAccount) {
			fail("foreign account %s is listed", c.ForeignAccount)
		}
		return ""
	})
	for _, state := range []string{"active", "dormant", "blocked", "closed"} {
		k.row("account-"+state, "an account with status "+state+": its status, and what balance and transactions answer", func(fail func(string, ...any)) string {
			ref := c.Accounts[state]
			if ref == "" {
				return "no accounts." + state + " in the customer file"
			}
			var a kitAccount
			r, err := k.call(ctx, http.MethodGet, "/v1/accounts/"+url.PathEscape(ref), nil, nil)
			if ok(fail, "account", r, err, &a) {
				if a.AccountRef != ref {
					fail("account_ref %q, want %q", a.AccountRef, ref)
				}
				if a.Status != state {
					fail("status %q, want %q", a.Status, state)
				}
			}
			from, to := k.window()
			br, berr := k.call(ctx, http.MethodGet, "/v1/accounts/"+url.PathEscape(ref)+"/balance", nil, nil)
			_, tr, terr := k.page(ctx, ref, from, to, 1, "")
			switch state {
			case "active":
				ok(fail, "balance", br, berr, nil)
				ok(fail, "transactions", tr, terr, nil)
			case "dormant", "blocked":
				expect(fail, "balance", br, berr, http.StatusForbidden, "account_blocked", "account_dormant")
				expect(fail, "transactions", tr, terr, http.StatusForbidden, "account_blocked", "account_dormant")
			case "closed":
				expect(fail, "balance", br, berr, http.StatusForbidden, "account_closed")
				expect(fail, "transactions", tr, terr, http.StatusForbidden, "account_closed")
			}
			return ""
		})
	}
	k.row("account-unknown", "an unknown account is 404 not_found for account, balance and transactions", func(fail func(string, ...any)) string {
		r, err := k.call(ctx, http.MethodGet, "/v1/accounts/"+unknown, nil, nil)
		expect(fail, "account", r, err, http.StatusNotFound, "not_found")
		r, err = k.call(ctx, http.MethodGet, "/v1/accounts/"+unknown+"/balance", nil, nil)
		expect(fail, "balance", r, err, http.StatusNotFound, "not_found")
		from, to := k.window()
		_, r, err = k.page(ctx, unknown, from, to, 10, "")
		expect(fail, "transactions", r, err, http.StatusNotFound, "not_found")
		return ""
	})
	k.row("account-foreign", "another customer's account is answered as that customer's", func(fail func(string, ...any)) string {
		if c.ForeignAccount == "" {
			return "no foreign_account in the customer file"
		}
		var a kitAccount
		r, err := k.call(ctx, http.MethodGet, "/v1/accounts/"+url.PathEscape(c.ForeignAccount), nil, nil)
		if ok(fail, "foreign account", r, err, &a) && (a.CustomerRef == customerRef || a.AccountRef != c.ForeignAccount) {
			fail("foreign account %s answered with customer_ref %q", a.AccountRef, a.CustomerRef)
		}
		return ""
	})
	txRef := c.TransactionsAccount
	if txRef == "" {
		txRef = c.Accounts["active"]
	}
	from, to := k.window()
	var walked []kitTx
	k.row("tx-walk", "a full walk of the window: every item once, (date, id) descending, inside the window", func(fail func(string, ...any)) string {
		walked = k.walk(ctx, fail, txRef, from, to, k.o.PageSize)
		if len(walked) == 0 {
			fail("no transactions in %s..%s: give an account with history (transactions_account, from, to)", from.Format(dateLayout), to.Format(dateLayout))
		}
		return ""
	})
	k.row("tx-repeatable", "a second walk with another page size returns the same items in the same order", func(fail func(string, ...any)) string {
		if len(walked) == 0 {
			return "no first walk"
		}
		again := k.walk(ctx, fail, txRef, from, to, max(1, k.o.PageSize/3+1))
		if len(again) != len(walked) {
			fail("%d items, the first walk %d", len(again), len(walked))
			return ""
		}
		for i := range again {
			if again[i].ID != walked[i].ID {
				fail("item %d is %s, the first walk had %s", i, again[i].ID, walked[i].ID)
				break
			}
		}
		return ""
	})
	k.row("tx-window", "from and to are inclusive; a Malaysian day is 00:00:00 to 23:59:59.999999999 +08:00", func(fail func(string, ...any)) string {
		if len(walked) == 0 {
			return "no walk"
		}
		t := walked[len(walked)/2]
		p, r, err := k.page(ctx, txRef, t.at, t.at, 1000, "")
		if ok(fail, "from = to = an item's time", r, err, nil) && !slices.ContainsFunc(p.Transactions, func(x kitTx) bool { return x.ID == t.ID }) {
			fail("from = to = %s does not return %s: a bound is exclusive", t.Date, t.ID)
		}
		y, m, d := t.at.In(myt).Date()
		dayFrom := time.Date(y, m, d, 0, 0, 0, 0, myt)
		dayTo := dayFrom.AddDate(0, 0, 1).Add(-time.Nanosecond)
		day := k.walk(ctx, fail, txRef, dayFrom, dayTo, 1000)
		var want []string
		for _, x := range walked {
			if !x.at.Before(dayFrom) && !x.at.After(dayTo) {
				want = append(want, x.ID)
			}
		}
		var got []string
		for _, x := range day {
			got = append(got, x.ID)
		}
		if !slices.Equal(got, want) {
			fail("the day %s gives %d items, the full walk has %d on that day", dayFrom.Format(dateLayout), len(got), len(want))
		}
		return ""
	})
	k.row("bad-request", "a query outside the contract is 400 invalid_request", func(fail func(string, ...any)) string {
		q := url.Values{"from": {from.Format(time.RFC3339)}, "to": {to.Format(time.RFC3339)}, "limit": {"0"}}
		// The request is deliberately outside the document; only the answer is judged.
		r, err := k.call(ctx, http.MethodGet, "/v1/accounts/"+url.PathEscape(txRef)+"/transactions", q, nil)
		for _, ex := range k.vt.Take() {
			if ex.ResponseErr != nil {
				fail("answer %d outside the document: %s", ex.Status, firstLine(ex.ResponseErr))
			}
		}
		expect(fail, "limit=0", r, err, http.StatusBadRequest, "invalid_request")
		return ""
	})
	for _, method := range []string{"otp", "app"} {
		k.row("factor-"+method, "second factor "+method+": a challenge starts (201), "+map[string]string{
			"otp": "a wrong code is 401 invalid_otp",
			"app": "its status is pending, approved, refused or expired",
		}[method]+", an unknown challenge is 410 challenge_expired; skipped when the adapter has no second factor (404)",
			func(fail func(string, ...any)) string { return k.secondFactor(ctx, fail, customerRef, method) })
	}
	if testInserts { // opt-in: only an adapter that offers the test-only insert operation
		k.row("tx-inserts", "a walk while transactions are booked (test_inserts): every other item exactly once, in order", func(fail func(string, ...any)) string {
			return k.walkWithInserts(ctx, fail, txRef, from, to)
		})
	}
	k.row("deadline", fmt.Sprintf("every call answered within x-ofpdp-deadline-ms (%v)", k.o.Deadline), func(fail func(string, ...any)) string {
		k.mu.Lock()
		defer k.mu.Unlock()
		if len(k.slow) > 0 {
			fail("%d of %d calls were slower: %s", len(k.slow), k.calls, strings.Join(k.slow[:min(3, len(k.slow))], "; "))
		}
		return ""
	})
	k.row("operations", "every operation of the document was exercised", func(fail func(string, ...any)) string {
		// The rows above call each operation; a document that grows an operation the kit does
		// not know fails here until the kit checks it too.
		known := []string{"authenticate", "getCustomer", "listAccounts", "getAccount", "getBalance", "listTransactions", "health",
			"startChallenge", "verifyOTP", "getChallenge", "testInsertTransaction"}
		for _, op := range contract.Operations() {
			if !slices.Contains(known, op) {
				fail("operation %s is not checked by this kit", op)
			}
		}
		return ""
	})
}

// secondFactor checks the optional second-factor operations for method ("otp" sends the test
// customer a real code, which the kit cannot read: it checks only that a wrong one is refused).
func (k *kit) secondFactor(ctx context.Context, fail func(string, ...any), customerRef, method string) (skip string) {
	if customerRef == "" {
		return "no customer_ref (authentication failed)"
	}
	var ch struct {
		ChallengeID string `json:"challenge_id"`
		Method      string `json:"method"`
	}
	r, err := k.call(ctx, http.MethodPost, "/v1/customers/authenticate/challenge", nil, map[string]string{"customer_ref": customerRef, "method": method})
	switch {
	case err == nil && r.status == http.StatusNotFound && r.problem() == "invalid_request":
		return "the adapter has no second factor"
	case err != nil:
		fail("start challenge: %v", err)
		return ""
	case r.status != http.StatusCreated:
		fail("start challenge: got %d %q, want 201", r.status, r.problem())
		return ""
	}
	if err := json.Unmarshal(r.body, &ch); err != nil || ch.ChallengeID == "" || ch.Method != method {
		fail("start challenge: challenge_id %q, method %q (%v)", ch.ChallengeID, ch.Method, err)
		return ""
	}
	if method == "otp" {
		r, err = k.call(ctx, http.MethodPost, "/v1/customers/authenticate/verify", nil, map[string]string{"challenge_id": ch.ChallengeID, "otp": "0"})
		expect(fail, "wrong code", r, err, http.StatusUnauthorized, "invalid_otp")
		r, err = k.call(ctx, http.MethodPost, "/v1/customers/authenticate/verify", nil, map[string]string{"challenge_id": "kit-unknown-challenge", "otp": "0"})
		expect(fail, "code for an unknown challenge", r, err, http.StatusGone, "challenge_expired")
		return ""
	}
	var st struct{ Status string }
	r, err = k.call(ctx, http.MethodGet, "/v1/customers/authenticate/challenge/"+url.PathEscape(ch.ChallengeID), nil, nil)
	if ok(fail, "challenge status", r, err, &st) && !slices.Contains([]string{"pending", "approved", "refused", "expired"}, st.Status) {
		fail("challenge status %q", st.Status)
	}
	r, err = k.call(ctx, http.MethodGet, "/v1/customers/authenticate/challenge/kit-unknown-challenge", nil, nil)
	expect(fail, "unknown challenge", r, err, http.StatusGone, "challenge_expired")
	return ""
}

// walkWithInserts walks the window in pages of 7 and, after each page, books two transactions
// through the test-only insert operation: one at the newest instant of the window (before the
// walk's position) and one just older than the last item served (after it). Every item that
// existed before the walk must come back exactly once and in order; a booked one at most once.
func (k *kit) walkWithInserts(ctx context.Context, fail func(string, ...any), ref string, from, to time.Time) string {
	before := k.walk(ctx, fail, ref, from, to, 1000)
	if len(before) < 2 {
		return "fewer than 2 transactions in the window"
	}
	seen := map[string]int{}
	var got []kitTx
	cursor := ""
	stamp := strconv.FormatInt(k.o.Now().UnixNano()%1e12, 36)
	for pages := 0; pages < 10000; pages++ {
		p, r, err := k.page(ctx, ref, from, to, 7, cursor)
		if !ok(fail, "transactions page "+strconv.Itoa(pages+1), r, err, nil) {
			return ""
		}
		for _, t := range p.Transactions {
			if seen[t.ID]++; seen[t.ID] > 1 {
				fail("transaction %s returned twice", t.ID)
				return ""
			}
			if n := len(got); n > 0 && (t.at.After(got[n-1].at) || t.at.Equal(got[n-1].at) && t.ID >= got[n-1].ID) {
				fail("transaction %s does not follow %s in (date, id) descending order", t.ID, got[n-1].ID)
				return ""
			}
			got = append(got, t)
		}
		if !p.More || p.NextCursor == "" {
			break
		}
		cursor = p.NextCursor
		last := p.Transactions[len(p.Transactions)-1].at
		for i, at := range []time.Time{to, last.Add(-time.Millisecond)} {
			if at.Before(from) {
				continue
			}
			body := map[string]any{"id": fmt.Sprintf("kit-%s-%d-%d", stamp, pages, i), "date": at.Format(time.RFC3339Nano),
				"credit_debit": "credit", "amount": map[string]string{"amount": "1.00", "currency": "MYR"},
				"transfer_method": "funds_transfer", "transfer_submethod": "duitnow_transfer",
				"description": "connector-test insert", "settled": true}
			r, err := k.call(ctx, http.MethodPost, "/v1/test/accounts/"+url.PathEscape(ref)+"/transactions", nil, body)
			if err != nil || r.status != http.StatusNoContent {
				fail("test insert: %v %d %q", err, r.status, r.problem())
				return ""
			}
		}
	}
	for _, t := range before {
		if seen[t.ID] != 1 {
			fail("transaction %s, there before the walk, was returned %d times", t.ID, seen[t.ID])
			return ""
		}
	}
	return ""
}
