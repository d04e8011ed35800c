// Package sandbox runs `ofpdp sandbox` (design.md §1, §8; docs/sandbox.md): a whole Open Finance
// setup on the loopback interface in one process — the DP (api, web and ops listeners of
// design.md §2, internal/server) with an embedded SQLite database and the demo bank anchored at
// today, the PayNet OFP simulator (internal/ofp/sim) and the mock data consumer (internal/ofp/mockdc).
//
// Start creates the development PKI of design.md §8 in DIR/pki when it is missing and reuses it
// otherwise, keeps a server secret in DIR/server.secret (0600), opens every listener (fixed
// default ports, or free ones), configures the DP to trust the simulator as PayNet (its client
// certificate fingerprint, its signing keys fetched over HTTP from the simulator's JWKS endpoint,
// its callback as the only redirect_uri) and writes DIR/sandbox.json: the URLs, the PKI directory,
// the ids and the demo logins, which `ofpdp conformance --sandbox` and the browser tests read.
//
// The customer-facing web listener is plain HTTP on loopback by default, so that a browser that
// does not trust the sandbox CA shows no certificate warning; config web.insecure_http is allowed
// only because Config.Sandbox is set, and every page is labelled as a sandbox. Options.WebTLS
// serves it over HTTPS with dp-server.crt instead.
package sandbox
