package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // driver "pgx"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	_ "modernc.org/sqlite" // driver "sqlite"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Engines Store.Engine reports.
const (
	EngineSQLite   = "sqlite"
	EnginePostgres = "postgres"
)

// Errors of the store.
var (
	// ErrNotFound: no such consent, session or account.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict: a compare-and-swap lost (the version moved) or the key already exists.
	ErrConflict = errors.New("store: conflict")
	// ErrInvalidArgument: the caller passed something the store refuses to write.
	ErrInvalidArgument = errors.New("store: invalid argument")
)

// Options are the dependencies of a Store.
type Options struct {
	// Now is the clock (expiry of replay rows, sessions, login attempts). Nil means time.Now.
	Now func() time.Time
	// Logger receives migration progress and store warnings. Nil discards.
	Logger *slog.Logger
	// MaxOpenConns bounds the connection pool. Zero means 8 for SQLite and 10 for PostgreSQL.
	MaxOpenConns int
}

// Store is ofpdp's persistence (design §5) over SQLite or PostgreSQL with one SQL dialect.
// It is safe for concurrent use, by several goroutines and, on PostgreSQL, by several replicas.
type Store struct {
	db     *sql.DB
	engine string
	now    func() time.Time
	log    *slog.Logger
}

// Open connects to the database named by rawURL without migrating it (see Migrate):
// a URL starting with postgres:// or postgresql:// opens PostgreSQL through pgx; anything else is
// a SQLite file, given as a path, "sqlite:PATH", "sqlite://PATH" or "file:PATH". SQLite runs with
// journal_mode=WAL, synchronous=FULL, busy_timeout=5000, foreign_keys=on, and every transaction
// begins IMMEDIATE so that writers are serialised.
func Open(ctx context.Context, rawURL string, opts Options) (*Store, error) {
	s := &Store{now: opts.Now, log: opts.Logger}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	var driver, dsn, sqliteFile string
	maxConns := opts.MaxOpenConns
	if strings.HasPrefix(rawURL, "postgres://") || strings.HasPrefix(rawURL, "postgresql://") {
		s.engine, driver, dsn = EnginePostgres, "pgx", rawURL
		if maxConns <= 0 {
			maxConns = 10
		}
	} else {
		var err error
		var file string
		if dsn, file, err = sqliteDSN(rawURL); err != nil {
			return nil, err
		}
		if err := privateFile(file); err != nil {
			return nil, err
		}
		sqliteFile = file
		s.engine, driver = EngineSQLite, "sqlite"
		if maxConns <= 0 {
			maxConns = 8
		}
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", s.engine, err)
	}
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: connect %s: %w", s.engine, err)
	}
	if sqliteFile != "" {
		// SQLite gives -wal and -shm the database file's mode; narrow them anyway, should
		// they predate this (an older ofpdp, a copy made by hand).
		for _, f := range []string{sqliteFile + "-wal", sqliteFile + "-shm"} {
			if err := os.Chmod(f, 0o600); err != nil && !errors.Is(err, fs.ErrNotExist) {
				db.Close()
				return nil, fmt.Errorf("store: %w", err)
			}
		}
	}
	s.db = db
	return s, nil
}

// privateFile creates the SQLite database file 0600 (umask cannot widen that) before SQLite
// opens it, or narrows an existing one to 0600: it holds consents, sessions and the audit trail.
func privateFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		return f.Close()
	}
	if !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("store: create SQLite database: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		return fmt.Errorf("store: SQLite database: %w", err)
	}
	return nil
}

