package consent

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const testDPID = "DP9876543210"

var testNow = time.Date(2025, 3, 5, 10, 0, 0, 0, time.UTC)

func testRules() Rules { return Rules{DPID: testDPID, Now: testNow} }

// TestParseEventGolden parses every event body in testdata/events (one per event type, the three
// account shapes of design §3.7, the v1.2.1 example of spec §3.1.1) and compares the result with
// its .golden file. Run with -update to rewrite the golden files.
func TestParseEventGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/events/*.json")
	if err != nil || len(files) < 4 {
		t.Fatalf("golden inputs: %v %v", files, err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			ev, err := ParseEvent(raw, testRules())
			if err != nil {
				t.Fatalf("ParseEvent: %v", err)
			}
			if !bytes.Equal(ev.Raw, raw) {
				t.Error("Raw is not the input")
			}
			got, err := json.MarshalIndent(struct {
				Type    EventType `json:"type"`
				Consent Consent   `json:"consent"`
			}{ev.Type, ev.Consent}, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden := strings.TrimSuffix(f, ".json") + ".golden"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("parsed event differs from %s:\n%s", golden, got)
			}
		})
	}
}

func TestParseEventAccountShapes(t *testing.T) {
	read := func(name string) Event {
		t.Helper()
		raw, err := os.ReadFile(filepath.Join("testdata/events", name))
		if err != nil {
			t.Fatal(err)
		}
		ev, err := ParseEvent(raw, testRules())
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
	cases := []struct {
		file string
		want []Account
	}{
		{"consent_updated.json", []Account{ // data.account_access.accounts (schema)
			{AccountID: "acc-xLk3b9Qd0aPz1RrT7uVw2YyZ5cEe", AccountNumber: "1234567890", AccountName: "My Savings Account"},
			{AccountID: "acc-9aB8cD7eF6gH5iJ4kL3mN2oP1qRs", AccountNumber: "123456******7890", AccountName: "Visa Platinum"},
		}},
		{"consent_status_updated.json", []Account{ // data.accounts with account_number (sandbox)
			{AccountID: "acc-xLk3b9Qd0aPz1RrT7uVw2YyZ5cEe", AccountNumber: "1234567890", AccountName: "My Savings Account"},
		}},
		{"v121_example_shape.json", []Account{ // data.accounts with account_reference (v1.2.1 example)
			{AccountID: "acc-550e8400-e29b-41d4-a716-446655440010", AccountNumber: "1234567890", AccountName: "Savings Account"},
		}},
		{"consent_created.json", nil},
	}
	for _, c := range cases {
		if got := read(c.file).Consent.Accounts; !sameAccounts(got, c.want) {
			t.Errorf("%s: accounts %+v, want %+v", c.file, got, c.want)
		}
	}
}

// TestParseEventV121Verbatim: the v1.2.1 page's example uses 39-character dc_id/dp_id, longer than
// the 36 characters of spec §3.0; ParseEvent keeps the limit and names the field.
func TestParseEventV121Verbatim(t *testing.T) {
	raw, err := os.ReadFile("testdata/v121_example_verbatim.json")
	if err != nil {
		t.Fatal(err)
	}
	// Its 39-character dc_id/dp_id are accepted (PayNet's own data, though the schema says ≤ 36);
	// its hashed_id_number placeholder ("xxx…x") decodes to 31 bytes, not a SHA-256 hash, and is refused.
	_, err = ParseEvent(raw, Rules{DPID: "dp-550e8400-e29b-41d4-a716-446655440003", Now: testNow})
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.Field != "data.hashed_id_number" {
		t.Fatalf("err = %v, want a ValidationError on data.hashed_id_number", err)
	}
	long := strings.Replace(string(raw), "dc-550e8400-e29b-41d4-a716-446655440002", strings.Repeat("d", 65), 1)
	if _, err = ParseEvent([]byte(long), Rules{DPID: "dp-550e8400-e29b-41d4-a716-446655440003", Now: testNow}); !errors.As(err, &ve) || ve.Field != "data.dc_id" {
		t.Fatalf("err = %v, want a ValidationError on a 65-character data.dc_id", err)
	}
}

// base returns the consent_created golden body as a generic map to mutate.
func base(t *testing.T) map[string]any {
	t.Helper()
	raw, err := os.ReadFile("testdata/events/consent_created.json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

type deleted struct{}

// set puts v at a dotted path ("data.consent_id"); deleted{} removes the member.
func set(m map[string]any, path string, v any) {
	parts := strings.Split(path, ".")
	cur := m
	for _, p := range parts[:len(parts)-1] {
		next, ok := cur[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			cur[p] = next
		}
		cur = next
	}
	last := parts[len(parts)-1]
	if _, ok := v.(deleted); ok {
		delete(cur, last)
		return
	}
	cur[last] = v
}

func TestParseEventFieldRules(t *testing.T) {
	acct := func(id, num string) map[string]any {
		return map[string]any{"account_id": id, "account_number": num, "account_name": "Savings"}
	}
	future := func(d time.Duration) string { return testNow.Add(d).Format(time.RFC3339) }
	type change struct {
		path string
		v    any
	}
	cases := []struct {
		name    string
		changes []change
		field   string // "" = must be accepted
	}{
		{"valid", nil, ""},
		// event_type
		{"event_type missing", []change{{"event_type", deleted{}}}, "event_type"},
		{"event_type null", []change{{"event_type", nil}}, "event_type"},
		{"event_type empty", []change{{"event_type", ""}}, "event_type"},
		{"event_type number", []change{{"event_type", 1}}, "event_type"},
		{"event_type unspecified", []change{{"event_type", "consent_event_type_unspecified"}}, "event_type"},
		{"event_type upper case", []change{{"event_type", "CONSENT_CREATED"}}, "event_type"},
		{"unknown top-level member ignored", []change{{"extra", map[string]any{"x": 1}}}, ""},
		// data
		{"data missing", []change{{"data", deleted{}}}, "data"},
		{"data null", []change{{"data", nil}}, "data"},
		{"data array", []change{{"data", []any{}}}, "data"},
		{"data string", []change{{"data", "{}"}}, "data"},
		// consent_id (C5, C7)
		{"consent_id missing", []change{{"data.consent_id", deleted{}}}, "data.consent_id"},
		{"consent_id null", []change{{"data.consent_id", nil}}, "data.consent_id"},
		{"consent_id empty", []change{{"data.consent_id", ""}}, "data.consent_id"},
		{"consent_id number", []change{{"data.consent_id", 123}}, "data.consent_id"},
		{"consent_id fraction", []change{{"data.consent_id", 1.5}}, "data.consent_id"},
		{"consent_id not uuid", []change{{"data.consent_id", "consent-1"}}, "data.consent_id"},
		{"consent_id without dashes", []change{{"data.consent_id", "18ce19c885be4049899c21cdc02cde79"}}, "data.consent_id"},
		{"consent_id braces", []change{{"data.consent_id", "{18ce19c8-85be-4049-899c-21cdc02cde79}"}}, "data.consent_id"},
		{"consent_id urn", []change{{"data.consent_id", "urn:uuid:18ce19c8-85be-4049-899c-21cdc02cde79"}}, "data.consent_id"},
		{"consent_id bad hex", []change{{"data.consent_id", "18ce19c8-85be-4049-899c-21cdc02cde7g"}}, "data.consent_id"},
		{"consent_id nil uuid", []change{{"data.consent_id", "00000000-0000-0000-0000-000000000000"}}, "data.consent_id"},
		{"consent_id upper case accepted", []change{{"data.consent_id", "18CE19C8-85BE-4049-899C-21CDC02CDE79"}}, ""},
		// dc_id, dp_id
		{"dc_id missing", []change{{"data.dc_id", deleted{}}}, "data.dc_id"},
		{"dc_id empty", []change{{"data.dc_id", ""}}, "data.dc_id"},
		{"dc_id 65 chars", []change{{"data.dc_id", strings.Repeat("D", 65)}}, "data.dc_id"},
		{"dc_id 64 chars (PayNet examples exceed the documented 36)", []change{{"data.dc_id", strings.Repeat("D", 64)}}, ""},
		{"dc_id space", []change{{"data.dc_id", "DC 1"}}, "data.dc_id"},
		{"dc_id non-ascii", []change{{"data.dc_id", "DCé"}}, "data.dc_id"},
		{"dc_id control", []change{{"data.dc_id", "DC\n1"}}, "data.dc_id"},
		{"dc_id array", []change{{"data.dc_id", []any{"DC1"}}}, "data.dc_id"},
		{"dp_id other DP", []change{{"data.dp_id", "DP0000000000"}}, "data.dp_id"},
		{"dp_id null", []change{{"data.dp_id", nil}}, "data.dp_id"},
		// identity
		{"id_type unspecified", []change{{"data.id_type", "id_type_unspecified"}}, "data.id_type"},
		{"id_type upper", []change{{"data.id_type", "NRIC"}}, "data.id_type"},
		{"id_type empty", []change{{"data.id_type", ""}}, "data.id_type"},
		{"id_type missing with hash", []change{{"data.id_type", deleted{}}}, "data.id_type"},
		{"id_type null with hash", []change{{"data.id_type", nil}}, "data.id_type"},
		{"no identity at all", []change{{"data.id_type", deleted{}}, {"data.hashed_id_number", deleted{}}}, ""},
		{"id_type without hash", []change{{"data.hashed_id_number", deleted{}}}, ""},
		{"hash 43 chars", []change{{"data.hashed_id_number", "6UFs4WIYqsZrz1XHJ8+sLn4X7Hj/5vXZZYBEDVmBWaM"}}, "data.hashed_id_number"},
		{"hash base64url", []change{{"data.hashed_id_number", "6UFs4WIYqsZrz1XHJ8-sLn4X7Hj_5vXZZYBEDVmBWaM="}}, "data.hashed_id_number"},
		{"hash 33 bytes", []change{{"data.hashed_id_number", "6UFs4WIYqsZrz1XHJ8+sLn4X7Hj/5vXZZYBEDVmBWaMA"}}, "data.hashed_id_number"},
		{"hash empty", []change{{"data.hashed_id_number", ""}}, "data.hashed_id_number"},
		{"hash number", []change{{"data.hashed_id_number", 7}}, "data.hashed_id_number"},
		// consent_type (spec §9 item 5), purpose
		{"consent_type short form", []change{{"data.consent_type", "account_access_consent"}}, ""},
		{"consent_type unspecified", []change{{"data.consent_type", "consent_type_unspecified"}}, "data.consent_type"},
		{"consent_type unknown", []change{{"data.consent_type", "payment_consent"}}, "data.consent_type"},
		{"consent_type missing", []change{{"data.consent_type", deleted{}}}, "data.consent_type"},
		{"purpose credit", []change{{"data.consent_purpose", "credit_underwriting"}}, ""},
		{"purpose unspecified", []change{{"data.consent_purpose", "consent_purpose_unspecified"}}, "data.consent_purpose"},
		{"purpose prose name", []change{{"data.consent_purpose", "personal_finance_management"}}, "data.consent_purpose"},
		{"purpose number", []change{{"data.consent_purpose", 1}}, "data.consent_purpose"},
		// permissions
		{"permissions missing", []change{{"data.permissions", deleted{}}}, "data.permissions"},
		{"permissions null", []change{{"data.permissions", nil}}, "data.permissions"},
		{"permissions empty", []change{{"data.permissions", []any{}}}, "data.permissions"},
		{"permissions string", []change{{"data.permissions", "read_accounts"}}, "data.permissions"},
		{"permissions object", []change{{"data.permissions", map[string]any{}}}, "data.permissions"},
		{"permissions duplicate", []change{{"data.permissions", []any{"read_accounts", "read_accounts"}}}, "data.permissions[1]"},
		{"permissions unspecified", []change{{"data.permissions", []any{"consent_permission_unspecified"}}}, "data.permissions[0]"},
		{"permissions unknown", []change{{"data.permissions", []any{"read_balances", "write_payments"}}}, "data.permissions[1]"},
		{"permissions number", []change{{"data.permissions", []any{1}}}, "data.permissions[0]"},
		{"permissions fraction", []change{{"data.permissions", []any{0.5}}}, "data.permissions[0]"},
		{"permissions null item", []change{{"data.permissions", []any{nil}}}, "data.permissions[0]"},
		{"permissions empty item", []change{{"data.permissions", []any{""}}}, "data.permissions[0]"},
		{"permissions one", []change{{"data.permissions", []any{"read_balances"}}}, ""},
		// status
		{"status missing", []change{{"data.status", deleted{}}}, "data.status"},
		{"status unspecified", []change{{"data.status", "consent_status_unspecified"}}, "data.status"},
		{"status capitalised", []change{{"data.status", "Authorized"}}, "data.status"},
		{"status bool", []change{{"data.status", true}}, "data.status"},
		{"status_reason null", []change{{"data.status_reason", nil}}, ""},
		{"status_reason ok", []change{{"data.status_reason", map[string]any{"reason_code": "timeout"}}}, ""},
		{"status_reason string", []change{{"data.status_reason", "timeout"}}, "data.status_reason"},
		{"status_reason array", []change{{"data.status_reason", []any{}}}, "data.status_reason"},
		{"status_reason no code", []change{{"data.status_reason", map[string]any{}}}, "data.status_reason.reason_code"},
		{"status_reason unspecified", []change{{"data.status_reason", map[string]any{"reason_code": "consent_status_reason_code_unspecified"}}}, "data.status_reason.reason_code"},
		{"status_reason unknown", []change{{"data.status_reason", map[string]any{"reason_code": "because"}}}, "data.status_reason.reason_code"},
		{"status_reason description number", []change{{"data.status_reason", map[string]any{"reason_code": "timeout", "reason_description": 5}}}, "data.status_reason.reason_description"},
		{"status_reason description control", []change{{"data.status_reason", map[string]any{"reason_code": "timeout", "reason_description": "a\u0000b"}}}, "data.status_reason.reason_description"},
		{"status_reason description too long", []change{{"data.status_reason", map[string]any{"reason_code": "timeout", "reason_description": strings.Repeat("x", 1025)}}}, "data.status_reason.reason_description"},
		{"updated_by unspecified", []change{{"data.updated_by", "consent_updated_by_unspecified"}}, "data.updated_by"},
		{"updated_by empty", []change{{"data.updated_by", ""}}, "data.updated_by"},
		{"updated_by missing", []change{{"data.updated_by", deleted{}}}, ""},
		// timestamps (C6)
		{"expiry missing", []change{{"data.expiration_datetime", deleted{}}}, "data.expiration_datetime"},
		{"expiry null", []change{{"data.expiration_datetime", nil}}, "data.expiration_datetime"},
		{"expiry number", []change{{"data.expiration_datetime", 1767225599}}, "data.expiration_datetime"},
		{"expiry epoch string", []change{{"data.expiration_datetime", "1767225599"}}, "data.expiration_datetime"},
		{"expiry no zone", []change{{"data.expiration_datetime", "2026-03-04T23:59:59"}}, "data.expiration_datetime"},
		{"expiry date only", []change{{"data.expiration_datetime", "2026-03-04"}}, "data.expiration_datetime"},
		{"expiry space", []change{{"data.expiration_datetime", "2026-03-04 23:59:59Z"}}, "data.expiration_datetime"},
		{"expiry lower case", []change{{"data.expiration_datetime", "2026-03-04t23:59:59z"}}, "data.expiration_datetime"},
		{"expiry basic offset", []change{{"data.expiration_datetime", "2026-03-04T23:59:59+0800"}}, "data.expiration_datetime"},
		{"expiry month 13", []change{{"data.expiration_datetime", "2026-13-04T23:59:59Z"}}, "data.expiration_datetime"},
		{"expiry hour 24", []change{{"data.expiration_datetime", "2026-03-04T24:00:00Z"}}, "data.expiration_datetime"},
		{"expiry http date", []change{{"data.expiration_datetime", "Wed, 04 Mar 2026 23:59:59 GMT"}}, "data.expiration_datetime"},
		{"expiry fraction accepted", []change{{"data.expiration_datetime", "2026-03-04T23:59:59.5Z"}}, ""},
		{"expiry equals created", []change{{"data.expiration_datetime", "2025-03-05T08:00:00Z"}}, "data.expiration_datetime"},
		{"expiry before created", []change{{"data.expiration_datetime", "2025-03-05T07:59:59Z"}}, "data.expiration_datetime"},
		{"created_at missing", []change{{"data.created_at", deleted{}}}, "data.created_at"},
		{"created_at 6 min ahead", []change{{"data.created_at", future(6 * time.Minute)}, {"data.updated_at", future(6 * time.Minute)}}, "data.created_at"},
		{"created_at 4 min ahead", []change{{"data.created_at", future(4 * time.Minute)}, {"data.updated_at", future(4 * time.Minute)}}, ""},
		{"updated_at missing", []change{{"data.updated_at", deleted{}}}, "data.updated_at"},
		{"updated_at before created", []change{{"data.updated_at", "2025-03-05T07:59:59Z"}}, "data.updated_at"},
		{"updated_at 6 min ahead", []change{{"data.updated_at", future(6 * time.Minute)}}, "data.updated_at"},
		// accounts (design §3.7)
		{"accounts empty array", []change{{"data.accounts", []any{}}}, ""},
		{"accounts null", []change{{"data.accounts", nil}}, ""},
		{"accounts string", []change{{"data.accounts", "x"}}, "data.accounts"},
		{"accounts item string", []change{{"data.accounts", []any{"x"}}}, "data.accounts[0]"},
		{"accounts item no id", []change{{"data.accounts", []any{map[string]any{"account_number": "1"}}}}, "data.accounts[0].account_id"},
		{"accounts id empty", []change{{"data.accounts", []any{acct("", "1")}}}, "data.accounts[0].account_id"},
		{"accounts id too long", []change{{"data.accounts", []any{acct(strings.Repeat("a", 65), "1")}}}, "data.accounts[0].account_id"},
		{"accounts duplicate id", []change{{"data.accounts", []any{acct("a1", "1"), acct("a1", "2")}}}, "data.accounts[1].account_id"},
		{"accounts number fraction", []change{{"data.accounts", []any{map[string]any{"account_id": "a1", "account_number": 1.5}}}}, "data.accounts[0].account_number"},
		{"accounts number and reference differ", []change{{"data.accounts", []any{map[string]any{"account_id": "a1", "account_number": "1", "account_reference": "2"}}}}, "data.accounts[0].account_reference"},
		{"accounts number and reference same", []change{{"data.accounts", []any{map[string]any{"account_id": "a1", "account_number": "1", "account_reference": "1"}}}}, ""},
		{"accounts name number", []change{{"data.accounts", []any{map[string]any{"account_id": "a1", "account_name": 3}}}}, "data.accounts[0].account_name"},
		{"account_access string", []change{{"data.account_access", "x"}}, "data.account_access"},
		{"account_access accounts object", []change{{"data.account_access", map[string]any{"accounts": map[string]any{}}}}, "data.account_access.accounts"},
		{"account_access without accounts", []change{{"data.account_access", map[string]any{}}}, ""},
		{"both shapes agree", []change{{"data.accounts", []any{acct("a1", "1")}}, {"data.account_access", map[string]any{"accounts": []any{acct("a1", "1")}}}}, ""},
		{"both shapes differ", []change{{"data.accounts", []any{acct("a1", "1")}}, {"data.account_access", map[string]any{"accounts": []any{acct("a2", "1")}}}}, "data.accounts"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := base(t)
			for _, ch := range c.changes {
				set(m, ch.path, ch.v)
			}
			raw, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			_, err = ParseEvent(raw, testRules())
			checkField(t, err, c.field)
		})
	}
}

func checkField(t *testing.T, err error, field string) {
	t.Helper()
	if field == "" {
		if err != nil {
			t.Fatalf("refused: %v", err)
		}
		return
	}
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v, want a *ValidationError on %s", err, field)
	}
	if ve.Field != field {
		t.Fatalf("field %q (%s), want %q", ve.Field, ve.Problem, field)
	}
	if !errors.Is(err, ErrInvalidEvent) {
		t.Fatal("ValidationError does not unwrap to ErrInvalidEvent")
	}
}

func TestParseEventRawBodies(t *testing.T) {
	good, err := os.ReadFile("testdata/events/consent_created.json")
	if err != nil {
		t.Fatal(err)
	}
	g := string(good)
	cases := []struct {
		name, body, field string
	}{
		{"empty", "", ""},
		{"null", "null", ""},
		{"array", "[]", ""},
		{"string", `"x"`, ""},
		{"empty object", "{}", "event_type"},
		{"truncated", g[:len(g)/2], ""},
		{"trailing object", g + "{}", ""},
		{"trailing garbage", g + "x", ""},
		{"invalid utf-8", strings.Replace(g, "DC1234567890", "DC\xff", 1), ""},
		{"duplicate top-level member", `{"event_type":"consent_created","event_type":"consent_updated","data":{}}`, ""},
		{"duplicate data member", strings.Replace(g, `"dc_id": "DC1234567890",`, `"dc_id": "DC1234567890", "dc_id": "DC2",`, 1), "data"},
		{"case-folded member name not matched", strings.Replace(g, `"dc_id"`, `"DC_ID"`, 1), "data.dc_id"},
		{"too large", `{"pad":"` + strings.Repeat("x", MaxEventSize) + `"}`, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseEvent([]byte(c.body), testRules())
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v, want a *ValidationError", err)
			}
			if ve.Field != c.field {
				t.Fatalf("field %q (%s), want %q", ve.Field, ve.Problem, c.field)
			}
		})
	}
	// Whitespace around the object is fine.
	if _, err := ParseEvent([]byte("\n "+g+"\n"), testRules()); err != nil {
		t.Fatal(err)
	}
}

// TestValidationErrorNoValues: the error text never carries what was sent (it may be PII).
func TestValidationErrorNoValues(t *testing.T) {
	secret := "SECRET-VALUE-123"
	for _, path := range []string{"data.dc_id", "data.hashed_id_number", "data.consent_id", "data.status", "data.created_at"} {
		m := base(t)
		set(m, path, secret+" \x01")
		raw, _ := json.Marshal(m)
		_, err := ParseEvent(raw, testRules())
		if err == nil || strings.Contains(err.Error(), "SECRET") {
			t.Errorf("%s: %v", path, err)
		}
	}
	m := base(t)
	set(m, "data.accounts", []any{map[string]any{"account_id": "a1", "account_number": "1", "account_reference": secret}})
	raw, _ := json.Marshal(m)
	if _, err := ParseEvent(raw, testRules()); err == nil || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("accounts: %v", err)
	}
}

func TestParseEventZeroNow(t *testing.T) {
	m := base(t)
	set(m, "data.created_at", time.Now().Add(time.Minute).UTC().Format(time.RFC3339))
	set(m, "data.updated_at", time.Now().Add(time.Minute).UTC().Format(time.RFC3339))
	set(m, "data.expiration_datetime", time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
	raw, _ := json.Marshal(m)
	if _, err := ParseEvent(raw, Rules{DPID: testDPID}); err != nil {
		t.Fatalf("zero Now must mean the wall clock: %v", err)
	}
	set(m, "data.created_at", time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
	set(m, "data.expiration_datetime", time.Now().Add(2*time.Hour).UTC().Format(time.RFC3339))
	raw, _ = json.Marshal(m)
	if _, err := ParseEvent(raw, Rules{DPID: testDPID}); err == nil {
		t.Fatal("created_at an hour ahead of the wall clock accepted")
	}
}

func FuzzParseEvent(f *testing.F) {
	files, _ := filepath.Glob("testdata/events/*.json")
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		ev, err := ParseEvent(raw, testRules())
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("error is not a *ValidationError: %v", err)
			}
			return
		}
		c := ev.Consent
		if !ev.Type.Valid() || !c.Status.Valid() || !c.Purpose.Valid() || len(c.Permissions) == 0 ||
			c.DPID != testDPID || c.ConsentID == "" || c.DCID == "" || !bytes.Equal(ev.Raw, raw) {
			t.Fatalf("accepted an invalid event: %+v", ev)
		}
		if c.HashedIDNumber != "" && !c.IDType.Valid() {
			t.Fatal("hashed_id_number without id_type")
		}
		if !c.ExpirationDatetime.After(c.CreatedAt) || c.UpdatedAt.Before(c.CreatedAt) {
			t.Fatal("timestamps out of order")
		}
		// Parsing is deterministic, and an event is always a duplicate of itself.
		again, err := ParseEvent(raw, testRules())
		if err != nil || !sameContent(&again.Consent, &c) {
			t.Fatal("not deterministic")
		}
		d, err := Decide(&c, nil, ev)
		if err != nil || d.Action != ActionDuplicate {
			t.Fatalf("Decide(self) = %v, %v", d.Action, err)
		}
	})
}
