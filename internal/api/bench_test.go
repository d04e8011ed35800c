//go:build unix

package api

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/ofpdp/ofpdp/connector"
	"github.com/ofpdp/ofpdp/internal/jose"
	"github.com/ofpdp/ofpdp/internal/mtls"
	"github.com/ofpdp/ofpdp/internal/obs"
)

// Benchmarks of the resource server (docs/performance.md, "Resource server"). The handler runs
// in process without TLS: Handler.ServeHTTP with a request carrying the PayNet client
// certificate in its TLS state and one pre-signed x-fapi-signature. Because the same signature
// is replayed on every iteration, the verifier's replay cache is alwaysFresh (it reports every
// jti as unseen); everything else is the production path: access log (JSON to io.Discard),
// metrics, interaction id, certificate gate, signature verification, consent and account checks,
// rate limiter, connector call under its deadline, JSON, JWE, JWS.

// cpuLoop runs body b.N times under b.Loop and also reports the process CPU time (user + system,
// all threads, GC included) per operation as cpu-ns/op. On a shared machine wall time swings with
// the load while CPU time per operation does not, so the handler/floor ratio is taken from it.
func cpuLoop(b *testing.B, body func()) {
	b.ReportAllocs()
	start := cpuTime(b)
	for b.Loop() {
		body()
	}
	b.ReportMetric(float64(cpuTime(b)-start)/float64(b.N), "cpu-ns/op")
}

func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// alwaysFresh is a jose.ReplayCache that never reports a replay (benchmarks only).
type alwaysFresh struct{}

func (alwaysFresh) UseOnce(context.Context, string, time.Time) (bool, error) { return true, nil }

// discardResponse is a minimal http.ResponseWriter.
type discardResponse struct {
	h      http.Header
	status int
	n      int
}

func (d *discardResponse) Header() http.Header { return d.h }
func (d *discardResponse) WriteHeader(s int)   { d.status = s }
func (d *discardResponse) Write(b []byte) (int, error) {
	if d.status == 0 {
		d.status = http.StatusOK
	}
	d.n += len(b)
	return len(b), nil
}

type benchEnv struct {
	h        *Handler
	verifier *jose.Verifier
	sealer   *jose.Signer
	encKey   jose.PublicKey
	sig      string
	leaf     *x509.Certificate
	accounts map[string]string
	bank     *fakeBank
	now      time.Time
}

func newBenchEnv(b *testing.B, dpKey *jose.SigningKey) *benchEnv {
	b.Helper()
	k := testKeys(b)
	pki := newTestPKI(b)
	now := time.Now().Truncate(time.Second)
	clock := func() time.Time { return now }
	be := &benchEnv{now: now, leaf: pki.paynetLeaf, encKey: k.dcEnc}
	te := &testEnv{store: newFakeStore(), bank: newFakeBank(now)}
	te.putConsent(now)
	be.accounts, be.bank = te.accounts, te.bank
	// 600 transactions within the window for the 500-transaction page.
	var txs []connector.Transaction
	for i := 0; i < 600; i++ {
		txs = append(txs, connector.Transaction{ID: fmt.Sprintf("txn-%05d", i), Date: now.Add(-time.Duration(i) * 11 * time.Hour).In(myt),
			CreditDebit: "debit", Amount: myr(int64(1000 + i)), TransferMethod: "online_payment", TransferSubmethod: "fpx",
			Description: "FPX payment to merchant", RecipientRef: "invoice 2026", MerchantName: "Kedai Runcit", Settled: true})
	}
	te.bank.txs[refSavings] = txs

	pnPub, err := k.paynetSig.PublicKey()
	if err != nil {
		b.Fatal(err)
	}
	be.verifier = &jose.Verifier{Keys: jose.StaticKeys{Set: &jose.KeySet{Keys: []jose.PublicKey{pnPub}}},
		Replay: alwaysFresh{}, Now: clock, Issuer: testPayNetIss}
	be.sealer = &jose.Signer{Key: dpKey, Issuer: testDPID, Now: clock}
	be.sig, err = (&jose.Signer{Key: k.paynetSig, Issuer: testPayNetIss, Now: clock}).SignDetached(nil)
	if err != nil {
		b.Fatal(err)
	}
	gate, err := mtls.NewGate(mtls.GateOptions{Fingerprints: []string{mtls.Fingerprint(pki.paynetLeaf)}})
	if err != nil {
		b.Fatal(err)
	}
	be.h, err = newAPIHandler(Options{DPID: testDPID, Gate: gate, Verifier: be.verifier, Events: unusedEvents{},
		Metrics: obs.NewMetrics(), Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)), Now: clock},
		DataOptions{Consents: te.store, Bank: te.bank, DCKeys: staticEncKeys{testDCID + "/" + k.dcEnc.Thumbprint: k.dcEnc},
			Sealer: be.sealer, InstitutionName: testInst, AccountIDKey: testAccountIDKey, CursorKey: testCursorKeyE2E,
			RateLimitPerMinute: 1 << 30, RateLimitPerConsentPerMinute: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	return be
}

