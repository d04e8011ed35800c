package keysource

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/ofpdp/ofpdp/internal/jose"
)

// States of a signing key in the ring (docs/operations.md, "Rotating the signing key").
const (
	StateActive  = "active"  // signs, and is published
	StateNext    = "next"    // published only, so that PayNet caches it before it signs
	StateRetired = "retired" // neither; kept in the file as a record
)

// ErrRing is wrapped by every error about the content of a key ring file.
var ErrRing = errors.New("keysource: invalid signing key ring")

// RingEntry is one signing key of the ring file (keys.signing_keys_file).
type RingEntry struct {
	Key   string `yaml:"key"`   // key URI (file:, pkcs11:, awskms:)
	Cert  string `yaml:"cert"`  // PEM certificate chain, leaf first, as uploaded to PayNet
	Kid   string `yaml:"kid"`   // optional; default the certificate's x5t#S256
	State string `yaml:"state"` // active, next or retired
}

type ringFile struct {
	Keys []RingEntry `yaml:"keys"`
}

// ParseRing reads a ring file: exactly one active key, any number of next and retired keys,
// no kid twice.
func ParseRing(b []byte) ([]RingEntry, error) {
	var f ringFile
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRing, err)
	}
	active := 0
	for i, e := range f.Keys {
		if e.Key == "" || e.Cert == "" {
			return nil, fmt.Errorf("%w: keys[%d]: key and cert are required", ErrRing, i)
		}
		if _, err := Parse(e.Key); err != nil {
			return nil, fmt.Errorf("%w: keys[%d]: %w", ErrRing, i, err)
		}
		switch e.State {
		case StateActive:
			active++
		case StateNext, StateRetired:
		default:
			return nil, fmt.Errorf("%w: keys[%d]: state %q (want active, next or retired)", ErrRing, i, e.State)
		}
	}
	if active != 1 {
		return nil, fmt.Errorf("%w: %d active keys, want exactly one", ErrRing, active)
	}
	return f.Keys, nil
}

// RingOptions configure a Ring.
type RingOptions struct {
	// File is the ring file (keys.signing_keys_file). Empty: the ring is Single, fixed.
	File string
	// Single is the one active key when File is empty (keys.signing_key, keys.signing_cert_file, keys.signing_kid).
	Single RingEntry
	Open   Options
	Logger *slog.Logger
}

// Ring is the DP's set of signing keys: the active one signs (jose.Signer.Active), the active
// and next ones are published (Published). Reload picks up a changed ring file; a file that
// does not load leaves the ring as it was. Safe for concurrent use.
type Ring struct {
	o RingOptions

	mu      sync.RWMutex
	active  *jose.SigningKey
	next    []*jose.SigningKey
	opened  map[string]Key    // by key URI, kept across reloads
	fileSum [sha256.Size]byte // of the ring file last loaded
	lastErr error
}

