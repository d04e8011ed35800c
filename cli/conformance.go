package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/ofpdp/ofpdp/internal/ofp/conformance"
	"github.com/ofpdp/ofpdp/internal/ofp/sim"
	"github.com/ofpdp/ofpdp/internal/ofp/wire"
	"github.com/ofpdp/ofpdp/internal/sandbox"
)

// conformanceHelp lists `ofpdp conformance` in --help.
func conformanceHelp() [][2]string {
	return [][2]string{{"conformance [flags]", "act as PayNet and a DC against a DP: E2E journey, Definition of Done, negative cases"}}
}

const conformanceAbout = `Acts as PayNet OFP and a data consumer against a DP and runs the E2E test journey (spec §7.6),
the Definition of Done and every case of negative-tests.md that can be driven from outside. It
prints a table (id, check, expected, got, result), optionally writes a JSON report (--report)
and a JUnit XML report (--junit), and exits 0 when every selected row passes, 1 when a row
fails, 2 when the run could not start (bad flags or PKI, sandbox.json unreadable, the PayNet
simulator or the DP unreachable). --only and --skip select rows by id prefix (comma-separated,
case-insensitive); the journey rows always run, as the other rows use their consents. --pages
gives the page map of a DP whose journey pages differ from ofpdp's (docs/conformance.md).

Against the sandbox:   ofpdp conformance --sandbox .sandbox/sandbox.json
Against another DP:    give --dp-api-url, --dp-web-url, --pki-dir, --redirect-uri, --user and
  --password (or $OFPDP_CONFORMANCE_PASSWORD), and the customer's --user-id-type and
  --user-id-number so that consents name them (spec §5.1). The DP must trust the development PKI in --pki-dir
  as PayNet (ca.crt, paynet-mtls, paynet-sig) and be configured to send its consent updates and
  key requests to the PayNet simulator this command starts on --paynet-listen.
The password is better passed in $OFPDP_CONFORMANCE_PASSWORD than on the command line.`

