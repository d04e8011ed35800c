package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Load builds the configuration in three layers: the defaults of the struct
// tags, then the optional file at path (YAML for .yaml/.yml, JSON for .json;
// an empty path means no file), then the OFPDP_* variables that env reports
// (env wins; pass os.LookupEnv, or nil for none). An empty variable counts as
// set. Lists are comma-separated in the environment, durations use Go syntax
// ("15m").
//
// Load reports every unknown key and every value that does not parse, all at
// once, as Errors. It does not check the rules of Validate.
func Load(path string, env func(string) (string, bool)) (*Config, error) {
	cfg := &Config{}
	root := reflect.ValueOf(cfg).Elem()
	var errs Errors
	for i := range fields {
		f := &fields[i]
		if f.Default == "" {
			continue
		}
		if p := parseScalar(root.FieldByIndex(f.index), f.Default); p != "" {
			panic(fmt.Sprintf("config: default of %s %s", f.Key, p))
		}
	}
	if path != "" {
		tree, err := readFile(path)
		if err != nil {
			return nil, err
		}
		if tree != nil {
			errs = append(errs, decodeFile(root, tree)...)
		}
	}
	if env != nil {
		errs = append(errs, decodeEnv(root, env)...)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return cfg, nil
}

// node is a parsed file value, YAML or JSON alike.
type node struct {
	kind  nodeKind
	text  string   // scalar text
	keys  []string // mapping keys, in file order
	vals  []*node  // mapping values
	items []*node  // sequence items
}

type nodeKind int

const (
	nullNode nodeKind = iota
	scalarNode
	mappingNode
	sequenceNode
)

func (k nodeKind) String() string {
	return [...]string{"empty", "a single value", "a mapping", "a list"}[k]
}

func readFile(path string) (*node, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml":
		var doc yaml.Node
		if err := yaml.Unmarshal(data, &doc); err != nil {
			return nil, fmt.Errorf("config: %s: %w", path, err)
		}
		if doc.Kind == 0 { // empty document
			return nil, nil
		}
		n, err := fromYAML(&doc, 0)
		if err != nil {
			return nil, fmt.Errorf("config: %s: %w", path, err)
		}
		return n, nil
	case ".json":
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("config: %s: %w", path, err)
		}
		if _, err := dec.Token(); !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("config: %s: data after the top-level JSON value", path)
		}
		return fromJSON(v), nil
	}
	return nil, fmt.Errorf("config: %s: unknown file type %q (want .yaml, .yml or .json)", path, filepath.Ext(path))
}

func fromYAML(n *yaml.Node, depth int) (*node, error) {
	if depth > 16 {
		return nil, errors.New("nesting too deep")
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return &node{}, nil
		}
		return fromYAML(n.Content[0], depth+1)
	case yaml.AliasNode:
		return fromYAML(n.Alias, depth+1)
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return &node{}, nil
		}
		return &node{kind: scalarNode, text: n.Value}, nil
	case yaml.SequenceNode:
		out := &node{kind: sequenceNode}
		for _, c := range n.Content {
			item, err := fromYAML(c, depth+1)
			if err != nil {
				return nil, err
			}
			out.items = append(out.items, item)
		}
		return out, nil
	case yaml.MappingNode:
		out := &node{kind: mappingNode}
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode || k.Tag == "!!merge" {
				return nil, fmt.Errorf("line %d: only plain keys are supported", k.Line)
			}
			if seen[k.Value] {
				return nil, fmt.Errorf("line %d: duplicate key %q", k.Line, k.Value)
			}
			seen[k.Value] = true
			v, err := fromYAML(n.Content[i+1], depth+1)
			if err != nil {
				return nil, err
			}
			out.keys = append(out.keys, k.Value)
			out.vals = append(out.vals, v)
		}
		return out, nil
	}
	return nil, fmt.Errorf("line %d: unsupported YAML node", n.Line)
}

func fromJSON(v any) *node {
	switch v := v.(type) {
	case nil:
		return &node{}
	case string:
		return &node{kind: scalarNode, text: v}
	case json.Number:
		return &node{kind: scalarNode, text: v.String()}
	case bool:
		return &node{kind: scalarNode, text: fmt.Sprint(v)}
	case []any:
		out := &node{kind: sequenceNode}
		for _, item := range v {
			out.items = append(out.items, fromJSON(item))
		}
		return out
	case map[string]any:
		out := &node{kind: mappingNode}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			out.keys = append(out.keys, k)
			out.vals = append(out.vals, fromJSON(v[k]))
		}
		return out
	}
	panic(fmt.Sprintf("config: unexpected JSON value %T", v))
}

