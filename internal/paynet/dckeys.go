package paynet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/ofpdp/ofpdp/internal/jose"
)

// ErrUnknownEncKey means the DC's JWKS has no key with use "enc" whose x5t#S256 equals the
// request's x-enc-kid, even after one rate-limited refresh (negative-tests D12: a defined error,
// never plaintext).
var ErrUnknownEncKey = errors.New("paynet: unknown DC encryption key")

// dcIDPlaceholder is replaced by the path-escaped dc_id in DCKeysOptions.URLTemplate.
const dcIDPlaceholder = "{dc_id}"

// maxDCIDLen is the longest dc_id accepted: spec §3.0 documents 36, but PayNet's own v1.2.1
// examples carry 39-character ids, so internal/consent and this package allow 64.
const maxDCIDLen = 64

// DCKeysOptions configures DCKeys.
type DCKeysOptions struct {
	// Client fetches the JWKS from PayNet (mTLS, see NewMTLSClient).
	Client *http.Client
	// URLTemplate is paynet.dc_jwks_url_template, an https URL containing {dc_id}.
	URLTemplate string
	// TTL and MinRefreshInterval apply to each DC's set, as in KeysOptions.
	TTL, MinRefreshInterval time.Duration
	Now                     func() time.Time
	Logger                  *slog.Logger
	// OnFetchFailure is KeysOptions.OnFetchFailure for every DC's set.
	OnFetchFailure func()
}

// DCKeys holds one Keys cache per dc_id, each over the JWKS PayNet publishes for that DC
// (spec §3.2.2; design.md §3.5). Safe for concurrent use.
type DCKeys struct {
	o DCKeysOptions

	mu   sync.Mutex
	byDC map[string]*Keys
}

// NewDCKeys checks o.
func NewDCKeys(o DCKeysOptions) (*DCKeys, error) {
	if o.Client == nil {
		return nil, errors.New("paynet: DCKeys needs an HTTP client")
	}
	if strings.Count(o.URLTemplate, dcIDPlaceholder) != 1 {
		return nil, fmt.Errorf("paynet: DC JWKS URL template %q must contain %s exactly once", o.URLTemplate, dcIDPlaceholder)
	}
	u, err := url.Parse(strings.Replace(o.URLTemplate, dcIDPlaceholder, "dc", 1))
	if err != nil {
		return nil, fmt.Errorf("paynet: DC JWKS URL template: %w", err)
	}
	if u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("paynet: DC JWKS URL template %q must be an https URL", o.URLTemplate)
	}
	return &DCKeys{o: o, byDC: make(map[string]*Keys)}, nil
}

// keys returns the cache of dcID, creating it on first use.
func (d *DCKeys) keys(dcID string) *Keys {
	d.mu.Lock()
	defer d.mu.Unlock()
	k, ok := d.byDC[dcID]
	if !ok {
		u := strings.Replace(d.o.URLTemplate, dcIDPlaceholder, url.PathEscape(dcID), 1)
		log := d.o.Logger
		if log == nil {
			log = slog.Default()
		}
		k = NewKeys(KeysOptions{
			Source:             HTTPSource(d.o.Client, u),
			TTL:                d.o.TTL,
			MinRefreshInterval: d.o.MinRefreshInterval,
			Now:                d.o.Now,
			Logger:             log.With("dc_id", dcID),
			OnFetchFailure:     d.o.OnFetchFailure,
		})
		d.byDC[dcID] = k
	}
	return k
}

// EncryptionKey returns the key of DC dcID whose x5t#S256 is encKid and whose use is "enc"
// (spec §4.3: x-enc-kid is the thumbprint of the DC encryption certificate), refreshing the DC's
// set once, rate-limited, on a miss. Errors wrap ErrUnknownEncKey or ErrKeysUnavailable.
func (d *DCKeys) EncryptionKey(ctx context.Context, dcID, encKid string) (jose.PublicKey, error) {
	if dcID == "" || len(dcID) > maxDCIDLen {
		return jose.PublicKey{}, fmt.Errorf("%w: dc_id must be 1 to %d characters", ErrKeysUnavailable, maxDCIDLen)
	}
	if encKid == "" {
		return jose.PublicKey{}, fmt.Errorf("%w: empty x-enc-kid", ErrUnknownEncKey)
	}
	find := func(s *jose.KeySet) (jose.PublicKey, bool) {
		k, ok := s.ByThumbprint(encKid, "enc")
		return k, ok && k.Use == "enc"
	}
	key, found, err := d.keys(dcID).lookup(ctx, find)
	if err != nil {
		return jose.PublicKey{}, err
	}
	if !found {
		return jose.PublicKey{}, fmt.Errorf("%w: dc_id %q, x-enc-kid %q", ErrUnknownEncKey, dcID, encKid)
	}
	return key, nil
}
