package sandbox

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/ofpdp/ofpdp/connector"
	"github.com/ofpdp/ofpdp/internal/bank/demo"
	"github.com/ofpdp/ofpdp/internal/bank/httpbank"
	"github.com/ofpdp/ofpdp/internal/config"
	"github.com/ofpdp/ofpdp/internal/mtls"
)

// Connectors the sandbox DP can use (--connector).
const (
	// ConnectorHTTP: the DP uses bank.connector: http against the mock core bank (or --bank-url),
	// the path a bank deploys (design.md §6). The default.
	ConnectorHTTP = "http"
	// ConnectorDemo: the demo bank in process.
	ConnectorDemo = "demo"
)

// DefaultCoreBankPort is the mock core bank's port (Ports.CoreBank).
const DefaultCoreBankPort = 8448

// coreBank is where the sandbox DP's core bank is.
type coreBank struct {
	inProcess connector.Connector // --connector demo
	demo      connector.Connector // the demo bank, in process or behind the mock core bank; nil with --bank-url
	ln        net.Listener        // the mock core bank's listener; nil when not served here
	handler   http.Handler
	url       string // bank.http_base_url
	caFile    string // bank.http_ca_file
	mutualTLS bool   // the DP presents dp-mtls.crt (the mock core bank requires it)
}

// openCoreBank decides the sandbox DP's core bank: the demo bank in process (Connector demo),
// an external adapter (BankURL), or by default the mock core bank — the demo bank behind
// docs/connector-openapi.yaml on its own HTTPS listener with mutual TLS from the sandbox PKI.
func openCoreBank(o Options, pkiDir string) (*coreBank, error) {
	switch o.Connector {
	case "", ConnectorHTTP:
	case ConnectorDemo:
		if o.BankURL != "" {
			return nil, errors.New("sandbox: --bank-url needs the http connector, not --connector demo")
		}
	default:
		return nil, fmt.Errorf("sandbox: connector %q is not one of http, demo", o.Connector)
	}
	if o.BankURL != "" {
		return &coreBank{url: o.BankURL, caFile: o.BankCA}, nil
	}
	bank, err := demo.Embedded(demo.Options{Anchor: o.Now()})
	if err != nil {
		return nil, fmt.Errorf("sandbox: demo bank: %w", err)
	}
	if o.Connector == ConnectorDemo {
		return &coreBank{inProcess: bank, demo: bank}, nil
	}
	p := func(name string) string { return filepath.Join(pkiDir, name) }
	cert, err := tls.LoadX509KeyPair(p("dp-server.crt"), p("dp-server.key"))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrPKI, err)
	}
	roots, err := mtls.LoadCAPool(p("ca.crt"))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrPKI, err)
	}
	ln, err := listenExtra(o, o.Ports.CoreBank, DefaultCoreBankPort, "the mock core bank", "--core-bank-port")
	if err != nil {
		return nil, err
	}
	return &coreBank{demo: bank, ln: tls.NewListener(ln, mtls.ServerConfig(cert, roots)), handler: httpbank.NewHandler(bank, ""),
		url: "https://" + ln.Addr().String(), caFile: p("ca.crt"), mutualTLS: true}, nil
}

// configure sets the DP's bank.* keys for this core bank.
func (b *coreBank) configure(cfg *config.Config, pkiDir string) {
	if b.inProcess != nil {
		cfg.Bank.Connector = ConnectorDemo
		return
	}
	cfg.Bank.Connector = ConnectorHTTP
	cfg.Bank.HTTPBaseURL, cfg.Bank.HTTPCAFile = b.url, b.caFile
	if b.mutualTLS {
		cfg.Bank.HTTPCertFile = filepath.Join(pkiDir, "dp-mtls.crt")
		cfg.Bank.HTTPKeyFile = filepath.Join(pkiDir, "dp-mtls.key")
	}
}

// serveOn runs the mock core bank on ln until ctx ends.
func (b *coreBank) serveOn(ctx context.Context, ln net.Listener) error {
	return serveHTTP(ctx, ln, b.handler)
}

// serveHTTP serves h on ln until ctx ends, then shuts down within 5 seconds.
func serveHTTP(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 90 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func (b *coreBank) close() {
	if b != nil && b.ln != nil {
		_ = b.ln.Close()
	}
}
