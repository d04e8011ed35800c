//go:build !pkcs11 || !cgo

package sandbox

import (
	"errors"
	"time"
)

// hsmKeys answers --hsm in a build without PKCS#11.
func hsmKeys(string, string, time.Time) (*hsmConfig, error) {
	return nil, errors.New("sandbox: --hsm needs a build with PKCS#11 support: make build-hsm (build tag pkcs11, cgo, and the Debian package softhsm2)")
}
