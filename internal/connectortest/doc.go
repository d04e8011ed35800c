// Package connectortest is the connector test kit (`ofpdp connector-test`, design.md §1): what a
// bank's integration team runs against its own core-bank adapter before connecting it to ofpdp.
// Every request and answer is validated against docs/connector-openapi.yaml with kin-openapi
// (Contract, Transport), and Run checks the behaviour the document describes: authentication
// success and failure, unknown and foreign ids, every account status and its error codes
// (design §4), a full transactions walk (each item once, in order, inside the window), inclusive
// Malaysian-day bounds, deadlines and problem bodies. The report prints as a table, JSON or JUnit.
package connectortest
