package deploy

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// helmVersion is the helm release run through the Go module proxy; the Makefile's HELM_VERSION
// must match it.
const helmVersion = "v3.22.0"

// need returns the path of an external tool. When it is missing the test is skipped with the
// reason, except under CI=true, where the check must run and the test fails.
func need(t *testing.T, tool, install string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not found but CI=true: the check must run in CI (%s)", tool, install)
		}
		t.Skipf("%s not found: skipped (%s)", tool, install)
	}
	return p
}

// repoRoot is the ofpdp repository this module sits in.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "cmd", "ofpdp")); err != nil {
		t.Fatalf("repository root not found above deploy/: %v", err)
	}
	return root
}

// run runs a command in dir and returns its standard output; a failure ends the test with
// both outputs.
func run(t *testing.T, dir string, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, stdout.Bytes(), stderr.Bytes())
	}
	return stdout.Bytes()
}

// makeBuild builds the static binary with `make build` into dir, stamped with version and date.
func makeBuild(t *testing.T, dir, version, date string) string {
	t.Helper()
	need(t, "make", "apt-get install make")
	bin := filepath.Join(dir, "ofpdp")
	run(t, repoRoot(t), "make", "--no-print-directory", "build", "BIN="+bin, "VERSION="+version, "BUILD_DATE="+date)
	return bin
}
