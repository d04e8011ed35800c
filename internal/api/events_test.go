package api_test

// End-to-end tests of POST /v1/consents/events (spec paynet-dp.md §3.1.1, §5.1–5.3; design §2,
// §3.2, §3.6–3.7, §4, §5) through the real TLS listener, with real certificates, the real
// signature verifier and the real store on SQLite and PostgreSQL. They cover negative-tests
// §5.1 T1, T2, T6, T7; §5.2 S1–S4, S6–S10, S12–S14; §5.5 C1–C3, C5–C8 and the stored status
// C9/C10 rely on. Every refusal is checked for its exact status and design §4 error body, and
// for leaving the store as it was.

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"encoding/json"
	"github.com/ofpdp/ofpdp/internal/storetest"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/ofpdp/ofpdp/internal/api"
	"github.com/ofpdp/ofpdp/internal/consent"
	"github.com/ofpdp/ofpdp/internal/jose"
	"github.com/ofpdp/ofpdp/internal/protoerr"
)

// forEachEngine runs f against a fresh environment per database engine.
func forEachEngine(t *testing.T, o envOptions, f func(t *testing.T, e *eventsEnv)) {
	for _, eng := range storetest.Engines() {
		t.Run(eng.Name, func(t *testing.T) {
			f(t, newEventsEnv(t, eng, o))
		})
	}
}

// sqliteOnly runs f against a SQLite environment (tests of the transport and the signature,
// where the engine plays no part beyond "nothing stored").
func sqliteOnly(t *testing.T, o envOptions) *eventsEnv {
	t.Helper()
	return newEventsEnv(t, storetest.Engines()[0], o)
}

// storedView is what the golden .stored files record of a consent after an event.
type storedView struct {
	Status          consent.Status  `json:"status"`
	EffectiveStatus consent.Status  `json:"effective_status"`
	Version         int64           `json:"version"`
	Consent         consent.Consent `json:"consent"`
	History         []historyView   `json:"history"`
}

type historyView struct {
	Seq        int64             `json:"seq"`
	Type       consent.EventType `json:"type"`
	Action     consent.Action    `json:"action"`
	SigAlg     string            `json:"sig_alg"`
	ReceivedAt time.Time         `json:"received_at"`
}

// TestEventTypes sends the golden lifecycle of one consent — consent_created, consent_updated
// (account_access.accounts), consent_status_updated to suspended (top-level accounts with
// account_reference), back to authorized (top-level accounts with account_number) and revoked —
// and compares what is stored after each with testdata/events/<name>.stored.golden (-update
// rewrites them). Each history row keeps the exact body, the verified signature header and the
// interaction id (design §3.6).
func TestEventTypes(t *testing.T) {
	steps := []struct {
		name   string
		action consent.Action
	}{
		{"consent_created", consent.ActionInsert},
		{"consent_updated", consent.ActionUpdate},
		{"consent_status_updated_suspended", consent.ActionUpdate},
		{"consent_status_updated_authorized", consent.ActionUpdate},
		{"consent_status_updated_revoked", consent.ActionUpdate},
	}
	forEachEngine(t, envOptions{}, func(t *testing.T, e *eventsEnv) {
		for i, step := range steps {
			body := goldenEvent(t, step.name)
			iid := uuid.NewString()
			sig := e.sign(t, body)
			resp := e.mustDo(t, request{body: body, sig: sig, header: http.Header{api.HeaderInteractionID: {iid}}})
			resp.wantOK(t)
			if got := resp.header.Get(api.HeaderInteractionID); got != iid {
				t.Errorf("%s: interaction id %q, want %q echoed", step.name, got, iid)
			}
			snap := e.snapshot(t, goldenConsentID)
			if snap.rec == nil || len(snap.events) != i+1 {
				t.Fatalf("%s: stored %v with %d history rows, want %d", step.name, snap.rec, len(snap.events), i+1)
			}
			last := snap.events[i]
			if last.Action != step.action || !bytes.Equal(last.Raw, body) || last.InteractionID != iid {
				t.Errorf("%s: history row action %s, raw equal %v, interaction id %q", step.name, last.Action,
					bytes.Equal(last.Raw, body), last.InteractionID)
			}
			if h := jwsHeader(t, sig); last.SigKid != e.signer.Key.Kid || last.SigJti != h["jti"] || last.SigAlg != jose.AlgPS256 {
				t.Errorf("%s: history row signature alg %q kid %q jti %q, want the header %v", step.name, last.SigAlg,
					last.SigKid, last.SigJti, h)
			}
			view := storedView{Status: snap.rec.Consent.Status, EffectiveStatus: snap.rec.Consent.EffectiveStatus(e.clock.Now()),
				Version: snap.rec.Version, Consent: snap.rec.Consent}
			for _, ev := range snap.events {
				view.History = append(view.History, historyView{Seq: ev.Seq, Type: ev.Type, Action: ev.Action,
					SigAlg: ev.SigAlg, ReceivedAt: ev.ReceivedAt})
			}
			checkGolden(t, filepath.Join("testdata", "events", step.name+".stored.golden"), view)
		}
	})
}

