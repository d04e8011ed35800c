package demo

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ofpdp/ofpdp/connector"
)

func TestSecondFactorOTP(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	c, err := Embedded(Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.StartChallenge(ctx, connector.ChallengeRequest{CustomerRef: "nobody", Method: connector.MethodOTP}); !errors.Is(err, connector.ErrNotFound) {
		t.Fatalf("unknown customer: %v", err)
	}
	ch, err := c.StartChallenge(ctx, connector.ChallengeRequest{CustomerRef: "C1001", Method: connector.MethodOTP})
	if err != nil || ch.ID == "" || !ch.ExpiresAt.Equal(now.Add(ChallengeTTL)) {
		t.Fatalf("start: %+v, %v", ch, err)
	}
	id, m, code, ok := c.SandboxChallenge("C1001")
	if !ok || id != ch.ID || m != connector.MethodOTP || len(code) != otpDigits {
		t.Fatalf("sandbox view: %s %s %q %v", id, m, code, ok)
	}
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	if err := c.VerifyOTP(ctx, ch.ID, wrong); !errors.Is(err, connector.ErrInvalidOTP) {
		t.Fatalf("wrong code: %v", err)
	}
	if _, err := c.ChallengeStatus(ctx, ch.ID); !errors.Is(err, connector.ErrChallengeExpired) {
		t.Fatalf("an OTP challenge answered as an app approval: %v", err)
	}
	if err := c.VerifyOTP(ctx, ch.ID, code); err != nil {
		t.Fatalf("right code: %v", err)
	}
	if err := c.VerifyOTP(ctx, ch.ID, code); !errors.Is(err, connector.ErrChallengeExpired) {
		t.Fatalf("a code used twice: %v", err)
	}

	ch, _ = c.StartChallenge(ctx, connector.ChallengeRequest{CustomerRef: "C1001", Method: connector.MethodOTP})
	_, _, code, _ = c.SandboxChallenge("C1001")
	now = now.Add(ChallengeTTL)
	if err := c.VerifyOTP(ctx, ch.ID, code); !errors.Is(err, connector.ErrChallengeExpired) {
		t.Fatalf("an expired code: %v", err)
	}
	if _, _, _, ok := c.SandboxChallenge("C1001"); ok {
		t.Fatal("the sandbox shows an expired challenge")
	}
}

func TestSecondFactorApp(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	c, err := Embedded(Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, approve := range []bool{true, false} {
		ch, err := c.StartChallenge(ctx, connector.ChallengeRequest{CustomerRef: "C1002", Method: connector.MethodApp})
		if err != nil {
			t.Fatal(err)
		}
		if st, err := c.ChallengeStatus(ctx, ch.ID); st != connector.ChallengePending || err != nil {
			t.Fatalf("new approval: %s, %v", st, err)
		}
		if err := c.VerifyOTP(ctx, ch.ID, "123456"); !errors.Is(err, connector.ErrChallengeExpired) {
			t.Fatalf("a code against an app approval: %v", err)
		}
		if !c.SandboxDecide(ch.ID, approve) || c.SandboxDecide(ch.ID, approve) {
			t.Fatal("an approval decided other than once")
		}
		want := connector.ChallengeRefused
		if approve {
			want = connector.ChallengeApproved
		}
		if st, err := c.ChallengeStatus(ctx, ch.ID); st != want || err != nil {
			t.Fatalf("decided approval: %s, %v; want %s", st, err, want)
		}
	}
	ch, _ := c.StartChallenge(ctx, connector.ChallengeRequest{CustomerRef: "C1002", Method: connector.MethodApp})
	now = now.Add(ChallengeTTL)
	if st, _ := c.ChallengeStatus(ctx, ch.ID); st != connector.ChallengeExpired {
		t.Fatalf("expired approval: %s", st)
	}
}
