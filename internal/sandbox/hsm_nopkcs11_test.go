//go:build !pkcs11 || !cgo

package sandbox

import (
	"context"
	"strings"
	"testing"
)

// TestHSMNeedsPKCS11Build: --hsm in the default build says how to get a build that can.
func TestHSMNeedsPKCS11Build(t *testing.T) {
	_, err := Start(context.Background(), Options{Dir: t.TempDir(), Ephemeral: true, HSM: true})
	if err == nil || !strings.Contains(err.Error(), "make build-hsm") {
		t.Fatalf("err %v", err)
	}
}
