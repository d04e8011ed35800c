package conformance

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"
)

// Outcome is the verdict of one check.
type Outcome string

// Outcomes of a check. A skipped check could not be driven against this target (the reason is
// in Got); it neither passes nor fails the run.
const (
	Pass Outcome = "pass"
	Fail Outcome = "fail"
	Skip Outcome = "skip"
)

// Result is one row of the report: the case id (spec paynet-dp.md §7.6 step, Definition of Done
// item, or negative-tests.md id), what was checked, what the specification expects, what the DP
// did, and the verdict.
type Result struct {
	ID       string  `json:"id"`
	Group    string  `json:"group"`
	Check    string  `json:"check"`
	Expected string  `json:"expected"`
	Got      string  `json:"got"`
	Outcome  Outcome `json:"outcome"`
	Millis   int64   `json:"duration_ms"`
}

// ReportTarget names what was tested.
type ReportTarget struct {
	APIURL string `json:"dp_api_url"`
	WebURL string `json:"dp_web_url"`
	DPID   string `json:"dp_id"`
	DCID   string `json:"dc_id"`
	SimURL string `json:"paynet_simulator_url"`
}

// Report is the outcome of a run.
type Report struct {
	Target     ReportTarget `json:"target"`
	StartedAt  time.Time    `json:"started_at"`
	FinishedAt time.Time    `json:"finished_at"`
	Passed     int          `json:"passed"`
	Failed     int          `json:"failed"`
	Skipped    int          `json:"skipped"`
	Results    []Result     `json:"results"`
}

func (r *Report) add(res Result) {
	switch res.Outcome {
	case Pass:
		r.Passed++
	case Fail:
		r.Failed++
	case Skip:
		r.Skipped++
	}
	r.Results = append(r.Results, res)
}

// OK reports whether no check failed.
func (r *Report) OK() bool { return r.Failed == 0 }

// Failures returns the failed rows.
func (r *Report) Failures() []Result {
	var out []Result
	for _, res := range r.Results {
		if res.Outcome == Fail {
			out = append(out, res)
		}
	}
	return out
}

// Result returns the row with this id.
func (r *Report) Result(id string) (Result, bool) {
	for _, res := range r.Results {
		if res.ID == id {
			return res, true
		}
	}
	return Result{}, false
}

// WriteJSON writes the report as indented JSON (the --report file).
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// Column widths of the table; longer cells are cut with "…" (the JSON report has them whole).
const (
	colCheck    = 58
	colExpected = 40
	colGot      = 56
)

// WriteTable writes the human table: id, what was checked, expected, got, pass/fail; then a
// summary line.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tCHECK\tEXPECTED\tGOT\tRESULT")
	for _, res := range r.Results {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", res.ID, cell(res.Check, colCheck), cell(res.Expected, colExpected),
			cell(res.Got, colGot), strings.ToUpper(string(res.Outcome)))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	verdict := "PASS"
	if !r.OK() {
		verdict = "FAIL"
	}
	_, err := fmt.Fprintf(w, "\n%s: %d passed, %d failed, %d skipped (%d checks, %s)\n", verdict, r.Passed, r.Failed,
		r.Skipped, len(r.Results), r.FinishedAt.Sub(r.StartedAt).Round(100*time.Millisecond))
	return err
}

// cell flattens white space, drops control characters and cuts s to max runes.
func cell(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	rs := []rune(s)
	return string(rs[:max-1]) + "…"
}
