package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

func TestZZScreens(t *testing.T) {
	if os.Getenv("SHOTS") == "" {
		t.Skip()
	}
	hs := newHarness(t, func(o *Options) {
		o.InsecureHTTP = true
		o.RedirectAllowlist = []string{"http://127.0.0.1:1/cb"}
		o.Now = time.Now
	})
	hs.store.put(testConsent(time.Now()))
	srv := httptest.NewServer(hs.h)
	defer srv.Close()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.NoSandbox, chromedp.WindowSize(360, 800))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel = context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	shot := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			b, err := chromedp.FullScreenshot(90)(ctx, tg)
			if err != nil {
				return err
			}
			return os.WriteFile("/tmp/shots/"+name+".png", b, 0o644)
		})
	}
	lang := os.Getenv("SHOTS")
	err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+authorizeURL(testConsentID, "http://127.0.0.1:1/cb", "bad")),
		shot(lang+"0-error"),
		chromedp.Navigate(srv.URL+authorizeURL(testConsentID, "http://127.0.0.1:1/cb", testSig)),
		chromedp.WaitVisible("#username"),
		chromedp.Click("#lang-"+lang), chromedp.WaitVisible("#username"),
		shot(lang+"1-login"),
		chromedp.SendKeys("#username", "aisyah"), chromedp.SendKeys("#password", "bad"), chromedp.Click("#login"),
		chromedp.WaitVisible("#alert"), shot(lang+"1b-login-failed"),
		chromedp.SendKeys("#password", "Demo@1234"), chromedp.Click("#login"),
		chromedp.WaitVisible("#account-0"), shot(lang+"2-accounts"),
		chromedp.Click("#account-0"), chromedp.Click("#account-1"), chromedp.Click("#continue"),
		chromedp.WaitVisible("#approve"), shot(lang+"3-review"),
		chromedp.Click("#approve"), chromedp.WaitVisible("#back-to-dc"), shot(lang+"4-success"),
	)
	if err != nil {
		t.Fatal(err)
	}
	_ = http.StatusOK
}
