package keysource

import (
	"os"
	"strings"
	"testing"
)

// TestPrivateModeRule: a file owned by the process user must be 0600 or less; a root-owned file
// read by a non-root process may also be group-readable (0640 or less), as Kubernetes mounts
// Secrets; nothing may be open to others or writable by the group.
func TestPrivateModeRule(t *testing.T) {
	cases := []struct {
		perm        os.FileMode
		owner, self int
		fix         string // "" = accepted
	}{
		{0o600, 1000, 1000, ""},
		{0o400, 1000, 1000, ""},
		{0o640, 1000, 1000, "chmod 600"},
		{0o604, 1000, 1000, "chmod 600"},
		{0o600, 0, 0, ""},
		{0o640, 0, 0, "chmod 600"}, // root reading its own group-readable file: as strict as any owner
		{0o440, 0, 65532, ""},      // a Kubernetes Secret with defaultMode 0440 and fsGroup
		{0o640, 0, 65532, ""},
		{0o660, 0, 65532, "chmod 640"},
		{0o644, 0, 65532, "chmod 640"},
		{0o604, 0, 65532, "chmod 640"},
		{0o640, 1000, 65532, "chmod 600"}, // owned by someone else who is not root
	}
	for _, c := range cases {
		got := privateModeProblem(c.perm, c.owner, c.self, "/k")
		if (c.fix == "") != (got == "") || !strings.Contains(got, c.fix) {
			t.Errorf("mode %04o owner %d self %d: %q, want fix %q", c.perm, c.owner, c.self, got, c.fix)
		}
	}
}
