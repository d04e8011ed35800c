package api

import (
	"sync"
	"time"

	"github.com/ofpdp/ofpdp/internal/ratelimit"
)

// dataLimits are the two limits of a data request (negative-tests D16 "limits per DC and per
// consent"): the DC's (design §3.14), then the consent's, so that one busy consent cannot take
// the whole allowance of its DC.
type dataLimits struct {
	// mu makes the two checks one step: a DC token given back is restored exactly only when no
	// other reservation of that DC came in between.
	mu                sync.Mutex
	perDC, perConsent *ratelimit.Keyed
}

func newDataLimits(perDCPerMinute, perConsentPerMinute int) *dataLimits {
	return &dataLimits{perDC: ratelimit.NewPerMinute(perDCPerMinute), perConsent: ratelimit.NewPerMinute(perConsentPerMinute)}
}

// allow takes a token of the DC's bucket and one of the consent's. A request refused by either
// takes none: the DC's token is given back when the consent's limit refuses, so requests of a
// consent over its limit do not count against the other consents of its DC. The wait is that of
// the limit that refused.
func (d *dataLimits) allow(dcID, consentID string, now time.Time) (bool, time.Duration) {
	d.mu.Lock()
	defer d.mu.Unlock()
	dcTok, wait := d.perDC.Reserve(dcID, now)
	if dcTok == nil {
		return false, wait
	}
	if ok, wait := d.perConsent.Allow(consentID, now); !ok {
		dcTok.CancelAt(now)
		return false, wait
	}
	return true, 0
}
