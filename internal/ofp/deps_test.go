package ofp

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/ofpdp/ofpdp/"

// dpPackages are the DP's packages (design.md §7.1, §7.8): none may be a dependency of the
// PayNet side, directly or through another package.
var dpPackages = []string{"consent", "jose", "mtls", "store", "storetest", "api", "web", "paynet", "config",
	"server", "bank", "sandbox", "outbox", "ops", "pki"}

// shared are the packages outside internal/ofp the PayNet side may use: logging and build
// metadata, which read no part of the spec.
var shared = []string{"internal/obs", "internal/buildinfo"}

// violations returns the deps that are the DP's, or ofpdp packages outside internal/ofp not in
// shared (a new one must be added here on purpose).
func violations(deps []string) []string {
	var bad []string
	for _, d := range deps {
		p, ok := strings.CutPrefix(d, module)
		if !ok || strings.HasPrefix(p, "internal/ofp/") || p == "internal/ofp" {
			continue
		}
		allowed := false
		for _, s := range shared {
			allowed = allowed || p == s
		}
		for _, dp := range dpPackages {
			if p == "internal/"+dp || strings.HasPrefix(p, "internal/"+dp+"/") {
				allowed = false
			}
		}
		if !allowed {
			bad = append(bad, d)
		}
	}
	return bad
}

// TestPayNetSideImportsNoDPPackage lists every dependency of the PayNet side's non-test code
// and fails on any DP package among them.
func TestPayNetSideImportsNoDPPackage(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", module+"internal/ofp/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 || !strings.Contains(string(out), module+"internal/ofp/sim") {
		t.Fatalf("go list returned too little to be the PayNet side's dependencies:\n%s", out)
	}
	if bad := violations(deps); len(bad) > 0 {
		t.Fatalf("the PayNet side depends on DP packages (design.md §7.8): %v", bad)
	}
}

// TestViolations shows the rule catches a DP package however it is reached.
func TestViolations(t *testing.T) {
	for _, tc := range []struct {
		deps []string
		bad  int
	}{
		{[]string{"fmt", module + "internal/ofp/sim", module + "internal/obs"}, 0},
		{[]string{module + "internal/consent"}, 1},
		{[]string{module + "internal/jose", module + "internal/mtls", module + "internal/store/sqlite"}, 3},
		{[]string{module + "internal/newthing"}, 1},
		{[]string{module + "internal/ofpx"}, 1},
	} {
		if got := violations(tc.deps); len(got) != tc.bad {
			t.Errorf("violations(%v) = %v, want %d", tc.deps, got, tc.bad)
		}
	}
}
