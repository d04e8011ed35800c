package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ofpdp/ofpdp/connector"
	"github.com/ofpdp/ofpdp/internal/journey"
)

// factorBank is the fake bank with a second factor: codes are "1234" + a counter, so each
// challenge has its own; app approvals are decided by the test.
type factorBank struct {
	*fakeBank
	now    func() time.Time
	mu     sync.Mutex
	n      int
	codes  map[string]string
	status map[string]connector.ChallengeStatus
	expiry map[string]time.Time
	starts int
}

func newFactorBank(b *fakeBank, now func() time.Time) *factorBank {
	return &factorBank{fakeBank: b, now: now, codes: map[string]string{}, status: map[string]connector.ChallengeStatus{}, expiry: map[string]time.Time{}}
}

func (f *factorBank) StartChallenge(_ context.Context, r connector.ChallengeRequest) (connector.Challenge, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	f.starts++
	id := fmt.Sprintf("ch-%d", f.n)
	f.codes[id] = fmt.Sprintf("9%05d", 1000+f.n)
	f.status[id] = connector.ChallengePending
	f.expiry[id] = f.now().Add(2 * time.Minute)
	return connector.Challenge{ID: id, Method: r.Method, ExpiresAt: f.expiry[id], Destination: "•••••789"}, nil
}

func (f *factorBank) VerifyOTP(_ context.Context, id, otp string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	code, ok := f.codes[id]
	if !ok || !f.now().Before(f.expiry[id]) {
		return connector.ErrChallengeExpired
	}
	if otp != code {
		return connector.ErrInvalidOTP
	}
	delete(f.codes, id)
	return nil
}

func (f *factorBank) ChallengeStatus(_ context.Context, id string) (connector.ChallengeStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st, ok := f.status[id]
	if !ok {
		return "", connector.ErrChallengeExpired
	}
	return st, nil
}

func (f *factorBank) code(id string) string { f.mu.Lock(); defer f.mu.Unlock(); return f.codes[id] }

func (f *factorBank) decide(id string, st connector.ChallengeStatus) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status[id] = st
}

