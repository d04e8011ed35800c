package conformance

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"time"
)

// browser is the customer's browser as far as the runner needs one: a cookie jar, the dev CA as
// its only root (so the web listener may be HTTPS), no client certificate, and redirects followed
// by hand so that every hop can be inspected. Redirects within the DP's web origin are followed;
// one that leaves it (to PayNet's redirect_uri) ends the navigation and is reported, not followed.
type browser struct {
	client *http.Client
	origin string // scheme://host[:port] of the DP web listener
}

// maxHops bounds the redirects followed in one navigation.
const maxHops = 10

func newBrowser(webURL string, roots *x509.CertPool, timeout time.Duration) (*browser, error) {
	u, err := url.Parse(webURL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("conformance: DP web URL %q: not an absolute URL", webURL)
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	tr := &http.Transport{
		TLSClientConfig:     &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots},
		TLSHandshakeTimeout: timeout,
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     30 * time.Second,
	}
	return &browser{
		client: &http.Client{Transport: tr, Jar: jar, Timeout: timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		origin: u.Scheme + "://" + u.Host,
	}, nil
}

// close drops idle connections.
func (b *browser) close() { b.client.CloseIdleConnections() }

// hop is one HTTP exchange of a navigation.
type hop struct {
	Method   string
	URL      string
	Status   int
	Location string
	Header   http.Header
}

// nav is the outcome of following a navigation to its end.
type nav struct {
	Hops []hop
	// Exit is the absolute Location of a redirect that leaves the DP's web origin (not followed).
	Exit string
	// ExitStatus is the status of the response that carried Exit.
	ExitStatus int
	// Page is the final page when the navigation ended on the DP (nil after an exit).
	Page *parsedPage
	// Status, Header and URL are those of the final response on the DP.
	Status int
	Header http.Header
	URL    *url.URL
}

// first is the first exchange.
func (n *nav) first() hop {
	if len(n.Hops) == 0 {
		return hop{}
	}
	return n.Hops[0]
}

// describe summarises a navigation for a report cell.
func (n *nav) describe() string {
	var parts []string
	for _, h := range n.Hops {
		s := fmt.Sprintf("%d", h.Status)
		if h.Location != "" {
			s += " → " + shortURL(h.Location)
		}
		parts = append(parts, s)
	}
	out := strings.Join(parts, ", ")
	if n.Page != nil {
		step := n.Page.Step
		if step == "" {
			step = n.Page.Title
		}
		out += fmt.Sprintf(" (page %q)", step)
	}
	return out
}

// shortURL keeps scheme, host and path of a URL and the names (not values) of its parameters.
func shortURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	out := u.Scheme + "://" + u.Host + u.Path
	if u.Scheme == "" {
		out = u.Path
	}
	q := u.Query()
	if len(q) > 0 {
		var names []string
		for k := range q {
			names = append(names, k)
		}
		slices.Sort(names)
		out += "?" + strings.Join(names, "&")
	}
	return out
}

// requestOpts alter one request of a navigation.
type requestOpts struct {
	// header is added to the first request.
	header http.Header
	// noOrigin leaves out the Origin header of a POST (browsers always send it on a form POST).
	noOrigin bool
}

// get navigates to rawURL.
func (b *browser) get(ctx context.Context, rawURL string) (*nav, error) {
	return b.navigate(ctx, http.MethodGet, rawURL, nil, requestOpts{})
}

// submit sends a form with values, as a browser does when the button is clicked. values replace
// the form's own fields of the same name; button, when its name is set, adds name=value.
func (b *browser) submit(ctx context.Context, f *form, values url.Values, btn *button, o requestOpts) (*nav, error) {
	if f == nil {
		return nil, errors.New("conformance: no form to submit")
	}
	if f.Action == "" {
		return nil, errors.New("conformance: the form's action does not parse")
	}
	v := f.hidden()
	for k, vs := range values {
		v[k] = vs
	}
	if btn != nil && btn.Name != "" {
		v.Set(btn.Name, btn.Value)
	}
	if f.Method == http.MethodGet {
		u, err := url.Parse(f.Action)
		if err != nil {
			return nil, err
		}
		u.RawQuery = v.Encode()
		return b.navigate(ctx, http.MethodGet, u.String(), nil, o)
	}
	return b.navigate(ctx, http.MethodPost, f.Action, v, o)
}

