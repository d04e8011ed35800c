package api

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"net/url"
	"regexp"

	"go.opentelemetry.io/otel/attribute"

	"github.com/ofpdp/ofpdp/internal/jose"
	"github.com/ofpdp/ofpdp/internal/mtls"
	"github.com/ofpdp/ofpdp/internal/obs"
	"github.com/ofpdp/ofpdp/internal/protoerr"
)

// RequestVerifier verifies a request's x-fapi-signature (design §3.2). *jose.Verifier implements it.
type RequestVerifier interface {
	VerifyRequest(ctx context.Context, sig, method string, reqURL *url.URL, body []byte) (*jose.Header, error)
}

// CertGate admits only allowed PayNet client certificates. *mtls.Gate implements it.
type CertGate interface {
	// Check returns the verified client certificate when the allow-list admits it.
	Check(r *http.Request) (*x509.Certificate, error)
	// Peer returns the verified client certificate, allowed or not (diagnostics only).
	Peer(r *http.Request) (*x509.Certificate, error)
}

// Header names (spec §3.0, §4.2, §4.3; design §3.2).
const (
	HeaderInteractionID = "x-fapi-interaction-id"
	HeaderSignature     = "x-fapi-signature"
	HeaderSignatureAlt  = "x-signature"
	HeaderEncKid        = "x-enc-kid"
)

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

type verifiedKey struct{}

// verified is what the signature middleware hands to handlers: the exact body bytes and the
// verified protected header.
type verified struct {
	Body   []byte
	Header *jose.Header
}

func verifiedFrom(ctx context.Context) verified {
	v, _ := ctx.Value(verifiedKey{}).(verified)
	return v
}

// fail writes err as the design §4 body and records its cause for the access log.
func fail(w http.ResponseWriter, r *http.Request, err error) {
	pe := protoerr.Write(w, err)
	ri := obs.Info(r.Context())
	if pe.Cause != nil {
		ri.Cause = pe.Cause
	} else {
		ri.Cause = errors.New(pe.Public)
	}
}

// interactionID echoes x-fapi-interaction-id (generating a UUID when absent) and refuses a
// malformed one with 400 (negative-tests D8). It must run inside obs.AccessLog.
func (h *Handler) interactionID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(HeaderInteractionID)
		if vals := r.Header.Values(HeaderInteractionID); len(vals) > 1 {
			id = ""
			w.Header().Set(HeaderInteractionID, h.newID())
			fail(w, r, protoerr.InvalidRequest("x-fapi-interaction-id given more than once", nil))
			return
		}
		if id == "" {
			id = h.newID()
		} else if !uuidRE.MatchString(id) {
			w.Header().Set(HeaderInteractionID, h.newID())
			fail(w, r, protoerr.InvalidRequest("x-fapi-interaction-id must be a UUID", nil))
			return
		}
		w.Header().Set(HeaderInteractionID, id)
		obs.Info(r.Context()).InteractionID = id
		// One span per inbound request; PayNet's interaction id ties it to their side.
		ctx, span := obs.ServerSpan(r, obs.SpanAPIRequest, attribute.String(obs.AttrInteractionID, id))
		traced := r.WithContext(ctx)
		next.ServeHTTP(w, traced)
		r.Pattern = traced.Pattern // the route the mux matched, for the access log too
		if r.Pattern != "" {
			span.SetAttributes(attribute.String(obs.AttrRoute, r.Pattern))
		}
		span.End()
	})
}

// clientCert admits only allowed PayNet client certificates (design §2; negative-tests T1, T2, T5).
func (h *Handler) clientCert(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := h.gate.Check(r); err != nil {
			if errors.Is(err, mtls.ErrNoCertificate) {
				fail(w, r, protoerr.InvalidClient("a client certificate is required", err))
				return
			}
			fail(w, r, protoerr.InvalidClient("client certificate not allowed", err))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// signature reads the body (capped), verifies x-fapi-signature over the exact bytes and hands
// both to the handler (design §3.2; negative-tests §5.2).
func (h *Handler) signature(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body []byte
		var err error
		if r.Body != nil && r.Body != http.NoBody { // the data GETs carry none: nothing to read or copy
			body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBody))
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				fail(w, r, protoerr.TooLarge("request body is larger than the limit"))
				return
			}
			fail(w, r, protoerr.InvalidRequest("request body could not be read", err))
			return
		}
		sigs := r.Header.Values(HeaderSignature)
		if len(sigs) == 0 {
			sigs = r.Header.Values(HeaderSignatureAlt)
		}
		if len(sigs) > 1 {
			h.sigFailure("duplicate_header")
			fail(w, r, protoerr.InvalidSignature("x-fapi-signature given more than once", nil))
			return
		}
		if len(sigs) == 0 || sigs[0] == "" {
			h.sigFailure("missing")
			fail(w, r, protoerr.InvalidSignature("x-fapi-signature is required", jose.ErrMissing))
			return
		}
		vctx, span := obs.StartSpan(r.Context(), obs.SpanVerify)
		hdr, err := h.verifier.VerifyRequest(vctx, sigs[0], r.Method, r.URL, body)
		obs.EndSpan(span, err)
		if err != nil {
			h.sigFailure(sigReason(err))
			if jose.IsClaimError(err) {
				fail(w, r, protoerr.InvalidClaim("request signature claims are not acceptable", err))
			} else {
				fail(w, r, protoerr.InvalidSignature("request signature could not be verified", err))
			}
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		ctx := context.WithValue(r.Context(), verifiedKey{}, verified{Body: body, Header: hdr})
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func (h *Handler) sigFailure(reason string) {
	if h.metrics != nil {
		h.metrics.SignatureFailures.WithLabelValues(reason).Inc()
	}
}

// sigReason names a verification failure for the signature-failures metric (a fixed label set).
func sigReason(err error) string {
	for _, r := range []struct {
		err  error
		name string
	}{
		{jose.ErrMissing, "missing"}, {jose.ErrMalformed, "malformed"}, {jose.ErrAlgorithm, "algorithm"},
		{jose.ErrUnknownKey, "unknown_kid"}, {jose.ErrKeyUse, "key_use"}, {jose.ErrSignature, "signature"},
		{jose.ErrAttachedPayload, "attached_payload"}, {jose.ErrIat, "iat"}, {jose.ErrJti, "jti"},
		{jose.ErrReplay, "replay"}, {jose.ErrIssuer, "issuer"}, {jose.ErrCrit, "crit"}, {jose.ErrB64, "b64"},
		{jose.ErrURLMismatch, "url_mismatch"},
	} {
		if errors.Is(err, r.err) {
			return r.name
		}
	}
	return "other"
}
