package connector

import (
	"context"
	"log/slog"
	"slices"
	"testing"
)

func TestRegister(t *testing.T) {
	open := func(context.Context, *slog.Logger) (Connector, error) { return nil, nil }
	Register("corebank-test", open)
	if _, ok := Lookup("corebank-test"); !ok || !slices.Contains(Registered(), "corebank-test") {
		t.Fatal("registered connector not found")
	}
	for _, tc := range []struct {
		name string
		open Opener
	}{{"corebank-test", open}, {"demo", open}, {"http", open}, {"Core Bank", open}, {"", open}, {"other", nil}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Register(%q) did not panic", tc.name)
				}
			}()
			Register(tc.name, tc.open)
		}()
	}
}
