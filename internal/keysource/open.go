package keysource

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/ofpdp/ofpdp/internal/jose"
)

// Key is an opened private key.
type Key interface {
	crypto.Signer
	// Ready reports whether the key can sign now (the ops listener's /readyz).
	Ready(ctx context.Context) error
	// Close releases the sessions or connections the key holds.
	Close() error
}

// Options configure Open.
type Options struct {
	// PKCS11Module is the PKCS#11 library (keys.pkcs11_module), used when the URI has no module-path.
	PKCS11Module string
	// PKCS11Sessions is the size of the session pool per token (default 8).
	PKCS11Sessions int
	// HTTPClient calls the cloud KMS (default: a client with a 5 s timeout).
	HTTPClient *http.Client
	// Getenv reads the cloud credentials (default os.Getenv).
	Getenv func(string) string
	// Now is the clock of request signing (default time.Now).
	Now func() time.Time
}

// ErrUnavailable is wrapped when a key source cannot be reached or is not built in.
var ErrUnavailable = errors.New("keysource: key unavailable")

// Open opens the private key at uri (see Parse).
func Open(ctx context.Context, uri string, o Options) (Key, error) {
	loc, err := Parse(uri)
	if err != nil {
		return nil, err
	}
	return OpenLocation(ctx, loc, o)
}

// OpenLocation opens a parsed key URI.
func OpenLocation(ctx context.Context, loc Location, o Options) (Key, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	switch loc.Scheme {
	case SchemePKCS11:
		return openPKCS11(loc.PKCS11, o)
	case SchemeAWSKMS:
		return openKMS(ctx, loc.KMS, o)
	}
	k, err := jose.LoadPrivateKeyFile(loc.Path)
	if err != nil {
		return nil, err
	}
	return fileKey{k}, nil
}

// fileKey is a key read from a PEM file: always ready, nothing to close.
type fileKey struct{ crypto.Signer }

func (fileKey) Ready(context.Context) error { return nil }
func (fileKey) Close() error                { return nil }

// String names the kind of source for logs and errors.
func (l Location) kind() string {
	switch l.Scheme {
	case SchemePKCS11:
		return "PKCS#11 token"
	case SchemeAWSKMS:
		return "AWS KMS"
	}
	return "file"
}

// Describe says where a key URI points, without secrets, for config check output.
func Describe(uri string) string {
	loc, err := Parse(uri)
	if err != nil {
		return fmt.Sprintf("unparseable key URI (%v)", err)
	}
	return loc.kind() + " " + loc.String()
}
