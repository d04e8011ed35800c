package sandbox

import (
	"html/template"
	"net/http"
	"strings"

	"github.com/ofpdp/ofpdp/connector"
	"github.com/ofpdp/ofpdp/internal/bank/demo"
)

// DefaultPhonePort is the port of the sandbox phone page (Ports.Phone).
const DefaultPhonePort = 8449

// phone is the sandbox's stand-in for the demo customers' phones: it shows the demo bank's
// pending second factor of each customer — the one-time code a real bank would send by SMS, or
// Approve/Refuse buttons for an approval a real bank would ask for in its app.
//
// It is a page of its own, not part of the mock DC or the PayNet simulator, because the code
// belongs to the bank's channel to its customer: the DC and PayNet never see it (and their
// packages never import the DP's), and the DP's own pages never show a code. Only the sandbox
// serves it, on loopback, for the demo bank.
type phone struct {
	bank  *demo.Connector
	users []UserInfo
	page  *template.Template
}

type phoneRow struct {
	Name, Username, ChallengeID, Code string
	App                               bool
}

var phonePage = template.Must(template.New("phone").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="3"><title>Sandbox phone · Demo Bank</title></head>
<body><main><h1>Sandbox phone</h1>
<p>What the demo bank would send to its customers' phones. This page reloads every 3 seconds. Sandbox only.</p>
<table><thead><tr><th>Customer</th><th>Second factor</th></tr></thead><tbody>
{{range .}}<tr id="phone-{{.Username}}"><td>{{.Name}} ({{.Username}})</td><td>
{{- if .Code}}One-time code: <output id="otp-{{.Username}}">{{.Code}}</output>
{{- else if .App}}Approve the sign-in?
<form method="post" action="/approve"><input type="hidden" name="challenge_id" value="{{.ChallengeID}}"><button id="approve-{{.Username}}">Approve</button></form>
<form method="post" action="/refuse"><input type="hidden" name="challenge_id" value="{{.ChallengeID}}"><button id="refuse-{{.Username}}">Refuse</button></form>
{{- else}}Nothing pending{{end}}</td></tr>
{{end}}</tbody></table></main></body></html>
`))

func newPhone(bank *demo.Connector, users []UserInfo) http.Handler {
	p := &phone{bank: bank, users: users, page: phonePage}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", p.show)
	mux.HandleFunc("POST /approve", func(w http.ResponseWriter, r *http.Request) { p.decide(w, r, true) })
	mux.HandleFunc("POST /refuse", func(w http.ResponseWriter, r *http.Request) { p.decide(w, r, false) })
	return http.NewCrossOriginProtection().Handler(mux)
}

func (p *phone) show(w http.ResponseWriter, r *http.Request) {
	rows := make([]phoneRow, 0, len(p.users))
	for _, u := range p.users {
		row := phoneRow{Name: u.Name, Username: u.Username}
		if id, m, code, ok := p.bank.SandboxChallenge(u.CustomerRef); ok {
			row.ChallengeID, row.Code, row.App = id, code, m == connector.MethodApp
		}
		rows = append(rows, row)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; form-action 'self'; frame-ancestors 'none'")
	_ = p.page.Execute(w, rows)
}

func (p *phone) decide(w http.ResponseWriter, r *http.Request, approve bool) {
	id := strings.TrimSpace(r.PostFormValue("challenge_id"))
	if !p.bank.SandboxDecide(id, approve) {
		http.Error(w, "no pending approval with that id", http.StatusNotFound)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}
