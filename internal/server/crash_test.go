package server_test

// Process-level tests of `ofpdp serve` (design §5: "an event is acknowledged only after its
// transaction commits"): the binary is built, started on a sandbox-like installation, killed
// with SIGKILL in the middle of a stream of consent events, restarted, and every event that
// got 200 must be in the database. A second test checks the graceful shutdown on SIGTERM.

import (
	"bytes"
	"context"
	"errors"
	"github.com/ofpdp/ofpdp/internal/storetest"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/ofpdp/ofpdp/internal/store"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
	binOut  []byte
)

// ofpdpBinary builds cmd/ofpdp once per test binary (skipped under -short).
func ofpdpBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: skipping the process test (it builds the ofpdp binary and runs it as a child process)")
	}
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ofpdp-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "ofpdp")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/ofpdp")
		cmd.Dir = filepath.Join("..", "..")
		binOut, binErr = cmd.CombinedOutput()
	})
	if binErr != nil {
		t.Fatalf("go build ./cmd/ofpdp: %v\n%s", binErr, binOut)
	}
	return binPath
}

// TestMain removes the built binary after the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// child is one `ofpdp serve` process.
type child struct {
	cmd    *exec.Cmd
	stderr *bytes.Buffer // stdout and stderr, through out
	out    *lockedWriter
	done   chan struct{}
	err    error // Wait's result, once done is closed
}

// startChild runs `ofpdp serve --config F` and waits until /readyz answers 200.
func startChild(t *testing.T, bin string, in *install) *child {
	t.Helper()
	c := &child{stderr: &bytes.Buffer{}, done: make(chan struct{})}
	c.cmd = exec.Command(bin, "serve", "--config", in.cfgPath)
	c.cmd.Dir = in.dir
	// Only the configuration file configures the child: no OFPDP_* variable of the caller.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OFPDP_") {
			c.cmd.Env = append(c.cmd.Env, kv)
		}
	}
	c.out = &lockedWriter{w: c.stderr}
	c.cmd.Stdout, c.cmd.Stderr = c.out, c.out
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		c.err = c.cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() {
		select {
		case <-c.done:
		default:
			_ = c.cmd.Process.Kill()
			<-c.done
		}
		if t.Failed() {
			t.Logf("ofpdp serve output:\n%s", c.output())
		}
	})
	waitReady(t, in.opsAddr, 60*time.Second, func() error {
		select {
		case <-c.done:
			if c.err == nil {
				return errors.New("exit status 0")
			}
			return c.err
		default:
			return nil
		}
	})
	return c
}

func (c *child) output() string {
	c.out.mu.Lock()
	defer c.out.mu.Unlock()
	return c.stderr.String()
}

// wait waits for the process to exit and returns Wait's error.
func (c *child) wait(t *testing.T, timeout time.Duration) error {
	t.Helper()
	select {
	case <-c.done:
		return c.err
	case <-time.After(timeout):
		t.Fatalf("ofpdp serve did not exit within %s", timeout)
		return nil
	}
}

// lockedWriter serialises the child's stdout and stderr into one buffer.
type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// streamOutcome is what a stream of events produced.
type streamOutcome struct {
	mu        sync.Mutex
	acked     []string // consent ids answered 200 {}
	attempted []string // every consent id sent
	refused   int      // answered, but not 200 (must stay 0)
}

func (o *streamOutcome) ackedCount() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.acked)
}

// stream sends consent_created events for new consents from workers goroutines until ctx ends.
func (in *install) stream(ctx context.Context, workers int, out *streamOutcome) *sync.WaitGroup {
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				id := uuid.NewString()
				now := time.Now()
				body := eventBodyNoT(id, now)
				out.mu.Lock()
				out.attempted = append(out.attempted, id)
				out.mu.Unlock()
				status, b, err := in.postEvent(ctx, in.client, in.apiAddr, body)
				out.mu.Lock()
				switch {
				case err != nil:
				case status == http.StatusOK && string(b) == "{}":
					out.acked = append(out.acked, id)
				default:
					out.refused++
				}
				out.mu.Unlock()
				if err != nil {
					time.Sleep(5 * time.Millisecond) // the server is gone: do not spin
				}
			}
		}()
	}
	return &wg
}

