package monitor

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// FuzzParse checks that Parse never panics and that what it returns holds
// together: every non-blank line is a record or an error, in line order,
// and every record has a time and probabilities.
func FuzzParse(f *testing.F) {
	t0 := time.Date(2025, 10, 4, 8, 0, 0, 0, time.UTC)
	f.Add([]byte(line(t0, "[0.9,0.1]", "JSON", "application/json")))
	f.Add([]byte(line(t0, b64("[0.9,0.1]"), "BASE64", "application/json") + "\n\n" + line(t0, "0.2,0.8", "CSV", "text/csv") + "\r\n{}"))
	f.Add([]byte("{\n[1]\n\"x\"\n"))
	paths, _ := filepath.Glob(filepath.Join("testdata", "capture", "*", "*", "*", "*", "*", "*", "*.jsonl"))
	for _, p := range paths {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, perrs, err := Parse(bytes.NewReader(data), "fuzz.jsonl")
		if err != nil {
			t.Fatalf("a bytes.Reader cannot fail: %v", err)
		}
		lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
		nonBlank := 0
		for _, l := range lines {
			if len(bytes.TrimSpace([]byte(strings.TrimSuffix(l, "\r")))) > 0 {
				nonBlank++
			}
		}
		if len(recs)+len(perrs) != nonBlank {
			t.Fatalf("%d records + %d errors for %d non-blank lines", len(recs), len(perrs), nonBlank)
		}
		prev := 0
		for _, r := range recs {
			if r.Line <= prev || r.Line > len(lines) || r.Key != "fuzz.jsonl" {
				t.Fatalf("record line %d after %d of %d", r.Line, prev, len(lines))
			}
			prev = r.Line
			if r.Time.IsZero() || len(r.Output) == 0 {
				t.Fatalf("record %+v", r)
			}
			for _, p := range r.Output {
				if math.IsNaN(p) || p < -probEps || p > 1+probEps {
					t.Fatalf("output %v", r.Output)
				}
			}
			if top, cls := r.Top(); cls < 0 || cls >= len(r.Output) || top != r.Output[cls] {
				t.Fatalf("Top() = %v, %d for %v", top, cls, r.Output)
			}
		}
		for _, e := range perrs {
			if e.Line < 1 || e.Line > len(lines) || !strings.HasPrefix(e.Error(), "fuzz.jsonl:") {
				t.Fatalf("error %v at line %d of %d", e, e.Line, len(lines))
			}
		}
	})
}
