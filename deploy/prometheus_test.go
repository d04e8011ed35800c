package deploy

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// TestAlertRules: prometheus/alerts.yaml is valid (promtool check rules) and its alerts fire,
// and stay quiet, as prometheus/alerts_test.yaml expects (promtool test rules).
func TestAlertRules(t *testing.T) {
	promtool := need(t, "promtool", "apt-get install prometheus")
	dir := filepath.Join(repoRoot(t), "deploy", "prometheus")
	run(t, dir, promtool, "check", "rules", "alerts.yaml")
	run(t, dir, promtool, "test", "rules", "alerts_test.yaml")
}

// TestGrafanaDashboard: grafana/ofpdp.json is a dashboard whose every query is valid PromQL
// (promtool checks them as recording rules) and whose panels all have queries.
func TestGrafanaDashboard(t *testing.T) {
	promtool := need(t, "promtool", "apt-get install prometheus")
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "deploy", "grafana", "ofpdp.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		UID    string `json:"uid"`
		Title  string `json:"title"`
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("ofpdp.json: %v", err)
	}
	if dash.UID == "" || dash.Title == "" || len(dash.Panels) == 0 {
		t.Fatalf("dashboard uid %q title %q with %d panels", dash.UID, dash.Title, len(dash.Panels))
	}
	var rules strings.Builder
	rules.WriteString("groups:\n  - name: dashboard\n    rules:\n")
	for i, p := range dash.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for j, target := range p.Targets {
			// The dashboard's $job variable becomes a regex matching everything.
			expr := strings.ReplaceAll(target.Expr, "$job", ".*")
			q, _ := json.Marshal(expr)
			fmt.Fprintf(&rules, "      - record: dashboard:panel_%d_%d\n        expr: %s\n", i, j, q)
		}
	}
	file := filepath.Join(t.TempDir(), "dashboard-rules.yaml")
	if err := os.WriteFile(file, []byte(rules.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	run(t, filepath.Dir(file), promtool, "check", "rules", file)
}

// TestAlertRunbooks: every alert has a runbook section in docs/deploy.md, and its runbook_url
// points at that section.
func TestAlertRunbooks(t *testing.T) {
	root := repoRoot(t)
	b, err := os.ReadFile(filepath.Join(root, "deploy", "prometheus", "alerts.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var rules struct {
		Groups []struct {
			Rules []struct {
				Alert       string            `json:"alert"`
				Annotations map[string]string `json:"annotations"`
			} `json:"rules"`
		} `json:"groups"`
	}
	if err := yaml.Unmarshal(b, &rules); err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join(root, "docs", "deploy.md"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			n++
			if !strings.Contains(string(doc), "\n### "+r.Alert+"\n") {
				t.Errorf("docs/deploy.md has no runbook section for %s", r.Alert)
			}
			if url := r.Annotations["runbook_url"]; !strings.HasSuffix(url, "docs/deploy.md#"+strings.ToLower(r.Alert)) {
				t.Errorf("%s: runbook_url %q does not point at its section", r.Alert, url)
			}
		}
	}
	if n == 0 {
		t.Error("alerts.yaml has no alerts")
	}
}
