package conformance

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func sampleReport() *Report {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	r := &Report{Target: ReportTarget{APIURL: "https://127.0.0.1:8443", WebURL: "http://127.0.0.1:8444", DPID: "DP0000000001",
		DCID: "DC0000000001", SimURL: "http://127.0.0.1:8446"}, StartedAt: start, FinishedAt: start.Add(2345 * time.Millisecond)}
	r.add(Result{ID: "S1", Group: GroupSignatures, Check: "x-fapi-signature absent", Expected: "401 JWS.InvalidSignature",
		Got: "401 JWS.InvalidSignature", Outcome: Pass, Millis: 3})
	r.add(Result{ID: "S6-none", Group: GroupSignatures, Check: "alg none, empty signature", Expected: "401 JWS.InvalidSignature",
		Got: "200 application/json", Outcome: Fail, Millis: 2})
	r.add(Result{ID: "U11-other", Group: GroupJourney, Check: "Account form with another customer's account\n(alone, and next to an own one, which is a long description)",
		Expected: "refused", Got: "needs a second user", Outcome: Skip})
	return r
}

func TestReportTableGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := sampleReport().WriteTable(&buf); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "report.golden")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("table differs from %s:\n%s", golden, buf.String())
	}
}

func TestReportCountsAndJSON(t *testing.T) {
	r := sampleReport()
	if r.Passed != 1 || r.Failed != 1 || r.Skipped != 1 || r.OK() {
		t.Errorf("counts %d/%d/%d ok %v", r.Passed, r.Failed, r.Skipped, r.OK())
	}
	if f := r.Failures(); len(f) != 1 || f[0].ID != "S6-none" {
		t.Errorf("failures %+v", f)
	}
	if _, ok := r.Result("nope"); ok {
		t.Error("Result found a missing id")
	}
	var buf bytes.Buffer
	if err := r.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Results) != 3 || back.Results[1].Outcome != Fail || back.Failed != 1 || back.Target.DPID != "DP0000000001" {
		t.Errorf("round trip %+v", back)
	}
	var raw map[string]any
	_ = json.Unmarshal(buf.Bytes(), &raw)
	for _, k := range []string{"target", "started_at", "finished_at", "passed", "failed", "skipped", "results"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("JSON report has no %q", k)
		}
	}
	empty := &Report{}
	if !empty.OK() {
		t.Error("an empty report is not OK")
	}
}

func TestCell(t *testing.T) {
	for _, tc := range []struct {
		in   string
		max  int
		want string
	}{
		{"a\n b\t\tc", 10, "a b c"},
		{"abcdef", 4, "abc…"},
		{"é€x\x00y", 10, "é€xy"},
		{"exactly", 7, "exactly"},
	} {
		if got := cell(tc.in, tc.max); got != tc.want {
			t.Errorf("cell(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
	}
}

// TestReportJUnit parses the JUnit XML back: one test case per row, the counts of the report,
// failures carrying expected and got, skipped rows marked.
func TestReportJUnit(t *testing.T) {
	rep := sampleReport()
	var buf bytes.Buffer
	if err := rep.WriteJUnit(&buf); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Suites []struct {
			Name     string `xml:"name,attr"`
			Tests    int    `xml:"tests,attr"`
			Failures int    `xml:"failures,attr"`
			Cases    []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
					Body    string `xml:",chardata"`
				} `xml:"failure"`
				Skipped *struct{} `xml:"skipped"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("JUnit XML does not parse: %v\n%s", err, buf.String())
	}
	var totals struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Skipped  int `xml:"skipped,attr"`
	}
	if err := xml.Unmarshal(buf.Bytes(), &totals); err != nil {
		t.Fatal(err)
	}
	if totals.Tests != len(rep.Results) || totals.Failures != rep.Failed || totals.Skipped != rep.Skipped {
		t.Errorf("totals %+v, report %d/%d/%d", totals, len(rep.Results), rep.Failed, rep.Skipped)
	}
	cases, failures, skipped := 0, 0, 0
	for _, s := range doc.Suites {
		for _, c := range s.Cases {
			cases++
			if c.Failure != nil {
				failures++
				if c.Name != "S6-none alg none, empty signature" || !strings.Contains(c.Failure.Body, "expected: 401 JWS.InvalidSignature") ||
					!strings.Contains(c.Failure.Body, "got: 200 application/json") || !strings.Contains(c.Failure.Message, "got 200") {
					t.Errorf("failure %q: %+v", c.Name, c.Failure)
				}
			}
			if c.Skipped != nil {
				skipped++
			}
		}
	}
	if cases != len(rep.Results) || failures != rep.Failed || skipped != rep.Skipped {
		t.Errorf("parsed %d cases, %d failures, %d skipped; report has %d, %d, %d", cases, failures, skipped,
			len(rep.Results), rep.Failed, rep.Skipped)
	}
	if len(doc.Suites) != 2 || doc.Suites[0].Name != GroupSignatures || doc.Suites[0].Tests != 2 || doc.Suites[0].Failures != 1 {
		t.Errorf("suites %+v", doc.Suites)
	}
}
