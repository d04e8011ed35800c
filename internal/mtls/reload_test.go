package mtls

import (
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestReloaded: a changed file is loaded again; a version that fails to load is refused and
// the previous one kept; an unchanged file is not read again.
func TestReloaded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "material")
	write := func(s string, mod time.Time) {
		t.Helper()
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, mod, mod); err != nil {
			t.Fatal(err)
		}
	}
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	write("v1", t0)
	loads, loaded := 0, []string{}
	r, err := NewReloaded("material", []string{path}, func() (string, error) {
		loads++
		b, err := os.ReadFile(path)
		if strings.HasPrefix(string(b), "bad") {
			return "", errors.New("unparsable")
		}
		return string(b), err
	}, func(v string) { loaded = append(loaded, v) }, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name    string
		content string
		mod     time.Time
		changed bool
		want    string
	}{
		{"unchanged", "", time.Time{}, false, "v1"},
		{"new version", "v2", t0.Add(time.Second), true, "v2"},
		{"bad version kept out", "bad", t0.Add(2 * time.Second), false, "v2"},
		{"fixed", "v3", t0.Add(3 * time.Second), true, "v3"},
	}
	for _, s := range steps {
		if s.content != "" {
			write(s.content, s.mod)
		}
		if got := r.Check(); got != s.changed || r.Get() != s.want {
			t.Errorf("%s: Check() = %v, Get() = %q; want %v, %q", s.name, got, r.Get(), s.changed, s.want)
		}
	}
	if loads != 4 || strings.Join(loaded, ",") != "v1,v2,v3" {
		t.Errorf("%d loads, onLoad saw %v; want 4 loads and v1,v2,v3", loads, loaded)
	}
}
