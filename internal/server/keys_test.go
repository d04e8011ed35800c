package server_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ofpdp/ofpdp/internal/storetest"
)

// TestServerReloadsTheSigningKeyRing: with keys.signing_keys_file the running server picks up
// a changed ring without restart; a ring that does not load fails /readyz (signing_key) while
// the keys in use stay, and a good one makes it ready again.
func TestServerReloadsTheSigningKeyRing(t *testing.T) {
	for _, eng := range storetest.Engines() {
		t.Run(eng.Name, func(t *testing.T) {
			in := newInstall(t, eng, false)
			p := func(name string) string { return filepath.Join(in.pkiDir, name) }
			ring := filepath.Join(in.dir, "signing-keys.yaml")
			writeRing := func(states ...string) {
				t.Helper()
				var b strings.Builder
				b.WriteString("keys:\n")
				for i, name := range []string{"dp-sig", "dc-sig"} {
					fmt.Fprintf(&b, "- {key: %s, cert: %s, state: %s}\n", p(name+".key"), p(name+".crt"), states[i])
				}
				writeFile(t, ring, []byte(b.String()), 0o600)
			}
			writeRing("active", "next")
			var cfg map[string]any
			raw, _ := os.ReadFile(in.cfgPath)
			if err := json.Unmarshal(raw, &cfg); err != nil {
				t.Fatal(err)
			}
			keys := cfg["keys"].(map[string]any)
			keys["signing_keys_file"], keys["reload_interval"] = ring, "1s"
			raw, _ = json.Marshal(cfg)
			writeFile(t, in.cfgPath, raw, 0o600)
			r := in.start(t)

			readyz := func() (int, string) {
				code, body, err := get("http://"+r.opsAddr+"/readyz", nil)
				if err != nil {
					t.Fatal(err)
				}
				return code, string(body)
			}
			waitFor := func(what string, ok func(int, string) bool) {
				t.Helper()
				deadline := time.Now().Add(10 * time.Second)
				for {
					code, body := readyz()
					if ok(code, body) {
						return
					}
					if time.Now().After(deadline) {
						t.Fatalf("%s: /readyz still %d %s", what, code, body)
					}
					time.Sleep(100 * time.Millisecond)
				}
			}
			writeRing("active", "active")
			waitFor("two active keys", func(code int, body string) bool {
				return code == 503 && strings.Contains(body, `"signing_key":"failed"`)
			})
			writeRing("next", "active")
			waitFor("promotion", func(code int, body string) bool { return code == 200 })
		})
	}
}
