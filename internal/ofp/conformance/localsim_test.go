package conformance

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/ofpdp/ofpdp/internal/mtls"
	"github.com/ofpdp/ofpdp/internal/pki"
)

func TestLocalSim(t *testing.T) {
	dir := t.TempDir()
	if _, err := pki.Generate(dir, pki.Options{}); err != nil {
		t.Fatal(err)
	}
	target := Target{APIURL: "https://127.0.0.1:1", WebURL: "https://127.0.0.1:2", PKIDir: dir, DPID: "DP0000000001",
		DCID: "DC0000000001", DCName: "Kira", PayNetIssuer: "paynet"}
	if _, err := StartLocalSim(LocalSimOptions{Target: target}); !errors.Is(err, ErrOptions) {
		t.Errorf("no listen address: %v", err)
	}
	l, err := StartLocalSim(LocalSimOptions{Target: target, Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	info, err := l.Client.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.DPID != target.DPID || info.DCName != "Kira" || info.DPAPIURL != target.APIURL {
		t.Errorf("info %+v", info)
	}
	// The mTLS listener is PayNet's: a TLS server on Addr.
	roots, err := mtls.LoadCAPool(filepath.Join(dir, "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", l.Addr(), &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatalf("mTLS listener: %v", err)
	}
	_ = c.Close()
	if err := l.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if c, err := net.DialTimeout("tcp", l.Addr(), time.Second); err == nil {
		_ = c.Close()
		t.Error("mTLS listener still open after Close")
	}
	if _, err := StartLocalSim(LocalSimOptions{Target: target, Listen: "256.0.0.1:1"}); err == nil {
		t.Error("bad listen address accepted")
	}
}
