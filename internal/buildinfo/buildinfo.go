package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// Version, Commit and BuildDate are set at link time with -ldflags -X (`make build`). When
// Version or Commit is left empty, Get falls back to what the Go toolchain embedded in the
// binary; BuildDate (RFC 3339, UTC) has no such fallback and stays empty.
var (
	Version   = ""
	Commit    = ""
	BuildDate = ""
)

// Info describes the running binary.
type Info struct {
	Version   string // release version, e.g. "v0.3.0"; "(devel)" for an unstamped build
	Commit    string // VCS revision; empty when unknown
	Modified  bool   // the working tree had uncommitted changes at build time
	BuildDate string // when the binary was built, RFC 3339 UTC; empty when not stamped
	GoVersion string // toolchain that built the binary, e.g. "go1.26.8"
	Module    string // main module path
	Platform  string // GOOS/GOARCH
}

// Get returns the build information of the running binary.
func Get() Info {
	bi, _ := debug.ReadBuildInfo()
	info := fromBuildInfo(bi, Version, Commit)
	info.BuildDate = BuildDate
	return info
}

// fromBuildInfo merges the link-time stamps with the embedded build info;
// link-time values win because the release process sets them deliberately.
func fromBuildInfo(bi *debug.BuildInfo, version, commit string) Info {
	info := Info{
		Version:   version,
		Commit:    commit,
		GoVersion: runtime.Version(),
		Platform:  runtime.GOOS + "/" + runtime.GOARCH,
	}
	if bi != nil {
		if bi.GoVersion != "" {
			info.GoVersion = bi.GoVersion
		}
		info.Module = bi.Main.Path
		if info.Version == "" && bi.Main.Version != "" {
			info.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if info.Commit == "" {
					info.Commit = s.Value
				}
			case "vcs.modified":
				info.Modified = s.Value == "true"
			}
		}
	}
	if info.Version == "" {
		info.Version = "(devel)"
	}
	return info
}

// String renders the information the way `ofpdp version` prints it.
func (i Info) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "ofpdp %s\n", i.Version)
	commit := i.Commit
	if commit == "" {
		commit = "unknown"
	}
	if i.Modified {
		commit += " (modified)"
	}
	fmt.Fprintf(&b, "commit: %s\n", commit)
	date := i.BuildDate
	if date == "" {
		date = "unknown"
	}
	fmt.Fprintf(&b, "built: %s\n", date)
	fmt.Fprintf(&b, "go: %s %s\n", i.GoVersion, i.Platform)
	return b.String()
}
