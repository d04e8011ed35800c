package connectortest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/ofpdp/ofpdp/docs"
)

// Contract is docs/connector-openapi.yaml loaded and checked with kin-openapi, routed at one base URL.
type Contract struct {
	doc    *openapi3.T
	router routers.Router
}

// LoadContract loads the embedded document and routes it at baseURL (the adapter's root).
func LoadContract(baseURL string) (*Contract, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(docs.ConnectorOpenAPI)
	if err != nil {
		return nil, fmt.Errorf("connector contract: %w", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("connector contract: %w", err)
	}
	doc.Servers = openapi3.Servers{{URL: baseURL}}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("connector contract: %w", err)
	}
	return &Contract{doc: doc, router: router}, nil
}

// Operations lists the operationIds of the document (connector-test checks each one is exercised).
func (c *Contract) Operations() []string {
	var ops []string
	for _, path := range c.doc.Paths.InMatchingOrder() {
		for _, op := range c.doc.Paths.Value(path).Operations() {
			ops = append(ops, op.OperationID)
		}
	}
	return ops
}

var validateOpts = &openapi3filter.Options{
	AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
	IncludeResponseStatus: true,
	MultiError:            true,
}

// Exchange is one validated request and answer.
type Exchange struct {
	Operation string // operationId, "" when the request matched none
	Status    int
	Body      []byte
	// RequestErr and ResponseErr are the document's objections, nil when it has none.
	RequestErr, ResponseErr error
}

// Transport is an http.RoundTripper that validates every request and answer against the
// contract and records them. Safe for concurrent use.
type Transport struct {
	Contract *Contract
	Next     http.RoundTripper
	// MaxBody caps the answer it reads (default 8 MiB).
	MaxBody int64

	mu        sync.Mutex
	exchanges []Exchange
}

// ErrNoOperation: a request matched no operation of the document.
var ErrNoOperation = errors.New("no operation of the connector contract matches")

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil {
		var err error
		if reqBody, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	ex := Exchange{}
	route, params, err := t.Contract.router.FindRoute(req)
	var in *openapi3filter.RequestValidationInput
	if err != nil {
		ex.RequestErr = fmt.Errorf("%w: %s %s", ErrNoOperation, req.Method, req.URL.Path)
	} else {
		ex.Operation = route.Operation.OperationID
		in = &openapi3filter.RequestValidationInput{Request: req.Clone(context.Background()), PathParams: params, Route: route, Options: validateOpts}
		in.Request.Body = io.NopCloser(bytes.NewReader(reqBody))
		ex.RequestErr = openapi3filter.ValidateRequest(context.Background(), in)
	}
	req.Body = io.NopCloser(bytes.NewReader(reqBody))
	next := t.Next
	if next == nil {
		next = http.DefaultTransport
	}
	resp, err := next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	max := t.MaxBody
	if max <= 0 {
		max = 8 << 20
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, max))
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	ex.Status, ex.Body = resp.StatusCode, body
	if in != nil {
		ex.ResponseErr = openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
			RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
			Body: io.NopCloser(bytes.NewReader(body)), Options: validateOpts})
	}
	t.mu.Lock()
	t.exchanges = append(t.exchanges, ex)
	t.mu.Unlock()
	return resp, nil
}

// Take returns the exchanges recorded since the last Take and forgets them.
func (t *Transport) Take() []Exchange {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := t.exchanges
	t.exchanges = nil
	return out
}
