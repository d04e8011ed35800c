package pki

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/ofpdp/ofpdp/internal/mtls"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ofpdp/ofpdp/internal/jose"
)

// ExpiryWarning is how close to its end a certificate's validity must be for
// Inspect to warn.
const ExpiryWarning = 30 * 24 * time.Hour

// ErrNotInspectable: the input is neither PEM certificates nor a JWKS.
var ErrNotInspectable = errors.New("pki: not a PEM certificate, chain or JWKS")

// Item is one certificate or JWKS key that Inspect looked at.
type Item struct {
	Label string            // "certificate 1 of 2" or "key 1 (kid …)"
	Cert  *x509.Certificate // nil for a JWKS key without x5c
	Kid   string            // JWKS keys only
	Use   string            // JWKS keys only
	Alg   string            // JWKS keys only
	// Fingerprint is the SHA-256 of the certificate DER in hex, Thumbprint
	// its x5t#S256; both empty without a certificate.
	Fingerprint, Thumbprint string
	// JWK is the public JWK (without x5c) in compact JSON, or empty when
	// the key does not fit the PayNet profile; JWKError then says why.
	JWK      string
	JWKError string
}

// Report is what Inspect found.
type Report struct {
	Kind     string   // "PEM" or "JWKS"
	Items    []Item   //
	Warnings []string // certificates close to expiry or not yet valid
	Expired  []string // certificates past NotAfter
}

// InspectFile reads path and inspects it (see Inspect).
func InspectFile(path string, now time.Time) (*Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	r, err := Inspect(b, now)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// Inspect describes PEM certificates (one or a chain) or a JWKS: subject,
// issuer, validity, SHA-256 fingerprint, x5t#S256 and the public JWK of each.
// Certificates expiring within ExpiryWarning are listed in Warnings, expired
// ones in Expired.
func Inspect(data []byte, now time.Time) (*Report, error) {
	trimmed := bytes.TrimSpace(data)
	r := &Report{}
	switch {
	case bytes.HasPrefix(trimmed, []byte("{")):
		ks, err := jose.ParseJWKS(trimmed)
		if err != nil {
			return nil, err
		}
		r.Kind = "JWKS"
		for i, k := range ks.Keys {
			it := Item{Label: fmt.Sprintf("key %d of %d", i+1, len(ks.Keys)), Kid: k.Kid, Use: k.Use, Alg: k.Alg}
			if len(k.Chain) > 0 {
				it.Cert = k.Chain[0]
				it.Fingerprint, it.Thumbprint = mtls.Fingerprint(it.Cert), jose.Thumbprint(it.Cert)
			}
			it.JWK, it.JWKError = jwkJSON(jose.PublicKey{Kid: k.Kid, Use: k.Use, Alg: k.Alg, Key: k.Key, Thumbprint: k.Thumbprint})
			r.add(it, now)
		}
	case bytes.Contains(trimmed, []byte("-----BEGIN CERTIFICATE-----")):
		certs, err := jose.ParseCertificatesPEM(trimmed)
		if err != nil {
			return nil, err
		}
		r.Kind = "PEM"
		for i, c := range certs {
			it := Item{Label: fmt.Sprintf("certificate %d of %d", i+1, len(certs)), Cert: c,
				Fingerprint: mtls.Fingerprint(c), Thumbprint: jose.Thumbprint(c)}
			use := jose.UseSig
			if c.KeyUsage&x509.KeyUsageKeyEncipherment != 0 && c.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
				use = jose.UseEnc
			}
			pk, err := jose.PublicKeyFromChain([]*x509.Certificate{c}, use, "")
			if err != nil {
				it.JWKError = err.Error()
			} else {
				pk.Chain = nil
				it.JWK, it.JWKError = jwkJSON(pk)
			}
			r.add(it, now)
		}
	case bytes.Contains(trimmed, []byte("PRIVATE KEY-----")):
		return nil, fmt.Errorf("%w: it holds a private key; inspect the matching .crt", ErrNotInspectable)
	default:
		return nil, ErrNotInspectable
	}
	return r, nil
}