func (be *benchEnv) request(path string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, path, nil)
	r.TLS = &tls.ConnectionState{Version: tls.VersionTLS13, HandshakeComplete: true, PeerCertificates: []*x509.Certificate{be.leaf}}
	r.Header.Set(HeaderSignature, be.sig)
	r.Header.Set(HeaderEncKid, be.encKey.Thumbprint)
	r.Header.Set(HeaderInteractionID, "2b9a1b49-4f0d-4a3f-9f5e-3a4c3f9b1d11")
	r.Header.Set("Accept", "application/jose")
	return r
}

func (be *benchEnv) serve(b *testing.B, r *http.Request) {
	w := &discardResponse{h: make(http.Header, 4)}
	be.h.ServeHTTP(w, r)
	if w.status != http.StatusOK || w.n == 0 {
		b.Fatalf("status %d, %d bytes", w.status, w.n)
	}
}

var benchDPKeys = []struct {
	name string
	key  func(*testKeyMaterial) *jose.SigningKey
}{
	{"RSA-2048", func(k *testKeyMaterial) *jose.SigningKey { return k.dpRSA }},
	{"P-384", func(k *testKeyMaterial) *jose.SigningKey { return k.dpP384 }},
}

// BenchmarkBalancesHandler: GET /v1/accounts/{id}/balances end to end in process.
func BenchmarkBalancesHandler(b *testing.B) {
	for _, dk := range benchDPKeys {
		b.Run(dk.name, func(b *testing.B) {
			be := newBenchEnv(b, dk.key(testKeys(b)))
			r := be.request(dataPath(be.accounts[refSavings], "/balances"))
			cpuLoop(b, func() { be.serve(b, r) })
		})
	}
}

// BenchmarkHandlerToFloorRatio alternates one balances request through the handler with one
// crypto floor operation (order swapped every iteration) and reports the median duration of each
// and their ratio. Both halves see the same machine load, and the medians drop preemption
// spikes: on a shared machine this is the figure to compare with the 1.3 target.
func BenchmarkHandlerToFloorRatio(b *testing.B) {
	for _, dk := range benchDPKeys {
		b.Run(dk.name, func(b *testing.B) {
			be := newBenchEnv(b, dk.key(testKeys(b)))
			path := dataPath(be.accounts[refSavings], "/balances")
			r := be.request(path)
			floor := be.floor(b, path)
			var hd, fd []time.Duration
			i := 0
			for b.Loop() {
				if i%2 == 0 {
					t0 := time.Now()
					be.serve(b, r)
					t1 := time.Now()
					floor()
					hd, fd = append(hd, t1.Sub(t0)), append(fd, time.Since(t1))
				} else {
					t0 := time.Now()
					floor()
					t1 := time.Now()
					be.serve(b, r)
					fd, hd = append(fd, t1.Sub(t0)), append(hd, time.Since(t1))
				}
				i++
			}
			h, f := median(hd), median(fd)
			b.ReportMetric(float64(h), "handler-ns/op")
			b.ReportMetric(float64(f), "floor-ns/op")
			b.ReportMetric(float64(h)/float64(f), "ratio")
		})
	}
}

func median(d []time.Duration) time.Duration {
	slices.Sort(d)
	return d[len(d)/2]
}

// floor returns the crypto floor operation of a balances response on path: verify the request
// signature, then Seal the same plaintext the handler seals with the same keys.
func (be *benchEnv) floor(b *testing.B, path string) func() {
	id := be.accounts[refSavings]
	bal := be.bank.balances[refSavings]
	shape, err := balanceShape(id, &bal)
	if err != nil {
		b.Fatal(err)
	}
	plaintext, err := marshalEnvelope(shape, noMeta{})
	if err != nil {
		b.Fatal(err)
	}
	u, _ := url.Parse(path)
	aud := []string{audiencePayNet, testDCID}
	ctx := context.Background()
	return func() {
		if _, err := be.verifier.VerifyRequest(ctx, be.sig, http.MethodGet, u, nil); err != nil {
			b.Fatal(err)
		}
		if _, err := be.sealer.Seal(plaintext, be.encKey, aud); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCryptoFloor: the cryptography a balances response cannot avoid, with the same keys
// and the same plaintext: verify the request signature, then Seal (encrypt to the DC key and
// sign the response JWS).
func BenchmarkCryptoFloor(b *testing.B) {
	for _, dk := range benchDPKeys {
		b.Run(dk.name, func(b *testing.B) {
			be := newBenchEnv(b, dk.key(testKeys(b)))
			cpuLoop(b, be.floor(b, dataPath(be.accounts[refSavings], "/balances")))
		})
	}
}

// BenchmarkTransactionsPage500: GET …/transactions?page_size=500 end to end in process (RSA-2048
// DP key), a full page with a next cursor.
func BenchmarkTransactionsPage500(b *testing.B) {
	be := newBenchEnv(b, testKeys(b).dpRSA)
	r := be.request(dataPath(be.accounts[refSavings], "/transactions", "page_size", "500"))
	cpuLoop(b, func() { be.serve(b, r) })
}
