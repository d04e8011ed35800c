package pki

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/ofpdp/ofpdp/internal/jose"
)

// The three certificates PayNet asks a DP for (spec paynet-dp.md §4.1, §4.2; design.md §8).
const (
	CSRMTLS    = "mtls"    // dp-mtls: TLS client certificate for calls to PayNet
	CSRSigning = "signing" // dp-sig: JWS signing certificate (PATCH, responses, id_token)
	CSRServer  = "server"  // dp-server: TLS server certificate of the api and web listeners
)

// CSRKinds lists the kinds CreateCSR accepts.
var CSRKinds = []string{CSRMTLS, CSRSigning, CSRServer}

// CSROptions describe one certificate signing request.
type CSROptions struct {
	Kind    string   // CSRMTLS, CSRSigning or CSRServer
	Subject string   // RFC 4514 string, e.g. "CN=ofp.bank.com.my,O=Bank Berhad,C=MY"
	Hosts   []string // DNS names and IPs (server only; required there)
	Rand    io.Reader
}

var (
	oidKeyUsage    = asn1.ObjectIdentifier{2, 5, 29, 15}
	oidExtKeyUsage = asn1.ObjectIdentifier{2, 5, 29, 37}
	oidServerAuth  = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 1}
	oidClientAuth  = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 2}
)

// CreateCSR returns a PEM PKCS#10 request (RFC 2986), signed by key (which may live in an HSM),
// for the bank's CA. It asks for the key usages of the kind (RFC 5280 §4.2.1.3, §4.2.1.12):
// digitalSignature for all three, plus clientAuth (mtls) or serverAuth and the hosts as SANs
// (server). The CA decides what it grants.
func CreateCSR(key crypto.Signer, o CSROptions) ([]byte, error) {
	subject, err := ParseSubject(o.Subject)
	if err != nil {
		return nil, err
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	tmpl := &x509.CertificateRequest{Subject: subject}
	usage := asn1.BitString{Bytes: []byte{0x80}, BitLength: 1} // digitalSignature
	var eku []asn1.ObjectIdentifier
	switch o.Kind {
	case CSRMTLS:
		eku = []asn1.ObjectIdentifier{oidClientAuth}
	case CSRSigning:
		if _, err := signingAlg(key); err != nil {
			return nil, err
		}
	case CSRServer:
		if len(o.Hosts) == 0 {
			return nil, fmt.Errorf("%w: a server certificate request needs the hosts (--hosts)", ErrOptions)
		}
		for _, h := range o.Hosts {
			if ip := net.ParseIP(h); ip != nil {
				tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
			} else {
				tmpl.DNSNames = append(tmpl.DNSNames, h)
			}
		}
		eku = []asn1.ObjectIdentifier{oidServerAuth}
		if _, ok := key.Public().(*rsa.PublicKey); ok {
			usage = asn1.BitString{Bytes: []byte{0xa0}, BitLength: 3} // digitalSignature, keyEncipherment
		}
	default:
		return nil, fmt.Errorf("%w: CSR kind %q (want %s)", ErrOptions, o.Kind, strings.Join(CSRKinds, ", "))
	}
	ku, err := asn1.Marshal(usage)
	if err != nil {
		return nil, err
	}
	tmpl.ExtraExtensions = []pkix.Extension{{Id: oidKeyUsage, Critical: true, Value: ku}}
	if eku != nil {
		v, err := asn1.Marshal(eku)
		if err != nil {
			return nil, err
		}
		tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, pkix.Extension{Id: oidExtKeyUsage, Value: v})
	}
	der, err := x509.CreateCertificateRequest(o.Rand, tmpl, key)
	if err != nil {
		return nil, fmt.Errorf("pki: sign the CSR: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}), nil
}

// ParseSubject reads an RFC 4514 distinguished name with the attributes CAs ask for: CN, O, OU,
// C, ST, L, SERIALNUMBER; "\," escapes a comma inside a value.
func ParseSubject(s string) (pkix.Name, error) {
	var n pkix.Name
	if strings.TrimSpace(s) == "" {
		return n, fmt.Errorf("%w: empty subject (want e.g. CN=ofp.bank.com.my,O=Bank Berhad,C=MY)", ErrOptions)
	}
	var parts []string
	var cur strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
		case s[i] == ',':
			parts = append(parts, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(s[i])
		}
	}
	parts = append(parts, cur.String())
	for _, p := range parts {
		typ, val, ok := strings.Cut(p, "=")
		typ, val = strings.ToUpper(strings.TrimSpace(typ)), strings.TrimSpace(val)
		if !ok || val == "" {
			return n, fmt.Errorf("%w: subject part %q is not TYPE=value", ErrOptions, p)
		}
		switch typ {
		case "CN":
			if n.CommonName != "" {
				return n, fmt.Errorf("%w: subject has two CN", ErrOptions)
			}
			n.CommonName = val
		case "O":
			n.Organization = append(n.Organization, val)
		case "OU":
			n.OrganizationalUnit = append(n.OrganizationalUnit, val)
		case "C":
			if len(val) != 2 {
				return n, fmt.Errorf("%w: subject C=%q is not a two-letter country code", ErrOptions, val)
			}
			n.Country = append(n.Country, strings.ToUpper(val))
		case "ST":
			n.Province = append(n.Province, val)
		case "L":
			n.Locality = append(n.Locality, val)
		case "SERIALNUMBER":
			n.SerialNumber = val
		default:
			return n, fmt.Errorf("%w: subject attribute %q (want CN, O, OU, C, ST, L or SERIALNUMBER)", ErrOptions, typ)
		}
	}
	if n.CommonName == "" {
		return n, fmt.Errorf("%w: subject needs a CN", ErrOptions)
	}
	return n, nil
}

// signingAlg refuses keys the JWS profile cannot sign with (design.md §3.4).
func signingAlg(key crypto.Signer) (string, error) {
	alg, err := jose.AlgForKey(key.Public())
	if err != nil {
		return "", fmt.Errorf("%w: signing key: %v", ErrOptions, err)
	}
	return alg, nil
}
