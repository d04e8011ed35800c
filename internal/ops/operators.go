package ops

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"sync"
	"time"
)

// Roles of an operator of the admin API (docs/operations.md "Admin API").
const (
	// RoleViewer reads and exports consents, events, calls and the outbox.
	RoleViewer = "viewer"
	// RoleOperator may also revoke consents and re-queue abandoned outbox items.
	RoleOperator = "operator"
)

// Operator is who called the admin API: a name kept in the audit trail, and a role.
type Operator struct {
	Name string
	Role string
}

// may reports whether o's role allows an action needing role.
func (o Operator) may(role string) bool {
	return role == RoleViewer || o.Role == RoleOperator
}

// Authenticator finds the operator a bearer token belongs to.
type Authenticator interface {
	Operator(token string) (Operator, bool)
}

// ErrTokensFile: the operator tokens file cannot be used.
var ErrTokensFile = errors.New("ops: invalid operator tokens file")

// tokenEntry is one operator of the tokens file: name, role and the SHA-256 (hex) of the token.
type tokenEntry struct {
	Name        string `json:"name"`
	Role        string `json:"role"`
	TokenSHA256 string `json:"token_sha256"`
}

var operatorName = regexp.MustCompile(`^[A-Za-z0-9._@-]{1,64}$`)

// ParseTokens reads an operator tokens file: a JSON array of {"name", "role", "token_sha256"},
// names unique (letters, digits, . _ @ -), roles viewer or operator, hashes 64 hex digits and
// unique. Only hashes are kept, so the file holds no usable token.
func ParseTokens(b []byte) ([]tokenEntry, error) {
	var es []tokenEntry
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&es); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrTokensFile, err)
	}
	names, hashes := map[string]bool{}, map[string]bool{}
	for i, e := range es {
		h, err := hex.DecodeString(e.TokenSHA256)
		switch {
		case !operatorName.MatchString(e.Name):
			return nil, fmt.Errorf("%w: entry %d: name must be 1–64 letters, digits, . _ @ -", ErrTokensFile, i)
		case e.Role != RoleViewer && e.Role != RoleOperator:
			return nil, fmt.Errorf("%w: entry %d (%s): role must be viewer or operator", ErrTokensFile, i, e.Name)
		case err != nil || len(h) != sha256.Size:
			return nil, fmt.Errorf("%w: entry %d (%s): token_sha256 must be 64 hex digits", ErrTokensFile, i, e.Name)
		case names[e.Name]:
			return nil, fmt.Errorf("%w: entry %d: name %s twice", ErrTokensFile, i, e.Name)
		case hashes[string(h)]:
			return nil, fmt.Errorf("%w: entry %d (%s): the same token as another operator", ErrTokensFile, i, e.Name)
		}
		names[e.Name], hashes[string(h)] = true, true
		es[i].TokenSHA256 = string(h)
	}
	return es, nil
}

// lookup compares the token's hash with every entry in constant time per entry.
func lookup(es []tokenEntry, token string) (Operator, bool) {
	sum := sha256.Sum256([]byte(token))
	var found Operator
	ok := false
	for _, e := range es {
		if subtle.ConstantTimeCompare(sum[:], []byte(e.TokenSHA256)) == 1 {
			found, ok = Operator{Name: e.Name, Role: e.Role}, true
		}
	}
	return found, ok
}

// StaticToken is the single shared token of ops.admin_token_file: an operator named "admin".
type StaticToken string

// Operator implements Authenticator.
func (s StaticToken) Operator(token string) (Operator, bool) {
	if s == "" || subtle.ConstantTimeCompare([]byte(token), []byte(s)) != 1 {
		return Operator{}, false
	}
	return Operator{Name: AuditActor, Role: RoleOperator}, true
}

// TokensFile is ops.admin_tokens_file, re-read when its modification time or size changes
// (checked at most every CheckEvery), so operators are added and removed without a restart. A
// changed file that does not parse is logged by the caller and the previous operators stay.
type TokensFile struct {
	path       string
	checkEvery time.Duration
	now        func() time.Time

	mu      sync.Mutex
	entries []tokenEntry
	mod     time.Time
	size    int64
	checked time.Time
	lastErr error
}

// OpenTokensFile reads the file once; it must parse.
func OpenTokensFile(path string, now func() time.Time) (*TokensFile, error) {
	if now == nil {
		now = time.Now
	}
	f := &TokensFile{path: path, checkEvery: time.Second, now: now}
	if err := f.reload(); err != nil {
		return nil, err
	}
	return f, nil
}

func (f *TokensFile) reload() error {
	fi, err := os.Stat(f.path)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrTokensFile, err)
	}
	if fi.ModTime().Equal(f.mod) && fi.Size() == f.size && f.entries != nil {
		return nil
	}
	b, err := os.ReadFile(f.path)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrTokensFile, err)
	}
	es, err := ParseTokens(b)
	if err != nil {
		return err
	}
	f.entries, f.mod, f.size = es, fi.ModTime(), fi.Size()
	return nil
}

// Operator implements Authenticator, reloading the file first when it changed.
func (f *TokensFile) Operator(token string) (Operator, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if now := f.now(); now.Sub(f.checked) >= f.checkEvery || now.Before(f.checked) {
		f.checked = now
		f.lastErr = f.reload()
	}
	return lookup(f.entries, token)
}

// Err is the error of the last reload, nil when it succeeded.
func (f *TokensFile) Err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lastErr
}
