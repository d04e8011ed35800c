package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/ofpdp/ofpdp/internal/consent"
	"github.com/ofpdp/ofpdp/internal/obs"
	"github.com/ofpdp/ofpdp/internal/protoerr"
	"github.com/ofpdp/ofpdp/internal/store"
)

// EventStore persists consent events. *store.Store implements it.
type EventStore interface {
	ApplyEvent(ctx context.Context, ev consent.Event, r store.EventReceipt) (consent.Decision, error)
}

// Options are the dependencies of the api handler.
type Options struct {
	DPID         string
	Gate         CertGate
	Verifier     RequestVerifier
	Events       EventStore
	MaxBodyBytes int64 // default 1 MiB
	Metrics      *obs.Metrics
	Logger       *slog.Logger
	Now          func() time.Time
	NewID        func() string
	// Data serves the resource endpoints; nil leaves them unregistered (404).
	Data *DataOptions
}

// Handler is the api listener's http.Handler.
type Handler struct {
	dpID     string
	gate     CertGate
	verifier RequestVerifier
	events   EventStore
	maxBody  int64
	metrics  *obs.Metrics
	logger   *slog.Logger
	now      func() time.Time
	newID    func() string
	data     *dataServer
	root     http.Handler
}

// New builds the api handler with its middleware chain.
func New(o Options) (*Handler, error) {
	if o.DPID == "" || o.Gate == nil || o.Verifier == nil || o.Events == nil {
		return nil, errors.New("api: DPID, Gate, Verifier and Events are required")
	}
	h := &Handler{dpID: o.DPID, gate: o.Gate, verifier: o.Verifier, events: o.Events, maxBody: o.MaxBodyBytes,
		metrics: o.Metrics, logger: o.Logger, now: o.Now, newID: o.NewID}
	if h.maxBody <= 0 {
		h.maxBody = 1 << 20
	}
	if h.logger == nil {
		h.logger = slog.Default()
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.newID == nil {
		h.newID = uuid.NewString
	}
	if o.Data != nil {
		d, err := newDataServer(h, *o.Data)
		if err != nil {
			return nil, err
		}
		h.data = d
	}
	mux := http.NewServeMux()
	h.routes(mux)
	// Chain (outermost first): access log → interaction id → client certificate → routes.
	// Signature verification wraps each signed route, so 404/405 need no signature.
	gated := h.clientCert(mux)
	top := http.NewServeMux()
	// The mTLS diagnostics answer before the allow-list, so that a certificate it refuses can
	// be seen; the handshake has already verified the chain to PayNet's CA (design §2).
	top.HandleFunc("GET "+DiagnosticsMTLSPath, h.diagnosticsMTLS)
	top.Handle("/", gated)
	h.root = obs.AccessLog("api", h.logger, h.metrics, h.now, h.interactionID(top))
	return h, nil
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.root.ServeHTTP(w, r) }

// route registers a signed route and a method-less twin that answers 405 with the design §4 body.
func (h *Handler) route(mux *http.ServeMux, methods []string, path string, fn http.HandlerFunc) {
	signed := h.signature(fn)
	for _, m := range methods {
		mux.Handle(m+" "+path, signed)
	}
	mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
		fail(w, r, protoerr.MethodNotAllowed())
	})
}

func (h *Handler) routes(mux *http.ServeMux) {
	h.route(mux, []string{http.MethodPost}, "/v1/consents/events", h.consentEvents)
	if h.data != nil {
		h.data.routes(mux)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { fail(w, r, protoerr.NotFound()) })
}
