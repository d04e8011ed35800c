package obs

import (
	"github.com/ofpdp/ofpdp/internal/buildinfo"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics are ofpdp's Prometheus metrics, registered on their own registry.
type Metrics struct {
	Registry *prometheus.Registry

	// Requests counts HTTP requests by listener, route pattern and status code.
	Requests *prometheus.CounterVec
	// Latency observes request duration in seconds by listener and route pattern.
	Latency *prometheus.HistogramVec
	// SignatureFailures counts refused request signatures by reason (a fixed set of rule names).
	SignatureFailures *prometheus.CounterVec
	// Events counts consent events by event type and outcome.
	Events *prometheus.CounterVec
	// ConsentUpdates counts PATCH attempts to PayNet by outcome.
	ConsentUpdates *prometheus.CounterVec
	// DataResponses counts resource responses by endpoint and outcome (the error code or "ok").
	DataResponses *prometheus.CounterVec
	// Journeys counts customer journey outcomes (authorized, rejected, failed, ...).
	Journeys *prometheus.CounterVec
	// OutboxPending is the number of compensating consent updates still to reach PayNet
	// (negative-tests C11).
	OutboxPending prometheus.Gauge
	// OutboxOutcomes counts outbox deliveries by outcome: delivered, refused, abandoned, retry.
	OutboxOutcomes *prometheus.CounterVec
	// WebRefusals counts customer-listener requests refused before anything is stored, by reason:
	// rate_limited, authorize_refused, sessions_capped, login_throttled.
	WebRefusals *prometheus.CounterVec
	// PurgedRows counts rows removed by the retention purge, by table.
	PurgedRows *prometheus.CounterVec
	// PurgeRuns counts retention purge runs by outcome: done, error, or leased_elsewhere (another
	// replica holds the purge lease).
	PurgeRuns *prometheus.CounterVec
	// BuildInfo is 1, labelled with the running binary's version, commit, build date and Go version,
	// so dashboards and alerts can tell which release each replica runs.
	BuildInfo *prometheus.GaugeVec
	// CertificateExpiry is the notAfter (Unix seconds) of each certificate in use, by name (a fixed
	// set: tls_server, mtls_client, signing, paynet_ca); for a chain or bundle, the earliest one.
	CertificateExpiry *prometheus.GaugeVec
	// JWKSFetchFailures counts failed fetches of a JWKS by source: paynet (PayNet's signing keys)
	// or dc (a data consumer's keys at PayNet).
	JWKSFetchFailures *prometheus.CounterVec
	// OutboundLatency observes outbound HTTP calls in seconds by peer (paynet, corebank) and
	// outcome (ok, server_error, network_error).
	OutboundLatency *prometheus.HistogramVec
}

// NewMetrics creates the metrics on a fresh registry with the Go and process collectors.
func NewMetrics() *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := &Metrics{
		Registry: reg,
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ofpdp_http_requests_total", Help: "HTTP requests by listener, route pattern and status code.",
		}, []string{"listener", "route", "status"}),
		Latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "ofpdp_http_request_duration_seconds",
			Help:    "HTTP request duration by listener and route pattern.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"listener", "route"}),
		SignatureFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ofpdp_signature_failures_total", Help: "Refused request signatures by reason.",
		}, []string{"reason"}),
		Events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ofpdp_consent_events_total", Help: "Consent events by type and outcome.",
		}, []string{"type", "outcome"}),
		ConsentUpdates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ofpdp_consent_update_attempts_total", Help: "PATCH /v1/consents attempts to PayNet by outcome.",
		}, []string{"outcome"}),
		DataResponses: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ofpdp_data_responses_total", Help: "Resource responses by endpoint and outcome.",
		}, []string{"endpoint", "outcome"}),
		Journeys: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ofpdp_authorization_journeys_total", Help: "Customer authorization journeys by outcome.",
		}, []string{"outcome"}),
		OutboxPending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ofpdp_consent_update_outbox_pending", Help: "Compensating consent updates not yet delivered to PayNet.",
		}),
		OutboxOutcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ofpdp_consent_update_outbox_total", Help: "Compensating consent update deliveries by outcome (delivered, refused, abandoned, retry).",
		}, []string{"outcome"}),
		WebRefusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ofpdp_web_refusals_total", Help: "Customer-listener requests refused before anything was stored, by reason.",
		}, []string{"reason"}),
		PurgedRows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ofpdp_retention_purged_rows_total", Help: "Rows removed by the retention purge, by table.",
		}, []string{"table"}),
		PurgeRuns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ofpdp_retention_purge_runs_total", Help: "Retention purge runs by outcome (done, error, leased_elsewhere).",
		}, []string{"outcome"}),
		BuildInfo: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ofpdp_build_info", Help: "Always 1; labelled with the version, commit, build date and Go version of the binary.",
		}, []string{"version", "commit", "build_date", "goversion"}),
		CertificateExpiry: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ofpdp_certificate_expiry_timestamp_seconds",
			Help: "notAfter of each certificate in use, in Unix seconds (the earliest of a chain or bundle).",
		}, []string{"name"}),
		JWKSFetchFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ofpdp_jwks_fetch_failures_total", Help: "Failed JWKS fetches by source (paynet, dc).",
		}, []string{"source"}),
		OutboundLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "ofpdp_outbound_request_duration_seconds",
			Help:    "Outbound HTTP calls by peer (paynet, corebank) and outcome (ok, server_error, network_error), in seconds.",
			Buckets: []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8},
		}, []string{"peer", "outcome"}),
	}
	bi := buildinfo.Get()
	m.BuildInfo.WithLabelValues(bi.Version, bi.Commit, bi.BuildDate, bi.GoVersion).Set(1)
	reg.MustRegister(m.BuildInfo, m.CertificateExpiry, m.JWKSFetchFailures, m.OutboundLatency)
	reg.MustRegister(m.Requests, m.Latency, m.SignatureFailures, m.Events, m.ConsentUpdates, m.DataResponses, m.Journeys,
		m.OutboxPending, m.OutboxOutcomes, m.PurgedRows, m.PurgeRuns, m.WebRefusals)
	return m
}