// NewRing loads the ring.
func NewRing(ctx context.Context, o RingOptions) (*Ring, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	r := &Ring{o: o, opened: map[string]Key{}}
	if _, err := r.Reload(ctx); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// Active is the key that signs now.
func (r *Ring) Active() *jose.SigningKey {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.active
}

// Published is the DP's signing JWKS as handed to PayNet: the active key, then the next keys.
func (r *Ring) Published() (*jose.KeySet, error) {
	r.mu.RLock()
	keys := append([]*jose.SigningKey{r.active}, r.next...)
	r.mu.RUnlock()
	ks := &jose.KeySet{}
	for _, k := range keys {
		pk, err := k.PublicKey()
		if err != nil {
			return nil, err
		}
		ks.Keys = append(ks.Keys, pk)
	}
	return ks, nil
}

// Reload reads the ring file again when its content changed (or the last reload failed) and reports
// whether the ring changed. On error the previous ring stays in use.
func (r *Ring) Reload(ctx context.Context) (bool, error) {
	entries := []RingEntry{r.o.Single}
	var sum [sha256.Size]byte
	if r.o.File != "" {
		b, err := os.ReadFile(r.o.File)
		if err != nil {
			return false, r.fail(fmt.Errorf("%w: %v", ErrRing, err))
		}
		sum = sha256.Sum256(b)
		r.mu.RLock()
		same := r.active != nil && sum == r.fileSum && r.lastErr == nil
		r.mu.RUnlock()
		if same {
			return false, nil
		}
		if entries, err = ParseRing(b); err != nil {
			return false, r.fail(fmt.Errorf("%s: %w", r.o.File, err))
		}
	} else if r.Active() != nil {
		return false, nil
	}
	var active *jose.SigningKey
	var next []*jose.SigningKey
	used := map[string]bool{}
	kids := map[string]bool{}
	for _, e := range entries {
		if e.State == StateRetired {
			continue
		}
		sk, err := r.load(ctx, e)
		if err != nil {
			return false, r.fail(err)
		}
		if kids[sk.Kid] {
			return false, r.fail(fmt.Errorf("%w: kid %q used twice", ErrRing, sk.Kid))
		}
		kids[sk.Kid] = true
		used[e.Key] = true
		if e.State == StateActive {
			active = sk
		} else {
			next = append(next, sk)
		}
	}
	r.mu.Lock()
	prev := r.active
	r.active, r.next, r.fileSum, r.lastErr = active, next, sum, nil
	var unused []Key
	for uri, k := range r.opened {
		if !used[uri] {
			unused = append(unused, k)
			delete(r.opened, uri)
		}
	}
	r.mu.Unlock()
	for _, k := range unused {
		_ = k.Close()
	}
	if prev != nil && prev.Kid != active.Kid {
		r.o.Logger.Info("signing key rotated", "active_kid", active.Kid, "previous_kid", prev.Kid)
	}
	return true, nil
}

func (r *Ring) fail(err error) error {
	r.mu.Lock()
	r.lastErr = err
	r.mu.Unlock()
	return err
}

// load opens e's key (or reuses it) and checks it against its certificate.
func (r *Ring) load(ctx context.Context, e RingEntry) (*jose.SigningKey, error) {
	r.mu.RLock()
	k, ok := r.opened[e.Key]
	r.mu.RUnlock()
	if !ok {
		var err error
		if k, err = Open(ctx, e.Key, r.o.Open); err != nil {
			return nil, err
		}
		r.mu.Lock()
		r.opened[e.Key] = k
		r.mu.Unlock()
	}
	chain, err := jose.LoadCertificatesFile(e.Cert)
	if err != nil {
		return nil, err
	}
	sk, err := jose.NewSigningKey(k, chain)
	if err != nil {
		return nil, fmt.Errorf("%s, %s: %w", Describe(e.Key), e.Cert, err)
	}
	if e.Kid != "" {
		sk.Kid = e.Kid
	}
	return sk, nil
}

// Check reloads the ring file once (the server calls it every keys.reload_interval, with its
// certificate files); a failure is logged, kept for Ready, and the previous keys stay in use.
func (r *Ring) Check(ctx context.Context) {
	if r.o.File == "" {
		return
	}
	if _, err := r.Reload(ctx); err != nil {
		r.o.Logger.Error("signing key ring not reloaded; the previous keys stay in use", "file", r.o.File, "err", err)
	}
}

// Ready checks that the active key can sign and that the last reload worked.
func (r *Ring) Ready(ctx context.Context) error {
	r.mu.RLock()
	lastErr := r.lastErr
	var k Key
	if r.active != nil {
		k, _ = r.active.Key.(Key)
	}
	r.mu.RUnlock()
	if lastErr != nil {
		return lastErr
	}
	if k == nil {
		return fmt.Errorf("%w: no active signing key", ErrUnavailable)
	}
	return k.Ready(ctx)
}

// Close releases every opened key.
func (r *Ring) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for uri, k := range r.opened {
		_ = k.Close()
		delete(r.opened, uri)
	}
}

// PublishedJWKS is the DP's signing JWKS for the ring file at path, as handed to PayNet: the
// active key, then the next keys (retired ones are left out). It reads only the certificates,
// so it needs no access to the private keys (`ofpdp pki inspect RING-FILE`).
func PublishedJWKS(path string) (*jose.KeySet, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRing, err)
	}
	entries, err := ParseRing(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	ks := &jose.KeySet{}
	for _, state := range []string{StateActive, StateNext} {
		for _, e := range entries {
			if e.State != state {
				continue
			}
			chain, err := jose.LoadCertificatesFile(e.Cert)
			if err != nil {
				return nil, err
			}
			pk, err := jose.PublicKeyFromChain(chain, jose.UseSig, "")
			if err != nil {
				return nil, fmt.Errorf("%s: %w", e.Cert, err)
			}
			if e.Kid != "" {
				pk.Kid = e.Kid
			}
			ks.Keys = append(ks.Keys, pk)
		}
	}
	return ks, nil
}

// IsRingFile reports whether b looks like a key ring file (YAML with a top-level "keys" list)
// rather than a certificate or a JWKS.
func IsRingFile(b []byte) bool {
	var f struct {
		Keys []yaml.Node `yaml:"keys"`
	}
	t := bytes.TrimSpace(b)
	return len(t) > 0 && t[0] != '{' && !bytes.HasPrefix(t, []byte("-----")) && yaml.Unmarshal(b, &f) == nil && len(f.Keys) > 0
}
