package browsertest

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// SkipMessage is why a browser test skips when no browser is installed (the README's promise).
const SkipMessage = "Chromium not installed: browser tests skipped (apt-get install chromium)"

// ArtifactsEnv names the directory screenshots are written to; unset, they go to testartifacts/
// at the repository root (gitignored).
const ArtifactsEnv = "OFPDP_TEST_ARTIFACTS"

// Defaults of Options.
const (
	DefaultWidth       = 1280
	DefaultHeight      = 900
	DefaultStepTimeout = 20 * time.Second
	DefaultLanguage    = "en-GB"
	// startTimeout bounds the browser's start-up (first tab).
	startTimeout = 30 * time.Second
)

// browserNames are the executables looked up on PATH, in order.
var browserNames = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// ErrNoBrowser is returned by FindBrowser when none of the browsers is on PATH.
var ErrNoBrowser = errors.New("browsertest: no chromium, chromium-browser or google-chrome on PATH")

// FindBrowser returns the path of the first Chromium-family browser found on PATH.
func FindBrowser() (string, error) {
	for _, name := range browserNames {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", ErrNoBrowser
}

// Require returns the browser to use. Without one the test is skipped, except under CI
// (CI=true), where a missing browser is a failure: CI must run the browser tests.
func Require(t testing.TB) string {
	t.Helper()
	p, err := FindBrowser()
	if err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true but %v: install chromium (apt-get install chromium)", err)
	}
	t.Skip(SkipMessage)
	return ""
}

// Options configure New. The zero value is a 1280×900 English browser.
type Options struct {
	// Width and Height are the viewport size in CSS pixels (emulated, so narrower than the
	// smallest headless window works: 360 for a phone).
	Width, Height int
	// Mobile emulates a phone: the page's meta viewport applies, portrait orientation.
	Mobile bool
	// Language is the browser's UI language and Accept-Language (default en-GB).
	Language string
	// TrustCertFiles are PEM files whose certificates the browser accepts for TLS although they
	// do not chain to a system root (e.g. the sandbox's dp-server.crt and ca.crt): their SPKI
	// hashes go to --ignore-certificate-errors-spki-list. Every other certificate error stays fatal.
	TrustCertFiles []string
	// StepTimeout bounds each Do (default 20 s).
	StepTimeout time.Duration
}

// Browser is one headless Chromium with one tab, owned by a test. Its methods must be called
// from the test's goroutine: a failing step stops the test with t.Fatal.
type Browser struct {
	t       testing.TB
	ctx     context.Context
	timeout time.Duration
	shots   string // directory of this test's screenshots

	mu        sync.Mutex
	n         int        // screenshots taken, numbers the files
	errors    []string   // console errors, failed loads, CSP violations, uncaught exceptions
	redirects []Redirect // HTTP redirects of top-level navigations
	methods   map[network.RequestID]string
	blocked   chan string // a security error (CSP violation, blocked content) during a step
}

// Redirect is one HTTP redirect the browser followed on a page navigation.
type Redirect struct {
	Method string // of the request that was redirected
	From   string
	Status int64
	To     string
}

// New starts a headless Chromium for t (skipping per Require when none is installed) and stops
// it when the test ends. The browser gets a fresh profile in t.TempDir() and flags that keep it
// off the network (no background networking, component updates, sync or QUIC; host names other
// than localhost and loopback addresses do not resolve).
func New(t testing.TB, o Options) *Browser {
	t.Helper()
	path := Require(t)
	if o.Width <= 0 {
		o.Width = DefaultWidth
	}
	if o.Height <= 0 {
		o.Height = DefaultHeight
	}
	if o.Language == "" {
		o.Language = DefaultLanguage
	}
	if o.StepTimeout <= 0 {
		o.StepTimeout = DefaultStepTimeout
	}
	// TempDir first: cleanups run last-in first-out, so the browser has exited before its
	// profile directory is removed.
	profile := t.TempDir()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // root in containers; the pages under test are our own
		chromedp.Headless,
		chromedp.NoFirstRun,
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(o.Width, o.Height),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("no-pings", true),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1, EXCLUDE [::1]"),
		chromedp.Flag("lang", o.Language),
		chromedp.Flag("accept-lang", o.Language),
	)
	if len(o.TrustCertFiles) > 0 {
		pins, err := spkiHashes(o.TrustCertFiles)
		if err != nil {
			t.Fatalf("browsertest: %v", err)
		}
		opts = append(opts, chromedp.Flag("ignore-certificate-errors-spki-list", strings.Join(pins, ",")))
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(cancelTab)

	b := &Browser{t: t, ctx: ctx, timeout: o.StepTimeout, shots: screenshotDir(t), methods: map[network.RequestID]string{}, blocked: make(chan string, 1)}
	// The first Run starts the browser and must not carry a timeout (it would end the browser);
	// a watchdog bounds it instead.
	started := make(chan struct{})
	watchdog := time.AfterFunc(startTimeout, cancelTab)
	go func() { <-started; watchdog.Stop() }()
	var vopts []chromedp.EmulateViewportOption
	if o.Mobile {
		vopts = append(vopts, chromedp.EmulateMobile, chromedp.EmulatePortrait)
	}
	err := chromedp.Do(ctx,
		chromedp.EmulateViewport(int64(o.Width), int64(o.Height), vopts...),
		chromedp.Navigate("about:blank"))
	close(started)
	if err != nil {
		t.Fatalf("browsertest: starting %s: %v", path, err)
	}
	if err := b.watch(); err != nil {
		t.Fatalf("browsertest: %v", err)
	}
	if err := os.RemoveAll(b.shots); err != nil {
		t.Fatalf("browsertest: clearing old screenshots: %v", err)
	}
	return b
}

