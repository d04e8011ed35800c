package obs

import (
	"database/sql"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// TimedTransport observes every call through next in m.OutboundLatency under peer. The outcome
// is network_error (no answer), server_error (5xx) or ok; nothing of the request is recorded.
func (m *Metrics) TimedTransport(peer string, next http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		start := time.Now()
		resp, err := next.RoundTrip(r)
		outcome := "ok"
		switch {
		case err != nil:
			outcome = "network_error"
		case resp.StatusCode >= 500:
			outcome = "server_error"
		}
		m.OutboundLatency.WithLabelValues(peer, outcome).Observe(time.Since(start).Seconds())
		return resp, err
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// RegisterDBStats exports the connection pool's statistics (stats is sql.DB.Stats) as
// ofpdp_db_* metrics: open, in-use and idle connections, the pool's limit, and the waits for a
// free connection (pool exhaustion shows there first).
func (m *Metrics) RegisterDBStats(stats func() sql.DBStats) {
	gauge := func(name, help string, f func(sql.DBStats) float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 { return f(stats()) })
	}
	counter := func(name, help string, f func(sql.DBStats) float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return f(stats()) })
	}
	m.Registry.MustRegister(
		gauge("ofpdp_db_max_open_connections", "The pool's limit (database.max_open_conns).", func(s sql.DBStats) float64 { return float64(s.MaxOpenConnections) }),
		gauge("ofpdp_db_open_connections", "Open connections, in use or idle.", func(s sql.DBStats) float64 { return float64(s.OpenConnections) }),
		gauge("ofpdp_db_in_use_connections", "Connections in use.", func(s sql.DBStats) float64 { return float64(s.InUse) }),
		gauge("ofpdp_db_idle_connections", "Idle connections.", func(s sql.DBStats) float64 { return float64(s.Idle) }),
		counter("ofpdp_db_wait_count_total", "Waits for a free connection.", func(s sql.DBStats) float64 { return float64(s.WaitCount) }),
		counter("ofpdp_db_wait_duration_seconds_total", "Time spent waiting for a free connection.", func(s sql.DBStats) float64 { return s.WaitDuration.Seconds() }),
	)
}
