package conformance

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ofpdp/ofpdp/internal/ofp/sim"
	"github.com/ofpdp/ofpdp/internal/pki"
)

func TestRunRefusesBadOptions(t *testing.T) {
	pkiDir := t.TempDir()
	if _, err := pki.Generate(pkiDir, pki.Options{}); err != nil {
		t.Fatal(err)
	}
	good := Target{APIURL: "https://127.0.0.1:1", WebURL: "http://127.0.0.1:2", PKIDir: pkiDir,
		RedirectURI: "http://127.0.0.1:3/callback", DPID: "DP0000000001", DCID: "DC0000000001",
		Users: []User{{Username: "u", Password: "p"}}}
	simAPI := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"dp_id":"DP-OTHER","dc_id":"DC0000000001","dc_name":"Kira","redirect_uri":"http://127.0.0.1:3/callback"}`))
	}))
	defer simAPI.Close()
	client := &sim.Client{BaseURL: simAPI.URL}

	tests := []struct {
		name string
		mod  func(o *Options)
		want string
	}{
		{"no api url", func(o *Options) { o.Target.APIURL = "" }, "APIURL"},
		{"api over http", func(o *Options) { o.Target.APIURL = "http://127.0.0.1:1" }, "must be https"},
		{"relative web url", func(o *Options) { o.Target.WebURL = "/web" }, "WebURL"},
		{"no user", func(o *Options) { o.Target.Users = nil }, "at least one user"},
		{"no password", func(o *Options) { o.Target.Users = []User{{Username: "u"}} }, "at least one user"},
		{"no simulator", func(o *Options) { o.Sim = nil }, "Sim"},
		{"unknown group", func(o *Options) { o.Groups = []string{"fuzzing"} }, "unknown group"},
		{"no PKI", func(o *Options) { o.Target.PKIDir = t.TempDir() }, "PKI"},
		{"id number without id type", func(o *Options) { o.Target.Users[0].IDNumber = "900101-14-5678" }, "go together"},
		{"id type licence", func(o *Options) { o.Target.Users[0].IDType, o.Target.Users[0].IDNumber = "licence", "1" }, "go together"},
		{"empty only prefix", func(o *Options) { o.Only = []string{" "} }, "empty row id prefix"},
		{"simulator for another DP", func(o *Options) {}, "set up for dp_id"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := Options{Target: good, Sim: client}
			o.Target.Users = append([]User(nil), good.Users...)
			tc.mod(&o)
			_, err := Run(context.Background(), o)
			if !errors.Is(err, ErrOptions) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want ErrOptions mentioning %q", err, tc.want)
			}
		})
	}

	simAPI.Close()
	_, err := Run(context.Background(), Options{Target: good, Sim: client})
	if err == nil || !strings.Contains(err.Error(), "does not answer") {
		t.Errorf("unreachable simulator: %v", err)
	}
}

func TestRefusal(t *testing.T) {
	// Nothing listens on a port just closed: not reaching the DP is not a refusal.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, err = (&http.Client{}).Get("https://" + addr + "/")
	if got, ok := refusal(err); ok {
		t.Errorf("connection refused judged a TLS refusal: %s", got)
	}
	if got, ok := refusal(context.DeadlineExceeded); ok {
		t.Errorf("timeout judged a refusal: %s", got)
	}
	if got, ok := refusal(errors.New("remote error: tls: certificate required")); !ok {
		t.Errorf("TLS alert not judged a refusal: %s", got)
	}
}

// TestRunDPUnreachable: a DP that accepts no connection is a run that could not start
// (ErrUnreachable, exit code 2), not a report of failed rows.
func TestRunDPUnreachable(t *testing.T) {
	pkiDir := t.TempDir()
	if _, err := pki.Generate(pkiDir, pki.Options{}); err != nil {
		t.Fatal(err)
	}
	simAPI := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"dp_id":"DP0000000001","dc_id":"DC0000000001","dc_name":"Kira","redirect_uri":"http://127.0.0.1:3/callback"}`))
	}))
	defer simAPI.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	rep, err := Run(context.Background(), Options{Sim: &sim.Client{BaseURL: simAPI.URL}, Target: Target{
		APIURL: "https://" + addr, WebURL: "http://" + addr, PKIDir: pkiDir, RedirectURI: "http://127.0.0.1:3/callback",
		DPID: "DP0000000001", DCID: "DC0000000001", Users: []User{{Username: "u", Password: "p"}}}})
	if !errors.Is(err, ErrUnreachable) || rep != nil {
		t.Fatalf("Run = %v, %v; want ErrUnreachable and no report", rep, err)
	}
}

func TestSelected(t *testing.T) {
	r := &runner{o: Options{Only: []string{"s", "D1"}, Skip: []string{"S6-"}}, onlyUsed: map[string]bool{}}
	for id, want := range map[string]bool{"S1": true, "s10-past": true, "S6-none": false, "D13": true, "D4": false, "E2E-5": false} {
		if got := r.selected(id); got != want {
			t.Errorf("selected(%s) = %v", id, got)
		}
	}
	if !r.onlyUsed["s"] || !r.onlyUsed["D1"] {
		t.Errorf("onlyUsed = %v", r.onlyUsed)
	}
	if (&runner{o: Options{}}).selected("anything") != true {
		t.Error("no Only/Skip must select every row")
	}
}
