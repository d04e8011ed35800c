package api

import (
	"net/http"
	"testing"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/ofpdp/ofpdp/internal/obs"
)

// TestBalancesTrace: a balances call is one api.request span carrying the interaction id and
// the route, with children for signature verification (and its replay check under it), the
// store, the connector and the sealing; no attribute holds anything but names and ids.
func TestBalancesTrace(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	prev := otel.GetTracerProvider()
	otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp)))
	t.Cleanup(func() { otel.SetTracerProvider(prev) })

	e := newEnv(t, func(*envConfig) {})
	resp := e.do(req{method: http.MethodGet, path: dataPath(e.accounts[refSavings], "/balances")})
	e.open(resp)

	spans := exp.GetSpans()
	byName := map[string]tracetest.SpanStub{}
	for _, s := range spans {
		byName[s.Name] = s
	}
	root, ok := byName[obs.SpanAPIRequest]
	if !ok {
		t.Fatalf("no %s span among %d", obs.SpanAPIRequest, len(spans))
	}
	attrs := map[string]string{}
	for _, a := range root.Attributes {
		attrs[string(a.Key)] = a.Value.String()
	}
	if attrs[obs.AttrInteractionID] != resp.Header.Get(HeaderInteractionID) || attrs[obs.AttrRoute] != "GET /v1/accounts/{account_id}/balances" {
		t.Errorf("root attributes %v, want the interaction id %s and the route", attrs, resp.Header.Get(HeaderInteractionID))
	}
	for child, parent := range map[string]string{
		obs.SpanVerify: obs.SpanAPIRequest, obs.SpanReplay: obs.SpanVerify, obs.SpanStore: obs.SpanAPIRequest,
		obs.SpanConnector: obs.SpanAPIRequest, obs.SpanSeal: obs.SpanAPIRequest,
	} {
		c, ok := byName[child]
		if !ok {
			t.Errorf("no %s span", child)
			continue
		}
		if p := byName[parent]; c.Parent.SpanID() != p.SpanContext.SpanID() || c.SpanContext.TraceID() != root.SpanContext.TraceID() {
			t.Errorf("%s is not a child of %s in the request's trace", child, parent)
		}
	}
	allowed := map[string]bool{obs.AttrInteractionID: true, obs.AttrRoute: true, obs.AttrOperation: true}
	for _, s := range spans {
		for _, a := range s.Attributes {
			if !allowed[string(a.Key)] {
				t.Errorf("span %s carries attribute %s", s.Name, a.Key)
			}
		}
	}
}
