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

// TestNormalizeIDNumber: design §3.11 exactly — upper-case, spaces and dashes removed, nothing
// else (the PayNet side's independent reading, internal/ofp/wire, agrees byte for byte).
func TestNormalizeIDNumber(t *testing.T) {
	for in, want := range map[string]string{
		"900101-14-5678":   "900101145678",
		" 900101 14 5678 ": "900101145678",
		"a1234567":         "A1234567",
		"\t900101145678":   "\t900101145678",
		"900101145678\n":   "900101145678\n",
		"9001\u00a0014":    "9001\u00a0014",
	} {
		if got := NormalizeIDNumber(in); got != want {
			t.Errorf("NormalizeIDNumber(%q) = %q, want %q", in, got, want)
		}
	}
}
