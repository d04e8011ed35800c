package connector

import (
	"errors"
	"testing"
)

func TestAmounts(t *testing.T) {
	for _, tc := range []struct {
		s     string
		minor int64
	}{{"0.00", 0}, {"0.05", 5}, {"1234.56", 123456}, {"9999999999999.99", 999999999999999}} {
		got, err := ParseAmount(tc.s)
		if err != nil || got != tc.minor {
			t.Errorf("ParseAmount(%q) = %d, %v", tc.s, got, err)
		}
		if back := FormatAmount(tc.minor); back != tc.s {
			t.Errorf("FormatAmount(%d) = %q", tc.minor, back)
		}
	}
	if FormatAmount(-105) != "-1.05" {
		t.Errorf("FormatAmount(-105) = %q", FormatAmount(-105))
	}
	for _, bad := range []string{"", "1", "1.0", "1.000", "-1.00", "1,00", " 1.00", "1.0a", "10000000000000.00", "1e3.00"} {
		if _, err := ParseAmount(bad); !errors.Is(err, ErrAmountSyntax) {
			t.Errorf("ParseAmount(%q) = %v", bad, err)
		}
	}
}
