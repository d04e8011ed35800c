package wire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"time"
	"unicode/utf8"
)

// This file is what a data consumer checks in the data it receives: the decrypted payloads of
// spec §5.4 (account), §5.5 (balance), §5.6–5.7 (transaction pages) and the userinfo of §3.1.3,
// each field's presence, type, enum, amount format and masking as the spec tables give them.
// Every deviation is one line "path: problem"; values are never quoted, so a report cannot leak
// an account or ID number.

var (
	// amountRE is spec §5.6 "Decimal(10,2) … as a string", the 3P pattern ^\d{1,13}\.\d{2}$.
	amountRE = regexp.MustCompile(`^\d{1,13}\.\d{2}$`)
	// currencyRE is an ISO 4217 alphabetic code.
	currencyRE = regexp.MustCompile(`^[A-Z]{3}$`)
	// maskedCardRE is spec §5.4 / §3.2.1: credit account numbers show the first 6 and last 4
	// digits, the middle as '*'.
	maskedCardRE = regexp.MustCompile(`^\d{6}\*+\d{4}$`)
	// mytRE is an ISO 8601 date-time with the MYT offset (spec §5.6 transaction_date; §3.0).
	mytRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?\+08:00$`)
)

// subtypes are spec §5.4's subtype per type.
var subtypes = map[string][]string{
	"deposit":    {"savings", "current", "pension"},
	"credit":     {"credit_card"},
	"loan":       {"hire_purchase", "mortgage"},
	"investment": {"fund"},
	"ewallet":    {"others"},
}

// submethods are spec §5.6's transfer_submethod per transfer_method.
var submethods = map[string][]string{
	"funds_transfer":    {"duitnow_transfer", "intrabank", "bank_adjustment", "ibg", "shared_atm_network_ibft", "rtgs", "others"},
	"online_payment":    {"fpx", "obw", "duitnow_pay", "debit_card_not_present", "others"},
	"recurring_payment": {"direct_debit", "auto_debit", "others"},
	"bill_payment":      {"jompay", "others"},
	"instore_payment":   {"duitnow_qr", "debit_card", "others"},
	"cheque":            {"espick", "others"},
	"cash_withdrawal":   {"shared_atm_network", "mydebit_cash_out", "dnqr_cash_out", "others"},
	"cash_deposit":      {"shared_atm_network", "others"},
	"others":            {"others"},
}

// obj is a JSON object under validation.
type obj struct {
	path string
	m    map[string]json.RawMessage
	seen map[string]bool
	devs *[]string
}

func (o *obj) bad(field, format string, a ...any) {
	p := o.path
	if field != "" {
		p += "." + field
	}
	*o.devs = append(*o.devs, p+": "+fmt.Sprintf(format, a...))
}

func object(path string, raw json.RawMessage, devs *[]string) (*obj, bool) {
	o := &obj{path: path, seen: map[string]bool{}, devs: devs}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' || json.Unmarshal(raw, &o.m) != nil {
		*devs = append(*devs, path+": not a JSON object")
		return nil, false
	}
	return o, true
}

// get returns a member, noting a missing mandatory one.
func (o *obj) get(name string, required bool) (json.RawMessage, bool) {
	o.seen[name] = true
	raw, ok := o.m[name]
	if ok && string(bytes.TrimSpace(raw)) == "null" {
		ok = false
	}
	if !ok && required {
		o.bad(name, "missing")
	}
	return raw, ok
}

func (o *obj) str(name string, required bool, max int) (string, bool) {
	raw, ok := o.get(name, required)
	if !ok {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		o.bad(name, "not a string")
		return "", false
	}
	if required && s == "" {
		o.bad(name, "empty")
		return "", false
	}
	if max > 0 && utf8.RuneCountInString(s) > max {
		o.bad(name, "longer than %d characters", max)
	}
	return s, true
}

func (o *obj) enum(name string, required bool, allowed ...string) (string, bool) {
	s, ok := o.str(name, required, 0)
	if !ok {
		return "", false
	}
	for _, a := range allowed {
		if s == a {
			return s, true
		}
	}
	o.bad(name, "not one of %v", allowed)
	return "", false
}

func (o *obj) boolean(name string) {
	if raw, ok := o.get(name, true); ok {
		var b bool
		if json.Unmarshal(raw, &b) != nil {
			o.bad(name, "not a boolean")
		}
	}
}

func (o *obj) date(name string, required bool) {
	if s, ok := o.str(name, required, 0); ok {
		if _, err := time.Parse(time.DateOnly, s); err != nil {
			o.bad(name, "not a date YYYY-MM-DD")
		}
	}
}

// amount checks an Amount {amount, currency} (spec §5.6); myr requires currency MYR (spec §5.4
// scope: MYR accounts only).
func (o *obj) amount(name string, required, myr bool) {
	raw, ok := o.get(name, required)
	if !ok {
		return
	}
	a, ok := object(o.path+"."+name, raw, o.devs)
	if !ok {
		return
	}
	if s, ok := a.str("amount", true, 0); ok && !amountRE.MatchString(s) {
		a.bad("amount", `not a decimal string with two decimals (^\d{1,13}\.\d{2}$)`)
	}
	if c, ok := a.str("currency", true, 0); ok {
		if !currencyRE.MatchString(c) {
			a.bad("currency", "not an ISO 4217 code")
		} else if myr && c != "MYR" {
			a.bad("currency", "not MYR")
		}
	}
	a.done()
}

// balanceAmount checks {amount: Amount, credit_debit_indicator} (spec §5.5).
func (o *obj) balanceAmount(name string, required bool) {
	raw, ok := o.get(name, required)
	if !ok {
		return
	}
	b, ok := object(o.path+"."+name, raw, o.devs)
	if !ok {
		return
	}
	b.amount("amount", true, true)
	b.enum("credit_debit_indicator", true, "credit", "debit")
	b.done()
}

// customData checks custom_data: a map of strings, ≤ 20 pairs, keys ≤ 50, values ≤ 300 (spec §5.4).
func (o *obj) customData() {
	raw, ok := o.get("custom_data", false)
	if !ok {
		return
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		o.bad("custom_data", "not an object")
		return
	}
	if len(m) > 20 {
		o.bad("custom_data", "more than 20 pairs")
	}
	for k, v := range m {
		var s string
		switch {
		case utf8.RuneCountInString(k) > 50:
			o.bad("custom_data", "a key longer than 50 characters")
		case json.Unmarshal(v, &s) != nil:
			o.bad("custom_data", "a value that is not a string")
		case utf8.RuneCountInString(s) > 300:
			o.bad("custom_data", "a value longer than 300 characters")
		}
	}
}

// done reports the members the spec does not define (custom_data is the extension point,
// spec §5.4).
func (o *obj) done() {
	var extra []string
	for k := range o.m {
		if !o.seen[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	for _, k := range extra {
		o.bad(k, "not a member of the spec's object (extensions go in custom_data)")
	}
}

// envelope opens {"data": X, "meta": …} and returns X.
func envelope(plaintext []byte, devs *[]string) (json.RawMessage, *obj, bool) {
	top, ok := object("payload", plaintext, devs)
	if !ok {
		return nil, nil, false
	}
	data, ok := top.get("data", true)
	top.get("meta", false)
	top.done()
	return data, top, ok
}

// dataObject opens {"data": {…}} and returns the inner object.
func dataObject(plaintext []byte, devs *[]string) (*obj, bool) {
	data, _, ok := envelope(plaintext, devs)
	if !ok {
		return nil, false
	}
	return object("data", data, devs)
}

// CheckAccount checks a decrypted account payload {"data": Account} (spec §5.4).
func CheckAccount(plaintext []byte) []string {
	var devs []string
	a, ok := dataObject(plaintext, &devs)
	if !ok {
		return devs
	}
	a.str("account_id", true, 36)
	number, _ := a.str("account_number", true, 0)
	a.str("account_name", true, 0)
	a.str("account_holder_name", true, 0)
	a.str("institution_name", true, 0)
	a.enum("category", true, "retail")
	typ, _ := a.enum("type", true, "deposit", "credit", "loan", "investment", "ewallet")
	if typ != "" {
		a.enum("subtype", true, subtypes[typ]...)
	} else {
		a.str("subtype", true, 0)
	}
	if typ == "credit" && number != "" && !maskedCardRE.MatchString(number) {
		a.bad("account_number", "a credit account number not masked as first 6 and last 4 digits")
	}
	if raw, ok := a.get("loan_details", typ == "loan"); ok {
		if l, ok := object("data.loan_details", raw, &devs); ok {
			l.amount("loan_amount", true, true)
			l.date("origination_date", true)
			l.date("maturity_date", true)
			l.done()
		}
	}
	a.amount("limit", typ == "credit", true)
	if raw, ok := a.get("interest_rate", false); ok {
		var f float64
		if bytes.HasPrefix(bytes.TrimSpace(raw), []byte(`"`)) || json.Unmarshal(raw, &f) != nil {
			a.bad("interest_rate", "not a number (a Number since v1.3)")
		}
	}
	a.amount("minimum_payment_amount", false, true)
	a.date("payment_due_date", false)
	a.customData()
	a.done()
	return devs
}

