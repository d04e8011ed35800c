package pki

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"github.com/ofpdp/ofpdp/internal/mtls"
	"io"
	"math/big"
	"net"
	"strings"
	"time"

	"github.com/ofpdp/ofpdp/internal/jose"
)

// Validity is how long every generated certificate is valid (spec §4.1 asks
// for at least 12 months).
const Validity = 13 // months

// Default values of Options.
var (
	DefaultHosts  = []string{"localhost", "127.0.0.1"}
	DefaultSigAlg = jose.AlgPS256
)

// SigAlgs are the accepted values of Options.SigAlg (design §3.4).
var SigAlgs = []string{jose.AlgPS256, jose.AlgES384, jose.AlgES512}

// Sentinel errors.
var (
	// ErrExists: a target file exists and Options.Force is not set; nothing was changed.
	ErrExists = errors.New("pki: files already exist")
	// ErrOptions: an option is invalid.
	ErrOptions = errors.New("pki: invalid option")
)

// Options tune Generate. The zero value generates the default set.
type Options struct {
	// Hosts are the SANs of the two server certificates (dp-server,
	// paynet-server); IP literals become IP SANs. Default DefaultHosts.
	Hosts []string
	// SigAlg picks the key type of paynet-sig, dp-sig and dc-sig:
	// PS256 → RSA-2048, ES384 → P-384, ES512 → P-521. Default PS256.
	SigAlg string
	// Force overwrites existing files; without it Generate refuses with ErrExists.
	Force bool
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Rand supplies certificate serial numbers and signing randomness; default
	// crypto/rand. Since Go 1.26 key generation always uses the system's
	// secure source (see testing/cryptotest.SetGlobalRandom).
	Rand io.Reader
}

// role is what a certificate is for; it decides key type and usages.
type role int

const (
	roleServer role = iota
	roleClient
	roleSig
	roleEnc
)

// identity is one key pair of the layout.
type identity struct {
	name  string // file stem
	party string // organisational unit
	role  role
}

// identities lists the key pairs of design §8 in the order they are written.
var identities = []identity{
	{"paynet-mtls", "PayNet OFP", roleClient},
	{"paynet-sig", "PayNet OFP", roleSig},
	{"paynet-server", "PayNet OFP", roleServer},
	{"dp-server", "Data Provider", roleServer},
	{"dp-mtls", "Data Provider", roleClient},
	{"dp-sig", "Data Provider", roleSig},
	{"dc-enc", "Data Consumer", roleEnc},
	{"dc-sig", "Data Consumer", roleSig},
}

// jwksFiles lists the published key sets and the identities in each.
var jwksFiles = []struct {
	name    string
	members []string
}{
	{"paynet.jwks.json", []string{"paynet-sig"}},
	{"dp.jwks.json", []string{"dp-sig"}},
	{"dc.jwks.json", []string{"dc-sig", "dc-enc"}},
}

const (
	caName       = "ca"
	organization = "ofpdp development"
)

// FileNames returns every file Generate writes, in order.
func FileNames() []string {
	out := []string{caName + ".crt", caName + ".key"}
	for _, id := range identities {
		out = append(out, id.name+".crt", id.name+".key")
	}
	for _, j := range jwksFiles {
		out = append(out, j.name)
	}
	return out
}

// Cert summarises one generated certificate.
type Cert struct {
	File        string // certificate file name, e.g. "dp-sig.crt"; the key is beside it as .key
	Subject     string // RFC 2253 string, as config paynet.client_cert_subjects expects
	Fingerprint string // SHA-256 of the DER, lower-case hex (config paynet.client_cert_fingerprints)
	Thumbprint  string // x5t#S256 (RFC 7515 §4.1.8): the JWK kid and, for dc-enc, PayNet's x-enc-kid
}

// KeySetFile summarises one generated JWKS file.
type KeySetFile struct {
	File string
	Keys []jose.PublicKey
}

// Result tells what Generate wrote.
type Result struct {
	Dir     string
	Certs   []Cert       // ca first, then design §8 order
	KeySets []KeySetFile // paynet, dp, dc
}

