package keysource

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
)

// Schemes of a key URI.
const (
	SchemeFile   = "file"
	SchemePKCS11 = "pkcs11"
	SchemeAWSKMS = "awskms"
)

// ErrURI is wrapped by every error about the text of a key URI.
var ErrURI = errors.New("keysource: invalid key URI")

// Location is a parsed key URI.
type Location struct {
	Scheme string
	// Path is the PEM file of a file: source.
	Path string
	// PKCS11 is set for a pkcs11: source.
	PKCS11 *PKCS11URI
	// KMS is set for an awskms: source.
	KMS *KMSURI
}

// String is the URI without secrets (a pkcs11 URI never carries a PIN; see ParsePKCS11URI).
func (l Location) String() string {
	switch l.Scheme {
	case SchemePKCS11:
		return l.PKCS11.String()
	case SchemeAWSKMS:
		return SchemeAWSKMS + ":" + l.KMS.KeyID
	}
	if strings.HasPrefix(l.Path, "//") {
		return SchemeFile + "://" + l.Path // so that Parse does not read it as an authority
	}
	return SchemeFile + ":" + l.Path
}

// Parse reads a key URI: "file:PATH" or a plain path (a PEM file), "pkcs11:…" (RFC 7512) or
// "awskms:KEY-ARN".
func Parse(raw string) (Location, error) {
	if strings.TrimSpace(raw) == "" {
		return Location{}, fmt.Errorf("%w: empty", ErrURI)
	}
	scheme, rest, found := strings.Cut(raw, ":")
	if !found || strings.ContainsAny(scheme, `/\.`) {
		return Location{Scheme: SchemeFile, Path: raw}, nil
	}
	switch strings.ToLower(scheme) {
	case SchemeFile:
		p := rest
		if strings.HasPrefix(p, "///") { // file:///abs: an empty authority (RFC 8089 §2)
			p = p[2:]
		}
		if p == "" {
			return Location{}, fmt.Errorf("%w: file: without a path", ErrURI)
		}
		return Location{Scheme: SchemeFile, Path: p}, nil
	case SchemePKCS11:
		u, err := ParsePKCS11URI(raw)
		if err != nil {
			return Location{}, err
		}
		return Location{Scheme: SchemePKCS11, PKCS11: u}, nil
	case SchemeAWSKMS:
		k, err := parseKMSURI(rest)
		if err != nil {
			return Location{}, err
		}
		return Location{Scheme: SchemeAWSKMS, KMS: k}, nil
	}
	if len(scheme) == 1 { // a Windows drive letter: a plain path
		return Location{Scheme: SchemeFile, Path: raw}, nil
	}
	return Location{}, fmt.Errorf("%w: unknown scheme %q (want file:, pkcs11: or awskms:)", ErrURI, scheme)
}

// PKCS11URI is the part of an RFC 7512 PKCS#11 URI that names one private key: the token by
// label or serial, the object by label or id, where the user PIN is read from, and the module.
type PKCS11URI struct {
	Token      string // "token" path attribute: the token label
	Serial     string // "serial": the token serial number
	Object     string // "object": the key's CKA_LABEL
	ID         []byte // "id": the key's CKA_ID (percent-encoded bytes, RFC 7512 §2.3)
	PINSource  string // "pin-source" query attribute: a file holding the user PIN (RFC 7512 §2.4)
	ModulePath string // "module-path": the PKCS#11 library; else keys.pkcs11_module
}

