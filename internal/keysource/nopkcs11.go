//go:build !pkcs11 || !cgo

package keysource

import "fmt"

// PKCS11Built reports whether this binary can open pkcs11: keys (build tag pkcs11 with cgo).
const PKCS11Built = false

func openPKCS11(u *PKCS11URI, _ Options) (Key, error) {
	return nil, fmt.Errorf("%w: %s: this ofpdp was built without PKCS#11 support; build it with `make build-hsm` (build tag pkcs11, cgo)", ErrUnavailable, u)
}
