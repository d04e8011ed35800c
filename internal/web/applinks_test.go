package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
)

// TestAppLinkFiles: the association files name the bank's apps and only the authorize link path
// (spec §2.4); they are JSON, served without a redirect, and absent when no app is configured.
func TestAppLinkFiles(t *testing.T) {
	fp := strings.Repeat("ab", 32)
	hs := newHarness(t, func(o *Options) {
		o.AppLinks = AppLinks{AppleAppIDs: []string{"ABCDE12345.my.bank.mobile"}, AndroidPackage: "my.bank.mobile",
			AndroidCertFingerprints: []string{fp}}
	})

	w := hs.do(http.MethodGet, pathAppleAssociation, nil)
	mustStatus(t, w, http.StatusOK)
	if ct, cc := w.Header().Get("Content-Type"), w.Header().Get("Cache-Control"); ct != "application/json" || cc != appLinksCacheControl {
		t.Fatalf("apple-app-site-association: Content-Type %q, Cache-Control %q", ct, cc)
	}
	var aasa struct {
		AppLinks struct {
			Details []struct {
				AppIDs     []string            `json:"appIDs"`
				Components []map[string]string `json:"components"`
			} `json:"details"`
		} `json:"applinks"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &aasa); err != nil {
		t.Fatal(err)
	}
	d := aasa.AppLinks.Details
	if len(d) != 1 || len(d[0].AppIDs) != 1 || d[0].AppIDs[0] != "ABCDE12345.my.bank.mobile" ||
		len(d[0].Components) != 1 || d[0].Components[0]["/"] != "/OFM/MY/Authorize/AIS*" {
		t.Fatalf("apple-app-site-association: %s", w.Body)
	}

	w = hs.do(http.MethodGet, pathAssetLinks, nil)
	mustStatus(t, w, http.StatusOK)
	var links []struct {
		Relation []string `json:"relation"`
		Target   struct {
			Namespace    string   `json:"namespace"`
			PackageName  string   `json:"package_name"`
			Fingerprints []string `json:"sha256_cert_fingerprints"`
		} `json:"target"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &links); err != nil {
		t.Fatal(err)
	}
	want := strings.TrimSuffix(strings.Repeat("AB:", 32), ":")
	if len(links) != 1 || links[0].Relation[0] != "delegate_permission/common.handle_all_urls" ||
		links[0].Target.Namespace != "android_app" || links[0].Target.PackageName != "my.bank.mobile" ||
		len(links[0].Target.Fingerprints) != 1 || links[0].Target.Fingerprints[0] != want {
		t.Fatalf("assetlinks.json: %s", w.Body)
	}
	mustStatus(t, hs.do(http.MethodPost, pathAssetLinks, nil), http.StatusMethodNotAllowed)

	none := newHarness(t, nil)
	for _, p := range []string{pathAppleAssociation, pathAssetLinks} {
		mustStatus(t, none.do(http.MethodGet, p, nil), http.StatusNotFound)
	}
}

func TestAppLinkOptions(t *testing.T) {
	for name, a := range map[string]AppLinks{
		"package alone":      {AndroidPackage: "my.bank.mobile"},
		"fingerprints alone": {AndroidCertFingerprints: []string{strings.Repeat("ab", 32)}},
		"short fingerprint":  {AndroidPackage: "my.bank.mobile", AndroidCertFingerprints: []string{"AB:CD"}},
	} {
		if _, _, err := a.documents(); !errors.Is(err, ErrOptions) {
			t.Errorf("%s: %v, want ErrOptions", name, err)
		}
	}
}
