package consent

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Event is a parsed and validated consent event (spec §3.1.1): the event type, the whole consent as
// PayNet sends it now (design §3.6), and the exact bytes it was parsed from.
type Event struct {
	Type    EventType
	Consent Consent
	Raw     []byte
}

// Rules are what ParseEvent checks an event against besides its own consistency.
type Rules struct {
	// DPID is this data provider's dp_id; an event for another DP is refused (design §3.6).
	DPID string
	// Now is the current time, for the "created_at not in the future" rule (negative-tests C6).
	// The zero time means time.Now().
	Now time.Time
}

// MaxEventSize bounds the size of an event body ParseEvent accepts.
const MaxEventSize = 1 << 20

// MaxClockSkew is how far in the future of Rules.Now an event's created_at and updated_at may be.
const MaxClockSkew = 5 * time.Minute

// Field limits of spec §5.1 and §3.0. consent_id is a UUID (≤ 36). dc_id and dp_id are documented as
// ≤ 36 characters, but PayNet's own v1.2.1 example event carries 39-character ones
// ("dc-550e8400-…"), so they are allowed up to maxPartyIDLen rather than refusing PayNet's data.
// Account fields have no limit in the spec; the ones below only bound what is stored.
const (
	maxIDLen          = 36
	maxPartyIDLen     = 64
	maxAccountIDLen   = 64
	maxAccountNumLen  = 64
	maxAccountNameLen = 256
	maxReasonDescLen  = 1024
	maxAccounts       = 100
	hashedIDLen       = 44
)

// ErrInvalidEvent is the sentinel every *ValidationError unwraps to.
var ErrInvalidEvent = errors.New("invalid consent event")

// ValidationError is a consent event that breaks a rule of spec §3.1.1/§5.1. Field is the JSON path of
// the offending member ("data.permissions[1]") and Problem says what is wrong. Neither ever carries
// a value taken from the event, so the text is safe to return to the caller and to log.
type ValidationError struct {
	Field, Problem string
}

func (e *ValidationError) Error() string {
	if e.Field == "" {
		return "invalid consent event: " + e.Problem
	}
	return "invalid consent event: " + e.Field + ": " + e.Problem
}

// Unwrap makes errors.Is(err, ErrInvalidEvent) true.
func (e *ValidationError) Unwrap() error { return ErrInvalidEvent }

func invalid(field, problem string) *ValidationError {
	return &ValidationError{Field: field, Problem: problem}
}

