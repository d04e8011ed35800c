package config

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/configuration.md from the struct tags")

const docPath = "../../docs/configuration.md"

// exampleYAML is shown in the generated documentation; TestExampleFileLoads
// keeps it valid.
const exampleYAML = `dp_id: DP9876543210
environment: production
log:
  level: info
database:
  url: postgres://ofpdp@db.internal:5432/ofpdp?sslmode=verify-full
api:
  addr: ":8443"
  trusted_proxies: []
web:
  public_url: https://openfinance.bank.example
ops:
  addr: 127.0.0.1:9090
  admin_token_file: /etc/ofpdp/admin.token
tls:
  cert_file: /etc/ofpdp/pki/dp-server.crt
  key_file: /etc/ofpdp/pki/dp-server.key
paynet:
  ca_file: /etc/ofpdp/pki/paynet-ca.crt
  client_cert_fingerprints:
    - 3f1c6b0a9d2e4f5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c
  issuer: paynet
  jwks_url: https://ofp.paynet.example/v1/jwks
  consent_base_url: https://ofp.paynet.example
  dc_jwks_url_template: https://ofp.paynet.example/v1/jwks/{dc_id}
keys:
  signing_key_file: /etc/ofpdp/pki/dp-sig.key
  signing_cert_file: /etc/ofpdp/pki/dp-sig.crt
  mtls_cert_file: /etc/ofpdp/pki/dp-mtls.crt
  mtls_key_file: /etc/ofpdp/pki/dp-mtls.key
secrets:
  server_secret_file: /etc/ofpdp/server.secret
authorize:
  redirect_uri_allowlist:
    - https://ofp.paynet.example/v1/callback
id_token:
  issuer: https://openfinance.bank.example
bank:
  connector: demo # demo (environment: development only) or http (the bank's adapter, docs/connector.md)
  timeout: 4s
  max_in_flight: 64
branding:
  bank_name: Example Bank Berhad
  primary_color: "#0b5394"
dcs:
  - id: dc-550e8400-e29b-41d4-a716-446655440002
    name: Budget Buddy
    logo_url: https://budgetbuddy.example/logo.png
`

// markdown renders docs/configuration.md from the struct tags.
func markdown() []byte {
	var b bytes.Buffer
	b.WriteString(`# Configuration

<!-- Generated from the struct tags of internal/config by ` + "`go generate ./internal/config`" + `. DO NOT EDIT. -->

ofpdp reads its configuration in three layers, each overriding the one before:

1. the defaults below;
2. an optional file given with ` + "`--config FILE`" + ` (or the ` + "`OFPDP_CONFIG`" + ` variable): YAML for ` + "`.yaml`/`.yml`" + `,
   JSON for ` + "`.json`" + `, with the nested keys below (` + "`api.addr`" + ` is ` + "`addr`" + ` inside ` + "`api`" + `); an unknown key is an error;
3. ` + "`OFPDP_*`" + ` environment variables (the environment wins).

Durations use Go syntax (` + "`15m`, `4s`, `500ms`" + `). In the environment, lists are comma-separated and an
empty variable counts as set. Relative file paths are resolved against the working directory. The defaults
point into ` + "`pki/`" + `, the layout ` + "`ofpdp pki init`" + ` writes (design §8).

Check a configuration without starting anything:

` + "```" + `
ofpdp serve --config ofpdp.yaml --check-config
` + "```" + `

It prints ` + "`configuration OK`" + ` or every problem, one per line, naming the variable, the key, the value and an example.
The sandbox switch is set only by ` + "`ofpdp sandbox`" + `: it allows http URLs and ` + "`web.insecure_http`" + ` and makes
` + "`secrets.server_secret_file`" + `, ` + "`authorize.redirect_uri_allowlist`" + `, ` + "`paynet.issuer`" + ` and the PayNet client-certificate allow-list optional.

` + "`environment`" + ` is ` + "`production`" + ` unless set to ` + "`development`" + ` (the sandbox sets it). Only a development deployment
accepts the demo connector, PayNet URLs on localhost and the default ` + "`dp_id`" + `. In every environment a private key,
secret or token file (` + "`tls.key_file`, `ops.tls_key_file`, `keys.signing_key_file`, `keys.mtls_key_file`, `secrets.server_secret_file`, `ops.admin_token_file`" + `)
that the group or others may read is refused with the ` + "`chmod 600`" + ` to run, and while the admin API is on, ` + "`ops.addr`" + ` must
be a loopback address unless ` + "`ops.tls_cert_file`" + ` and ` + "`ops.tls_key_file`" + ` are set.
`)
	section := "\x00"
	for _, f := range fields {
		if f.Section != section {
			section = f.Section
			switch {
			case section != "":
				fmt.Fprintf(&b, "\n## `%s`\n\n%s\n\n", section, f.SectionDoc)
			case f.Env != "":
				b.WriteString("\n## Top level\n\n")
			}
			if f.Env != "" {
				b.WriteString("| Key | Environment | Type | Default | Meaning |\n|---|---|---|---|---|\n")
			}
		}
		if f.Env == "" {
			fmt.Fprintf(&b, "\n## `%s`\n\n%s Type: %s. Only in the file:\n\n```yaml\n%s```\n", f.Key, f.Doc, f.Type, exampleDCs())
			continue
		}
		def := "—"
		if f.Default != "" {
			def = "`" + f.Default + "`"
		}
		doc := f.Doc
		if f.Example != "" {
			doc += " Example: `" + f.Example + "`."
		}
		fmt.Fprintf(&b, "| `%s` | `%s` | %s | %s | %s |\n", f.Key, f.Env, f.Type, def, strings.ReplaceAll(doc, "|", `\|`))
	}
	b.WriteString("\n## Example file\n\n```yaml\n" + exampleYAML + "```\n")
	return b.Bytes()
}

func exampleDCs() string {
	_, after, _ := strings.Cut(exampleYAML, "\ndcs:\n")
	return "dcs:\n" + after
}

// TestConfigurationDoc fails when docs/configuration.md is not what the
// struct tags say; -update rewrites it.
func TestConfigurationDoc(t *testing.T) {
	want := markdown()
	if *update {
		if err := os.MkdirAll(filepath.Dir(docPath), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(docPath, want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatalf("%v (run: go test ./internal/config -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is out of date with the struct tags of Config; run: go test ./internal/config -update", docPath)
	}
}

func TestDocListsEveryKey(t *testing.T) {
	doc := string(markdown())
	for _, f := range Fields() {
		if !strings.Contains(doc, "`"+f.Key+"`") {
			t.Errorf("documentation lacks %s", f.Key)
		}
		if f.Env != "" && !strings.Contains(doc, "`"+f.Env+"`") {
			t.Errorf("documentation lacks %s", f.Env)
		}
	}
}

func TestExampleFileLoads(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ofpdp.yaml")
	if err := os.WriteFile(path, []byte(exampleYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path, nil)
	if err != nil {
		t.Fatalf("the documented example does not load: %v", err)
	}
	if cfg.DPID != "DP9876543210" || len(cfg.DCs) != 1 || cfg.PayNet.Issuer != "paynet" {
		t.Errorf("example loaded as %+v", cfg)
	}
}
