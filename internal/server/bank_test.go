package server

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	"github.com/ofpdp/ofpdp/connector"
	"github.com/ofpdp/ofpdp/internal/bank/demo"
	"github.com/ofpdp/ofpdp/internal/bank/httpbank"
	"github.com/ofpdp/ofpdp/internal/config"
	"github.com/ofpdp/ofpdp/internal/obs"
)

// openBank builds the configured connector: the built-in demo and http ones, and a Go connector
// the build registered (connector.Register, docs/connector.md §7) — whose failure to open is
// reported under bank.connector.
func TestOpenBank(t *testing.T) {
	want, err := demo.Embedded(demo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	connector.Register("server-test-bank", func(context.Context, *slog.Logger) (connector.Connector, error) { return want, nil })
	connector.Register("server-test-down", func(context.Context, *slog.Logger) (connector.Connector, error) {
		return nil, errors.New("core unreachable")
	})
	logger := slog.New(slog.DiscardHandler)
	cfg := &config.Config{}
	cfg.Bank.Connector = "server-test-bank"
	if got, err := openBank(t.Context(), cfg, logger, obs.NewMetrics()); err != nil || got != connector.Connector(want) {
		t.Errorf("registered: %v %T", err, got)
	}
	cfg.Bank.Connector = "server-test-down"
	if _, err := openBank(t.Context(), cfg, logger, obs.NewMetrics()); err == nil || err.Error() != `bank.connector "server-test-down": core unreachable` {
		t.Errorf("failing Opener: %v", err)
	}
	cfg.Bank.Connector, cfg.Bank.HTTPBaseURL = "http", "https://corebank.internal/ofpdp"
	if got, err := openBank(t.Context(), cfg, logger, obs.NewMetrics()); err != nil {
		t.Errorf("http: %v", err)
	} else if _, ok := got.(*httpbank.Client); !ok {
		t.Errorf("http: %T", got)
	}
	cfg.Bank.Connector = "nope"
	if _, err := openBank(t.Context(), cfg, logger, obs.NewMetrics()); err == nil {
		t.Error("unknown connector opened")
	}
}
