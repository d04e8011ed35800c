package web

import (
	"testing"

	dto "github.com/prometheus/client_model/go"

	"github.com/ofpdp/ofpdp/internal/consent"
	"github.com/ofpdp/ofpdp/internal/journey"
	"github.com/ofpdp/ofpdp/internal/obs"
)

// Journey outcomes are counted once each (ofpdp_authorization_journeys_total; docs/operations.md).
func TestJourneyMetrics(t *testing.T) {
	m := obs.NewMetrics()
	count := func(outcome string) float64 {
		var d dto.Metric
		if err := m.Journeys.WithLabelValues(outcome).Write(&d); err != nil {
			t.Fatal(err)
		}
		return d.GetCounter().GetValue()
	}

	hs := newHarness(t, func(o *Options) { o.Metrics = m })
	hs.review("ACC-SAV")
	mustRedirect(t, hs.decide("approve"), pathComplete)
	mustRedirect(t, hs.decide("approve"), pathComplete) // a double click is not a second journey

	hs2 := newHarness(t, func(o *Options) { o.Metrics = m })
	hs2.review("ACC-SAV")
	hs2.ending(hs2.decide("reject"), errDeclined)

	hs3 := newHarness(t, func(o *Options) { o.Metrics = m })
	hs3.review("ACC-SAV")
	cs := testConsent(hs3.clock.now())
	cs.Status = consent.StatusRevoked
	hs3.store.put(cs)
	hs3.ending(hs3.decide("approve"), errAlreadyDecided)

	for outcome, want := range map[journey.Outcome]float64{journey.OutcomeAuthorized: 1, journey.OutcomeRejected: 1, journey.OutcomeRefused: 1, journey.OutcomeFailed: 0} {
		if got := count(string(outcome)); got != want {
			t.Errorf("journeys{outcome=%q} = %v, want %v", outcome, got, want)
		}
	}
}
