package storetest

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// Engine names match store.EngineSQLite and store.EnginePostgres.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// Engine gives a test a fresh, empty database of one engine.
type Engine struct {
	Name string
	// URL returns the database URL for the test, skipping it when the engine is unavailable.
	URL func(t testing.TB) string
}

// Engines are SQLite (always) and PostgreSQL (when OFPDP_TEST_POSTGRES_URL is set; required
// when CI=true).
func Engines() []Engine {
	return []Engine{{Name: SQLite, URL: SQLiteURL}, {Name: Postgres, URL: PostgresSchemaURL}}
}

// SQLiteURL is a database file in the test's temporary directory.
func SQLiteURL(t testing.TB) string { return filepath.Join(t.TempDir(), "ofpdp.db") }

// PostgresBaseURL returns OFPDP_TEST_POSTGRES_URL. When it is unset the test is skipped with a
// clear reason, except under CI=true, where the PostgreSQL variant must run and the test fails.
func PostgresBaseURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("OFPDP_TEST_POSTGRES_URL")
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("OFPDP_TEST_POSTGRES_URL not set but CI=true: the PostgreSQL variant must run in CI")
		}
		t.Skip("OFPDP_TEST_POSTGRES_URL not set: PostgreSQL variant skipped")
	}
	return base
}

// PostgresSchemaURL creates a uniquely named schema in OFPDP_TEST_POSTGRES_URL's database,
// drops it when the test ends, and returns the URL with search_path set to it, so tests never
// see each other's rows.
func PostgresSchemaURL(t testing.TB) string {
	t.Helper()
	return SchemaURL(t, PostgresBaseURL(t))
}

// SchemaURL is PostgresSchemaURL for an explicit base URL.
func SchemaURL(t testing.TB, base string) string {
	t.Helper()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	schema := "ofpdp_test_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		admin.Close()
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
