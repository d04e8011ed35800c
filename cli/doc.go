// Package cli is the ofpdp command line (design §1): flag parsing (stdlib flag) and the dispatch
// to the subcommands only; their logic lives in internal/ (config, pki, buildinfo, and the server
// packages). It is public so that a bank can build ofpdp with its own Go connector without
// forking: a main that calls connector.Register and then Main (docs/connector.md §7).
//
// Exit codes: 0 success, 1 failure (invalid configuration, refused or failed operation, expired
// certificate), 2 usage error or a command this build does not include.
package cli
