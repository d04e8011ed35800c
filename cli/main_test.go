package cli

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ofpdp/ofpdp/internal/config"
	"github.com/ofpdp/ofpdp/internal/jose"
	"github.com/ofpdp/ofpdp/internal/pki"
)

// ofpdp runs the command line in-process with env as the environment.
func ofpdp(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut, func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	})
	return code, out.String(), errOut.String()
}

func TestUsage(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		code       int
		out, err   string // substrings of stdout / stderr ("" = must be empty)
		notInUsage bool
	}{
		{name: "no arguments", code: 2, err: "Commands:"},
		{name: "--help", args: []string{"--help"}, code: 0, out: "Commands:"},
		{name: "-h", args: []string{"-h"}, code: 0, out: "Commands:"},
		{name: "help", args: []string{"help"}, code: 0, out: "Commands:"},
		{name: "unknown command", args: []string{"frobnicate"}, code: 2, err: `ofpdp: unknown command "frobnicate"`},
		{name: "version", args: []string{"version"}, code: 0, out: "ofpdp "},
		{name: "version --help", args: []string{"version", "--help"}, code: 0, out: "Usage: ofpdp version"},
		{name: "version extra", args: []string{"version", "x"}, code: 2, err: `unexpected argument "x"`},
		{name: "version bad flag", args: []string{"version", "--json"}, code: 2, err: "flag provided but not defined: -json"},
		{name: "pki", args: []string{"pki"}, code: 2, err: "ofpdp pki init"},
		{name: "pki --help", args: []string{"pki", "--help"}, code: 0, out: "ofpdp pki csr --key URI"},
		{name: "pki unknown", args: []string{"pki", "renew"}, code: 2, err: `ofpdp pki: unknown command "renew"`},
		{name: "pki init --help", args: []string{"pki", "init", "--help"}, code: 0, out: "-sig-alg"},
		{name: "pki init bad flag", args: []string{"pki", "init", "--bits", "4096"}, code: 2, err: "flag provided but not defined: -bits"},
		{name: "pki init bad sig-alg", args: []string{"pki", "init", "--dir", "unused", "--sig-alg", "RS256"}, code: 2, err: `signature algorithm "RS256"`},
		{name: "pki inspect --help", args: []string{"pki", "inspect", "--help"}, code: 0, out: "Usage: ofpdp pki inspect [--jwks-out JWKS] FILE"},
		{name: "pki inspect without file", args: []string{"pki", "inspect"}, code: 2, err: "want exactly one FILE"},
		{name: "pki csr --help", args: []string{"pki", "csr", "--help"}, code: 0, out: "PayNet asks for three certificates"},
		{name: "pki csr without key", args: []string{"pki", "csr", "--kind", "mtls", "--subject", "CN=x", "--out", "x.csr"}, code: 2, err: "--key, --kind, --subject and --out are required"},
		{name: "pki csr bad kind", args: []string{"pki", "csr", "--key", "k", "--kind", "ca", "--subject", "CN=x", "--out", "x.csr"}, code: 1, err: "k: no such file"},
		{name: "serve --help", args: []string{"serve", "--help"}, code: 0, out: "-check-config"},
		{name: "serve bad flag", args: []string{"serve", "--port", "1"}, code: 2, err: "flag provided but not defined: -port"},
		{name: "serve extra", args: []string{"serve", "now"}, code: 2, err: `unexpected argument "now"`},
		{name: "doctor --help", args: []string{"doctor", "--help"}, code: 0, out: "-dp-jwks"},
		{name: "doctor on a broken configuration", args: []string{"doctor", "--config", "missing.yaml"}, code: 1,
			out: "configuration  FAIL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			code, out, errOut := ofpdp(t, nil, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, out, errOut)
			}
			if tt.out == "" && out != "" || !strings.Contains(out, tt.out) {
				t.Errorf("stdout %q, want it to contain %q", out, tt.out)
			}
			if tt.err == "" && errOut != "" || !strings.Contains(errOut, tt.err) {
				t.Errorf("stderr %q, want it to contain %q", errOut, tt.err)
			}
		})
	}
}

