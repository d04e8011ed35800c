package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// env is how the commands read the environment (os.LookupEnv in main).
type env func(string) (string, bool)

// command is one subcommand: run gets the arguments after its name and
// returns the process exit code; help lists what --help shows for it, as
// (synopsis, summary) pairs.
type command struct {
	name string
	help [][2]string
	run  func(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) int
}

func commands() []command {
	return []command{
		{name: "serve", help: serveHelp(), run: runServeCommand},
		{name: "sandbox", help: sandboxHelp(), run: runSandbox},
		{name: "conformance", help: conformanceHelp(), run: runConformance},
		{name: "connector-test", help: connectorTestHelp(), run: runConnectorTest},
		{name: "pki", help: [][2]string{
			{"pki init", "write a development CA, certificates, keys and JWKS (design §8)"},
			{"pki inspect FILE", "describe a certificate, chain or JWKS; for a signing key ring, the DP JWKS (active and next)"},
			{"pki csr --key URI …", "write a CSR for the bank's CA from a key in a file, an HSM or AWS KMS"},
		}, run: runPKI},
		{name: "migrate", help: migrateHelp(), run: runMigrate},
		{name: "doctor", help: doctorHelp(), run: runDoctor},
		{name: "sign", help: signHelp(), run: runSign},
		{name: "version", help: [][2]string{{"version", "print the version, commit, build date and Go version"}}, run: runVersion},
	}
}

// Main runs the ofpdp command line with args (os.Args[1:]) until it ends or SIGINT/SIGTERM, and
// returns the exit code. cmd/ofpdp's main is this; a bank building ofpdp with its own Go
// connector calls it too, after connector.Register (docs/connector.md §7).
func Main(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return run(ctx, args, os.Stdout, os.Stderr, os.LookupEnv)
}

// run dispatches to a subcommand and returns the exit code: 0 success,
// 1 failure, 2 usage error.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage(stdout)
		return 0
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, args[1:], stdout, stderr, getenv)
		}
	}
	fmt.Fprintf(stderr, "ofpdp: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprint(w, `ofpdp: a Data Provider server for PayNet's Open Finance Platform.

Usage:
  ofpdp <command> [flags]

Commands:
`)
	for _, c := range commands() {
		for _, h := range c.help {
			fmt.Fprintf(w, "  %-22s %s\n", h[0], h[1])
		}
	}
	fmt.Fprint(w, `
Run "ofpdp <command> --help" for the flags of a command.
`)
}
