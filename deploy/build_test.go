package deploy

import (
	"debug/elf"
	"strings"
	"testing"
)

const (
	testVersion = "v9.8.7-deploytest"
	testDate    = "2026-12-01T10:00:00Z"
)

// TestStaticBuild: `make build` links a static binary (no ELF interpreter, no shared libraries:
// CGO_ENABLED=0) that reports the stamped version, commit and build date.
func TestStaticBuild(t *testing.T) {
	bin := makeBuild(t, t.TempDir(), testVersion, testDate)
	assertStatic(t, bin)
	commit := strings.TrimSpace(string(run(t, repoRoot(t), "git", "rev-parse", "--short=12", "HEAD")))
	assertVersion(t, bin, commit)
}

func assertStatic(t *testing.T, bin string) {
	t.Helper()
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("%s has an ELF interpreter: dynamically linked", bin)
		}
	}
	if libs, err := f.ImportedLibraries(); err != nil || len(libs) > 0 {
		t.Errorf("%s needs shared libraries %v (%v)", bin, libs, err)
	}
}

func assertVersion(t *testing.T, bin, commit string) {
	t.Helper()
	out := string(run(t, t.TempDir(), bin, "version"))
	for _, want := range []string{"ofpdp " + testVersion + "\n", "commit: " + commit + "\n", "built: " + testDate + "\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("ofpdp version printed %q, missing %q", out, want)
		}
	}
}
