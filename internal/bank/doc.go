// Package bank holds ofpdp's own machinery around a core-bank connector (the contract is the public
// package connector, design.md §6). Guard wraps any connector so that a panic in it becomes an
// error and the calls in flight are bounded (design §3.14, §4: 500 server_error, 503 with
// Retry-After). Implementations live in sub-packages (bank/demo).
package bank
