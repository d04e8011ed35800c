package api

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ofpdp/ofpdp/connector"
	"github.com/ofpdp/ofpdp/internal/consent"
	"github.com/ofpdp/ofpdp/internal/protoerr"
)

// Page sizes of GET …/transactions (spec paynet-dp.md §5.7: 10..500, default 100).
const (
	DefaultPageSize = 100
	MinPageSize     = 10
	MaxPageSize     = 500
)

// txParams are the transaction query parameters of one request (spec §3.1.7, §5.7).
type txParams struct {
	reqFrom, reqTo time.Time // as requested; zero when absent
	pageSize       int       // 0 when absent
	cur            *cursor   // next_page_params, verified
}

// txMeta is the meta of a transactions page (spec §5.7): the cursor of the next page, or null on
// the last one.
type txMeta struct {
	NextPageParams *string `json:"next_page_params"`
}

// transactions implements GET /v1/accounts/{account_id}/transactions?consent_id= (spec §3.1.7,
// permission read_transactions): one page of Transaction objects (spec §5.6), newest first, with
// an opaque cursor (§5.7), sealed (design §3.5). The date range is clamped to the history window
// before the connector sees it (negative-tests D9, D10).
func (d *dataServer) transactions(w http.ResponseWriter, r *http.Request) {
	d.serve(w, r, &resource{
		endpoint: endpointTransactions,
		perm:     consent.PermReadTransactions,
		params:   d.parseTxParams,
		fetch:    d.fetchTransactions,
	})
}

// parseTxParams validates from_date, to_date, page_size and next_page_params (all 400 on error).
// With next_page_params, the other three must be absent or equal to what the cursor was issued
// for (the requested bounds or the effective ones).
func (d *dataServer) parseTxParams(q url.Values, rr *resourceRequest) error {
	p := &rr.tx
	from, hasFrom, err := dateParam(q, "from_date", false)
	if err != nil {
		return err
	}
	to, hasTo, err := dateParam(q, "to_date", true)
	if err != nil {
		return err
	}
	if hasFrom && hasTo && from.After(to) {
		return protoerr.InvalidRequest("from_date is after to_date", nil)
	}
	ps, hasPS, err := singleParam(q, "page_size")
	if err != nil {
		return err
	}
	if hasPS {
		n, ok := pageSize(ps)
		if !ok {
			return protoerr.InvalidRequest("page_size must be an integer from 10 to 500", nil)
		}
		p.pageSize = n
	}
	p.reqFrom, p.reqTo = from, to
	tok, hasTok, err := singleParam(q, "next_page_params")
	if err != nil || !hasTok {
		return err
	}
	c, err := d.cursors.decode(tok, rr.consentID, rr.accountID, rr.now)
	if err != nil {
		return protoerr.InvalidRequest(err.Error(), err)
	}
	switch {
	case hasFrom && !from.Equal(c.ReqFrom) && !from.Equal(c.From):
		return protoerr.InvalidRequest("from_date differs from the one next_page_params was issued for", nil)
	case hasTo && !to.Equal(c.ReqTo) && !to.Equal(c.To):
		return protoerr.InvalidRequest("to_date differs from the one next_page_params was issued for", nil)
	case hasPS && p.pageSize != c.PageSize:
		return protoerr.InvalidRequest("page_size differs from the one next_page_params was issued for", nil)
	}
	p.cur = &c
	return nil
}

func pageSize(s string) (int, bool) {
	if len(s) == 0 || len(s) > 3 || strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= MinPageSize && n <= MaxPageSize
}

// Years a date parameter may name (also keeps every bound inside what a cursor can carry).
const minDateYear, maxDateYear = 1970, 2200

