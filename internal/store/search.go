package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ofpdp/ofpdp/internal/consent"
)

// Limits of SearchConsents.
const (
	DefaultSearchLimit = 50
	MaxSearchLimit     = 500
)

// ConsentQuery selects consents for staff and for the customer's pages (spec §7.3, §7.5). Empty
// fields select everything; times bound when this DP first stored the consent (Created*) and
// last changed it (Updated*), from inclusive, to exclusive.
type ConsentQuery struct {
	CustomerRef            string
	DCID                   string
	Statuses               []consent.Status
	CreatedFrom, CreatedTo time.Time
	UpdatedFrom, UpdatedTo time.Time
	Cursor                 string // from a previous page's Next; "" for the first page
	Limit                  int    // 1..MaxSearchLimit; 0 means DefaultSearchLimit
}

// StoredConsent is a consent with when this DP first stored and last changed it.
type StoredConsent struct {
	*ConsentRecord
	StoredAt, ModifiedAt time.Time
}

// ConsentPage is one page of SearchConsents, newest first; Next is "" on the last page.
type ConsentPage struct {
	Consents []StoredConsent
	Next     string
}

// SearchConsents returns the consents matching q, newest stored first, a page at a time (keyset
// paging on (created_at, consent_id), so pages stay right while consents are added). A malformed
// cursor or limit, or an unknown status, is ErrInvalidArgument.
func (s *Store) SearchConsents(ctx context.Context, q ConsentQuery) (ConsentPage, error) {
	limit := q.Limit
	if limit == 0 {
		limit = DefaultSearchLimit
	}
	if limit < 0 || limit > MaxSearchLimit {
		return ConsentPage{}, fmt.Errorf("%w: limit must be 1..%d", ErrInvalidArgument, MaxSearchLimit)
	}
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if q.CustomerRef != "" {
		// Authorizations recorded before customer_ref had its column are found through authz.
		enc, _ := json.Marshal(q.CustomerRef)
		like := `%"customer_ref":` + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(string(enc)) + `,%`
		where = append(where, "(customer_ref = "+arg(q.CustomerRef)+" OR (customer_ref = '' AND authz LIKE "+arg(like)+` ESCAPE '\'))`)
	}
	if q.DCID != "" {
		where = append(where, "dc_id = "+arg(q.DCID))
	}
	if len(q.Statuses) > 0 {
		ph := make([]string, len(q.Statuses))
		for i, st := range q.Statuses {
			if !st.Valid() {
				return ConsentPage{}, fmt.Errorf("%w: unknown status %q", ErrInvalidArgument, st)
			}
			ph[i] = arg(string(st))
		}
		where = append(where, "status IN ("+strings.Join(ph, ", ")+")")
	}
	for _, b := range []struct {
		col string
		op  string
		t   time.Time
	}{{"created_at", ">=", q.CreatedFrom}, {"created_at", "<", q.CreatedTo}, {"modified_at", ">=", q.UpdatedFrom}, {"modified_at", "<", q.UpdatedTo}} {
		if !b.t.IsZero() {
			where = append(where, b.col+" "+b.op+" "+arg(ns(b.t)))
		}
	}
	if q.Cursor != "" {
		at, id, err := decodeSearchCursor(q.Cursor)
		if err != nil {
			return ConsentPage{}, err
		}
		where = append(where, "(created_at < "+arg(at)+" OR (created_at = "+arg(at)+" AND consent_id < "+arg(id)+"))")
	}
	query := `SELECT ` + recordColumns + `, created_at, modified_at FROM consents`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY created_at DESC, consent_id DESC LIMIT " + arg(int64(limit+1))
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return ConsentPage{}, fmt.Errorf("store: search consents: %w", err)
	}
	defer rows.Close()
	var page ConsentPage
	for rows.Next() {
		var created, modified int64
		rec, err := scanRecord(scanFunc(func(dest ...any) error {
			return rows.Scan(append(dest, &created, &modified)...)
		}))
		if err != nil {
			return ConsentPage{}, err
		}
		page.Consents = append(page.Consents, StoredConsent{ConsentRecord: rec, StoredAt: fromNS(created), ModifiedAt: fromNS(modified)})
	}
	if err := rows.Err(); err != nil {
		return ConsentPage{}, fmt.Errorf("store: search consents: %w", err)
	}
	if len(page.Consents) > limit {
		page.Consents = page.Consents[:limit]
		last := page.Consents[limit-1]
		page.Next = encodeSearchCursor(ns(last.StoredAt), last.Consent.ConsentID)
	}
	return page, nil
}

// scanFunc adapts a function to rowScanner.
type scanFunc func(dest ...any) error

func (f scanFunc) Scan(dest ...any) error { return f(dest...) }

func encodeSearchCursor(at int64, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(at, 10) + ":" + id))
}

func decodeSearchCursor(c string) (int64, string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err == nil {
		if at, id, ok := strings.Cut(string(b), ":"); ok && id != "" {
			if n, err := strconv.ParseInt(at, 10, 64); err == nil {
				return n, id, nil
			}
		}
	}
	return 0, "", fmt.Errorf("%w: malformed cursor", ErrInvalidArgument)
}
