package demo

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
)

// myt is Malaysia time, +08:00 with no daylight saving (spec paynet-dp.md §5.6). A fixed zone
// needs no tzdata.
var myt = time.FixedZone("MYT", 8*3600)

const dateLayout = "2006-01-02"

var errAmountSyntax = errors.New(`must be a decimal string with two decimals, like "1234.56"`)

// parseAmount parses a non-negative decimal string with exactly two decimals — the shape of
// spec §5.6 (pattern ^\d{1,13}\.\d{2}$) — into minor units (sen).
func parseAmount(s string) (int64, error) {
	if len(s) < 4 || len(s) > 16 || s[len(s)-3] != '.' {
		return 0, fmt.Errorf("%q %w", s, errAmountSyntax)
	}
	var v int64
	for i := 0; i < len(s); i++ {
		if i == len(s)-3 {
			continue
		}
		c := s[i]
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%q %w", s, errAmountSyntax)
		}
		v = v*10 + int64(c-'0')
	}
	return v, nil
}

// formatAmount renders minor units as a two-decimal string (the inverse of parseAmount, with a
// leading minus for negative values).
func formatAmount(minor int64) string {
	sign := ""
	if minor < 0 {
		sign = "-"
		minor = -minor
	}
	return sign + strconv.FormatInt(minor/100, 10) + "." + fmt.Sprintf("%02d", minor%100)
}

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
