// Package connector is the Go contract between ofpdp and a bank's core systems (design.md §6):
// authenticate a customer, list a customer's accounts, read an account, its balance and a page of
// its transactions (spec paynet-dp.md §5.4–§5.7), with the sentinel errors ofpdp maps onto the
// protocol errors of design §4. ofpdp checks consent, permission, account scope and date windows
// before any call, so a connector only ever sees references the consent allows.
//
// The same contract is published over HTTPS/JSON in docs/connector-openapi.yaml for banks that do
// not write Go; a Go bank may instead implement Connector in its own module and build ofpdp with
// it (docs/connector.md §7).
//
// Stability: this package follows semantic versioning with the ofpdp module. Within a major
// version, types and methods are only added (new optional fields, never a changed meaning);
// a new method on Connector is only added in a new major version.
package connector
