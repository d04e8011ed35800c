package conformance

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
)

// PageMap is a DP's page contract as data: how the journey driver recognises each step of the
// customer journey (spec §7.6 steps 5–10) and which controls it uses. ofpdp's own is built in
// (pagemaps/ofpdp.json); another DP's is given with --pages FILE (docs/conformance.md).
//
// A step is recognised by its form: the login form has the password field, the account form
// the account checkboxes, the review form both the approve and the reject button. Controls are
// matched by every member given (id, name, value). The alert shown to the customer is the
// element with the standard ARIA role="alert".
type PageMap struct {
	Login struct {
		// UsernameField and PasswordField are the names of the two inputs. An empty
		// UsernameField means every text or email input; an empty PasswordField every
		// password input.
		UsernameField string `json:"username_field"`
		PasswordField string `json:"password_field"`
	} `json:"login"`
	Accounts struct {
		// CheckboxName is the name of the account checkboxes (their values are the DP's
		// account ids); empty means every checkbox.
		CheckboxName string `json:"checkbox_name"`
	} `json:"accounts"`
	// Approve and Reject are the review form's two submit buttons.
	Approve Control `json:"approve"`
	Reject  Control `json:"reject"`
	// Cancel is the button that abandons the journey (on the account or review page).
	Cancel Control `json:"cancel"`
	// Back is "Back to {DC}" on the page where a journey ends: a link with this id, or a
	// submit button matching it.
	Back Control `json:"back"`
	// CSRFField is the hidden field carrying the anti-CSRF token (U10 drops it).
	CSRFField string `json:"csrf_field"`
}

// Control names a submit button: each non-empty member must match.
type Control struct {
	ID    string `json:"id,omitempty"`
	Name  string `json:"name,omitempty"`
	Value string `json:"value,omitempty"`
}

func (c Control) matches(b button) bool {
	return (c.ID == "" || b.ID == c.ID) && (c.Name == "" || b.Name == c.Name) && (c.Value == "" || b.Value == c.Value)
}

func (c Control) empty() bool { return c.ID == "" && c.Name == "" && c.Value == "" }

//go:embed pagemaps/ofpdp.json
var ofpdpPagesJSON []byte

// OfpdpPages is ofpdp's own page map, the default.
func OfpdpPages() *PageMap {
	m, err := ParsePageMap(ofpdpPagesJSON)
	if err != nil {
		panic("conformance: built-in page map: " + err.Error())
	}
	return m
}

// ParsePageMap reads a page map: JSON with only the members above; approve, reject, cancel and
// back must each name their control, and approve and reject must differ.
func ParsePageMap(b []byte) (*PageMap, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var m PageMap
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%w: page map: %v", ErrOptions, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: page map: data after the object", ErrOptions)
	}
	for name, c := range map[string]Control{"approve": m.Approve, "reject": m.Reject, "cancel": m.Cancel, "back": m.Back} {
		if c.empty() {
			return nil, fmt.Errorf("%w: page map: %s names no id, name or value", ErrOptions, name)
		}
	}
	if m.Approve == m.Reject {
		return nil, fmt.Errorf("%w: page map: approve and reject are the same control", ErrOptions)
	}
	return &m, nil
}

// LoadPageMap reads a page map file.
func LoadPageMap(path string) (*PageMap, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrOptions, err)
	}
	return ParsePageMap(b)
}

func (m *PageMap) button(f *form, c Control) (button, bool) {
	for _, b := range f.Buttons {
		if c.matches(b) {
			return b, true
		}
	}
	return button{}, false
}

// isUsername and isPassword tell the login inputs.
func (m *PageMap) isUsername(fl field) bool {
	if m.Login.UsernameField != "" {
		return fl.Name == m.Login.UsernameField
	}
	return fl.Type == "text" || fl.Type == "email"
}

func (m *PageMap) isPassword(fl field) bool {
	if m.Login.PasswordField != "" {
		return fl.Name == m.Login.PasswordField && fl.Type == "password"
	}
	return fl.Type == "password"
}

func (m *PageMap) isAccount(fl field) bool {
	return fl.Type == "checkbox" && (m.Accounts.CheckboxName == "" || fl.Name == m.Accounts.CheckboxName)
}

func (m *PageMap) isLoginForm(f *form) bool {
	for _, fl := range f.Fields {
		if m.isPassword(fl) {
			return true
		}
	}
	return false
}

func (m *PageMap) isAccountsForm(f *form) bool {
	for _, fl := range f.Fields {
		if m.isAccount(fl) {
			return true
		}
	}
	return false
}

func (m *PageMap) isDecisionForm(f *form) bool {
	_, a := m.button(f, m.Approve)
	_, r := m.button(f, m.Reject)
	return a && r
}

func (m *PageMap) isBackForm(f *form) bool   { _, ok := m.button(f, m.Back); return ok }
func (m *PageMap) isCancelForm(f *form) bool { _, ok := m.button(f, m.Cancel); return ok }

// loginValues fills the login form's inputs.
func (m *PageMap) loginValues(f *form, username, password string) url.Values {
	v := url.Values{}
	for _, fl := range f.Fields {
		switch {
		case m.isPassword(fl):
			v.Set(fl.Name, password)
		case m.isUsername(fl):
			v.Set(fl.Name, username)
		}
	}
	return v
}
