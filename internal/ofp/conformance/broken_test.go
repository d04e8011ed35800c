package conformance_test

import (
	"bytes"
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ofpdp/ofpdp/internal/jose"
	"github.com/ofpdp/ofpdp/internal/mtls"
	"github.com/ofpdp/ofpdp/internal/ofp/conformance"
	"github.com/ofpdp/ofpdp/internal/sandbox"
)

// The runner must report real failures. These tests put a deliberately broken DP in front of
// the sandbox's: a reverse proxy that changes one behaviour, seen from outside exactly as a DP
// with that bug. Each asserts that the rows about the bug fail and that unrelated rows still
// pass (so the failures are the bug's, not a broken harness).

type breakage struct {
	// acceptAnySignature: the DP's signature check accepts anything (the proxy replaces every
	// x-fapi-signature with a valid one before the real DP sees it).
	acceptAnySignature bool
	// plaintextData: data answers leave as plaintext JSON instead of JWS(JWE).
	plaintextData bool
	// openRedirect: authorize with a redirect_uri off the allow-list redirects there with an error.
	openRedirect bool
	// badPayload: sealed data answers are re-sealed (with the DP's own keys) after amounts became
	// JSON numbers and transaction dates UTC — still signed and encrypted, wrong inside.
	badPayload bool
	// renamedPages: the journey pages with every control renamed (the same DP behind another
	// page contract), requests translated back; only a page map drives it.
	renamedPages bool
}

// renames are the page-contract changes of renamedPages: in the HTML (old → new), and back in
// the form bodies the browser posts.
var (
	pageRenames = strings.NewReplacer(
		`name="username"`, `name="login_id"`, `name="password"`, `name="passphrase"`,
		`name="account"`, `name="acct"`, `name="csrf"`, `name="xsrf"`,
		`name="decision" value="approve"`, `name="choice" value="allow"`,
		`name="decision" value="reject"`, `name="choice" value="deny"`,
		`id="cancel"`, `id="abort"`, `id="back-to-dc"`, `id="return-to-app"`)
	fieldsBack = map[string]string{"login_id": "username", "passphrase": "password", "acct": "account", "xsrf": "csrf", "choice": "decision"}
	valuesBack = map[string]string{"allow": "approve", "deny": "reject"}
)

// renamedPageMap is the page map of the renamed pages.
const renamedPageMap = `{
  "login": {"username_field": "login_id", "password_field": "passphrase"},
  "accounts": {"checkbox_name": "acct"},
  "approve": {"name": "choice", "value": "allow"},
  "reject": {"name": "choice", "value": "deny"},
  "cancel": {"id": "abort"},
  "back": {"id": "return-to-app"},
  "csrf_field": "xsrf"
}`

