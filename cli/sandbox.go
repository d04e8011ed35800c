package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/ofpdp/ofpdp/internal/obs"
	"github.com/ofpdp/ofpdp/internal/sandbox"
)

// sandboxHelp lists `ofpdp sandbox` in --help.
func sandboxHelp() [][2]string {
	return [][2]string{{"sandbox [--dir DIR]", "DP + PayNet simulator + mock DC on localhost: start here"}}
}

const sandboxAbout = `Runs a whole Open Finance setup on 127.0.0.1 in one process: the DP (api, web, ops),
a PayNet OFP simulator and a mock data consumer, with a development PKI (DIR/pki, made once),
a SQLite database and demo bank data. It prints the page to open and the demo logins, and writes
DIR/sandbox.json for "ofpdp conformance --sandbox DIR/sandbox.json". Ctrl-C stops everything.

Default ports: DP api 8443, web 8444, ops 9090; simulator 8445 (mTLS) and 8446 (JSON API,
callback); mock DC 8447; mock core bank 8448. --ports-from N numbers them N (api), N+1 (web), N+2 (simulator mTLS),
N+3 (simulator public), N+4 (mock DC), N+5 (ops); a per-port flag overrides either.

The bank's pages are served over plain HTTP on loopback (sandbox only) so that a browser shows no
certificate warning; --web-tls serves them over HTTPS instead: trust DIR/pki/ca.crt first
(docs/sandbox.md).

The DP reaches the demo bank the way a bank deploys it: bank.connector: http over mutual TLS to a
mock core bank that implements docs/connector-openapi.yaml (--connector demo calls it in process
instead). --bank-url points the DP at your own adapter instead; sandbox.json then lists no demo
customers unless --users FILE (a JSON array of {"username", "password", "name", "id_type",
"id_number"}) gives them.

--hsm keeps the DP's signing and mTLS client keys in a SoftHSM2 token (DIR/hsm, its own PKI in
DIR/pki-hsm) and signs through PKCS#11, as a bank's HSM would; it needs a build with PKCS#11
(make build-hsm) and the Debian package softhsm2.`