// TestHelpListsOnlyWorkingCommands: --help shows what this build can do.
func TestHelpListsOnlyWorkingCommands(t *testing.T) {
	_, out, _ := ofpdp(t, nil, "--help")
	for _, want := range []string{"serve --check-config", "run the server", "pki init", "pki inspect FILE",
		"migrate up", "migrate status", "doctor --config FILE", "sign", "version", "sandbox", "conformance"} {
		if !strings.Contains(out, want) {
			t.Errorf("--help lacks %q:\n%s", want, out)
		}
	}
	for _, absent := range []string{"loadgen"} {
		if strings.Contains(out, absent) {
			t.Errorf("--help lists %q, which this build cannot do:\n%s", absent, out)
		}
	}
	// Every listed command answers its own --help.
	for _, c := range commands() {
		if code, out, errOut := ofpdp(t, nil, c.name, "--help"); code != 0 || !strings.Contains(out, "ofpdp "+c.name) {
			t.Errorf("ofpdp %s --help: exit %d\n%s%s", c.name, code, out, errOut)
		}
	}
}

func TestVersion(t *testing.T) {
	code, out, _ := ofpdp(t, nil, "version")
	if code != 0 || !strings.HasPrefix(out, "ofpdp ") || !strings.Contains(out, "\ncommit: ") || !strings.Contains(out, "\ngo: go1.") {
		t.Errorf("version printed %q (exit %d)", out, code)
	}
}

// TestVersionLdflags builds the binary the way the Makefile does and checks
// that the -X values reach `ofpdp version`.
func TestVersionLdflags(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not in PATH: cannot build the binary")
	}
	bin := filepath.Join(t.TempDir(), "ofpdp")
	const pkg = "github.com/ofpdp/ofpdp/internal/buildinfo"
	build := exec.Command(gobin, "build", "-o", bin, "-ldflags", "-X "+pkg+".Version=v9.8.7 -X "+pkg+".Commit=0123abcd -X "+pkg+".BuildDate=2026-12-01T10:00:00Z", "../cmd/ofpdp")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "ofpdp v9.8.7\n") || !strings.Contains(string(out), "commit: 0123abcd") ||
		!strings.Contains(string(out), "built: 2026-12-01T10:00:00Z\n") {
		t.Errorf("version printed %q", out)
	}
}

func snapshot(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = b
	}
	return out
}

