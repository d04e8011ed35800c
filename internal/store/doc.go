// Package store is ofpdp's persistence (design.md §5): consents with a compare-and-swap version
// and their append-only event history (spec paynet-dp.md §3.1.1, §5.1–5.3; design §3.6), the
// customer's authorization and account references (design §3.8–3.9), browser sessions (only a
// hash of the id), login-failure counting for lockout, the replay cache for JWS jti and form
// nonces (design §3.2), outbound PATCH attempts and the outbox of compensating consent updates
// that must still reach PayNet (negative-tests C11; claimed with a lease so replicas never send
// one twice), and the audit trail. Purge removes what the retention periods no longer keep, in
// batches; named leases (TryLease) let one replica at a time run such a job.
//
// It speaks one SQL dialect ($n placeholders, ON CONFLICT, RETURNING) over database/sql with
// modernc.org/sqlite (a WAL file, writers serialised by BEGIN IMMEDIATE) or PostgreSQL through
// pgx, so several replicas can share one database. Migrations are embedded and applied with
// goose (PostgreSQL advisory lock). Instants are stored as Unix nanoseconds in UTC.
package store
