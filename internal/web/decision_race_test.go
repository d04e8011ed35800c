package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/ofpdp/ofpdp/internal/consent"
	"github.com/ofpdp/ofpdp/internal/journey"
	"github.com/ofpdp/ofpdp/internal/store"
	"github.com/ofpdp/ofpdp/internal/storetest"
)

// realConsents keeps sessions, replay and audit in the fake but reads and decides consents in a
// real store, so the decision races PayNet's events on the engine's own statements.
type realConsents struct {
	*fakeStore
	st *store.Store
}

func (r realConsents) GetConsent(ctx context.Context, id string) (*store.ConsentRecord, error) {
	return r.st.GetConsent(ctx, id)
}

func (r realConsents) Authorize(ctx context.Context, id string, version int64, a store.Authorization) (int64, error) {
	return r.st.Authorize(ctx, id, version, a)
}

// openEngineStore is a migrated store of eng holding testConsent.
func openEngineStore(t *testing.T, eng storetest.Engine, now func() time.Time) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), eng.URL(t), store.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return st
}

// payNetEvent applies a PayNet event setting status at updated to the stored testConsent.
func payNetEvent(t *testing.T, st *store.Store, typ consent.EventType, c consent.Consent) {
	t.Helper()
	if _, err := st.ApplyEvent(context.Background(), consent.Event{Type: typ, Consent: c}, store.EventReceipt{}); err != nil {
		t.Fatalf("%s %s: %v", typ, c.Status, err)
	}
}

// engineHarness is a harness whose consents live in a store of eng, holding testConsent; the
// browser has reviewed the consent with ACC-SAV selected.
func engineHarness(t *testing.T, eng storetest.Engine) (*harness, *store.Store, consent.Consent) {
	t.Helper()
	hs := newHarness(t, nil)
	st := openEngineStore(t, eng, hs.clock.now)
	hs.h.o.Store = realConsents{hs.store, st}
	c := testConsent(hs.clock.now())
	payNetEvent(t, st, consent.EventCreated, c)
	hs.review("ACC-SAV")
	return hs, st, c
}

// approveHeld posts Approve and returns once the PATCH has started and is held at the fake
// updater; release lets the PATCH succeed and returns the answer to the POST.
func (hs *harness) approveHeld() (release func() *httptest.ResponseRecorder) {
	hs.upd.gate, hs.upd.started = make(chan struct{}), make(chan struct{}, 1)
	done := make(chan *httptest.ResponseRecorder)
	go func() {
		done <- hs.raw(http.MethodPost, pathDecision, url.Values{"csrf": {hs.csrf}, "nonce": {hs.nonce}, "decision": {"approve"}})
	}()
	<-hs.upd.started
	return func() *httptest.ResponseRecorder {
		close(hs.upd.gate)
		return <-done
	}
}

// TestDecisionAfterPayNetSuspended: the customer approves; between the journey reading the
// consent and recording the decision, PayNet confirms the authorization and then suspends the
// consent (spec §5.2). The stored status stays suspended, no decision is recorded over it, and the
// customer is told the consent can no longer be authorized — not a 500, not a success page
// (docs/security.md "A local decision never overwrites a later PayNet status").
func TestDecisionAfterPayNetSuspended(t *testing.T) {
	for _, eng := range storetest.Engines() {
		t.Run(eng.Name, func(t *testing.T) {
			hs, st, c := engineHarness(t, eng)
			release := hs.approveHeld()
			c.Status, c.UpdatedAt = consent.StatusAuthorized, c.UpdatedAt.Add(time.Second)
			c.Accounts = []consent.Account{{AccountID: hs.ids("ACC-SAV")[0], AccountNumber: "1234567890"}}
			payNetEvent(t, st, consent.EventStatusUpdated, c)
			c.Status, c.UpdatedAt = consent.StatusSuspended, c.UpdatedAt.Add(time.Second)
			payNetEvent(t, st, consent.EventStatusUpdated, c)
			w := release()

			rec, err := st.GetConsent(context.Background(), testConsentID)
			if err != nil {
				t.Fatal(err)
			}
			if rec.Consent.Status != consent.StatusSuspended || rec.Authorization != nil {
				t.Fatalf("stored status %s, authorization %+v: the decision overwrote PayNet's suspension",
					rec.Consent.Status, rec.Authorization)
			}
			mustErrorRedirect(t, hs.leave(w), testRedirect, testConsentID, journey.ReasonNotAwaiting)
		})
	}
}

// TestDecisionRecordedAfterPayNetConfirms: PayNet's consent_status_updated authorized (the echo
// of the PATCH) lands before the local record: the decision is still recorded, with what the
// customer approved, without a status change, and the customer sees the success page.
func TestDecisionRecordedAfterPayNetConfirms(t *testing.T) {
	for _, eng := range storetest.Engines() {
		t.Run(eng.Name, func(t *testing.T) {
			hs, st, c := engineHarness(t, eng)
			approved := c
			release := hs.approveHeld()
			c.Status, c.UpdatedAt = consent.StatusAuthorized, c.UpdatedAt.Add(time.Second)
			payNetEvent(t, st, consent.EventStatusUpdated, c)
			mustRedirect(t, release(), pathComplete)
			rec, err := st.GetConsent(context.Background(), testConsentID)
			if err != nil {
				t.Fatal(err)
			}
			ap := rec.Approved()
			if rec.Consent.Status != consent.StatusAuthorized || ap == nil || ap.Purpose != approved.Purpose ||
				!slices.Equal(ap.Permissions, approved.Permissions) || !ap.ExpirationDatetime.Equal(approved.ExpirationDatetime) ||
				!slices.Equal(ap.AccountIDs, hs.ids("ACC-SAV")) {
				t.Fatalf("stored status %s, authorization %+v, approved %+v", rec.Consent.Status, rec.Authorization, ap)
			}
		})
	}
}