// Context is the tab's chromedp context, for chromedp.Run/Do with actions the helpers lack.
func (b *Browser) Context() context.Context { return b.ctx }

// watch records what the browser reports as an error: console messages of level error (a
// blocked resource, a Content-Security-Policy violation, a subresource that failed to load) and
// uncaught exceptions; and the redirects of page navigations.
func (b *Browser) watch() error {
	err := chromedp.Listen(b.ctx, func(ev any) {
		var msg string
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			if ev.Type != network.ResourceTypeDocument || ev.Request == nil {
				return
			}
			b.mu.Lock()
			defer b.mu.Unlock()
			if ev.RedirectResponse != nil {
				b.redirects = append(b.redirects, Redirect{
					Method: b.methods[ev.RequestID], From: ev.RedirectResponse.URL,
					Status: ev.RedirectResponse.Status, To: ev.Request.URL,
				})
			}
			// A redirect's request reuses the id: remember the method it now has (303 → GET).
			b.methods[ev.RequestID] = ev.Request.Method
			return
		case *cdplog.EventEntryAdded:
			if ev.Entry == nil || ev.Entry.Level != cdplog.EntryLevelError || isFavicon(ev.Entry.URL) {
				return
			}
			if ev.Entry.Source == cdplog.EntrySourceNetwork && ev.Entry.NetworkRequestID != "" {
				// A page answered with an error status (a 401 login page, a 404) is the
				// server's answer under test, not a broken page.
				b.mu.Lock()
				_, doc := b.methods[ev.Entry.NetworkRequestID]
				b.mu.Unlock()
				if doc {
					return
				}
			}
			msg = fmt.Sprintf("%s: %s (%s)", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL)
			if ev.Entry.Source == cdplog.EntrySourceSecurity && strings.Contains(ev.Entry.Text, "has been blocked") {
				select { // the browser blocked a request: the running step cannot succeed
				case b.blocked <- msg:
				default:
				}
			}
		case *runtime.EventExceptionThrown:
			if ev.ExceptionDetails == nil {
				return
			}
			msg = "exception: " + ev.ExceptionDetails.Text
			if ex := ev.ExceptionDetails.Exception; ex != nil && ex.Description != "" {
				msg += " " + ex.Description
			}
		default:
			return
		}
		b.mu.Lock()
		b.errors = append(b.errors, msg)
		b.mu.Unlock()
	})
	if err != nil {
		return err
	}
	_, err = chromedp.Call(b.ctx, cdplog.Enable, cdp.Empty{})
	return err
}

// isFavicon reports a request for /favicon.ico, which the browser makes on its own for pages
// that declare no icon: its 404 is not the page's error.
func isFavicon(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && u.Path == "/favicon.ico"
}

// Errors returns the console errors, failed loads and uncaught exceptions seen so far, and
// forgets them.
func (b *Browser) Errors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.errors
	b.errors = nil
	return out
}

// Redirects returns the redirects of page navigations since the last call, in order, and
// forgets them.
func (b *Browser) Redirects() []Redirect {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.redirects
	b.redirects = nil
	return out
}

// Do runs the actions of one named step within the step timeout. When one fails, it saves a
// screenshot named "<step>-FAILED", and stops the test with the error, the page's URL and text.
//
// A step ends early when the browser blocks a request for security while it runs (a form
// submission or redirect against the Content-Security-Policy, blocked mixed content): what the
// step waits for would never come.
func (b *Browser) Do(step string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	select { // forget a block reported before this step
	case <-b.blocked:
	default:
	}
	ctx, cancel := context.WithTimeoutCause(b.ctx, b.timeout, fmt.Errorf("step timed out after %s", b.timeout))
	defer cancel()
	var why error
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		select {
		case msg := <-b.blocked:
			why = fmt.Errorf("the browser blocked it: %s", msg)
			cancel()
		case <-stop:
		}
	}()
	err := chromedp.Do(ctx, actions...)
	close(stop)
	<-done
	if err != nil {
		if why != nil {
			err = why
		} else if c := context.Cause(ctx); c != nil && ctx.Err() != nil {
			err = fmt.Errorf("%w: %w", c, err)
		}
		b.fail(step, err)
	}
}

// fail reports a failed step with what the page showed.
func (b *Browser) fail(step string, err error) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	where, _ := chromedp.Run(ctx, chromedp.Location())
	text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	shot := b.save(ctx, step+"-FAILED")
	reported := "none"
	if errs := b.Errors(); len(errs) > 0 {
		reported = "\n" + indent(strings.Join(errs, "\n"))
	}
	b.t.Fatalf("browser step %q: %v\n  at %s\n  screenshot %s\n  browser errors: %s\n  page text:\n%s",
		step, err, where, shot, reported, indent(text))
}

