package server_test

// Upgrades without downtime (docs/deploy.md, upgrades): serve's migrate modes, readiness at or
// above the binary's minimum schema, a rolling upgrade on one PostgreSQL, and the drain at
// shutdown.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/uuid"
	"github.com/pressly/goose/v3"

	"github.com/ofpdp/ofpdp/internal/config"
	"github.com/ofpdp/ofpdp/internal/server"
	"github.com/ofpdp/ofpdp/internal/store"
	"github.com/ofpdp/ofpdp/internal/storetest"
)

// TestMigrateModes: check refuses an unmigrated database naming the fix; off starts but stays
// unready until `ofpdp migrate up` has run, then turns ready without a restart; check accepts
// the migrated schema.
func TestMigrateModes(t *testing.T) {
	for _, eng := range storetest.Engines() {
		t.Run(eng.Name, func(t *testing.T) {
			in := newInstall(t, eng, false)
			cfg := in.config(t)
			cfg.Database.Migrate = config.MigrateCheck
			_, err := server.New(context.Background(), cfg, server.Deps{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if !errors.Is(err, store.ErrSchemaTooOld) || !strings.Contains(err.Error(), "ofpdp migrate up") {
				t.Fatalf("check on an empty database: %v, want ErrSchemaTooOld naming ofpdp migrate up", err)
			}

			cfg = in.config(t)
			cfg.Database.Migrate = config.MigrateOff
			r := startConfigUnready(t, cfg)
			status, body, err := get("http://"+r.opsAddr+"/readyz", nil)
			if err != nil || status != http.StatusServiceUnavailable || !strings.Contains(string(body), `"migrations":"failed"`) {
				t.Fatalf("readyz before migrating: %d %s %v, want 503 with migrations failed", status, body, err)
			}
			st, err := store.Open(context.Background(), in.dbURL, store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := st.Migrate(context.Background()); err != nil {
				t.Fatal(err)
			}
			st.Close()
			waitReady(t, r.opsAddr, 10*time.Second, nil)

			cfg = in.config(t)
			cfg.Database.Migrate = config.MigrateCheck
			startConfig(t, cfg)
		})
	}
}

// startConfigUnready is startConfig without waiting for readiness.
func startConfigUnready(t testing.TB, cfg *config.Config) *running {
	t.Helper()
	srv, err := server.New(context.Background(), cfg, server.Deps{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	ls := server.Listeners{API: listen(t), Web: listen(t), Ops: listen(t)}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{srv: srv, apiAddr: ls.API.Addr().String(), webAddr: ls.Web.Addr().String(),
		opsAddr: ls.Ops.Addr().String(), cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- srv.Run(ctx, ls) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(20 * time.Second):
			t.Error("server did not stop")
		}
	})
	return r
}

// futureMigration is an expand step a newer release might ship: it only adds.
const futureMigration = `-- +goose Up
CREATE TABLE rolling_upgrade_probe (id BIGINT PRIMARY KEY, note TEXT NOT NULL DEFAULT '');
ALTER TABLE consents ADD COLUMN rolling_upgrade_note TEXT;
-- +goose Down
ALTER TABLE consents DROP COLUMN rolling_upgrade_note;
DROP TABLE rolling_upgrade_probe;
`

// TestRollingUpgrade: two servers on one PostgreSQL database, in check mode (no DDL at start),
// serve PayNet's events and readiness probes while a newer release's migration runs; both stay
// ready and no request fails.
func TestRollingUpgrade(t *testing.T) {
	in := newInstall(t, storetest.Engine{Name: storetest.Postgres, URL: storetest.PostgresSchemaURL}, false)
	ctx := context.Background()
	st, err := store.Open(ctx, in.dbURL, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	_, latest, err := st.MigrationStatus(ctx)
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	var replicas []*running
	for range 2 {
		cfg := in.config(t)
		cfg.Database.Migrate = config.MigrateCheck
		replicas = append(replicas, startConfig(t, cfg))
	}

	var (
		stop     atomic.Bool
		wg       sync.WaitGroup
		requests atomic.Int64
		mu       sync.Mutex
		failures []string
	)
	fail := func(format string, a ...any) {
		mu.Lock()
		defer mu.Unlock()
		failures = append(failures, fmt.Sprintf(format, a...))
	}
	for i, r := range replicas {
		wg.Add(2)
		go func() { // PayNet's events
			defer wg.Done()
			for !stop.Load() {
				created := time.Now().Add(-time.Minute)
				body, err := buildEvent("consent_created", uuid.NewString(), "awaiting_authorization", created, created)
				if err != nil {
					fail("event: %v", err)
					return
				}
				status, b, err := in.postEvent(ctx, in.client, r.apiAddr, body)
				requests.Add(1)
				if err != nil || status != http.StatusOK {
					fail("replica %d event: %d %s %v", i, status, b, err)
				}
			}
		}()
		go func() { // the load balancer's readiness probe
			defer wg.Done()
			for !stop.Load() {
				status, b, err := get("http://"+r.opsAddr+"/readyz", nil)
				requests.Add(1)
				if err != nil || status != http.StatusOK {
					fail("replica %d readyz: %d %s %v", i, status, b, err)
				}
				time.Sleep(10 * time.Millisecond)
			}
		}()
	}

	time.Sleep(300 * time.Millisecond)
	applyFutureMigration(t, in.dbURL, latest+1000)
	time.Sleep(300 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	if len(failures) > 0 {
		t.Fatalf("%d of %d requests failed during the migration, first: %s", len(failures), requests.Load(), failures[0])
	}
	if requests.Load() < 10 {
		t.Fatalf("only %d requests during the migration", requests.Load())
	}
	st, err = store.Open(ctx, in.dbURL, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if cur, _, err := st.MigrationStatus(ctx); err != nil || cur != latest+1000 {
		t.Fatalf("schema at %d (%v), want the newer release's %d", cur, err, latest+1000)
	}
}

// applyFutureMigration migrates the database as a newer release's `ofpdp migrate up` would:
// goose with the migrations this binary embeds plus one more, at version v.
func applyFutureMigration(t *testing.T, dbURL string, v int64) {
	t.Helper()
	files := fstest.MapFS{}
	dir := "../store/migrations"
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(dir + "/" + e.Name())
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = &fstest.MapFile{Data: b}
	}
	files[fmt.Sprintf("%05d_future.sql", v)] = &fstest.MapFile{Data: []byte(futureMigration)}
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, db, fs.FS(files))
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Up(context.Background())
	if err != nil || len(res) != 1 {
		t.Fatalf("future migration: %v %v", res, err)
	}
}

// TestShutdownDrains: after the context ends, /readyz answers 503 for shutdown.drain_delay while
// the api listener still serves, and only then does Run return.
func TestShutdownDrains(t *testing.T) {
	in := newInstall(t, storetest.Engines()[0], false)
	cfg := in.config(t)
	cfg.Shutdown.DrainDelay = 700 * time.Millisecond
	r := startConfig(t, cfg)
	began := time.Now()
	r.cancel()
	deadline := began.Add(cfg.Shutdown.DrainDelay / 2)
	var sawDraining bool
	for time.Now().Before(deadline) {
		status, body, err := get("http://"+r.opsAddr+"/readyz", nil)
		if err != nil {
			t.Fatalf("ops listener closed during the drain: %v", err)
		}
		sawDraining = sawDraining || (status == http.StatusServiceUnavailable && strings.Contains(string(body), "draining"))
		time.Sleep(20 * time.Millisecond)
	}
	created := time.Now().Add(-time.Minute)
	in.mustPostEvent(t, r.apiAddr, eventBody(t, "consent_created", uuid.NewString(), "awaiting_authorization", created, created))
	if !sawDraining {
		t.Error("/readyz did not answer 503 draining during the drain delay")
	}
	if err := r.stop(t); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(began); took < cfg.Shutdown.DrainDelay {
		t.Errorf("Run returned after %s, before the %s drain delay", took, cfg.Shutdown.DrainDelay)
	}
}
