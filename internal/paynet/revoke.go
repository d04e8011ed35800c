package paynet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// DP-initiated revocation (spec paynet-dp.md §3.2.3, §7.3). PayNet has not published the endpoint,
// so its method, path and body are configuration (paynet.revoke.*): by default
// POST {base}/v1/consents/{consent_id}/revoke with a status_reason body; the fallback is the
// consent update's PATCH with status revoked (spec §9). Either way the body is signed and sent
// over mTLS exactly as a consent update (send).

// Defaults of RevokeOptions.
const (
	DefaultRevokeMethod     = http.MethodPost
	DefaultRevokePath       = "/v1/consents/{consent_id}/revoke"
	DefaultRevokeReasonCode = "not_allowed"
	// DefaultRevokeBodyPOST is the body of the default POST.
	DefaultRevokeBodyPOST = `{"status_reason":{"reason_code":"{reason_code}","reason_description":"{reason_description}"}}`
	// DefaultRevokeBodyPATCH is the body of the PATCH fallback (spec §3.2.1 with status revoked).
	DefaultRevokeBodyPATCH = `{"consent_id":"{consent_id}","status":"revoked","status_reason":{"reason_code":"{reason_code}","reason_description":"{reason_description}"}}`
)

// Placeholders of the revocation path and body. In the body each is replaced by the JSON string
// content of its value (escaped, without quotes); in the path {consent_id} is path-escaped.
const (
	PlaceholderConsentID         = "{consent_id}"
	PlaceholderReasonCode        = "{reason_code}"
	PlaceholderReasonDescription = "{reason_description}"
)

// ErrInvalidRevokeConfig: paynet.revoke.* cannot make a request.
var ErrInvalidRevokeConfig = errors.New("paynet: invalid revocation endpoint configuration")

// RevokeOptions is paynet.revoke.*: how a revocation is sent. Zero fields take their defaults;
// an empty Body takes the default of the method.
type RevokeOptions struct {
	Method     string // POST or PATCH
	Path       string // under the consent base URL, with {consent_id}
	Body       string // JSON template with the placeholders above
	ReasonCode string // status_reason.reason_code sent (a code of spec §5.1)
}

// withDefaults fills o's zero fields and checks it: the method is POST or PATCH, the path starts
// with "/" and holds {consent_id} once and no query, and the body renders to a JSON object.
func (o RevokeOptions) withDefaults() (RevokeOptions, error) {
	if o.Method == "" {
		o.Method = DefaultRevokeMethod
	}
	o.Method = strings.ToUpper(o.Method)
	if o.Path == "" {
		o.Path = DefaultRevokePath
	}
	if o.ReasonCode == "" {
		o.ReasonCode = DefaultRevokeReasonCode
	}
	if o.Body == "" {
		o.Body = DefaultRevokeBodyPOST
		if o.Method == http.MethodPatch {
			o.Body = DefaultRevokeBodyPATCH
		}
	}
	switch {
	case o.Method != http.MethodPost && o.Method != http.MethodPatch:
		return o, fmt.Errorf("%w: method %q is not POST or PATCH", ErrInvalidRevokeConfig, o.Method)
	case !strings.HasPrefix(o.Path, "/") || strings.Count(o.Path, PlaceholderConsentID) != 1 || strings.ContainsAny(o.Path, "?#"):
		return o, fmt.Errorf("%w: path %q must start with / and hold {consent_id} once, without query", ErrInvalidRevokeConfig, o.Path)
	case o.ReasonCode != jsonText(o.ReasonCode) || strings.ContainsAny(o.ReasonCode, " /"):
		return o, fmt.Errorf("%w: reason code %q", ErrInvalidRevokeConfig, o.ReasonCode)
	}
	var probe map[string]any
	if err := json.Unmarshal(o.render("c-1", "a \"quoted\" reason"), &probe); err != nil || probe == nil {
		return o, fmt.Errorf("%w: body template is not a JSON object once filled in", ErrInvalidRevokeConfig)
	}
	return o, nil
}

// render fills the body template.
func (o RevokeOptions) render(consentID, description string) []byte {
	return []byte(strings.NewReplacer(
		PlaceholderConsentID, jsonText(consentID),
		PlaceholderReasonCode, jsonText(o.ReasonCode),
		PlaceholderReasonDescription, jsonText(description),
	).Replace(o.Body))
}

// jsonText is s as the content of a JSON string, without the quotes.
func jsonText(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}

// Revocation is what the DP tells PayNet when it revokes a consent.
type Revocation struct {
	ConsentID string
	// Description is status_reason.reason_description: plain text without personal data.
	Description string
}

// RevokeConsent tells PayNet that the consent is revoked (spec §3.2.3), with the configured
// method, path and body, signed and retried as UpdateConsent. A failure is an *UpdateError
// (Retryable false for PayNet's definite refusal); an empty consent_id is ErrInvalidUpdate.
func (c *Client) RevokeConsent(ctx context.Context, r Revocation) error {
	if r.ConsentID == "" {
		return fmt.Errorf("%w: consent_id is empty", ErrInvalidUpdate)
	}
	target := c.base + strings.Replace(c.revoke.Path, PlaceholderConsentID, url.PathEscape(r.ConsentID), 1)
	return c.send(ctx, c.revoke.Method, target, r.ConsentID, c.revoke.render(r.ConsentID, r.Description))
}
