package buildinfo

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestFromBuildInfo(t *testing.T) {
	embedded := &debug.BuildInfo{
		GoVersion: "go1.26.8",
		Main:      debug.Module{Path: "github.com/ofpdp/ofpdp", Version: "v0.2.0"},
		Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "abc123"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	tests := []struct {
		name            string
		bi              *debug.BuildInfo
		version, commit string
		want            Info
	}{
		{
			name: "ldflags win over embedded data",
			bi:   embedded, version: "v1.0.0", commit: "deadbeef",
			want: Info{Version: "v1.0.0", Commit: "deadbeef", Modified: true, GoVersion: "go1.26.8", Module: "github.com/ofpdp/ofpdp"},
		},
		{
			name: "embedded data fills the gaps",
			bi:   embedded,
			want: Info{Version: "v0.2.0", Commit: "abc123", Modified: true, GoVersion: "go1.26.8", Module: "github.com/ofpdp/ofpdp"},
		},
		{
			name: "nothing known",
			want: Info{Version: "(devel)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := fromBuildInfo(tt.bi, tt.version, tt.commit)
			got.Platform = ""
			if tt.bi == nil {
				got.GoVersion = "" // runtime.Version() of the test binary
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestString(t *testing.T) {
	s := Info{Version: "v1.0.0", Commit: "deadbeef", Modified: true, BuildDate: "2026-12-01T10:00:00Z", GoVersion: "go1.26.8", Platform: "linux/amd64"}.String()
	for _, want := range []string{"ofpdp v1.0.0\n", "commit: deadbeef (modified)\n", "built: 2026-12-01T10:00:00Z\n", "go: go1.26.8 linux/amd64\n"} {
		if !strings.Contains(s, want) {
			t.Errorf("String() = %q, missing %q", s, want)
		}
	}
	if s := (Info{Version: "(devel)"}).String(); !strings.Contains(s, "commit: unknown\nbuilt: unknown\n") {
		t.Errorf("String() = %q, want commit and build date unknown", s)
	}
}

func TestGet(t *testing.T) {
	if got := Get(); got.GoVersion == "" || got.Version == "" {
		t.Errorf("Get() = %+v, want GoVersion and Version set", got)
	}
}
