package conformance

import (
	"bytes"
	"errors"
	"net/url"
	"strings"

	"golang.org/x/net/html"
)

// This file reads the DP's customer pages (HTML from the network: untrusted input) with
// golang.org/x/net/html, the WHATWG-conformant tokenizer and tree builder, and keeps only what
// the journey driver needs: the forms (action, method, fields, submit buttons), the alert shown
// to the customer, the journey step and the visible text.

// maxPage bounds the HTML the runner reads from one answer.
const maxPage = 2 << 20

// maxForms and maxControls bound what is kept from one page.
const (
	maxForms    = 32
	maxControls = 256
)

// field is a form control that carries a value: an input that is not a button, or a textarea.
type field struct {
	Name, Type, Value, ID string
	Checked               bool
}

// button is a submit control: <button> (type submit, the default) or <input type=submit>.
type button struct {
	Name, Value, ID, Text string
}

// form is one <form>: Action resolved against the page URL, Method upper-case (GET default).
type form struct {
	Action  string
	Method  string
	Fields  []field
	Buttons []button
}

// hidden returns the hidden fields as form values.
func (f *form) hidden() url.Values {
	v := url.Values{}
	for _, fl := range f.Fields {
		if fl.Type == "hidden" && fl.Name != "" {
			v.Add(fl.Name, fl.Value)
		}
	}
	return v
}

// parsedPage is what the runner keeps of an HTML page.
type parsedPage struct {
	Title string
	Forms []form
	// Alert is the text of the first element with role="alert".
	Alert string
	// Step is the data-step attribute of <main> (the ofpdp journey pages carry one).
	Step string
	// Text is the visible text, white space collapsed.
	Text string
	// Links are the absolute hrefs of <a> elements that carry an id, by id.
	Links map[string]string
}

// errNotHTML is returned for a body that is not an HTML document.
var errNotHTML = errors.New("conformance: not an HTML page")

// parsePage parses an HTML page. base resolves relative form actions; an action that does not
// parse is kept as "" (the form is then unusable, which the driver reports).
func parsePage(body []byte, base *url.URL) (*parsedPage, error) {
	if len(body) > maxPage {
		body = body[:maxPage]
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, errNotHTML
	}
	doc, err := html.Parse(bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	p := &parsedPage{}
	var text strings.Builder
	controls := 0
	// inForm is the index in p.Forms of the form being walked, -1 outside forms (an index, not a
	// pointer: appending may move the slice).
	var walk func(n *html.Node, inForm int, depth int)
	walk = func(n *html.Node, inForm int, depth int) {
		if depth > 512 {
			return
		}
		if n.Type == html.TextNode {
			if !inInvisible(n) {
				text.WriteString(n.Data)
				text.WriteByte(' ')
			}
			return
		}
		if n.Type == html.ElementNode {
			control := func() *form {
				if inForm < 0 || controls >= maxControls {
					return nil
				}
				controls++
				return &p.Forms[inForm]
			}
			switch n.Data {
			case "title":
				if p.Title == "" {
					p.Title = collapse(textOf(n))
				}
			case "a":
				if id, href := attr(n, "id"), attr(n, "href"); id != "" && href != "" && len(p.Links) < maxForms {
					if p.Links == nil {
						p.Links = map[string]string{}
					}
					if _, seen := p.Links[id]; !seen {
						p.Links[id] = resolve(base, href)
					}
				}
			case "main":
				if p.Step == "" {
					p.Step = attr(n, "data-step")
				}
			case "form":
				inForm = -1
				if len(p.Forms) < maxForms {
					p.Forms = append(p.Forms, form{Action: resolve(base, attr(n, "action")), Method: method(attr(n, "method"))})
					inForm = len(p.Forms) - 1
				}
			case "input":
				if f := control(); f != nil {
					addInput(f, n)
				}
			case "button":
				if f := control(); f != nil {
					if t := strings.ToLower(attr(n, "type")); t == "" || t == "submit" {
						f.Buttons = append(f.Buttons, button{Name: attr(n, "name"), Value: attr(n, "value"),
							ID: attr(n, "id"), Text: collapse(textOf(n))})
					}
				}
			case "textarea":
				if f := control(); f != nil {
					f.Fields = append(f.Fields, field{Name: attr(n, "name"), Type: "textarea", Value: textOf(n), ID: attr(n, "id")})
				}
			}
			if p.Alert == "" && attr(n, "role") == "alert" {
				p.Alert = collapse(textOf(n))
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, inForm, depth+1)
		}
	}
	walk(doc, -1, 0)
	p.Text = collapse(text.String())
	return p, nil
}

func addInput(f *form, n *html.Node) {
	t := strings.ToLower(attr(n, "type"))
	if t == "" {
		t = "text"
	}
	switch t {
	case "submit", "image":
		f.Buttons = append(f.Buttons, button{Name: attr(n, "name"), Value: attr(n, "value"), ID: attr(n, "id"), Text: attr(n, "value")})
	case "button", "reset":
	default:
		_, checked := attrOK(n, "checked")
		f.Fields = append(f.Fields, field{Name: attr(n, "name"), Type: t, Value: attr(n, "value"), ID: attr(n, "id"), Checked: checked})
	}
}

func inInvisible(n *html.Node) bool {
	for p := n.Parent; p != nil; p = p.Parent {
		if p.Type == html.ElementNode {
			switch p.Data {
			case "script", "style", "head", "template", "noscript":
				return true
			}
		}
	}
	return false
}

func attr(n *html.Node, name string) string {
	v, _ := attrOK(n, name)
	return v
}

func attrOK(n *html.Node, name string) (string, bool) {
	for _, a := range n.Attr {
		if a.Namespace == "" && a.Key == name {
			return a.Val, true
		}
	}
	return "", false
}

func textOf(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node, int)
	walk = func(n *html.Node, depth int) {
		if depth > 256 || b.Len() > 64<<10 {
			return
		}
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
			b.WriteByte(' ')
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, depth+1)
		}
	}
	walk(n, 0)
	return b.String()
}

func collapse(s string) string { return strings.Join(strings.Fields(s), " ") }

func method(m string) string {
	if strings.EqualFold(m, "post") {
		return "POST"
	}
	return "GET"
}

// resolve makes a form action absolute; an empty action is the page itself (HTML §4.10.21.3).
func resolve(base *url.URL, action string) string {
	if base == nil {
		return action
	}
	if action == "" {
		return base.String()
	}
	u, err := url.Parse(strings.TrimSpace(action))
	if err != nil {
		return ""
	}
	return base.ResolveReference(u).String()
}
