package conformance

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"

	"github.com/ofpdp/ofpdp/internal/ofp/sim"
)

// LocalSimOptions start the PayNet simulator inside the runner, for a DP that is not the
// sandbox's (`ofpdp conformance` with explicit flags): the DP must be configured to PATCH and to
// fetch keys at Listen, trusting Target.PKIDir's CA and paynet-mtls.
type LocalSimOptions struct {
	Target Target
	// Listen is host:port of the simulator's mTLS listener (PayNet's consent API and JWKS).
	Listen string
	// IDTokenIssuer, when set, is the iss the DP's id_tokens must carry.
	IDTokenIssuer string
	Logger        *slog.Logger
}

// LocalSim is a running in-process simulator.
type LocalSim struct {
	// Client is its JSON API, for Options.Sim.
	Client *sim.Client
	addr   string
	cancel context.CancelFunc
	done   chan error
}

// StartLocalSim starts the simulator: mTLS on o.Listen, its JSON API on a free loopback port.
func StartLocalSim(o LocalSimOptions) (*LocalSim, error) {
	t := o.Target
	if o.Listen == "" {
		return nil, fmt.Errorf("%w: the simulator needs a listen address (--paynet-listen)", ErrOptions)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	mtlsLn, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return nil, fmt.Errorf("conformance: PayNet simulator: %w", err)
	}
	publicLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = mtlsLn.Close()
		return nil, fmt.Errorf("conformance: PayNet simulator: %w", err)
	}
	public := "http://" + publicLn.Addr().String()
	s, err := sim.New(sim.Options{PKIDir: t.PKIDir, DPID: t.DPID, DCID: t.DCID, DCName: t.DCName,
		DPAPIURL: t.APIURL, DPWebURL: t.WebURL, PublicURL: public, PayNetIssuer: t.PayNetIssuer,
		IDTokenIssuer: o.IDTokenIssuer, Logger: o.Logger})
	if err != nil {
		_ = mtlsLn.Close()
		_ = publicLn.Close()
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	l := &LocalSim{Client: &sim.Client{BaseURL: public}, addr: mtlsLn.Addr().String(), cancel: cancel, done: make(chan error, 1)}
	go func() { l.done <- s.Serve(ctx, mtlsLn, publicLn) }()
	return l, nil
}

// Addr is the address of the simulator's mTLS listener.
func (l *LocalSim) Addr() string { return l.addr }

// Close stops the simulator and waits for it.
func (l *LocalSim) Close() error {
	l.cancel()
	err := <-l.done
	l.done <- err
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