func (r *Report) add(it Item, now time.Time) {
	r.Items = append(r.Items, it)
	if it.Cert == nil {
		return
	}
	name := it.Cert.Subject.String()
	switch left := it.Cert.NotAfter.Sub(now); {
	case left < 0:
		r.Expired = append(r.Expired, fmt.Sprintf("%s: %s expired on %s", it.Label, name, it.Cert.NotAfter.UTC().Format(time.RFC3339)))
	case left < ExpiryWarning:
		r.Warnings = append(r.Warnings, fmt.Sprintf("%s: %s expires in %s, on %s", it.Label, name, days(left), it.Cert.NotAfter.UTC().Format(time.RFC3339)))
	}
	if now.Before(it.Cert.NotBefore) {
		r.Warnings = append(r.Warnings, fmt.Sprintf("%s: %s is not valid before %s", it.Label, name, it.Cert.NotBefore.UTC().Format(time.RFC3339)))
	}
}

// jwkJSON renders one public JWK through jose.KeySet.JSON, so the output is
// exactly what a published JWKS would hold.
func jwkJSON(pk jose.PublicKey) (jwk, problem string) {
	if pk.Kid == "" {
		pk.Kid = pk.Thumbprint
	}
	raw, err := (&jose.KeySet{Keys: []jose.PublicKey{pk}}).JSON()
	if err != nil {
		return "", err.Error()
	}
	var set struct{ Keys []json.RawMessage }
	if err := json.Unmarshal(raw, &set); err != nil || len(set.Keys) != 1 {
		return "", "cannot render the JWK"
	}
	return string(set.Keys[0]), ""
}

func days(d time.Duration) string {
	n := int(d.Hours() / 24)
	if n == 1 {
		return "1 day"
	}
	if n == 0 {
		return "less than a day"
	}
	return fmt.Sprintf("%d days", n)
}

// Write prints the report for a person.
func (r *Report) Write(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for i, it := range r.Items {
		if i > 0 {
			fmt.Fprintln(tw)
		}
		fmt.Fprintf(tw, "%s\n", it.Label)
		if it.Kid != "" {
			fmt.Fprintf(tw, "  kid:\t%s\n  use:\t%s\n  alg:\t%s\n", it.Kid, it.Use, it.Alg)
		}
		if c := it.Cert; c != nil {
			fmt.Fprintf(tw, "  subject:\t%s\n", c.Subject)
			fmt.Fprintf(tw, "  issuer:\t%s\n", c.Issuer)
			fmt.Fprintf(tw, "  not before:\t%s\n", c.NotBefore.UTC().Format(time.RFC3339))
			fmt.Fprintf(tw, "  not after:\t%s\n", c.NotAfter.UTC().Format(time.RFC3339))
			if c.IsCA {
				fmt.Fprintf(tw, "  CA:\tyes\n")
			}
			if sans := sanList(c); sans != "" {
				fmt.Fprintf(tw, "  SANs:\t%s\n", sans)
			}
			fmt.Fprintf(tw, "  SHA-256:\t%s\n", it.Fingerprint)
			fmt.Fprintf(tw, "  x5t#S256:\t%s\n", it.Thumbprint)
		}
		if it.JWK != "" {
			fmt.Fprintf(tw, "  JWK:\t%s\n", it.JWK)
		} else {
			fmt.Fprintf(tw, "  JWK:\tnone (%s)\n", it.JWKError)
		}
	}
	return tw.Flush()
}

func sanList(c *x509.Certificate) string {
	var out []string
	out = append(out, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		out = append(out, ip.String())
	}
	return strings.Join(out, ", ")
}

// WriteSummary prints what Generate wrote: each certificate with its subject,
// SHA-256 fingerprint and x5t#S256, then the JWKS files and their kids.
func (r *Result) WriteSummary(w io.Writer) error {
	fmt.Fprintf(w, "Development PKI written to %s (valid %d months; private keys are 0600):\n\n", r.Dir, Validity)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FILES\tSUBJECT\tSHA-256\tx5t#S256")
	for _, c := range r.Certs {
		stem := strings.TrimSuffix(c.File, ".crt")
		fmt.Fprintf(tw, "%s.crt/.key\t%s\t%s\t%s\n", stem, c.Subject, c.Fingerprint, c.Thumbprint)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "JWKS\tKEYS (kid = x5t#S256)")
	for _, ks := range r.KeySets {
		var keys []string
		for _, k := range ks.Keys {
			keys = append(keys, fmt.Sprintf("%s %s/%s %s", certStem(r, k.Thumbprint), k.Use, k.Alg, k.Kid))
		}
		fmt.Fprintf(tw, "%s\t%s\n", ks.File, strings.Join(keys, "; "))
	}
	return tw.Flush()
}

func certStem(r *Result, thumbprint string) string {
	for _, c := range r.Certs {
		if c.Thumbprint == thumbprint {
			return strings.TrimSuffix(c.File, ".crt")
		}
	}
	return "?"
}
