package doctor

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ofpdp/ofpdp/internal/config"
	"github.com/ofpdp/ofpdp/internal/jose"
	"github.com/ofpdp/ofpdp/internal/server"
	"github.com/ofpdp/ofpdp/internal/store"
)

// Status of one check.
type Status string

// Statuses; only Fail makes the doctor exit non-zero.
const (
	OK   Status = "ok"
	Warn Status = "warn"
	Fail Status = "FAIL"
)

// Result is one line of the report: what was checked, how it went, and for a warning or a
// failure what to do.
type Result struct {
	Check  string
	Status Status
	Detail string
	Fix    string
}

// MaxClockSkew is PayNet's tolerance for iat (spec §4.2); WarnClockSkew leaves room for drift.
const (
	MaxClockSkew  = 5 * time.Minute
	WarnClockSkew = 30 * time.Second
	// ExpiryWarning is how early a certificate's expiry is a warning (the alert's 30 days).
	ExpiryWarning = 30 * 24 * time.Hour
)

// Readier is a connector that can tell whether the core bank answers.
type Readier interface {
	Ready(ctx context.Context) error
}

// Options are what the doctor checks. Config must be loaded; ConfigErr is what Validate said.
type Options struct {
	Config    *config.Config
	ConfigErr error
	// PayNet is the mutual-TLS client to PayNet (nil when it could not be built; PayNetErr says why).
	PayNet    *http.Client
	PayNetErr error
	// DPJWKSFile, when set, is the JWKS handed to PayNet: the signing certificate's key must be in it.
	DPJWKSFile string
	// Connector is the configured connector (nil when it could not be opened; ConnectorErr says why).
	Connector    any
	ConnectorErr error
	Resolver     *net.Resolver
	Now          func() time.Time
}

// Run performs every check. With an invalid configuration only its problems are reported:
// the other checks would read the same broken settings.
func Run(ctx context.Context, o Options) []Result {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Resolver == nil {
		o.Resolver = net.DefaultResolver
	}
	if o.ConfigErr != nil {
		var out []Result
		for _, line := range strings.Split(strings.TrimSpace(o.ConfigErr.Error()), "\n") {
			out = append(out, Result{Check: "configuration", Status: Fail, Detail: strings.TrimSpace(line),
				Fix: "correct the key named (docs/configuration.md); `ofpdp serve --check-config` repeats this"})
		}
		return out
	}
	out := []Result{{Check: "configuration", Status: OK, Detail: "valid, file permissions and key/certificate pairs included"}}
	out = append(out, certificates(o)...)
	out = append(out, signingKeyInJWKS(o))
	out = append(out, payNet(ctx, o)...)
	out = append(out, database(ctx, o.Config))
	out = append(out, connectorHealth(ctx, o))
	return out
}

// Print writes the results as a table and reports whether any failed.
func Print(w io.Writer, results []Result) (failed bool) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CHECK\tSTATUS\tDETAIL\tFIX")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Check, r.Status, r.Detail, r.Fix)
		failed = failed || r.Status == Fail
	}
	tw.Flush()
	return failed
}

// certificates checks each certificate file's chain order and validity period.
func certificates(o Options) []Result {
	c := o.Config
	files := []struct{ key, file string }{
		{"tls.cert_file", c.TLS.CertFile},
		{"keys.mtls_cert_file", c.Keys.MTLSCertFile},
		{"keys.signing_cert_file", c.Keys.SigningCertFile},
		{"paynet.ca_file", c.PayNet.CAFile},
		{"ops.tls_cert_file", c.Ops.TLSCertFile},
		{"bank.http_cert_file", c.Bank.HTTPCertFile},
	}
	var out []Result
	for _, f := range files {
		if f.file == "" {
			continue
		}
		out = append(out, certificate(f.key, f.file, f.key == "paynet.ca_file", o.Now()))
	}
	return out
}

