package server

import (
	"context"
	"crypto"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/ofpdp/ofpdp/internal/config"
	"github.com/ofpdp/ofpdp/internal/jose"
	"github.com/ofpdp/ofpdp/internal/keysource"
	"github.com/ofpdp/ofpdp/internal/mtls"
	"github.com/ofpdp/ofpdp/internal/paynet"
)

// dpKeys are the DP's private keys (design.md §8 dp-sig, dp-mtls), wherever they are kept
// (internal/keysource): the signing key ring and the mTLS client key.
type dpKeys struct {
	ring *keysource.Ring
	mtls keysource.Key
	// client is the mTLS client certificate with its private key: mtls, or for a key in a file
	// the key read again with the certificate whenever either file changes.
	client *mtls.Reloaded[tls.Certificate]
}

// keysourceOptions are the key source settings of cfg.
func keysourceOptions(cfg *config.Config, client *http.Client) keysource.Options {
	return keysource.Options{PKCS11Module: cfg.Keys.PKCS11Module, PKCS11Sessions: cfg.Keys.PKCS11Sessions, HTTPClient: client}
}

// openKeys opens the signing key ring and the mTLS client key; on error nothing stays open.
// onClientCert is told of every mTLS client certificate loaded.
func openKeys(ctx context.Context, cfg *config.Config, logger *slog.Logger, onClientCert func(tls.Certificate)) (*dpKeys, error) {
	o := keysourceOptions(cfg, nil)
	ring, err := keysource.NewRing(ctx, keysource.RingOptions{File: cfg.Keys.SigningKeysFile, Open: o, Logger: logger,
		Single: keysource.RingEntry{Key: cfg.Keys.SigningKeyURI(), Cert: cfg.Keys.SigningCertFile, Kid: cfg.Keys.SigningKid, State: keysource.StateActive}})
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	k := &dpKeys{ring: ring}
	if k.mtls, err = keysource.Open(ctx, cfg.Keys.MTLSKeyURI(), o); err != nil {
		ring.Close()
		return nil, fmt.Errorf("mTLS client key: %w", err)
	}
	paths, load := []string{cfg.Keys.MTLSCertFile}, func() (tls.Certificate, error) {
		return clientCertificate(cfg.Keys.MTLSCertFile, k.mtls)
	}
	if cfg.Keys.MTLSKey == "" {
		// A key file rotates with its certificate: both are read again together.
		paths = append(paths, cfg.Keys.MTLSKeyFile)
		load = func() (tls.Certificate, error) {
			key, err := keysource.Open(ctx, cfg.Keys.MTLSKeyURI(), o)
			if err != nil {
				return tls.Certificate{}, fmt.Errorf("keys.mtls_key_file: %w", err)
			}
			return clientCertificate(cfg.Keys.MTLSCertFile, key)
		}
	}
	if k.client, err = mtls.NewReloaded("mTLS client certificate", paths, load, onClientCert, logger); err != nil {
		k.close()
		return nil, err
	}
	return k, nil
}

// clientCertificate pairs the PEM chain in certFile with key for the TLS client (crypto/tls
// signs the handshake through key's crypto.Signer, so the key may stay in an HSM).
func clientCertificate(certFile string, key keysource.Key) (tls.Certificate, error) {
	chain, err := jose.LoadCertificatesFile(certFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("keys.mtls_cert_file: %w", err)
	}
	pub, ok := chain[0].PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(key.Public()) {
		return tls.Certificate{}, fmt.Errorf("keys.mtls_cert_file %s does not carry the mTLS client key's public key", certFile)
	}
	c := tls.Certificate{PrivateKey: key, Leaf: chain[0]}
	for _, cert := range chain {
		c.Certificate = append(c.Certificate, cert.Raw)
	}
	return c, nil
}

func (k *dpKeys) close() {
	k.ring.Close()
	if k.mtls != nil {
		_ = k.mtls.Close()
	}
}

// PayNetClient is the mutual-TLS client the server calls PayNet with, built from cfg the same
// way (`ofpdp doctor`); closeKeys releases the keys.
func PayNetClient(ctx context.Context, cfg *config.Config, logger *slog.Logger) (client *http.Client, closeKeys func(), err error) {
	keys, err := openKeys(ctx, cfg, logger, nil)
	if err != nil {
		return nil, nil, err
	}
	client, err = paynet.NewMTLSClientCert(keys.client.Get(), cfg.PayNet.CAFile, 10*time.Second)
	if err != nil {
		keys.close()
		return nil, nil, err
	}
	return client, keys.close, nil
}
