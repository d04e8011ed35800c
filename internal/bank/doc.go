// Package bank defines the core-bank connector: what ofpdp needs from the bank's own systems
// (design.md §6): authenticate a customer, list accounts, read an account, its balance and a page
// of its transactions. ofpdp enforces consent, permission, account scope and date windows before
// any call, so a connector only ever sees references the consent allows. Implementations live in
// sub-packages (bank/demo). Guard wraps any connector so that a panic in it becomes an error and
// the calls in flight are bounded (design §3.14, §4: 500 server_error, 503 with Retry-After).
package bank
