package connectortest

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteTable prints one line per row and a summary.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tCHECK\tRESULT\tDETAIL")
	for _, x := range r.Results {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", x.ID, x.Check, strings.ToUpper(x.Status), truncate(x.Detail, 160))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	verdict := "PASS"
	if r.Failed > 0 {
		verdict = "FAIL"
	}
	_, err := fmt.Fprintf(w, "%s: %d passed, %d failed, %d skipped against %s\n", verdict, r.Passed, r.Failed, r.Skipped, r.URL)
	return err
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}

// WriteJSON writes the report as JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

type junitSuite struct {
	XMLName  xml.Name    `xml:"testsuite"`
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	ClassName string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
}

// WriteJUnit writes the report as a JUnit XML test suite (CI systems read it).
func (r *Report) WriteJUnit(w io.Writer) error {
	s := junitSuite{Name: "ofpdp connector-test " + r.URL, Tests: len(r.Results), Failures: r.Failed, Skipped: r.Skipped}
	for _, x := range r.Results {
		c := junitCase{Name: x.ID + ": " + x.Check, ClassName: "connector", Time: fmt.Sprintf("%.3f", float64(x.Millis)/1000)}
		switch x.Status {
		case "fail":
			c.Failure = &junitMessage{Message: x.Detail}
		case "skip":
			c.Skipped = &junitMessage{Message: x.Detail}
		}
		s.Cases = append(s.Cases, c)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(s); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