// runConformance is `ofpdp conformance`.
func runConformance(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) int {
	fs := flag.NewFlagSet("ofpdp conformance", flag.ContinueOnError)
	sandboxFile := fs.String("sandbox", "", "sandbox.json `file` written by ofpdp sandbox")
	apiURL := fs.String("dp-api-url", "", "`URL` of the DP's api listener (mTLS)")
	webURL := fs.String("dp-web-url", "", "`URL` of the DP's web listener")
	pkiDir := fs.String("pki-dir", "", "`directory` of the development PKI the DP trusts (design §8)")
	redirectURI := fs.String("redirect-uri", "", "PayNet callback `URI` on the DP's redirect_uri allow-list")
	user := fs.String("user", "", "`username` of a customer to log in as")
	password := fs.String("password", "", "`password` of --user (default $OFPDP_CONFORMANCE_PASSWORD)")
	userIDType := fs.String("user-id-type", "", "id_type (nric or passport) of --user, put on the consents they authorize")
	userIDNumber := fs.String("user-id-number", "", "ID `number` of --user (hashed into the consents' hashed_id_number)")
	user2 := fs.String("user2", "", "`username` of a second customer (another customer's accounts for U11, D5)")
	password2 := fs.String("password2", "", "`password` of --user2 (default $OFPDP_CONFORMANCE_PASSWORD2)")
	user2IDType := fs.String("user2-id-type", "", "id_type (nric or passport) of --user2")
	user2IDNumber := fs.String("user2-id-number", "", "ID `number` of --user2")
	dpID := fs.String("dp-id", sandbox.DPID, "the DP's dp_id")
	dcID := fs.String("dc-id", sandbox.DCID, "dc_id of the data consumer the DP knows")
	dcName := fs.String("dc-name", sim.DefaultDCName, "display `name` the DP shows for --dc-id")
	issuer := fs.String("paynet-issuer", sim.DefaultPayNetIssuer, "iss of PayNet's signatures (the DP's paynet.issuer)")
	listen := fs.String("paynet-listen", "127.0.0.1:8445", "`address` of the PayNet simulator's mTLS listener (where the DP PATCHes)")
	idTokenIssuer := fs.String("id-token-issuer", "", "iss the DP's id_tokens must carry (default: not checked)")
	history := fs.Int("history-months", 12, "the DP's data.history_months")
	revokeURL := fs.String("dp-revoke-url", "", "`URL` that makes the DP revoke a consent ({consent_id} replaced; POST {\"reason\"}; bearer token $OFPDP_CONFORMANCE_REVOKE_TOKEN); ofpdp: {ops}/admin/v1/consents/{consent_id}/revoke. Empty skips group revocation")
	report := fs.String("report", "", "write the JSON report to `file`")
	junit := fs.String("junit", "", "write the JUnit XML report to `file` (one test case per row)")
	only := fs.String("only", "", "run only the rows whose id starts with one of these comma-separated `prefixes`")
	pages := fs.String("pages", "", "page map `file` (JSON) of the DP's journey pages (default: ofpdp's, built in)")
	skip := fs.String("skip", "", "leave out the rows whose id starts with one of these comma-separated `prefixes`")
	groups := fs.String("groups", "", "comma-separated `groups` to run (default all): "+strings.Join(conformance.AllGroups, ","))
	verbose := fs.Bool("v", false, "print each result on stderr as it comes")
	if code, done := parseFlags(fs, args, stdout, stderr,
		"ofpdp conformance (--sandbox FILE | --dp-api-url URL --dp-web-url URL --pki-dir DIR --redirect-uri URI --user U --password P) [--report FILE]",
		conformanceAbout); done {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "ofpdp conformance: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	usage := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "ofpdp conformance: "+format+"\n", a...)
		return 2
	}

	var o conformance.Options
	o.Groups, o.Only, o.Skip = commaList(*groups), commaList(*only), commaList(*skip)
	if *pages != "" {
		m, err := conformance.LoadPageMap(*pages)
		if err != nil {
			fmt.Fprintf(stderr, "ofpdp conformance: %v\n", err)
			return 2
		}
		o.Pages = m
	}
	explicit := *apiURL != "" || *webURL != "" || *pkiDir != "" || *redirectURI != "" || *user != ""
	switch {
	case *sandboxFile != "" && explicit:
		return usage("give either --sandbox or the explicit --dp-* flags, not both")
	case *sandboxFile != "":
		in, err := sandbox.ReadInfo(*sandboxFile)
		if err != nil {
			fmt.Fprintf(stderr, "ofpdp conformance: %v\n", err)
			return 2
		}
		o.Target = conformance.Target{APIURL: in.DP.APIURL, WebURL: in.DP.WebURL, PKIDir: in.PKIDir,
			RedirectURI: in.RedirectURI, DPID: in.DPID, DCID: in.DCID, PayNetIssuer: sandbox.PayNetIssuer}
		if in.DP.OpsURL != "" && in.DP.AdminToken != "" {
			o.Target.RevokeURL = strings.TrimRight(in.DP.OpsURL, "/") + "/admin/v1/consents/{consent_id}/revoke"
			o.Target.RevokeToken = in.DP.AdminToken
		}
		for _, u := range in.Users {
			o.Target.Users = append(o.Target.Users, conformance.User{Username: u.Username, Password: u.Password,
				IDType: wire.IDType(u.IDType), IDNumber: u.IDNumber})
		}
		o.Sim = &sim.Client{BaseURL: in.PayNet.URL}
	case explicit:
		if *password == "" {
			*password, _ = getenv("OFPDP_CONFORMANCE_PASSWORD")
		}
		if *password2 == "" {
			*password2, _ = getenv("OFPDP_CONFORMANCE_PASSWORD2")
		}
		revokeToken, _ := getenv("OFPDP_CONFORMANCE_REVOKE_TOKEN")
		var missing []string
		for _, f := range []struct{ name, v string }{{"--dp-api-url", *apiURL}, {"--dp-web-url", *webURL}, {"--pki-dir", *pkiDir},
			{"--redirect-uri", *redirectURI}, {"--user", *user}, {"--password", *password}} {
			if f.v == "" {
				missing = append(missing, f.name)
			}
		}
		if len(missing) > 0 {
			return usage("missing %s", strings.Join(missing, ", "))
		}
		if (*user2 == "") != (*password2 == "") {
			return usage("--user2 and --password2 go together")
		}
		o.Target = conformance.Target{APIURL: *apiURL, WebURL: *webURL, PKIDir: *pkiDir, RedirectURI: *redirectURI,
			DPID: *dpID, DCID: *dcID, DCName: *dcName, PayNetIssuer: *issuer, HistoryMonths: *history, RevokeURL: *revokeURL,
			Users: []conformance.User{{Username: *user, Password: *password, IDType: wire.IDType(*userIDType), IDNumber: *userIDNumber}}}
		o.Target.RevokeToken = revokeToken
		if *user2 != "" {
			o.Target.Users = append(o.Target.Users, conformance.User{Username: *user2, Password: *password2,
				IDType: wire.IDType(*user2IDType), IDNumber: *user2IDNumber})
		}
		local, err := conformance.StartLocalSim(conformance.LocalSimOptions{Target: o.Target, Listen: *listen, IDTokenIssuer: *idTokenIssuer})
		if err != nil {
			fmt.Fprintf(stderr, "ofpdp conformance: %v\n", err)
			return 2
		}
		defer func() {
			if err := local.Close(); err != nil {
				fmt.Fprintf(stderr, "ofpdp conformance: stopping the PayNet simulator: %v\n", err)
			}
		}()
		o.Sim = local.Client
		fmt.Fprintf(stderr, "PayNet simulator listening on %s (mTLS)\n", local.Addr())
	default:
		return usage("give --sandbox FILE, or --dp-api-url, --dp-web-url, --pki-dir, --redirect-uri, --user and --password")
	}
	if *verbose {
		o.Progress = func(r conformance.Result) {
			fmt.Fprintf(stderr, "%-4s %s  %s\n", strings.ToUpper(string(r.Outcome)), r.ID, r.Got)
		}
	}

	// The report files are opened before the run: a path that cannot be written is a run that
	// could not start, not one whose results are lost.
	outputs := []struct {
		path  string
		write func(*conformance.Report, io.Writer) error
		f     *os.File
	}{{path: *report, write: (*conformance.Report).WriteJSON}, {path: *junit, write: (*conformance.Report).WriteJUnit}}
	for i := range outputs {
		if outputs[i].path == "" {
			continue
		}
		f, err := os.OpenFile(outputs[i].path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			fmt.Fprintf(stderr, "ofpdp conformance: %v\n", err)
			return 2
		}
		defer f.Close()
		outputs[i].f = f
	}

	fmt.Fprintf(stderr, "Testing the DP at %s and %s…\n", o.Target.APIURL, o.Target.WebURL)
	rep, err := conformance.Run(ctx, o)
	if rep != nil {
		if werr := rep.WriteTable(stdout); werr != nil {
			fmt.Fprintf(stderr, "ofpdp conformance: %v\n", werr)
		}
		for _, out := range outputs {
			if out.f == nil {
				continue
			}
			werr := out.write(rep, out.f)
			if cerr := out.f.Close(); werr == nil {
				werr = cerr
			}
			if werr != nil {
				fmt.Fprintf(stderr, "ofpdp conformance: %s: %v\n", out.path, werr)
				return 2
			}
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "ofpdp conformance: %v\n", err)
		if errors.Is(err, conformance.ErrOptions) || errors.Is(err, conformance.ErrUnreachable) || rep == nil {
			return 2
		}
		return 1
	}
	if !rep.OK() {
		return 1
	}
	return 0
}

// commaList splits a comma-separated flag value, dropping empty items.
func commaList(v string) []string {
	var out []string
	for item := range strings.SplitSeq(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