// checkGolden compares v's indented JSON with the golden file (rewritten under -update).
func checkGolden(t *testing.T, path string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	if updateGolden() {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// TestEventAccountShapes: the three account shapes of design §3.7 (spec §9 item 4) are stored
// as the same accounts.
func TestEventAccountShapes(t *testing.T) {
	want := []consent.Account{
		{AccountID: "a1Xc0Qm3Zp8rT2vY6bN4kL9sD5", AccountNumber: "1234567890123", AccountName: "My Savings Account"},
		{AccountID: "q7Hw2Ek5Ru1Iy8Ot4Pa6Sd3Fg0", AccountNumber: "123456******7890", AccountName: "Platinum Card"},
	}
	list := func(numberKey string) []any {
		var out []any
		for _, a := range want {
			out = append(out, map[string]any{"account_id": a.AccountID, numberKey: a.AccountNumber, "account_name": a.AccountName})
		}
		return out
	}
	shapes := []struct {
		name string
		set  func(d map[string]any)
	}{
		{"account_access.accounts with account_number (schema)", func(d map[string]any) {
			d["account_access"] = map[string]any{"accounts": list("account_number")}
		}},
		{"accounts with account_reference (v1.2.1 example)", func(d map[string]any) { d["accounts"] = list("account_reference") }},
		{"accounts with account_number (sandbox)", func(d map[string]any) { d["accounts"] = list("account_number") }},
	}
	forEachEngine(t, envOptions{}, func(t *testing.T, e *eventsEnv) {
		for _, s := range shapes {
			t.Run(s.name, func(t *testing.T) {
				id := uuid.NewString()
				created := e.clock.Now().Add(-time.Hour)
				body := mutate(t, newEvent(t, consent.EventCreated, id, consent.StatusAuthorized, created, created),
					func(_, d map[string]any) {
						delete(d, "accounts")
						s.set(d)
					})
				e.post(t, body).wantOK(t)
				snap := e.snapshot(t, id)
				if snap.rec == nil || !slices.Equal(snap.rec.Consent.Accounts, want) {
					t.Fatalf("stored accounts %+v, want %+v", snap.rec, want)
				}
			})
		}
	})
}

// TestTransport covers negative-tests §5.1 on the real listener: T1 (no client certificate),
// T2 (another CA; a certificate of the right CA that is not allow-listed), T6 (expired and not
// yet valid client certificates), T7 (TLS 1.0/1.1 and TLS 1.2 without FAPI suites refused, TLS
// 1.3 negotiated by default). Nothing reaches the store.
func TestTransport(t *testing.T) {
	e := sqliteOnly(t, envOptions{})
	p := e.pki
	now := time.Now()
	caOther, caOtherKey := otherCA(t)
	paynetCert := p.tlsCert(t, "paynet-mtls")

	// Each refusal is the server's: the client sees the TLS alert it sent.
	refused := []struct {
		name  string
		cfg   *tls.Config
		alert string
	}{
		{"T1 no client certificate", &tls.Config{}, "certificate required"},
		{"T2 client certificate from another CA", &tls.Config{Certificates: []tls.Certificate{
			p.issueClientCert(t, "paynet-mtls", now.Add(-time.Hour), now.Add(time.Hour), caOther, caOtherKey)}},
			"unknown certificate authority"},
		{"T6 expired client certificate", &tls.Config{Certificates: []tls.Certificate{
			p.issueClientCert(t, "paynet-mtls", now.Add(-48*time.Hour), now.Add(-time.Hour), nil, nil)}}, "expired certificate"},
		{"T6 client certificate not yet valid", &tls.Config{Certificates: []tls.Certificate{
			p.issueClientCert(t, "paynet-mtls", now.Add(time.Hour), now.Add(48*time.Hour), nil, nil)}}, "expired certificate"},
		{"T7 TLS 1.0", &tls.Config{Certificates: []tls.Certificate{paynetCert},
			MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS10}, "protocol version not supported"},
		{"T7 TLS 1.1", &tls.Config{Certificates: []tls.Certificate{paynetCert},
			MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}, "protocol version not supported"},
		{"T7 TLS 1.2 with CBC suites", &tls.Config{Certificates: []tls.Certificate{paynetCert},
			MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{
				tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
				tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256}}, "handshake failure"},
		{"T7 TLS 1.2 with RSA key exchange", &tls.Config{Certificates: []tls.Certificate{paynetCert},
			MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{
				tls.TLS_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_RSA_WITH_AES_256_GCM_SHA384}}, "handshake failure"},
	}
	for _, c := range refused {
		t.Run(c.name, func(t *testing.T) {
			id := uuid.NewString()
			body := newEvent(t, consent.EventCreated, id, consent.StatusAwaitingAuthorization, testNow, testNow)
			if err := e.handshake(t, c.cfg); err == nil || !strings.Contains(err.Error(), "remote error: tls: "+c.alert) {
				t.Errorf("handshake: %v, want the server's alert %q", err, c.alert)
			}
			if resp, err := e.do(t, request{body: body, client: e.newClient(t, c.cfg)}); err == nil {
				t.Fatalf("request answered %s, want the connection refused", resp)
			}
			e.wantUnchanged(t, id, snapshot{})
		})
	}

	t.Run("T2 valid certificate of the CA that is not allow-listed", func(t *testing.T) {
		id := uuid.NewString()
		body := newEvent(t, consent.EventCreated, id, consent.StatusAwaitingAuthorization, testNow, testNow)
		c := e.newClient(t, &tls.Config{Certificates: []tls.Certificate{p.tlsCert(t, "dp-mtls")}})
		e.mustDo(t, request{body: body, client: c}).wantError(t, http.StatusUnauthorized, protoerr.CodeInvalidClient)
		e.wantUnchanged(t, id, snapshot{})
	})

	accepted := []struct {
		name    string
		cfg     *tls.Config
		version uint16
	}{
		{"T7 TLS 1.3 by default", &tls.Config{Certificates: []tls.Certificate{paynetCert}}, tls.VersionTLS13},
		{"T7 TLS 1.2 with an ECDHE AES-GCM suite", &tls.Config{Certificates: []tls.Certificate{paynetCert},
			MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}}, tls.VersionTLS12},
	}
	for _, c := range accepted {
		t.Run(c.name, func(t *testing.T) {
			id := uuid.NewString()
			body := newEvent(t, consent.EventCreated, id, consent.StatusAwaitingAuthorization, testNow, testNow)
			resp := e.mustDo(t, request{body: body, client: e.newClient(t, c.cfg)})
			resp.wantOK(t)
			if resp.tls == nil || resp.tls.Version != c.version {
				t.Fatalf("negotiated %v, want TLS version %x", resp.tls, c.version)
			}
			if e.snapshot(t, id).rec == nil {
				t.Fatal("accepted event not stored")
			}
		})
	}
}

// TestSignatureRules covers negative-tests §5.2 on the events endpoint: every request carries a
// valid event for a fresh consent, and the signature is what varies. Refusals are 401 with
// JWS.InvalidSignature or JWS.InvalidClaim (design §4) and store nothing; the accepted variants
// (x-signature alias, b64=false, iat inside the window) store the consent.
func TestSignatureRules(t *testing.T) {
	e := sqliteOnly(t, envOptions{})
	p := e.pki
	paynetKey := p.key(t, "paynet-sig")
	rogue, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	dcSig := p.signingKey(t, "dc-sig")
	now := e.clock.Now()
	const (
		sigErr   = protoerr.CodeInvalidSignature
		claimErr = protoerr.CodeInvalidClaim
	)
	// valid signs with PayNet's key and a header changed by ch.
	valid := func(ch map[string]any) func(body []byte) string {
		return func(body []byte) string {
			return craft(t, jwsSpec{header: headerWith(e.payNetHeader(t), ch), alg: "PS256", key: paynetKey}, body)
		}
	}
	cases := []struct {
		name string
		// sig returns the signature for body; nil sends none.
		sig func(body []byte) string
		// tamper changes the body after signing (S4).
		tamper    func(body []byte) []byte
		sigHeader string
		dupSig    bool
		code      string // "" = accepted
		// reason is the label the refusal must add to ofpdp_signature_failures_total: the
		// rule that refused it.
		reason string
	}{
		{name: "control: hand-made valid signature", sig: valid(nil)},
		{name: "control: jose.Signer", sig: func(b []byte) string { return e.sign(t, b) }},
		{name: "x-signature alias accepted", sig: func(b []byte) string { return e.sign(t, b) }, sigHeader: api.HeaderSignatureAlt},
		{name: "S1 signature header absent", code: sigErr, reason: "missing"},
		{name: "S1 signature header empty", sig: func([]byte) string { return "" }, code: sigErr, reason: "missing"},
		{name: "S1 signature header twice", sig: func(b []byte) string { return e.sign(t, b) }, dupSig: true, code: sigErr, reason: "duplicate_header"},
		{name: "S2 one character appended to the signature", sig: func(b []byte) string { return e.sign(t, b) + "A" }, code: sigErr, reason: "signature"},
		{name: "S2 last character removed from the signature", sig: func(b []byte) string { s := e.sign(t, b); return s[:len(s)-1] }, code: sigErr, reason: "malformed"},
		{name: "S2 one character appended to the body", sig: func(b []byte) string { return e.sign(t, b) },
			tamper: func(b []byte) []byte { return append(b, ' ') }, code: sigErr, reason: "signature"},
		{name: "S3 unregistered key with its own kid", sig: func(b []byte) string {
			return craft(t, jwsSpec{header: headerWith(e.payNetHeader(t), map[string]any{"kid": "rogue-key-1"}), alg: "PS256", key: rogue}, b)
		}, code: sigErr, reason: "unknown_kid"},
		{name: "S3 unregistered key claiming PayNet's kid", sig: func(b []byte) string {
			return craft(t, jwsSpec{header: e.payNetHeader(t), alg: "PS256", key: rogue}, b)
		}, code: sigErr, reason: "signature"},
		{name: "S4 consent_id changed after signing", sig: func(b []byte) string { return e.sign(t, b) },
			tamper: func(b []byte) []byte {
				return mutate(t, b, func(_, d map[string]any) { d["consent_id"] = uuid.NewString() })
			}, code: sigErr, reason: "signature"},
		{name: "S4 updated_at changed after signing", sig: func(b []byte) string { return e.sign(t, b) },
			tamper: func(b []byte) []byte {
				return bytes.Replace(b, []byte(`"updated_at":"2025-08-01T08:00:00Z"`), []byte(`"updated_at":"2025-08-01T08:00:01Z"`), 1)
			}, code: sigErr, reason: "signature"},
		{name: "S6 alg none", sig: func(b []byte) string {
			return craft(t, jwsSpec{header: headerWith(e.payNetHeader(t), map[string]any{"alg": "none"}), alg: "none"}, b)
		}, code: sigErr, reason: "algorithm"},
		{name: "S6 alg none with a signature", sig: func(b []byte) string {
			return craft(t, jwsSpec{header: headerWith(e.payNetHeader(t), map[string]any{"alg": "none"}), alg: "PS256", key: paynetKey}, b)
		}, code: sigErr, reason: "algorithm"},
		{name: "S6 HS256 keyed with the public key", sig: func(b []byte) string {
			return craft(t, jwsSpec{header: headerWith(e.payNetHeader(t), map[string]any{"alg": "HS256"}), alg: "HS256",
				key: p.file(t, "paynet-sig.crt")}, b)
		}, code: sigErr, reason: "algorithm"},
		{name: "S6 RS256 with PayNet's key", sig: func(b []byte) string {
			return craft(t, jwsSpec{header: headerWith(e.payNetHeader(t), map[string]any{"alg": "RS256"}), alg: "RS256", key: paynetKey}, b)
		}, code: sigErr, reason: "algorithm"},
		{name: "S6 ES256", sig: func(b []byte) string {
			return craft(t, jwsSpec{header: headerWith(e.payNetHeader(t), map[string]any{"alg": "ES256"}), alg: "ES256", key: p256}, b)
		}, code: sigErr, reason: "algorithm"},
		{name: "S6 ES384 header on PayNet's RSA kid", sig: func(b []byte) string {
			return craft(t, jwsSpec{header: headerWith(e.payNetHeader(t), map[string]any{"alg": "ES384"}), alg: "ES384", key: p384}, b)
		}, code: sigErr, reason: "algorithm"},
		{name: "S7 unknown kid", sig: valid(map[string]any{"kid": "no-such-kid"}), code: sigErr, reason: "unknown_kid"},
		{name: "S8 alg missing", sig: valid(map[string]any{"alg": nil}), code: sigErr, reason: "algorithm"},
		{name: "S8 kid missing", sig: valid(map[string]any{"kid": nil}), code: sigErr, reason: "unknown_kid"},
		{name: "S8 iss missing", sig: valid(map[string]any{"iss": nil, "crit": []string{"iat", "jti"}}), code: claimErr, reason: "issuer"},
		{name: "S8 jti missing", sig: valid(map[string]any{"jti": nil, "crit": []string{"iat", "iss"}}), code: claimErr, reason: "jti"},
		{name: "S8 iat missing", sig: valid(map[string]any{"iat": nil, "crit": []string{"iss", "jti"}}), code: claimErr, reason: "iat"},
		{name: "S8 crit missing", sig: valid(map[string]any{"crit": nil}), code: claimErr, reason: "crit"},
		{name: "S8 jti empty", sig: valid(map[string]any{"jti": ""}), code: claimErr, reason: "jti"},
		{name: "S9 crit names an unknown header", sig: valid(map[string]any{"foo": "bar", "crit": []string{"iat", "iss", "jti", "foo"}}), code: claimErr, reason: "crit"},
		{name: "S9 crit names an absent header", sig: valid(map[string]any{"crit": []string{"iat", "iss", "jti", "b64"}}), code: claimErr, reason: "crit"},
		{name: "S9 crit omits iss", sig: valid(map[string]any{"crit": []string{"iat", "jti"}}), code: claimErr, reason: "crit"},
		{name: "S9 crit empty", sig: valid(map[string]any{"crit": []string{}}), code: claimErr, reason: "crit"},
		{name: "S9 crit not an array", sig: valid(map[string]any{"crit": "iat"}), code: claimErr, reason: "crit"},
		{name: "S9 crit lists a name twice", sig: valid(map[string]any{"crit": []string{"iat", "iss", "jti", "jti"}}), code: claimErr, reason: "crit"},
		{name: "S10 iat 5 min + 1 s in the past", sig: valid(map[string]any{"iat": now.Add(-301 * time.Second).Unix()}), code: claimErr, reason: "iat"},
		{name: "S10 iat 5 min + 1 s in the future", sig: valid(map[string]any{"iat": now.Add(301 * time.Second).Unix()}), code: claimErr, reason: "iat"},
		{name: "S10 iat not a number", sig: valid(map[string]any{"iat": "1754038800"}), code: claimErr, reason: "iat"},
		{name: "S10 iat 9 s in the future accepted", sig: valid(map[string]any{"iat": now.Add(9 * time.Second).Unix()})},
		{name: "S10 iat 4 min 59 s in the past accepted", sig: valid(map[string]any{"iat": now.Add(-299 * time.Second).Unix()})},
		{name: "S12 PayNet's key with a DC's iss", sig: valid(map[string]any{"iss": "DC1234567890"}), code: claimErr, reason: "issuer"},
		{name: "S12 a DC's key with PayNet's iss", sig: func(b []byte) string {
			return craft(t, jwsSpec{header: headerWith(e.payNetHeader(t), map[string]any{"kid": dcSig.Kid}), alg: "PS256", key: dcSig.Key}, b)
		}, code: sigErr, reason: "unknown_kid"},
		{name: "S13 attached payload where detached is required", sig: func(b []byte) string {
			return craft(t, jwsSpec{header: e.payNetHeader(t), alg: "PS256", key: paynetKey, attached: true}, b)
		}, code: sigErr, reason: "attached_payload"},
		{name: "S13 b64=false accepted (RFC 7797)", sig: func(b []byte) string {
			h := headerWith(e.payNetHeader(t), map[string]any{"b64": false, "crit": []string{"iat", "iss", "jti", "b64"}})
			return craft(t, jwsSpec{header: h, alg: "PS256", key: paynetKey, unencoded: true}, b)
		}},
		{name: "S13 b64=false header over the encoded payload", sig: func(b []byte) string {
			h := headerWith(e.payNetHeader(t), map[string]any{"b64": false, "crit": []string{"iat", "iss", "jti", "b64"}})
			return craft(t, jwsSpec{header: h, alg: "PS256", key: paynetKey}, b)
		}, code: sigErr, reason: "signature"},
		{name: "S13 default header over the unencoded payload", sig: func(b []byte) string {
			return craft(t, jwsSpec{header: e.payNetHeader(t), alg: "PS256", key: paynetKey, unencoded: true}, b)
		}, code: sigErr, reason: "signature"},
		{name: "S13 b64=false not listed in crit", sig: func(b []byte) string {
			h := headerWith(e.payNetHeader(t), map[string]any{"b64": false})
			return craft(t, jwsSpec{header: h, alg: "PS256", key: paynetKey, unencoded: true}, b)
		}, code: claimErr, reason: "b64"},
		{name: "S13 b64 not a boolean", sig: func(b []byte) string {
			h := headerWith(e.payNetHeader(t), map[string]any{"b64": "false", "crit": []string{"iat", "iss", "jti", "b64"}})
			return craft(t, jwsSpec{header: h, alg: "PS256", key: paynetKey, unencoded: true}, b)
		}, code: claimErr, reason: "b64"},
		{name: "S14 attached url claims of a GET on a POST", sig: func(b []byte) string {
			claims, _ := json.Marshal(map[string]any{"url": "/v1/consents/events"})
			return craft(t, jwsSpec{header: e.payNetHeader(t), alg: "PS256", key: paynetKey, attached: true}, claims)
		}, code: sigErr, reason: "attached_payload"},
		{name: "malformed compact serialization", sig: func([]byte) string { return "not.a.jws.at.all" }, code: sigErr, reason: "malformed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id := uuid.NewString()
			created := now.Add(-time.Hour)
			body := newEvent(t, consent.EventCreated, id, consent.StatusAwaitingAuthorization, created, created)
			r := request{body: body, sigHeader: c.sigHeader}
			switch {
			case c.sig == nil:
				r.noSig = true
			default:
				r.sig = c.sig(body)
				if r.sig == "" {
					r.noSig = true
					r.header = http.Header{api.HeaderSignature: {""}}
				}
			}
			if c.dupSig {
				r.header = http.Header{api.HeaderSignature: {r.sig, e.sign(t, body)}}
				r.noSig = true
			}
			if c.tamper != nil {
				r.body = c.tamper(body)
				if bytes.Equal(r.body, body) {
					t.Fatal("tamper did not change the body")
				}
			}
			failures := e.sigFailures(t, c.reason)
			resp := e.mustDo(t, r)
			if c.code == "" {
				resp.wantOK(t)
				if e.snapshot(t, id).rec == nil {
					t.Fatal("accepted event not stored")
				}
				return
			}
			resp.wantError(t, http.StatusUnauthorized, c.code)
			e.wantUnchanged(t, id, snapshot{})
			if got := e.sigFailures(t, c.reason) - failures; got != 1 {
				t.Errorf("signature failures with reason %q grew by %v, want 1", c.reason, got)
			}
		})
	}
}

