package sim

import (
	"html/template"
	"net/http"
	"net/url"

	"github.com/ofpdp/ofpdp/internal/obs"
	"github.com/ofpdp/ofpdp/internal/ofp/wire"
)

// Callback outcomes (CallbackRecord.Outcome).
const (
	OutcomeAuthorized = "authorized"
	OutcomeError      = "error"
)

// maxCallbackParam bounds each query parameter kept from the callback.
const maxCallbackParam = 512

var callbackPage = template.Must(template.New("callback").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>PayNet OFP simulator</title></head>
<body><main>
<h1>PayNet OFP simulator</h1>
{{if .Problem}}<p id="problem">{{.Problem}}</p>{{else}}
<p>Consent <code id="consent-id">{{.ConsentID}}</code>: <strong id="outcome">{{.Outcome}}</strong></p>
{{if .Error}}<p id="error">{{.Error}}{{if .ErrorDescription}}: {{.ErrorDescription}}{{end}}</p>{{end}}
<p>No data consumer callback was given for this consent.</p>{{end}}
</main></body></html>
`))

type callbackPageData struct {
	Problem, ConsentID, Outcome, Error, ErrorDescription string
}

// handleCallback is the redirect_uri the DP sends the browser back to (design.md §3.10, spec §2.2
// step 10). It records the outcome, then, as PayNet does, sends the browser on (303) to the DC's
// callback with consent_id and either status=authorized or error/error_description. The outcome is
// authorized only when the DP sent no error and PayNet holds the consent as authorized (the DP's
// PATCH came first).
func (s *Sim) handleCallback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	id := q.Get("consent_id")
	obs.Info(r.Context()).ConsentID = id
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	rec := CallbackRecord{ReceivedAt: s.now().UTC(), Query: make(map[string]string, len(q))}
	for k, vs := range q {
		if len(rec.Query) >= 16 || len(k) > 64 || len(vs) == 0 {
			continue
		}
		v := vs[0]
		if len(v) > maxCallbackParam {
			v = v[:maxCallbackParam]
		}
		rec.Query[k] = v
	}
	var status wire.Status
	var dcRedirect string
	found := id != "" && s.state.update(id, func(r *record) {
		status, dcRedirect = r.consent.Status, r.dcRedirectURI
	})
	if !found {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusBadRequest)
		_ = callbackPage.Execute(w, callbackPageData{Problem: "The callback names no consent this simulator holds."})
		return
	}
	switch {
	case q.Get("error") != "":
		rec.Outcome = OutcomeError
		rec.Error = rec.Query["error"]
		rec.ErrorDescription = rec.Query["error_description"]
	case status == wire.StatusAuthorized:
		rec.Outcome = OutcomeAuthorized
	default:
		rec.Outcome = OutcomeError
		rec.Error = "server_error"
		rec.ErrorDescription = "PayNet holds the consent as " + string(status) + ", not authorized"
	}
	var target string
	if dcRedirect != "" {
		target = addQuery(dcRedirect, rec)
		rec.RedirectedTo = target
	}
	s.state.update(id, func(r *record) { cb := rec; r.callback = &cb })
	if target != "" {
		http.Redirect(w, r, target, http.StatusSeeOther)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = callbackPage.Execute(w, callbackPageData{
		ConsentID: id, Outcome: rec.Outcome, Error: rec.Error, ErrorDescription: rec.ErrorDescription,
	})
}

// addQuery adds the outcome to the DC's callback URL, keeping its own query parameters.
func addQuery(base string, rec CallbackRecord) string {
	u, err := url.Parse(base)
	if err != nil {
		return base
	}
	q := u.Query()
	q.Set("consent_id", rec.Query["consent_id"])
	if rec.Outcome == OutcomeAuthorized {
		q.Set("status", OutcomeAuthorized)
	} else {
		q.Set("error", rec.Error)
		if rec.ErrorDescription != "" {
			q.Set("error_description", rec.ErrorDescription)
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}
