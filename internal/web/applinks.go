package web

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// The association files that let the bank's app open PayNet's authorize link (spec §2.4, DP
// Universal Link v1.0): Apple's apple-app-site-association and Android's Digital Asset Links.
const (
	pathAppleAssociation = "/.well-known/apple-app-site-association"
	pathAssetLinks       = "/.well-known/assetlinks.json"
	// appLinkPattern is the only path the apps claim: the authorize link and nothing else of the
	// journey, so every other page stays in the browser.
	appLinkPattern = pathUniversalLink + "*"
	// appLinksCacheControl lets Apple's CDN and Android's verifier cache the files for an hour.
	appLinksCacheControl = "public, max-age=3600"
)

// AppLinks are the bank's mobile apps that open the authorize link (docs/app-to-app.md).
type AppLinks struct {
	// AppleAppIDs are "<Team ID>.<bundle id>" of the iOS apps.
	AppleAppIDs []string
	// AndroidPackage is the package name of the Android app; AndroidCertFingerprints are the
	// SHA-256 fingerprints of its signing certificates (hex, colons allowed).
	AndroidPackage          string
	AndroidCertFingerprints []string
}

// appleAssociation is the apple-app-site-association document (Apple: "Supporting associated
// domains"; the components form, iOS 13 and later).
type appleAssociation struct {
	AppLinks struct {
		Details []appleDetail `json:"details"`
	} `json:"applinks"`
}

type appleDetail struct {
	AppIDs     []string          `json:"appIDs"`
	Components []appleComponents `json:"components"`
}

type appleComponents struct {
	Path    string `json:"/"`
	Comment string `json:"comment,omitempty"`
}

// assetLink is one statement of assetlinks.json (Digital Asset Links, "handle_all_urls").
type assetLink struct {
	Relation []string    `json:"relation"`
	Target   assetTarget `json:"target"`
}

type assetTarget struct {
	Namespace    string   `json:"namespace"`
	PackageName  string   `json:"package_name"`
	Fingerprints []string `json:"sha256_cert_fingerprints"`
}

// documents builds the two files; a nil body means "not configured" (404).
func (a AppLinks) documents() (apple, android []byte, err error) {
	if len(a.AppleAppIDs) > 0 {
		var d appleAssociation
		d.AppLinks.Details = []appleDetail{{AppIDs: a.AppleAppIDs, Components: []appleComponents{{
			Path: appLinkPattern, Comment: "PayNet Open Finance authorize link",
		}}}}
		if apple, err = json.Marshal(d); err != nil {
			return nil, nil, err
		}
	}
	if (a.AndroidPackage == "") != (len(a.AndroidCertFingerprints) == 0) {
		return nil, nil, fmt.Errorf("%w: AndroidPackage and AndroidCertFingerprints go together", ErrOptions)
	}
	if a.AndroidPackage != "" {
		fps := make([]string, len(a.AndroidCertFingerprints))
		for i, f := range a.AndroidCertFingerprints {
			if fps[i], err = colonHex(f); err != nil {
				return nil, nil, fmt.Errorf("%w: AndroidCertFingerprints[%d]: %v", ErrOptions, i, err)
			}
		}
		android, err = json.Marshal([]assetLink{{
			Relation: []string{"delegate_permission/common.handle_all_urls"},
			Target:   assetTarget{Namespace: "android_app", PackageName: a.AndroidPackage, Fingerprints: fps},
		}})
		if err != nil {
			return nil, nil, err
		}
	}
	return apple, android, nil
}

// colonHex writes a SHA-256 fingerprint the way assetlinks.json wants it: AA:BB:….
func colonHex(f string) (string, error) {
	b, err := hex.DecodeString(strings.ReplaceAll(f, ":", ""))
	if err != nil || len(b) != 32 {
		return "", fmt.Errorf("not a SHA-256 fingerprint")
	}
	parts := make([]string, len(b))
	for i, c := range b {
		parts[i] = fmt.Sprintf("%02X", c)
	}
	return strings.Join(parts, ":"), nil
}

// wellKnown serves one association file: JSON, no redirect, cached for an hour.
func (h *Handler) wellKnown(body []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", appLinksCacheControl)
		if r.Method != http.MethodHead {
			_, _ = w.Write(body)
		}
	}
}