// TestSignatureKeyRefresh: an unknown kid causes at most one (rate-limited) JWKS refresh and
// is then refused; a kid naming a use=enc key is refused (negative-tests S7, O1).
func TestSignatureKeyRefresh(t *testing.T) {
	p := testPKI(t)
	dcKeys, err := jose.ParseJWKS(p.file(t, "dc.jwks.json"))
	if err != nil {
		t.Fatal(err)
	}
	var encKey jose.PublicKey
	for _, k := range dcKeys.Keys {
		if k.Use == jose.UseEnc {
			encKey = k
		}
	}
	if encKey.Kid == "" {
		t.Fatal("dc.jwks.json has no enc key")
	}
	// PayNet's key set here also holds an encryption key (as PayNet's per-DC JWKS does).
	e := sqliteOnly(t, envOptions{extraKeys: []jose.PublicKey{encKey}})
	send := func(sig func(body []byte) string) (*response, string) {
		id := uuid.NewString()
		body := newEvent(t, consent.EventCreated, id, consent.StatusAwaitingAuthorization, testNow.Add(-time.Hour), testNow.Add(-time.Hour))
		return e.mustDo(t, request{body: body, sig: sig(body)}), id
	}
	resp, _ := send(func(b []byte) string { return e.sign(t, b) })
	resp.wantOK(t)
	if n := e.source.fetches.Load(); n != 1 {
		t.Fatalf("%d JWKS fetches after the first event, want 1", n)
	}
	for i, kid := range []string{"unknown-kid-1", "unknown-kid-2", "unknown-kid-3"} {
		resp, id := send(func(b []byte) string {
			return craft(t, jwsSpec{header: headerWith(e.payNetHeader(t), map[string]any{"kid": kid}), alg: "PS256",
				key: e.signer.Key.Key}, b)
		})
		resp.wantError(t, http.StatusUnauthorized, protoerr.CodeInvalidSignature)
		e.wantUnchanged(t, id, snapshot{})
		if n := e.source.fetches.Load(); n != 2 {
			t.Fatalf("after unknown kid #%d: %d JWKS fetches, want 2 (one refresh, rate-limited)", i+1, n)
		}
	}
	resp, id := send(func(b []byte) string {
		return craft(t, jwsSpec{header: headerWith(e.payNetHeader(t), map[string]any{"kid": encKey.Kid}), alg: "PS256",
			key: p.key(t, "dc-enc")}, b)
	})
	resp.wantError(t, http.StatusUnauthorized, protoerr.CodeInvalidSignature)
	e.wantUnchanged(t, id, snapshot{})
}

