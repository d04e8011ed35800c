// Package server assembles a running DP from its configuration (design.md §1–2): the store
// (migrated at start), the keys, PayNet's key set, the core-bank connector, and the three
// listeners — api (mTLS, PayNet-facing), web (the customer's pages) and ops (loopback). Run serves
// them until its context ends, then shuts down gracefully: readiness goes 503 first, in-flight
// requests finish, then the database closes (issue 3 §1).
package server
