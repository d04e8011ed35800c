package consent

import (
	"errors"
	"slices"
	"testing"
	"time"
)

// approvedConsent is stored() as PayNet confirms it after the customer approved it with accounts
// a1 and a2, and that approval.
func approvedConsent() (Consent, Approved) {
	c := stored()
	c.Status = StatusAuthorized
	c.Accounts = []Account{{AccountID: "a1"}, {AccountID: "a2"}}
	return c, Approve(stored(), []string{"a1", "a2"})
}

func TestApprovedWidened(t *testing.T) {
	base, a := approvedConsent()
	with := func(f func(c *Consent)) Consent {
		c := base
		c.Permissions, c.Accounts = slices.Clone(c.Permissions), slices.Clone(c.Accounts)
		f(&c)
		return c
	}
	for _, tc := range []struct {
		name  string
		in    Consent
		field string // "" = not widened
	}{
		{"restated", base, ""},
		{"fewer permissions", with(func(c *Consent) { c.Permissions = []Permission{PermReadBalances} }), ""},
		{"permissions reordered", with(func(c *Consent) { c.Permissions = []Permission{PermReadBalances, PermReadAccounts} }), ""},
		{"a permission added", with(func(c *Consent) { c.Permissions = append(c.Permissions, PermReadTransactions) }), "permissions"},
		{"a permission swapped", with(func(c *Consent) { c.Permissions = []Permission{PermReadAccounts, PermReadTransactions} }), "permissions"},
		{"earlier expiry", with(func(c *Consent) { c.ExpirationDatetime = c.ExpirationDatetime.Add(-time.Hour) }), ""},
		{"same expiry in another offset", with(func(c *Consent) { c.ExpirationDatetime = c.ExpirationDatetime.In(time.FixedZone("MYT", 8*3600)) }), ""},
		{"later expiry by a second", with(func(c *Consent) { c.ExpirationDatetime = c.ExpirationDatetime.Add(time.Second) }), "expiration_datetime"},
		{"fewer accounts", with(func(c *Consent) { c.Accounts = c.Accounts[:1] }), ""},
		{"no accounts listed", with(func(c *Consent) { c.Accounts = nil }), ""},
		{"an account not selected", with(func(c *Consent) { c.Accounts = append(c.Accounts, Account{AccountID: "a3"}) }), "accounts"},
		{"another purpose", with(func(c *Consent) { c.Purpose = PurposeCreditUnderwriting }), "consent_purpose"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := a.Widened(tc.in)
			if tc.field == "" {
				if err != nil {
					t.Fatalf("Widened = %v, want nil", err)
				}
				return
			}
			var we *WidenedError
			if !errors.As(err, &we) || we.Field != tc.field || !errors.Is(err, ErrWidened) {
				t.Fatalf("Widened = %v, want a WidenedError on %s", err, tc.field)
			}
		})
	}
}

// TestDecideAfterApproval: with the customer's approval, Decide refuses a widening event and
// accepts a narrowing one; an event that ends the consent is accepted whatever it carries.
func TestDecideAfterApproval(t *testing.T) {
	cur, a := approvedConsent()
	later := cur.UpdatedAt.Add(time.Minute)
	ev := func(f func(c *Consent)) Event {
		c := cur
		c.UpdatedAt = later
		f(&c)
		return Event{Type: EventUpdated, Consent: c}
	}
	for _, tc := range []struct {
		name   string
		ev     Event
		action Action
		err    error
	}{
		{"narrowed", ev(func(c *Consent) { c.Permissions = []Permission{PermReadAccounts} }), ActionUpdate, nil},
		{"widened", ev(func(c *Consent) { c.Permissions = []Permission{PermReadTransactions} }), "", ErrWidened},
		{"widened and suspended", ev(func(c *Consent) { c.Status = StatusSuspended; c.Purpose = PurposeCreditUnderwriting }), "", ErrWidened},
		{"widened and revoked", ev(func(c *Consent) { c.Status = StatusRevoked; c.Purpose = PurposeCreditUnderwriting }), ActionUpdate, nil},
		{"widened but stale", Event{Type: EventUpdated, Consent: func() Consent {
			c := cur
			c.UpdatedAt = cur.UpdatedAt.Add(-time.Minute)
			c.Purpose = PurposeCreditUnderwriting
			return c
		}()}, ActionIgnoreStale, nil},
		{"widened and illegal", ev(func(c *Consent) {
			c.Status = StatusAwaitingAuthorization
			c.ExpirationDatetime = later.AddDate(5, 0, 0)
		}), "", ErrIllegalTransition},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Decide(&cur, &a, tc.ev)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil || d.Action != tc.action {
				t.Fatalf("Decide = %s, %v, want %s", d.Action, err, tc.action)
			}
		})
	}
	// Without an approval (PayNet authorized it, the customer's decision is not recorded here)
	// nothing is compared.
	if d, err := Decide(&cur, nil, ev(func(c *Consent) { c.Purpose = PurposeCreditUnderwriting })); err != nil || d.Action != ActionUpdate {
		t.Fatalf("without approval: %s, %v", d.Action, err)
	}
}

