package mtls

import (
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Reloaded is TLS material read from files (design §8: the DP's server and client certificates,
// PayNet's CA bundle) that is read again when one of its files changes, so certificates rotate
// without a restart. A change is a different size or modification time (Kubernetes replaces a
// Secret's files through a symlink swap, which changes both). A new version that does not load
// is logged and the previous one kept.
type Reloaded[T any] struct {
	name   string
	paths  []string
	load   func() (T, error)
	logger *slog.Logger
	// onLoad, when set, is told of every version loaded (certificate expiry metrics).
	onLoad func(T)

	cur   atomic.Pointer[T]
	mu    sync.Mutex
	stamp []fileStamp
}

type fileStamp struct {
	size int64
	mod  time.Time
}

// NewReloaded loads the first version, which must succeed.
func NewReloaded[T any](name string, paths []string, load func() (T, error), onLoad func(T), logger *slog.Logger) (*Reloaded[T], error) {
	if logger == nil {
		logger = slog.Default()
	}
	r := &Reloaded[T]{name: name, paths: paths, load: load, onLoad: onLoad, logger: logger}
	r.stamp = r.stamps()
	v, err := load()
	if err != nil {
		return nil, err
	}
	r.set(v)
	return r, nil
}

func (r *Reloaded[T]) set(v T) {
	r.cur.Store(&v)
	if r.onLoad != nil {
		r.onLoad(v)
	}
}

// Get returns the current version.
func (r *Reloaded[T]) Get() T { return *r.cur.Load() }

func (r *Reloaded[T]) stamps() []fileStamp {
	s := make([]fileStamp, len(r.paths))
	for i, p := range r.paths {
		if st, err := os.Stat(p); err == nil {
			s[i] = fileStamp{size: st.Size(), mod: st.ModTime()}
		}
	}
	return s
}

// Check reloads when a file changed since the last look. It reports whether a new version is
// now in use.
func (r *Reloaded[T]) Check() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.stamps()
	changed := false
	for i := range now {
		if now[i] != r.stamp[i] {
			changed = true
		}
	}
	if !changed {
		return false
	}
	r.stamp = now
	v, err := r.load()
	if err != nil {
		// Keep serving with the version that works; the next change is tried again.
		r.logger.Error("reload failed, keeping the previous version", "what", r.name, "cause", err.Error())
		return false
	}
	r.set(v)
	r.logger.Info("reloaded", "what", r.name)
	return true
}

// LoadKeyPair is a Reloaded server certificate and key, e.g. tls.cert_file and tls.key_file.
func LoadKeyPair(name, certFile, keyFile string, onLoad func(tls.Certificate), logger *slog.Logger) (*Reloaded[tls.Certificate], error) {
	return NewReloaded(name, []string{certFile, keyFile}, func() (tls.Certificate, error) {
		return tls.LoadX509KeyPair(certFile, keyFile)
	}, onLoad, logger)
}

// LoadCAPoolReloaded is a Reloaded CA bundle.
func LoadCAPoolReloaded(name, path string, logger *slog.Logger) (*Reloaded[*x509.CertPool], error) {
	return NewReloaded(name, []string{path}, func() (*x509.CertPool, error) { return LoadCAPool(path) }, nil, logger)
}

// ReloadingServerConfig is ServerConfig whose certificate and, when clientCAs is set, client
// CAs are the current versions at every handshake. clientAuth applies with clientCAs.
func ReloadingServerConfig(cert *Reloaded[tls.Certificate], clientCAs *Reloaded[*x509.CertPool], clientAuth tls.ClientAuthType) *tls.Config {
	base := ServerConfig(tls.Certificate{}, nil)
	base.Certificates = nil
	if clientCAs != nil {
		base.ClientAuth = clientAuth
	}
	c := base.Clone()
	c.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
		per := base.Clone()
		per.NextProtos = c.NextProtos // what net/http set up on the listener's config
		per.Certificates = []tls.Certificate{cert.Get()}
		if clientCAs != nil {
			per.ClientCAs = clientCAs.Get()
		}
		return per, nil
	}
	return c
}
