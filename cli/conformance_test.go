package cli

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ofpdp/ofpdp/internal/pki"
)

// TestConformanceExitCodes: 2 is a run that could not start — bad flags, an unreadable
// sandbox.json, a report path that cannot be written, a DP that accepts no connection — never 1,
// which a pipeline reads as "the DP failed a row".
func TestConformanceExitCodes(t *testing.T) {
	dir := t.TempDir()
	pkiDir := filepath.Join(dir, "pki")
	if _, err := pki.Generate(pkiDir, pki.Options{}); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	explicit := []string{"conformance", "--dp-api-url", "https://" + closed, "--dp-web-url", "http://" + closed,
		"--pki-dir", pkiDir, "--redirect-uri", "http://127.0.0.1:3/callback", "--user", "u", "--password", "p",
		"--paynet-listen", "127.0.0.1:0"}
	for _, tc := range []struct {
		name string
		args []string
		err  string
	}{
		{"unknown flag", []string{"conformance", "--nope"}, "flag provided but not defined"},
		{"no target", []string{"conformance"}, "give --sandbox"},
		{"sandbox.json missing", []string{"conformance", "--sandbox", filepath.Join(dir, "none.json")}, "none.json"},
		{"report not writable", append(cloneArgs(explicit), "--junit", filepath.Join(dir, "no", "such", "dir.xml")), "dir.xml"},
		{"id type without number", append(cloneArgs(explicit), "--user-id-type", "nric"), "go together"},
		{"page map missing", append(cloneArgs(explicit), "--pages", filepath.Join(dir, "none.json")), "none.json"},
		{"DP unreachable", explicit, "DP unreachable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := ofpdp(t, nil, tc.args...)
			if code != 2 || !strings.Contains(stderr, tc.err) {
				t.Errorf("exit %d, stderr %q; want 2 mentioning %q", code, stderr, tc.err)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "no")); err == nil {
		t.Error("a report directory was created")
	}
}

func cloneArgs(s []string) []string { return append([]string(nil), s...) }