// ParsePKCS11URI parses raw (RFC 7512 §2.3). The token needs a label or serial and the key a
// label or id. "type", when present, must be "private". "pin-value" is refused: a PIN in a
// configuration value ends up in process listings and logs, so it must come from a file
// (pin-source). Other attributes are refused rather than ignored, so that a typo cannot select
// another key.
func ParsePKCS11URI(raw string) (*PKCS11URI, error) {
	rest, ok := strings.CutPrefix(raw, "pkcs11:")
	if !ok {
		return nil, fmt.Errorf("%w: want pkcs11:…", ErrURI)
	}
	path, query, _ := strings.Cut(rest, "?")
	u := &PKCS11URI{}
	seen := map[string]bool{}
	attr := func(part, sep string) (string, string, error) {
		name, val, ok := strings.Cut(part, "=")
		if !ok || name == "" {
			return "", "", fmt.Errorf("%w: pkcs11 attribute %q without a value", ErrURI, part)
		}
		if seen[name] {
			return "", "", fmt.Errorf("%w: pkcs11 attribute %q given twice", ErrURI, name)
		}
		seen[name] = true
		v, err := url.PathUnescape(val)
		if err != nil {
			return "", "", fmt.Errorf("%w: pkcs11 attribute %q: %v", ErrURI, name, err)
		}
		return name, v, nil
	}
	if path != "" {
		for part := range strings.SplitSeq(path, ";") {
			name, v, err := attr(part, ";")
			if err != nil {
				return nil, err
			}
			switch name {
			case "token":
				u.Token = v
			case "serial":
				u.Serial = v
			case "object":
				u.Object = v
			case "id":
				u.ID = []byte(v)
			case "type":
				if v != "private" {
					return nil, fmt.Errorf("%w: pkcs11 type=%q, want private", ErrURI, v)
				}
			case "pin-value", "pin-source", "module-path", "module-name":
				return nil, fmt.Errorf("%w: pkcs11 %q belongs in the query part (after ?)", ErrURI, name)
			default:
				return nil, fmt.Errorf("%w: pkcs11 path attribute %q not supported (token, serial, object, id, type)", ErrURI, name)
			}
		}
	}
	if query != "" {
		for part := range strings.SplitSeq(query, "&") {
			name, v, err := attr(part, "&")
			if err != nil {
				return nil, err
			}
			switch name {
			case "pin-source":
				u.PINSource = strings.TrimPrefix(strings.TrimPrefix(v, "file://"), "file:")
			case "module-path":
				u.ModulePath = v
			case "pin-value":
				return nil, fmt.Errorf("%w: pkcs11 pin-value is refused; put the PIN in a file (mode 0600) and use pin-source", ErrURI)
			default:
				return nil, fmt.Errorf("%w: pkcs11 query attribute %q not supported (pin-source, module-path)", ErrURI, name)
			}
		}
	}
	if u.Token == "" && u.Serial == "" {
		return nil, fmt.Errorf("%w: pkcs11 URI needs token= or serial=", ErrURI)
	}
	if u.Object == "" && len(u.ID) == 0 {
		return nil, fmt.Errorf("%w: pkcs11 URI needs object= or id=", ErrURI)
	}
	if u.PINSource == "" {
		return nil, fmt.Errorf("%w: pkcs11 URI needs ?pin-source=FILE (the user PIN)", ErrURI)
	}
	return u, nil
}

// String writes u back as a PKCS#11 URI (it never holds the PIN itself).
func (u *PKCS11URI) String() string {
	var path []string
	add := func(name, v string) {
		if v != "" {
			path = append(path, name+"="+escape(v))
		}
	}
	add("token", u.Token)
	add("serial", u.Serial)
	add("object", u.Object)
	add("id", string(u.ID))
	q := "pin-source=" + escape(u.PINSource)
	if u.ModulePath != "" {
		q += "&module-path=" + escape(u.ModulePath)
	}
	return "pkcs11:" + strings.Join(path, ";") + "?" + q
}

// escape percent-encodes everything but RFC 7512's unreserved characters and "/".
func escape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~/", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// readPIN reads the user PIN from path (trailing newline removed). The file must be private
// like every other secret file of ofpdp (PrivateFileProblem).
func readPIN(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("keysource: pin-source: %w", err)
	}
	if problem := PrivateFileProblem(fi, path); problem != "" {
		return "", fmt.Errorf("keysource: pin-source %s %s", path, problem)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("keysource: pin-source: %w", err)
	}
	pin := strings.TrimRight(string(b), "\r\n")
	if pin == "" {
		return "", fmt.Errorf("keysource: pin-source %s is empty", path)
	}
	return pin, nil
}