// TestConsentLifecycle covers negative-tests C1–C3 and the statuses C9/C10 rely on: events for
// unknown consents, immutable fields, illegal and legal transitions, and the stored (and
// effective) status after revoke and expiry.
func TestConsentLifecycle(t *testing.T) {
	forEachEngine(t, envOptions{}, func(t *testing.T, e *eventsEnv) {
		created := testNow.Add(-24 * time.Hour)
		at := func(d time.Duration) time.Time { return created.Add(d) }
		// authorized returns a stored, authorized consent (created, then authorized).
		authorized := func(t *testing.T) string {
			id := uuid.NewString()
			e.post(t, newEvent(t, consent.EventCreated, id, consent.StatusAwaitingAuthorization, created, created)).wantOK(t)
			e.post(t, newEvent(t, consent.EventStatusUpdated, id, consent.StatusAuthorized, created, at(time.Minute))).wantOK(t)
			return id
		}
		refuse := func(t *testing.T, id string, body []byte, status int, code string) {
			t.Helper()
			before := e.snapshot(t, id)
			e.post(t, body).wantError(t, status, code)
			e.wantUnchanged(t, id, before)
		}

		t.Run("C1 consent_updated for an unknown consent", func(t *testing.T) {
			id := uuid.NewString()
			refuse(t, id, newEvent(t, consent.EventUpdated, id, consent.StatusAuthorized, created, at(time.Minute)),
				http.StatusForbidden, protoerr.CodeConsentInvalid)
		})
		t.Run("C1 consent_status_updated for an unknown consent", func(t *testing.T) {
			id := uuid.NewString()
			refuse(t, id, newEvent(t, consent.EventStatusUpdated, id, consent.StatusRevoked, created, at(time.Minute)),
				http.StatusForbidden, protoerr.CodeConsentInvalid)
		})
		for _, c := range []struct {
			name   string
			change func(d map[string]any)
			status int
			code   string
		}{
			{"C2 dc_id differs", func(d map[string]any) { d["dc_id"] = "DC0000000002" }, http.StatusForbidden, protoerr.CodeConsentInvalid},
			{"C2 hashed_id_number differs", func(d map[string]any) {
				d["hashed_id_number"] = consent.HashIDNumber("880202-10-1234")
			}, http.StatusForbidden, protoerr.CodeConsentInvalid},
			{"C2 id_type differs", func(d map[string]any) { d["id_type"] = "passport" }, http.StatusForbidden, protoerr.CodeConsentInvalid},
			{"C2 identity dropped", func(d map[string]any) { delete(d, "id_type"); delete(d, "hashed_id_number") },
				http.StatusForbidden, protoerr.CodeConsentInvalid},
			{"C2 dp_id of another data provider", func(d map[string]any) { d["dp_id"] = "DP0000000002" },
				http.StatusBadRequest, protoerr.CodeInvalidRequest},
		} {
			t.Run(c.name, func(t *testing.T) {
				id := authorized(t)
				body := mutate(t, newEvent(t, consent.EventUpdated, id, consent.StatusAuthorized, created, at(time.Hour)),
					func(_, d map[string]any) { c.change(d) })
				refuse(t, id, body, c.status, c.code)
			})
		}

		t.Run("C3 illegal transitions refused", func(t *testing.T) {
			for _, c := range []struct {
				path []consent.Status // legal path from authorized
				to   consent.Status
			}{
				{nil, consent.StatusAwaitingAuthorization},
				{[]consent.Status{consent.StatusRevoked}, consent.StatusAuthorized},
				{[]consent.Status{consent.StatusRevoked}, consent.StatusSuspended},
				{[]consent.Status{consent.StatusExpired}, consent.StatusAuthorized},
				{[]consent.Status{consent.StatusSuspended, consent.StatusExpired}, consent.StatusSuspended},
				{nil, consent.StatusRejected},
				{nil, consent.StatusFailed},
			} {
				id := authorized(t)
				step := 2 * time.Minute
				for _, st := range c.path {
					e.post(t, newEvent(t, consent.EventStatusUpdated, id, st, created, at(step))).wantOK(t)
					step += time.Minute
				}
				refuse(t, id, newEvent(t, consent.EventStatusUpdated, id, c.to, created, at(step)),
					http.StatusForbidden, protoerr.CodeConsentInvalid)
			}
			// awaiting_authorization → revoked is not in spec §5.2 either.
			id := uuid.NewString()
			e.post(t, newEvent(t, consent.EventCreated, id, consent.StatusAwaitingAuthorization, created, created)).wantOK(t)
			refuse(t, id, newEvent(t, consent.EventStatusUpdated, id, consent.StatusRevoked, created, at(time.Minute)),
				http.StatusForbidden, protoerr.CodeConsentInvalid)
		})

		t.Run("C3 suspend and reinstate accepted", func(t *testing.T) {
			id := authorized(t)
			for i, st := range []consent.Status{consent.StatusSuspended, consent.StatusAuthorized, consent.StatusSuspended,
				consent.StatusRevoked} {
				body := newEvent(t, consent.EventStatusUpdated, id, st, created, at(time.Duration(i+2)*time.Minute))
				if st == consent.StatusSuspended {
					body = mutate(t, body, func(_, d map[string]any) {
						d["status_reason"] = map[string]any{"reason_code": "inactive_account"}
					})
				}
				e.post(t, body).wantOK(t)
				if got := e.snapshot(t, id).rec.Consent.Status; got != st {
					t.Fatalf("after the %s event the stored status is %s", st, got)
				}
			}
		})

		t.Run("C9 revoked consent stays revoked", func(t *testing.T) {
			id := authorized(t)
			e.post(t, newEvent(t, consent.EventStatusUpdated, id, consent.StatusRevoked, created, at(time.Hour))).wantOK(t)
			rec := e.snapshot(t, id).rec
			if rec.Consent.Status != consent.StatusRevoked || rec.Consent.EffectiveStatus(e.clock.Now()) != consent.StatusRevoked {
				t.Fatalf("stored %s (effective %s), want revoked", rec.Consent.Status, rec.Consent.EffectiveStatus(e.clock.Now()))
			}
		})
		t.Run("C10 expired by event and by time", func(t *testing.T) {
			id := authorized(t)
			e.post(t, newEvent(t, consent.EventStatusUpdated, id, consent.StatusExpired, created, at(time.Hour))).wantOK(t)
			if rec := e.snapshot(t, id).rec; rec.Consent.Status != consent.StatusExpired {
				t.Fatalf("stored %s, want expired", rec.Consent.Status)
			}
			// An authorized consent whose expiration_datetime passes is expired without an event.
			id = authorized(t)
			rec := e.snapshot(t, id).rec
			if got := rec.Consent.EffectiveStatus(e.clock.Now()); got != consent.StatusAuthorized {
				t.Fatalf("effective status %s before expiry, want authorized", got)
			}
			if got := rec.Consent.EffectiveStatus(rec.Consent.ExpirationDatetime); got != consent.StatusExpired {
				t.Fatalf("effective status %s at expiration_datetime, want expired", got)
			}
		})
	})
}

