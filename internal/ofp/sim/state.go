package sim

import (
	"slices"
	"sync"
	"time"
)

// record is one consent as the simulator holds it.
type record struct {
	consent       Consent
	updatedAt     time.Time // consent.UpdatedAt as a time, to keep updated_at strictly increasing
	dcRedirectURI string
	authorizeURL  string
	events        []EventRecord
	updates       []UpdateRecord
	callback      *CallbackRecord
}

// state is the simulator's memory: consents by id, bounded (oldest dropped first), and the most
// recent PATCH requests whatever their consent. All access goes through its methods.
type state struct {
	mu       sync.Mutex
	max      int
	consents map[string]*record
	order    []string // insertion order, oldest first
	recent   []UpdateRecord
}

func newState(max int) *state {
	return &state{max: max, consents: make(map[string]*record)}
}

func (st *state) len() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return len(st.consents)
}

// add stores a new consent, dropping the oldest ones beyond the bound.
func (st *state) add(r *record) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.consents[r.consent.ConsentID] = r
	st.order = append(st.order, r.consent.ConsentID)
	for len(st.order) > st.max {
		delete(st.consents, st.order[0])
		st.order[0] = ""
		st.order = st.order[1:]
	}
	if cap(st.order) > 4*st.max {
		st.order = slices.Clone(st.order)
	}
}

// update runs fn on the consent under the lock; it reports false when the consent is unknown.
func (st *state) update(id string, fn func(r *record)) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	r, ok := st.consents[id]
	if !ok {
		return false
	}
	fn(r)
	return true
}

// view returns a copy of the consent and its history.
func (st *state) view(id string) (ConsentView, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	r, ok := st.consents[id]
	if !ok {
		return ConsentView{}, false
	}
	v := ConsentView{
		Consent:         cloneConsent(r.consent),
		DCRedirectURI:   r.dcRedirectURI,
		AuthorizeURL:    r.authorizeURL,
		EventsSent:      slices.Clone(r.events),
		UpdatesReceived: slices.Clone(r.updates),
	}
	if v.EventsSent == nil {
		v.EventsSent = []EventRecord{}
	}
	if v.UpdatesReceived == nil {
		v.UpdatesReceived = []UpdateRecord{}
	}
	if r.callback != nil {
		cb := *r.callback
		v.Callback = &cb
	}
	return v, true
}

// addEvent appends an event record to a consent (if still held).
func (st *state) addEvent(id string, e EventRecord) {
	st.update(id, func(r *record) { r.events = appendBounded(r.events, e, maxRecordsPerConsent) })
}

// addUpdate records a PATCH in the recent list and, when the consent is held, on the consent.
func (st *state) addUpdate(u UpdateRecord) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.recent = appendBounded(st.recent, u, maxRecentUpdates)
	if r, ok := st.consents[u.ConsentID]; ok {
		r.updates = appendBounded(r.updates, u, maxRecordsPerConsent)
	}
}

func (st *state) recentUpdates() []UpdateRecord {
	st.mu.Lock()
	defer st.mu.Unlock()
	out := slices.Clone(st.recent)
	if out == nil {
		out = []UpdateRecord{}
	}
	return out
}

func appendBounded[T any](s []T, v T, max int) []T {
	s = append(s, v)
	if len(s) > max {
		s = slices.Delete(s, 0, len(s)-max)
	}
	return s
}

func cloneConsent(c Consent) Consent {
	c.Permissions = slices.Clone(c.Permissions)
	if c.StatusReason != nil {
		sr := *c.StatusReason
		c.StatusReason = &sr
	}
	if c.AccountAccess != nil {
		c.AccountAccess = &AccountAccess{Accounts: slices.Clone(c.AccountAccess.Accounts)}
	}
	return c
}

// nextUpdatedAt returns a time not before now and strictly after the record's last updated_at, so
// that the DP, which ignores events not newer than what it holds (design.md §3.6), sees every change.
func (r *record) nextUpdatedAt(now time.Time) time.Time {
	t := now.UTC().Truncate(time.Millisecond)
	if !t.After(r.updatedAt) {
		t = r.updatedAt.Add(time.Millisecond)
	}
	r.updatedAt = t
	r.consent.UpdatedAt = formatTimestamp(t)
	return t
}

// formatTimestamp renders a consent timestamp: RFC 3339 in UTC with "Z" and milliseconds.
func formatTimestamp(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}