// post sends form values to a URL on the DP (a tampered or hand-made form).
func (b *browser) post(ctx context.Context, rawURL string, v url.Values, o requestOpts) (*nav, error) {
	return b.navigate(ctx, http.MethodPost, rawURL, v, o)
}

func (b *browser) navigate(ctx context.Context, method, rawURL string, form url.Values, o requestOpts) (*nav, error) {
	n := &nav{}
	cur := rawURL
	for i := 0; ; i++ {
		if i > maxHops {
			return n, fmt.Errorf("conformance: more than %d redirects", maxHops)
		}
		u, err := url.Parse(cur)
		if err != nil {
			return n, fmt.Errorf("conformance: URL %q: %w", shortURL(cur), err)
		}
		var body io.Reader
		if form != nil && method == http.MethodPost {
			body = strings.NewReader(form.Encode())
		}
		req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
		if err != nil {
			return n, err
		}
		req.Header.Set("Accept", "text/html,application/xhtml+xml")
		req.Header.Set("Accept-Language", "en")
		req.Header.Set("User-Agent", "ofpdp-conformance")
		if method == http.MethodPost {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if !o.noOrigin {
				req.Header.Set("Origin", b.origin)
			}
		}
		if i == 0 {
			for k, vs := range o.header {
				req.Header.Del(k)
				for _, v := range vs {
					req.Header.Add(k, v)
				}
			}
		}
		resp, err := b.client.Do(req)
		if err != nil {
			return n, err
		}
		data, rerr := io.ReadAll(io.LimitReader(resp.Body, maxPage+1))
		_ = resp.Body.Close()
		if rerr != nil {
			return n, fmt.Errorf("conformance: reading %s: %w", shortURL(cur), rerr)
		}
		h := hop{Method: method, URL: u.String(), Status: resp.StatusCode, Header: resp.Header}
		if resp.StatusCode >= 300 && resp.StatusCode < 400 {
			loc := resp.Header.Get("Location")
			if loc == "" {
				n.Hops = append(n.Hops, h)
				return n, fmt.Errorf("conformance: %d without Location", resp.StatusCode)
			}
			next, err := u.Parse(loc)
			if err != nil {
				n.Hops = append(n.Hops, h)
				return n, fmt.Errorf("conformance: Location does not parse: %w", err)
			}
			h.Location = next.String()
			n.Hops = append(n.Hops, h)
			if next.Scheme+"://"+next.Host != b.origin {
				n.Exit, n.ExitStatus = next.String(), resp.StatusCode
				return n, nil
			}
			// 303 (and 301/302 after a POST) turn into GET, as browsers do.
			if resp.StatusCode == http.StatusSeeOther || method == http.MethodPost && resp.StatusCode != http.StatusTemporaryRedirect && resp.StatusCode != http.StatusPermanentRedirect {
				method, form = http.MethodGet, nil
			}
			cur = next.String()
			continue
		}
		n.Hops = append(n.Hops, h)
		n.Status, n.Header, n.URL = resp.StatusCode, resp.Header, u
		if ct := resp.Header.Get("Content-Type"); strings.HasPrefix(strings.ToLower(ct), "text/html") {
			p, err := parsePage(data, u)
			if err != nil {
				return n, fmt.Errorf("conformance: page %s: %w", shortURL(cur), err)
			}
			n.Page = p
		} else {
			n.Page = &parsedPage{Text: collapse(string(data[:min(len(data), 512)]))}
		}
		return n, nil
	}
}