// runSandbox is `ofpdp sandbox`.
func runSandbox(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) int {
	fs := flag.NewFlagSet("ofpdp sandbox", flag.ContinueOnError)
	dir := fs.String("dir", sandbox.DefaultDir, "`directory` of the PKI, database, server secret, logs and sandbox.json")
	webTLS := fs.Bool("web-tls", false, "serve the bank's pages over HTTPS (trust DIR/pki/ca.crt) instead of plain HTTP")
	portsFrom := fs.Int("ports-from", 0, "number the six ports from `N` instead of the fixed defaults")
	ephemeral := fs.Bool("ephemeral-ports", false, "bind every listener to a free port (tests)")
	apiPort := fs.Int("api-port", 0, "`port` of the DP's api listener (default 8443)")
	webPort := fs.Int("web-port", 0, "`port` of the DP's web listener (default 8444)")
	opsPort := fs.Int("ops-port", 0, "`port` of the DP's ops listener (default 9090)")
	simPort := fs.Int("sim-port", 0, "`port` of the PayNet simulator's mTLS listener (default 8445)")
	simPublicPort := fs.Int("sim-public-port", 0, "`port` of the PayNet simulator's JSON API and callback (default 8446)")
	dcPort := fs.Int("dc-port", 0, "`port` of the mock data consumer (default 8447)")
	coreBankPort := fs.Int("core-bank-port", 0, "`port` of the mock core bank (default 8448)")
	phonePort := fs.Int("phone-port", 0, "`port` of the sandbox phone page, with --second-factor (default 8449)")
	secondFactor := fs.String("second-factor", "", "the bank's second factor after the password: otp or app (authn.second_factor); codes and approvals are on the sandbox phone page")
	connectorName := fs.String("connector", sandbox.ConnectorHTTP, "the DP's connector: http (the mock core bank over HTTPS) or demo (in process)")
	bankURL := fs.String("bank-url", "", "`URL` of an external core-bank adapter implementing docs/connector-openapi.yaml, instead of the mock core bank")
	bankCA := fs.String("bank-ca", "", "PEM CA `file` that verifies --bank-url (default: the system roots)")
	usersFile := fs.String("users", "", "JSON `file` of the customers sandbox.json lists: [{\"username\", \"password\", \"name\", \"id_type\", \"id_number\"}]")
	signingKeys := fs.String("signing-keys", "", "signing key ring `file` (keys.signing_keys_file) instead of DIR/pki/dp-sig; the simulator gets its active and next keys")
	hsm := fs.Bool("hsm", false, "keep the DP's signing and mTLS keys in a SoftHSM2 token (needs make build-hsm and softhsm2)")
	logLevel := fs.String("log-level", "info", "`level` of DIR/sandbox.log: debug, info, warn or error")
	if code, done := parseFlags(fs, args, stdout, stderr, "ofpdp sandbox [--dir DIR] [--web-tls] [--hsm] [--signing-keys FILE] [--ports-from N | per-port flags] [--ephemeral-ports] [--second-factor otp|app]", sandboxAbout); done {
		return code
	}
	if *secondFactor != "" && *secondFactor != "otp" && *secondFactor != "app" {
		fmt.Fprintf(stderr, "ofpdp sandbox: --second-factor %q: want otp or app\n", *secondFactor)
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "ofpdp sandbox: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	ports := sandbox.Ports{}
	if *portsFrom != 0 {
		if *portsFrom < 1 || *portsFrom > 65535-5 {
			fmt.Fprintf(stderr, "ofpdp sandbox: --ports-from %d: want 1..%d\n", *portsFrom, 65535-5)
			return 2
		}
		ports = sandbox.PortsFrom(*portsFrom)
	}
	for _, p := range []struct {
		name string
		v    int
		dst  *int
	}{
		{"api-port", *apiPort, &ports.API}, {"web-port", *webPort, &ports.Web}, {"ops-port", *opsPort, &ports.Ops},
		{"sim-port", *simPort, &ports.SimMTLS}, {"sim-public-port", *simPublicPort, &ports.SimPublic}, {"dc-port", *dcPort, &ports.DC},
		{"core-bank-port", *coreBankPort, &ports.CoreBank}, {"phone-port", *phonePort, &ports.Phone},
	} {
		if p.v < 0 || p.v > 65535 {
			fmt.Fprintf(stderr, "ofpdp sandbox: --%s %d: want 1..65535\n", p.name, p.v)
			return 2
		}
		if p.v != 0 {
			*p.dst = p.v
		}
	}

	var users []sandbox.UserInfo
	if *usersFile != "" {
		b, err := os.ReadFile(*usersFile)
		if err == nil {
			err = sandbox.ParseUsers(b, &users)
		}
		if err != nil {
			fmt.Fprintf(stderr, "ofpdp sandbox: --users: %v\n", err)
			return 2
		}
	}

	if err := os.MkdirAll(*dir, 0o700); err != nil {
		fmt.Fprintf(stderr, "ofpdp sandbox: %v\n", err)
		return 1
	}
	logPath := filepath.Join(*dir, "sandbox.log")
	logFile, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		fmt.Fprintf(stderr, "ofpdp sandbox: %v\n", err)
		return 1
	}
	defer func() { _ = logFile.Close() }()
	logger, err := obs.NewLogger(logFile, "text", *logLevel)
	if err != nil {
		fmt.Fprintf(stderr, "ofpdp sandbox: --log-level: %v\n", err)
		return 2
	}

	fmt.Fprintln(stderr, "Starting the sandbox (the first start generates the PKI)…")
	startCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	r, err := sandbox.Start(startCtx, sandbox.Options{Dir: *dir, Ephemeral: *ephemeral, Ports: ports, WebTLS: *webTLS, Logger: logger,
		Connector: *connectorName, BankURL: *bankURL, BankCA: *bankCA, Users: users, HSM: *hsm, SigningKeysFile: *signingKeys,
		SecondFactor: *secondFactor})
	cancel()
	if err != nil {
		fmt.Fprintf(stderr, "ofpdp sandbox: %v\n", err)
		return 1
	}
	printSandbox(stdout, r, logPath, *webTLS)

	select {
	case <-ctx.Done():
		fmt.Fprintln(stderr, "\nStopping the sandbox…")
	case <-r.Done():
	}
	if err := r.Stop(); err != nil {
		fmt.Fprintf(stderr, "ofpdp sandbox: %v\n", err)
		return 1
	}
	fmt.Fprintln(stderr, "Sandbox stopped.")
	return 0
}

// printSandbox prints the one block a newcomer needs: where to go, how to sign in, where the
// machine-readable description is.
func printSandbox(w io.Writer, r *sandbox.Running, logPath string, webTLS bool) {
	in := r.Info()
	fmt.Fprintf(w, "\nofpdp sandbox is running. Press Ctrl-C to stop it.\n\n")
	fmt.Fprintf(w, "  Open the mock data consumer:  %s/\n", in.DC.URL)
	fmt.Fprintf(w, "  Link an account, and sign in at the bank as one of these demo customers:\n")
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	for _, u := range in.Users {
		fmt.Fprintf(tw, "      %s\t%s\t%s\n", u.Username, u.Password, u.Name)
	}
	_ = tw.Flush()
	fmt.Fprintln(w)
	if webTLS {
		fmt.Fprintf(w, "  The bank's pages use HTTPS with the sandbox's own CA: trust %s first (docs/sandbox.md).\n",
			filepath.Join(in.PKIDir, "ca.crt"))
	} else {
		fmt.Fprintf(w, "  The bank's pages are plain HTTP on 127.0.0.1, labelled SANDBOX (--web-tls for HTTPS).\n")
	}
	if in.Bank.URL != "" {
		fmt.Fprintf(w, "  Core bank (docs/connector-openapi.yaml):  %s\n", in.Bank.URL)
	}
	if in.Phone.URL != "" {
		fmt.Fprintf(w, "  Second factor (%s): the demo bank's codes and app approvals are on  %s/\n", in.Authn.SecondFactor, in.Phone.URL)
	}
	fmt.Fprintf(w, "  sandbox.json:  %s   (ofpdp conformance --sandbox %s)\n", r.InfoPath(), r.InfoPath())
	fmt.Fprintf(w, "  Logs:          %s\n\n", logPath)
}
