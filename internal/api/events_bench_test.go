package api_test

// Benchmarks of POST /v1/consents/events end to end in process (docs/performance.md "Consent
// events"): the api.Handler of newEventsEnv (real jose.Verifier over PayNet's JWKS, the store
// as replay cache, consent.ParseEvent, store.ApplyEvent's transaction and commit, the access
// log), called through ServeHTTP without the TLS layer. Every run opens a fresh database, so
// each run has its own replay table, and every event is a consent_created for a distinct
// consent with its own pre-computed PayNet signature (signing is PayNet's cost, not the DP's,
// and is done before the timer starts).
//
//	go test -run '^$' -bench 'ConsentEvents' -benchtime 3s ./internal/api/

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"github.com/ofpdp/ofpdp/internal/storetest"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/ofpdp/ofpdp/internal/api"
	"github.com/ofpdp/ofpdp/internal/consent"
	"github.com/ofpdp/ofpdp/internal/jose"
)

// signedEvent is one pre-signed consent_created event.
type signedEvent struct {
	body []byte
	sig  string
}

// presign builds n events for distinct consents, each with a fresh PayNet signature.
func presign(b *testing.B, e *eventsEnv, n int) []signedEvent {
	b.Helper()
	created := e.clock.Now().Add(-time.Minute)
	base := newEvent(b, consent.EventCreated, goldenConsentID, consent.StatusAwaitingAuthorization, created, created)
	out := make([]signedEvent, n)
	for i := range out {
		body := bytes.Replace(base, []byte(goldenConsentID), []byte(uuid.NewString()), 1)
		out[i] = signedEvent{body: body, sig: e.sign(b, body)}
	}
	return out
}

// eventRequest is the request PayNet's mTLS connection would deliver: the verified client
// certificate is set as the TLS stack sets it.
func eventRequest(ev signedEvent, peer *x509.Certificate) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "https://dp.example/v1/consents/events", bytes.NewReader(ev.body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set(api.HeaderSignature, ev.sig)
	r.Header.Set(api.HeaderInteractionID, uuid.NewString())
	r.TLS = &tls.ConnectionState{Version: tls.VersionTLS13, HandshakeComplete: true, PeerCertificates: []*x509.Certificate{peer}}
	return r
}

// serveEvent serves one request and returns an error unless it was acknowledged.
func serveEvent(h http.Handler, r *http.Request) error {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		return fmt.Errorf("event answered %d %s", w.Code, w.Body.String())
	}
	return nil
}

// BenchmarkConsentEvents is one PayNet connection sending events back to back: events/s of
// signature verification + validation + committed transaction, per engine.
func BenchmarkConsentEvents(b *testing.B) {
	for _, eng := range storetest.Engines() {
		b.Run(eng.Name, func(b *testing.B) {
			e := newEventsEnv(b, eng, envOptions{})
			peer := e.pki.cert(b, "paynet-mtls")
			h := e.srv.Config.Handler
			evs := presign(b, e, b.N)
			reqs := make([]*http.Request, b.N)
			for i := range reqs {
				reqs[i] = eventRequest(evs[i], peer)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if err := serveEvent(h, reqs[i]); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
			checkStored(b, e, evs)
		})
	}
}

// BenchmarkConsentEventsParallel is PayNet delivering events on several connections at once
// (b.SetParallelism(4) × GOMAXPROCS goroutines).
func BenchmarkConsentEventsParallel(b *testing.B) {
	for _, eng := range storetest.Engines() {
		b.Run(eng.Name, func(b *testing.B) {
			e := newEventsEnv(b, eng, envOptions{})
			peer := e.pki.cert(b, "paynet-mtls")
			h := e.srv.Config.Handler
			evs := presign(b, e, b.N)
			reqs := make([]*http.Request, b.N)
			for i := range reqs {
				reqs[i] = eventRequest(evs[i], peer)
			}
			var next atomic.Int64
			b.SetParallelism(4)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := serveEvent(h, reqs[next.Add(1)-1]); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
			checkStored(b, e, evs)
		})
	}
}

// BenchmarkConsentEventsFloor is the part of an event that does not touch the database:
// verifying PayNet's signature (PS256, RSA-2048) with an in-memory replay cache, and
// consent.ParseEvent. BenchmarkConsentEvents minus this is the cost of the transaction.
func BenchmarkConsentEventsFloor(b *testing.B) {
	p := testPKI(b)
	clock := &testClock{t: testNow}
	ks, err := jose.ParseJWKS(p.file(b, "paynet.jwks.json"))
	if err != nil {
		b.Fatal(err)
	}
	v := &jose.Verifier{Keys: jose.StaticKeys{Set: ks}, Replay: jose.NewMemoryReplay(clock.Now), Now: clock.Now, Issuer: payNetIssuer}
	e := &eventsEnv{clock: clock, signer: &jose.Signer{Key: p.signingKey(b, "paynet-sig"), Issuer: payNetIssuer, Now: clock.Now}}
	evs := presign(b, e, b.N)
	u := &url.URL{Path: "/v1/consents/events"}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, err := v.VerifyRequest(ctx, evs[i].sig, http.MethodPost, u, evs[i].body); err != nil {
			b.Fatal(err)
		}
		if _, err := consent.ParseEvent(evs[i].body, consent.Rules{DPID: testDPID, Now: clock.Now()}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// checkStored asserts that a sample of the benchmark's events is in the store.
func checkStored(b *testing.B, e *eventsEnv, evs []signedEvent) {
	b.Helper()
	for i := 0; i < len(evs); i += 1 + len(evs)/16 {
		ev, err := consent.ParseEvent(evs[i].body, consent.Rules{DPID: testDPID, Now: e.clock.Now()})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := e.store.GetConsent(context.Background(), ev.Consent.ConsentID); err != nil {
			b.Fatalf("benchmarked event %d not stored: %v", i, err)
		}
	}
}