// TestCrashAcknowledgedEventsAreStored: SIGKILL `ofpdp serve` while four PayNet clients stream
// consent_created events; after a restart (and a clean stop) every event that was answered
// 200 is in the database with its history row, and every consent is either fully stored or
// absent. For SQLite and PostgreSQL.
func TestCrashAcknowledgedEventsAreStored(t *testing.T) {
	bin := ofpdpBinary(t)
	for _, eng := range storetest.Engines() {
		t.Run(eng.Name, func(t *testing.T) {
			in := newInstall(t, eng, true)
			c := startChild(t, bin, in)

			out := &streamOutcome{}
			ctx, cancel := context.WithCancel(context.Background())
			wg := in.stream(ctx, 4, out)
			deadline := time.Now().Add(60 * time.Second)
			for out.ackedCount() < 60 {
				if time.Now().After(deadline) {
					cancel()
					wg.Wait()
					t.Fatalf("only %d events acknowledged in 60 s", out.ackedCount())
				}
				time.Sleep(5 * time.Millisecond)
			}
			// Mid-stream: requests are in flight on every worker.
			if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			err := c.wait(t, 10*time.Second)
			var exitErr *exec.ExitError
			if !errors.As(err, &exitErr) || exitErr.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
				t.Fatalf("child ended with %v, want killed by SIGKILL", err)
			}
			time.Sleep(100 * time.Millisecond) // the workers see the dead server
			cancel()
			wg.Wait()
			if out.refused != 0 {
				t.Fatalf("%d events were answered with something other than 200 {}", out.refused)
			}
			t.Logf("%s: %d events acknowledged of %d sent before SIGKILL", eng.Name, len(out.acked), len(out.attempted))

			// Restart on the same database: it must come up and keep serving.
			in.client.CloseIdleConnections()
			c = startChild(t, bin, in)
			in.mustPostEvent(t, in.apiAddr, createdEvent(t, uuid.NewString()))
			// A redelivery of an acknowledged event (fresh signature) is acknowledged again.
			redelivered := out.acked[0]
			rec := func() *store.ConsentRecord {
				st := openStore(t, in.dbURL)
				defer st.Close()
				r, err := st.GetConsent(context.Background(), redelivered)
				if err != nil {
					t.Fatalf("acknowledged consent %s: %v", redelivered, err)
				}
				return r
			}()
			in.mustPostEvent(t, in.apiAddr, eventBodyNoT(redelivered, rec.Consent.CreatedAt))
			if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			if err := c.wait(t, 30*time.Second); err != nil {
				t.Fatalf("ofpdp serve after SIGTERM: %v, want exit status 0", err)
			}

			st := openStore(t, in.dbURL)
			defer st.Close()
			ctx = context.Background()
			acked := map[string]bool{}
			for _, id := range out.acked {
				acked[id] = true
			}
			stored := 0
			for _, id := range out.attempted {
				rec, recErr := st.GetConsent(ctx, id)
				evs, evErr := st.ConsentEvents(ctx, id)
				switch {
				case recErr == nil && evErr == nil:
					stored++
					if rec.Consent.ConsentID != id || rec.Consent.Status != "awaiting_authorization" || evs[0].Action != "insert" {
						t.Errorf("consent %s stored as %+v with history %+v", id, rec.Consent, evs)
					}
				case errors.Is(recErr, store.ErrNotFound) && errors.Is(evErr, store.ErrNotFound):
					if acked[id] {
						t.Errorf("consent %s was acknowledged with 200 but is not stored", id)
					}
				default:
					t.Errorf("consent %s half stored: consent %v, history %v", id, recErr, evErr)
				}
			}
			if evs, err := st.ConsentEvents(ctx, redelivered); err != nil || len(evs) != 2 || evs[1].Action != "duplicate" {
				t.Errorf("redelivered consent history %+v %v, want insert then duplicate", evs, err)
			}
			t.Logf("%s: %d of %d sent consents stored (%d acknowledged)", eng.Name, stored, len(out.attempted), len(out.acked))
		})
	}
}

// TestGracefulShutdownOnSIGTERM: SIGTERM makes /readyz answer 503, an event request in flight
// completes with 200 (and is stored), then the process exits with status 0.
func TestGracefulShutdownOnSIGTERM(t *testing.T) {
	bin := ofpdpBinary(t)
	in := newInstall(t, storetest.Engines()[0], true)
	c := startChild(t, bin, in)
	id := uuid.NewString()
	slow := in.startSlowEvent(t, in.apiAddr, createdEvent(t, id))
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitDraining(t, in.opsAddr)
	select {
	case <-c.done:
		t.Fatalf("ofpdp serve exited (%v) with a request in flight", c.err)
	default:
	}
	res := slow.finish(t)
	if res.err != nil || res.status != http.StatusOK || res.body != "{}" {
		t.Fatalf("in-flight request: %+v, want 200 {}", res)
	}
	if err := c.wait(t, 30*time.Second); err != nil {
		t.Fatalf("ofpdp serve after SIGTERM: %v, want exit status 0", err)
	}
	st := openStore(t, in.dbURL)
	defer st.Close()
	if _, err := st.GetConsent(context.Background(), id); err != nil {
		t.Fatalf("the event acknowledged during shutdown is not stored: %v", err)
	}
}

// openStore opens the database a child used.
func openStore(t *testing.T, dbURL string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), dbURL, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// eventBodyNoT is eventBody for use off the test goroutine: a consent_created event.
func eventBodyNoT(consentID string, created time.Time) []byte {
	b, err := buildEvent("consent_created", consentID, "awaiting_authorization", created, created)
	if err != nil {
		panic(err)
	}
	return b
}
