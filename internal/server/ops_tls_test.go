package server_test

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/ofpdp/ofpdp/internal/server"
	"github.com/ofpdp/ofpdp/internal/storetest"
)

// With ops.tls_cert_file set, the ops listener serves HTTPS only (so that it may leave loopback
// while the admin API is on, design §2): health over TLS answers, plain HTTP does not.
func TestOpsListenerTLS(t *testing.T) {
	in := newInstall(t, storetest.Engine{Name: storetest.SQLite, URL: storetest.SQLiteURL}, false)
	cfg := in.config(t)
	cfg.Ops.TLSCertFile, cfg.Ops.TLSKeyFile = filepath.Join(in.pkiDir, "dp-server.crt"), filepath.Join(in.pkiDir, "dp-server.key")
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(context.Background(), cfg, server.Deps{Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ls := server.Listeners{API: listen(t), Web: listen(t), Ops: listen(t)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx, ls) }()
	t.Cleanup(func() { cancel(); <-done })

	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: in.caPool, ServerName: "localhost"}}}
	url := "https://" + ls.Ops.Addr().String() + "/healthz"
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("healthz over TLS: %d", resp.StatusCode)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("healthz over TLS: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if status, body, err := get("http://"+ls.Ops.Addr().String()+"/healthz", nil); err == nil && status == http.StatusOK {
		t.Fatalf("plain HTTP answered on the TLS ops listener: %d %s", status, body)
	}
}