// sqliteDSN turns a path or sqlite:/file: URL into a modernc.org/sqlite DSN with the pragmas of
// design §5, and returns the database file's path too.
func sqliteDSN(raw string) (dsn, file string, err error) {
	path, query := raw, ""
	switch {
	case strings.HasPrefix(raw, "sqlite://"):
		path = strings.TrimPrefix(raw, "sqlite://")
	case strings.HasPrefix(raw, "sqlite:"):
		path = strings.TrimPrefix(raw, "sqlite:")
	case strings.HasPrefix(raw, "file:"):
		path = strings.TrimPrefix(raw, "file:")
		path, query, _ = strings.Cut(path, "?")
	default:
		path = strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(raw)
	}
	if path == "" || path == ":memory:" || strings.Contains(query, "mode=memory") {
		return "", "", fmt.Errorf("%w: SQLite needs a database file (an in-memory database is per connection)", ErrInvalidArgument)
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return "", "", fmt.Errorf("%w: SQLite URL query: %v", ErrInvalidArgument, err)
	}
	if file, err = url.PathUnescape(path); err != nil {
		return "", "", fmt.Errorf("%w: SQLite path: %v", ErrInvalidArgument, err)
	}
	for _, k := range []string{"_pragma", "_txlock"} {
		q.Del(k)
	}
	q["_pragma"] = []string{"busy_timeout(5000)", "journal_mode(WAL)", "synchronous(FULL)", "foreign_keys(on)"}
	q.Set("_txlock", "immediate")
	return "file:" + path + "?" + q.Encode(), file, nil
}

// Engine is "sqlite" or "postgres".
func (s *Store) Engine() string { return s.engine }

// Ping checks that the database answers (readiness, design §2 ops listener).
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// Stats are the connection pool's statistics (metrics).
func (s *Store) Stats() sql.DBStats { return s.db.Stats() }

// Close closes the connection pool.
func (s *Store) Close() error { return s.db.Close() }

func (s *Store) provider() (*goose.Provider, error) {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	opts := []goose.ProviderOption{goose.WithSlog(s.log), goose.WithDisableGlobalRegistry(true)}
	dialect := goose.DialectSQLite3
	if s.engine == EnginePostgres {
		dialect = goose.DialectPostgres
		// Replicas starting at once take turns through a session advisory lock.
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300))
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	return goose.NewProvider(dialect, s.db, sub, opts...)
}

// MinSchemaVersion is the oldest schema this binary runs on: the last migration whose tables or
// columns its code reads or writes. Migrations follow expand/contract (docs/deploy.md,
// upgrades): a migration after it only adds what a newer binary uses, so this binary keeps
// working while a newer one migrates during a rolling upgrade, and it accepts any newer schema.
// A release raises it to its own migrations when its code needs them (the migration Job runs
// before its pods start); what no migration may do is drop or change what the previous release
// still uses.
const MinSchemaVersion = 20

// ErrSchemaTooOld: the database's schema is older than MinSchemaVersion.
var ErrSchemaTooOld = errors.New("store: schema older than this binary needs")

// CheckSchema reports ErrSchemaTooOld, with the versions and the fix, unless the schema is at
// MinSchemaVersion or newer.
func (s *Store) CheckSchema(ctx context.Context) error {
	current, _, err := s.MigrationStatus(ctx)
	if err != nil {
		return err
	}
	if current < MinSchemaVersion {
		return fmt.Errorf("%w: at version %d, this binary needs at least %d (run `ofpdp migrate up`)",
			ErrSchemaTooOld, current, MinSchemaVersion)
	}
	return nil
}

// Migrate applies the embedded migrations that are not applied yet. Running it again, or from
// several replicas at once (PostgreSQL advisory lock), is safe.
func (s *Store) Migrate(ctx context.Context) error {
	p, err := s.provider()
	if err != nil {
		return fmt.Errorf("store: migrations: %w", err)
	}
	res, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	for _, r := range res {
		s.log.Info("store migration applied", "version", r.Source.Version, "duration", r.Duration)
	}
	return nil
}

// MigrationStatus reports the schema version of the database and the latest embedded one;
// current < latest means Migrate has work to do (readiness). On a database never migrated it
// creates goose's empty version table and reports current = 0.
func (s *Store) MigrationStatus(ctx context.Context) (current, latest int64, err error) {
	p, err := s.provider()
	if err != nil {
		return 0, 0, fmt.Errorf("store: migrations: %w", err)
	}
	current, latest, err = p.GetVersions(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("store: migration status: %w", err)
	}
	return current, latest, nil
}

// inTx runs f in a transaction (BEGIN IMMEDIATE on SQLite) and commits when f succeeds.
func (s *Store) inTx(ctx context.Context, f func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	if err := f(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// Instants are stored as Unix nanoseconds (UTC); the zero time is stored as 0.
func ns(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNS(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
