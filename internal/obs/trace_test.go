package obs

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// TestTraceTransport: a call through TraceTransport is a client span in the caller's trace, and
// the callee receives a traceparent (W3C Trace Context) naming that span.
func TestTraceTransport(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	prev := otel.GetTracerProvider()
	otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp)))
	t.Cleanup(func() { otel.SetTracerProvider(prev) })

	var got trace.SpanContext
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = trace.SpanContextFromContext(propagation.TraceContext{}.Extract(r.Context(), propagation.HeaderCarrier(r.Header)))
		w.WriteHeader(http.StatusBadGateway)
	}))
	defer srv.Close()
	ctx, parent := StartSpan(context.Background(), "caller")
	client := &http.Client{Transport: TraceTransport(SpanConnectorHTTP, http.DefaultTransport)}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/v1/accounts/123", nil)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	parent.End()

	var call tracetest.SpanStub
	for _, s := range exp.GetSpans() {
		if s.Name == SpanConnectorHTTP {
			call = s
		}
	}
	if !got.IsValid() || got.TraceID() != parent.SpanContext().TraceID() || got.SpanID() != call.SpanContext.SpanID() {
		t.Fatalf("traceparent %v, want the call span %v of the caller's trace", got, call.SpanContext)
	}
	if call.Parent.SpanID() != parent.SpanContext().SpanID() || call.Status.Code.String() != "Error" {
		t.Errorf("call span parent %v status %v, want the caller and Error (502)", call.Parent.SpanID(), call.Status)
	}
	for _, a := range call.Attributes {
		if v := a.Value.String(); v == srv.URL+"/v1/accounts/123" || v == "/v1/accounts/123" {
			t.Errorf("the URL (an account id) is an attribute: %s", a.Key)
		}
	}
}
