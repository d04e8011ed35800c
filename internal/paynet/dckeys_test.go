package paynet

import (
	"bytes"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ofpdp/ofpdp/internal/jose"
)

func newDCKeysRig(t *testing.T, doc []byte) (*DCKeys, *jwksServer, *fakeClock) {
	t.Helper()
	srv := newJWKSServer(t, true, doc)
	clock := newClock()
	d, err := NewDCKeys(DCKeysOptions{
		Client:      srv.srv.Client(),
		URLTemplate: srv.srv.URL + "/v1/jwks/{dc_id}",
		Now:         clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return d, srv, clock
}

// TestDCEncryptionKey (spec §4.3, negative-tests D12): the DC key is the one whose x5t#S256 is
// x-enc-kid and whose use is enc; the JWKS URL carries the escaped dc_id; a sig key's thumbprint
// or an unknown one is ErrUnknownEncKey after one refresh; the key found encrypts to the DC.
func TestDCEncryptionKey(t *testing.T) {
	p := newTestPKI(t)
	encPriv, enc := p.encKey(t, "dc-enc", 0)
	sig := publicOf(t, p.signingKey(t, "dc-sig"), "sig")
	d, srv, clock := newDCKeysRig(t, jwksJSON(t, sig, enc))
	const dc = "DC 01/ä"

	got, err := d.EncryptionKey(t.Context(), dc, enc.Thumbprint)
	if err != nil {
		t.Fatal(err)
	}
	if got.Thumbprint != enc.Thumbprint || got.Use != "enc" {
		t.Fatalf("EncryptionKey = %+v", got)
	}
	if paths := srv.seen().paths; !slices.Equal(paths, []string{"/v1/jwks/DC%2001%2F%C3%A4"}) {
		t.Errorf("JWKS paths = %q", paths)
	}

	// The key works: what is encrypted to it opens with the DC's private key and names it.
	jwe, err := jose.Encrypt([]byte(`{"data":{}}`), got)
	if err != nil {
		t.Fatal(err)
	}
	plain, kid, err := jose.Decrypt(jwe, encPriv)
	if err != nil || kid != enc.Thumbprint || string(plain) != `{"data":{}}` {
		t.Errorf("Decrypt = %q, %q, %v", plain, kid, err)
	}

	if _, err := d.EncryptionKey(t.Context(), dc, sig.Thumbprint); !errors.Is(err, ErrUnknownEncKey) {
		t.Errorf("sig key's thumbprint as x-enc-kid: %v", err)
	}
	if n := srv.count(); n != 2 {
		t.Errorf("requests = %d, want 2 (one refresh on the miss)", n)
	}
	if _, err := d.EncryptionKey(t.Context(), dc, "unknown-thumbprint"); !errors.Is(err, ErrUnknownEncKey) {
		t.Errorf("unknown x-enc-kid: %v", err)
	}
	if n := srv.count(); n != 2 {
		t.Errorf("requests = %d, want 2 (refresh rate-limited)", n)
	}
	if _, err := d.EncryptionKey(t.Context(), dc, ""); !errors.Is(err, ErrUnknownEncKey) {
		t.Errorf("empty x-enc-kid: %v", err)
	}

	// The DC rotates its encryption key: found after the next allowed refresh.
	_, enc2 := p.encKey(t, "dc-enc-2", 1)
	srv.set(jwksJSON(t, sig, enc, enc2))
	clock.Advance(DefaultMinRefreshInterval)
	if _, err := d.EncryptionKey(t.Context(), dc, enc2.Thumbprint); err != nil {
		t.Errorf("rotated key: %v", err)
	}
	if n := srv.count(); n != 3 {
		t.Errorf("requests = %d, want 3", n)
	}
}

// TestDCKeysPerDC: each DC has its own set and cache.
func TestDCKeysPerDC(t *testing.T) {
	p := newTestPKI(t)
	_, enc := p.encKey(t, "dc-enc", 0)
	d, srv, _ := newDCKeysRig(t, jwksJSON(t, enc))
	for _, dc := range []string{"DC-A", "DC-B", "DC-A", "DC-B"} {
		if _, err := d.EncryptionKey(t.Context(), dc, enc.Thumbprint); err != nil {
			t.Fatal(err)
		}
	}
	if paths := srv.seen().paths; !slices.Equal(paths, []string{"/v1/jwks/DC-A", "/v1/jwks/DC-B"}) {
		t.Errorf("JWKS paths = %q", paths)
	}
}

// TestDCKeysUnavailable (negative-tests O1, D12): a DC JWKS that cannot be fetched is
// ErrKeysUnavailable, never a fallback key; after a good fetch it is served until the TTL ends.
func TestDCKeysUnavailable(t *testing.T) {
	p := newTestPKI(t)
	_, enc := p.encKey(t, "dc-enc", 0)
	d, srv, clock := newDCKeysRig(t, jwksJSON(t, enc))
	srv.setDown(true)
	if _, err := d.EncryptionKey(t.Context(), "DC-A", enc.Thumbprint); !errors.Is(err, ErrKeysUnavailable) {
		t.Errorf("down from the start: %v", err)
	}
	srv.setDown(false)
	clock.Advance(DefaultMinRefreshInterval)
	if _, err := d.EncryptionKey(t.Context(), "DC-A", enc.Thumbprint); err != nil {
		t.Fatal(err)
	}
	srv.setDown(true)
	clock.Advance(MaxKeysTTL - time.Second)
	if _, err := d.EncryptionKey(t.Context(), "DC-A", enc.Thumbprint); err != nil {
		t.Errorf("within TTL: %v", err)
	}
	clock.Advance(time.Second)
	if _, err := d.EncryptionKey(t.Context(), "DC-A", enc.Thumbprint); !errors.Is(err, ErrKeysUnavailable) {
		t.Errorf("after TTL: %v", err)
	}
	for _, dc := range []string{"", strings.Repeat("x", 37)} {
		if _, err := d.EncryptionKey(t.Context(), dc, enc.Thumbprint); !errors.Is(err, ErrKeysUnavailable) {
			t.Errorf("dc_id %q: %v", dc, err)
		}
	}
}

func TestNewDCKeysOptions(t *testing.T) {
	c := &http.Client{}
	bad := map[string]DCKeysOptions{
		"no client":         {URLTemplate: "https://paynet.example/v1/jwks/{dc_id}"},
		"no placeholder":    {Client: c, URLTemplate: "https://paynet.example/v1/jwks"},
		"two placeholders":  {Client: c, URLTemplate: "https://paynet.example/{dc_id}/{dc_id}"},
		"plain http":        {Client: c, URLTemplate: "http://paynet.example/v1/jwks/{dc_id}"},
		"relative":          {Client: c, URLTemplate: "/v1/jwks/{dc_id}"},
		"unparseable":       {Client: c, URLTemplate: "https://[::1/{dc_id}"},
		"placeholder alone": {Client: c, URLTemplate: "{dc_id}"},
	}
	for name, o := range bad {
		if _, err := NewDCKeys(o); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := NewDCKeys(DCKeysOptions{Client: c, URLTemplate: "https://paynet.example/v1/jwks/{dc_id}?x=1"}); err != nil {
		t.Errorf("good template refused: %v", err)
	}
}

// TestDCKeysLogsNoKeyMaterial: failure logs name the DC, not key material.
func TestDCKeysLogsNoKeyMaterial(t *testing.T) {
	p := newTestPKI(t)
	_, enc := p.encKey(t, "dc-enc", 0)
	doc := jwksJSON(t, enc)
	d, srv, _ := newDCKeysRig(t, doc)
	var logs bytes.Buffer
	d.o.Logger = newTestLogger(&logs)
	srv.setDown(true)
	_, _ = d.EncryptionKey(t.Context(), "DC-A", enc.Thumbprint)
	if !strings.Contains(logs.String(), "dc_id=DC-A") || strings.Contains(logs.String(), `"n"`) {
		t.Errorf("log = %s", logs.String())
	}
}
