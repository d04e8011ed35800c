package sandbox

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/ofpdp/ofpdp/internal/keysource"
	"github.com/ofpdp/ofpdp/internal/pki"
)

// Directories of Options.HSM, beside the PKI.
const (
	// HSMSubdir holds the SoftHSM2 configuration, token and user PIN.
	HSMSubdir = "hsm"
	// HSMPKISubdir is the PKI of an HSM sandbox: its dp-sig and dp-mtls keys are in the token,
	// so it is kept apart from the file-key PKI of PKISubdir.
	HSMPKISubdir  = "pki-hsm"
	hsmTokenLabel = "ofpdp-sandbox"
)

// hsmConfig is where the DP finds its keys in an HSM sandbox.
type hsmConfig struct {
	module              string
	signingKey, mtlsKey string // pkcs11: URIs
}

// pkiNames are the files ensurePKI expects: all of design §8, but an HSM sandbox whose token
// exists has no dp-sig.key.
func pkiNames(dir string, hsm bool) []string {
	names := pki.FileNames()
	if !hsm {
		return names
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(dir), HSMSubdir, "softhsm2.conf")); err != nil {
		return names
	}
	return slices.DeleteFunc(names, func(n string) bool { return n == "dp-sig.key" })
}

// publishDPKeys writes the DP JWKS that the simulator and the conformance runner verify the
// DP's signatures with (pkiDir/dp.jwks.json): with a key ring, its active and next keys — what a
// bank hands to PayNet during a rotation; without, dp-sig as `ofpdp pki init` wrote it.
func publishDPKeys(ringFile, pkiDir string) error {
	if ringFile == "" {
		if err := pki.RestoreJWKS(pkiDir); err != nil {
			return fmt.Errorf("%w: %w", ErrPKI, err)
		}
		return nil
	}
	ks, err := keysource.PublishedJWKS(ringFile)
	if err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	raw, err := ks.JSON()
	if err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	if err := os.WriteFile(filepath.Join(pkiDir, "dp.jwks.json"), append(raw, '\n'), 0o644); err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	return nil
}
