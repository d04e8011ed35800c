package config

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Field describes one configuration key, as read from the struct tags of Config.
type Field struct {
	Key        string // dotted file key, e.g. "api.addr"
	Env        string // environment variable, empty for file-only keys
	Default    string // default as text; empty means the zero value
	Example    string // a valid example, for keys without a telling default
	Doc        string // meaning
	Type       string // "string", "boolean", "integer", "duration", "list" or "list of {…}"
	Section    string // top-level section key, empty for top-level keys
	SectionDoc string // the section's doc tag

	index  []int  // path of struct field indexes from Config
	redact string // "url": hide the password of a URL value
	typ    reflect.Type
}

// example returns the text used in "; example: …" hints.
func (f *Field) example() string {
	if f.Example != "" {
		return f.Example
	}
	return f.Default
}

var durationType = reflect.TypeFor[time.Duration]()

// fields is the table of every leaf key of Config, in declaration order.
var fields = mustFields()

// Fields returns every configuration key in declaration order.
func Fields() []Field {
	out := make([]Field, len(fields))
	copy(out, fields)
	return out
}

func mustFields() []Field {
	var out []Field
	if err := collect(reflect.TypeFor[Config](), nil, "", "", &out); err != nil {
		panic(err)
	}
	return out
}

func collect(t reflect.Type, index []int, prefix, sectionDoc string, out *[]Field) error {
	for i := range t.NumField() {
		sf := t.Field(i)
		name := yamlName(sf)
		if name == "-" {
			continue
		}
		idx := append(append([]int(nil), index...), i)
		key := name
		if prefix != "" {
			key = prefix + "." + name
		}
		if sf.Type.Kind() == reflect.Struct && sf.Type != durationType {
			if prefix != "" {
				return fmt.Errorf("config: %s: sections nest one level only", key)
			}
			if err := collect(sf.Type, idx, key, sf.Tag.Get("doc"), out); err != nil {
				return err
			}
			continue
		}
		typeName, err := typeName(sf.Type)
		if err != nil {
			return fmt.Errorf("config: %s: %w", key, err)
		}
		f := Field{
			Key:        key,
			Env:        sf.Tag.Get("env"),
			Default:    sf.Tag.Get("default"),
			Example:    sf.Tag.Get("example"),
			Doc:        sf.Tag.Get("doc"),
			Type:       typeName,
			Section:    prefix,
			SectionDoc: sectionDoc,
			index:      idx,
			redact:     sf.Tag.Get("redact"),
			typ:        sf.Type,
		}
		if f.Doc == "" {
			return fmt.Errorf("config: %s: missing doc tag", key)
		}
		if f.Env == "" && sf.Type.Kind() != reflect.Slice {
			return fmt.Errorf("config: %s: missing env tag", key)
		}
		*out = append(*out, f)
	}
	return nil
}

func yamlName(sf reflect.StructField) string {
	name, _, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
	if name == "" {
		return strings.ToLower(sf.Name)
	}
	return name
}

func typeName(t reflect.Type) (string, error) {
	switch {
	case t == durationType:
		return "duration", nil
	case t.Kind() == reflect.String:
		return "string", nil
	case t.Kind() == reflect.Bool:
		return "boolean", nil
	case t.Kind() == reflect.Int || t.Kind() == reflect.Int64:
		return "integer", nil
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.String:
		return "list", nil
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct:
		var names []string
		for i := range t.Elem().NumField() {
			sf := t.Elem().Field(i)
			if sf.Type.Kind() != reflect.String {
				return "", fmt.Errorf("list element field %s: only strings are supported", sf.Name)
			}
			names = append(names, yamlName(sf))
		}
		return "list of {" + strings.Join(names, ", ") + "}", nil
	}
	return "", fmt.Errorf("unsupported type %s", t)
}

// parseScalar sets v (a string, bool, integer or duration) from text. On
// failure it returns the problem phrase used in FieldError.Problem.
func parseScalar(v reflect.Value, text string) (problem string) {
	switch {
	case v.Type() == durationType:
		d, err := time.ParseDuration(text)
		if err != nil {
			return "is not a duration (a number with a unit: ms, s, m, h)"
		}
		v.SetInt(int64(d))
	case v.Kind() == reflect.String:
		v.SetString(text)
	case v.Kind() == reflect.Bool:
		switch strings.ToLower(text) {
		case "true":
			v.SetBool(true)
		case "false":
			v.SetBool(false)
		default:
			return "is not a boolean (true or false)"
		}
	case v.Kind() == reflect.Int || v.Kind() == reflect.Int64:
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil && errors.Is(err, strconv.ErrRange) {
			return "is out of range"
		}
		if err != nil {
			return "is not an integer"
		}
		if v.OverflowInt(n) {
			return "is out of range"
		}
		v.SetInt(n)
	default:
		return "cannot be set from text"
	}
	return ""
}

// splitList splits a comma-separated environment value; blanks are dropped.
func splitList(text string) []string {
	var out []string
	for item := range strings.SplitSeq(text, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
