package cli

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/ofpdp/ofpdp/internal/connectortest"
	"github.com/ofpdp/ofpdp/internal/mtls"
)

// connectorTestHelp lists `ofpdp connector-test` in --help.
func connectorTestHelp() [][2]string {
	return [][2]string{{"connector-test [flags]", "check a bank's core-bank adapter against docs/connector-openapi.yaml"}}
}

const connectorTestAbout = `The test kit a bank's integration team runs against its own core-bank adapter before
connecting it to ofpdp (docs/connector.md). Every request and answer is validated against
docs/connector-openapi.yaml, and the behaviour the document describes is checked: authentication
success and failure, unknown and foreign ids, every account status, a full transactions walk
(each item once, in order), inclusive Malaysian-day bounds, deadlines and error bodies. It prints a
table, optionally writes JSON and JUnit reports, and exits 1 when any check fails.

The --customer file names a test customer and accounts, for example:
  {"username": "aisyah", "password": "Demo@1234", "customer_ref": "C1001",
   "accounts": {"active": "A1001", "dormant": "A1008", "blocked": "A3003", "closed": "A2002"},
   "foreign_account": "A2001", "from": "2026-08-01", "to": "2026-10-31"}`

// runConnectorTest is `ofpdp connector-test`.
func runConnectorTest(ctx context.Context, args []string, stdout, stderr io.Writer, _ env) int {
	fs := flag.NewFlagSet("ofpdp connector-test", flag.ContinueOnError)
	url := fs.String("url", "", "root `URL` of the adapter (the /v1/... paths are appended)")
	ca := fs.String("ca", "", "PEM CA `file` that verifies the adapter (default: the system roots)")
	cert := fs.String("cert", "", "client certificate `file` for mutual TLS (with --key)")
	key := fs.String("key", "", "private key `file` of --cert")
	tokenFile := fs.String("bearer-token-file", "", "`file` holding a bearer token to send")
	customerFile := fs.String("customer", "", "JSON `file` naming the test customer and accounts")
	deadline := fs.Duration("deadline", 4*time.Second, "the deadline announced and enforced per call (ofpdp's bank.timeout)")
	pageSize := fs.Int("page-size", 50, "limit of the transactions walk")
	jsonOut := fs.String("json", "", "write the JSON report to `file`")
	junitOut := fs.String("junit", "", "write the JUnit XML report to `file`")
	if code, done := parseFlags(fs, args, stdout, stderr,
		"ofpdp connector-test --url URL [--ca FILE --cert FILE --key FILE] --customer FILE [--json FILE] [--junit FILE]",
		connectorTestAbout); done {
		return code
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "ofpdp connector-test: "+format+"\n", a...)
		return 2
	}
	switch {
	case fs.NArg() > 0:
		return fail("unexpected argument %q", fs.Arg(0))
	case *url == "" || *customerFile == "":
		return fail("--url and --customer are required")
	case (*cert == "") != (*key == ""):
		return fail("--cert and --key go together")
	}
	raw, err := os.ReadFile(*customerFile)
	if err != nil {
		return fail("--customer: %v", err)
	}
	customer, err := connectortest.ParseCustomer(raw)
	if err != nil {
		return fail("--customer: %v", err)
	}
	tlsConf := &tls.Config{MinVersion: tls.VersionTLS12}
	if *ca != "" {
		if tlsConf.RootCAs, err = mtls.LoadCAPool(*ca); err != nil {
			return fail("--ca: %v", err)
		}
	}
	if *cert != "" {
		c, err := tls.LoadX509KeyPair(*cert, *key)
		if err != nil {
			return fail("--cert/--key: %v", err)
		}
		tlsConf.Certificates = []tls.Certificate{c}
	}
	var token string
	if *tokenFile != "" {
		b, err := os.ReadFile(*tokenFile)
		if err != nil {
			return fail("--bearer-token-file: %v", err)
		}
		token = strings.TrimSpace(string(b))
	}
	rep, err := connectortest.Run(ctx, connectortest.Options{URL: *url, TLS: tlsConf, BearerToken: token,
		Customer: customer, Deadline: *deadline, PageSize: *pageSize})
	if err != nil {
		return fail("%v", err)
	}
	if err := rep.WriteTable(stdout); err != nil {
		fmt.Fprintf(stderr, "ofpdp connector-test: %v\n", err)
		return 1
	}
	for _, out := range []struct {
		path  string
		write func(io.Writer) error
	}{{*jsonOut, rep.WriteJSON}, {*junitOut, rep.WriteJUnit}} {
		if out.path == "" {
			continue
		}
		f, err := os.Create(out.path)
		if err == nil {
			err = out.write(f)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			fmt.Fprintf(stderr, "ofpdp connector-test: %v\n", err)
			return 1
		}
	}
	if rep.Failed > 0 {
		return 1
	}
	return 0
}