func TestPKIInitAndInspect(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	code, out, errOut := ofpdp(t, nil, "pki", "init", "--dir", dir, "--hosts", "dp.bank.example, 10.0.0.5", "--sig-alg", "ES512")
	if code != 0 {
		t.Fatalf("pki init: exit %d\n%s", code, errOut)
	}
	for _, want := range []string{"ca.crt/.key", "dp-sig.crt/.key", "dc.jwks.json", "sig/ES512", "enc/RSA-OAEP-256", "x5t#S256"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	certs, err := jose.LoadCertificatesFile(filepath.Join(dir, "dp-server.crt"))
	if err != nil {
		t.Fatal(err)
	}
	if err := certs[0].VerifyHostname("dp.bank.example"); err != nil {
		t.Error(err)
	}
	if err := certs[0].VerifyHostname("10.0.0.5"); err != nil {
		t.Error(err)
	}
	if sig, _ := jose.LoadCertificatesFile(filepath.Join(dir, "dp-sig.crt")); sig[0].PublicKeyAlgorithm != x509.ECDSA {
		t.Errorf("dp-sig is %v, want ECDSA for ES512", sig[0].PublicKeyAlgorithm)
	}

	before := snapshot(t, dir)
	code, _, errOut = ofpdp(t, nil, "pki", "init", "--dir", dir)
	if code != 1 || !strings.Contains(errOut, "already exist") || !strings.Contains(errOut, "--force") {
		t.Errorf("second pki init: exit %d, stderr %q; want 1 and a refusal naming --force", code, errOut)
	}
	if after := snapshot(t, dir); !maps.EqualFunc(before, after, bytes.Equal) {
		t.Error("refused pki init changed files")
	}
	if code, _, errOut := ofpdp(t, nil, "pki", "init", "--dir", dir, "--force"); code != 0 {
		t.Errorf("pki init --force: exit %d\n%s", code, errOut)
	}
	if after := snapshot(t, dir); bytes.Equal(before["ca.crt"], after["ca.crt"]) {
		t.Error("--force kept the old CA")
	}

	for _, file := range []string{"dp-sig.crt", "dc.jwks.json", "ca.crt"} {
		code, out, errOut := ofpdp(t, nil, "pki", "inspect", filepath.Join(dir, file))
		if code != 0 || errOut != "" {
			t.Errorf("inspect %s: exit %d, stderr %q", file, code, errOut)
		}
		for _, want := range []string{"subject:", "issuer:", "not after:", "SHA-256:", "x5t#S256:", `JWK:         {"kty":`} {
			if !strings.Contains(out, want) {
				t.Errorf("inspect %s lacks %q:\n%s", file, want, out)
			}
		}
	}
	if code, _, errOut := ofpdp(t, nil, "pki", "inspect", filepath.Join(dir, "dp-sig.key")); code != 1 || !strings.Contains(errOut, "private key") {
		t.Errorf("inspect of a key: exit %d, %q", code, errOut)
	}
	if code, _, errOut := ofpdp(t, nil, "pki", "inspect", filepath.Join(dir, "nope.crt")); code != 1 || !strings.Contains(errOut, "no such file") {
		t.Errorf("inspect of a missing file: exit %d, %q", code, errOut)
	}
}

// TestPKICSRAndRingInspect: a CSR from a key file, and the DP JWKS of a signing key ring.
func TestPKICSRAndRingInspect(t *testing.T) {
	t.Chdir(t.TempDir())
	if code, _, errOut := ofpdp(t, nil, "pki", "init", "--dir", "pki"); code != 0 {
		t.Fatal(errOut)
	}
	code, out, errOut := ofpdp(t, nil, "pki", "csr", "--key", "file:pki/dp-server.key", "--kind", "server",
		"--subject", "CN=ofp.bank.com.my,O=Bank Berhad,C=MY", "--hosts", "ofp.bank.com.my", "--out", "server.csr")
	if code != 0 || !strings.Contains(out, "wrote server.csr") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	if code, _, errOut := ofpdp(t, nil, "pki", "csr", "--key", "pki/dp-server.key", "--kind", "server",
		"--subject", "CN=x", "--hosts", "x", "--out", "server.csr"); code != 1 || !strings.Contains(errOut, "exists") {
		t.Fatalf("overwrote server.csr: exit %d %s", code, errOut)
	}
	ring := "keys:\n- {key: pki/dp-sig.key, cert: pki/dp-sig.crt, state: retired}\n- {key: pki/dc-sig.key, cert: pki/dc-sig.crt, state: next}\n- {key: pki/paynet-sig.key, cert: pki/paynet-sig.crt, state: active}\n"
	if err := os.WriteFile("ring.yaml", []byte(ring), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = ofpdp(t, nil, "pki", "inspect", "--jwks-out", "dp.jwks.json", "ring.yaml")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "key 1 of 2") || !strings.Contains(out, "CN=paynet-sig") || !strings.Contains(out, "CN=dc-sig") || strings.Contains(out, "CN=dp-sig") {
		t.Fatalf("ring report does not show active then next only:\n%s", out)
	}
	raw, err := os.ReadFile("dp.jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	if ks, err := jose.ParseJWKS(raw); err != nil || len(ks.Keys) != 2 {
		t.Fatalf("dp.jwks.json: %v", err)
	}
	if code, _, errOut := ofpdp(t, nil, "pki", "inspect", "--jwks-out", "x.json", "pki/ca.crt"); code != 2 || !strings.Contains(errOut, "needs a signing key ring") {
		t.Fatalf("--jwks-out on a certificate: exit %d %s", code, errOut)
	}
}

func TestPKIInspectExpiry(t *testing.T) {
	tests := []struct {
		name     string
		issued   time.Time
		code     int
		stderr   string
		noStderr bool
	}{
		{name: "fresh", issued: time.Now(), code: 0, noStderr: true},
		{name: "expires within 30 days", issued: time.Now().AddDate(0, -13, 10), code: 0, stderr: "warning: certificate 1 of 1: CN=dp-sig"},
		{name: "expired", issued: time.Now().AddDate(-2, 0, 0), code: 1, stderr: "error: certificate 1 of 1: CN=dp-sig"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if _, err := pki.Generate(dir, pki.Options{SigAlg: "ES384", Now: func() time.Time { return tt.issued }}); err != nil {
				t.Fatal(err)
			}
			code, out, errOut := ofpdp(t, nil, "pki", "inspect", filepath.Join(dir, "dp-sig.crt"))
			if code != tt.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tt.code, errOut)
			}
			if !strings.Contains(out, "subject:") {
				t.Errorf("the report is printed whatever the dates:\n%s", out)
			}
			if tt.noStderr && errOut != "" || !strings.Contains(errOut, tt.stderr) {
				t.Errorf("stderr %q, want %q", errOut, tt.stderr)
			}
		})
	}
}

