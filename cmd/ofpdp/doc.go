// Command ofpdp is the Data Provider server for PayNet's Open Finance Platform (design §1): one
// binary with subcommands. It only calls cli.Main; the command line lives in package cli.
package main
