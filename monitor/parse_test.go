package monitor

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// moduleRoot finds the directory holding go.mod above the test's directory.
func moduleRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		up := filepath.Dir(dir)
		if up == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = up
	}
}

// realCaptureDir is the real data-capture example, skipping the test when
// the shared data set is absent.
func realCaptureDir(t testing.TB) string {
	t.Helper()
	data := filepath.Join(moduleRoot(t), "..", "shared", "data", "cifar100-bikes")
	dir := filepath.Join(data, "examples", "data-capture")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("real data set absent (%s: %v); the real capture example is not checked", data, err)
	}
	return dir
}

func realCaptureFiles(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(realCaptureDir(t), "captured_data", "AllTraffic", "2025", "10", "04", "08", "*.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("the real data set has no capture file under examples/data-capture/captured_data/AllTraffic/2025/10/04/08")
	}
	return files
}

func TestParseRealExample(t *testing.T) {
	for _, path := range realCaptureFiles(t) {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		key := filepath.Base(path)
		recs, perrs, err := Parse(f, key)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(perrs) != 0 {
			t.Fatalf("%s: malformed lines in the real example: %v", key, perrs)
		}
		if len(recs) == 0 {
			t.Fatalf("%s: no records", key)
		}
		t.Logf("%s: %d records", key, len(recs))
		for i, r := range recs {
			if r.Line != i+1 || r.Key != key {
				t.Errorf("record %d: key %q line %d", i, r.Key, r.Line)
			}
			if i > 0 && r.Time.Before(recs[i-1].Time) {
				t.Errorf("record %d: time %v before the previous %v", i, r.Time, recs[i-1].Time)
			}
			if r.Time.Year() != 2025 || r.Time.Location() != time.UTC {
				t.Errorf("record %d: time %v", i, r.Time)
			}
			if r.EventID == "" {
				t.Errorf("record %d: no event id", i)
			}
			if len(r.Output) != 2 {
				t.Errorf("record %d: output %v, want 2 probabilities", i, r.Output)
			}
			if sum := r.Output[0] + r.Output[1]; math.Abs(sum-1) > 1e-6 {
				t.Errorf("record %d: outputs %v sum to %v", i, r.Output, sum)
			}
			if r.InputContentType != "image/png" {
				t.Errorf("record %d: input content type %q", i, r.InputContentType)
			}
			cfg, err := png.DecodeConfig(bytes.NewReader(r.Input))
			if err != nil {
				t.Errorf("record %d: input is not a PNG: %v", i, err)
			} else if cfg.Width != 32 || cfg.Height != 32 {
				t.Errorf("record %d: input is %dx%d, want a 32x32 CIFAR image", i, cfg.Width, cfg.Height)
			}
		}
		// The one record of the committed example, exactly.
		if key == "44-11-981-04c92c7e-3666-48c8-963c-cb83a5bcf154.jsonl" {
			r := recs[0]
			if r.EventID != "8bab5840-5583-40c1-b8c1-35f456ca6ce5" || !r.Time.Equal(time.Date(2025, 10, 4, 8, 44, 11, 0, time.UTC)) ||
				r.Output[0] != 0.8227921724319458 || r.Output[1] != 0.1772077977657318 || r.InferenceID != "" {
				t.Errorf("record = %+v", r)
			}
			if top, cls := r.Top(); cls != 0 || Passes(top, DefaultThreshold) {
				t.Errorf("top = %v class %d: want a bicycle that fails the threshold", top, cls)
			}
		}
	}
}

func TestReadRealExampleDir(t *testing.T) {
	dir := realCaptureDir(t)
	ds, err := Read(context.Background(), NewDirLister(dir), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.Records) == 0 || len(ds.Errors) != 0 {
		t.Fatalf("%d records, errors %v", len(ds.Records), ds.Errors)
	}
	for _, k := range ds.Files {
		group, hour, ok := keyHour(k)
		if !ok || group != "captured_data/AllTraffic/" || !hour.Equal(time.Date(2025, 10, 4, 8, 0, 0, 0, time.UTC)) {
			t.Errorf("key %s: layout %q %v %v", k, group, hour, ok)
		}
	}
}

