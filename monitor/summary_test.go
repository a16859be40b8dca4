package monitor

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/summary.golden.json")

// testdataCapture is the committed capture tree: two files, records in
// each encoding (JSON, BASE64 of JSON, CSV, BASE64 of CSV), one exactly at
// the threshold, two malformed lines and one non-capture file.
const testdataCapture = "testdata/capture"

func TestSummaryGolden(t *testing.T) {
	ds, err := Read(context.Background(), NewDirLister(testdataCapture), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	s := Summarize(ds, DefaultThreshold, &ExecutionCounts{Succeeded: 4, FailedThreshold: 4, FailedOther: 0})
	got, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	golden := filepath.Join("testdata", "summary.golden.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./monitor/ -run TestSummaryGolden -update to create it)", err)
	}
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("%s: %v", golden, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("summary differs from %s (rerun with -update if the change is intended):\ngot:\n%s", golden, got)
	}

	// Facts the golden file must show, checked here so that -update
	// cannot bless a wrong summary.
	if s.Captures != 8 || s.Passed != 4 || s.Failed != 4 || s.MalformedLines != 2 || s.FilesRead != 2 {
		t.Errorf("captures %d pass %d fail %d malformed %d files %d", s.Captures, s.Passed, s.Failed, s.MalformedLines, s.FilesRead)
	}
	bike, moto := s.Classes["bicycle"], s.Classes["motorcycle"]
	if bike.Count != 4 || bike.Passed != 2 || moto.Count != 4 || moto.Passed != 2 {
		t.Errorf("bicycle %+v motorcycle %+v", bike, moto)
	}
	if bike.TopConfidence.Min != 0.6 || bike.TopConfidence.Max != 0.999 || moto.TopConfidence.Min != 0.8 {
		t.Errorf("stats: bicycle %+v motorcycle %+v", bike.TopConfidence, moto.TopConfidence)
	}
	var lines []string
	for _, m := range s.Malformed {
		lines = append(lines, m.File+":"+itoa(m.Line))
	}
	if strings.Join(lines, " ") != "scones-endpoint/AllTraffic/2025/10/04/08/10-00-123-6f1d2a4e-1b7c-4e0a-9c55-2a1f0d9e8b01.jsonl:7 "+
		"scones-endpoint/AllTraffic/2025/10/04/09/00-01-500-b3c9e2d0-7a41-4f6b-8d2e-5c0a9f1e3d02.jsonl:3" {
		t.Errorf("malformed at %v", lines)
	}
	if len(s.IgnoredFiles) != 1 || s.IgnoredFiles[0] != "scones-endpoint/README.txt" {
		t.Errorf("ignored %v", s.IgnoredFiles)
	}
	if !s.Window.First.Equal(time.Date(2025, 10, 4, 8, 10, 0, 123e6, time.UTC)) || !s.Window.Last.Equal(time.Date(2025, 10, 4, 9, 0, 20, 0, time.UTC)) || s.Window.Since != nil {
		t.Errorf("window %+v", s.Window)
	}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func TestSummaryWithoutExecutions(t *testing.T) {
	ds, err := Read(context.Background(), NewDirLister(testdataCapture), time.Date(2025, 10, 4, 8, 12, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	s := Summarize(ds, 0.5, nil)
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if v, ok := m["executions"]; !ok || v != nil {
		t.Errorf("executions = %v (present %v), want null", v, ok)
	}
	if m["captures"] != 4.0 || m["outside_window"] != 4.0 || m["window"].(map[string]any)["since"] != "2025-10-04T08:12:00Z" {
		t.Errorf("summary %s", b)
	}
	// At threshold 0.5 every record passes but none exactly at 0.5.
	if s.Passed != 4 || s.PassRate != 1 {
		t.Errorf("passed %d rate %v", s.Passed, s.PassRate)
	}

	var out bytes.Buffer
	PrintSummary(&out, s)
	for _, want := range []string{
		"executions  not given",
		"since 2025-10-04T08:12:00Z",
		"4 records (4 more before the window)",
		"predicted class",
		"bicycle",
		"motorcycle",
		"all",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("PrintSummary lacks %q:\n%s", want, out.String())
		}
	}
	t.Logf("\n%s", out.String())
}

func TestSummaryEmptyAndExtraClasses(t *testing.T) {
	s := Summarize(&Dataset{Source: "x"}, DefaultThreshold, nil)
	if _, err := json.Marshal(s); err != nil {
		t.Fatalf("empty summary does not marshal: %v", err)
	}
	if s.Classes["bicycle"] == nil || s.Classes["motorcycle"] == nil || s.TopConfidence != nil {
		t.Errorf("empty summary %+v", s)
	}
	var out bytes.Buffer
	PrintSummary(&out, s)

	ds := &Dataset{Records: []Record{{Output: []float64{0.1, 0.1, 0.8}}, {Output: []float64{0.5, 0.5}}}}
	s = Summarize(ds, DefaultThreshold, nil)
	if s.Classes["class 2"] == nil || s.Classes["class 2"].Count != 1 || s.Classes["bicycle"].Count != 1 {
		t.Errorf("classes %+v", s.Classes)
	}
	if got := s.classNames(); strings.Join(got, ",") != "bicycle,motorcycle,class 2" {
		t.Errorf("class names %v", got)
	}
	names := []string{"class 10", "class 9", "zeta", "class 2"}
	sortNatural(names)
	if strings.Join(names, ",") != "class 2,class 9,class 10,zeta" {
		t.Errorf("sortNatural: %v", names)
	}
}

func TestPassesIsStrict(t *testing.T) {
	if Passes(0.93, 0.93) || !Passes(0.9300001, 0.93) || Passes(0.5, 0.93) {
		t.Error("pass must be top confidence strictly above the threshold")
	}
}