// Cert returns the summary of the certificate whose file stem is name ("dp-sig").
func (r *Result) Cert(name string) (Cert, bool) {
	for _, c := range r.Certs {
		if c.File == name+".crt" {
			return c, true
		}
	}
	return Cert{}, false
}

// file is one file to write.
type file struct {
	name string
	data []byte
	mode uint32
}

// Generate creates the development PKI of design §8 in dir (created 0700 when
// missing): private keys PKCS#8 PEM 0600, certificates PEM 0644, JWKS 0644.
// All files are built in memory and written through a temporary directory,
// then moved into place; if any step fails, dir is left as it was. Without
// opts.Force, any existing target file makes it fail with ErrExists before
// anything is written.
func Generate(dir string, opts Options) (*Result, error) {
	if !opts.Force {
		// Refuse before spending time on keys; writeAll checks again.
		if err := checkAbsent(dir, FileNames()); err != nil {
			return nil, err
		}
	}
	files, res, err := build(opts)
	if err != nil {
		return nil, err
	}
	res.Dir = dir
	if err := writeAll(dir, files, opts.Force, placeFile); err != nil {
		return nil, err
	}
	return res, nil
}

func (o *Options) defaults() error {
	if len(o.Hosts) == 0 {
		o.Hosts = DefaultHosts
	}
	for _, h := range o.Hosts {
		if h == "" || strings.ContainsAny(h, " /:,") && net.ParseIP(h) == nil {
			return fmt.Errorf("%w: host %q is neither a DNS name nor an IP address", ErrOptions, h)
		}
	}
	if o.SigAlg == "" {
		o.SigAlg = DefaultSigAlg
	}
	switch o.SigAlg {
	case jose.AlgPS256, jose.AlgES384, jose.AlgES512:
	default:
		return fmt.Errorf("%w: signature algorithm %q (want %s)", ErrOptions, o.SigAlg, strings.Join(SigAlgs, ", "))
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	return nil
}

// build generates every key, certificate and JWKS in memory.
func build(opts Options) ([]file, *Result, error) {
	if err := opts.defaults(); err != nil {
		return nil, nil, err
	}
	now := opts.Now().UTC().Truncate(time.Second)
	notBefore, notAfter := now.Add(-5*time.Minute), now.AddDate(0, Validity, 0)
	res := &Result{}
	var files []file

	caKey, err := rsa.GenerateKey(opts.Rand, 2048)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: generate CA key: %w", err)
	}
	caTmpl := &x509.Certificate{
		Subject:               pkix.Name{Organization: []string{organization}, CommonName: "ofpdp development CA"},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	}
	ca, caFiles, err := issue(opts.Rand, caName, caTmpl, caKey, nil, caKey)
	if err != nil {
		return nil, nil, err
	}
	files = append(files, caFiles...)
	res.Certs = append(res.Certs, summarize(caName, ca))

	certs := map[string]*x509.Certificate{}
	for _, id := range identities {
		key, err := newKey(opts.Rand, id.role, opts.SigAlg)
		if err != nil {
			return nil, nil, fmt.Errorf("pki: generate %s key: %w", id.name, err)
		}
		tmpl := certTemplate(id, opts.Hosts, notBefore, notAfter)
		cert, fs, err := issue(opts.Rand, id.name, tmpl, key, ca, caKey)
		if err != nil {
			return nil, nil, err
		}
		files = append(files, fs...)
		certs[id.name] = cert
		res.Certs = append(res.Certs, summarize(id.name, cert))
	}

	for _, j := range jwksFiles {
		f, ks, err := jwksFile(j.name, j.members, certs, ca)
		if err != nil {
			return nil, nil, err
		}
		files = append(files, f)
		res.KeySets = append(res.KeySets, KeySetFile{File: j.name, Keys: ks.Keys})
	}
	return files, res, nil
}

// certTemplate is the certificate of one identity of the layout.
func certTemplate(id identity, hosts []string, notBefore, notAfter time.Time) *x509.Certificate {
	tmpl := &x509.Certificate{
		Subject:               pkix.Name{Organization: []string{organization}, OrganizationalUnit: []string{id.party}, CommonName: id.name},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		BasicConstraintsValid: true,
	}
	switch id.role {
	case roleServer:
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		for _, h := range hosts {
			if ip := net.ParseIP(h); ip != nil {
				tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
			} else {
				tmpl.DNSNames = append(tmpl.DNSNames, h)
			}
		}
	case roleClient:
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	case roleSig:
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	case roleEnc:
		tmpl.KeyUsage = x509.KeyUsageKeyEncipherment
	}
	return tmpl
}

