package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ofpdp/ofpdp/internal/pki"
)

const pkiUsage = `Usage:
  ofpdp pki init [--dir DIR] [--hosts h1,h2] [--sig-alg PS256|ES384|ES512] [--force]
  ofpdp pki inspect FILE

init     writes a development CA and the certificates, keys and JWKS of design §8
inspect  describes a certificate, chain or JWKS: subject, issuer, validity,
         SHA-256 fingerprint, x5t#S256 and public JWK
`

func runPKI(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, pkiUsage)
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, pkiUsage)
		return 0
	case "init":
		return runPKIInit(args[1:], stdout, stderr)
	case "inspect":
		return runPKIInspect(args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "ofpdp pki: unknown command %q\n\n%s", args[0], pkiUsage)
	return 2
}

func runPKIInit(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ofpdp pki init", flag.ContinueOnError)
	dir := fs.String("dir", "pki", "`directory` to write (created 0700)")
	hosts := fs.String("hosts", strings.Join(pki.DefaultHosts, ","), "comma-separated DNS names and IPs of the server certificates (dp-server, paynet-server)")
	sigAlg := fs.String("sig-alg", pki.DefaultSigAlg, "key type of the signing keys: PS256 (RSA-2048), ES384 (P-384) or ES512 (P-521)")
	force := fs.Bool("force", false, "replace existing files")
	if code, done := parseFlags(fs, args, stdout, stderr, "ofpdp pki init [--dir DIR] [--hosts h1,h2] [--sig-alg PS256|ES384|ES512] [--force]",
		"Writes a development CA and, signed by it, the certificates and keys of design §8 (private keys 0600,\n"+
			"PKCS#8 PEM) and the JWKS files paynet.jwks.json, dp.jwks.json and dc.jwks.json. Refuses to touch\n"+
			"existing files unless --force."); done {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "ofpdp pki init: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	var hostList []string
	for h := range strings.SplitSeq(*hosts, ",") {
		if h = strings.TrimSpace(h); h != "" {
			hostList = append(hostList, h)
		}
	}
	res, err := pki.Generate(*dir, pki.Options{Hosts: hostList, SigAlg: *sigAlg, Force: *force})
	if err != nil {
		fmt.Fprintf(stderr, "ofpdp pki init: %v\n", err)
		if errors.Is(err, pki.ErrOptions) {
			return 2
		}
		return 1
	}
	if err := res.WriteSummary(stdout); err != nil {
		fmt.Fprintf(stderr, "ofpdp pki init: %v\n", err)
		return 1
	}
	return 0
}

func runPKIInspect(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ofpdp pki inspect", flag.ContinueOnError)
	if code, done := parseFlags(fs, args, stdout, stderr, "ofpdp pki inspect FILE",
		"Describes a PEM certificate, a chain or a JWKS. Warns on stderr when a certificate expires\n"+
			"within 30 days; exits 1 when one has expired."); done {
		return code
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "ofpdp pki inspect: want exactly one FILE")
		return 2
	}
	r, err := pki.InspectFile(fs.Arg(0), time.Now())
	if err != nil {
		fmt.Fprintf(stderr, "ofpdp pki inspect: %v\n", err)
		return 1
	}
	if err := r.Write(stdout); err != nil {
		fmt.Fprintf(stderr, "ofpdp pki inspect: %v\n", err)
		return 1
	}
	for _, w := range r.Warnings {
		fmt.Fprintf(stderr, "warning: %s\n", w)
	}
	for _, e := range r.Expired {
		fmt.Fprintf(stderr, "error: %s\n", e)
	}
	if len(r.Expired) > 0 {
		return 1
	}
	return 0
}