func TestEffective(t *testing.T) {
	t0 := time.Date(2025, 3, 5, 8, 0, 0, 0, time.UTC)
	a := Approved{Purpose: PurposePFM, Permissions: []Permission{PermReadAccounts, PermReadBalances},
		ExpirationDatetime: t0.AddDate(0, 6, 0), AccountIDs: []string{"a1", "a2"}}
	for _, tc := range []struct {
		name   string
		c      Consent
		perms  []Permission
		expiry time.Time
		accts  []string
	}{
		{"PayNet grants more than approved", Consent{Status: StatusAuthorized,
			Permissions:        []Permission{PermReadTransactions, PermReadBalances, PermReadAccounts},
			ExpirationDatetime: t0.AddDate(1, 0, 0), Accounts: []Account{{AccountID: "a3"}, {AccountID: "a2"}}},
			[]Permission{PermReadAccounts, PermReadBalances}, t0.AddDate(0, 6, 0), []string{"a2"}},
		{"PayNet narrowed", Consent{Status: StatusAuthorized, Permissions: []Permission{PermReadBalances},
			ExpirationDatetime: t0.AddDate(0, 1, 0)},
			[]Permission{PermReadBalances}, t0.AddDate(0, 1, 0), []string{"a1", "a2"}},
		{"nothing in common", Consent{Status: StatusAuthorized, Permissions: []Permission{PermReadTransactions},
			ExpirationDatetime: t0.AddDate(1, 0, 0), Accounts: []Account{{AccountID: "a9"}}},
			nil, t0.AddDate(0, 6, 0), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := Effective(tc.c, a)
			if !slices.Equal(g.Permissions, tc.perms) || !g.ExpirationDatetime.Equal(tc.expiry) || !slices.Equal(g.AccountIDs, tc.accts) {
				t.Fatalf("Effective = %+v", g)
			}
			for _, p := range []Permission{PermReadAccounts, PermReadBalances, PermReadTransactions} {
				if g.Has(p) != slices.Contains(tc.perms, p) {
					t.Errorf("Has(%s) = %v", p, g.Has(p))
				}
			}
			for _, id := range []string{"a1", "a2", "a3", "a9"} {
				if g.Covers(id) != slices.Contains(tc.accts, id) {
					t.Errorf("Covers(%s) = %v", id, g.Covers(id))
				}
			}
			if st := g.EffectiveStatus(tc.expiry.Add(-time.Nanosecond)); st != StatusAuthorized {
				t.Errorf("just before the effective expiry: %s", st)
			}
			if st := g.EffectiveStatus(tc.expiry); st != StatusExpired {
				t.Errorf("at the effective expiry: %s", st)
			}
		})
	}
}

func TestDecisionFrom(t *testing.T) {
	all := []Status{StatusAwaitingAuthorization, StatusAuthorized, StatusRejected, StatusFailed, StatusSuspended, StatusExpired, StatusRevoked}
	for _, from := range all {
		for _, to := range all {
			want := (to == StatusAuthorized || to == StatusRejected || to == StatusFailed) &&
				(from == StatusAwaitingAuthorization || from == to)
			if got := DecisionFrom(from, to); got != want {
				t.Errorf("DecisionFrom(%s, %s) = %v, want %v", from, to, got, want)
			}
		}
	}
	if !errors.Is(ErrNotAwaitingAuthorization, ErrIllegalTransition) {
		t.Error("ErrNotAwaitingAuthorization must be an illegal transition")
	}
}
