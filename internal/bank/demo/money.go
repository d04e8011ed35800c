package demo

import (
	"fmt"
	"math"
	"time"

	"github.com/ofpdp/ofpdp/connector"
)

// myt is Malaysia time, +08:00 with no daylight saving (spec paynet-dp.md §5.6). A fixed zone
// needs no tzdata.
var myt = time.FixedZone("MYT", 8*3600)

const dateLayout = "2006-01-02"

// parseAmount is connector.ParseAmount with the value named in the error (the data file is the
// bank's own, not a customer's).
func parseAmount(s string) (int64, error) {
	v, err := connector.ParseAmount(s)
	if err != nil {
		return 0, fmt.Errorf("%q %w", s, err)
	}
	return v, nil
}

// formatAmount is connector.FormatAmount.
func formatAmount(minor int64) string { return connector.FormatAmount(minor) }

// parseDate parses a calendar date "YYYY-MM-DD" as midnight MYT.
func parseDate(s string) (time.Time, error) {
	t, err := time.ParseInLocation(dateLayout, s, myt)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q must be a date YYYY-MM-DD", s)
	}
	if t.Year() < 1970 || t.Year() > 2200 {
		return time.Time{}, fmt.Errorf("%q is outside the years 1970..2200", s)
	}
	return t, nil
}

// dateOf returns midnight MYT of the calendar day t falls on in Malaysia.
func dateOf(t time.Time) time.Time {
	y, m, d := t.In(myt).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, myt)
}

// roundMinor rounds a float amount of minor units half away from zero.
func roundMinor(x float64) int64 {
	return int64(math.Round(x))
}
