package api_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/ofpdp/ofpdp/internal/consent"
	"github.com/ofpdp/ofpdp/internal/protoerr"
	"github.com/ofpdp/ofpdp/internal/store"
)

// approvedAccountID is the account the customer selects in TestEventWidening: the one newEvent
// lists on an authorized consent.
const approvedAccountID = "a1Xc0Qm3Zp8rT2vY6bN4kL9sD5"

// TestEventWidening: once the customer's decision is recorded on this DP, an event that widens
// what the customer approved — permissions, a later expiration_datetime, an account the customer
// did not select, another purpose — is refused with 403 Consent.Invalid and nothing is stored, as
// is any event that changes created_at; narrowing is accepted (design §3.6; docs/security.md
// "Consent widening after approval").
func TestEventWidening(t *testing.T) {
	forEachEngine(t, envOptions{}, func(t *testing.T, e *eventsEnv) {
		created := testNow.Add(-time.Hour)
		at := func(d time.Duration) time.Time { return created.Add(d) }
		// approved stores a consent, records the customer's approval of it and PayNet's
		// confirmation, and returns its id and the confirmation event.
		approved := func(t *testing.T) (string, []byte) {
			t.Helper()
			id := uuid.NewString()
			e.post(t, twoPermissions(t, newEvent(t, consent.EventCreated, id, consent.StatusAwaitingAuthorization, created, created))).wantOK(t)
			rec := e.snapshot(t, id).rec
			a := store.Authorization{Status: consent.StatusAuthorized, CustomerRef: "cust-1",
				Accounts: []store.AuthorizedAccount{{AccountID: approvedAccountID, AccountRef: "BANK-0001",
					AccountNumber: "1234567890123", AccountName: "My Savings Account"}}}
			a.Approved = new(consent.Approve(rec.Consent, []string{approvedAccountID}))
			if _, err := e.store.Authorize(context.Background(), id, rec.Version, a); err != nil {
				t.Fatal(err)
			}
			confirm := twoPermissions(t, newEvent(t, consent.EventStatusUpdated, id, consent.StatusAuthorized, created, at(time.Minute)))
			e.post(t, confirm).wantOK(t)
			return id, confirm
		}
		later := func(body []byte, change func(d map[string]any)) []byte {
			return mutate(t, body, func(ev, d map[string]any) {
				ev["event_type"] = string(consent.EventUpdated)
				d["updated_at"] = at(time.Hour).UTC().Format(time.RFC3339Nano)
				change(d)
			})
		}
		for _, c := range []struct {
			name   string
			change func(d map[string]any)
		}{
			{"a permission not approved", func(d map[string]any) {
				d["permissions"] = []any{"read_accounts", "read_balances", "read_transactions"}
			}},
			{"later expiration_datetime", func(d map[string]any) {
				d["expiration_datetime"] = created.AddDate(1, 0, 1).UTC().Format(time.RFC3339)
			}},
			{"an account the customer did not select", func(d map[string]any) {
				d["accounts"] = []any{
					map[string]any{"account_id": approvedAccountID, "account_number": "1234567890123"},
					map[string]any{"account_id": "zZ9otherAccount00000000000", "account_number": "9999999999999"},
				}
			}},
			{"another purpose", func(d map[string]any) { d["consent_purpose"] = "credit_underwriting" }},
			{"another created_at", func(d map[string]any) {
				d["created_at"] = created.Add(time.Minute).UTC().Format(time.RFC3339Nano)
			}},
		} {
			t.Run(c.name, func(t *testing.T) {
				id, confirm := approved(t)
				body := later(confirm, c.change)
				before := e.snapshot(t, id)
				e.post(t, body).wantError(t, http.StatusForbidden, protoerr.CodeConsentInvalid)
				e.wantUnchanged(t, id, before)
				if got := e.snapshot(t, id).rec.Consent; got.Purpose != consent.PurposePFM || len(got.Accounts) != 1 ||
					!got.ExpirationDatetime.Equal(created.AddDate(1, 0, 0)) {
					t.Errorf("stored consent changed: %+v", got)
				}
			})
		}

		t.Run("narrowing accepted", func(t *testing.T) {
			id, confirm := approved(t)
			earlier := created.AddDate(0, 6, 0)
			e.post(t, later(confirm, func(d map[string]any) {
				d["permissions"] = []any{"read_accounts"}
				d["expiration_datetime"] = earlier.UTC().Format(time.RFC3339)
			})).wantOK(t)
			rec := e.snapshot(t, id).rec
			if rec.Consent.Has(consent.PermReadBalances) || !rec.Consent.ExpirationDatetime.Equal(earlier) {
				t.Fatalf("narrowed consent not stored: %+v", rec.Consent)
			}
		})
		t.Run("revocation carrying wider terms accepted", func(t *testing.T) {
			id, confirm := approved(t)
			e.post(t, later(confirm, func(d map[string]any) {
				d["status"] = string(consent.StatusRevoked)
				d["permissions"] = []any{"read_accounts", "read_balances", "read_transactions"}
				d["expiration_datetime"] = created.AddDate(2, 0, 0).UTC().Format(time.RFC3339)
			})).wantOK(t)
			if st := e.snapshot(t, id).rec.Consent.Status; st != consent.StatusRevoked {
				t.Fatalf("status %s, want revoked", st)
			}
		})
		t.Run("before the customer's decision the consent may change", func(t *testing.T) {
			id := uuid.NewString()
			e.post(t, newEvent(t, consent.EventCreated, id, consent.StatusAwaitingAuthorization, created, created)).wantOK(t)
			body := newEvent(t, consent.EventUpdated, id, consent.StatusAwaitingAuthorization, created, at(time.Minute))
			e.post(t, mutate(t, body, func(_, d map[string]any) {
				d["consent_purpose"] = "credit_underwriting"
				d["expiration_datetime"] = created.AddDate(2, 0, 0).UTC().Format(time.RFC3339)
			})).wantOK(t)
		})
	})
}

// twoPermissions makes an event grant read_accounts and read_balances only.
func twoPermissions(t testing.TB, body []byte) []byte {
	return mutate(t, body, func(_, d map[string]any) { d["permissions"] = []any{"read_accounts", "read_balances"} })
}
