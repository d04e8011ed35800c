package cli

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/ofpdp/ofpdp/internal/config"
	"github.com/ofpdp/ofpdp/internal/store"
)

func migrateHelp() [][2]string {
	return [][2]string{{"migrate up", "apply the database migrations (SQLite or PostgreSQL)"},
		{"migrate status", "print the schema version and the version this binary expects"}}
}

func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) int {
	fs := flag.NewFlagSet("ofpdp migrate", flag.ContinueOnError)
	defPath, _ := getenv("OFPDP_CONFIG")
	path := fs.String("config", defPath, "configuration `file`; only database.* is used; default $OFPDP_CONFIG")
	if code, done := parseFlags(fs, args, stdout, stderr, "ofpdp migrate [--config FILE] up|status",
		"Applies (up) or reports (status) the embedded database migrations of database.url.\n"+
			"`ofpdp serve --migrate=auto` also applies them at start; on PostgreSQL an advisory lock lets replicas\n"+
			"and the migration Job run at once. status exits 1 unless the schema is exactly this binary's."); done {
		return code
	}
	if fs.NArg() != 1 || (fs.Arg(0) != "up" && fs.Arg(0) != "status") {
		fmt.Fprintln(stderr, "ofpdp migrate: say up or status, e.g. `ofpdp migrate up`")
		return 2
	}
	cfg, err := config.Load(*path, getenv)
	if err != nil {
		fmt.Fprintf(stderr, "ofpdp migrate: configuration problems:\n%v\n", err)
		return 1
	}
	st, err := store.Open(ctx, cfg.Database.URL, store.Options{MaxOpenConns: cfg.Database.MaxOpenConns})
	if err != nil {
		fmt.Fprintf(stderr, "ofpdp migrate: %v\n", err)
		return 1
	}
	defer st.Close()
	if fs.Arg(0) == "up" {
		if err := st.Migrate(ctx); err != nil {
			fmt.Fprintf(stderr, "ofpdp migrate up: %v\n", err)
			return 1
		}
	}
	cur, latest, err := st.MigrationStatus(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "ofpdp migrate status: %v\n", err)
		return 1
	}
	state := "current"
	if cur < latest {
		state = "behind: run `ofpdp migrate up`"
	} else if cur > latest {
		state = "newer than this binary, which runs on it (expand/contract) but should be upgraded"
	}
	fmt.Fprintf(stdout, "engine: %s\nschema version: %d\nexpected: %d (%s)\nminimum this binary runs on: %d\n",
		st.Engine(), cur, latest, state, store.MinSchemaVersion)
	if cur != latest {
		return 1
	}
	return 0
}