// Values of spec §5.1 that the Consent type keeps as plain strings.
var (
	consentTypes = map[string]bool{TypeAccountAccess: true, TypeAccountAccessURN: true}
	// reasonCodes are the status_reason.reason_code values of spec §5.1.
	reasonCodes = map[string]bool{
		"inactive_account": true, "inactive_provider": true, "not_allowed": true, "internal_error": true,
		"format_error": true, "timeout": true, "provider_error": true, "duplicate": true, "validation_error": true,
	}
	// updatedBy are the updated_by values of spec §5.1.
	updatedBy = map[string]bool{
		"data_consumer": true, "data_consumer_user": true, "ofp": true, "ofp_user": true,
		"data_provider": true, "data_provider_user": true,
	}
	uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	// rfc3339RE is RFC 3339 §5.6 date-time with upper-case "T"/"Z" and a mandatory zone (spec §3.0).
	rfc3339RE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$`)
)

// ParseEvent parses and validates the body of POST /v1/consents/events (spec §3.1.1) into an Event.
//
// It is strict on everything it reads: the body is one UTF-8 JSON object without duplicate member
// names; event_type is a known type (never consent_event_type_unspecified, §9 item 6); data is the
// Consent object of §5.1 where null, empty strings, wrong JSON types, empty arrays and fractional
// numbers are refused (negative-tests C5), timestamps are RFC 3339 with a zone (C6), consent_id is a
// UUID (C7), dp_id is rules.DPID (design §3.6), and the accounts are read in the three shapes of
// design §3.7. Unknown members are ignored. Every refusal is a *ValidationError.
func ParseEvent(raw []byte, rules Rules) (Event, error) {
	now := rules.Now
	if now.IsZero() {
		now = time.Now()
	}
	if len(raw) > MaxEventSize {
		return Event{}, invalid("", "body too large")
	}
	if !utf8.Valid(raw) {
		return Event{}, invalid("", "body is not valid UTF-8")
	}
	top, err := parseTopObject(raw)
	if err != nil {
		return Event{}, err
	}
	et, err := reqString(top, "", "event_type")
	if err != nil {
		return Event{}, err
	}
	typ := EventType(et)
	if !typ.Valid() {
		return Event{}, invalid("event_type", "unknown or unspecified event type")
	}
	dataRaw, ok := top["data"]
	if !ok {
		return Event{}, invalid("data", "is required")
	}
	data, err := parseObject(dataRaw, "data")
	if err != nil {
		return Event{}, err
	}
	c, err := parseConsent(data, rules.DPID, now)
	if err != nil {
		return Event{}, err
	}
	return Event{Type: typ, Consent: c, Raw: bytes.Clone(raw)}, nil
}

func parseConsent(d map[string]json.RawMessage, dpID string, now time.Time) (Consent, error) {
	var c Consent
	var err error

	// Identifiers (spec §5.1, §3.0; negative-tests C7).
	if c.ConsentID, err = reqString(d, "data", "consent_id"); err != nil {
		return c, err
	}
	if !uuidRE.MatchString(c.ConsentID) || strings.Trim(c.ConsentID, "0-") == "" {
		return c, invalid("data.consent_id", "must be a UUID")
	}
	if c.DCID, err = reqString(d, "data", "dc_id"); err != nil {
		return c, err
	}
	if err := checkID("data.dc_id", c.DCID, maxPartyIDLen); err != nil {
		return c, err
	}
	if c.DPID, err = reqString(d, "data", "dp_id"); err != nil {
		return c, err
	}
	if err := checkID("data.dp_id", c.DPID, maxPartyIDLen); err != nil {
		return c, err
	}
	if c.DPID != dpID {
		return c, invalid("data.dp_id", "does not name this data provider")
	}

	// Customer identity (design §3.11).
	idType, hasIDType, err := optString(d, "data", "id_type")
	if err != nil {
		return c, err
	}
	if hasIDType {
		c.IDType = IDType(idType)
		if !c.IDType.Valid() {
			return c, invalid("data.id_type", "unknown or unspecified id type")
		}
	}
	hashed, hasHashed, err := optString(d, "data", "hashed_id_number")
	if err != nil {
		return c, err
	}
	if hasHashed {
		if len(hashed) != hashedIDLen {
			return c, invalid("data.hashed_id_number", "must be standard base64 of a SHA-256 hash (44 characters)")
		}
		sum, err := base64.StdEncoding.Strict().DecodeString(hashed)
		if err != nil || len(sum) != 32 {
			return c, invalid("data.hashed_id_number", "must be standard base64 of a SHA-256 hash (44 characters)")
		}
		if !hasIDType {
			return c, invalid("data.id_type", "is required when hashed_id_number is present")
		}
		c.HashedIDNumber = hashed
	}

	// What is consented to.
	if c.ConsentType, err = reqString(d, "data", "consent_type"); err != nil {
		return c, err
	}
	if !consentTypes[c.ConsentType] {
		return c, invalid("data.consent_type", "unknown or unspecified consent type")
	}
	purpose, err := reqString(d, "data", "consent_purpose")
	if err != nil {
		return c, err
	}
	c.Purpose = Purpose(purpose)
	if !c.Purpose.Valid() {
		return c, invalid("data.consent_purpose", "unknown or unspecified purpose")
	}
	if c.Permissions, err = parsePermissions(d); err != nil {
		return c, err
	}

	// Status.
	status, err := reqString(d, "data", "status")
	if err != nil {
		return c, err
	}
	c.Status = Status(status)
	if !c.Status.Valid() {
		return c, invalid("data.status", "unknown or unspecified status")
	}
	if c.StatusReason, err = parseStatusReason(d); err != nil {
		return c, err
	}
	by, hasBy, err := optString(d, "data", "updated_by")
	if err != nil {
		return c, err
	}
	if hasBy {
		if !updatedBy[by] {
			return c, invalid("data.updated_by", "unknown or unspecified value")
		}
		c.UpdatedBy = by
	}

	// Timestamps (negative-tests C6).
	if c.ExpirationDatetime, err = reqTime(d, "expiration_datetime"); err != nil {
		return c, err
	}
	if c.CreatedAt, err = reqTime(d, "created_at"); err != nil {
		return c, err
	}
	if c.UpdatedAt, err = reqTime(d, "updated_at"); err != nil {
		return c, err
	}
	if c.CreatedAt.After(now.Add(MaxClockSkew)) {
		return c, invalid("data.created_at", "is in the future")
	}
	if c.UpdatedAt.After(now.Add(MaxClockSkew)) {
		return c, invalid("data.updated_at", "is in the future")
	}
	if !c.ExpirationDatetime.After(c.CreatedAt) {
		return c, invalid("data.expiration_datetime", "must be after created_at")
	}
	if c.UpdatedAt.Before(c.CreatedAt) {
		return c, invalid("data.updated_at", "must not be before created_at")
	}

	if c.Accounts, err = parseAccounts(d); err != nil {
		return c, err
	}
	return c, nil
}

func parsePermissions(d map[string]json.RawMessage) ([]Permission, error) {
	items, err := reqArray(d, "data", "permissions")
	if err != nil {
		return nil, err
	}
	perms := make([]Permission, 0, len(items))
	for i, it := range items {
		field := fmt.Sprintf("data.permissions[%d]", i)
		s, err := stringValue(it, field)
		if err != nil {
			return nil, err
		}
		p := Permission(s)
		if !p.Valid() {
			return nil, invalid(field, "unknown or unspecified permission")
		}
		for _, q := range perms {
			if q == p {
				return nil, invalid(field, "duplicate permission")
			}
		}
		perms = append(perms, p)
	}
	return perms, nil
}

func parseStatusReason(d map[string]json.RawMessage) (*StatusReason, error) {
	raw, ok := d["status_reason"]
	if !ok || isNull(raw) {
		return nil, nil
	}
	m, err := parseObject(raw, "data.status_reason")
	if err != nil {
		return nil, err
	}
	code, err := reqString(m, "data.status_reason", "reason_code")
	if err != nil {
		return nil, err
	}
	if !reasonCodes[code] {
		return nil, invalid("data.status_reason.reason_code", "unknown or unspecified reason code")
	}
	desc, _, err := optStringMaybeEmpty(m, "data.status_reason", "reason_description")
	if err != nil {
		return nil, err
	}
	if err := checkText("data.status_reason.reason_description", desc, maxReasonDescLen); err != nil {
		return nil, err
	}
	return &StatusReason{ReasonCode: code, ReasonDescription: desc}, nil
}

// parseAccounts reads the consent's accounts in the three shapes of design §3.7 / spec §9 item 4:
// data.account_access.accounts[{account_id, account_number, account_name}] (schema),
// data.accounts[{account_id, account_reference, account_name}] (v1.2.1 example) and
// data.accounts[{account_id, account_number, account_name}] (sandbox). When both places are
// present they must list the same accounts.
func parseAccounts(d map[string]json.RawMessage) ([]Account, error) {
	var fromAccess, fromTop []Account
	var hasAccess, hasTop bool
	if raw, ok := d["account_access"]; ok && !isNull(raw) {
		m, err := parseObject(raw, "data.account_access")
		if err != nil {
			return nil, err
		}
		if ar, ok := m["accounts"]; ok && !isNull(ar) {
			if fromAccess, err = parseAccountList(ar, "data.account_access.accounts"); err != nil {
				return nil, err
			}
			hasAccess = true
		}
	}
	if raw, ok := d["accounts"]; ok && !isNull(raw) {
		var err error
		if fromTop, err = parseAccountList(raw, "data.accounts"); err != nil {
			return nil, err
		}
		hasTop = true
	}
	switch {
	case hasAccess && hasTop:
		if !sameAccounts(fromAccess, fromTop) {
			return nil, invalid("data.accounts", "differs from data.account_access.accounts")
		}
		return fromAccess, nil
	case hasAccess:
		return fromAccess, nil
	default:
		return fromTop, nil
	}
}

func parseAccountList(raw json.RawMessage, path string) ([]Account, error) {
	items, err := arrayValue(raw, path)
	if err != nil {
		return nil, err
	}
	if len(items) > maxAccounts {
		return nil, invalid(path, "too many accounts")
	}
	if len(items) == 0 {
		return nil, nil
	}
	out := make([]Account, 0, len(items))
	for i, it := range items {
		p := fmt.Sprintf("%s[%d]", path, i)
		m, err := parseObject(it, p)
		if err != nil {
			return nil, err
		}
		var a Account
		if a.AccountID, err = reqString(m, p, "account_id"); err != nil {
			return nil, err
		}
		if err := checkID(p+".account_id", a.AccountID, maxAccountIDLen); err != nil {
			return nil, err
		}
		num, hasNum, err := optString(m, p, "account_number")
		if err != nil {
			return nil, err
		}
		ref, hasRef, err := optString(m, p, "account_reference")
		if err != nil {
			return nil, err
		}
		if hasNum && hasRef && num != ref {
			return nil, invalid(p+".account_reference", "differs from account_number")
		}
		a.AccountNumber = num
		if !hasNum {
			a.AccountNumber = ref
		}
		if a.AccountNumber != "" {
			if err := checkID(p+".account_number", a.AccountNumber, maxAccountNumLen); err != nil {
				return nil, err
			}
		}
		if a.AccountName, _, err = optStringMaybeEmpty(m, p, "account_name"); err != nil {
			return nil, err
		}
		if err := checkText(p+".account_name", a.AccountName, maxAccountNameLen); err != nil {
			return nil, err
		}
		for _, b := range out {
			if b.AccountID == a.AccountID {
				return nil, invalid(p+".account_id", "duplicate account")
			}
		}
		out = append(out, a)
	}
	return out, nil
}

func sameAccounts(a, b []Account) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// checkID accepts 1..max printable ASCII characters without spaces.
func checkID(field, s string, max int) error {
	if len(s) > max {
		return invalid(field, fmt.Sprintf("must be at most %d characters", max))
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return invalid(field, "must be printable ASCII without spaces")
		}
	}
	return nil
}

// checkText accepts free text without control characters, at most max runes.
func checkText(field, s string, max int) error {
	if utf8.RuneCountInString(s) > max {
		return invalid(field, fmt.Sprintf("must be at most %d characters", max))
	}
	for _, r := range s {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return invalid(field, "must not contain control characters")
		}
	}
	return nil
}

// ---- strict JSON reading ----

// parseTopObject reads the whole body as one JSON object with nothing after it.
func parseTopObject(raw []byte) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	m, err := readObject(dec, "")
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, invalid("", "trailing data after the JSON object")
	}
	return m, nil
}

// parseObject reads raw (a complete JSON value) as an object.
func parseObject(raw json.RawMessage, path string) (map[string]json.RawMessage, error) {
	if isNull(raw) {
		return nil, invalid(path, "must not be null")
	}
	if firstByte(raw) != '{' {
		return nil, invalid(path, "must be an object")
	}
	return readObject(json.NewDecoder(bytes.NewReader(raw)), path)
}

// readObject reads one object from dec, refusing duplicate member names (RFC 8259 §4 leaves them
// undefined; two readers must never see two different events in one signed body).
func readObject(dec *json.Decoder, path string) (map[string]json.RawMessage, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, invalid(path, "malformed JSON")
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		if path == "" {
			return nil, invalid("", "body must be a JSON object")
		}
		return nil, invalid(path, "must be an object")
	}
	m := make(map[string]json.RawMessage)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, invalid(path, "malformed JSON")
		}
		key, ok := tok.(string)
		if !ok {
			return nil, invalid(path, "malformed JSON")
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, invalid(path, "malformed JSON")
		}
		if _, dup := m[key]; dup {
			return nil, invalid(path, "duplicate member name")
		}
		m[key] = v
	}
	if _, err := dec.Token(); err != nil {
		return nil, invalid(path, "malformed JSON")
	}
	return m, nil
}

func firstByte(raw json.RawMessage) byte {
	t := bytes.TrimLeft(raw, " \t\r\n")
	if len(t) == 0 {
		return 0
	}
	return t[0]
}

func isNull(raw json.RawMessage) bool {
	return bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// stringValue decodes a JSON string that must be present, non-null and non-empty.
func stringValue(raw json.RawMessage, field string) (string, error) {
	s, err := stringValueMaybeEmpty(raw, field)
	if err != nil {
		return "", err
	}
	if s == "" {
		return "", invalid(field, "must not be empty")
	}
	return s, nil
}

func stringValueMaybeEmpty(raw json.RawMessage, field string) (string, error) {
	if isNull(raw) {
		return "", invalid(field, "must not be null")
	}
	if firstByte(raw) != '"' {
		return "", invalid(field, "must be a string")
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", invalid(field, "must be a string")
	}
	return s, nil
}

func reqString(m map[string]json.RawMessage, path, key string) (string, error) {
	raw, ok := m[key]
	if !ok {
		return "", invalid(join(path, key), "is required")
	}
	return stringValue(raw, join(path, key))
}

// optString reads an optional string: absent or null means not present; when present it must be
// a non-empty string.
func optString(m map[string]json.RawMessage, path, key string) (string, bool, error) {
	raw, ok := m[key]
	if !ok || isNull(raw) {
		return "", false, nil
	}
	s, err := stringValue(raw, join(path, key))
	return s, err == nil, err
}

// optStringMaybeEmpty reads optional free text, where "" is a value.
func optStringMaybeEmpty(m map[string]json.RawMessage, path, key string) (string, bool, error) {
	raw, ok := m[key]
	if !ok || isNull(raw) {
		return "", false, nil
	}
	s, err := stringValueMaybeEmpty(raw, join(path, key))
	return s, err == nil, err
}

func arrayValue(raw json.RawMessage, field string) ([]json.RawMessage, error) {
	if isNull(raw) {
		return nil, invalid(field, "must not be null")
	}
	if firstByte(raw) != '[' {
		return nil, invalid(field, "must be an array")
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, invalid(field, "must be an array")
	}
	return items, nil
}

func reqArray(m map[string]json.RawMessage, path, key string) ([]json.RawMessage, error) {
	raw, ok := m[key]
	if !ok {
		return nil, invalid(join(path, key), "is required")
	}
	items, err := arrayValue(raw, join(path, key))
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, invalid(join(path, key), "must not be empty")
	}
	return items, nil
}

// reqTime reads a required RFC 3339 date-time with a zone (spec §3.0 "ISO 8601 with zone").
func reqTime(d map[string]json.RawMessage, key string) (time.Time, error) {
	s, err := reqString(d, "data", key)
	if err != nil {
		return time.Time{}, err
	}
	return parseTimestamp("data."+key, s)
}

func parseTimestamp(field, s string) (time.Time, error) {
	if !rfc3339RE.MatchString(s) {
		return time.Time{}, invalid(field, "must be an RFC 3339 date-time with a time zone")
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, invalid(field, "must be an RFC 3339 date-time with a time zone")
	}
	return t, nil
}
