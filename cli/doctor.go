package cli

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/ofpdp/ofpdp/internal/config"
	"github.com/ofpdp/ofpdp/internal/doctor"
)

func doctorHelp() [][2]string {
	return [][2]string{{"doctor --config FILE", "pre-go-live check of this host: configuration, certificates, PayNet, clock, database, connector"}}
}

func runDoctor(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) int {
	fs := flag.NewFlagSet("ofpdp doctor", flag.ContinueOnError)
	defPath, _ := getenv("OFPDP_CONFIG")
	path := fs.String("config", defPath, "configuration `file`; default $OFPDP_CONFIG; OFPDP_* variables override it")
	dpJWKS := fs.String("dp-jwks", "", "the JWKS `file` handed to PayNet; the signing key must be in it")
	if code, done := parseFlags(fs, args, stdout, stderr, "ofpdp doctor [--config FILE] [--dp-jwks FILE]",
		"Checks, on the host that will run `ofpdp serve`: the configuration and its files, certificate chains and\n"+
			"expiry, the signing key against the JWKS PayNet has, the clock against PayNet's, DNS, TLS and mutual TLS\n"+
			"to PayNet's JWKS and consent endpoints, the database and its schema, and the core-bank connector.\n"+
			"Prints a table with a fix for each problem; exits 1 when a check fails (warnings do not)."); done {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "ofpdp doctor: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	cfg, err := config.Load(*path, getenv)
	if err != nil {
		doctor.Print(stdout, doctor.Run(ctx, doctor.Options{ConfigErr: err}))
		return 1
	}
	o, release := doctor.ForConfig(ctx, cfg, *dpJWKS)
	defer release()
	if doctor.Print(stdout, doctor.Run(ctx, o)) {
		return 1
	}
	return 0
}