// serveFixture writes a PKI, a server secret and a valid YAML configuration.
func serveFixture(t *testing.T) (configPath string) {
	t.Helper()
	dir := t.TempDir()
	res, err := pki.Generate(filepath.Join(dir, "pki"), pki.Options{SigAlg: "ES384"})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "server.secret"), bytes.Repeat([]byte{0xa5}, 32), 0o600); err != nil {
		t.Fatal(err)
	}
	mtls, _ := res.Cert("paynet-mtls")
	p := func(name string) string { return filepath.Join(dir, "pki", name) }
	yaml := `dp_id: DP9876543210
environment: development # the demo connector and the PayNet simulator on localhost
database:
  url: ` + filepath.Join(dir, "ofpdp.db") + `
tls: {cert_file: ` + p("dp-server.crt") + `, key_file: ` + p("dp-server.key") + `}
paynet:
  ca_file: ` + p("ca.crt") + `
  jwks_file: ` + p("paynet.jwks.json") + `
  client_cert_fingerprints: [` + mtls.Fingerprint + `]
  issuer: paynet
keys:
  signing_key_file: ` + p("dp-sig.key") + `
  signing_cert_file: ` + p("dp-sig.crt") + `
  mtls_cert_file: ` + p("dp-mtls.crt") + `
  mtls_key_file: ` + p("dp-mtls.key") + `
secrets:
  server_secret_file: ` + filepath.Join(dir, "server.secret") + `
authorize:
  redirect_uri_allowlist: [https://localhost:8445/v1/callback]
`
	configPath = filepath.Join(dir, "ofpdp.yaml")
	if err := os.WriteFile(configPath, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return configPath
}

