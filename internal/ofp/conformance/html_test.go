package conformance

import (
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
)

const loginPage = `<!doctype html><html lang="en"><head><title>Log in · Demo Bank</title>
<style>.x{color:red}</style><script>var secret = 1;</script></head>
<body><main id="content" data-step="login">
<div class="alert" role="alert" id="alert">We couldn't log you in.</div>
<form method="post" action="/journey/login" class="stack">
<input type="hidden" name="csrf" value="tok&amp;1">
<input id="username" name="username" type="text" value="aisyah">
<input id="password" name="password" type="password">
<button type="submit" id="login" class="btn primary">Log in</button>
<button type="button" id="show">Show</button>
</form>
<form method="post" action="/journey/cancel"><input type="hidden" name="csrf" value="tok&amp;1"><button id="cancel">Cancel</button></form>
</main></body></html>`

const accountsPage = `<main data-step="accounts"><form method="POST" action="accounts">
<input type="hidden" name="csrf" value="c">
<input type="checkbox" id="account-0" name="account" value="A1" checked>
<input type="checkbox" id="account-1" name="account" value="A2">
<input type="submit" id="continue" value="Continue">
</form></main>`

const reviewPage = `<main data-step="review"><p>Kira wants to see your balances.</p>
<form method="post" action="https://dp.example/journey/decision">
<input type="hidden" name="csrf" value="c"><input type="hidden" name="nonce" value="n">
<button type="submit" id="approve" name="decision" value="approve">Allow</button>
<button type="submit" id="reject" name="decision" value="reject">Don't allow</button>
</form></main>`

func TestParsePage(t *testing.T) {
	base, _ := url.Parse("http://127.0.0.1:8444/journey/login")

	p, err := parsePage([]byte(loginPage), base)
	if err != nil {
		t.Fatal(err)
	}
	if p.Title != "Log in · Demo Bank" || p.Step != "login" || p.Alert != "We couldn't log you in." {
		t.Errorf("title %q step %q alert %q", p.Title, p.Step, p.Alert)
	}
	if len(p.Forms) != 2 {
		t.Fatalf("%d forms", len(p.Forms))
	}
	pm := OfpdpPages()
	f := p.Forms[0]
	if f.Action != "http://127.0.0.1:8444/journey/login" || f.Method != "POST" || !pm.isLoginForm(&f) {
		t.Errorf("login form %+v", f)
	}
	if got := f.hidden().Get("csrf"); got != "tok&1" {
		t.Errorf("csrf %q (entities must be decoded)", got)
	}
	if len(f.Buttons) != 1 || f.Buttons[0].ID != "login" || f.Buttons[0].Text != "Log in" {
		t.Errorf("buttons %+v (type=button is not a submit)", f.Buttons)
	}
	if !pm.isCancelForm(&p.Forms[1]) {
		t.Error("cancel form not found")
	}
	if strings.Contains(p.Text, "secret") || strings.Contains(p.Text, "color") {
		t.Errorf("script or style text in the visible text: %q", p.Text)
	}

	p, err = parsePage([]byte(accountsPage), base)
	if err != nil {
		t.Fatal(err)
	}
	f = p.Forms[0]
	cb := slices.DeleteFunc(slices.Clone(f.Fields), func(fl field) bool { return !pm.isAccount(fl) })
	if !pm.isAccountsForm(&f) || len(cb) != 2 || cb[0].Value != "A1" || !cb[0].Checked || cb[1].Checked {
		t.Errorf("checkboxes %+v", cb)
	}
	if f.Action != "http://127.0.0.1:8444/journey/accounts" {
		t.Errorf("relative action resolved to %q", f.Action)
	}
	if b, ok := pm.button(&f, Control{ID: "continue"}); !ok || b.Value != "Continue" {
		t.Errorf("input type=submit as a button: %+v %v", b, ok)
	}

	p, err = parsePage([]byte(reviewPage), base)
	if err != nil {
		t.Fatal(err)
	}
	f = p.Forms[0]
	if !pm.isDecisionForm(&f) || f.Action != "https://dp.example/journey/decision" {
		t.Errorf("decision form %+v", f)
	}
	if b, ok := pm.button(&f, pm.Reject); !ok || b.Name != "decision" {
		t.Errorf("reject button %+v", b)
	}
	if !strings.Contains(p.Text, "Kira wants") {
		t.Errorf("text %q", p.Text)
	}
}

func TestParsePageEdgeCases(t *testing.T) {
	if _, err := parsePage([]byte("   "), nil); err == nil {
		t.Error("empty body parsed")
	}
	p, err := parsePage([]byte(`<form action="%zz"><input name=a></form><form><input type=checkbox name=c value=1></form>`), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Forms) != 2 || p.Forms[0].Fields[0].Type != "text" || p.Forms[1].Method != "GET" {
		t.Errorf("forms %+v", p.Forms)
	}
	base, _ := url.Parse("http://h/x")
	p, _ = parsePage([]byte(`<form action="%zz"></form><form></form>`), base)
	if p.Forms[0].Action != "" || p.Forms[1].Action != "http://h/x" {
		t.Errorf("actions %q %q", p.Forms[0].Action, p.Forms[1].Action)
	}
	// Bounds: no more than maxForms forms are kept.
	var many []byte
	for range maxForms + 5 {
		many = append(many, "<form><input name=x></form>"...)
	}
	p, _ = parsePage(many, nil)
	if len(p.Forms) != maxForms {
		t.Errorf("%d forms kept", len(p.Forms))
	}
}

// FuzzParsePage: the DP's pages are untrusted input; parsing never panics, keeps its bounds and
// resolves actions against the base.
func FuzzParsePage(f *testing.F) {
	for _, s := range []string{loginPage, accountsPage, reviewPage, "<form", "<main data-step=", "<<>>"} {
		f.Add([]byte(s))
	}
	base, _ := url.Parse("http://127.0.0.1:8444/journey/x")
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := parsePage(b, base)
		if err != nil {
			return
		}
		if len(p.Forms) > maxForms {
			t.Fatalf("%d forms", len(p.Forms))
		}
		n := 0
		for _, f := range p.Forms {
			n += len(f.Fields) + len(f.Buttons)
			if f.Method != "GET" && f.Method != "POST" {
				t.Fatalf("method %q", f.Method)
			}
			if f.Action != "" {
				if _, err := url.Parse(f.Action); err != nil {
					t.Fatalf("action %q does not parse", f.Action)
				}
			}
		}
		if n > maxControls {
			t.Fatalf("%d controls", n)
		}
	})
}

func TestParsePageMap(t *testing.T) {
	m := OfpdpPages()
	if m.Approve.Value != "approve" || m.Back.ID != "back-to-dc" || m.CSRFField != "csrf" {
		t.Errorf("built-in map %+v", m)
	}
	for _, bad := range []string{
		`{"approve":{"value":"a"},"reject":{"value":"b"},"cancel":{"id":"c"}}`,
		`{"approve":{"value":"a"},"reject":{"value":"a"},"cancel":{"id":"c"},"back":{"id":"d"}}`,
		`{"approve":{"value":"a"},"reject":{"value":"b"},"cancel":{"id":"c"},"back":{"id":"d"},"extra":1}`,
		`{"approve":{"value":"a"},"reject":{"value":"b"},"cancel":{"id":"c"},"back":{"id":"d"}} {}`,
		`[]`,
	} {
		if _, err := ParsePageMap([]byte(bad)); !errors.Is(err, ErrOptions) {
			t.Errorf("ParsePageMap(%s) = %v, want ErrOptions", bad, err)
		}
	}
}
