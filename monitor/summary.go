package monitor

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// DefaultThreshold is the filter Lambda's default: an inference passes
// when its top confidence is above it.
const DefaultThreshold = 0.93

// ClassName names a predicted class: 0 is "bicycle", 1 "motorcycle"
// (the workflow's .lst labels), any other index "class <i>".
func ClassName(i int) string {
	switch i {
	case 0:
		return "bicycle"
	case 1:
		return "motorcycle"
	}
	return "class " + strconv.Itoa(i)
}

// numClasses is how many classes the workflow's classifier has; the
// summary always lists these, even when none was predicted.
const numClasses = 2

// ExecutionCounts is how the workflow executions ended, from the run step
// (pipeline.RunSummary), which the caller passes to Summarize.
type ExecutionCounts struct {
	Succeeded       int `json:"succeeded"`
	FailedThreshold int `json:"failed_threshold"`
	FailedOther     int `json:"failed_other"`
}

// Stats are top-confidence statistics over some records.
type Stats struct {
	Mean float64 `json:"mean"`
	Min  float64 `json:"min"`
	Max  float64 `json:"max"`
}

// ClassSummary is the summary of the records predicted as one class.
type ClassSummary struct {
	Count    int     `json:"count"`
	Passed   int     `json:"passed"`
	Failed   int     `json:"failed"`
	PassRate float64 `json:"pass_rate"`
	// TopConfidence is null when Count is 0.
	TopConfidence *Stats `json:"top_confidence"`
}

// Window is the time window of a summary.
type Window struct {
	// Since is the requested start (null: none).
	Since *time.Time `json:"since"`
	// First and Last are the first and last inference times read.
	First time.Time `json:"first"`
	Last  time.Time `json:"last"`
}

// LineError is a malformed capture line in the summary.
type LineError struct {
	File  string `json:"file"`
	Line  int    `json:"line"`
	Error string `json:"error"`
}

// Summary is the monitor step's result, written as summary.json.
type Summary struct {
	Source    string  `json:"source"`
	Threshold float64 `json:"threshold"`
	// Executions are the run step's counts; null when not given.
	Executions *ExecutionCounts `json:"executions"`
	Window     Window           `json:"window"`
	FilesRead  int              `json:"files_read"`
	Files      []string         `json:"files"`
	// IgnoredFiles are non-capture files found under the source.
	IgnoredFiles []string `json:"ignored_files"`
	// Captures counts the capture records in the window.
	Captures int `json:"captures"`
	// OutsideWindow counts records read but before window.since.
	OutsideWindow int `json:"outside_window"`
	// MalformedLines counts the lines that did not parse; Malformed lists
	// them.
	MalformedLines int         `json:"malformed_lines"`
	Malformed      []LineError `json:"malformed"`
	// Passed have top confidence > Threshold; PassRate is Passed/Captures.
	Passed        int     `json:"passed"`
	Failed        int     `json:"failed"`
	PassRate      float64 `json:"pass_rate"`
	TopConfidence *Stats  `json:"top_confidence"`
	// Classes are keyed by predicted class name (argmax of the output).
	Classes map[string]*ClassSummary `json:"classes"`
}

// Passes reports whether a top confidence passes the threshold, by the
// filter Lambda's rule: strictly above.
func Passes(top, threshold float64) bool { return top > threshold }

type statsAcc struct {
	n             int
	sum, min, max float64
}

func (a *statsAcc) add(v float64) {
	if a.n == 0 || v < a.min {
		a.min = v
	}
	if a.n == 0 || v > a.max {
		a.max = v
	}
	a.n++
	a.sum += v
}

func (a *statsAcc) stats() *Stats {
	if a.n == 0 {
		return nil
	}
	return &Stats{Mean: a.sum / float64(a.n), Min: a.min, Max: a.max}
}

func rate(k, n int) float64 {
	if n == 0 {
		return 0
	}
	return float64(k) / float64(n)
}

// Summarize computes the summary of ds at threshold. execs are the run
// step's counts, nil when unknown (the summary then has executions null).
func Summarize(ds *Dataset, threshold float64, execs *ExecutionCounts) Summary {
	s := Summary{
		Source:         ds.Source,
		Threshold:      threshold,
		Executions:     execs,
		FilesRead:      len(ds.Files),
		Files:          append([]string{}, ds.Files...),
		IgnoredFiles:   append([]string{}, ds.Ignored...),
		Captures:       len(ds.Records),
		OutsideWindow:  ds.OutsideWindow,
		MalformedLines: len(ds.Errors),
		Malformed:      []LineError{},
		Classes:        map[string]*ClassSummary{},
	}
	if execs != nil {
		c := *execs
		s.Executions = &c
	}
	if !ds.Since.IsZero() {
		t := ds.Since.UTC()
		s.Window.Since = &t
	}
	if n := len(ds.Records); n > 0 {
		s.Window.First, s.Window.Last = ds.Records[0].Time, ds.Records[n-1].Time
	}
	for _, e := range ds.Errors {
		s.Malformed = append(s.Malformed, LineError{File: e.Key, Line: e.Line, Error: e.Err.Error()})
	}
	for i := range numClasses {
		s.Classes[ClassName(i)] = &ClassSummary{}
	}
	var all statsAcc
	per := map[string]*statsAcc{}
	for _, r := range ds.Records {
		top, cls := r.Top()
		name := ClassName(cls)
		c := s.Classes[name]
		if c == nil {
			c = &ClassSummary{}
			s.Classes[name] = c
		}
		if per[name] == nil {
			per[name] = &statsAcc{}
		}
		c.Count++
		if Passes(top, threshold) {
			c.Passed++
			s.Passed++
		} else {
			c.Failed++
			s.Failed++
		}
		all.add(top)
		per[name].add(top)
	}
	s.PassRate = rate(s.Passed, s.Captures)
	s.TopConfidence = all.stats()
	for name, c := range s.Classes {
		c.PassRate = rate(c.Passed, c.Count)
		if a := per[name]; a != nil {
			c.TopConfidence = a.stats()
		}
	}
	return s
}

