package sandbox

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ofpdp/ofpdp/internal/bank/demo"
	"github.com/ofpdp/ofpdp/internal/pki"
)

func startSandbox(t *testing.T, o Options) *Running {
	t.Helper()
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r, err := Start(ctx, o)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = r.Stop() })
	return r
}

func get(t *testing.T, hc *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := hc.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// keysOf lists the keys of a JSON object, recursively as dotted paths (arrays: their first item).
func keysOf(prefix string, v any) []string {
	var out []string
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			out = append(out, prefix+k)
			out = append(out, keysOf(prefix+k+".", c)...)
		}
	case []any:
		if len(x) > 0 {
			out = append(out, keysOf(prefix+"[].", x[0])...)
		}
	}
	slices.Sort(out)
	return out
}

func TestStartWritesSandboxJSONAndServes(t *testing.T) {
	dir := t.TempDir()
	r := startSandbox(t, Options{Dir: dir, Ephemeral: true})

	path := filepath.Join(dir, InfoFile)
	if r.InfoPath() != path {
		t.Errorf("InfoPath = %q, want %q", r.InfoPath(), path)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("sandbox.json mode %v, want 0600", st.Mode().Perm())
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	want := []string{"authn", "authn.mode", "users.[].customer_ref", "bank", "bank.url", "dc", "dc.url", "dc_id", "dp", "dp.admin_token", "dp.api_url", "dp.ops_url", "dp.web_url", "dp_id", "paynet", "paynet.url",
		"pki_dir", "redirect_uri", "users", "users.[].id_number", "users.[].id_type", "users.[].name", "users.[].password", "users.[].username"}
	slices.Sort(want)
	if got := keysOf("", doc); !slices.Equal(got, want) {
		t.Errorf("sandbox.json keys\n got %v\nwant %v", got, want)
	}
	in, err := ReadInfo(path)
	if err != nil {
		t.Fatalf("ReadInfo: %v", err)
	}
	info := r.Info()
	if in.DP != info.DP || in.RedirectURI != info.RedirectURI || len(in.Users) != len(demo.Logins()) {
		t.Errorf("file %+v differs from Info() %+v", in, info)
	}
	// Every demo customer carries the identity the demo bank holds for them (design.md §3.11).
	if u := in.Users[0]; u.Username != "aisyah" || u.IDType != "nric" || u.IDNumber != "900101-14-5678" {
		t.Errorf("users[0] = %s %s %q, want aisyah's NRIC", u.Username, u.IDType, u.IDNumber)
	}
	if info.DPID != DPID || info.DCID != DCID {
		t.Errorf("ids %q %q", info.DPID, info.DCID)
	}
	if info.PKIDir != filepath.Join(dir, PKISubdir) || !filepath.IsAbs(info.PKIDir) {
		t.Errorf("pki_dir %q", info.PKIDir)
	}
	if info.RedirectURI != info.PayNet.URL+"/callback" {
		t.Errorf("redirect_uri %q is not the simulator's callback (%s)", info.RedirectURI, info.PayNet.URL)
	}
	for _, n := range pki.FileNames() {
		if _, err := os.Stat(filepath.Join(info.PKIDir, n)); err != nil {
			t.Errorf("PKI file: %v", err)
		}
	}
	sec, err := os.Stat(filepath.Join(dir, SecretFile))
	if err != nil {
		t.Fatal(err)
	}
	if sec.Mode().Perm() != 0o600 || sec.Size() != 65 {
		t.Errorf("server.secret mode %v size %d, want 0600 and 64 hex digits + newline", sec.Mode().Perm(), sec.Size())
	}

	hc := &http.Client{Timeout: 5 * time.Second}
	if !strings.HasPrefix(info.DP.WebURL, "http://"+Host+":") {
		t.Errorf("web URL %q: the sandbox serves the customer pages over plain HTTP on loopback by default", info.DP.WebURL)
	}
	if code, body := get(t, hc, info.DC.URL+"/"); code != http.StatusOK || !strings.Contains(body, "Kira") {
		t.Errorf("mock DC: %d", code)
	}
	if code, _ := get(t, hc, info.DP.OpsURL+"/readyz"); code != http.StatusOK {
		t.Errorf("ops /readyz: %d", code)
	}
	if code, body := get(t, hc, info.DP.WebURL+"/no-such-page"); code != http.StatusNotFound || !strings.Contains(strings.ToLower(body), "sandbox") {
		t.Errorf("DP web 404 page: %d, labelled sandbox: %v", code, strings.Contains(strings.ToLower(body), "sandbox"))
	}
	if code, body := get(t, hc, info.PayNet.URL+"/sim/info"); code != http.StatusOK || !strings.Contains(body, DPID) {
		t.Errorf("simulator info: %d %s", code, body)
	}

	if !strings.HasPrefix(info.Bank.URL, "https://"+Host+":") {
		t.Errorf("bank.url %q: by default the DP calls the mock core bank over HTTPS", info.Bank.URL)
	}
	addrs := []string{info.DP.APIURL, info.DP.WebURL, info.DP.OpsURL, info.PayNet.URL, info.DC.URL, info.Bank.URL}
	if err := r.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	select {
	case <-r.Done():
	default:
		t.Fatal("Done not closed after Stop")
	}
	for _, u := range addrs {
		host := u[strings.Index(u, "://")+3:]
		if c, err := net.DialTimeout("tcp", host, time.Second); err == nil {
			_ = c.Close()
			t.Errorf("%s still accepts connections after Stop", u)
		}
	}
}

func TestRestartReusesPKIAndSecret(t *testing.T) {
	dir := t.TempDir()
	r1 := startSandbox(t, Options{Dir: dir, Ephemeral: true})
	ca1, err := os.ReadFile(filepath.Join(r1.Info().PKIDir, "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	sec1, err := os.ReadFile(filepath.Join(dir, SecretFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := r1.Stop(); err != nil {
		t.Fatal(err)
	}
	r2 := startSandbox(t, Options{Dir: dir, Ephemeral: true})
	ca2, _ := os.ReadFile(filepath.Join(r2.Info().PKIDir, "ca.crt"))
	sec2, _ := os.ReadFile(filepath.Join(dir, SecretFile))
	if !bytes.Equal(ca1, ca2) || !bytes.Equal(sec1, sec2) {
		t.Error("a second start regenerated the PKI or the server secret")
	}
	if _, err := os.Stat(filepath.Join(dir, DBFile)); err != nil {
		t.Errorf("database: %v", err)
	}
}

func TestWebTLS(t *testing.T) {
	r := startSandbox(t, Options{Dir: t.TempDir(), Ephemeral: true, WebTLS: true})
	info := r.Info()
	if !strings.HasPrefix(info.DP.WebURL, "https://") {
		t.Fatalf("web URL %q, want https", info.DP.WebURL)
	}
	ca, err := os.ReadFile(filepath.Join(info.PKIDir, "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := hc.Get(info.DP.WebURL + "/no-such-page")
	if err != nil {
		t.Fatalf("GET over TLS trusting ca.crt: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || resp.Header.Get("Strict-Transport-Security") == "" {
		t.Errorf("status %d, HSTS %q", resp.StatusCode, resp.Header.Get("Strict-Transport-Security"))
	}
}

func TestPartialPKIRefused(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, PKISubdir), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, PKISubdir, "ca.crt"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Start(context.Background(), Options{Dir: dir, Ephemeral: true})
	if !errors.Is(err, ErrPKI) {
		t.Fatalf("err = %v, want ErrPKI", err)
	}
}

func TestPortInUse(t *testing.T) {
	busy, err := net.Listen("tcp", Host+":0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	port := busy.Addr().(*net.TCPAddr).Port
	free := make([]int, 5)
	for i := range free {
		l, err := net.Listen("tcp", Host+":0")
		if err != nil {
			t.Fatal(err)
		}
		free[i] = l.Addr().(*net.TCPAddr).Port
		l.Close()
	}
	_, err = Start(context.Background(), Options{Dir: t.TempDir(),
		Ports: Ports{API: free[0], Web: port, Ops: free[1], SimMTLS: free[2], SimPublic: free[3], DC: free[4]}})
	if err == nil || !strings.Contains(err.Error(), "--web-port") || !strings.Contains(err.Error(), strconv.Itoa(port)) {
		t.Fatalf("err = %v, want the DP web port named with its flag", err)
	}
	// Nothing was left listening.
	for _, p := range free {
		if c, err := net.DialTimeout("tcp", net.JoinHostPort(Host, strconv.Itoa(p)), time.Second); err == nil {
			_ = c.Close()
			t.Errorf("port %d left open", p)
		}
	}
}

func TestPortsFrom(t *testing.T) {
	got := PortsFrom(10000)
	want := Ports{API: 10000, Web: 10001, SimMTLS: 10002, SimPublic: 10003, DC: 10004, Ops: 10005}
	if got != want {
		t.Errorf("PortsFrom = %+v, want %+v", got, want)
	}
}

func TestParseInfo(t *testing.T) {
	good := `{"dp":{"api_url":"https://127.0.0.1:8443","web_url":"http://127.0.0.1:8444","ops_url":"http://127.0.0.1:9090"},
"paynet":{"url":"http://127.0.0.1:8446"},"dc":{"url":"http://127.0.0.1:8447"},"pki_dir":"/tmp/pki","dp_id":"DP0000000001",
"dc_id":"DC0000000001","redirect_uri":"http://127.0.0.1:8446/callback","users":[{"username":"u","password":"p","name":"N","id_type":"nric","id_number":"900101-14-5678"}]}`
	if _, err := ParseInfo([]byte(good)); err != nil {
		t.Fatalf("good file: %v", err)
	}
	tests := []struct{ name, old, new string }{
		{"unknown key", `"pki_dir"`, `"extra":1,"pki_dir"`},
		{"no pki_dir", `"pki_dir":"/tmp/pki"`, `"pki_dir":""`},
		{"bad url", `"http://127.0.0.1:8447"`, `"127.0.0.1:8447"`},
		{"no users", `[{"username":"u","password":"p","name":"N","id_type":"nric","id_number":"900101-14-5678"}]`, `[]`},
		{"no id_number", `"id_number":"900101-14-5678"`, `"id_number":""`},
		{"id_type licence", `"id_type":"nric"`, `"id_type":"licence"`},
		{"no password", `"password":"p"`, `"password":""`},
		{"no dp_id", `"dp_id":"DP0000000001"`, `"dp_id":""`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := strings.Replace(good, tc.old, tc.new, 1)
			if b == good {
				t.Fatal("replacement did not apply")
			}
			if _, err := ParseInfo([]byte(b)); !errors.Is(err, ErrInfo) {
				t.Errorf("err = %v, want ErrInfo", err)
			}
		})
	}
	if _, err := ParseInfo([]byte(good + "{}")); !errors.Is(err, ErrInfo) {
		t.Errorf("trailing data: err = %v", err)
	}
}
