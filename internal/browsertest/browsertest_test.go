package browsertest

import (
	"bytes"
	"context"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// fakeTB records Skip and Fatal instead of ending a real test.
type fakeTB struct {
	testing.TB
	skipped, failed string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Skip(args ...any) {
	f.skipped = fmt.Sprint(args...)
	runtime.Goexit()
}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failed = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// runTB runs fn with a fakeTB on its own goroutine (Skip and Fatalf end it).
func runTB(t *testing.T, fn func(testing.TB)) *fakeTB {
	f := &fakeTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(f)
	}()
	<-done
	return f
}

func TestRequireSkipRule(t *testing.T) {
	empty := t.TempDir()
	tests := []struct {
		name, ci            string
		wantSkip, wantFatal bool
	}{
		{name: "no browser, not CI: skip", ci: "", wantSkip: true},
		{name: "no browser, CI=false: skip", ci: "false", wantSkip: true},
		{name: "no browser, CI=true: fail", ci: "true", wantFatal: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("PATH", empty)
			t.Setenv("CI", tc.ci)
			var got string
			f := runTB(t, func(tb testing.TB) { got = Require(tb) })
			if (f.skipped != "") != tc.wantSkip || (f.failed != "") != tc.wantFatal {
				t.Fatalf("skipped=%q failed=%q, want skip %v fatal %v", f.skipped, f.failed, tc.wantSkip, tc.wantFatal)
			}
			if tc.wantSkip && f.skipped != SkipMessage {
				t.Errorf("skip message %q, want %q", f.skipped, SkipMessage)
			}
			if got != "" {
				t.Errorf("Require returned %q with no browser on PATH", got)
			}
		})
	}
	t.Run("browser on PATH", func(t *testing.T) {
		dir := t.TempDir()
		fake := filepath.Join(dir, "chromium-browser")
		if err := os.WriteFile(fake, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		t.Setenv("PATH", dir)
		t.Setenv("CI", "true")
		var got string
		f := runTB(t, func(tb testing.TB) { got = Require(tb) })
		if f.skipped != "" || f.failed != "" || got != fake {
			t.Fatalf("Require = %q (skipped %q, failed %q), want %q", got, f.skipped, f.failed, fake)
		}
	})
}

func TestSafeName(t *testing.T) {
	tests := map[string]string{
		"TestBrowserJourney":       "TestBrowserJourney",
		"login: wrong password":    "login-wrong-password",
		"review/en":                "review-en",
		"../../etc":                "etc",
		"":                         "step",
		"Bahasa Malaysia (360 px)": "Bahasa-Malaysia-360-px",
	}
	for in, want := range tests {
		if got := safeName(in); got != want {
			t.Errorf("safeName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestArtifactsRoot(t *testing.T) {
	t.Setenv(ArtifactsEnv, "")
	root, err := ArtifactsRoot()
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(root) != "testartifacts" {
		t.Fatalf("root %q is not testartifacts/", root)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(root), "go.mod")); err != nil {
		t.Fatalf("root %q is not beside go.mod: %v", root, err)
	}
	dir := t.TempDir()
	t.Setenv(ArtifactsEnv, dir)
	if root, err = ArtifactsRoot(); err != nil || root != dir {
		t.Fatalf("ArtifactsRoot with %s=%s: %q, %v", ArtifactsEnv, dir, root, err)
	}
}

const harnessPage = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>harness</title><link rel="stylesheet" href="/missing.css"></head>
<body><main data-step="one"><h1 id="h">Hello</h1>
<ul><li class="item">first</li><li class="item">second</li></ul>
<input name="a" value="x"><input name="a" value="y">
<form method="post" action="/go"><button id="go" type="submit">Go</button></form>
<script>throw new Error("boom")</script></main></body></html>`

const harnessPage2 = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>two</title></head>
<body><main data-step="two"><p>after the redirect</p></main></body></html>`

// TestBrowserHarness drives a real browser through the harness: screenshots are PNG files named
// by test and step, readers see the page, and errors the page causes are reported.
func TestBrowserHarness(t *testing.T) {
	t.Setenv(ArtifactsEnv, t.TempDir())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		switch {
		case r.URL.Path == "/" && r.Method == http.MethodGet:
			fmt.Fprint(w, harnessPage)
		case r.URL.Path == "/go" && r.Method == http.MethodPost:
			http.Redirect(w, r, "/hop", http.StatusSeeOther)
		case r.URL.Path == "/hop":
			http.Redirect(w, r, "/two?x=1", http.StatusFound)
		case r.URL.Path == "/two":
			w.WriteHeader(http.StatusUnauthorized) // an error page is an answer, not a page error
			fmt.Fprint(w, harnessPage2)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()

	b := New(t, Options{Width: 360, Height: 640, Mobile: true})
	b.Do("open", chromedp.Navigate(srv.URL), chromedp.WaitVisible(chromedp.CSS(`main[data-step="one"]`)))
	if got := b.Text("#h"); got != "Hello" {
		t.Errorf("Text = %q", got)
	}
	if got := b.Texts("li.item"); !slices.Equal(got, []string{"first", "second"}) {
		t.Errorf("Texts = %q", got)
	}
	if got := b.Texts("li.none"); got == nil || len(got) != 0 {
		t.Errorf("Texts of nothing = %#v, want an empty slice", got)
	}
	if got := b.Values(`input[name=a]`); !slices.Equal(got, []string{"x", "y"}) {
		t.Errorf("Values = %q", got)
	}
	if got := b.Count("li"); got != 2 {
		t.Errorf("Count = %d", got)
	}
	if got := b.URL(); got != srv.URL+"/" {
		t.Errorf("URL = %q", got)
	}
	width := Run(b, "width", chromedp.Evaluate[int](`window.innerWidth`))
	if width != 360 {
		t.Errorf("window width %d, want 360", width)
	}

	p := b.Screenshot("first page: open")
	if want := filepath.Join(os.Getenv(ArtifactsEnv), "TestBrowserHarness", "01-first-page-open.png"); p != want {
		t.Errorf("screenshot path %q, want %q", p, want)
	}
	png, err := os.ReadFile(p)
	if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("screenshot %s is not a PNG (%v)", p, err)
	}
	if p2 := b.Screenshot("again"); filepath.Base(p2) != "02-again.png" {
		t.Errorf("second screenshot %q, want 02-again.png", p2)
	}

	errs := strings.Join(b.Errors(), "\n")
	for _, want := range []string{"missing.css", "boom"} {
		if !strings.Contains(errs, want) {
			t.Errorf("Errors() does not report %q:\n%s", want, errs)
		}
	}
	if strings.Contains(errs, "favicon.ico") {
		t.Errorf("Errors() reports the browser's own favicon request:\n%s", errs)
	}
	if again := b.Errors(); len(again) != 0 {
		t.Errorf("Errors() did not forget: %q", again)
	}

	if got := b.Redirects(); len(got) != 0 {
		t.Errorf("redirects before any: %+v", got)
	}
	b.Do("post the form", chromedp.Click(chromedp.ID("go")), chromedp.WaitVisible(chromedp.CSS(`main[data-step="two"]`)))
	want := []Redirect{
		{Method: http.MethodPost, From: srv.URL + "/go", Status: http.StatusSeeOther, To: srv.URL + "/hop"},
		{Method: http.MethodGet, From: srv.URL + "/hop", Status: http.StatusFound, To: srv.URL + "/two?x=1"},
	}
	if got := b.Redirects(); !slices.Equal(got, want) {
		t.Errorf("Redirects() = %+v\nwant %+v", got, want)
	}
	if got := b.Redirects(); len(got) != 0 {
		t.Errorf("Redirects() did not forget: %+v", got)
	}
	if errs := b.Errors(); len(errs) != 0 {
		t.Errorf("Errors() reports a page served with an error status: %q", errs)
	}
}

// TestBrowserTrustCertFiles checks that a TLS server is reached only when its certificate is
// listed: certificate errors are not ignored wholesale.
func TestBrowserTrustCertFiles(t *testing.T) {
	t.Setenv(ArtifactsEnv, t.TempDir())
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><title>tls</title><p id="ok">secure hello</p>`)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes of "not listed"
	srv.StartTLS()
	defer srv.Close()
	certFile := filepath.Join(t.TempDir(), "server.crt")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(certFile, pemBytes, 0o644); err != nil {
		t.Fatal(err)
	}

	t.Run("listed", func(t *testing.T) {
		b := New(t, Options{TrustCertFiles: []string{certFile}})
		b.Do("open", chromedp.Navigate(srv.URL), chromedp.WaitVisible(chromedp.ID("ok")))
		if got := b.Text("#ok"); got != "secure hello" {
			t.Errorf("Text = %q", got)
		}
	})
	t.Run("not listed", func(t *testing.T) {
		b := New(t, Options{})
		ctx, cancel := context.WithTimeout(b.Context(), DefaultStepTimeout)
		defer cancel()
		err := chromedp.Do(ctx, chromedp.Navigate(srv.URL))
		if err == nil || !strings.Contains(err.Error(), "CERT") {
			t.Fatalf("navigating to an untrusted TLS server: %v, want a certificate error", err)
		}
	})
	t.Run("no certificate in file", func(t *testing.T) {
		bad := filepath.Join(t.TempDir(), "empty.pem")
		if err := os.WriteFile(bad, []byte("not a certificate\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := spkiHashes([]string{bad}); err == nil {
			t.Fatal("spkiHashes accepted a file without certificates")
		}
	})
}

// TestBrowserBlockedStepFailsFast checks that a step whose request the browser blocks (here a
// form POST redirected to an origin the page's CSP form-action does not allow) fails at once
// with the browser's reason, not after the step timeout.
func TestBrowserBlockedStepFailsFast(t *testing.T) {
	t.Setenv(ArtifactsEnv, t.TempDir())
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><p id="arrived">elsewhere</p>`)
	}))
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'none'; form-action 'self'")
		if r.Method == http.MethodPost {
			http.Redirect(w, r, other.URL+"/", http.StatusSeeOther)
			return
		}
		fmt.Fprint(w, `<!doctype html><form method="post" action="/leave"><button id="leave">Leave</button></form>`)
	}))
	defer srv.Close()

	const timeout = 20 * time.Second
	var took time.Duration
	f := runTB(t, func(tb testing.TB) {
		b := New(tb, Options{StepTimeout: timeout})
		b.Do("open", chromedp.Navigate(srv.URL), chromedp.WaitVisible(chromedp.ID("leave")))
		start := time.Now()
		defer func() { took = time.Since(start) }()
		b.Do("leave", chromedp.Click(chromedp.ID("leave")), chromedp.WaitVisible(chromedp.ID("arrived")))
	})
	if f.skipped != "" {
		t.Skip(f.skipped)
	}
	if !strings.Contains(f.failed, `browser step "leave"`) || !strings.Contains(f.failed, "form-action") {
		t.Fatalf("the blocked step reported %q, want the CSP form-action violation", f.failed)
	}
	if took >= timeout/2 {
		t.Errorf("the blocked step failed after %s, want at once", took)
	}
}
