package web

import (
	"errors"
	"strings"
	"testing"

	"github.com/ofpdp/ofpdp/internal/lockout"
)

func TestLast4(t *testing.T) {
	for _, c := range []struct{ in, want string }{{"1234567890", "7890"}, {"4111 1111 1111 1234", "1234"}, {"12", "12"}} {
		if got := last4(c.in); got != c.want {
			t.Errorf("last4(%q) = %q", c.in, got)
		}
	}
}

// TestThemeContrast: whatever colour the bank picks, button text and brand-coloured text on white
// reach WCAG AA (4.5:1).
func TestThemeContrast(t *testing.T) {
	for _, c := range []string{"#0b5394", "#ffffff", "#ffcc00", "#777777", "#808080", "#00ff00", "#ff0000", "#000000", "#3a7bd5", "#e60012", "#6b7280"} {
		bg, on, text := themeColors(c)
		if r := contrast(parseColor(bg), parseColor(on)); r < 4.5 {
			t.Errorf("%s: button %s on %s is %.2f:1", c, on, bg, r)
		}
		if r := contrast(parseColor(text), white); r < 4.5 {
			t.Errorf("%s: text %s on white is %.2f:1", c, text, r)
		}
	}
	if bg, _, _ := themeColors("#0b5394"); bg != "#0b5394" {
		t.Errorf("a dark enough brand colour was changed: %s", bg)
	}
	// The fixed colours of app.css.
	for _, p := range [][2]string{{"#111827", "#ffffff"}, {"#4b5563", "#ffffff"}, {"#991b1b", "#fef2f2"}, {"#713f12", "#fff7d6"}, {"#4b5563", "#f3f4f6"}} {
		if r := contrast(parseColor(p[0]), parseColor(p[1])); r < 4.5 {
			t.Errorf("%s on %s is %.2f:1", p[0], p[1], r)
		}
	}
}

func TestOptions(t *testing.T) {
	valid := func() Options {
		return Options{
			Store: newFakeStore(nil), Bank: newFakeBank(), Signatures: fakeVerifier{}, Updater: &fakeUpdater{}, IDTokens: &fakeSigner{},
			DPID: testDPID, IDTokenIssuer: "https://dp", RedirectAllowlist: []string{testRedirect}, AccountIDKey: testKey,
			Branding: Branding{BankName: "Bank"},
		}
	}
	h, err := New(valid())
	if err != nil {
		t.Fatal(err)
	}
	if h.o.IDTokenTTL != DefaultIDTokenTTL || h.o.SessionIdle != DefaultSessionIdle || h.o.Lockout.MaxFailures != 5 ||
		h.o.Lockout.Window != lockout.DefaultWindow || h.o.SessionsPerConsent != DefaultSessionsPerConsent || h.o.Branding.PrimaryColor != DefaultPrimaryColor || h.o.Now == nil || h.o.Rand == nil {
		t.Fatalf("defaults not applied: %+v", h.o)
	}
	cases := []struct {
		name, want string
		mod        func(*Options)
	}{
		{"no store", "Store", func(o *Options) { o.Store = nil }},
		{"no bank", "Bank", func(o *Options) { o.Bank = nil }},
		{"no verifier", "Signatures", func(o *Options) { o.Signatures = nil }},
		{"no updater", "Updater", func(o *Options) { o.Updater = nil }},
		{"no signer", "IDTokens", func(o *Options) { o.IDTokens = nil }},
		{"no dp id", "DPID", func(o *Options) { o.DPID = "" }},
		{"no issuer", "IDTokenIssuer", func(o *Options) { o.IDTokenIssuer = "" }},
		{"empty allow-list", "RedirectAllowlist", func(o *Options) { o.RedirectAllowlist = nil }},
		{"relative redirect", "RedirectAllowlist", func(o *Options) { o.RedirectAllowlist = []string{"/cb"} }},
		{"http redirect", "https", func(o *Options) { o.RedirectAllowlist = []string{"http://p.example/cb"} }},
		{"redirect with fragment", "fragment", func(o *Options) { o.RedirectAllowlist = []string{"https://p.example/cb#x"} }},
		{"redirect with userinfo", "user", func(o *Options) { o.RedirectAllowlist = []string{"https://u:p@p.example/cb"} }},
		{"short key", "AccountIDKey", func(o *Options) { o.AccountIDKey = []byte("short") }},
		{"no bank name", "BankName", func(o *Options) { o.Branding.BankName = " " }},
		{"bad colour", "PrimaryColor", func(o *Options) { o.Branding.PrimaryColor = "blue" }},
		{"http logo", "LogoURL", func(o *Options) { o.Branding.LogoURL = "http://cdn/logo.png" }},
		{"protocol-relative logo", "LogoURL", func(o *Options) { o.Branding.LogoURL = "//cdn/logo.png" }},
		{"javascript DC logo", "DCs", func(o *Options) { o.DCs = map[string]DCInfo{"DC": {LogoURL: "javascript:alert(1)"}} }},
		{"negative idle", "SessionIdle", func(o *Options) { o.SessionIdle = -1 }},
		{"negative failures", "MaxFailures", func(o *Options) { o.Lockout.MaxFailures = -1 }},
		{"negative session cap", "SessionsPerConsent", func(o *Options) { o.SessionsPerConsent = -1 }},
		{"negative client rate", "RatePerClientPerMinute", func(o *Options) { o.RatePerClientPerMinute = -1 }},
	}
	for _, c := range cases {
		o := valid()
		c.mod(&o)
		_, err := New(o)
		if !errors.Is(err, ErrOptions) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one naming %s", c.name, err, c.want)
		}
	}
	o := valid()
	o.Store, o.Bank = nil, nil
	if _, err := New(o); err == nil || !strings.Contains(err.Error(), "Store") || !strings.Contains(err.Error(), "Bank") {
		t.Errorf("not every problem reported: %v", err)
	}
	for _, logo := range []string{"", "https://cdn.example/logo.svg", "data:image/png;base64,AA==", "/static/logo.svg"} {
		o := valid()
		o.Branding.LogoURL = logo
		if _, err := New(o); err != nil {
			t.Errorf("logo %q refused: %v", logo, err)
		}
	}
}
