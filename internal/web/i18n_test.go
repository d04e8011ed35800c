package web

import (
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ofpdp/ofpdp/connector"
	"github.com/ofpdp/ofpdp/internal/consent"
)

// dynamicKeys are the catalogue keys the code picks at run time (the templates name the rest).
func dynamicKeys() []string {
	keys := []string{
		"login.title", "accounts.title", "review.title", "success.title",
		"login.failed", "login.locked", "login.unavailable", "login.throttled",
		"accounts.required", "accounts.invalid", "accounts.unavailable", "accounts.changed",
		"purpose.other",
		"verify.title", "otp.failed", "app.waiting", "factor.locked", "factor.expired", "factor.resend_limit", "factor.unavailable",
	}
	for _, k := range errKinds {
		keys = append(keys, "error."+k.code+".title", "error."+k.code+".body")
	}
	for _, a := range []connector.Account{
		{Subtype: connector.SubtypeSavings}, {Subtype: connector.SubtypeCurrent}, {Subtype: connector.SubtypeCreditCard},
		{Subtype: connector.SubtypeHirePurchase}, {Subtype: connector.SubtypeMortgage},
		{Type: connector.TypeDeposit}, {Type: connector.TypeCredit}, {Type: connector.TypeLoan}, {Type: "investment"},
	} {
		keys = append(keys, subtypeKey(&a))
	}
	for _, p := range []consent.Purpose{consent.PurposePFM, consent.PurposeCreditUnderwriting} {
		keys = append(keys, "purpose."+string(p))
	}
	for _, p := range []consent.Permission{consent.PermReadAccounts, consent.PermReadBalances, consent.PermReadTransactions} {
		keys = append(keys, "permission."+string(p))
	}
	return keys
}

var templateKeyRE = regexp.MustCompile(`\{\{-?\s*t\s+"([^"]+)"`)

// TestCatalogues: English and Bahasa Malaysia have exactly the same keys, no empty message, the
// same placeholders; every key a template or the code names exists; no key is unused.
func TestCatalogues(t *testing.T) {
	cats, err := loadCatalogs()
	if err != nil {
		t.Fatal(err)
	}
	en, ms := cats[langEN], cats[langMS]
	if !slices.Equal(slices.Sorted(maps.Keys(en)), slices.Sorted(maps.Keys(ms))) {
		for k := range en {
			if _, ok := ms[k]; !ok {
				t.Errorf("ms lacks %q", k)
			}
		}
		for k := range ms {
			if _, ok := en[k]; !ok {
				t.Errorf("en lacks %q", k)
			}
		}
	}
	placeholder := regexp.MustCompile(`\{\d\}`)
	for k, v := range en {
		if !slices.Equal(slices.Sorted(slices.Values(placeholder.FindAllString(v, -1))), slices.Sorted(slices.Values(placeholder.FindAllString(ms[k], -1)))) {
			t.Errorf("%q: placeholders differ between en and ms", k)
		}
		if v == ms[k] {
			// Identical text is suspicious (an untranslated copy); none is expected today.
			t.Errorf("%q: the Bahasa Malaysia text is the English text", k)
		}
	}

	used := map[string]bool{}
	entries, err := templateFS.ReadDir("templates")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := templateFS.ReadFile("templates/" + e.Name())
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range templateKeyRE.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = true
		}
	}
	if len(used) < 20 {
		t.Fatalf("only %d template keys found: the pattern is broken", len(used))
	}
	for _, k := range dynamicKeys() {
		used[k] = true
	}
	for k := range used {
		for l, c := range cats {
			if _, ok := c[k]; !ok {
				t.Errorf("catalogue %s lacks %q", l, k)
			}
		}
	}
	for k := range en {
		if !used[k] {
			t.Errorf("catalogue key %q is never used", k)
		}
	}
}

