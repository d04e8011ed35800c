package cli

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/ofpdp/ofpdp/internal/buildinfo"
)

func runVersion(_ context.Context, args []string, stdout, stderr io.Writer, _ env) int {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	if code, done := parseFlags(fs, args, stdout, stderr, "ofpdp version", "Prints the version, commit, build date and Go version of this binary."); done {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "ofpdp version: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	fmt.Fprint(stdout, buildinfo.Get().String())
	return 0
}
