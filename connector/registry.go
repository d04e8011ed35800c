package connector

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"sync"
)

// Opener makes a registered connector when ofpdp starts with bank.connector set to its name. It
// reads its own settings (environment, files) and may check the core bank is reachable; logger is
// ofpdp's, for the connector's own logs (never customer data).
type Opener func(ctx context.Context, logger *slog.Logger) (Connector, error)

// BuiltIn are the connectors ofpdp ships (bank.connector: demo, http); they cannot be registered.
var BuiltIn = []string{"demo", "http"}

var (
	registryMu sync.RWMutex
	registry   = map[string]Opener{}
	nameRE     = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,31}$`)
)

// Register makes a Go connector available as bank.connector: name. Call it from main before
// cli.Main (docs/connector.md §7). It panics on a name that is not 1–32 of a-z 0-9 _ - starting
// with a letter, a built-in name, a second registration of the same name or a nil Opener: each is a
// programming error of the build.
func Register(name string, open Opener) {
	registryMu.Lock()
	defer registryMu.Unlock()
	switch {
	case !nameRE.MatchString(name):
		panic(fmt.Sprintf("connector: Register: invalid name %q", name))
	case slices.Contains(BuiltIn, name):
		panic(fmt.Sprintf("connector: Register: %q is a built-in connector", name))
	case registry[name] != nil:
		panic(fmt.Sprintf("connector: Register: %q registered twice", name))
	case open == nil:
		panic(fmt.Sprintf("connector: Register: nil Opener for %q", name))
	}
	registry[name] = open
}

// Lookup returns the Opener registered under name.
func Lookup(name string) (Opener, bool) {
	registryMu.RLock()
	defer registryMu.RUnlock()
	o, ok := registry[name]
	return o, ok
}

// Registered lists the registered names, sorted.
func Registered() []string {
	registryMu.RLock()
	defer registryMu.RUnlock()
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
