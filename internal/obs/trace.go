package obs

import (
	"context"
	"net/http"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/ofpdp/ofpdp/internal/buildinfo"
)

// tracer is ofpdp's OpenTelemetry tracer from the global provider, which is a no-op until
// SetupTracing (or a test) installs one, so spans cost nothing while tracing is off.
func tracer() trace.Tracer { return otel.GetTracerProvider().Tracer("github.com/ofpdp/ofpdp") }

// Span names: one per step of a request a trace shows (docs/operations.md, tracing).
const (
	SpanAPIRequest     = "api.request"
	SpanVerify         = "verify_signature"
	SpanReplay         = "replay_check"
	SpanStore          = "store"
	SpanConnector      = "connector"
	SpanSeal           = "seal_response"
	SpanPayNetCall     = "paynet.call"
	SpanConnectorHTTP  = "connector.http"
	AttrInteractionID  = "ofpdp.interaction_id"
	AttrRoute          = "http.route"
	AttrOperation      = "ofpdp.operation"
	AttrResponseStatus = "http.response.status_code"
)

// StartSpan starts a span under ctx's. Attributes must never carry PII, tokens or bodies:
// callers pass route patterns, operation names and ids only.
func StartSpan(ctx context.Context, name string, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	return tracer().Start(ctx, name, trace.WithAttributes(attrs...))
}

// EndSpan ends span, marking it failed when err is set. The error's text is not recorded: it
// may quote input.
func EndSpan(span trace.Span, err error) {
	if err != nil {
		span.SetStatus(codes.Error, "failed")
	}
	span.End()
}

// SetupTracing installs an OTLP/HTTP exporter to endpoint (a URL such as
// https://otel-collector:4318) sampling ratio of the traces that start here, and the W3C trace
// context propagator. shutdown flushes the spans still queued.
func SetupTracing(ctx context.Context, endpoint string, ratio float64) (shutdown func(context.Context) error, err error) {
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(endpoint), otlptracehttp.WithTimeout(5*time.Second))
	if err != nil {
		return nil, err
	}
	res := resource.NewSchemaless(attribute.String("service.name", "ofpdp"), attribute.String("service.version", buildinfo.Get().Version))
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(ratio))))
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.TraceContext{})
	return tp.Shutdown, nil
}

// TraceTransport makes every call through next a client span named name and sends the W3C
// traceparent header with it, so the callee (the bank's adapter) continues the trace.
func TraceTransport(name string, next http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		ctx, span := tracer().Start(r.Context(), name, trace.WithSpanKind(trace.SpanKindClient),
			trace.WithAttributes(attribute.String("http.request.method", r.Method)))
		r = r.Clone(ctx)
		propagation.TraceContext{}.Inject(ctx, propagation.HeaderCarrier(r.Header))
		resp, err := next.RoundTrip(r)
		if err == nil {
			span.SetAttributes(attribute.Int(AttrResponseStatus, resp.StatusCode))
			if resp.StatusCode >= 500 {
				err = errServerStatus
			}
		}
		EndSpan(span, err)
		if err == errServerStatus {
			err = nil
		}
		return resp, err
	})
}

type statusError struct{}

func (statusError) Error() string { return "server error status" }

var errServerStatus error = statusError{}

// ServerSpan starts the span of an inbound request, continuing the caller's trace when it sent
// a traceparent.
func ServerSpan(r *http.Request, name string, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	ctx := otel.GetTextMapPropagator().Extract(r.Context(), propagation.HeaderCarrier(r.Header))
	return tracer().Start(ctx, name, trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(attrs...))
}
