//go:build pkcs11 && cgo

package softhsm

import (
	"errors"
	"os"
	"testing"
)

// NewForTest is New in t.TempDir(). Without SoftHSM2 the test is skipped with the reason,
// except under CI=true, where the PKCS#11 tests must run and the test fails. It sets
// SOFTHSM2_CONF with t.Setenv, so the test must not be parallel.
func NewForTest(t testing.TB, label string) *Token {
	t.Helper()
	if _, err := Find(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%v, but CI=true: the PKCS#11 tests must run in CI", err)
		}
		t.Skipf("%v: PKCS#11 test skipped", err)
	}
	t.Setenv("SOFTHSM2_CONF", "") // restored after the test; New sets it
	tok, err := New(t.TempDir(), label)
	if errors.Is(err, ErrMissing) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
