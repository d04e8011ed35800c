package web

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/ofpdp/ofpdp/connector"
)

// digitsOnly drops spaces and dashes from an account number as printed.
func digitsOnly(n string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, n)
}

// last4 is what the pages show of an account number ("•••• 7890"): never the full number.
func last4(number string) string {
	n := digitsOnly(number)
	if len(n) <= 4 {
		return n
	}
	return n[len(n)-4:]
}

// subtypeKey names the catalogue entry for an account's kind.
func subtypeKey(a *connector.Account) string {
	switch a.Subtype {
	case connector.SubtypeSavings, connector.SubtypeCurrent, connector.SubtypeCreditCard, connector.SubtypeHirePurchase, connector.SubtypeMortgage:
		return "account.subtype." + a.Subtype
	}
	switch a.Type {
	case connector.TypeDeposit, connector.TypeCredit, connector.TypeLoan:
		return "account.type." + a.Type
	}
	return "account.type.other"
}

// rgb is a colour of Branding.PrimaryColor.
type rgb struct{ r, g, b float64 }

func parseColor(hex string) rgb {
	v, _ := strconv.ParseUint(strings.TrimPrefix(hex, "#"), 16, 32)
	return rgb{float64(v >> 16 & 0xff), float64(v >> 8 & 0xff), float64(v & 0xff)}
}

func (c rgb) String() string {
	return fmt.Sprintf("#%02x%02x%02x", int(math.Round(c.r)), int(math.Round(c.g)), int(math.Round(c.b)))
}

// luminance is the WCAG 2.x relative luminance.
func (c rgb) luminance() float64 {
	ch := func(v float64) float64 {
		v /= 255
		if v <= 0.04045 {
			return v / 12.92
		}
		return math.Pow((v+0.055)/1.055, 2.4)
	}
	return 0.2126*ch(c.r) + 0.7152*ch(c.g) + 0.0722*ch(c.b)
}

// contrast is the WCAG 2.x contrast ratio of two colours.
func contrast(a, b rgb) float64 {
	la, lb := a.luminance(), b.luminance()
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

var (
	white = rgb{255, 255, 255}
	ink   = rgb{17, 24, 39} // #111827, the body text colour
)

// themeColors derives the brand colours so text meets WCAG AA (4.5:1) whatever the bank picks:
// the background of primary buttons (the brand colour itself when some text colour reaches 4.5:1
// on it, else the brand colour darkened), the text colour on it (white or ink, the better one),
// and a brand colour dark enough for links, headings and focus rings on white.
func themeColors(primary string) (brandBG, onBrand, brandText string) {
	c := parseColor(primary)
	t := c
	for i := 0; i < 64 && contrast(t, white) < 4.5; i++ {
		t = rgb{math.Floor(t.r * 0.9), math.Floor(t.g * 0.9), math.Floor(t.b * 0.9)}
	}
	bg, on := c, white
	if contrast(c, ink) > contrast(c, white) {
		on = ink
	}
	if contrast(bg, on) < 4.5 {
		bg, on = t, white
	}
	return bg.String(), on.String(), t.String()
}

// themeCSS is /static/…/theme.css: the bank's colours as CSS custom properties (a served
// stylesheet, since the CSP forbids inline style).
func themeCSS(primary string) []byte {
	brand, on, text := themeColors(primary)
	return []byte(":root {\n  --brand: " + brand + ";\n  --on-brand: " + on + ";\n  --brand-text: " + text + ";\n}\n")
}