func certificate(key, file string, bundle bool, now time.Time) Result {
	r := Result{Check: "certificate " + key}
	chain, err := jose.LoadCertificatesFile(file)
	if err != nil {
		r.Status, r.Detail, r.Fix = Fail, err.Error(), "put the PEM certificate (chain, leaf first) at "+file
		return r
	}
	if !bundle {
		for i := 0; i+1 < len(chain); i++ {
			if err := chain[i].CheckSignatureFrom(chain[i+1]); err != nil {
				r.Status, r.Detail = Fail, fmt.Sprintf("certificate %d (%s) is not issued by the next one (%s)", i, chain[i].Subject, chain[i+1].Subject)
				r.Fix = "order the file leaf first, then each issuer"
				return r
			}
		}
	}
	for _, cert := range chain {
		switch {
		case now.After(cert.NotAfter):
			r.Status, r.Detail = Fail, fmt.Sprintf("%s expired on %s", cert.Subject, cert.NotAfter.UTC().Format(time.DateOnly))
			r.Fix = "renew it (docs/deploy.md, OfpdpCertificateExpiresSoon)"
			return r
		case now.Before(cert.NotBefore):
			r.Status, r.Detail = Fail, fmt.Sprintf("%s is valid only from %s", cert.Subject, cert.NotBefore.UTC().Format(time.RFC3339))
			r.Fix = "check this host's clock, or wait for the certificate's start"
			return r
		case cert.NotAfter.Sub(now) < ExpiryWarning:
			r.Status, r.Detail = Warn, fmt.Sprintf("%s expires on %s", cert.Subject, cert.NotAfter.UTC().Format(time.DateOnly))
			r.Fix = "renew it now (docs/deploy.md, OfpdpCertificateExpiresSoon)"
		}
	}
	if r.Status == "" {
		r.Status = OK
		r.Detail = fmt.Sprintf("%s, valid until %s", chain[0].Subject, earliest(chain).UTC().Format(time.DateOnly))
	}
	return r
}

func earliest(chain []*x509.Certificate) time.Time {
	t := chain[0].NotAfter
	for _, c := range chain[1:] {
		if c.NotAfter.Before(t) {
			t = c.NotAfter
		}
	}
	return t
}

// signingKeyInJWKS: PayNet verifies the DP's signatures with the JWKS it was given; the
// signing certificate's key must be in it.
func signingKeyInJWKS(o Options) Result {
	r := Result{Check: "signing key in the JWKS given to PayNet"}
	if o.DPJWKSFile == "" {
		r.Status, r.Detail, r.Fix = Warn, "not checked", "pass --dp-jwks FILE with the JWKS PayNet has (ofpdp pki inspect --jwks-out writes it)"
		return r
	}
	chain, err := jose.LoadCertificatesFile(o.Config.Keys.SigningCertFile)
	if err != nil {
		r.Status, r.Detail, r.Fix = Fail, err.Error(), "fix keys.signing_cert_file"
		return r
	}
	b, err := os.ReadFile(o.DPJWKSFile)
	var set *jose.KeySet
	if err == nil {
		set, err = jose.ParseJWKS(b)
	}
	if err != nil {
		r.Status, r.Detail, r.Fix = Fail, err.Error(), "pass the JWKS file PayNet has"
		return r
	}
	pub, ok := chain[0].PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	for _, k := range set.Keys {
		if ok && pub.Equal(k.Key) {
			r.Status, r.Detail = OK, "kid "+k.Kid
			return r
		}
	}
	r.Status, r.Detail = Fail, "the key of keys.signing_cert_file is not in "+o.DPJWKSFile
	r.Fix = "send PayNet the JWKS of the current signing key (ofpdp pki inspect --jwks-out) and wait for their confirmation"
	return r
}

// payNet checks DNS, TLS and mutual TLS to PayNet's endpoints and the clock against the Date
// header of the first answer.
func payNet(ctx context.Context, o Options) []Result {
	p := o.Config.PayNet
	targets := []struct{ name, raw string }{{"PayNet consent API", p.ConsentBaseURL}}
	if p.JWKSURL != "" {
		targets = append([]struct{ name, raw string }{{"PayNet JWKS", p.JWKSURL}}, targets...)
	}
	var out []Result
	var date time.Time
	var sawDate bool
	for _, t := range targets {
		r := Result{Check: t.name}
		u, err := url.Parse(t.raw)
		if err != nil {
			r.Status, r.Detail, r.Fix = Fail, err.Error(), "fix the URL"
			out = append(out, r)
			continue
		}
		if _, err := o.Resolver.LookupHost(ctx, u.Hostname()); err != nil {
			r.Status, r.Detail, r.Fix = Fail, "DNS: "+err.Error(), "make "+u.Hostname()+" resolvable from this host (resolv.conf, the cluster DNS)"
			out = append(out, r)
			continue
		}
		if o.PayNet == nil {
			r.Status, r.Detail, r.Fix = Fail, fmt.Sprint("no mTLS client: ", o.PayNetErr), "fix keys.mtls_* and paynet.ca_file"
			out = append(out, r)
			continue
		}
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		req, _ := http.NewRequestWithContext(rctx, http.MethodGet, t.raw, nil)
		resp, err := o.PayNet.Do(req)
		cancel()
		if err != nil {
			r.Status, r.Detail, r.Fix = Fail, err.Error(), reachFix(err)
			out = append(out, r)
			continue
		}
		resp.Body.Close()
		r.Status, r.Detail = OK, fmt.Sprintf("mutual TLS handshake done, HTTP %d", resp.StatusCode)
		if d, err := http.ParseTime(resp.Header.Get("Date")); err == nil && !sawDate {
			date, sawDate = d, true
		}
		out = append(out, r)
	}
	clock := Result{Check: "clock against PayNet"}
	switch skew := o.Now().Sub(date).Abs(); {
	case !sawDate:
		clock.Status, clock.Detail, clock.Fix = Warn, "PayNet answered with no Date header, or not at all", "check NTP on this host"
	case skew > MaxClockSkew:
		clock.Status, clock.Detail = Fail, fmt.Sprintf("off by %s; PayNet refuses an iat more than 5 minutes off", skew.Round(time.Second))
		clock.Fix = "synchronise this host's clock (chrony/NTP)"
	case skew > WarnClockSkew:
		clock.Status, clock.Detail, clock.Fix = Warn, fmt.Sprintf("off by %s", skew.Round(time.Second)), "synchronise this host's clock (chrony/NTP)"
	default:
		clock.Status, clock.Detail = OK, fmt.Sprintf("within %s", WarnClockSkew)
	}
	return append(out, clock)
}