// jwksFile renders the JWKS file name with the certificates of members (chained to ca).
func jwksFile(name string, members []string, certs map[string]*x509.Certificate, ca *x509.Certificate) (file, *jose.KeySet, error) {
	ks := &jose.KeySet{}
	for _, m := range members {
		use := jose.UseSig
		if strings.HasSuffix(m, "-enc") {
			use = jose.UseEnc
		}
		pk, err := jose.PublicKeyFromChain([]*x509.Certificate{certs[m], ca}, use, "")
		if err != nil {
			return file{}, nil, fmt.Errorf("pki: %s: %w", m, err)
		}
		ks.Keys = append(ks.Keys, pk)
	}
	raw, err := ks.JSON()
	if err != nil {
		return file{}, nil, fmt.Errorf("pki: %s: %w", name, err)
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, raw, "", "  "); err != nil {
		return file{}, nil, fmt.Errorf("pki: %s: %w", name, err)
	}
	pretty.WriteByte('\n')
	return file{name: name, data: pretty.Bytes(), mode: 0o644}, ks, nil
}

// newKey returns the key for a role: RSA-2048, except *-sig keys, whose type follows sigAlg.
func newKey(r io.Reader, ro role, sigAlg string) (crypto.Signer, error) {
	if ro == roleSig {
		switch sigAlg {
		case jose.AlgES384:
			return ecdsa.GenerateKey(elliptic.P384(), r)
		case jose.AlgES512:
			return ecdsa.GenerateKey(elliptic.P521(), r)
		}
	}
	return rsa.GenerateKey(r, 2048)
}

// issue signs tmpl (self-signed when parent is nil) and returns the parsed
// certificate with its .crt and .key files.
func issue(r io.Reader, name string, tmpl *x509.Certificate, key crypto.Signer, parent *x509.Certificate, parentKey crypto.Signer) (*x509.Certificate, []file, error) {
	cert, crt, err := issueCert(r, name, tmpl, key.Public(), parent, parentKey)
	if err != nil {
		return nil, nil, err
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: %s key: %w", name, err)
	}
	return cert, []file{crt, {name: name + ".key", data: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}), mode: 0o600}}, nil
}

// issueCert signs tmpl for pub (self-signed when parent is nil) and returns the parsed
// certificate and its .crt file.
func issueCert(r io.Reader, name string, tmpl *x509.Certificate, pub crypto.PublicKey, parent *x509.Certificate, parentKey crypto.Signer) (*x509.Certificate, file, error) {
	serial, err := serialNumber(r)
	if err != nil {
		return nil, file{}, fmt.Errorf("pki: %s serial: %w", name, err)
	}
	tmpl.SerialNumber = serial
	spki, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, file{}, fmt.Errorf("pki: %s: %w", name, err)
	}
	ski := sha256.Sum256(spki) // RFC 7093 §2 method 1: leftmost 160 bits of SHA-256
	tmpl.SubjectKeyId = ski[:20]
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(r, tmpl, parent, pub, parentKey)
	if err != nil {
		return nil, file{}, fmt.Errorf("pki: sign %s: %w", name, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, file{}, fmt.Errorf("pki: %s: %w", name, err)
	}
	return cert, file{name: name + ".crt", data: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), mode: 0o644}, nil
}

// serialNumber returns a positive random 127-bit serial (RFC 5280 §4.1.2.2: ≤ 20 octets).
func serialNumber(r io.Reader) (*big.Int, error) {
	b := make([]byte, 16)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, err
	}
	b[0] &= 0x7f
	b[0] |= 0x40 // never zero, always 16 octets
	return new(big.Int).SetBytes(b), nil
}

func summarize(name string, c *x509.Certificate) Cert {
	return Cert{File: name + ".crt", Subject: c.Subject.String(), Fingerprint: mtls.Fingerprint(c), Thumbprint: jose.Thumbprint(c)}
}
