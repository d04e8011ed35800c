// Package softhsm creates a private SoftHSM2 token (https://github.com/opendnssec/SoftHSMv2,
// Debian package softhsm2) in a directory of its own and generates signing keys in it, so that
// the tests and `ofpdp sandbox --hsm` run ofpdp's PKCS#11 paths (internal/keysource) against a
// real PKCS#11 module. It points SOFTHSM2_CONF at its own configuration file and never reads
// or changes the system-wide one. Built only with the pkcs11 build tag.
package softhsm
