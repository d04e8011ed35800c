// Package obs is ofpdp's observability: structured logging with log/slog, Prometheus metrics on a
// registry of our own (design.md §2 ops listener), and the per-request annotations that the access
// log reads (interaction id, consent id, the cause of a refusal). Labels are bounded: route
// patterns, status codes and fixed reason names, never ids or values from requests. It also
// holds the OpenTelemetry tracing (OTLP/HTTP, W3C Trace Context to the core bank): span
// attributes follow the same rule, plus PayNet's interaction id (spec §4.3).
package obs