// classNames returns the summary's class names, the workflow's first, in
// class order, then any others by name.
func (s Summary) classNames() []string {
	var names []string
	for i := range numClasses {
		names = append(names, ClassName(i))
	}
	var extra []string
	for name := range s.Classes {
		known := false
		for _, n := range names {
			known = known || n == name
		}
		if !known {
			extra = append(extra, name)
		}
	}
	sortNatural(extra)
	return append(names, extra...)
}

// sortNatural sorts "class 10" after "class 9".
func sortNatural(names []string) {
	key := func(s string) int {
		if n, err := strconv.Atoi(strings.TrimPrefix(s, "class ")); err == nil {
			return n
		}
		return math.MaxInt
	}
	sort.Slice(names, func(i, j int) bool {
		a, b := key(names[i]), key(names[j])
		return a < b || (a == b && names[i] < names[j])
	})
}

// maxMalformedShown is how many malformed lines PrintSummary lists.
const maxMalformedShown = 10

// PrintSummary writes s as a table for a terminal.
func PrintSummary(w io.Writer, s Summary) {
	fmt.Fprintf(w, "Monitor: %s\n", s.Source)
	window := "all"
	if s.Window.Since != nil {
		window = "since " + s.Window.Since.Format(time.RFC3339)
	}
	if s.Captures > 0 {
		window += fmt.Sprintf("; inferences %s to %s", s.Window.First.Format(time.RFC3339), s.Window.Last.Format(time.RFC3339))
	}
	fmt.Fprintf(w, "  window      %s\n", window)
	files := fmt.Sprintf("%d read", s.FilesRead)
	if n := len(s.IgnoredFiles); n > 0 {
		files += fmt.Sprintf(", %d non-capture %s ignored", n, plural(n, "file", "files"))
	}
	fmt.Fprintf(w, "  files       %s\n", files)
	captures := fmt.Sprintf("%d records", s.Captures)
	if s.OutsideWindow > 0 {
		captures += fmt.Sprintf(" (%d more before the window)", s.OutsideWindow)
	}
	fmt.Fprintf(w, "  captures    %s\n", captures)
	fmt.Fprintf(w, "  threshold   %s (pass: top confidence > threshold)\n", strconv.FormatFloat(s.Threshold, 'f', -1, 64))
	if e := s.Executions; e != nil {
		fmt.Fprintf(w, "  executions  %d succeeded, %d failed by threshold, %d failed otherwise\n", e.Succeeded, e.FailedThreshold, e.FailedOther)
	} else {
		fmt.Fprintf(w, "  executions  not given (the run step's counts were not passed in)\n")
	}
	fmt.Fprintln(w)

	names := s.classNames()
	width := len("predicted class")
	for _, n := range names {
		width = max(width, len(n))
	}
	fmt.Fprintf(w, "  %-*s %6s %6s %6s %10s %9s %8s %8s\n", width, "predicted class", "count", "pass", "fail", "pass rate", "mean top", "min top", "max top")
	row := func(name string, count, pass, fail int, st *Stats) {
		mean, lo, hi, pr := "-", "-", "-", "-"
		if st != nil {
			mean, lo, hi = f3(st.Mean), f3(st.Min), f3(st.Max)
		}
		if count > 0 {
			pr = fmt.Sprintf("%.1f%%", 100*rate(pass, count))
		}
		fmt.Fprintf(w, "  %-*s %6d %6d %6d %10s %9s %8s %8s\n", width, name, count, pass, fail, pr, mean, lo, hi)
	}
	for _, name := range names {
		c := s.Classes[name]
		row(name, c.Count, c.Passed, c.Failed, c.TopConfidence)
	}
	row("all", s.Captures, s.Passed, s.Failed, s.TopConfidence)

	if s.MalformedLines > 0 {
		fmt.Fprintf(w, "\n%d malformed capture lines (skipped, counted in summary.json):\n", s.MalformedLines)
		for i, e := range s.Malformed {
			if i == maxMalformedShown {
				fmt.Fprintf(w, "  ... and %d more\n", s.MalformedLines-maxMalformedShown)
				break
			}
			fmt.Fprintf(w, "  %s:%d: %s\n", e.File, e.Line, e.Error)
		}
	}
}

func f3(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }
