//go:build pkcs11 && cgo

package sandbox

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/ofpdp/ofpdp/internal/keysource/softhsm"
	"github.com/ofpdp/ofpdp/internal/pki"
)

// hsmKeys puts the DP's signing and mTLS client keys (dp-sig, dp-mtls) into a SoftHSM2 token
// in dir/hsm, made the first time: dp-sig is generated in the token, the development CA in
// pkiDir certifies it (dp-sig.crt, dp.jwks.json) and dp-sig.key, which no longer matches, is
// removed; dp-mtls is imported. Later starts reopen the token.
func hsmKeys(dir, pkiDir string, now time.Time) (*hsmConfig, error) {
	tokDir := filepath.Join(dir, HSMSubdir)
	tok, err := softhsm.Open(tokDir, hsmTokenLabel)
	if _, statErr := os.Stat(filepath.Join(pkiDir, "dp-sig.key")); err == nil && statErr == nil {
		// A PKI generated after the token: its certificates are for file keys. Start over.
		err = fs.ErrNotExist
	}
	if errors.Is(err, fs.ErrNotExist) {
		tok, err = newHSMToken(tokDir, pkiDir, now)
	}
	if err != nil {
		return nil, fmt.Errorf("sandbox: --hsm: %w", err)
	}
	return &hsmConfig{module: tok.Module, signingKey: tok.URI("dp-sig"), mtlsKey: tok.URI("dp-mtls")}, nil
}

func newHSMToken(tokDir, pkiDir string, now time.Time) (*softhsm.Token, error) {
	if err := os.RemoveAll(tokDir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(tokDir, 0o700); err != nil {
		return nil, err
	}
	tok, err := softhsm.New(tokDir, hsmTokenLabel)
	if err != nil {
		return nil, err
	}
	// dp-sig is made in the token and never exists anywhere else. It is a P-384 key (ES384)
	// while dp-mtls is RSA-2048, so that the sandbox exercises both key types in the token.
	pub, err := tok.GenerateKey("dp-sig", softhsm.P384)
	if err != nil {
		return nil, err
	}
	if _, err := pki.Reissue(pkiDir, "dp-sig", pub, nil, now); err != nil {
		return nil, err
	}
	// dp-mtls is imported: the conformance runner also presents dp-mtls.crt/.key to the DP's
	// api listener as "a certificate of the same CA that is not PayNet's" (row T2-cert), so
	// the file stays; the DP itself uses the token's copy.
	if _, err := tok.ImportKey(filepath.Join(pkiDir, "dp-mtls.key"), "dp-mtls"); err != nil {
		return nil, err
	}
	return tok, nil
}
