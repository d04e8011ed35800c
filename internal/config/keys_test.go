package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ofpdp/ofpdp/internal/keysource"
)

func TestValidateKeySources(t *testing.T) {
	dir, _ := pkiDir(t)
	p := func(name string) string { return filepath.Join(dir, "pki", name) }
	tmp := t.TempDir()
	write := func(name, content string, mode os.FileMode) string {
		path := filepath.Join(tmp, name)
		if err := os.WriteFile(path, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		return path
	}
	pin := write("hsm.pin", "1234\n", 0o600)
	openPIN := write("open.pin", "1234\n", 0o644)
	ring := func(body string) string { return write("ring.yaml", body, 0o600) }
	pkcs11 := "pkcs11:token=ofpdp;object=dp-sig?pin-source=" + pin
	for _, tc := range []struct {
		name string
		edit func(k *Keys)
		want string // "" = valid
	}{
		{"file URI", func(k *Keys) { k.SigningKey = "file:" + p("dp-sig.key"); k.SigningKeyFile = "" }, ""},
		{"file URI to another key", func(k *Keys) { k.SigningKey = "file:" + p("dc-sig.key") }, "cannot sign with keys.signing_cert_file"},
		{"mtls key URI", func(k *Keys) { k.MTLSKey = p("dp-mtls.key"); k.MTLSKeyFile = "" }, ""},
		{"unknown scheme", func(k *Keys) { k.SigningKey = "vault:transit/dp" }, `unknown scheme "vault"`},
		{"ring", func(k *Keys) {
			k.SigningKeysFile = ring("keys:\n- {key: " + p("dp-sig.key") + ", cert: " + p("dp-sig.crt") + ", state: active}\n- {key: " + p("dc-sig.key") + ", cert: " + p("dc-sig.crt") + ", state: next}\n")
		}, ""},
		{"ring without active", func(k *Keys) {
			k.SigningKeysFile = ring("keys:\n- {key: " + p("dp-sig.key") + ", cert: " + p("dp-sig.crt") + ", state: next}\n")
		}, "0 active keys"},
		{"ring naming a missing cert", func(k *Keys) {
			k.SigningKeysFile = ring("keys:\n- {key: " + p("dp-sig.key") + ", cert: " + p("nope.crt") + ", state: active}\n")
		}, "does not exist"},
		{"reload interval too short", func(k *Keys) { k.ReloadInterval = time.Millisecond }, "keys.reload_interval"},
		{"one PKCS#11 session", func(k *Keys) { k.PKCS11Sessions = 1 }, "keys.pkcs11_sessions"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := validConfig(t)
			tc.edit(&cfg.Keys)
			checkValidate(t, cfg, tc.want)
		})
	}

	t.Run("pkcs11", func(t *testing.T) {
		cfg := validConfig(t)
		cfg.Keys.SigningKey = pkcs11
		if !keysource.PKCS11Built {
			checkValidate(t, cfg, "built without PKCS#11 support; build it with make build-hsm")
			return
		}
		checkValidate(t, cfg, "no module-path and keys.pkcs11_module is not set")
		cfg.Keys.PKCS11Module = filepath.Join(tmp, "no-such-module.so")
		checkValidate(t, cfg, "no-such-module.so")
		cfg.Keys.SigningKey = strings.Replace(pkcs11, pin, openPIN, 1)
		checkValidate(t, cfg, "chmod 600")
	})
}

func checkValidate(t *testing.T, cfg *Config, want string) {
	t.Helper()
	err := cfg.Validate()
	if want == "" {
		if err != nil {
			t.Fatalf("refused:\n%v", err)
		}
		return
	}
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v, want %q", err, want)
	}
}
