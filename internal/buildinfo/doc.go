// Package buildinfo reports which ofpdp build is running: the release version and
// commit stamped at link time (the Makefile passes
// -ldflags "-X github.com/ofpdp/ofpdp/internal/buildinfo.Version=… -X …buildinfo.Commit=…"),
// completed from the module and VCS data the Go toolchain embeds (runtime/debug.ReadBuildInfo).
//
// It backs `ofpdp version` (design §1) and the build label operators see in logs and metrics.
package buildinfo
