package conformance

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/ofpdp/ofpdp/internal/ofp/stdjose"
)

// payNet calls the DP's api listener as PayNet does (spec paynet-dp.md §3.0, §4.1–4.3): over mTLS
// with paynet-mtls, with x-fapi-interaction-id, and with a detached x-fapi-signature by paynet-sig
// whose header is {alg, kid, iss, jti, iat, crit} (design.md §3.2) — or with whatever a negative
// case puts there instead.
type payNet struct {
	base    string
	client  *http.Client
	k       *keys
	issuer  string
	timeout time.Duration
	now     func() time.Time
}

// Header names (spec §3.0, §4.2, §4.3).
const (
	hInteractionID = "x-fapi-interaction-id"
	hSignature     = "x-fapi-signature"
	hEncKid        = "x-enc-kid"
)

// maxAPIBody bounds what is read of one api answer.
const maxAPIBody = 16 << 20

func newPayNet(base string, k *keys, issuer string, timeout time.Duration, now func() time.Time) *payNet {
	cfg := clientTLS(k.paynetMTLS, k.roots)
	return &payNet{base: base, k: k, issuer: issuer, timeout: timeout, now: now, client: newAPIClient(cfg, timeout)}
}

func newAPIClient(cfg *tls.Config, timeout time.Duration) *http.Client {
	tr := &http.Transport{TLSClientConfig: cfg, TLSHandshakeTimeout: timeout, MaxIdleConnsPerHost: 16,
		IdleConnTimeout: 30 * time.Second, ForceAttemptHTTP2: true}
	return &http.Client{Transport: tr, Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (p *payNet) close() { p.client.CloseIdleConnections() }

// stdHeader is the protected header of a valid PayNet request signature (design.md §3.2).
func (p *payNet) stdHeader() stdjose.Header {
	return stdjose.H(
		"alg", p.k.paynetSig.Alg, "kid", p.k.paynetSig.Kid, "iss", p.issuer,
		"jti", newID(), "iat", p.now().Unix(), "crit", []string{"iat", "iss", "jti"},
	)
}

// sign is a valid detached signature over body.
func (p *payNet) sign(body []byte) (string, error) {
	return p.signWith(p.stdHeader(), body)
}

// signWith is a detached signature over body by paynet-sig with header h.
func (p *payNet) signWith(h stdjose.Header, body []byte) (string, error) {
	s, err := stdjose.Spec{Header: h, Payload: body, Detached: true, Alg: p.k.paynetSig.Alg, Key: p.k.paynetSig.Key}.Build()
	if err != nil {
		return "", fmt.Errorf("signing with paynet-sig: %w", err)
	}
	return s, nil
}

// call is one request to the api listener.
type call struct {
	method string
	path   string // path and query, e.g. "/v1/accounts/x/balances?consent_id=…"
	body   []byte
	// sig is the x-fapi-signature; nil means a valid detached signature over body; a pointer
	// to "" leaves the header out.
	sig *string
	// header is set on the request after the defaults (a value of "" deletes the header).
	header http.Header
	// client replaces the default mTLS client (transport cases).
	client *http.Client
}

// apiResp is an answer of the api listener.
type apiResp struct {
	Status  int
	Header  http.Header
	Body    []byte
	Elapsed time.Duration
}

// contentType is the media type of the answer, lower-case, without parameters.
func (a *apiResp) contentType() string {
	mt, _, err := mime.ParseMediaType(a.Header.Get("Content-Type"))
	if err != nil {
		return strings.ToLower(a.Header.Get("Content-Type"))
	}
	return mt
}

// errorCode is the "error" member of a design.md §4 body, or "".
func (a *apiResp) errorCode() string {
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(a.Body, &e) != nil {
		return ""
	}
	return e.Error
}

// describe is "status error-code" for a report cell.
func (a *apiResp) describe() string {
	if a == nil {
		return "no answer"
	}
	if c := a.errorCode(); c != "" {
		return fmt.Sprintf("%d %s", a.Status, c)
	}
	if a.Status >= 200 && a.Status < 300 {
		return fmt.Sprintf("%d %s", a.Status, a.contentType())
	}
	return fmt.Sprintf("%d (%s, %d bytes)", a.Status, a.contentType(), len(a.Body))
}

func strp(s string) *string { return &s }

func (p *payNet) do(ctx context.Context, c call) (*apiResp, error) {
	var rd io.Reader
	if len(c.body) > 0 {
		rd = bytes.NewReader(c.body)
	}
	req, err := http.NewRequestWithContext(ctx, c.method, p.base+c.path, rd)
	if err != nil {
		return nil, err
	}
	if len(c.body) > 0 {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set(hInteractionID, newID())
	switch {
	case c.sig == nil:
		sig, err := p.sign(c.body)
		if err != nil {
			return nil, err
		}
		req.Header.Set(hSignature, sig)
	case *c.sig != "":
		req.Header.Set(hSignature, *c.sig)
	}
	for k, vs := range c.header {
		req.Header.Del(k)
		for _, v := range vs {
			if v != "" {
				req.Header.Add(k, v)
			}
		}
	}
	hc := c.client
	if hc == nil {
		hc = p.client
	}
	start := time.Now()
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAPIBody))
	if err != nil {
		return nil, fmt.Errorf("reading the answer: %w", err)
	}
	return &apiResp{Status: resp.StatusCode, Header: resp.Header, Body: b, Elapsed: time.Since(start)}, nil
}

// event sends a consent event body with a valid signature.
func (p *payNet) event(ctx context.Context, body []byte) (*apiResp, error) {
	return p.do(ctx, call{method: http.MethodPost, path: "/v1/consents/events", body: body})
}

// dataCall is a GET of the resource server as PayNet forwards it for the DC (spec §3.1.5–3.1.7):
// x-enc-kid of the DC's encryption certificate and Accept application/jose.
func (p *payNet) dataCall(path string) call {
	h := http.Header{}
	h.Set(hEncKid, p.k.dcEncKid)
	h.Set("Accept", "application/jose")
	return call{method: http.MethodGet, path: path, header: h}
}

// expectRefusal reports whether an answer is the refusal of design.md §4: status, and (when
// codes are given) one of the error codes in a JSON body.
func expectRefusal(a *apiResp, status int, codes ...string) bool {
	if a == nil || a.Status != status {
		return false
	}
	if len(codes) == 0 {
		return true
	}
	return a.contentType() == "application/json" && slices.Contains(codes, a.errorCode())
}

// opened is a sealed data response opened as the DC would (design.md §3.5).
type opened struct {
	Claims    stdjose.ResponseClaims
	Plaintext []byte
	JWSHeader map[string]any
	JWEHeader map[string]any
}

// open verifies and decrypts a 200 data answer and checks the claims of design.md §3.5.
func (r *runner) open(a *apiResp) (*opened, error) {
	if a.Status != http.StatusOK {
		return nil, fmt.Errorf("status %s", a.describe())
	}
	if ct := a.contentType(); ct != "application/jose" {
		return nil, fmt.Errorf("Content-Type %q, not application/jose", ct)
	}
	op, err := stdjose.OpenResponse(a.Body, r.k.dpKeys, r.k.dcEnc, r.now())
	if err != nil {
		return nil, fmt.Errorf("response does not verify/decrypt: %v", err)
	}
	claims, plain := op.Claims, op.Plaintext
	o := &opened{Claims: claims, Plaintext: plain}
	o.JWSHeader, _ = segmentJSON(string(a.Body), 0)
	o.JWEHeader, _ = segmentJSON(claims.Data, 0)
	switch {
	case claims.Iss != r.t.DPID:
		return o, fmt.Errorf("iss %q is not the dp_id", claims.Iss)
	case !slices.Contains(claims.Aud, "Paynet OFP") || !slices.Contains(claims.Aud, r.t.DCID):
		return o, fmt.Errorf("aud %q does not name \"Paynet OFP\" and the dc_id", claims.Aud)
	case claims.Exp != claims.Iat+3600:
		return o, fmt.Errorf("exp − iat = %d s, not 3600", claims.Exp-claims.Iat)
	case o.JWEHeader["kid"] != r.k.dcEncKid:
		return o, fmt.Errorf("JWE kid %v is not the x-enc-kid sent", o.JWEHeader["kid"])
	}
	var env struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(plain, &env); err != nil || len(env.Data) == 0 || string(env.Data) == "null" {
		return o, fmt.Errorf("plaintext is not {\"data\": …}")
	}
	return o, nil
}

// segmentJSON decodes segment i of a compact JWS/JWE as a JSON object.
func segmentJSON(compact string, i int) (map[string]any, error) {
	parts := strings.Split(strings.TrimSpace(compact), ".")
	if i >= len(parts) {
		return nil, fmt.Errorf("no segment %d", i)
	}
	b, err := stdjose.B64.DecodeString(parts[i])
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	return m, nil
}
