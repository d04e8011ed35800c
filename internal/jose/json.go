package jose

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

// members decodes a JSON object into its members, byte-exact and case-sensitive, and
// refuses duplicate names, invalid UTF-8 and trailing data. encoding/json alone would
// match names case-insensitively and keep the last of duplicate members, which lets two
// parsers of the same header disagree (RFC 7515 §5.2 step 4, RFC 8725 §3.12).
func members(b []byte) (map[string]json.RawMessage, error) {
	if !utf8.Valid(b) {
		return nil, errors.New("invalid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("not a JSON object")
	}
	out := make(map[string]json.RawMessage)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		name, ok := tok.(string)
		if !ok {
			return nil, errors.New("object member name is not a string")
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("duplicate member %q", truncate(name))
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		out[name] = v
	}
	if _, err := dec.Token(); err != nil { // closing '}'
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after JSON object")
	}
	return out, nil
}

// stringMember returns the string value of member name; ok is false when absent.
func stringMember(m map[string]json.RawMessage, name string) (s string, ok bool, err error) {
	raw, ok := m[name]
	if !ok {
		return "", false, nil
	}
	if err := json.Unmarshal(raw, &s); err != nil || !isJSONString(raw) {
		return "", true, fmt.Errorf("%q is not a string", name)
	}
	return s, true, nil
}

func isJSONString(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) > 0 && t[0] == '"'
}

// numericDate parses a JSON number as a NumericDate (RFC 7519 §2): seconds since the
// epoch, integer or not. Values outside 0..1e11 are refused rather than overflowing.
func numericDate(raw json.RawMessage) (float64, error) {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || !(t[0] == '-' || (t[0] >= '0' && t[0] <= '9')) {
		return 0, errors.New("not a number")
	}
	f, err := strconv.ParseFloat(string(t), 64)
	if err != nil {
		return 0, errors.New("not a number")
	}
	if f < 0 || f > 1e11 {
		return 0, errors.New("out of range")
	}
	return f, nil
}

// truncate shortens untrusted text before it goes into an error message.
func truncate(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}
