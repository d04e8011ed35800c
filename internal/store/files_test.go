package store

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// The SQLite database and its -wal and -shm files hold consents, sessions and audit: they are
// created 0600 whatever the process umask, and an existing database file is narrowed to 0600.
// Not parallel: it changes the process umask.
func TestSQLiteFilesArePrivate(t *testing.T) {
	old := syscall.Umask(0)
	t.Cleanup(func() { syscall.Umask(old) })
	for _, tc := range []struct {
		name     string
		existing os.FileMode // 0: no file yet
		url      func(path string) string
	}{
		{"new file", 0, func(p string) string { return p }},
		{"new file: URI", 0, func(p string) string { return "file:" + p }},
		{"new sqlite: URL", 0, func(p string) string { return "sqlite:" + p }},
		{"existing 0644 file", 0o644, func(p string) string { return p }},
		{"existing empty 0666 file", 0o666, func(p string) string { return p }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "ofpdp.db")
			if tc.existing != 0 {
				if err := os.WriteFile(path, nil, tc.existing); err != nil {
					t.Fatal(err)
				}
			}
			clk := newClock()
			s := openURL(t, tc.url(path), clk)
			if err := s.Migrate(context.Background()); err != nil {
				t.Fatal(err)
			}
			if _, err := s.UseOnce(context.Background(), "files-test", clk.Now().Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
			for _, f := range []string{path, path + "-wal", path + "-shm"} {
				st, err := os.Stat(f)
				if err != nil {
					t.Fatalf("%s: %v", filepath.Base(f), err)
				}
				if got := st.Mode().Perm(); got != 0o600 {
					t.Errorf("%s has mode %04o, want 0600", filepath.Base(f), got)
				}
			}
			s.Close()
			var perm fs.FileMode
			if st, err := os.Stat(path); err == nil {
				perm = st.Mode().Perm()
			}
			if perm != 0o600 {
				t.Errorf("after Close the database has mode %04o", perm)
			}
		})
	}
}
