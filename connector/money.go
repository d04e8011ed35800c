package connector

import (
	"errors"
	"strconv"
)

// ErrAmountSyntax: an amount is not a decimal string with exactly two decimals.
var ErrAmountSyntax = errors.New(`must be a decimal string with two decimals, like "1234.56"`)

// ParseAmount parses a non-negative decimal string with exactly two decimals — the shape of spec
// paynet-dp.md §5.6 (pattern ^\d{1,13}\.\d{2}$) and of docs/connector-openapi.yaml — into minor
// units (sen). The error wraps ErrAmountSyntax and does not echo the input.
func ParseAmount(s string) (int64, error) {
	if len(s) < 4 || len(s) > 16 || s[len(s)-3] != '.' {
		return 0, ErrAmountSyntax
	}
	var v int64
	for i := 0; i < len(s); i++ {
		if i == len(s)-3 {
			continue
		}
		c := s[i]
		if c < '0' || c > '9' {
			return 0, ErrAmountSyntax
		}
		v = v*10 + int64(c-'0')
	}
	return v, nil
}

// FormatAmount renders minor units as a two-decimal string, the inverse of ParseAmount, with a
// leading minus for negative values.
func FormatAmount(minor int64) string {
	sign := ""
	if minor < 0 {
		sign = "-"
		minor = -minor
	}
	cents := strconv.FormatInt(minor%100, 10)
	if len(cents) == 1 {
		cents = "0" + cents
	}
	return sign + strconv.FormatInt(minor/100, 10) + "." + cents
}
