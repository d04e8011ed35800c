package obs

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"
)

type infoKey struct{}

// RequestInfo is what a handler tells the access log about its request. It is created by
// AccessLog and filled by handlers through Annotate and SetCause.
type RequestInfo struct {
	InteractionID string
	ConsentID     string
	Cause         error
}

// Info returns the request's RequestInfo, or a throwaway one outside AccessLog.
func Info(ctx context.Context) *RequestInfo {
	if ri, ok := ctx.Value(infoKey{}).(*RequestInfo); ok {
		return ri
	}
	return &RequestInfo{}
}

// WithInfo returns a context carrying ri.
func WithInfo(ctx context.Context, ri *RequestInfo) context.Context {
	return context.WithValue(ctx, infoKey{}, ri)
}

type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// AccessLog logs one line per request (method, route pattern, status, duration, interaction id,
// consent id and, for refusals, the cause; never bodies or headers) and records the request metrics.
// listener names the listener in logs and metrics ("api", "web", "ops").
func AccessLog(listener string, logger *slog.Logger, m *Metrics, now func() time.Time, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := now()
		ri := &RequestInfo{}
		sw := &statusWriter{ResponseWriter: w}
		r = r.WithContext(WithInfo(r.Context(), ri))
		next.ServeHTTP(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		d := now().Sub(start)
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		if m != nil {
			m.Requests.WithLabelValues(listener, route, strconv.Itoa(sw.status)).Inc()
			m.Latency.WithLabelValues(listener, route).Observe(d.Seconds())
		}
		attrs := []slog.Attr{
			slog.String("listener", listener),
			slog.String("method", r.Method),
			slog.String("route", route),
			slog.Int("status", sw.status),
			slog.Duration("duration", d),
		}
		if ri.InteractionID != "" {
			attrs = append(attrs, slog.String("interaction_id", ri.InteractionID))
		}
		if ri.ConsentID != "" {
			attrs = append(attrs, slog.String("consent_id", ri.ConsentID))
		}
		level := slog.LevelInfo
		if ri.Cause != nil {
			attrs = append(attrs, slog.String("cause", ri.Cause.Error()))
			if sw.status >= 500 {
				level = slog.LevelError
			} else {
				level = slog.LevelWarn
			}
		}
		logger.LogAttrs(r.Context(), level, "request", attrs...)
	})
}