// line builds one capture line.
func line(t time.Time, outData, outEnc, outType string) string {
	return `{"captureData":{"endpointInput":{"observedContentType":"image/png","mode":"INPUT","data":"iVBORw0KGgo=","encoding":"BASE64"},` +
		`"endpointOutput":{"observedContentType":"` + outType + `","mode":"OUTPUT","data":"` + outData + `","encoding":"` + outEnc + `"}},` +
		`"eventMetadata":{"eventId":"e-` + t.Format("150405") + `","inferenceTime":"` + t.Format(time.RFC3339Nano) + `"},"eventVersion":"0"}`
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestParseEncodings(t *testing.T) {
	t0 := time.Date(2025, 10, 4, 8, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name, data, enc, ctype string
		want                   []float64
	}{
		{"json", "[0.25, 0.75]", "JSON", "application/json", []float64{0.25, 0.75}},
		{"json charset", "[0.25,0.75]", "JSON", "application/json; charset=utf-8", []float64{0.25, 0.75}},
		{"base64 json", b64("[0.9, 0.1]"), "BASE64", "application/json", []float64{0.9, 0.1}},
		{"csv", "0.4,0.6", "CSV", "text/csv", []float64{0.4, 0.6}},
		{"csv newline", `0.4, 0.6\n`, "CSV", "text/csv", []float64{0.4, 0.6}},
		{"base64 csv", b64("0.3,0.7"), "BASE64", "text/csv", []float64{0.3, 0.7}},
		{"base64 unknown type json", b64("[1,0]"), "BASE64", "application/octet-stream", []float64{1, 0}},
		{"base64 unknown type csv", b64("1,0"), "BASE64", "", []float64{1, 0}},
		{"lower-case encoding", "[0.5,0.5]", "json", "application/json", []float64{0.5, 0.5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recs, perrs, err := Parse(strings.NewReader(line(t0, tc.data, tc.enc, tc.ctype)), "k.jsonl")
			if err != nil || len(perrs) != 0 || len(recs) != 1 {
				t.Fatalf("records %v, errors %v, %v", recs, perrs, err)
			}
			r := recs[0]
			if len(r.Output) != len(tc.want) || r.Output[0] != tc.want[0] || r.Output[1] != tc.want[1] {
				t.Errorf("output %v, want %v", r.Output, tc.want)
			}
			if !r.Time.Equal(t0) || r.EventID != "e-080000" || string(r.Input) != "\x89PNG\r\n\x1a\n" || r.Key != "k.jsonl" || r.Line != 1 {
				t.Errorf("record %+v", r)
			}
		})
	}
}

func TestParseMalformedLinesReported(t *testing.T) {
	t0 := time.Date(2025, 10, 4, 8, 0, 0, 0, time.UTC)
	good := line(t0, "[0.9,0.1]", "JSON", "application/json")
	bad := []struct{ text, want string }{
		{`{"captureData":`, "not a capture record"},
		{`not json at all`, "not a capture record"},
		{`[1,2]`, "not a capture record"},
		{`{}`, "no eventMetadata"},
		{strings.Replace(good, `"inferenceTime":"2025-10-04T08:00:00Z"`, `"inferenceTime":"yesterday"`, 1), "not an RFC 3339 time"},
		{strings.Replace(good, `"inferenceTime":"2025-10-04T08:00:00Z"`, `"x":1`, 1), "no eventMetadata.inferenceTime"},
		{line(t0, "[0.9,0.1]", "XML", "application/json"), `unknown encoding "XML"`},
		{line(t0, "[0.9,0.1]", "", "application/json"), "no encoding"},
		{line(t0, "%%%", "BASE64", "application/json"), "not valid base64"},
		{line(t0, "[0.9,\\\"x\\\"]", "JSON", "application/json"), "not a JSON array of numbers"},
		{line(t0, "[]", "JSON", "application/json"), "no values"},
		{line(t0, "null", "JSON", "application/json"), "no values"},
		{line(t0, "[1.5,-0.5]", "JSON", "application/json"), "not a probability"},
		{line(t0, "0.5,abc", "CSV", "text/csv"), "not a number"},
		{line(t0, "NaN,0.5", "CSV", "text/csv"), "not a probability"},
		{line(t0, `0.5,0.5\n0.4,0.6`, "CSV", "text/csv"), "2 rows"},
		{line(t0, "<xml/>", "BASE64", "application/json"), "not valid base64"},
		{strings.Replace(good, `"mode":"OUTPUT"`, `"mode":"INPUT"`, 1), `endpointOutput: mode is "INPUT"`},
		{strings.Replace(good, `"endpointOutput"`, `"somethingElse"`, 1), "no captureData.endpointOutput"},
		{strings.Replace(good, `"data":"[0.9,0.1]"`, `"nodata":1`, 1), "no captureData.endpointOutput.data"},
		{strings.Replace(good, `"data":"iVBORw0KGgo="`, `"data":"@@"`, 1), "endpointInput: data is not valid base64"},
	}
	var in strings.Builder
	in.WriteString(good + "\n")
	for _, b := range bad {
		in.WriteString(b.text + "\n\n") // a blank line after each: skipped, but counted
	}
	in.WriteString(good) // no final newline
	recs, perrs, err := Parse(strings.NewReader(in.String()), "data_capture/ep/AllTraffic/2025/10/04/08/00-00-000-x.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0].Line != 1 || recs[1].Line != 2*len(bad)+2 {
		t.Errorf("records: %d, lines %v", len(recs), recs)
	}
	if len(perrs) != len(bad) {
		t.Fatalf("%d errors, want %d: %v", len(perrs), len(bad), perrs)
	}
	for i, b := range bad {
		e := perrs[i]
		wantLine := 2 + 2*i
		prefix := "data_capture/ep/AllTraffic/2025/10/04/08/00-00-000-x.jsonl:" + strconv.Itoa(wantLine) + ": "
		if e.Line != wantLine || !strings.HasPrefix(e.Error(), prefix) || !strings.Contains(e.Error(), b.want) {
			t.Errorf("bad line %d: got %q (line %d), want prefix %q containing %q", i, e.Error(), e.Line, prefix, b.want)
		}
	}
}

func TestParseLongLineAndCRLF(t *testing.T) {
	t0 := time.Date(2025, 10, 4, 8, 0, 0, 0, time.UTC)
	good := line(t0, "[0.9,0.1]", "JSON", "application/json")
	long := strings.Repeat("x", MaxLineBytes+10)
	in := good + "\r\n" + long + "\n" + good + "\r\n"
	recs, perrs, err := Parse(strings.NewReader(in), "f")
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[1].Line != 3 {
		t.Errorf("records %d (%v)", len(recs), recs)
	}
	if len(perrs) != 1 || perrs[0].Line != 2 || !strings.Contains(perrs[0].Error(), "longer than") {
		t.Errorf("errors %v", perrs)
	}
}

type failingReader struct{ n int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n > 0 {
		f.n = 0
		return copy(p, "{}\n"), nil
	}
	return 0, errors.New("connection reset")
}

func TestParseReadError(t *testing.T) {
	_, _, err := Parse(&failingReader{n: 1}, "k")
	if err == nil || !strings.Contains(err.Error(), "reading k") || !strings.Contains(err.Error(), "connection reset") {
		t.Errorf("err = %v", err)
	}
}