func TestServeCheckConfig(t *testing.T) {
	path := serveFixture(t)
	openKey := filepath.Join(filepath.Dir(path), "pki", "dp-sig-open.key")
	key, err := os.ReadFile(filepath.Join(filepath.Dir(path), "pki", "dp-sig.key"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(openKey, key, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(openKey, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		env    map[string]string
		args   []string
		code   int
		stdout string
		stderr []string
	}{
		{name: "valid file", args: []string{"--config", path, "--check-config"}, code: 0, stdout: "configuration OK\n"},
		{name: "file from OFPDP_CONFIG", env: map[string]string{"OFPDP_CONFIG": path}, args: []string{"--check-config"}, code: 0, stdout: "configuration OK\n"},
		{name: "env breaks it", env: map[string]string{"OFPDP_API_ADDR": "abc", "OFPDP_BANK_TIMEOUT": "5s"}, args: []string{"--config", path, "--check-config"}, code: 1,
			stderr: []string{`OFPDP_API_ADDR (api.addr): "abc" is not a host:port address; example: ":8443"`, `OFPDP_BANK_TIMEOUT (bank.timeout): "5s" must be below`}},
		{name: "unparsable env", env: map[string]string{"OFPDP_API_READ_TIMEOUT": "ten"}, args: []string{"--config", path, "--check-config"}, code: 1,
			stderr: []string{`OFPDP_API_READ_TIMEOUT (api.read_timeout): "ten" is not a duration`}},
		{name: "migrate flag checked", args: []string{"--config", path, "--migrate", "sometimes", "--check-config"}, code: 1,
			stderr: []string{`(database.migrate): "sometimes" is not one of auto, check, off`}},
		{name: "missing file", args: []string{"--config", path + ".missing", "--check-config"}, code: 1, stderr: []string{"no such file"}},
		{name: "production refuses the development shortcuts", env: map[string]string{"OFPDP_ENVIRONMENT": "production"}, args: []string{"--config", path, "--check-config"}, code: 1,
			stderr: []string{`OFPDP_BANK_CONNECTOR (bank.connector): "demo" is the demo connector`, `OFPDP_PAYNET_CONSENT_BASE_URL (paynet.consent_base_url): "https://localhost:8445" points at this machine`}},
		{name: "key readable by others", env: map[string]string{"OFPDP_KEYS_SIGNING_KEY_FILE": openKey}, args: []string{"--config", path, "--check-config"}, code: 1,
			stderr: []string{`OFPDP_KEYS_SIGNING_KEY_FILE (keys.signing_key_file): "` + openKey + `" is accessible by group or others (mode 0644); it holds a private key, secret or token: run chmod 600 ` + openKey}},
		{name: "defaults without pki/ in the working directory", args: []string{"--check-config"}, code: 1,
			stderr: []string{`OFPDP_TLS_CERT_FILE (tls.cert_file): "pki/dp-server.crt" does not exist`, "OFPDP_SECRETS_SERVER_SECRET_FILE (secrets.server_secret_file): must be set"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			code, out, errOut := ofpdp(t, tt.env, append([]string{"serve"}, tt.args...)...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstderr: %s", code, tt.code, errOut)
			}
			if out != tt.stdout {
				t.Errorf("stdout %q, want %q", out, tt.stdout)
			}
			for _, want := range tt.stderr {
				if !strings.Contains(errOut, want) {
					t.Errorf("stderr lacks %q:\n%s", want, errOut)
				}
			}
		})
	}
}

func TestServeRunsTheServer(t *testing.T) {
	saved := runServe
	t.Cleanup(func() { runServe = saved })
	path := serveFixture(t)

	var got *config.Config
	runServe = func(_ context.Context, cfg *config.Config) error { got = cfg; return nil }
	if code, _, errOut := ofpdp(t, map[string]string{"OFPDP_DP_ID": "DP5555555555"}, "serve", "--config", path); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if got == nil || got.DPID != "DP5555555555" {
		t.Errorf("runServe got %+v, want the validated configuration with the env override", got)
	}

	runServe = func(context.Context, *config.Config) error {
		return errors.New("listen tcp :8443: address already in use")
	}
	if code, _, errOut := ofpdp(t, nil, "serve", "--config", path); code != 1 || !strings.Contains(errOut, "address already in use") {
		t.Errorf("exit %d, stderr %q; want 1 and the error", code, errOut)
	}

	called := false
	runServe = func(context.Context, *config.Config) error { called = true; return nil }
	if code, _, _ := ofpdp(t, map[string]string{"OFPDP_API_ADDR": "abc"}, "serve", "--config", path); code != 1 || called {
		t.Errorf("an invalid configuration reached the server (exit %d, called %v)", code, called)
	}
}
