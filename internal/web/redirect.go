package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/ofpdp/ofpdp/internal/journey"
)

// descriptions are the error_description texts sent back to PayNet (RFC 6749 §4.1.2.1: printable
// ASCII without '"' and '\'; no personal data).
var descriptions = map[string]string{
	journey.ReasonRejected:             "The customer rejected the consent",
	journey.ReasonCancelled:            "The customer cancelled the authorization",
	journey.ReasonIdentity:             "The authenticated customer does not match the consent",
	journey.ReasonLocked:               "Too many failed login attempts",
	journey.ReasonTimeout:              "The authorization was not completed in time",
	journey.ReasonPatchFailed:          "The data provider could not record the authorization",
	journey.ReasonUnknownConsent:       "The consent is not known to the data provider",
	journey.ReasonNotAwaiting:          "The consent is not awaiting authorization",
	journey.ReasonWindowOver:           "The authorization window has ended",
	journey.ReasonOtherDP:              "The consent is not addressed to this data provider",
	journey.ReasonDecided:              "The consent was already decided",
	journey.ReasonIdentityRequired:     "The consent does not identify the customer",
	journey.ReasonCancelledBeforeLogin: "The authorization was cancelled before sign-in",
	journey.ReasonSecondFactor:         "The customer refused the sign-in in the bank's app",
}

// paynetReasonCodes are status_reason.reason_code values (spec §5.1) for negative updates.
var paynetReasonCodes = map[string]string{
	journey.ReasonRejected:         "not_allowed",
	journey.ReasonCancelled:        "not_allowed",
	journey.ReasonLocked:           "not_allowed",
	journey.ReasonSecondFactor:     "not_allowed",
	journey.ReasonIdentity:         "validation_error",
	journey.ReasonIdentityRequired: "validation_error",
	journey.ReasonTimeout:          "timeout",
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
