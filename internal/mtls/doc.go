// Package mtls builds the TLS configurations of ofpdp's listeners and the PayNet client-certificate
// gate (design.md §2; spec paynet-dp.md §3.0, §4.1; negative-tests.md §5.1 T1, T2, T5–T8):
// TLS 1.2+ with only FAPI / BCP 195 cipher suites for TLS 1.2 (TLS 1.3 preferred), a client
// certificate required and chained to the PayNet CA bundle, then allow-listed by SHA-256
// fingerprint or subject. Behind a TLS-terminating proxy the certificate may come from a header,
// but only from configured proxy addresses.
package mtls
