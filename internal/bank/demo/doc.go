// Package demo is the demonstration core-bank connector (design.md §6): a [bank.Connector] over a
// JSON data file, embedded in the binary (data/bank.json) or loaded from a file the bank edits
// (ofpdp --bank-data FILE). docs/connector.md documents the file's schema and the demo logins.
//
// The file holds customers (passwords as bcrypt hashes), accounts with every field of
// spec paynet-dp.md §5.4, and per account a transaction generator — a seed, a profile and a
// number of months — rather than thousands of rows. Load runs each generator with a
// math/rand/v2 PCG source, so the same file and anchor date always give the same
// transactions (spec §5.6: Malaysian transfer methods, merchants with MCC, times in MYT,
// +08:00) and the same balances (spec §5.5), derived from those transactions.
//
// Like every connector it trusts ofpdp to have checked consent, permission, account scope
// and the date window before a call; it only answers for the account it is asked about.
// Pages of transactions (spec §5.7) are read newest first from a sorted slice by binary
// search.
package demo