// factorHarness is a harness whose bank runs method as the second factor; logs go to the buffer.
func factorHarness(t *testing.T, method connector.Method) (*harness, *factorBank, *bytes.Buffer) {
	var fb *factorBank
	logs := &bytes.Buffer{}
	hs := newHarness(t, func(o *Options) {
		fb = newFactorBank(o.Bank.(*fakeBank), o.Now)
		o.Bank, o.SecondFactor = fb, method
		o.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	hs.start()
	mustRedirect(t, hs.post(pathLogin, url.Values{"username": {"aisyah"}, "password": {"Demo@1234"}}), pathVerify)
	return hs, fb, logs
}

// TestSecondFactorOTP: after the password the bank's code is asked for; the accounts stay out of
// reach until it is right; a wrong code is counted; the code is never logged, kept or shown.
func TestSecondFactorOTP(t *testing.T) {
	hs, fb, logs := factorHarness(t, connector.MethodOTP)
	page := hs.do(http.MethodGet, pathVerify, nil)
	mustStatus(t, page, http.StatusOK)
	j := hs.journey()
	code := fb.code(j.ChallengeID)
	if j.Step != journey.StepSecondFactor || code == "" || !strings.Contains(page.Body.String(), `id="otp"`) ||
		!strings.Contains(page.Body.String(), "•••••789") || strings.Contains(page.Body.String(), code) {
		t.Fatalf("code page: journey %+v\n%s", j, page.Body)
	}
	mustRedirect(t, hs.do(http.MethodGet, pathAccounts, nil), pathVerify)
	mustRedirect(t, hs.do(http.MethodGet, pathReview, nil), pathVerify)
	mustRedirect(t, hs.post(pathAccounts, url.Values{"account": hs.ids("ACC-SAV")}), pathVerify)
	mustRedirect(t, hs.post(pathDecision, url.Values{"decision": {"approve"}, "nonce": {j.FormNonce}}), pathVerify)
	mustStatus(t, hs.do(http.MethodGet, pathVerify, nil), http.StatusOK)
	if fb.starts != 1 {
		t.Fatalf("a reload started %d challenges", fb.starts)
	}

	w := hs.post(pathVerify, url.Values{"otp": {"000000"}})
	mustStatus(t, w, http.StatusOK)
	if !strings.Contains(w.Body.String(), `aria-invalid="true"`) || hs.journey().FactorFailures != 1 {
		t.Fatalf("wrong code: failures %d\n%s", hs.journey().FactorFailures, w.Body)
	}
	mustRedirect(t, hs.post(pathVerify, url.Values{"otp": {code}}), pathAccounts)
	j = hs.journey()
	if j.Step != journey.StepAccounts || j.ChallengeID != "" {
		t.Fatalf("after the right code: %+v", j)
	}
	hs.nonce = j.FormNonce
	mustRedirect(t, hs.post(pathAccounts, url.Values{"account": hs.ids("ACC-SAV")}), pathReview)
	mustRedirect(t, hs.decide("approve"), pathComplete)
	rec, err := hs.store.GetConsent(context.Background(), testConsentID)
	if err != nil || rec.Authorization == nil || rec.Authorization.Channel.Factor != "otp" {
		t.Fatalf("decision channel: %+v, %v", rec.Authorization, err)
	}
	for _, s := range hs.store.sessions {
		if bytes.Contains(s.Data, []byte(code)) {
			t.Fatal("the code is in a session row")
		}
	}
	for _, a := range hs.store.audits {
		if strings.Contains(a.Detail, code) {
			t.Fatal("the code is in the audit trail")
		}
	}
	if strings.Contains(logs.String(), code) || strings.Contains(logs.String(), "000000") {
		t.Fatalf("a code is in the log:\n%s", logs)
	}
}

// TestSecondFactorLimits: wrong codes lock the factor (only cancel is left, → failed), an
// expired code asks for a new one, and resends are limited.
func TestSecondFactorLimits(t *testing.T) {
	t.Run("wrong codes lock", func(t *testing.T) {
		hs, fb, _ := factorHarness(t, connector.MethodOTP)
		mustStatus(t, hs.do(http.MethodGet, pathVerify, nil), http.StatusOK)
		code := fb.code(hs.journey().ChallengeID)
		for range DefaultFactorMaxFailures - 1 {
			mustStatus(t, hs.post(pathVerify, url.Values{"otp": {"000000"}}), http.StatusOK)
		}
		mustStatus(t, hs.post(pathVerify, url.Values{"otp": {"000000"}}), http.StatusTooManyRequests)
		mustStatus(t, hs.post(pathVerify, url.Values{"otp": {code}}), http.StatusTooManyRequests)
		mustStatus(t, hs.post(pathResend, nil), http.StatusTooManyRequests)
		if j := hs.journey(); !j.Locked || j.Step != journey.StepSecondFactor {
			t.Fatalf("after %d wrong codes: %+v", DefaultFactorMaxFailures, j)
		}
		hs.ending(hs.post(pathCancel, nil), errLocked)
	})
	t.Run("expired code and resends", func(t *testing.T) {
		hs, fb, _ := factorHarness(t, connector.MethodOTP)
		mustStatus(t, hs.do(http.MethodGet, pathVerify, nil), http.StatusOK)
		first := hs.journey().ChallengeID
		code := fb.code(first)
		hs.clock.add(2 * time.Minute)
		w := hs.post(pathVerify, url.Values{"otp": {code}})
		mustStatus(t, w, http.StatusOK)
		if !strings.Contains(w.Body.String(), "expired") {
			t.Fatalf("expired code page:\n%s", w.Body)
		}
		for range DefaultFactorMaxResends {
			mustRedirect(t, hs.post(pathResend, nil), pathVerify)
			mustStatus(t, hs.do(http.MethodGet, pathVerify, nil), http.StatusOK)
		}
		last := hs.journey().ChallengeID
		if last == first || fb.starts != DefaultFactorMaxResends+1 {
			t.Fatalf("resends: challenge %s, %d started", last, fb.starts)
		}
		mustStatus(t, hs.post(pathResend, nil), http.StatusTooManyRequests)
		if fb.starts != DefaultFactorMaxResends+1 || hs.journey().ChallengeID != last {
			t.Fatal("a resend past the limit reached the bank")
		}
		mustRedirect(t, hs.post(pathVerify, url.Values{"otp": {fb.code(last)}}), pathAccounts)
	})
}

// TestSecondFactorApp: the page waits with a meta refresh (no script) until the bank's app
// answers; an approval goes on to the accounts, a refusal ends the journey as failed.
func TestSecondFactorApp(t *testing.T) {
	for _, st := range []connector.ChallengeStatus{connector.ChallengeApproved, connector.ChallengeRefused} {
		t.Run(string(st), func(t *testing.T) {
			hs, fb, _ := factorHarness(t, connector.MethodApp)
			w := hs.do(http.MethodGet, pathVerify, nil)
			mustStatus(t, w, http.StatusOK)
			if !strings.Contains(w.Body.String(), `<meta http-equiv="refresh" content="3">`) || strings.Contains(w.Body.String(), "<script") ||
				strings.Contains(w.Body.String(), `id="otp"`) {
				t.Fatalf("waiting page:\n%s", w.Body)
			}
			fb.decide(hs.journey().ChallengeID, st)
			w = hs.do(http.MethodGet, pathVerify, nil)
			if st == connector.ChallengeApproved {
				mustRedirect(t, w, pathAccounts)
				mustStatus(t, hs.do(http.MethodGet, pathAccounts, nil), http.StatusOK)
				return
			}
			hs.ending(w, errDeclined)
			rec, _ := hs.store.GetConsent(context.Background(), testConsentID)
			if rec.Authorization == nil || rec.Authorization.Reason != journey.ReasonSecondFactor {
				t.Fatalf("refused approval recorded as %+v", rec.Authorization)
			}
		})
	}
}

func TestSecondFactorOptions(t *testing.T) {
	o := Options{Bank: newFakeBank(), SecondFactor: connector.MethodOTP}
	if _, err := o.withDefaults(); !errors.Is(err, ErrOptions) || !strings.Contains(err.Error(), "has no second factor") {
		t.Fatalf("a connector without a second factor: %v", err)
	}
	o = Options{Bank: newFactorBank(newFakeBank(), time.Now), SecondFactor: "sms"}
	if _, err := o.withDefaults(); err == nil || !strings.Contains(err.Error(), `SecondFactor "sms"`) {
		t.Fatalf("an unknown method: %v", err)
	}
}
