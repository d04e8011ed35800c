package web

import (
	"embed"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Languages of the journey: English and Bahasa Malaysia (spec §7.5; issue 4 §3).
const (
	langEN = "en"
	langMS = "ms"
)

var languages = []string{langEN, langMS}

//go:embed i18n/*.json
var catalogFS embed.FS

// catalog maps a message key to its text. Placeholders {0}, {1}… take the call's arguments.
type catalog map[string]string

// loadCatalogs reads i18n/<lang>.json for every language. Each must be a flat JSON object of
// non-empty strings; the completeness test checks both have the same keys.
func loadCatalogs() (map[string]catalog, error) {
	cats := make(map[string]catalog, len(languages))
	for _, l := range languages {
		b, err := catalogFS.ReadFile("i18n/" + l + ".json")
		if err != nil {
			return nil, fmt.Errorf("web: catalogue %s: %w", l, err)
		}
		var c catalog
		if err := json.Unmarshal(b, &c); err != nil {
			return nil, fmt.Errorf("web: catalogue %s: %w", l, err)
		}
		for k, v := range c {
			if strings.TrimSpace(v) == "" {
				return nil, fmt.Errorf("web: catalogue %s: message %q is empty", l, k)
			}
		}
		cats[l] = c
	}
	return cats, nil
}

// text returns the message for key with {n} replaced by args[n]. An unknown key is an error so
// that a template naming a missing key fails to render (and the tests catch it).
func (c catalog) text(key string, args ...any) (string, error) {
	s, ok := c[key]
	if !ok {
		return "", fmt.Errorf("web: no message %q", key)
	}
	for i, a := range args {
		s = strings.ReplaceAll(s, "{"+strconv.Itoa(i)+"}", fmt.Sprint(a))
	}
	return s, nil
}

// validLang reports whether l is a journey language.
func validLang(l string) bool { return slices.Contains(languages, l) }

// negotiateLang picks the journey language from an Accept-Language header (RFC 9110 §12.5.4):
// the supported language with the highest q, earlier on ties; "ms", "ms-MY", "ms-*" → Bahasa
// Malaysia; anything else, or nothing acceptable → English.
func negotiateLang(header string) string {
	if len(header) > 512 {
		header = header[:512]
	}
	best, bestQ := langEN, -1.0
	for i, part := range strings.Split(header, ",") {
		if i >= 32 {
			break
		}
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		tag = strings.ToLower(strings.TrimSpace(tag))
		q := 1.0
		for _, p := range strings.Split(params, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.TrimSpace(strings.ToLower(k)) == "q" {
				f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				if err != nil || f < 0 || f > 1 {
					f = 0
				}
				q = f
			}
		}
		primary, _, _ := strings.Cut(tag, "-")
		var l string
		switch primary {
		case "ms", "zsm":
			l = langMS
		case "en":
			l = langEN
		default:
			continue
		}
		if q > 0 && q > bestQ {
			best, bestQ = l, q
		}
	}
	return best
}

// myt is Malaysia Time. A fixed zone: no tzdata needed, and Malaysia has no daylight saving.
var myt = time.FixedZone("MYT", 8*3600)

var monthNames = map[string][12]string{
	langEN: {"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
	langMS: {"Januari", "Februari", "Mac", "April", "Mei", "Jun", "Julai", "Ogos", "September", "Oktober", "November", "Disember"},
}

// formatDate renders t as a Malaysia-time calendar date: "31 December 2026" / "31 Disember 2026".
func formatDate(t time.Time, lang string) string {
	t = t.In(myt)
	names, ok := monthNames[lang]
	if !ok {
		names = monthNames[langEN]
	}
	return strconv.Itoa(t.Day()) + " " + names[t.Month()-1] + " " + strconv.Itoa(t.Year())
}
