// Command ofpdp is the Data Provider server for PayNet's Open Finance
// Platform (design §1): one binary with subcommands. This package holds main,
// flag parsing (stdlib flag) and the dispatch to the subcommands only; their
// logic lives in internal/ (config, pki, buildinfo, and the server packages).
//
// Exit codes: 0 success, 1 failure (invalid configuration, refused or failed
// operation, expired certificate), 2 usage error or a command this build does
// not include.
package main