// TestEventValidation covers negative-tests C5 (null, empty, bad enum, empty array, fractional
// number), C6 (timestamp formats, created_at in the future, expiry not after creation) and C7
// (malformed UUIDs, unknown purpose or permission): 400 invalid_request, nothing stored.
func TestEventValidation(t *testing.T) {
	set := func(k string, v any) func(ev, d map[string]any) { return func(_, d map[string]any) { d[k] = v } }
	del := func(k string) func(ev, d map[string]any) { return func(_, d map[string]any) { delete(d, k) } }
	cases := []struct {
		name   string
		change func(ev, d map[string]any)
		raw    func(body []byte) []byte // for what a map cannot express
	}{
		{name: "C5 data null", change: func(ev, _ map[string]any) { ev["data"] = nil }},
		{name: "C5 data missing", change: func(ev, _ map[string]any) { delete(ev, "data") }},
		{name: "C5 data an array", change: func(ev, _ map[string]any) { ev["data"] = []any{} }},
		{name: "C5 event_type missing", change: func(ev, _ map[string]any) { delete(ev, "event_type") }},
		{name: "C5 event_type unspecified", change: func(ev, _ map[string]any) { ev["event_type"] = "consent_event_type_unspecified" }},
		{name: "C5 event_type unknown", change: func(ev, _ map[string]any) { ev["event_type"] = "consent_deleted" }},
		{name: "C5 event_type null", change: func(ev, _ map[string]any) { ev["event_type"] = nil }},
		{name: "C5 consent_id null", change: set("consent_id", nil)},
		{name: "C5 consent_id missing", change: del("consent_id")},
		{name: "C5 dc_id empty", change: set("dc_id", "")},
		{name: "C5 dc_id a number", change: set("dc_id", json.Number("1234567890"))},
		{name: "C5 dc_id longer than 64 (PayNet examples exceed the documented 36)", change: set("dc_id", strings.Repeat("D", 65))},
		{name: "C5 dp_id null", change: set("dp_id", nil)},
		{name: "C5 status bad enum (capitalised)", change: set("status", "Authorized")},
		{name: "C5 status unspecified", change: set("status", "consent_status_unspecified")},
		{name: "C5 status empty", change: set("status", "")},
		{name: "C5 consent_type unspecified", change: set("consent_type", "consent_type_unspecified")},
		{name: "C5 id_type unspecified", change: set("id_type", "id_type_unspecified")},
		{name: "C5 hashed_id_number not base64 of SHA-256", change: set("hashed_id_number", "not-a-hash")},
		{name: "C5 updated_by unspecified", change: set("updated_by", "consent_updated_by_unspecified")},
		{name: "C5 status_reason code unspecified", change: set("status_reason",
			map[string]any{"reason_code": "consent_status_reason_code_unspecified"})},
		{name: "C5 permissions empty array", change: set("permissions", []any{})},
		{name: "C5 permissions null", change: set("permissions", nil)},
		{name: "C5 permissions with a fractional number", change: set("permissions", []any{json.Number("1.5")})},
		{name: "C5 permissions with an unspecified item", change: set("permissions", []any{"consent_permission_unspecified"})},
		{name: "C5 permissions duplicated", change: set("permissions", []any{"read_accounts", "read_accounts"})},
		{name: "C5 consent_purpose a fractional number", change: set("consent_purpose", json.Number("0.5"))},
		{name: "C5 expiration_datetime a number", change: set("expiration_datetime", json.Number("1772639999.5"))},
		{name: "C5 account_id null", change: set("accounts", []any{map[string]any{"account_id": nil, "account_number": "1"}})},
		{name: "C5 account empty object", change: set("accounts", []any{map[string]any{}})},
		{name: "C5 duplicate member name", raw: func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"status":"awaiting_authorization"`),
				[]byte(`"status":"awaiting_authorization","status":"authorized"`), 1)
		}},
		{name: "C5 trailing data after the object", raw: func(b []byte) []byte { return append(b, []byte(`{}`)...) }},
		{name: "C5 invalid UTF-8", raw: func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"ofp"`), []byte("\"of\xffp\""), 1)
		}},
		{name: "C6 created_at with a space", change: set("created_at", "2025-07-31 09:00:00Z")},
		{name: "C6 created_at without a zone", change: set("created_at", "2025-07-31T09:00:00")},
		{name: "C6 created_at a date only", change: set("created_at", "2025-07-31")},
		{name: "C6 created_at in local format", change: set("created_at", "31/07/2025 09:00")},
		{name: "C6 created_at lower-case t and z", change: set("created_at", "2025-07-31t09:00:00z")},
		{name: "C6 created_at offset without a colon", change: set("created_at", "2025-07-31T17:00:00+0800")},
		{name: "C6 created_at a Unix time", change: set("created_at", json.Number("1753952400"))},
		{name: "C6 updated_at an impossible date", change: set("updated_at", "2025-02-30T09:00:00Z")},
		{name: "C6 created_at in the future", change: func(_, d map[string]any) {
			f := testNow.Add(time.Hour).Format(time.RFC3339)
			d["created_at"], d["updated_at"] = f, f
		}},
		{name: "C6 expiration_datetime before created_at", change: set("expiration_datetime", "2025-07-30T23:59:59+08:00")},
		{name: "C6 expiration_datetime equal to created_at", change: set("expiration_datetime", "2025-07-31T09:00:00Z")},
		{name: "C6 updated_at before created_at", change: set("updated_at", "2025-07-31T08:59:59Z")},
		{name: "C7 consent_id not a UUID", change: set("consent_id", "consent-1")},
		{name: "C7 consent_id without dashes", change: set("consent_id", "6f1f9a2e3c4d4b8a9e215d7c8b9a0f11")},
		{name: "C7 consent_id one digit short", change: set("consent_id", "6f1f9a2e-3c4d-4b8a-9e21-5d7c8b9a0f1")},
		{name: "C7 consent_id in braces", change: set("consent_id", "{6f1f9a2e-3c4d-4b8a-9e21-5d7c8b9a0f11}")},
		{name: "C7 consent_id the nil UUID", change: set("consent_id", "00000000-0000-0000-0000-000000000000")},
		{name: "C7 consent_id with a non-hex digit", change: set("consent_id", "6f1f9a2e-3c4d-4b8a-9e21-5d7c8b9a0g11")},
		{name: "C7 unknown purpose", change: set("consent_purpose", "marketing")},
		{name: "C7 unknown permission", change: set("permissions", []any{"read_accounts", "read_statements"})},
		{name: "C7 unknown consent_type", change: set("consent_type", "payment_consent")},
		{name: "C7 unknown id_type", change: set("id_type", "driving_licence")},
	}
	forEachEngine(t, envOptions{}, func(t *testing.T, e *eventsEnv) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				id := uuid.NewString()
				created := time.Date(2025, 7, 31, 9, 0, 0, 0, time.UTC)
				body := newEvent(t, consent.EventCreated, id, consent.StatusAwaitingAuthorization, created, created)
				if c.change != nil {
					body = mutate(t, body, c.change)
				}
				if c.raw != nil {
					changed := c.raw(body)
					if bytes.Equal(changed, body) {
						t.Fatal("raw change did not apply")
					}
					body = changed
				}
				e.post(t, body).wantError(t, http.StatusBadRequest, protoerr.CodeInvalidRequest)
				e.wantUnchanged(t, id, snapshot{})
			})
		}
		t.Run("control: the unchanged event is accepted", func(t *testing.T) {
			id := uuid.NewString()
			created := time.Date(2025, 7, 31, 9, 0, 0, 0, time.UTC)
			e.post(t, newEvent(t, consent.EventCreated, id, consent.StatusAwaitingAuthorization, created, created)).wantOK(t)
		})
	})
}

