package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/ofpdp/ofpdp/connector"
	"github.com/ofpdp/ofpdp/internal/jose"
	"github.com/ofpdp/ofpdp/internal/protoerr"
)

// txPage is a decrypted transactions page.
type txPage struct {
	Data []transactionJSON `json:"data"`
	Meta struct {
		NextPageParams *string `json:"next_page_params"`
	} `json:"meta"`
}

func (e *testEnv) txPage(query ...string) txPage {
	e.t.Helper()
	env := e.open(e.do(req{path: dataPath(e.accounts[refSavings], "/transactions", query...)}))
	b, _ := json.Marshal(env)
	var p txPage
	if err := json.Unmarshal(b, &p); err != nil {
		e.t.Fatal(err)
	}
	if string(env["meta"]) == "{}" {
		e.t.Fatalf("meta %s has no next_page_params", env["meta"])
	}
	return p
}

// inWindow returns the fixture's transactions inside [from, to], newest first.
func inWindow(all []connector.Transaction, from, to time.Time) []connector.Transaction {
	var out []connector.Transaction
	for _, t := range all {
		if !t.Date.Before(from) && !t.Date.After(to) {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(x, y connector.Transaction) int {
		if txBefore(x.Date, x.ID, y.Date, y.ID) {
			return -1
		}
		return 1
	})
	return out
}

// A full walk returns every transaction of the history window exactly once, newest first, in the
// spec shape, and ends with next_page_params null (spec §5.7; negative-tests D9).
func TestTransactionsWalk(t *testing.T) {
	for _, size := range []int{10, 37, 100, 500} {
		t.Run(strconvItoa(size), func(t *testing.T) {
			e := newEnv(t)
			now := e.clock.Now()
			want := inWindow(e.bank.txs[refSavings], now.In(myt).AddDate(0, -12, 0), now)
			if len(want) < 200 || len(want) == len(e.bank.txs[refSavings]) {
				t.Fatalf("fixture: %d of %d transactions in the window", len(want), len(e.bank.txs[refSavings]))
			}
			var got []transactionJSON
			p := e.txPage("page_size", strconvItoa(size))
			pages := 1
			for {
				got = append(got, p.Data...)
				if p.Meta.NextPageParams == nil {
					break
				}
				if len(p.Data) != size {
					t.Fatalf("page %d has %d transactions, want %d", pages, len(p.Data), size)
				}
				p = e.txPage("next_page_params", *p.Meta.NextPageParams)
				pages++
				if pages > 100 {
					t.Fatal("the walk does not end")
				}
			}
			if len(got) != len(want) {
				t.Fatalf("walk returned %d transactions, want %d", len(got), len(want))
			}
			for i := range want {
				tj, err := transactionShape(e.accounts[refSavings], &want[i])
				if err != nil {
					t.Fatal(err)
				}
				if got[i] != tj {
					t.Fatalf("transaction %d: got %+v, want %+v", i, got[i], tj)
				}
			}
			if wantPages := (len(want) + size - 1) / size; pages != wantPages && pages != wantPages+1 {
				t.Errorf("%d pages for %d transactions of page size %d", pages, len(want), size)
			}
		})
	}
}

func strconvItoa(n int) string { return strconv.Itoa(n) }

// The connector only ever sees the clamped window (design §6; D9): from before the window →
// window start; to in the future → now; no dates → the whole window; a date names an MYT day.
func TestTransactionsClamp(t *testing.T) {
	e := newEnv(t)
	now := e.clock.Now()
	windowStart := now.In(myt).AddDate(0, -12, 0)
	day := func(s string) time.Time { d, _ := time.ParseInLocation(time.DateOnly, s, myt); return d }
	recent := now.In(myt).AddDate(0, -1, 0).Format(time.DateOnly)
	for _, c := range []struct {
		name     string
		query    []string
		from, to time.Time
	}{
		{"no dates", nil, windowStart, now},
		{"from two years back", []string{"from_date", now.AddDate(-2, 0, 0).Format(time.RFC3339)}, windowStart, now},
		{"to next year", []string{"to_date", now.AddDate(1, 0, 0).Format(time.RFC3339)}, windowStart, now},
		{"date-only bounds", []string{"from_date", recent, "to_date", recent}, day(recent), day(recent).AddDate(0, 0, 1).Add(-time.Nanosecond)},
		{"RFC 3339 bounds", []string{"from_date", now.Add(-48 * time.Hour).UTC().Format(time.RFC3339Nano), "to_date", now.Add(-time.Hour).Format(time.RFC3339)},
			now.Add(-48 * time.Hour), now.Add(-time.Hour)},
	} {
		p := e.txPage(c.query...)
		q := e.bank.lastQuery()
		if !q.From.Equal(c.from) || !q.To.Equal(c.to) || q.Limit != DefaultPageSize || q.AccountRef != refSavings {
			t.Errorf("%s: connector query %v..%v limit %d, want %v..%v limit %d", c.name, q.From, q.To, q.Limit, c.from, c.to, DefaultPageSize)
		}
		for _, tx := range p.Data {
			d, err := time.Parse(time.RFC3339, tx.TransactionDate)
			if err != nil || d.Before(c.from.Truncate(time.Second)) || d.After(c.to) {
				t.Errorf("%s: transaction %s at %s is outside the window", c.name, tx.TransactionID, tx.TransactionDate)
			}
		}
	}
	// A range wholly before the window: an empty page, and the connector is not asked for it.
	n := len(e.bank.queries)
	p := e.txPage("from_date", now.AddDate(-3, 0, 0).Format(time.DateOnly), "to_date", now.AddDate(-2, 0, 0).Format(time.DateOnly))
	if len(p.Data) != 0 || p.Meta.NextPageParams != nil || len(e.bank.queries) != n {
		t.Errorf("range before the window: %d transactions, next %v, connector asked %d times", len(p.Data), p.Meta.NextPageParams, len(e.bank.queries)-n)
	}
}

// A walk that outlives part of the window never returns what has left it (D9: never return
// older data), even though its cursor was issued with an earlier bound.
func TestTransactionsWindowMovesDuringWalk(t *testing.T) {
	e := newEnv(t, func(c *envConfig) { c.data.CursorTTL = 90 * 24 * time.Hour })
	p := e.txPage("page_size", "100")
	e.clock.Advance(60 * 24 * time.Hour)
	windowStart := e.clock.Now().In(myt).AddDate(0, -12, 0)
	for p.Meta.NextPageParams != nil {
		p = e.txPage("next_page_params", *p.Meta.NextPageParams)
		for _, tx := range p.Data {
			if d, _ := time.Parse(time.RFC3339, tx.TransactionDate); d.Before(windowStart.Truncate(time.Second)) {
				t.Fatalf("transaction %s of %s is older than the window start %s", tx.TransactionID, tx.TransactionDate, windowStart)
			}
		}
		if q := e.bank.lastQuery(); q.From.Before(windowStart) {
			t.Fatalf("connector asked from %v, before the window start %v", q.From, windowStart)
		}
	}
}

// D10: invalid filters → 400 and no connector call; several ISO 8601 variants accepted.
func TestTransactionsParams(t *testing.T) {
	e := newEnv(t)
	for _, q := range [][]string{
		{"from_date", "2026-02-01", "to_date", "2026-01-01"},
		{"from_date", "2026-01-02T00:00:00+08:00", "to_date", "2026-01-01T23:59:59+08:00"},
		{"from_date", "2026-13-01"}, {"from_date", "01/02/2026"}, {"from_date", "2026-01-01T00:00:00"},
		{"from_date", "yesterday"}, {"from_date", ""}, {"to_date", "2026-1-1"}, {"to_date", "1969-12-31"},
		{"to_date", "2301-01-01"}, {"from_date", "2026-01-01", "from_date", "2026-01-02"},
		{"page_size", "9"}, {"page_size", "501"}, {"page_size", "abc"}, {"page_size", "-10"},
		{"page_size", "+10"}, {"page_size", "1e2"}, {"page_size", ""}, {"page_size", "10", "page_size", "10"},
		{"next_page_params", ""}, {"next_page_params", "garbage"},
	} {
		wantError(t, e.do(req{path: dataPath(e.accounts[refSavings], "/transactions", q...)}), http.StatusBadRequest, protoerr.CodeInvalidRequest)
	}
	if e.bank.Calls() != 0 {
		t.Errorf("the connector was called %d times for invalid filters", e.bank.Calls())
	}
	now := e.clock.Now()
	for _, q := range [][]string{
		{"from_date", now.AddDate(0, -1, 0).Format(time.DateOnly)},
		{"from_date", now.UTC().AddDate(0, -1, 0).Format("2006-01-02T15:04:05Z")},
		{"from_date", now.In(myt).AddDate(0, -1, 0).Format("2006-01-02T15:04:05+08:00")},
		{"from_date", now.UTC().AddDate(0, -1, 0).Format("2006-01-02T15:04:05.000Z")},
		{"page_size", "10"}, {"page_size", "500"}, {"page_size", "010"},
	} {
		e.txPage(q...)
	}
	// An offset whose '+' arrived unescaped (a space after query decoding) is still understood.
	from := now.In(myt).AddDate(0, -1, 0).Format("2006-01-02T15:04:05+08:00")
	path := "/v1/accounts/" + e.accounts[refSavings] + "/transactions?consent_id=" + testConsentID + "&from_date=" + from
	e.open(e.do(req{path: path}))
	if q := e.bank.lastQuery(); q.From.Format(time.RFC3339) != from {
		t.Errorf("from %v, want %s", q.From, from)
	}
}

// next_page_params is bound to its consent, account, bounds and page size, and expires.
func TestTransactionsCursorBinding(t *testing.T) {
	e := newEnv(t)
	from := e.clock.Now().In(myt).AddDate(0, -6, 0).Format(time.DateOnly)
	first := e.txPage("from_date", from, "page_size", "20")
	tok := *first.Meta.NextPageParams
	calls := e.bank.Calls()
	for _, c := range []struct {
		name string
		path string
	}{
		{"other account", dataPath(e.accounts[refCard], "/transactions", "next_page_params", tok)},
		{"changed", dataPath(e.accounts[refSavings], "/transactions", "next_page_params", tok[:len(tok)-2]+flipChar(tok[len(tok)-2:]))},
		{"other page size", dataPath(e.accounts[refSavings], "/transactions", "next_page_params", tok, "page_size", "30")},
		{"other from_date", dataPath(e.accounts[refSavings], "/transactions", "next_page_params", tok, "from_date", "2026-01-01")},
		{"to_date added", dataPath(e.accounts[refSavings], "/transactions", "next_page_params", tok, "to_date", e.clock.Now().AddDate(0, 0, -1).Format(time.DateOnly))},
		{"twice", dataPath(e.accounts[refSavings], "/transactions", "next_page_params", tok, "next_page_params", tok)},
	} {
		wantError(t, e.do(req{path: c.path}), http.StatusBadRequest, protoerr.CodeInvalidRequest)
	}
	if e.bank.Calls() != calls {
		t.Error("the connector was called for a refused cursor")
	}
	// Repeating the original parameters (as a DC replaying its query does) is fine.
	second := e.txPage("next_page_params", tok, "from_date", from, "page_size", "20")
	if len(second.Data) != 20 || second.Data[0].TransactionID == first.Data[0].TransactionID {
		t.Errorf("second page: %d transactions", len(second.Data))
	}
	// So is the effective (clamped) bound, in another notation.
	c, err := e.dataCursor(tok)
	if err != nil {
		t.Fatal(err)
	}
	e.txPage("next_page_params", tok, "from_date", c.From.UTC().Format(time.RFC3339Nano))
	// Past CursorTTL the cursor is refused.
	e.clock.Advance(DefaultCursorTTL)
	wantError(t, e.do(req{path: dataPath(e.accounts[refSavings], "/transactions", "next_page_params", tok)}), http.StatusBadRequest, protoerr.CodeInvalidRequest)
}

func (e *testEnv) dataCursor(tok string) (cursor, error) {
	return cursorCodec{key: testCursorKeyE2E}.decode(tok, testConsentID, e.accounts[refSavings], e.clock.Now())
}

func flipChar(s string) string {
	b := []byte(s)
	if b[0] == 'A' {
		b[0] = 'B'
	} else {
		b[0] = 'A'
	}
	return string(b)
}

// A connector that strays outside the clamped window is not trusted with it: only in-window
// transactions are served. One that returns more than asked, or more without a cursor, gets no
// partial answer (its cursor continues after its own page, which cannot be cut): 503.
func TestTransactionsDistrustConnector(t *testing.T) {
	e := newEnv(t)
	e.txPage()
	for _, b := range []*strayBank{{fakeBank: e.bank, extra: true}, {fakeBank: e.bank, noCursor: true}} {
		ds := e.dataServerWith(b)
		rr := &resourceRequest{now: e.clock.Now(), consentID: testConsentID, accountID: e.accounts[refSavings], accountRef: refSavings}
		rr.record, _ = e.store.GetConsent(t.Context(), testConsentID)
		rr.tx.pageSize = 10
		if _, err := ds.fetchTransactions(t.Context(), rr); !errors.Is(err, connector.ErrUnavailable) {
			t.Errorf("%+v: %v, want ErrUnavailable", *b, err)
		}
	}
	b := &strayBank{fakeBank: e.bank}
	ds := e.dataServerWith(b)
	rr := &resourceRequest{now: e.clock.Now(), consentID: testConsentID, accountID: e.accounts[refSavings], accountRef: refSavings}
	rr.record, _ = e.store.GetConsent(t.Context(), testConsentID)
	rr.tx.pageSize = 10
	out, err := ds.fetchTransactions(t.Context(), rr)
	if err != nil {
		t.Fatal(err)
	}
	var p txPage
	if err := json.Unmarshal(out, &p); err != nil {
		t.Fatal(err)
	}
	if len(p.Data) != 9 || p.Meta.NextPageParams == nil {
		t.Errorf("%d transactions served (want the 9 in-window of 10), next %v", len(p.Data), p.Meta.NextPageParams)
	}
	for _, tx := range p.Data {
		if tx.TransactionID == "stray-old" || tx.TransactionID == "stray-extra" {
			t.Errorf("served %s", tx.TransactionID)
		}
	}
}

// strayBank answers with one transaction from before the window, and with extra one more than
// the limit; with noCursor, more without a next cursor.
type strayBank struct {
	*fakeBank
	extra, noCursor bool
}

func (s *strayBank) Transactions(ctx context.Context, q connector.TransactionQuery) (connector.TransactionPage, error) {
	p, err := s.fakeBank.Transactions(ctx, q)
	if err != nil {
		return p, err
	}
	old := p.Transactions[0]
	old.ID, old.Date = "stray-old", q.From.Add(-time.Hour)
	extra := p.Transactions[0]
	extra.ID, extra.Date = "stray-extra", p.Transactions[len(p.Transactions)-1].Date.Add(-time.Minute)
	p.Transactions = append([]connector.Transaction{old}, p.Transactions[:q.Limit-1]...)
	if s.extra {
		p.Transactions = append(p.Transactions, extra)
	}
	if s.noCursor {
		p.NextCursor = ""
	}
	return p, nil
}

func (e *testEnv) dataServerWith(b BankReader) *dataServer {
	ds, err := newDataServer(&Handler{now: e.clock.Now}, DataOptions{Consents: e.store, Bank: b, DCKeys: staticEncKeys{},
		Sealer: &jose.Signer{}, InstitutionName: testInst, AccountIDKey: testAccountIDKey, CursorKey: testCursorKeyE2E})
	if err != nil {
		e.t.Fatal(err)
	}
	return ds
}