func TestNegotiateLang(t *testing.T) {
	cases := map[string]string{
		"":                                langEN,
		"ms":                              langMS,
		"ms-MY":                           langMS,
		"MS-my,en;q=0.5":                  langMS,
		"en-GB,en;q=0.9,ms;q=0.8":         langEN,
		"zh-CN,zh;q=0.9,ms;q=0.8":         langMS,
		"zh-CN":                           langEN,
		"ms;q=0":                          langEN,
		"en;q=0.2, ms-MY;q=0.7":           langMS,
		"*":                               langEN,
		"ms;q=abc, en;q=0.1":              langEN,
		"ms;q=2":                          langEN,
		"en;q=0.5,ms;q=0.5":               langEN,
		"ms;q=0.5,en;q=0.5":               langMS,
		",,;;,":                           langEN,
		strings.Repeat("xx,", 100) + "ms": langEN, // beyond the 32 entries looked at
	}
	for in, want := range cases {
		if got := negotiateLang(in); got != want {
			t.Errorf("negotiateLang(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestFormatDate(t *testing.T) {
	cases := []struct {
		t    time.Time
		lang string
		want string
	}{
		{time.Date(2026, 12, 31, 23, 59, 59, 0, myt), langEN, "31 December 2026"},
		{time.Date(2026, 12, 31, 23, 59, 59, 0, myt), langMS, "31 Disember 2026"},
		{time.Date(2026, 12, 31, 16, 0, 0, 0, time.UTC), langMS, "1 Januari 2027"},
		{time.Date(2026, 8, 5, 0, 0, 0, 0, myt), langMS, "5 Ogos 2026"},
		{time.Date(2026, 3, 1, 0, 0, 0, 0, myt), langMS, "1 Mac 2026"},
		{time.Date(2026, 3, 1, 0, 0, 0, 0, myt), "xx", "1 March 2026"},
	}
	for _, c := range cases {
		if got := formatDate(c.t, c.lang); got != c.want {
			t.Errorf("formatDate(%v, %s) = %q, want %q", c.t, c.lang, got, c.want)
		}
	}
}

var (
	inputRE     = regexp.MustCompile(`<input [^>]*>`)
	idRE        = regexp.MustCompile(`\bid="([^"]+)"`)
	typeHidden  = regexp.MustCompile(`type="hidden"`)
	inlineStyle = regexp.MustCompile(`(?i)<style|\sstyle=|<script|\son[a-z]+=|javascript:`)
)

// TestPagesAccessible renders every page in both languages and checks what the browser test and
// the accessibility rules rely on: <html lang>, a <title> per step, data-step on <main>, stable
// ids, a label for every visible input, real buttons, and nothing the CSP would block.
func TestPagesAccessible(t *testing.T) {
	for _, lang := range []string{"en-GB", "ms-MY"} {
		t.Run(lang, func(t *testing.T) {
			pages := map[string]string{}
			hs := newHarness(t, func(o *Options) { o.Sandbox = true })
			hs.lang = lang
			pages["error (invalid link)"] = hs.do(http.MethodGet, authorizeURL(testConsentID, testRedirect, "x"), nil).Body.String()
			pages["error (404)"] = hs.do(http.MethodGet, "/x", nil).Body.String()
			hs.start()
			pages["login"] = hs.do(http.MethodGet, pathLogin, nil).Body.String()
			pages["login (failed)"] = hs.post(pathLogin, url.Values{"username": {"aisyah"}, "password": {"x"}}).Body.String()
			mustRedirect(t, hs.post(pathLogin, url.Values{"username": {"aisyah"}, "password": {"Demo@1234"}}), pathAccounts)
			pages["accounts"] = hs.do(http.MethodGet, pathAccounts, nil).Body.String()
			pages["accounts (refused)"] = hs.post(pathAccounts, nil).Body.String()
			hs.post(pathAccounts, url.Values{"account": hs.ids("ACC-SAV", "ACC-CARD")})
			pages["review"] = hs.do(http.MethodGet, pathReview, nil).Body.String()
			hs.decide("approve")
			pages["success"] = hs.do(http.MethodGet, pathComplete, nil).Body.String()

			wantLang := langEN
			if strings.HasPrefix(lang, "ms") {
				wantLang = langMS
			}
			ids := map[string][]string{
				"login":    {"username", "password", "login", "cancel", "lang-ms", "lang-en"},
				"accounts": {"account-0", "account-1", "continue", "cancel", "lang-ms", "lang-en"},
				"review":   {"approve", "reject", "cancel", "lang-ms", "lang-en"},
				"success":  {"back-to-dc", "lang-ms", "lang-en"},
			}
			for name, body := range pages {
				step, _, _ := strings.Cut(name, " ")
				if !strings.Contains(body, `<html lang="`+wantLang+`">`) {
					t.Errorf("%s: no lang=%s", name, wantLang)
				}
				if !strings.Contains(body, `<main id="content" data-step="`+step+`">`) {
					t.Errorf("%s: no data-step=%s", name, step)
				}
				if !regexp.MustCompile(`<title>[^<]+ · Demo Bank Berhad</title>`).MatchString(body) {
					t.Errorf("%s: no title", name)
				}
				if m := inlineStyle.FindString(body); m != "" {
					t.Errorf("%s: %q would break the CSP", name, m)
				}
				if strings.Contains(body, "{0}") || strings.Contains(body, "{1}") {
					t.Errorf("%s: unfilled placeholder", name)
				}
				if !strings.Contains(body, `id="lang-ms"`) || !strings.Contains(body, `id="lang-en"`) {
					t.Errorf("%s: no language switch", name)
				}
				if !strings.Contains(body, `class="sandbox"`) {
					t.Errorf("%s: no sandbox label", name)
				}
				for _, in := range inputRE.FindAllString(body, -1) {
					if typeHidden.MatchString(in) {
						continue
					}
					m := idRE.FindStringSubmatch(in)
					if m == nil || !strings.Contains(body, `<label for="`+m[1]+`"`) {
						t.Errorf("%s: input without a label: %s", name, in)
					}
				}
				for _, id := range ids[name] {
					if !strings.Contains(body, `id="`+id+`"`) {
						t.Errorf("%s: no #%s", name, id)
					}
				}
				if strings.Count(body, `id="`) != len(idRE.FindAllString(body, -1)) {
					t.Errorf("%s: malformed id", name)
				}
				seen := map[string]bool{}
				for _, m := range idRE.FindAllStringSubmatch(body, -1) {
					if seen[m[1]] {
						t.Errorf("%s: duplicate id %q", name, m[1])
					}
					seen[m[1]] = true
				}
			}
		})
	}
}

// TestLanguageSwitch: the switch is on every page; in a journey it is remembered in the session,
// without one it links to the same error page in the other language.
func TestLanguageSwitch(t *testing.T) {
	hs := newHarness(t, nil)
	hs.lang = "ms-MY,ms;q=0.9"
	w := hs.do(http.MethodGet, authorizeURL(testConsentID, testRedirect, "bad"), nil)
	if !strings.Contains(w.Body.String(), "Pautan ini tidak boleh digunakan") {
		t.Fatal("Accept-Language ms-MY did not give Bahasa Malaysia")
	}
	if !strings.Contains(w.Body.String(), `id="lang-en" href="/journey/error?code=invalid_link&amp;lang=en"`) {
		t.Fatalf("sessionless switch:\n%s", w.Body.String())
	}
	w = hs.do(http.MethodGet, "/journey/error?code=invalid_link&lang=en", nil)
	mustStatus(t, w, http.StatusBadRequest)
	if !strings.Contains(w.Body.String(), "This link can") {
		t.Fatal("switch to English failed")
	}
	w = hs.do(http.MethodGet, "/journey/error?code=nothing_shared&lang=en", nil)
	mustStatus(t, w, http.StatusNotFound) // only sessionless pages can be shown this way

	hs.start()
	body := hs.do(http.MethodGet, pathLogin, nil).Body.String()
	if !strings.Contains(body, `<html lang="ms">`) || !strings.Contains(body, "Log masuk") {
		t.Fatal("journey did not start in Bahasa Malaysia")
	}
	hs.lang = "en" // the session wins over the header from now on
	mustRedirect(t, hs.post(pathLang, url.Values{"lang": {"en"}}), pathLogin)
	if !strings.Contains(hs.do(http.MethodGet, pathLogin, nil).Body.String(), `<html lang="en">`) {
		t.Fatal("switch not applied")
	}
	hs.lang = "ms"
	if !strings.Contains(hs.do(http.MethodGet, pathLogin, nil).Body.String(), `<html lang="en">`) {
		t.Fatal("switch not remembered in the session")
	}
	mustRedirect(t, hs.post(pathLang, url.Values{"lang": {"fr"}}), pathLogin)
	if hs.journey().Lang != langEN {
		t.Fatal("an unknown language was stored")
	}
}