// decodeFile applies the file tree to cfg, collecting every problem.
func decodeFile(root reflect.Value, tree *node) Errors {
	if tree.kind == nullNode {
		return nil
	}
	if tree.kind != mappingNode {
		return Errors{{Key: "(top level)", Problem: "is " + tree.kind.String() + ", want a mapping of keys", Err: ErrInvalidValue}}
	}
	byKey := make(map[string]*Field, len(fields))
	sections := map[string]bool{}
	for i := range fields {
		byKey[fields[i].Key] = &fields[i]
		if fields[i].Section != "" {
			sections[fields[i].Section] = true
		}
	}
	var errs Errors
	for i, k := range tree.keys {
		v := tree.vals[i]
		switch {
		case k == "sandbox":
			errs = append(errs, &FieldError{Key: k, Problem: "can only be set by `ofpdp sandbox`", Err: ErrUnknownKey})
		case sections[k]:
			if v.kind == nullNode {
				continue
			}
			if v.kind != mappingNode {
				errs = append(errs, &FieldError{Key: k, Problem: "is " + v.kind.String() + ", want a mapping of keys", Err: ErrInvalidValue})
				continue
			}
			for j, sk := range v.keys {
				key := k + "." + sk
				f, ok := byKey[key]
				if !ok {
					errs = append(errs, unknownKey(key, k))
					continue
				}
				errs = append(errs, setFromNode(root.FieldByIndex(f.index), v.vals[j], f, key)...)
			}
		default:
			f, ok := byKey[k]
			if !ok || f.Section != "" {
				errs = append(errs, unknownKey(k, ""))
				continue
			}
			errs = append(errs, setFromNode(root.FieldByIndex(f.index), v, f, k)...)
		}
	}
	return errs
}

func unknownKey(key, section string) *FieldError {
	var known []string
	for _, f := range fields {
		if f.Section == section {
			known = append(known, strings.TrimPrefix(f.Key, section+"."))
		} else if section == "" && f.Section != "" && (len(known) == 0 || known[len(known)-1] != f.Section) {
			known = append(known, f.Section)
		}
	}
	where := "top-level keys"
	if section != "" {
		where = "keys of " + section
	}
	return &FieldError{Key: key, Problem: "unknown key (" + where + ": " + strings.Join(known, ", ") + ")", Err: ErrUnknownKey}
}

// setFromNode sets one field (scalar, list or list of structs) from a file node.
func setFromNode(v reflect.Value, n *node, f *Field, key string) Errors {
	invalid := func(problem string) Errors {
		return Errors{{Key: key, Env: f.Env, Problem: problem, Example: f.example(), Err: ErrInvalidValue}}
	}
	if n.kind == nullNode {
		v.SetZero()
		return nil
	}
	if v.Kind() != reflect.Slice {
		if n.kind != scalarNode {
			return invalid("is " + n.kind.String() + ", want a single " + f.Type)
		}
		if p := parseScalar(v, n.text); p != "" {
			return Errors{{Key: key, Env: f.Env, Value: display(f, n.text), HasValue: true, Problem: p, Example: f.example(), Err: ErrInvalidValue}}
		}
		return nil
	}
	if n.kind != sequenceNode {
		return invalid("is " + n.kind.String() + ", want a " + f.Type)
	}
	out := reflect.MakeSlice(v.Type(), len(n.items), len(n.items))
	var errs Errors
	for i, item := range n.items {
		ikey := fmt.Sprintf("%s[%d]", key, i)
		elem := out.Index(i)
		if elem.Kind() == reflect.String {
			if item.kind != scalarNode {
				errs = append(errs, &FieldError{Key: ikey, Env: f.Env, Problem: "is " + item.kind.String() + ", want a single string", Err: ErrInvalidValue})
				continue
			}
			elem.SetString(item.text)
			continue
		}
		errs = append(errs, setStruct(elem, item, ikey)...)
	}
	v.Set(out)
	return errs
}

// setStruct fills one list element such as a DC from a mapping of strings.
func setStruct(v reflect.Value, n *node, key string) Errors {
	if n.kind != mappingNode {
		return Errors{{Key: key, Problem: "is " + n.kind.String() + ", want a mapping of keys", Err: ErrInvalidValue}}
	}
	t := v.Type()
	var errs Errors
	for j, k := range n.keys {
		fkey := key + "." + k
		idx := -1
		for i := range t.NumField() {
			if yamlName(t.Field(i)) == k {
				idx = i
			}
		}
		if idx < 0 {
			var known []string
			for i := range t.NumField() {
				known = append(known, yamlName(t.Field(i)))
			}
			errs = append(errs, &FieldError{Key: fkey, Problem: "unknown key (keys: " + strings.Join(known, ", ") + ")", Err: ErrUnknownKey})
			continue
		}
		val := n.vals[j]
		switch val.kind {
		case nullNode:
			v.Field(idx).SetString("")
		case scalarNode:
			v.Field(idx).SetString(val.text)
		default:
			errs = append(errs, &FieldError{Key: fkey, Problem: "is " + val.kind.String() + ", want a single string", Err: ErrInvalidValue})
		}
	}
	return errs
}

// decodeEnv applies every OFPDP_* variable that env reports.
func decodeEnv(root reflect.Value, env func(string) (string, bool)) Errors {
	var errs Errors
	for i := range fields {
		f := &fields[i]
		if f.Env == "" {
			continue
		}
		text, ok := env(f.Env)
		if !ok {
			continue
		}
		v := root.FieldByIndex(f.index)
		if v.Kind() == reflect.Slice {
			v.Set(reflect.ValueOf(splitList(text)))
			continue
		}
		if p := parseScalar(v, text); p != "" {
			errs = append(errs, &FieldError{Key: f.Key, Env: f.Env, Value: display(f, text), HasValue: true, Problem: p, Example: f.example(), Err: ErrInvalidValue})
		}
	}
	return errs
}

// display returns a value as it may be printed: a URL's password is masked.
func display(f *Field, text string) string {
	if f == nil || f.redact != "url" {
		return text
	}
	u, err := url.Parse(text)
	if err != nil {
		if strings.Contains(text, "@") {
			return "(unparsable URL, hidden: it may hold a password)"
		}
		return text
	}
	return u.Redacted()
}
