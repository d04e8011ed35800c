//go:build !pkcs11 || !cgo

package keysource

import (
	"errors"
	"strings"
	"testing"
)

// TestPKCS11NotBuilt: the default static build answers a pkcs11: key with what to do.
func TestPKCS11NotBuilt(t *testing.T) {
	_, err := Open(t.Context(), "pkcs11:token=ofpdp;object=dp-sig?pin-source=/etc/ofpdp/pin", Options{PKCS11Module: "/usr/lib/softhsm/libsofthsm2.so"})
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "built without PKCS#11") || !strings.Contains(err.Error(), "make build-hsm") {
		t.Fatalf("err %v", err)
	}
}