// TestEventRoutes covers negative-tests C8: unknown path or version → 404, wrong method → 405,
// both with the design §4 JSON body and without needing a signature.
func TestEventRoutes(t *testing.T) {
	e := sqliteOnly(t, envOptions{})
	for _, c := range []struct {
		method, path string
		status       int
	}{
		{http.MethodPost, "/v1/consents/event", http.StatusNotFound},
		{http.MethodPost, "/v2/consents/events", http.StatusNotFound},
		{http.MethodPost, "/v1/consents/events/extra", http.StatusNotFound},
		{http.MethodPost, "/", http.StatusNotFound},
		{http.MethodGet, "/v1/consents/events", http.StatusMethodNotAllowed},
		{http.MethodPut, "/v1/consents/events", http.StatusMethodNotAllowed},
		{http.MethodPatch, "/v1/consents/events", http.StatusMethodNotAllowed},
		{http.MethodDelete, "/v1/consents/events", http.StatusMethodNotAllowed},
	} {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			id := uuid.NewString()
			var body []byte
			if c.method != http.MethodGet && c.method != http.MethodDelete {
				body = newEvent(t, consent.EventCreated, id, consent.StatusAwaitingAuthorization, testNow, testNow)
			}
			for _, signed := range []bool{false, true} {
				resp := e.mustDo(t, request{method: c.method, path: c.path, body: body, noSig: !signed})
				resp.wantError(t, c.status, protoerr.CodeInvalidRequest)
			}
			e.wantUnchanged(t, id, snapshot{})
		})
	}
}

