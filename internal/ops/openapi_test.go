package ops

import (
	"os"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestOpenAPIMatchesRoutes: docs/admin-openapi.yaml documents exactly the admin routes, each with
// its role (x-role), so code and document stay in step.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	b, err := os.ReadFile("../../docs/admin-openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OpenAPI string `yaml:"openapi"`
		Paths   map[string]map[string]struct {
			Role string `yaml:"x-role"`
		} `yaml:"paths"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi %q", doc.OpenAPI)
	}
	var documented, coded []string
	for path, ops := range doc.Paths {
		for method, op := range ops {
			documented = append(documented, strings.ToUpper(method)+" "+path+" "+op.Role)
		}
	}
	for _, rt := range Routes() {
		coded = append(coded, rt.Method+" "+rt.Path+" "+rt.Role)
	}
	slices.Sort(documented)
	slices.Sort(coded)
	if !slices.Equal(documented, coded) {
		t.Fatalf("docs/admin-openapi.yaml and the routes differ:\ndocumented %q\ncoded      %q", documented, coded)
	}
}