// dateParam parses from_date / to_date (spec §5.7 "date or date-time"): YYYY-MM-DD names an MYT
// calendar day (its first instant, or its last for to_date); otherwise RFC 3339 with a zone, with
// or without fractional seconds. A '+' of an offset that arrived unescaped (as a space) is
// restored.
func dateParam(q url.Values, name string, endOfDay bool) (time.Time, bool, error) {
	s, ok, err := singleParam(q, name)
	if err != nil || !ok {
		return time.Time{}, ok, err
	}
	bad := protoerr.InvalidRequest(name+" must be YYYY-MM-DD or an RFC 3339 date-time with a zone", nil)
	var t time.Time
	if len(s) == len(time.DateOnly) {
		if t, err = time.ParseInLocation(time.DateOnly, s, myt); err != nil {
			return time.Time{}, true, bad
		}
		if endOfDay {
			t = t.AddDate(0, 0, 1).Add(-time.Nanosecond)
		}
	} else {
		t, err = time.Parse(time.RFC3339Nano, s)
		if err != nil && strings.Count(s, " ") == 1 {
			t, err = time.Parse(time.RFC3339Nano, strings.Replace(s, " ", "+", 1))
		}
		if err != nil {
			return time.Time{}, true, bad
		}
	}
	if y := t.Year(); y < minDateYear || y > maxDateYear {
		return time.Time{}, true, protoerr.InvalidRequest(name+" is out of range", nil)
	}
	return t, true, nil
}

// fetchTransactions computes the effective window, asks the connector for one page and issues
// the next cursor. The window is [now − HistoryMonths, now], re-applied on every page, so a walk
// never returns data older than the window even when it started earlier (negative-tests D9).
func (d *dataServer) fetchTransactions(ctx context.Context, rr *resourceRequest) ([]byte, error) {
	if _, err := d.servableAccount(ctx, rr); err != nil {
		return nil, err
	}
	p, now := &rr.tx, rr.now
	windowStart := now.In(myt).AddDate(0, -d.history, 0)
	walk := cursor{ReqFrom: p.reqFrom, ReqTo: p.reqTo, From: windowStart, To: now, PageSize: DefaultPageSize}
	if p.cur != nil {
		walk = *p.cur
	} else {
		if !p.reqFrom.IsZero() && p.reqFrom.After(windowStart) {
			walk.From = p.reqFrom
		}
		if !p.reqTo.IsZero() && p.reqTo.Before(now) {
			walk.To = p.reqTo
		}
		if p.pageSize != 0 {
			walk.PageSize = p.pageSize
		}
	}
	from := walk.From
	if from.Before(windowStart) {
		from = windowStart
	}
	data := make([]transactionJSON, 0, walk.PageSize)
	var next *string
	if !from.After(walk.To) {
		page, err := d.bank.Transactions(ctx, connector.TransactionQuery{
			AccountRef: rr.accountRef, From: from, To: walk.To, Limit: walk.PageSize,
			Cursor: walk.CoreCursor,
		})
		if err != nil {
			return nil, bankError("transactions", err)
		}
		txs := page.Transactions
		if len(txs) > walk.PageSize || page.More != (page.NextCursor != "") || len(page.NextCursor) > connector.MaxCursorLen {
			// The core's cursor continues after its page: a longer page cannot be cut.
			return nil, bankError("transactions", fmt.Errorf("%w: page of %d for limit %d, more %v with a %d-byte cursor",
				connector.ErrUnavailable, len(txs), walk.PageSize, page.More, len(page.NextCursor)))
		}
		for i := range txs {
			t := &txs[i]
			if t.Date.Before(from) || t.Date.After(walk.To) {
				continue // a connector that strays outside the window is not trusted with it
			}
			tj, err := transactionShape(rr.accountID, t)
			if err != nil {
				return nil, bankError("transactions", err)
			}
			data = append(data, tj)
		}
		if page.More {
			walk.CoreCursor = page.NextCursor
			walk.Expiry = now.Add(d.cursorTTL)
			tok, err := d.cursors.encode(rr.consentID, rr.accountID, walk)
			if err != nil {
				return nil, bankError("transactions", err)
			}
			next = &tok
		}
	}
	return marshalEnvelope(data, txMeta{NextPageParams: next})
}