// reachFix names the usual cause of a failed call to PayNet.
func reachFix(err error) string {
	var uerr x509.UnknownAuthorityError
	var herr x509.HostnameError
	var nerr net.Error
	switch {
	case errors.As(err, &uerr):
		return "PayNet's server certificate does not chain to paynet.ca_file: get PayNet's current CA bundle"
	case errors.As(err, &herr):
		return "the URL's host is not in PayNet's certificate: use the host name PayNet gave"
	case strings.Contains(err.Error(), "certificate required") || strings.Contains(err.Error(), "bad certificate") ||
		strings.Contains(err.Error(), "unknown certificate"):
		return "PayNet refused the client certificate (keys.mtls_cert_file): check PayNet has it registered"
	case errors.As(err, &nerr) && nerr.Timeout():
		return "no answer: open the egress firewall / NetworkPolicy to PayNet"
	}
	return "check egress to PayNet (firewall, proxy, NetworkPolicy)"
}

// database checks that the database answers and its schema is one this binary runs on.
func database(ctx context.Context, c *config.Config) Result {
	r := Result{Check: "database"}
	st, err := store.Open(ctx, c.Database.URL, store.Options{MaxOpenConns: 1})
	if err != nil {
		r.Status, r.Detail, r.Fix = Fail, err.Error(), "check database.url and that the database is reachable"
		return r
	}
	defer st.Close()
	if err := st.Ping(ctx); err != nil {
		r.Status, r.Detail, r.Fix = Fail, err.Error(), "check database.url, the network and the credentials"
		return r
	}
	cur, latest, err := st.MigrationStatus(ctx)
	switch {
	case err != nil:
		r.Status, r.Detail, r.Fix = Fail, err.Error(), "check the database user's rights"
	case cur < store.MinSchemaVersion:
		r.Status, r.Detail = Fail, fmt.Sprintf("schema at version %d, this binary needs at least %d", cur, store.MinSchemaVersion)
		r.Fix = "run `ofpdp migrate up` (the Helm chart's migration Job does)"
	case cur < latest:
		r.Status, r.Detail, r.Fix = Warn, fmt.Sprintf("schema at version %d of %d", cur, latest), "run `ofpdp migrate up` before the next release needs it"
	default:
		r.Status, r.Detail = OK, fmt.Sprintf("reachable, schema at version %d", cur)
	}
	return r
}

// connectorHealth checks that the connector opened and, when it can tell, that the core bank answers.
func connectorHealth(ctx context.Context, o Options) Result {
	r := Result{Check: "core-bank connector " + o.Config.Bank.Connector}
	switch rd, ok := o.Connector.(Readier); {
	case o.ConnectorErr != nil:
		r.Status, r.Detail, r.Fix = Fail, o.ConnectorErr.Error(), "fix the bank.* settings (docs/connector.md)"
	case ok:
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := rd.Ready(cctx); err != nil {
			r.Status, r.Detail, r.Fix = Fail, err.Error(), "check the adapter at bank.http_base_url and its credentials"
			return r
		}
		r.Status, r.Detail = OK, "answers"
	default:
		r.Status, r.Detail = OK, "opened (it reports no health)"
	}
	return r
}

// ForConfig validates cfg and opens what the server would (the mutual-TLS client to PayNet, the
// connector) into Options; release closes the keys.
func ForConfig(ctx context.Context, cfg *config.Config, dpJWKSFile string) (o Options, release func()) {
	o = Options{Config: cfg, ConfigErr: cfg.Validate(), DPJWKSFile: dpJWKSFile}
	release = func() {}
	if o.ConfigErr != nil {
		return o, release
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	var closeKeys func()
	if o.PayNet, closeKeys, o.PayNetErr = server.PayNetClient(ctx, cfg, quiet); o.PayNetErr == nil {
		release = closeKeys
	}
	o.Connector, o.ConnectorErr = server.OpenConnector(ctx, cfg, quiet)
	return o, release
}
