package web_test

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ofpdp/ofpdp/internal/browsertest"
	"github.com/ofpdp/ofpdp/internal/sandbox"
)

// phoneCode reads the demo customer's pending one-time code from the sandbox phone page.
func phoneCode(t *testing.T, sb *browsertest.Sandbox, username string) (code, challengeID string) {
	t.Helper()
	resp, err := http.Get(sb.Phone.URL + "/")
	if err != nil {
		t.Fatalf("sandbox phone: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if m := regexp.MustCompile(`<output id="otp-` + username + `">([0-9]+)</output>`).FindSubmatch(body); m != nil {
		return string(m[1]), ""
	}
	if m := regexp.MustCompile(`id="phone-` + username + `"[\s\S]*?name="challenge_id" value="([0-9a-f]+)"`).FindSubmatch(body); m != nil {
		return "", string(m[1])
	}
	t.Fatalf("the sandbox phone shows nothing pending for %s:\n%s", username, body)
	return "", ""
}

// TestBrowserSecondFactorOTP: password, then the demo bank's code (a wrong one first), then the
// accounts, review and approval, in a real browser against the sandbox (--second-factor otp).
func TestBrowserSecondFactorOTP(t *testing.T) {
	browsertest.Require(t)
	sb := browsertest.StartSandbox(t, func(o *sandbox.Options) { o.SecondFactor = "otp" })
	en := catalogs(t)["en"]
	user := sb.User(t, demoUser)
	j := newJourney(t, sb, browsertest.Options{})
	b := j.b
	b.Do("open the authorize link", chromedp.Navigate(j.authorize), step("login"))
	b.Do("log in", chromedp.SendKeys(css("#username"), user.Username), chromedp.SendKeys(css("#password"), user.Password),
		chromedp.Click(css("#login")), step("verify"), chromedp.WaitVisible(css("#otp")))
	b.Screenshot("otp-asked")
	code, _ := phoneCode(t, sb, user.Username)
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	b.Do("wrong code", chromedp.SendKeys(css("#otp"), wrong), chromedp.Click(css("#verify")), step("verify"), chromedp.WaitVisible(css("#alert")))
	if got, want := b.Text("#alert"), msg(t, en, "otp.failed"); got != want {
		t.Errorf("wrong code says %q, want %q", got, want)
	}
	b.Screenshot("otp-wrong")
	b.Do("right code", chromedp.SendKeys(css("#otp"), code), chromedp.Click(css("#verify")), step("accounts"))
	ids := b.Values(`input[name=account]`)
	if len(ids) == 0 {
		t.Fatal("no account offered after the second factor")
	}
	b.Do("choose", chromedp.Click(css(`input[name=account][value="`+ids[0]+`"]`)), chromedp.Click(css("#continue")), step("review"))
	b.Do("approve", chromedp.Click(css("#approve")), step("success"), chromedp.WaitVisible(css("#back-to-dc")))
	b.Screenshot("otp-approved")
	if v := j.view(); v.Status != "authorized" {
		t.Errorf("PayNet holds the consent as %q, want authorized", v.Status)
	}
}

// TestBrowserSecondFactorApp: the page waits for the bank's app by reloading itself (no
// script); an approval on the sandbox phone moves the browser on to the accounts, a refusal
// ends the journey.
func TestBrowserSecondFactorApp(t *testing.T) {
	browsertest.Require(t)
	sb := browsertest.StartSandbox(t, func(o *sandbox.Options) { o.SecondFactor = "app" })
	user := sb.User(t, demoUser)
	for _, approve := range []bool{true, false} {
		j := newJourney(t, sb, browsertest.Options{})
		b := j.b
		b.Do("open the authorize link", chromedp.Navigate(j.authorize), step("login"))
		b.Do("log in", chromedp.SendKeys(css("#username"), user.Username), chromedp.SendKeys(css("#password"), user.Password),
			chromedp.Click(css("#login")), step("verify"), chromedp.WaitVisible(css("#app-intro")))
		_, id := phoneCode(t, sb, user.Username)
		action := "/refuse"
		if approve {
			action = "/approve"
		}
		client := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.PostForm(sb.Phone.URL+action, url.Values{"challenge_id": {id}})
		if err != nil || resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("sandbox phone %s: %v %v", action, resp, err)
		}
		resp.Body.Close()
		if approve {
			b.Do("the page notices the approval", step("accounts"))
			b.Screenshot("app-approved")
			continue
		}
		b.Do("the page notices the refusal", step("error"), chromedp.WaitVisible(css("#back-to-dc")))
		b.Screenshot("app-refused")
		if v := j.view(); v.Status != "failed" {
			t.Errorf("PayNet holds the refused consent as %q, want failed", v.Status)
		}
	}
}
