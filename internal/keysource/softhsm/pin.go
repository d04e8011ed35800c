//go:build pkcs11 && cgo

package softhsm

import (
	"crypto/rand"
	"encoding/hex"
)

func randomPIN() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
