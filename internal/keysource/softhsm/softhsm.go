//go:build pkcs11 && cgo

package softhsm

import (
	"crypto"
	"crypto/elliptic"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/ThalesGroup/crypto11"
)

// ModulePaths are where Debian and other distributions install the SoftHSM2 PKCS#11 module.
var ModulePaths = []string{
	"/usr/lib/softhsm/libsofthsm2.so",
	"/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
	"/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
	"/usr/local/lib/softhsm/libsofthsm2.so",
}

// ErrMissing is returned when softhsm2-util or the module is not installed.
var ErrMissing = errors.New("softhsm: SoftHSM2 is not installed (Debian: apt-get install softhsm2)")

// Token is an initialised SoftHSM2 token.
type Token struct {
	Dir     string // holds softhsm2.conf, tokens/ and the PIN file
	Conf    string // the SOFTHSM2_CONF file
	Module  string // the PKCS#11 module
	Label   string // the token label
	PINFile string // the user PIN, mode 0600
	pin     string
}

// Find returns the SoftHSM2 module path, or ErrMissing.
func Find() (string, error) {
	if _, err := exec.LookPath("softhsm2-util"); err != nil {
		return "", ErrMissing
	}
	for _, p := range ModulePaths {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", ErrMissing
}

// New writes dir/softhsm2.conf (token directory dir/tokens), sets SOFTHSM2_CONF to it for this
// process, and initialises a token labelled label with a random user PIN written to
// dir/user.pin. Every PKCS#11 context on the module must be closed when New is called, so
// that the module reads the new configuration.
func New(dir, label string) (*Token, error) {
	module, err := Find()
	if err != nil {
		return nil, err
	}
	t := &Token{Dir: dir, Conf: filepath.Join(dir, "softhsm2.conf"), Module: module, Label: label, PINFile: filepath.Join(dir, "user.pin")}
	tokens := filepath.Join(dir, "tokens")
	if err := os.MkdirAll(tokens, 0o700); err != nil {
		return nil, fmt.Errorf("softhsm: %w", err)
	}
	conf := "directories.tokendir = " + tokens + "\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n"
	if err := os.WriteFile(t.Conf, []byte(conf), 0o600); err != nil {
		return nil, fmt.Errorf("softhsm: %w", err)
	}
	if err := os.Setenv("SOFTHSM2_CONF", t.Conf); err != nil {
		return nil, fmt.Errorf("softhsm: %w", err)
	}
	t.pin = randomPIN()
	if err := os.WriteFile(t.PINFile, []byte(t.pin+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("softhsm: %w", err)
	}
	cmd := exec.Command("softhsm2-util", "--init-token", "--free", "--label", label, "--pin", t.pin, "--so-pin", randomPIN())
	cmd.Env = append(os.Environ(), "SOFTHSM2_CONF="+t.Conf)
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("softhsm: init token: %v: %s", err, strings.TrimSpace(string(out)))
	}
	return t, nil
}

// Open reopens a token New made in dir: it points SOFTHSM2_CONF at dir/softhsm2.conf again.
func Open(dir, label string) (*Token, error) {
	module, err := Find()
	if err != nil {
		return nil, err
	}
	t := &Token{Dir: dir, Conf: filepath.Join(dir, "softhsm2.conf"), Module: module, Label: label, PINFile: filepath.Join(dir, "user.pin")}
	pin, err := os.ReadFile(t.PINFile)
	if err != nil {
		return nil, fmt.Errorf("softhsm: %w", err)
	}
	t.pin = strings.TrimSpace(string(pin))
	if _, err := os.Stat(t.Conf); err != nil {
		return nil, fmt.Errorf("softhsm: %w", err)
	}
	if err := os.Setenv("SOFTHSM2_CONF", t.Conf); err != nil {
		return nil, fmt.Errorf("softhsm: %w", err)
	}
	return t, nil
}

// Key types GenerateKey makes: the JWS profile's PS256 (RSA-2048) and ES384 (P-384), ES512 (P-521).
const (
	RSA2048 = "rsa2048"
	P384    = "p384"
	P521    = "p521"
)

// GenerateKey generates a key pair labelled label (CKA_LABEL, and CKA_ID = label) in the
// token and returns its public key.
func (t *Token) GenerateKey(label, kind string) (crypto.PublicKey, error) {
	c, err := crypto11.Configure(&crypto11.Config{Path: t.Module, TokenLabel: t.Label, Pin: t.pin})
	if err != nil {
		return nil, fmt.Errorf("softhsm: %w", err)
	}
	defer c.Close()
	var s crypto11.Signer
	switch kind {
	case RSA2048:
		s, err = c.GenerateRSAKeyPairWithLabel([]byte(label), []byte(label), 2048)
	case P384:
		s, err = c.GenerateECDSAKeyPairWithLabel([]byte(label), []byte(label), elliptic.P384())
	case P521:
		s, err = c.GenerateECDSAKeyPairWithLabel([]byte(label), []byte(label), elliptic.P521())
	default:
		return nil, fmt.Errorf("softhsm: key type %q (want %s, %s or %s)", kind, RSA2048, P384, P521)
	}
	if err != nil {
		return nil, fmt.Errorf("softhsm: generate %s: %w", label, err)
	}
	return s.Public(), nil
}

// ImportKey imports the PKCS#8 PEM private key in path into the token under label (CKA_LABEL,
// and CKA_ID = label) and returns its public key.
func (t *Token) ImportKey(path, label string) (crypto.PublicKey, error) {
	cmd := exec.Command("softhsm2-util", "--import", path, "--token", t.Label, "--label", label,
		"--id", hex.EncodeToString([]byte(label)), "--pin", t.pin)
	cmd.Env = append(os.Environ(), "SOFTHSM2_CONF="+t.Conf)
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("softhsm: import %s: %v: %s", label, err, strings.TrimSpace(string(out)))
	}
	c, err := crypto11.Configure(&crypto11.Config{Path: t.Module, TokenLabel: t.Label, Pin: t.pin})
	if err != nil {
		return nil, fmt.Errorf("softhsm: %w", err)
	}
	defer c.Close()
	s, err := c.FindKeyPair(nil, []byte(label))
	if err != nil || s == nil {
		return nil, fmt.Errorf("softhsm: imported key %s not found as a key pair: %v", label, err)
	}
	return s.Public(), nil
}

// URI is the RFC 7512 URI of the key labelled label, with the PIN file and module.
func (t *Token) URI(label string) string {
	return "pkcs11:token=" + esc(t.Label) + ";object=" + esc(label) + "?pin-source=" + esc(t.PINFile) + "&module-path=" + esc(t.Module)
}

// esc percent-encodes a URI attribute value (RFC 7512 §2.3).
func esc(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }
