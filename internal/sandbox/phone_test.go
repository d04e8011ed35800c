package sandbox

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/ofpdp/ofpdp/connector"
	"github.com/ofpdp/ofpdp/internal/bank/demo"
)

// TestPhonePage: the sandbox phone shows a demo customer's pending code, and approves or
// refuses an app approval as the customer would in the bank's app.
func TestPhonePage(t *testing.T) {
	bank, err := demo.Embedded(demo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	users := []UserInfo{{Username: "aisyah", Name: "Aisyah", CustomerRef: "C1001"}, {Username: "tan", Name: "Tan", CustomerRef: "C1002"}}
	srv := httptest.NewServer(newPhone(bank, users))
	defer srv.Close()
	ctx := context.Background()

	body := func() string {
		t.Helper()
		resp, err := http.Get(srv.URL + "/")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if b := body(); strings.Count(b, "Nothing pending") != 2 || !strings.Contains(b, `http-equiv="refresh"`) {
		t.Fatalf("idle phone:\n%s", b)
	}
	if _, err := bank.StartChallenge(ctx, connector.ChallengeRequest{CustomerRef: "C1001", Method: connector.MethodOTP}); err != nil {
		t.Fatal(err)
	}
	_, _, code, _ := bank.SandboxChallenge("C1001")
	if b := body(); !strings.Contains(b, `<output id="otp-aisyah">`+code+`</output>`) {
		t.Fatalf("code not shown:\n%s", b)
	}

	ch, err := bank.StartChallenge(ctx, connector.ChallengeRequest{CustomerRef: "C1002", Method: connector.MethodApp})
	if err != nil {
		t.Fatal(err)
	}
	if b := body(); !strings.Contains(b, `id="approve-tan"`) || !strings.Contains(b, ch.ID) {
		t.Fatalf("approval not shown:\n%s", b)
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.PostForm(srv.URL+"/approve", url.Values{"challenge_id": {ch.ID}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("approve: %d", resp.StatusCode)
	}
	if st, _ := bank.ChallengeStatus(ctx, ch.ID); st != connector.ChallengeApproved {
		t.Fatalf("after approve: %s", st)
	}
	resp, err = noRedirect.PostForm(srv.URL+"/refuse", url.Values{"challenge_id": {ch.ID}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("refusing a decided approval: %d", resp.StatusCode)
	}
}