// Screenshot saves a full-page PNG of the current page as NN-<step>.png in the test's artifact
// directory and returns its path.
func (b *Browser) Screenshot(step string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, b.timeout)
	defer cancel()
	p := b.save(ctx, step)
	if p == "" {
		b.t.Fatalf("browser step %q: screenshot failed", step)
	}
	b.t.Logf("screenshot %s", p)
	return p
}

// save writes the screenshot and returns its path, "" on failure (reported with t.Errorf).
func (b *Browser) save(ctx context.Context, step string) string {
	b.t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Errorf("browsertest: screenshot %q: %v", step, err)
		return ""
	}
	b.mu.Lock()
	b.n++
	n := b.n
	b.mu.Unlock()
	if err := os.MkdirAll(b.shots, 0o755); err != nil {
		b.t.Errorf("browsertest: %v", err)
		return ""
	}
	p := filepath.Join(b.shots, fmt.Sprintf("%02d-%s.png", n, safeName(step)))
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Errorf("browsertest: %v", err)
		return ""
	}
	return p
}

// Run runs an action that returns a value within the step timeout; a failure stops the test.
func Run[T any](b *Browser, step string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, b.timeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.fail(step, err)
	}
	return v
}

// URL returns the address of the current page.
func (b *Browser) URL() string {
	b.t.Helper()
	return Run(b, "read the location", chromedp.Location())
}

// Text returns the visible text (innerText) of the first element matching the CSS selector,
// waiting for it to be present.
func (b *Browser) Text(css string) string {
	b.t.Helper()
	return Run(b, "read "+css, chromedp.Text(chromedp.CSS(css)))
}

// Texts returns the visible text of every element matching the CSS selector now, in document
// order; none gives an empty slice.
func (b *Browser) Texts(css string) []string {
	b.t.Helper()
	sel, _ := json.Marshal(css)
	out := Run(b, "read all "+css, chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll(`+string(sel)+`), e => e.innerText.trim())`))
	if out == nil {
		out = []string{}
	}
	return out
}

// Count returns how many elements match the CSS selector now.
func (b *Browser) Count(css string) int {
	b.t.Helper()
	sel, _ := json.Marshal(css)
	return Run(b, "count "+css, chromedp.Evaluate[int](`document.querySelectorAll(`+string(sel)+`).length`))
}

// Values returns the value attribute of every element matching the CSS selector now.
func (b *Browser) Values(css string) []string {
	b.t.Helper()
	sel, _ := json.Marshal(css)
	out := Run(b, "read values of "+css, chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll(`+string(sel)+`), e => e.value)`))
	if out == nil {
		out = []string{}
	}
	return out
}

// ArtifactsRoot is where screenshots go: $OFPDP_TEST_ARTIFACTS, or testartifacts/ at the root
// of the repository (the directory holding go.mod above the working directory).
func ArtifactsRoot() (string, error) {
	if d := os.Getenv(ArtifactsEnv); d != "" {
		return filepath.Abs(d)
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "testartifacts"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("browsertest: no go.mod above the working directory; set %s", ArtifactsEnv)
		}
		dir = parent
	}
}

// screenshotDir is the artifact directory of one test: ArtifactsRoot/<test name>, subtests
// nested as directories.
func screenshotDir(t testing.TB) string {
	t.Helper()
	root, err := ArtifactsRoot()
	if err != nil {
		t.Fatalf("browsertest: %v", err)
	}
	parts := strings.Split(t.Name(), "/")
	for i, p := range parts {
		parts[i] = safeName(p)
	}
	return filepath.Join(append([]string{root}, parts...)...)
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// safeName makes a file name of a test or step name.
func safeName(s string) string {
	s = strings.Trim(unsafeChars.ReplaceAllString(s, "-"), "-.")
	if s == "" {
		return "step"
	}
	return s
}

// spkiHashes returns base64(SHA-256(SubjectPublicKeyInfo)) of every certificate in the PEM files,
// the form --ignore-certificate-errors-spki-list takes.
func spkiHashes(files []string) ([]string, error) {
	var out []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		n := 0
		for {
			var blk *pem.Block
			blk, b = pem.Decode(b)
			if blk == nil {
				break
			}
			if blk.Type != "CERTIFICATE" {
				continue
			}
			c, err := x509.ParseCertificate(blk.Bytes)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			sum := sha256.Sum256(c.RawSubjectPublicKeyInfo)
			out = append(out, base64.StdEncoding.EncodeToString(sum[:]))
			n++
		}
		if n == 0 {
			return nil, fmt.Errorf("%s: no certificate", f)
		}
	}
	return out, nil
}

func indent(s string) string {
	if len(s) > 4000 {
		s = s[:4000] + "…"
	}
	return "    " + strings.ReplaceAll(strings.TrimSpace(s), "\n", "\n    ")
}
