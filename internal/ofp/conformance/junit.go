package conformance

import (
	"encoding/xml"
	"fmt"
	"io"
	"slices"
)

// JUnit XML, as CI systems read it (the Ant/Surefire schema, "testsuites" root): one test suite
// per group, one test case per row, a <failure> carrying what was expected and what the DP did,
// and <skipped> for rows that could not be driven.

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Skipped   int         `xml:"skipped,attr"`
	Time      string      `xml:"time,attr"`
	Timestamp string      `xml:"timestamp,attr"`
	Cases     []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitMessage `xml:"failure"`
	Skipped   *junitMessage `xml:"skipped"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Body    string `xml:",chardata"`
}

func seconds(ms int64) string { return fmt.Sprintf("%.3f", float64(ms)/1000) }

// WriteJUnit writes the report as JUnit XML (the --junit file).
func (r *Report) WriteJUnit(w io.Writer) error {
	top := junitSuites{Name: "ofpdp conformance " + r.Target.APIURL, Tests: len(r.Results), Failures: r.Failed,
		Skipped: r.Skipped, Time: seconds(r.FinishedAt.Sub(r.StartedAt).Milliseconds())}
	var order []string
	for _, res := range r.Results {
		if !slices.Contains(order, res.Group) {
			order = append(order, res.Group)
		}
	}
	for _, g := range order {
		s := junitSuite{Name: g, Timestamp: r.StartedAt.UTC().Format("2006-01-02T15:04:05")}
		var ms int64
		for _, res := range r.Results {
			if res.Group != g {
				continue
			}
			c := junitCase{Name: res.ID + " " + res.Check, Classname: "conformance." + g, Time: seconds(res.Millis),
				SystemOut: "expected: " + res.Expected + "\ngot: " + res.Got}
			switch res.Outcome {
			case Fail:
				s.Failures++
				c.Failure = &junitMessage{Message: cell("expected "+res.Expected+"; got "+res.Got, 500), Type: "conformance",
					Body: "expected: " + res.Expected + "\ngot: " + res.Got}
			case Skip:
				s.Skipped++
				c.Skipped = &junitMessage{Message: cell(res.Got, 500)}
			}
			s.Tests++
			ms += res.Millis
			s.Cases = append(s.Cases, c)
		}
		s.Time = seconds(ms)
		top.Suites = append(top.Suites, s)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(top); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
