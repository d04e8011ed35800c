package consent

import "testing"

func TestIdentity(t *testing.T) {
	h := HashIDNumber("900101-14-5678")
	cases := []struct {
		name           string
		c              Consent
		identifies     bool
		idType, hashed string
		match          bool
	}{
		{"bound, same customer", Consent{IDType: IDTypeNRIC, HashedIDNumber: h}, true, "nric", h, true},
		{"bound, other number", Consent{IDType: IDTypeNRIC, HashedIDNumber: h}, true, "nric", HashIDNumber("900101145679"), false},
		{"bound, other id type", Consent{IDType: IDTypePassport, HashedIDNumber: h}, true, "nric", h, false},
		{"hash without type", Consent{HashedIDNumber: h}, false, "passport", h, true},
		{"type without hash", Consent{IDType: IDTypeNRIC}, false, "nric", h, true},
		{"unbound", Consent{}, false, "nric", h, true},
	}
	for _, c := range cases {
		if got := c.c.IdentifiesCustomer(); got != c.identifies {
			t.Errorf("%s: IdentifiesCustomer = %v", c.name, got)
		}
		if got := c.c.MatchesCustomer(c.idType, c.hashed); got != c.match {
			t.Errorf("%s: MatchesCustomer = %v", c.name, got)
		}
	}
}
