// Package ops is ofpdp's operator listener (design.md §2 "ops", loopback by default): /healthz
// (the process is up), /readyz (database reachable, keys loaded, migrations current; 503 while
// draining at shutdown), /metrics (Prometheus, our own registry) and an admin API behind a bearer
// token (negative-tests O3, O5) that reads consents, their events and PATCH attempts and the
// consent update outbox, and re-queues an abandoned outbox item (negative-tests C11; audited).
// Nothing here is reachable from the PayNet-facing listener, and no answer carries versions,
// secrets, account numbers or ID numbers.
package ops
