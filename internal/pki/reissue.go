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
	cert, crt, ca, err := issueFromCA(dir, identities[i], pub, hosts, now)
	if err != nil {
		return nil, err
	}
	files := []file{crt}
	for _, j := range jwksFiles {
		if !slices.Contains(j.members, name) {
			continue
		}
		f, err := renderJWKS(dir, j.name, j.members, map[string]*x509.Certificate{name: cert}, ca)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	if err := writeAll(dir, files, true, placeFile); err != nil {
		return nil, err
	}
	if err := os.Remove(filepath.Join(dir, name+".key")); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("pki: %w", err)
	}
	return cert, nil
}

// IssuePEM has the development CA in dir certify pub as a certificate of the kind of identity
// name ("dp-sig"), and returns it as PEM without writing anything: e.g. the next signing key
// of a rotation in the sandbox.
func IssuePEM(dir, name string, pub crypto.PublicKey, now time.Time) ([]byte, error) {
	i := slices.IndexFunc(identities, func(id identity) bool { return id.name == name })
	if i < 0 {
		return nil, fmt.Errorf("%w: no identity %q in the layout", ErrOptions, name)
	}
	_, crt, _, err := issueFromCA(dir, identities[i], pub, DefaultHosts, now)
	return crt.data, err
}

// issueFromCA loads the CA of dir and issues id's certificate for pub.
func issueFromCA(dir string, id identity, pub crypto.PublicKey, hosts []string, now time.Time) (*x509.Certificate, file, *x509.Certificate, error) {
	caChain, err := jose.LoadCertificatesFile(filepath.Join(dir, caName+".crt"))
	if err != nil {
		return nil, file{}, nil, err
	}
	caKey, err := jose.LoadPrivateKeyFile(filepath.Join(dir, caName+".key"))
	if err != nil {
		return nil, file{}, nil, err
	}
	start := now.UTC().Truncate(time.Second)
	cert, crt, err := issueCert(rand.Reader, id.name, certTemplate(id, hosts, start.Add(-5*time.Minute), start.AddDate(0, Validity, 0)), pub, caChain[0], caKey)
	return cert, crt, caChain[0], err
}

// renderJWKS renders the JWKS file name from the certificates of members in dir, or from
// override where it has one.
func renderJWKS(dir, name string, members []string, override map[string]*x509.Certificate, ca *x509.Certificate) (file, error) {
	certs := map[string]*x509.Certificate{}
	for _, m := range members {
		if c, ok := override[m]; ok {
			certs[m] = c
			continue
		}
		c, err := jose.LoadCertificatesFile(filepath.Join(dir, m+".crt"))
		if err != nil {
			return file{}, err
		}
		certs[m] = c[0]
	}
	f, _, err := jwksFile(name, members, certs, ca)
	return f, err
}

// RestoreJWKS renders the JWKS files of dir again from its certificates, as Generate wrote them
// (e.g. after the sandbox published a key ring in dp.jwks.json).
func RestoreJWKS(dir string) error {
	ca, err := jose.LoadCertificatesFile(filepath.Join(dir, caName+".crt"))
	if err != nil {
		return err
	}
	var files []file
	for _, j := range jwksFiles {
		f, err := renderJWKS(dir, j.name, j.members, nil, ca[0])
		if err != nil {
			return err
		}
		files = append(files, f)
	}
	return writeAll(dir, files, true, placeFile)
}