// TestEventBodies: an oversize body is 413, a body that is not a JSON object or not sent as JSON
// is 400, all with the design §4 body and nothing stored.
func TestEventBodies(t *testing.T) {
	const limit = 8 << 10
	e := sqliteOnly(t, envOptions{maxBody: limit})
	t.Run("oversize body", func(t *testing.T) {
		id := uuid.NewString()
		body := mutate(t, newEvent(t, consent.EventCreated, id, consent.StatusAwaitingAuthorization, testNow, testNow),
			func(_, d map[string]any) { d["padding"] = strings.Repeat("x", limit) })
		e.post(t, body).wantError(t, http.StatusRequestEntityTooLarge, protoerr.CodeInvalidRequest)
		e.wantUnchanged(t, id, snapshot{})
	})
	t.Run("body just under the limit", func(t *testing.T) {
		id := uuid.NewString()
		body := newEvent(t, consent.EventCreated, id, consent.StatusAwaitingAuthorization, testNow, testNow)
		body = mutate(t, body, func(_, d map[string]any) { d["padding"] = strings.Repeat("x", limit-len(body)-20) })
		if len(body) > limit {
			t.Fatalf("body of %d bytes", len(body))
		}
		e.post(t, body).wantOK(t)
	})
	for _, c := range []struct {
		name        string
		body        []byte
		contentType string
	}{
		{"not JSON", []byte("consent_created 6f1f9a2e"), ""},
		{"empty body", []byte{}, ""},
		{"JSON array", []byte(`[{"event_type":"consent_created"}]`), ""},
		{"JSON string", []byte(`"consent_created"`), ""},
		{"truncated JSON", goldenEvent(t, "consent_created")[:200], ""},
		{"form content type", goldenEvent(t, "consent_created"), "application/x-www-form-urlencoded"},
		{"text content type", goldenEvent(t, "consent_created"), "text/plain"},
		{"malformed content type", goldenEvent(t, "consent_created"), "application/json; charset"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := e.snapshot(t, goldenConsentID)
			r := request{body: c.body}
			if c.contentType != "" {
				r.header = http.Header{"Content-Type": {c.contentType}}
			}
			e.mustDo(t, r).wantError(t, http.StatusBadRequest, protoerr.CodeInvalidRequest)
			e.wantUnchanged(t, goldenConsentID, before)
		})
	}
	t.Run("application/json with a charset accepted", func(t *testing.T) {
		id := uuid.NewString()
		body := newEvent(t, consent.EventCreated, id, consent.StatusAwaitingAuthorization, testNow, testNow)
		e.mustDo(t, request{body: body, header: http.Header{"Content-Type": {"application/json; charset=utf-8"}}}).wantOK(t)
	})
}

