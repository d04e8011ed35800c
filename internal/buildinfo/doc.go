// Package buildinfo reports which ofpdp build is running: the release version, commit and build
// date stamped at link time (the Makefile passes
// -ldflags "-X github.com/ofpdp/ofpdp/internal/buildinfo.Version=… -X …buildinfo.Commit=… -X …buildinfo.BuildDate=…"),
// completed from the module and VCS data the Go toolchain embeds (runtime/debug.ReadBuildInfo).
//
// It backs `ofpdp version` (design §1) and the build label operators see in metrics (ofpdp_build_info).
package buildinfo
