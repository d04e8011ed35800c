// Package config loads and validates the ofpdp configuration: one typed
// Config built from struct-tag defaults, an optional YAML or JSON file and
// OFPDP_* environment variables (environment wins), checked by Validate,
// which reports every problem at once with the variable, the key, the value
// and an example.
//
// It carries the decisions of design §1–§3 and §8 (listeners, PayNet
// endpoints and keys, the development PKI file layout) and the limits of spec
// §4.1–§4.2 (mTLS material, JWKS cached ≤ 15 min) and §7.1 (PayNet's 5 s
// deadline, 200 requests per minute per DC).
//
// docs/configuration.md is generated from the struct tags; regenerate it with
// `go generate ./internal/config` (or `go test ./internal/config -update`).
package config

//go:generate go test -run TestConfigurationDoc -update .
