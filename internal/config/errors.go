package config

import (
	"errors"
	"strconv"
	"strings"
)

// Sentinel errors; every *FieldError wraps exactly one of them.
var (
	// ErrUnknownKey: the file names a key that Config does not have.
	ErrUnknownKey = errors.New("unknown key")
	// ErrInvalidValue: a value does not parse or breaks a rule.
	ErrInvalidValue = errors.New("invalid value")
	// ErrRequired: a required value is empty.
	ErrRequired = errors.New("required value missing")
	// ErrFile: a file the configuration names is missing, unreadable or has the wrong content.
	ErrFile = errors.New("bad file")
	// ErrNoServerSecret: secrets.server_secret_file is not set (allowed only in the sandbox).
	ErrNoServerSecret = errors.New("config: secrets.server_secret_file is not set")
)

// FieldError is one problem with one configuration key. Its message reads
//
//	OFPDP_API_ADDR (api.addr): "abc" is not a host:port address; example: ":8443"
type FieldError struct {
	Key      string // dotted file key, e.g. "api.addr" or "dcs[1].id"
	Env      string // environment variable, empty for file-only keys
	Value    string // the offending value as text (already redacted)
	HasValue bool   // Value is shown in the message
	Problem  string // what is wrong, e.g. "is not a host:port address"
	Example  string // a valid value, when one helps
	Err      error  // one of the sentinel errors above
}

func (e *FieldError) Error() string {
	var b strings.Builder
	if e.Env != "" {
		b.WriteString(e.Env)
		b.WriteString(" (")
		b.WriteString(e.Key)
		b.WriteString(")")
	} else {
		b.WriteString(e.Key)
	}
	b.WriteString(": ")
	if e.HasValue {
		b.WriteString(strconv.Quote(e.Value))
		b.WriteString(" ")
	}
	b.WriteString(e.Problem)
	if e.Example != "" {
		b.WriteString("; example: ")
		b.WriteString(strconv.Quote(e.Example))
	}
	return b.String()
}

func (e *FieldError) Unwrap() error { return e.Err }

// Errors lists every problem found; its message has one FieldError per line.
type Errors []*FieldError

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.Is and errors.As see every FieldError.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}
