package httpbank_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ofpdp/ofpdp/connector"
	"github.com/ofpdp/ofpdp/internal/bank/demo"
	"github.com/ofpdp/ofpdp/internal/bank/httpbank"
)

// BenchmarkConnector measures the http connector's overhead over the in-process one
// (docs/performance.md): the same demo bank called directly, and through Client → loopback
// HTTP with keep-alive → Handler. The difference per call is the overhead (target ≤ 0.3 ms).
func BenchmarkConnector(b *testing.B) {
	bank, err := demo.Embedded(demo.Options{})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(httpbank.NewHandler(bank, ""))
	defer srv.Close()
	client, err := httpbank.New(httpbank.Options{BaseURL: srv.URL})
	if err != nil {
		b.Fatal(err)
	}
	defer client.Close()
	q := connector.TransactionQuery{AccountRef: "A1001", From: time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC),
		To: time.Date(2026, 10, 31, 0, 0, 0, 0, time.UTC), Limit: 50}
	for _, c := range []struct {
		name string
		conn connector.Connector
	}{{"in-process", bank}, {"http", client}} {
		b.Run("balance/"+c.name, func(b *testing.B) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			for b.Loop() {
				if _, err := c.conn.Balance(ctx, "A1001"); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("transactions50/"+c.name, func(b *testing.B) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			for b.Loop() {
				if _, err := c.conn.Transactions(ctx, q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
