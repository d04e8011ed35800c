// Package doctor is the pre-go-live check a bank runs on its production host (`ofpdp doctor`,
// docs/deploy.md): the configuration and its files, the certificates' chains and expiry
// (design §8), the signing key against the JWKS handed to PayNet (spec §4.1), the clock against
// PayNet's (spec §4.2: PayNet refuses an iat more than 5 minutes off), DNS, TLS and mutual TLS
// to PayNet's JWKS and consent endpoints (spec §3.2), the database and its schema (design §5),
// and the core-bank connector. Each result names the fix.
package doctor