// CheckBalance checks a decrypted balance payload {"data": Balance} (spec §5.5).
func CheckBalance(plaintext []byte) []string {
	var devs []string
	b, ok := dataObject(plaintext, &devs)
	if !ok {
		return devs
	}
	b.str("account_id", true, 36)
	b.boolean("credit_lines_included")
	b.balanceAmount("current_balance", true)
	b.balanceAmount("available_balance", false)
	b.balanceAmount("statement_balance", false)
	b.date("statement_date", false)
	b.customData()
	b.done()
	return devs
}

// CheckTransactionsPage checks a decrypted transactions payload {"data": [Transaction…],
// "meta": {"next_page_params": string|null}} (spec §5.6, §5.7) for the account accountID.
func CheckTransactionsPage(plaintext []byte, accountID string) []string {
	var devs []string
	data, top, ok := envelope(plaintext, &devs)
	if !ok {
		return devs
	}
	var list []json.RawMessage
	if d := bytes.TrimSpace(data); len(d) == 0 || d[0] != '[' || json.Unmarshal(d, &list) != nil {
		return append(devs, "data: not an array")
	}
	if raw, ok := top.m["meta"]; !ok {
		devs = append(devs, "payload.meta: missing (next_page_params, spec §5.7)")
	} else if meta, ok := object("meta", raw, &devs); ok {
		if np, ok := meta.get("next_page_params", true); ok {
			var s string
			if json.Unmarshal(np, &s) != nil {
				meta.bad("next_page_params", "neither a string nor null")
			}
		} else if _, present := meta.m["next_page_params"]; present {
			devs = devs[:len(devs)-1] // null is "no next page"
		}
		meta.done()
	}
	for i, raw := range list {
		t, ok := object(fmt.Sprintf("data[%d]", i), raw, &devs)
		if !ok {
			continue
		}
		if id, ok := t.str("account_id", true, 36); ok && id != accountID {
			t.bad("account_id", "not the account asked for")
		}
		t.str("transaction_id", true, 0)
		if s, ok := t.str("transaction_date", true, 0); ok && !mytRE.MatchString(s) {
			t.bad("transaction_date", "not an ISO 8601 date-time in MYT (+08:00)")
		}
		t.enum("credit_debit_indicator", true, "credit", "debit")
		t.amount("amount", true, true)
		t.amount("foreign_currency_amount", false, false)
		methods := make([]string, 0, len(submethods))
		for m := range submethods {
			methods = append(methods, m)
		}
		sort.Strings(methods)
		if m, ok := t.enum("transfer_method", false, methods...); ok {
			t.enum("transfer_submethod", false, submethods[m]...)
		} else {
			t.str("transfer_submethod", false, 0)
		}
		t.str("description", true, 300)
		t.str("recipient_reference", false, 300)
		t.str("other_payment_description", false, 300)
		t.str("merchant_name", false, 100)
		t.str("mcc", false, 4)
		t.boolean("is_settled")
		t.customData()
		t.done()
	}
	return devs
}

// CheckUserInfo checks a userinfo answer (spec §3.1.3): the OpenID claims as strings,
// email_verified a boolean, sub present, id_type an id type and hashed_id_number an identity
// hash (design.md §3.11) — the two PayNet cross-checks.
func CheckUserInfo(body []byte) []string {
	var devs []string
	u, ok := object("userinfo", body, &devs)
	if !ok {
		return devs
	}
	u.str("sub", true, 0)
	for _, n := range []string{"name", "given_name", "family_name", "preferred_username", "picture", "email"} {
		u.str(n, false, 0)
	}
	if raw, ok := u.get("email_verified", false); ok {
		var b bool
		if json.Unmarshal(raw, &b) != nil {
			u.bad("email_verified", "not a boolean")
		}
	}
	u.enum("id_type", true, string(IDTypeNRIC), string(IDTypePassport))
	if h, ok := u.str("hashed_id_number", true, 0); ok && !IsIDHash(h) {
		u.bad("hashed_id_number", "not standard padded base64 of a SHA-256 hash")
	}
	u.done()
	return devs
}
