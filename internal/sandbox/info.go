package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
)

// InfoFile is the name of the file Start writes in the sandbox directory.
const InfoFile = "sandbox.json"

// Info is the content of sandbox.json (design.md §8): exactly these keys.
type Info struct {
	DP          DPInfo     `json:"dp"`
	PayNet      URLInfo    `json:"paynet"`
	DC          URLInfo    `json:"dc"`
	PKIDir      string     `json:"pki_dir"`
	DPID        string     `json:"dp_id"`
	DCID        string     `json:"dc_id"`
	RedirectURI string     `json:"redirect_uri"`
	Users       []UserInfo `json:"users"`
	Bank        BankInfo   `json:"bank"`
	// Phone is the sandbox phone page (the demo bank's codes and app approvals); empty without
	// --second-factor.
	Phone URLInfo `json:"phone,omitzero"`
	// Authn is how the sandbox DP signs customers in.
	Authn AuthnInfo `json:"authn"`
}

// AuthnInfo is the sandbox DP's customer authentication.
type AuthnInfo struct {
	Mode         string `json:"mode"`                    // "password"
	SecondFactor string `json:"second_factor,omitempty"` // "otp", "app" or empty
}

// BankInfo is the core bank the sandbox DP calls over docs/connector-openapi.yaml: the mock core
// bank or the --bank-url adapter; URL is empty with --connector demo (in process).
type BankInfo struct {
	URL string `json:"url"`
}

// DPInfo are the base URLs of the DP's listeners.
type DPInfo struct {
	APIURL string `json:"api_url"`
	WebURL string `json:"web_url"`
	OpsURL string `json:"ops_url"`
	// AdminToken is the sandbox operator's bearer token for the admin API on ops_url
	// (docs/admin-openapi.yaml); conformance revokes consents with it (group revocation).
	AdminToken string `json:"admin_token"`
}

// URLInfo is the base URL of a component: for paynet, the simulator's public listener (its
// JSON API and the redirect_uri); for dc, the mock data consumer (the page to open).
type URLInfo struct {
	URL string `json:"url"`
}

// UserInfo is a demo customer's sign-in and identity: id_type and id_number are what a data
// consumer binds the customer's consents to (spec §5.1 id_type, hashed_id_number; design.md
// §3.11), so that the DP can check the customer who logs in is the one the consent names.
type UserInfo struct {
	Username string `json:"username"`
	Password string `json:"password"`
	Name     string `json:"name"`
	IDType   string `json:"id_type"`
	IDNumber string `json:"id_number"`
	// CustomerRef is the reference the connector knows the customer by.
	CustomerRef string `json:"customer_ref,omitempty"`
}

// ErrInfo is wrapped by ReadInfo's errors about the file's content.
var ErrInfo = errors.New("sandbox: invalid sandbox.json")

// ReadInfo reads a sandbox.json: every key present and well formed, no other key.
func ReadInfo(path string) (Info, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Info{}, fmt.Errorf("sandbox: %w", err)
	}
	return ParseInfo(b)
}

// ParseInfo decodes and checks sandbox.json content.
func ParseInfo(b []byte) (Info, error) {
	var in Info
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return Info{}, fmt.Errorf("%w: %v", ErrInfo, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Info{}, fmt.Errorf("%w: data after the JSON object", ErrInfo)
	}
	for name, v := range map[string]string{
		"dp.api_url": in.DP.APIURL, "dp.web_url": in.DP.WebURL, "dp.ops_url": in.DP.OpsURL,
		"paynet.url": in.PayNet.URL, "dc.url": in.DC.URL, "redirect_uri": in.RedirectURI,
	} {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return Info{}, fmt.Errorf("%w: %s %q is not an http(s) URL", ErrInfo, name, v)
		}
	}
	switch {
	case in.PKIDir == "":
		return Info{}, fmt.Errorf("%w: pki_dir is empty", ErrInfo)
	case in.DPID == "" || in.DCID == "":
		return Info{}, fmt.Errorf("%w: dp_id and dc_id are required", ErrInfo)
	case len(in.Users) == 0 && in.Bank.URL == "":
		return Info{}, fmt.Errorf("%w: users is empty", ErrInfo)
	}
	if in.Bank.URL != "" {
		if u, err := url.Parse(in.Bank.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return Info{}, fmt.Errorf("%w: bank.url %q is not an http(s) URL", ErrInfo, in.Bank.URL)
		}
	}
	for i, u := range in.Users {
		if u.Username == "" || u.Password == "" {
			return Info{}, fmt.Errorf("%w: users[%d] needs a username and a password", ErrInfo, i)
		}
		if (u.IDType != "nric" && u.IDType != "passport") || u.IDNumber == "" {
			return Info{}, fmt.Errorf("%w: users[%d] needs id_type nric or passport and an id_number", ErrInfo, i)
		}
	}
	return in, nil
}

// ParseUsers decodes a --users file: a JSON array of {"username", "password", "name"}, each
// with a username and a password.
func ParseUsers(b []byte, out *[]UserInfo) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var users []UserInfo
	if err := dec.Decode(&users); err != nil {
		return fmt.Errorf("want a JSON array of {\"username\", \"password\", \"name\"}: %v", err)
	}
	for i, u := range users {
		if u.Username == "" || u.Password == "" {
			return fmt.Errorf("users[%d] needs a username and a password", i)
		}
	}
	*out = users
	return nil
}

// writeInfo writes sandbox.json atomically (0600: it holds the demo passwords).
func writeInfo(dir string, in Info) (string, error) {
	b, err := json.MarshalIndent(in, "", "  ")
	if err != nil {
		return "", err
	}
	b = append(b, '\n')
	path := filepath.Join(dir, InfoFile)
	tmp, err := os.CreateTemp(dir, ".sandbox-*.json")
	if err != nil {
		return "", fmt.Errorf("sandbox: %w", err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	if err := tmp.Chmod(0o600); err != nil {
		_ = tmp.Close()
		return "", fmt.Errorf("sandbox: %w", err)
	}
	if _, err := tmp.Write(b); err != nil {
		_ = tmp.Close()
		return "", fmt.Errorf("sandbox: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("sandbox: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", fmt.Errorf("sandbox: %w", err)
	}
	return path, nil
}
