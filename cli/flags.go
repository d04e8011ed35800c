package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
)

// parseFlags parses args into fs. --help prints the usage on stdout (exit 0);
// a bad flag prints the problem and the usage on stderr (exit 2). done tells
// whether the command must return code now.
func parseFlags(fs *flag.FlagSet, args []string, stdout, stderr io.Writer, synopsis, about string) (code int, done bool) {
	fs.SetOutput(io.Discard)
	printUsage := func(w io.Writer) {
		fmt.Fprintf(w, "Usage: %s\n\n%s\n", synopsis, about)
		n := 0
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprintln(w, "\nFlags:")
			fs.SetOutput(w)
			fs.PrintDefaults()
			fs.SetOutput(io.Discard)
		}
	}
	err := fs.Parse(args)
	switch {
	case err == nil:
		return 0, false
	case errors.Is(err, flag.ErrHelp):
		printUsage(stdout)
		return 0, true
	default:
		fmt.Fprintf(stderr, "%s: %v\n\n", fs.Name(), err)
		printUsage(stderr)
		return 2, true
	}
}
