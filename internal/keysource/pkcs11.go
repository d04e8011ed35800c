//go:build pkcs11 && cgo

package keysource

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/ThalesGroup/crypto11"
)

// PKCS11Built reports whether this binary can open pkcs11: keys (build tag pkcs11 with cgo).
const PKCS11Built = true

const (
	defaultPKCS11Sessions = 8
	// sessionWait bounds the wait for a free session: a signature never waits longer than
	// PayNet's 5 s answer time for a token whose sessions are all stuck (spec §7.1).
	sessionWait = 4 * time.Second
)

// hsmKey is a private key in a PKCS#11 token. crypto11 keeps a pool of logged-in sessions;
// when a signature fails (the token was removed, the HSM restarted and dropped the sessions,
// the network to a network HSM broke) the context is closed and opened again — a fresh
// C_Initialize, C_OpenSession and C_Login — and the signature is tried once more. While the
// token stays unreachable, Sign and Ready fail with ErrUnavailable; the next call after it
// returns reconnects.
type hsmKey struct {
	uri *PKCS11URI
	cfg crypto11.Config
	pub crypto.PublicKey // fixed at Open: a reconnect that finds another key is refused

	mu     sync.RWMutex
	ctx    *crypto11.Context // nil while disconnected
	signer crypto11.Signer
}

func openPKCS11(u *PKCS11URI, o Options) (Key, error) {
	module := u.ModulePath
	if module == "" {
		module = o.PKCS11Module
	}
	if module == "" {
		return nil, fmt.Errorf("keysource: %s: no PKCS#11 module (set keys.pkcs11_module or module-path in the URI)", u)
	}
	pin, err := readPIN(u.PINSource)
	if err != nil {
		return nil, err
	}
	sessions := o.PKCS11Sessions
	if sessions == 0 {
		sessions = defaultPKCS11Sessions
	}
	if sessions < 2 {
		return nil, fmt.Errorf("keysource: PKCS#11 session pool of %d, need at least 2", sessions)
	}
	k := &hsmKey{uri: u, cfg: crypto11.Config{Path: module, TokenLabel: u.Token, TokenSerial: u.Serial, Pin: pin,
		MaxSessions: sessions, PoolWaitTimeout: sessionWait}}
	if u.Token != "" && u.Serial != "" {
		k.cfg.TokenSerial = "" // crypto11 selects by one attribute; the label is checked below
	}
	if err := k.connect(); err != nil {
		return nil, err
	}
	k.pub = k.signer.Public()
	return k, nil
}

// connect opens the context and finds the key pair; the caller holds mu (or owns k).
func (k *hsmKey) connect() error {
	c, err := crypto11.Configure(&k.cfg)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrUnavailable, k.uri, err)
	}
	var id, label []byte
	if len(k.uri.ID) > 0 {
		id = k.uri.ID
	}
	if k.uri.Object != "" {
		label = []byte(k.uri.Object)
	}
	s, err := c.FindKeyPair(id, label)
	if err == nil && s == nil {
		err = errors.New("no such key pair (a private key and its public key with the same CKA_ID)")
	}
	if err != nil {
		_ = c.Close()
		return fmt.Errorf("%w: %s: %v", ErrUnavailable, k.uri, err)
	}
	if k.pub != nil && !sameKey(k.pub, s.Public()) {
		_ = c.Close()
		return fmt.Errorf("%w: %s: the token now holds a different key under that name", ErrUnavailable, k.uri)
	}
	k.ctx, k.signer = c, s
	return nil
}

// disconnect closes the context; the caller holds mu.
func (k *hsmKey) disconnect() {
	if k.ctx != nil {
		_ = k.ctx.Close()
	}
	k.ctx, k.signer = nil, nil
}

func (k *hsmKey) Public() crypto.PublicKey { return k.pub }

// Sign signs digest in the token (RSA-PSS or ECDSA as opts asks; crypto11 maps them to
// CKM_RSA_PKCS_PSS and CKM_ECDSA). A failed signature reconnects once and retries.
func (k *hsmKey) Sign(rand io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	k.mu.RLock()
	s := k.signer
	k.mu.RUnlock()
	if s != nil {
		sig, err := s.Sign(rand, digest, opts)
		if err == nil {
			return sig, nil
		}
	}
	s, err := k.reconnect(s)
	if err != nil {
		return nil, err
	}
	return s.Sign(rand, digest, opts)
}

// reconnect replaces the context unless another goroutine already replaced failed.
func (k *hsmKey) reconnect(failed crypto11.Signer) (crypto11.Signer, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.signer != nil && k.signer != failed {
		return k.signer, nil
	}
	k.disconnect()
	if err := k.connect(); err != nil {
		return nil, err
	}
	return k.signer, nil
}

// Ready signs a fixed digest: it proves the token is reachable, the session logged in and the
// key usable, and reconnects when it was not.
func (k *hsmKey) Ready(context.Context) error {
	digest := sha256.Sum256([]byte("ofpdp readiness"))
	var opts crypto.SignerOpts = crypto.SHA256
	if _, ok := k.pub.(interface{ Size() int }); ok {
		opts = pssOpts()
	}
	if _, err := k.Sign(nil, digest[:], opts); err != nil {
		return err
	}
	return nil
}

func (k *hsmKey) Close() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.disconnect()
	return nil
}

// sameKey reports whether two public keys are equal.
func sameKey(a, b crypto.PublicKey) bool {
	e, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && e.Equal(b)
}

// pssOpts are the RSASSA-PSS options of PS256 (RFC 7518 §3.5: SHA-256, salt = hash length).
func pssOpts() crypto.SignerOpts {
	return &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256}
}