// TestRedelivery: a redelivery with a fresh signature is acknowledged with no second side
// effect, an older updated_at is acknowledged and ignored, and a replayed request (same
// signature) is refused with 401 JWS.InvalidClaim (design §3.2, §3.6).
func TestRedelivery(t *testing.T) {
	forEachEngine(t, envOptions{}, func(t *testing.T, e *eventsEnv) {
		created := testNow.Add(-time.Hour)
		id := uuid.NewString()
		first := newEvent(t, consent.EventCreated, id, consent.StatusAwaitingAuthorization, created, created)
		e.post(t, first).wantOK(t)
		update := newEvent(t, consent.EventStatusUpdated, id, consent.StatusAuthorized, created, created.Add(time.Minute))
		sig := e.sign(t, update)
		e.mustDo(t, request{body: update, sig: sig}).wantOK(t)
		base := e.snapshot(t, id)

		t.Run("same event with a fresh signature", func(t *testing.T) {
			before := e.snapshot(t, id)
			e.post(t, update).wantOK(t)
			after := e.snapshot(t, id)
			if after.rec.Version != before.rec.Version {
				t.Errorf("version %d → %d on a redelivery", before.rec.Version, after.rec.Version)
			}
			want := append(before.actions(), consent.ActionDuplicate)
			if !slices.Equal(after.actions(), want) {
				t.Errorf("history %v, want %v", after.actions(), want)
			}
			if n := e.eventCount(t, string(consent.EventStatusUpdated), string(consent.ActionDuplicate)); n != 1 {
				t.Errorf("duplicate events metric %v, want 1", n)
			}
		})
		t.Run("older updated_at", func(t *testing.T) {
			before := e.snapshot(t, id)
			stale := newEvent(t, consent.EventStatusUpdated, id, consent.StatusRevoked, created, created.Add(30*time.Second))
			e.post(t, stale).wantOK(t)
			after := e.snapshot(t, id)
			if after.rec.Version != before.rec.Version || after.rec.Consent.Status != consent.StatusAuthorized {
				t.Errorf("stale event changed the consent: version %d → %d, status %s", before.rec.Version,
					after.rec.Version, after.rec.Consent.Status)
			}
			want := append(before.actions(), consent.ActionIgnoreStale)
			if !slices.Equal(after.actions(), want) {
				t.Errorf("history %v, want %v", after.actions(), want)
			}
		})
		t.Run("older consent_created", func(t *testing.T) {
			before := e.snapshot(t, id)
			e.post(t, first).wantOK(t)
			after := e.snapshot(t, id)
			if after.rec.Version != before.rec.Version || after.rec.Consent.Status != consent.StatusAuthorized {
				t.Errorf("a redelivered consent_created changed the consent to %s", after.rec.Consent.Status)
			}
		})
		t.Run("replayed request", func(t *testing.T) {
			before := e.snapshot(t, id)
			e.mustDo(t, request{body: update, sig: sig}).wantError(t, http.StatusUnauthorized, protoerr.CodeInvalidClaim)
			e.wantUnchanged(t, id, before)
		})
		if got := base.actions(); !slices.Equal(got, []consent.Action{consent.ActionInsert, consent.ActionUpdate}) {
			t.Errorf("initial history %v", got)
		}
		updates := 0
		for _, a := range e.snapshot(t, id).actions() {
			if a == consent.ActionUpdate {
				updates++
			}
		}
		if updates != 1 {
			t.Errorf("history %v: want exactly one update", e.snapshot(t, id).actions())
		}
	})
}

// TestInteractionID: x-fapi-interaction-id is echoed when sent (also on refusals), generated
// when absent, and a malformed or repeated one is 400 with a fresh id (negative-tests D8).
func TestInteractionID(t *testing.T) {
	e := sqliteOnly(t, envOptions{})
	event := func() (string, []byte) {
		id := uuid.NewString()
		return id, newEvent(t, consent.EventCreated, id, consent.StatusAwaitingAuthorization, testNow, testNow)
	}
	t.Run("echoed", func(t *testing.T) {
		iid := uuid.NewString()
		id, body := event()
		resp := e.mustDo(t, request{body: body, header: http.Header{api.HeaderInteractionID: {iid}}})
		resp.wantOK(t)
		if got := resp.header.Get(api.HeaderInteractionID); got != iid {
			t.Errorf("interaction id %q, want %q", got, iid)
		}
		if evs := e.snapshot(t, id).events; len(evs) != 1 || evs[0].InteractionID != iid {
			t.Errorf("history interaction id %+v, want %s", evs, iid)
		}
	})
	t.Run("echoed on a refusal", func(t *testing.T) {
		iid := strings.ToUpper(uuid.NewString())
		_, body := event()
		resp := e.mustDo(t, request{body: body, noSig: true, header: http.Header{api.HeaderInteractionID: {iid}}})
		resp.wantError(t, http.StatusUnauthorized, protoerr.CodeInvalidSignature)
		if got := resp.header.Get(api.HeaderInteractionID); got != iid {
			t.Errorf("interaction id %q, want %q", got, iid)
		}
	})
	t.Run("generated", func(t *testing.T) {
		id, body := event()
		resp := e.mustDo(t, request{body: body})
		resp.wantOK(t)
		got := resp.header.Get(api.HeaderInteractionID)
		if !isUUID(got) {
			t.Fatalf("generated interaction id %q is not a UUID", got)
		}
		if evs := e.snapshot(t, id).events; len(evs) != 1 || evs[0].InteractionID != got {
			t.Errorf("history interaction id %+v, want %s", evs, got)
		}
	})
	for _, c := range []struct {
		name   string
		values []string
	}{
		{"malformed", []string{"not-a-uuid"}},
		{"too long", []string{uuid.NewString() + "0"}},
		{"with a newline escape", []string{"6f1f9a2e-3c4d-4b8a-9e21-5d7c8b9a0f11%0a"}},
		{"repeated", []string{uuid.NewString(), uuid.NewString()}},
	} {
		t.Run(c.name, func(t *testing.T) {
			id, body := event()
			resp := e.mustDo(t, request{body: body, header: http.Header{api.HeaderInteractionID: c.values}})
			resp.wantError(t, http.StatusBadRequest, protoerr.CodeInvalidRequest)
			got := resp.header.Get(api.HeaderInteractionID)
			if !isUUID(got) || slices.Contains(c.values, got) {
				t.Errorf("interaction id %q on the refusal, want a fresh UUID", got)
			}
			e.wantUnchanged(t, id, snapshot{})
		})
	}
}

// TestEventsConcurrentCreate: the same consent_created delivered concurrently (two PayNet
// retries racing) is stored once: one insert, the rest duplicates.
func TestEventsConcurrentCreate(t *testing.T) {
	forEachEngine(t, envOptions{}, func(t *testing.T, e *eventsEnv) {
		id := uuid.NewString()
		created := testNow.Add(-time.Minute)
		body := newEvent(t, consent.EventCreated, id, consent.StatusAwaitingAuthorization, created, created)
		const n = 6
		sigs := make([]string, n)
		for i := range sigs {
			sigs[i] = e.sign(t, body)
		}
		errs := make(chan error, n)
		statuses := make(chan int, n)
		for i := range n {
			go func() {
				resp, err := e.do(t, request{body: body, sig: sigs[i]})
				if err != nil {
					errs <- err
					return
				}
				statuses <- resp.status
			}()
		}
		for range n {
			select {
			case err := <-errs:
				t.Fatal(err)
			case st := <-statuses:
				if st != http.StatusOK {
					t.Errorf("status %d, want 200", st)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("timeout")
			}
		}
		snap := e.snapshot(t, id)
		if snap.rec == nil || snap.rec.Version != 1 {
			t.Fatalf("stored %+v, want version 1", snap.rec)
		}
		inserts := 0
		for _, a := range snap.actions() {
			switch a {
			case consent.ActionInsert:
				inserts++
			case consent.ActionDuplicate:
			default:
				t.Errorf("history action %s", a)
			}
		}
		if inserts != 1 || len(snap.events) != n {
			t.Errorf("history %v: want one insert and %d duplicates", snap.actions(), n-1)
		}
	})
}