// brokenDP starts the broken DP in front of the sandbox's and returns the target to test.
func brokenDP(t *testing.T, info sandbox.Info, b breakage) conformance.Target {
	t.Helper()
	target, _ := targetOf(info)
	p := func(name string) string { return filepath.Join(info.PKIDir, name) }
	pool, err := mtls.LoadCAPool(p("ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	clientCert, err := tls.LoadX509KeyPair(p("paynet-mtls.crt"), p("paynet-mtls.key"))
	if err != nil {
		t.Fatal(err)
	}
	serverCert, err := tls.LoadX509KeyPair(p("dp-server.crt"), p("dp-server.key"))
	if err != nil {
		t.Fatal(err)
	}
	sigKey, err := jose.LoadSigningKey(p("paynet-sig.key"), p("paynet-sig.crt"))
	if err != nil {
		t.Fatal(err)
	}
	signer := &jose.Signer{Key: sigKey, Issuer: sandbox.PayNetIssuer}
	decKey, err := jose.LoadPrivateKeyFile(p("dc-enc.key"))
	if err != nil {
		t.Fatal(err)
	}
	dpKeys, err := readJWKS(p("dp.jwks.json"))
	if err != nil {
		t.Fatal(err)
	}
	dpSigKey, err := jose.LoadSigningKey(p("dp-sig.key"), p("dp-sig.crt"))
	if err != nil {
		t.Fatal(err)
	}
	dpSigner := &jose.Signer{Key: dpSigKey, Issuer: info.DPID}
	encCerts, err := jose.LoadCertificatesFile(p("dc-enc.crt"))
	if err != nil {
		t.Fatal(err)
	}
	encKey, err := jose.PublicKeyFromChain(encCerts, jose.UseEnc, jose.AlgRSAOAEP256)
	if err != nil {
		t.Fatal(err)
	}

	apiURL, _ := url.Parse(info.DP.APIURL)
	api := &httputil.ReverseProxy{
		Transport: &http.Transport{TLSClientConfig: mtls.ClientConfig(clientCert, pool)},
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(apiURL)
			if !b.acceptAnySignature {
				return
			}
			body, _ := io.ReadAll(pr.In.Body)
			pr.Out.Body = io.NopCloser(bytes.NewReader(body))
			pr.Out.ContentLength = int64(len(body))
			sig, err := signer.SignDetached(body)
			if err != nil {
				t.Errorf("re-signing: %v", err)
				return
			}
			pr.Out.Header.Del("x-signature")
			pr.Out.Header.Set("x-fapi-signature", sig)
		},
		ModifyResponse: func(resp *http.Response) error {
			if !(b.plaintextData || b.badPayload) || resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/jose" {
				return nil
			}
			sealed, err := io.ReadAll(resp.Body)
			if err != nil {
				return err
			}
			_ = resp.Body.Close()
			claims, plain, err := jose.OpenResponse(resp.Request.Context(), sealed, jose.StaticKeys{Set: dpKeys}, decKey, time.Now())
			if err != nil {
				return err
			}
			if b.badPayload {
				plain = amountAsNumber.ReplaceAll(plain, []byte(`"amount":$1`))
				plain = utcDate.ReplaceAll(plain, []byte(`"transaction_date":"${1}Z"`))
				if plain, err = dpSigner.Seal(plain, encKey, claims.Aud); err != nil {
					return err
				}
			}
			resp.Body = io.NopCloser(bytes.NewReader(plain))
			resp.ContentLength = int64(len(plain))
			resp.Header.Set("Content-Length", strconv.Itoa(len(plain)))
			if b.plaintextData {
				resp.Header.Set("Content-Type", "application/json")
			}
			return nil
		},
	}
	apiSrv := httptest.NewUnstartedServer(api)
	apiSrv.TLS = mtls.ServerConfig(serverCert, pool)
	apiSrv.StartTLS()
	t.Cleanup(apiSrv.Close)
	target.APIURL = "https://" + apiSrv.Listener.Addr().String()

	webURL, _ := url.Parse(info.DP.WebURL)
	web := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(webURL)
		pr.Out.Host = pr.In.Host // the DP compares Origin with Host (CSRF protection)
		if !b.renamedPages {
			return
		}
		pr.Out.Header.Del("Accept-Encoding")
		if pr.In.Method != http.MethodPost {
			return
		}
		body, _ := io.ReadAll(pr.In.Body)
		in, err := url.ParseQuery(string(body))
		if err != nil {
			t.Errorf("renamed pages: form body: %v", err)
		}
		out := url.Values{}
		for k, vs := range in {
			if nk, ok := fieldsBack[k]; ok {
				k = nk
			}
			for _, v := range vs {
				if nv, ok := valuesBack[v]; ok && k == "decision" {
					v = nv
				}
				out.Add(k, v)
			}
		}
		enc := []byte(out.Encode())
		pr.Out.Body = io.NopCloser(bytes.NewReader(enc))
		pr.Out.ContentLength = int64(len(enc))
		pr.Out.Header.Set("Content-Length", strconv.Itoa(len(enc)))
	}, ModifyResponse: func(resp *http.Response) error {
		if !b.renamedPages || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			return nil
		}
		page, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		_ = resp.Body.Close()
		page = []byte(pageRenames.Replace(string(page)))
		resp.Body = io.NopCloser(bytes.NewReader(page))
		resp.ContentLength = int64(len(page))
		resp.Header.Set("Content-Length", strconv.Itoa(len(page)))
		return nil
	}}
	webSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if b.openRedirect && r.URL.Path == "/v1/oauth/authorize" {
			if ru := r.URL.Query().Get("redirect_uri"); ru != "" && ru != info.RedirectURI {
				http.Redirect(w, r, ru+"?error=access_denied&consent_id="+url.QueryEscape(r.URL.Query().Get("consent_id")), http.StatusSeeOther)
				return
			}
		}
		web.ServeHTTP(w, r)
	}))
	t.Cleanup(webSrv.Close)
	target.WebURL = webSrv.URL
	return target
}

var (
	amountAsNumber = regexp.MustCompile(`"amount":"(\d+\.\d{2})"`)
	utcDate        = regexp.MustCompile(`"transaction_date":"([0-9T:-]{19})(\.\d+)?\+08:00"`)
)

func readJWKS(path string) (*jose.KeySet, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return jose.ParseJWKS(b)
}

