// Package keysource opens the DP's private keys wherever the bank keeps them and hands them
// out as crypto.Signer (design.md §8 dp-sig, dp-mtls; spec paynet-dp.md §4.1, §4.2):
//
//   - file:PATH (or a plain path): a PEM private key file, as written by `ofpdp pki init`;
//   - pkcs11:… : a key in a hardware security module, named by an RFC 7512 PKCS#11 URI and
//     reached through github.com/ThalesGroup/crypto11 (build tag pkcs11, cgo: `make build-hsm`);
//   - awskms:… : a key in AWS Key Management Service, signed with the KMS Sign API
//     (https://docs.aws.amazon.com/kms/latest/APIReference/API_Sign.html) over HTTPS with
//     Signature Version 4.
//
// It also holds the DP's signing key ring (Ring): several signing keys, each active, next or
// retired, reloaded from a file without restart, so that a rotation publishes the next key
// before it signs (docs/operations.md, "Rotating the signing key").
package keysource
