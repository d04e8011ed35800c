package pki

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/ofpdp/ofpdp/internal/jose"
)

// Reissue has the development CA in dir issue a new certificate of identity name ("dp-sig")
// for pub, a key kept outside the directory (e.g. in an HSM, `ofpdp sandbox --hsm`). It
// replaces name.crt, renders again the JWKS files that publish name, and removes name.key,
// which no longer matches. hosts are the SANs of a server certificate (default DefaultHosts).
func Reissue(dir, name string, pub crypto.PublicKey, hosts []string, now time.Time) (*x509.Certificate, error) {
	i := slices.IndexFunc(identities, func(id identity) bool { return id.name == name })
	if i < 0 {
		return nil, fmt.Errorf("%w: no identity %q in the layout", ErrOptions, name)
	}
	if len(hosts) == 0 {
		hosts = DefaultHosts
	}
	p := func(n string) string { return filepath.Join(dir, n) }
	caChain, err := jose.LoadCertificatesFile(p(caName + ".crt"))
	if err != nil {
		return nil, err
	}
	caKey, err := jose.LoadPrivateKeyFile(p(caName + ".key"))
	if err != nil {
		return nil, err
	}
	ca := caChain[0]
	start := now.UTC().Truncate(time.Second)
	cert, crt, err := issueCert(rand.Reader, name, certTemplate(identities[i], hosts, start.Add(-5*time.Minute), start.AddDate(0, Validity, 0)), pub, ca, caKey)
	if err != nil {
		return nil, err
	}
	files := []file{crt}
	for _, j := range jwksFiles {
		if !slices.Contains(j.members, name) {
			continue
		}
		certs := map[string]*x509.Certificate{name: cert}
		for _, m := range j.members {
			if m == name {
				continue
			}
			c, err := jose.LoadCertificatesFile(p(m + ".crt"))
			if err != nil {
				return nil, err
			}
			certs[m] = c[0]
		}
		f, _, err := jwksFile(j.name, j.members, certs, ca)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	if err := writeAll(dir, files, true, placeFile); err != nil {
		return nil, err
	}
	if err := os.Remove(p(name + ".key")); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("pki: %w", err)
	}
	return cert, nil
}