// assertRows checks that every id in failing failed and every id in passing passed.
func assertRows(t *testing.T, rep *conformance.Report, failing, passing []string) {
	t.Helper()
	for _, id := range failing {
		res, ok := rep.Result(id)
		switch {
		case !ok:
			t.Errorf("row %s missing", id)
		case res.Outcome != conformance.Fail:
			t.Errorf("row %s: %s (got %q), want a failure", id, res.Outcome, res.Got)
		}
	}
	for _, id := range passing {
		res, ok := rep.Result(id)
		switch {
		case !ok:
			t.Errorf("row %s missing", id)
		case res.Outcome != conformance.Pass:
			t.Errorf("row %s: %s (got %q), want a pass", id, res.Outcome, res.Got)
		}
	}
	if rep.OK() {
		t.Error("the report says OK against a broken DP")
	}
}

func TestBrokenDPsFail(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole sandbox")
	}
	info := startSandbox(t)
	_, client := targetOf(info)

	t.Run("signature check accepts anything", func(t *testing.T) {
		target := brokenDP(t, info, breakage{acceptAnySignature: true})
		rep := run(t, conformance.Options{Target: target, Sim: client,
			Groups: []string{conformance.GroupDoD, conformance.GroupSignatures}})
		assertRows(t, rep,
			[]string{"DoD-1", "S1", "S2-append", "S2-truncate", "S3", "S4", "S6-none", "S6-hs256", "S7-kid", "S7-enc",
				"S8-iss", "S8-jti", "S8-iat", "S8-kid", "S8-crit", "S9-unknown", "S9-omits", "S9-empty", "S10-past",
				"S10-future", "S12-dckey", "S12-iss", "S13-attached", "S13-variant", "S13-crit", "S14"},
			[]string{"E2E-9a", "E2E-10", "DoD-4", "S0", "S10-skew", "S13-unencoded"})
	})

	t.Run("data answered in plaintext", func(t *testing.T) {
		target := brokenDP(t, info, breakage{plaintextData: true})
		rep := run(t, conformance.Options{Target: target, Sim: client,
			Groups: []string{conformance.GroupDoD, conformance.GroupData}})
		assertRows(t, rep,
			[]string{"DoD-4", "D12-sealed", "D13", "D18-any", "D18-none"},
			[]string{"DoD-1", "D4", "D5", "D8-malformed", "D10-date", "D17"})
	})

	t.Run("payload fields of the wrong type", func(t *testing.T) {
		target := brokenDP(t, info, breakage{badPayload: true})
		rep := run(t, conformance.Options{Target: target, Sim: client, Groups: []string{conformance.GroupData},
			Only: []string{"P-", "D12", "D13"}})
		assertRows(t, rep, []string{"P-account", "P-balances", "P-transactions"}, []string{"P-userinfo", "D12-sealed", "D13"})
		for id, want := range map[string]string{"P-balances": "current_balance.amount.amount: not a string",
			"P-transactions": "transaction_date: not an ISO 8601 date-time in MYT"} {
			if res, _ := rep.Result(id); !strings.Contains(res.Got, want) {
				t.Errorf("%s should name the deviation %q: %q", id, want, res.Got)
			}
		}
		if len(rep.Results) != 8 {
			t.Errorf("--only P-,D12,D13 reported %d rows, want 8", len(rep.Results))
		}
	})

	t.Run("journey pages renamed: the page map drives them", func(t *testing.T) {
		target := brokenDP(t, info, breakage{renamedPages: true})
		pages, err := conformance.ParsePageMap([]byte(renamedPageMap))
		if err != nil {
			t.Fatal(err)
		}
		rep := run(t, conformance.Options{Target: target, Sim: client, Pages: pages,
			Groups: []string{conformance.GroupJourney, conformance.GroupAuthorize}})
		for _, f := range rep.Failures() {
			t.Errorf("with the page map, %s failed: %s", f.ID, f.Got)
		}
		if rep.Passed < 30 {
			t.Errorf("only %d rows passed", rep.Passed)
		}
		// ofpdp's own map does not fit the renamed pages: the journey cannot be driven.
		rep = run(t, conformance.Options{Target: target, Sim: client, Groups: []string{conformance.GroupJourney}, Only: []string{"E2E-"}})
		assertRows(t, rep, []string{"E2E-5", "E2E-6a"}, nil)
		if rep.Passed != 0 {
			t.Errorf("%d journey rows passed on pages the map does not fit", rep.Passed)
		}
	})

	t.Run("redirects to an unlisted redirect_uri", func(t *testing.T) {
		target := brokenDP(t, info, breakage{openRedirect: true})
		rep := run(t, conformance.Options{Target: target, Sim: client, Groups: []string{conformance.GroupAuthorize}})
		assertRows(t, rep, []string{"U2-host", "U2-suffix"},
			[]string{"E2E-10", "U1-missing", "U1-invalid", "U7-authorized", "U8"})
		res, _ := rep.Result("U2-host")
		if !strings.Contains(res.Got, "evil.example") || !strings.Contains(res.Got, "redirected away") {
			t.Errorf("U2-host should say where it was sent: %q", res.Got)
		}
	})
}
