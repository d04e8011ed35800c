package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/ofpdp/ofpdp/internal/keysource"
	"github.com/ofpdp/ofpdp/internal/pki"
)

const pkiUsage = `Usage:
  ofpdp pki init [--dir DIR] [--hosts h1,h2] [--sig-alg PS256|ES384|ES512] [--force]
  ofpdp pki inspect [--jwks-out JWKS] FILE
  ofpdp pki csr --key URI --kind mtls|signing|server --subject DN [--hosts h1,h2] --out FILE

init     writes a development CA and the certificates, keys and JWKS of design §8
inspect  describes a certificate, chain, JWKS or signing key ring: subject, issuer,
         validity, SHA-256 fingerprint, x5t#S256 and public JWK; for a key ring
         (keys.signing_keys_file) the DP JWKS handed to PayNet: active and next keys
csr      writes a certificate signing request for the bank's CA, signed by a key
         in a file, a PKCS#11 token or AWS KMS
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
	case "csr":
		return runPKICSR(ctx, args[1:], stdout, stderr, getenv)
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
	hostList := splitList(*hosts)
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
	jwksOut := fs.String("jwks-out", "", "with a signing key ring: also write the DP JWKS (active and next keys) to this `file`")
	if code, done := parseFlags(fs, args, stdout, stderr, "ofpdp pki inspect [--jwks-out JWKS] FILE",
		"Describes a PEM certificate, a chain, a JWKS or a signing key ring (keys.signing_keys_file).\n"+
			"For a key ring it describes the DP JWKS that PayNet must hold: the active key, then the next\n"+
			"keys (retired ones are left out); it reads only their certificates. Warns on stderr when a\n"+
			"certificate expires within 30 days; exits 1 when one has expired."); done {
		return code
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "ofpdp pki inspect: want exactly one FILE")
		return 2
	}
	r, jwks, err := inspect(fs.Arg(0), time.Now())
	if err != nil {
		fmt.Fprintf(stderr, "ofpdp pki inspect: %v\n", err)
		return 1
	}
	if *jwksOut != "" {
		if jwks == nil {
			fmt.Fprintln(stderr, "ofpdp pki inspect: --jwks-out needs a signing key ring FILE")
			return 2
		}
		if err := os.WriteFile(*jwksOut, jwks, 0o644); err != nil {
			fmt.Fprintf(stderr, "ofpdp pki inspect: %v\n", err)
			return 1
		}
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

// inspect reports on path; for a signing key ring it also returns the DP JWKS (indented JSON).
func inspect(path string, now time.Time) (*pki.Report, []byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	if !keysource.IsRingFile(b) {
		r, err := pki.Inspect(b, now)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", path, err)
		}
		return r, nil, nil
	}
	ks, err := keysource.PublishedJWKS(path)
	if err != nil {
		return nil, nil, err
	}
	raw, err := ks.JSON()
	if err != nil {
		return nil, nil, err
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, raw, "", "  "); err != nil {
		return nil, nil, err
	}
	pretty.WriteByte('\n')
	r, err := pki.Inspect(raw, now)
	return r, pretty.Bytes(), err
}

func runPKICSR(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) int {
	fs := flag.NewFlagSet("ofpdp pki csr", flag.ContinueOnError)
	key := fs.String("key", "", "key `URI`: file:PATH (or a path), pkcs11:… (RFC 7512) or awskms:KEY-ARN")
	kind := fs.String("kind", "", "which certificate: mtls (TLS client, calls to PayNet), signing (JWS) or server (api and web listeners)")
	subject := fs.String("subject", "", "subject `DN`, e.g. \"CN=ofp.bank.com.my,O=Bank Berhad,C=MY\"")
	hosts := fs.String("hosts", "", "comma-separated DNS names and IPs (server only)")
	out := fs.String("out", "", "`file` to write the PEM CSR to (must not exist)")
	lookup := func(name string) string { v, _ := getenv(name); return v }
	module := fs.String("pkcs11-module", lookup("OFPDP_KEYS_PKCS11_MODULE"), "PKCS#11 library for pkcs11: URIs without module-path (default $OFPDP_KEYS_PKCS11_MODULE)")
	if code, done := parseFlags(fs, args, stdout, stderr, "ofpdp pki csr --key URI --kind mtls|signing|server --subject DN [--hosts h1,h2] --out FILE",
		"Writes a PKCS#10 certificate signing request for the bank's CA, signed by the private key at\n"+
			"URI, which never leaves its file, token or KMS. PayNet asks for three certificates: mtls,\n"+
			"signing and server; make one key and one request for each. pkcs11: keys need a build with\n"+
			"PKCS#11 (make build-hsm); awskms: keys read AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY."); done {
		return code
	}
	if fs.NArg() > 0 || *key == "" || *kind == "" || *subject == "" || *out == "" {
		fmt.Fprintln(stderr, "ofpdp pki csr: --key, --kind, --subject and --out are required, and nothing else")
		return 2
	}
	k, err := keysource.Open(ctx, *key, keysource.Options{PKCS11Module: *module, Getenv: lookup})
	if err != nil {
		fmt.Fprintf(stderr, "ofpdp pki csr: %v\n", err)
		return 1
	}
	defer k.Close()
	hostList := splitList(*hosts)
	csr, err := pki.CreateCSR(k, pki.CSROptions{Kind: *kind, Subject: *subject, Hosts: hostList})
	if err != nil {
		fmt.Fprintf(stderr, "ofpdp pki csr: %v\n", err)
		if errors.Is(err, pki.ErrOptions) {
			return 2
		}
		return 1
	}
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err == nil {
		_, err = f.Write(csr)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "ofpdp pki csr: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "wrote %s: %s certificate request for %s, key %s\n", *out, *kind, *subject, keysource.Describe(*key))
	return 0
}

// splitList splits a comma-separated flag value, dropping blanks.
func splitList(v string) []string {
	var out []string
	for h := range strings.SplitSeq(v, ",") {
		if h = strings.TrimSpace(h); h != "" {
			out = append(out, h)
		}
	}
	return out
}
