package config

import (
	"crypto/x509"
	"os"
	"strings"
	"time"

	"github.com/ofpdp/ofpdp/internal/jose"
	"github.com/ofpdp/ofpdp/internal/keysource"
)

// Bounds of keys.reload_interval and keys.pkcs11_sessions.
const (
	MinKeysReloadInterval = time.Second
	MaxKeysReloadInterval = time.Hour
	MaxPKCS11Sessions     = 1024
)

// filePath is the path of a file: key URI (or of a plain path); "" for other schemes.
func filePath(uri string) string {
	loc, err := keysource.Parse(uri)
	if err != nil || loc.Scheme != keysource.SchemeFile {
		return ""
	}
	return loc.Path
}

// keySources checks the key source settings and reports whether the signing key is
// configured some other way than one PEM file (a ring, an HSM, a KMS), in which case it has
// also checked it. Keys in an HSM or KMS are not opened here: the server opens them at start
// and /readyz keeps checking them; here the URI, the build's PKCS#11 support, the PIN file and
// the certificates are checked.
func (v *validator) keySources() bool {
	k := &v.c.Keys
	if v.positive("keys.reload_interval", k.ReloadInterval, MaxKeysReloadInterval) && k.ReloadInterval < MinKeysReloadInterval {
		v.bad("keys.reload_interval", "must be at least "+formatDuration(MinKeysReloadInterval))
	}
	v.between("keys.pkcs11_sessions", int64(k.PKCS11Sessions), 2, MaxPKCS11Sessions)
	if k.SigningKeysFile != "" {
		v.signingRing()
		return true
	}
	if k.SigningKey == "" || filePath(k.SigningKey) != "" {
		return false
	}
	if v.keyURI("keys.signing_key", k.SigningKey) && v.file("keys.signing_cert_file", k.SigningCertFile) {
		v.certificate("keys.signing_cert_file", k.SigningCertFile, 0)
	}
	return true
}

// keyURI checks a key URI that is not a file: that it parses, that this build can open it,
// and that its PIN file is private. It reports whether the URI is usable.
func (v *validator) keyURI(key, uri string) bool {
	loc, err := keysource.Parse(uri)
	if err != nil {
		v.failf(key, uri, true, ErrInvalidValue, "%v", err)
		return false
	}
	switch loc.Scheme {
	case keysource.SchemeFile:
		return v.privateFile(key, loc.Path)
	case keysource.SchemePKCS11:
		if !keysource.PKCS11Built {
			v.failf(key, uri, true, ErrInvalidValue, "this ofpdp was built without PKCS#11 support; build it with make build-hsm (build tag pkcs11, cgo)")
			return false
		}
		if loc.PKCS11.ModulePath == "" && v.c.Keys.PKCS11Module == "" {
			v.failf(key, uri, true, ErrRequired, "names no module-path and keys.pkcs11_module is not set")
			return false
		}
		ok := v.privateFile(key, loc.PKCS11.PINSource)
		module := loc.PKCS11.ModulePath
		if module == "" {
			module = v.c.Keys.PKCS11Module
		}
		if _, err := os.Stat(module); err != nil {
			v.failf(key, uri, true, ErrFile, "PKCS#11 module %s: %v", module, unwrapPath(err))
			return false
		}
		return ok
	}
	return true
}

// certificate checks a PEM certificate file: it parses, is within its validity, and has the
// extended key usage (0: any).
func (v *validator) certificate(key, file string, usage x509.ExtKeyUsage) {
	b, err := os.ReadFile(file)
	if err != nil {
		v.failf(key, file, true, ErrFile, "%v", unwrapPath(err))
		return
	}
	certs, err := jose.ParseCertificatesPEM(b)
	if err != nil {
		v.failf(key, file, true, ErrFile, "%v", err)
		return
	}
	if usage != 0 && len(certs[0].ExtKeyUsage) > 0 && !hasUsage(certs[0].ExtKeyUsage, usage) {
		v.failf(key, file, true, ErrFile, "certificate lacks the clientAuth extended key usage")
	}
	v.validity(key, file, certs[0])
}

// signingRing checks keys.signing_keys_file and every key and certificate it names.
func (v *validator) signingRing() {
	file := v.c.Keys.SigningKeysFile
	if !v.file("keys.signing_keys_file", file) {
		return
	}
	b, err := os.ReadFile(file)
	if err != nil {
		v.failf("keys.signing_keys_file", file, true, ErrFile, "%v", unwrapPath(err))
		return
	}
	entries, err := keysource.ParseRing(b)
	if err != nil {
		v.failf("keys.signing_keys_file", file, true, ErrInvalidValue, "%s", strings.TrimPrefix(err.Error(), keysource.ErrRing.Error()+": "))
		return
	}
	for _, e := range entries {
		if e.State == keysource.StateRetired {
			continue
		}
		if v.keyURI("keys.signing_keys_file", e.Key) && v.file("keys.signing_keys_file", e.Cert) {
			v.certificate("keys.signing_keys_file", e.Cert, 0)
		}
	}
}

// mtlsKey checks the mTLS client certificate and its key (a file, or a key URI).
func (v *validator) mtlsKey() {
	k := &v.c.Keys
	if k.MTLSKey == "" || filePath(k.MTLSKey) != "" {
		keyKey, keyFile := "keys.mtls_key_file", k.MTLSKeyFile
		if k.MTLSKey != "" {
			keyKey, keyFile = "keys.mtls_key", filePath(k.MTLSKey)
		}
		v.keyPair("keys.mtls_cert_file", keyKey, k.MTLSCertFile, keyFile, x509.ExtKeyUsageClientAuth)
		return
	}
	if v.keyURI("keys.mtls_key", k.MTLSKey) && v.file("keys.mtls_cert_file", k.MTLSCertFile) {
		v.certificate("keys.mtls_cert_file", k.MTLSCertFile, x509.ExtKeyUsageClientAuth)
	}
}
