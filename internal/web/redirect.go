package web

import (
	"net/http"
	"net/url"
	"strings"
)

// Reasons: why a journey ended other than with an authorization. They are the short codes kept
// in store.Authorization.Reason and the audit trail, and pick the redirect's error_description.
const (
	reasonRejected       = "customer_rejected"
	reasonCancelled      = "customer_cancelled"
	reasonIdentity       = "identity_mismatch"
	reasonLocked         = "login_locked"
	reasonTimeout        = "timeout"
	reasonPatchFailed    = "patch_failed"
	reasonUnknownConsent = "unknown_consent"
	reasonNotAwaiting    = "not_awaiting_authorization"
	reasonWindowOver     = "authorization_window_over"
	reasonOtherDP        = "consent_for_another_dp"
	reasonDecided        = "decided_elsewhere"
	// reasonIdentityRequired: the consent names no customer (no id_type + hashed_id_number)
	// while authorize.require_identity_binding is on (design §3.11).
	reasonIdentityRequired = "identity_required"
	// reasonCancelledBeforeLogin: cancelled before anyone signed in; no consent update is sent,
	// because no customer decided (docs/security.md "Cancel before sign-in").
	reasonCancelledBeforeLogin = "cancelled_before_login"
)

// descriptions are the error_description texts sent back to PayNet (RFC 6749 §4.1.2.1: printable
// ASCII without '"' and '\'; no personal data).
var descriptions = map[string]string{
	reasonRejected:             "The customer rejected the consent",
	reasonCancelled:            "The customer cancelled the authorization",
	reasonIdentity:             "The authenticated customer does not match the consent",
	reasonLocked:               "Too many failed login attempts",
	reasonTimeout:              "The authorization was not completed in time",
	reasonPatchFailed:          "The data provider could not record the authorization",
	reasonUnknownConsent:       "The consent is not known to the data provider",
	reasonNotAwaiting:          "The consent is not awaiting authorization",
	reasonWindowOver:           "The authorization window has ended",
	reasonOtherDP:              "The consent is not addressed to this data provider",
	reasonDecided:              "The consent was already decided",
	reasonIdentityRequired:     "The consent does not identify the customer",
	reasonCancelledBeforeLogin: "The authorization was cancelled before sign-in",
}

// paynetReasonCodes are status_reason.reason_code values (spec §5.1) for negative updates.
var paynetReasonCodes = map[string]string{
	reasonRejected:         "not_allowed",
	reasonCancelled:        "not_allowed",
	reasonLocked:           "not_allowed",
	reasonIdentity:         "validation_error",
	reasonIdentityRequired: "validation_error",
	reasonTimeout:          "timeout",
}

// withQuery appends params, in order, to redirectURI's query (with & when it already has one),
// each escaped with net/url. The allow-listed redirectURI is kept byte for byte (it has no
// fragment: New refuses one).
func withQuery(redirectURI string, params ...[2]string) string {
	var b strings.Builder
	b.WriteString(redirectURI)
	switch {
	case !strings.Contains(redirectURI, "?"):
		b.WriteByte('?')
	case !strings.HasSuffix(redirectURI, "?") && !strings.HasSuffix(redirectURI, "&"):
		b.WriteByte('&')
	}
	for i, p := range params {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(p[0]))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(p[1]))
	}
	return b.String()
}

// successURL is where "Back to {DC}" goes after an authorization (design §3.10).
func successURL(redirectURI, consentID string) string {
	return withQuery(redirectURI, [2]string{"consent_id", consentID})
}

// errorURL is the negative redirect of design §3.10:
// redirect_uri?error=access_denied&error_description=…&consent_id=….
func errorURL(redirectURI, consentID, reason string) string {
	desc, ok := descriptions[reason]
	if !ok {
		desc = "The authorization did not complete"
	}
	return withQuery(redirectURI,
		[2]string{"error", "access_denied"},
		[2]string{"error_description", desc},
		[2]string{"consent_id", consentID})
}

// seeOther sends a 303 (design §3.10: every redirect of the journey is a 303).
func seeOther(w http.ResponseWriter, r *http.Request, target string) {
	http.Redirect(w, r, target, http.StatusSeeOther)
}
