package obs

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// registeredNames are the metric names of every collector in Metrics.
func registeredNames(t *testing.T, m *Metrics) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	fqName := regexp.MustCompile(`fqName: "([^"]+)"`)
	v := reflect.ValueOf(m).Elem()
	for i := 0; i < v.NumField(); i++ {
		c, ok := v.Field(i).Interface().(prometheus.Collector)
		if !ok {
			continue
		}
		if _, isRegistry := c.(*prometheus.Registry); isRegistry {
			continue
		}
		ch := make(chan *prometheus.Desc, 16)
		go func() { c.Describe(ch); close(ch) }()
		for d := range ch {
			if n := fqName.FindStringSubmatch(d.String()); n != nil {
				names[n[1]] = true
			}
		}
	}
	return names
}

// TestDeployedQueriesUseExistingMetrics: every ofpdp_* metric the alert rules and the Grafana
// dashboard in deploy/ query is one this package registers, so a renamed metric cannot silence
// an alert.
func TestDeployedQueriesUseExistingMetrics(t *testing.T) {
	names := registeredNames(t, NewMetrics())
	if !names["ofpdp_build_info"] || !names["ofpdp_certificate_expiry_timestamp_seconds"] {
		t.Fatalf("registered %v: build info or certificate expiry missing", names)
	}
	metric := regexp.MustCompile(`ofpdp_[a-z0-9_]+`)
	for _, file := range []string{"deploy/prometheus/alerts.yaml", "deploy/prometheus/alerts_test.yaml", "deploy/grafana/ofpdp.json"} {
		b, err := os.ReadFile(filepath.Join("..", "..", file))
		if err != nil {
			t.Fatal(err)
		}
		found := 0
		for _, name := range metric.FindAllString(string(b), -1) {
			base := name
			for _, suffix := range []string{"_bucket", "_count", "_sum"} {
				if n, ok := strings.CutSuffix(name, suffix); ok && names[n] {
					base = n
				}
			}
			if !names[base] {
				t.Errorf("%s queries %s, which ofpdp does not export", file, name)
			}
			found++
		}
		if found == 0 {
			t.Errorf("%s names no ofpdp metric", file)
		}
	}
}

func TestBuildInfoMetric(t *testing.T) {
	m := NewMetrics()
	families, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "ofpdp_build_info" {
			continue
		}
		if len(f.Metric) != 1 || f.Metric[0].GetGauge().GetValue() != 1 {
			t.Fatalf("ofpdp_build_info = %v, want one series with value 1", f.Metric)
		}
		labels := map[string]string{}
		for _, l := range f.Metric[0].Label {
			labels[l.GetName()] = l.GetValue()
		}
		if labels["version"] == "" || labels["goversion"] == "" {
			t.Errorf("ofpdp_build_info labels %v, want version and goversion", labels)
		}
		return
	}
	t.Error("ofpdp_build_info not exported")
}
