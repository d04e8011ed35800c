package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/ofpdp/ofpdp/internal/config"
	"github.com/ofpdp/ofpdp/internal/obs"
	"github.com/ofpdp/ofpdp/internal/server"
)

// runServe runs the production server until ctx ends (a variable so tests can replace it).
var runServe = serveServer

// serveHelp lists serve in --help.
func serveHelp() [][2]string {
	return [][2]string{{"serve", "run the server: api, web and ops listeners"},
		{"serve --migrate=auto|check|off", "migrate at start, only check the schema, or neither"},
		{"serve --check-config", "load and validate the configuration, then exit"}}
}

// serveServer builds the DP from cfg and serves until ctx ends, then shuts down gracefully.
func serveServer(ctx context.Context, cfg *config.Config) error {
	logger, err := obs.NewLogger(os.Stderr, cfg.Log.Format, cfg.Log.Level)
	if err != nil {
		return err
	}
	if cfg.Tracing.OTLPEndpoint != "" {
		shutdown, err := obs.SetupTracing(ctx, cfg.Tracing.OTLPEndpoint, float64(cfg.Tracing.SamplePercent)/100)
		if err != nil {
			return fmt.Errorf("tracing.otlp_endpoint: %w", err)
		}
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = shutdown(sctx) // flush the last spans
		}()
	}
	srv, err := server.New(ctx, cfg, server.Deps{Logger: logger})
	if err != nil {
		return err
	}
	return srv.Run(ctx, server.Listeners{})
}

func runServeCommand(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) int {
	fs := flag.NewFlagSet("ofpdp serve", flag.ContinueOnError)
	defPath, _ := getenv("OFPDP_CONFIG")
	path := fs.String("config", defPath, "configuration `file` (.yaml, .yml or .json); default $OFPDP_CONFIG; OFPDP_* variables override it")
	bankData := fs.String("bank-data", "", "demo bank data `file` (JSON, see docs/connector.md); overrides bank.data_file")
	migrate := fs.String("migrate", "", "what to do with the database schema at start: auto (migrate), check (refuse a schema older than this binary needs) or off; overrides database.migrate (default check, auto with environment: development)")
	check := fs.Bool("check-config", false, "load and validate the configuration, print \"configuration OK\" or every problem, and exit (0 valid, 1 not)")
	synopsis := "ofpdp serve [--config FILE] [--bank-data FILE] [--migrate auto|check|off] [--check-config]"
	about := "Runs the DP server: the api (mTLS, PayNet), web (customer) and ops listeners, until SIGINT or SIGTERM.\n" +
		"Loads the configuration (defaults, then the file, then OFPDP_* variables) and validates it first.\n" +
		"See docs/configuration.md for every key."
	if code, done := parseFlags(fs, args, stdout, stderr, synopsis, about); done {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "ofpdp serve: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	cfg, err := config.Load(*path, getenv)
	if err == nil {
		if *bankData != "" {
			cfg.Bank.DataFile = *bankData
		}
		if *migrate != "" {
			cfg.Database.Migrate = *migrate
		}
		err = cfg.Validate()
	}
	if err != nil {
		fmt.Fprintf(stderr, "ofpdp serve: configuration problems:\n%v\n", err)
		return 1
	}
	if *check {
		fmt.Fprintln(stdout, "configuration OK")
		return 0
	}
	if err := runServe(ctx, cfg); err != nil {
		fmt.Fprintf(stderr, "ofpdp serve: %v\n", err)
		return 1
	}
	return 0
}
