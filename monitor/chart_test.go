package monitor

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// exampleDataset is the real capture example (when present) plus synthetic
// records around it, some below the threshold, over about 40 minutes.
func exampleDataset(t *testing.T) *Dataset {
	t.Helper()
	ds := &Dataset{Source: "s3://scones-bucket/data_capture/"}
	t0 := time.Date(2025, 10, 4, 8, 30, 0, 0, time.UTC)
	if dir := realCaptureDirOptional(t); dir != "" {
		real, err := Read(context.Background(), NewDirLister(dir), time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		ds.Records = append(ds.Records, real.Records...)
		ds.Files = append(ds.Files, real.Files...)
	}
	rng := rand.New(rand.NewPCG(7, 7))
	for i := range 160 {
		at := t0.Add(time.Duration(rng.Float64() * float64(40*time.Minute)))
		var top float64
		switch {
		case i%4 == 0: // unsure: below the threshold
			top = 0.5 + 0.43*rng.Float64()
		default:
			top = 1 - 0.07*math.Pow(rng.Float64(), 2)
		}
		out := []float64{top, 1 - top}
		if rng.IntN(2) == 1 {
			out = []float64{1 - top, top}
		}
		ds.Records = append(ds.Records, Record{Time: at, Output: out, Key: "synthetic", Line: i + 1})
	}
	sortRecords(ds.Records)
	ds.Errors = []ParseError{{Key: "synthetic", Line: 99, Err: io.ErrUnexpectedEOF}}
	return ds
}

func realCaptureDirOptional(t *testing.T) string {
	dir := filepath.Join(moduleRoot(t), "..", "shared", "data", "cifar100-bikes", "examples", "data-capture")
	if _, err := os.Stat(dir); err != nil {
		t.Logf("real data set absent (%v): the example chart uses synthetic records only", err)
		return ""
	}
	return dir
}

func sortRecords(rs []Record) {
	for i := 1; i < len(rs); i++ {
		for j := i; j > 0 && rs[j].Time.Before(rs[j-1].Time); j-- {
			rs[j], rs[j-1] = rs[j-1], rs[j]
		}
	}
}

func TestWriteReport(t *testing.T) {
	t.Parallel()
	ds := exampleDataset(t)
	s := Summarize(ds, DefaultThreshold, &ExecutionCounts{Succeeded: 120, FailedThreshold: 41})
	dir := filepath.Join(t.TempDir(), "scones-out")
	files, err := WriteReport(dir, ds, s)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(dir, ChartPNG), filepath.Join(dir, ChartSVG), filepath.Join(dir, SummaryJSON)}
	if strings.Join(files, ",") != strings.Join(want, ",") {
		t.Errorf("files %v, want %v", files, want)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 3 {
		t.Errorf("dir holds %d entries (temporary files left?)", len(entries))
	}

	// PNG: decodes, the expected size, and not blank: both colours and
	// the threshold line's dark grey are there.
	f, err := os.Open(files[0])
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(f)
	f.Close()
	if err != nil {
		t.Fatalf("monitor.png: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 1430 || b.Dy() != 715 {
		t.Errorf("monitor.png is %v, want 1430x715", b)
	}
	n := countColors(img, passColor(), failColor(), thresholdColor())
	if n[0] < 500 || n[1] < 500 || n[2] < 200 {
		t.Errorf("monitor.png: %d pass-coloured, %d fail-coloured, %d threshold-coloured pixels", n[0], n[1], n[2])
	}
	if y := dashedRow(img); y < 0 {
		t.Error("monitor.png: no dashed horizontal line (the threshold) in the scatter panel")
	} else {
		t.Logf("dashed threshold line at pixel row %d", y)
	}

	// SVG: well-formed XML with an svg root, of a sane size, with the
	// labels in it.
	svg, err := os.ReadFile(files[1])
	if err != nil {
		t.Fatal(err)
	}
	if len(svg) < 20_000 || len(svg) > 5_000_000 {
		t.Errorf("monitor.svg is %d bytes", len(svg))
	}
	dec := xml.NewDecoder(bytes.NewReader(svg))
	root := ""
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("monitor.svg is not XML: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok && root == "" {
			root = se.Name.Local
		}
	}
	if root != "svg" {
		t.Errorf("monitor.svg root element %q", root)
	}
	for _, want := range []string{"Top confidence over inference time", "threshold 0.93", "Predicted bicycle", "Predicted motorcycle", "08:40"} {
		if !bytes.Contains(svg, []byte(want)) {
			t.Errorf("monitor.svg lacks %q", want)
		}
	}

	var back Summary
	b, err := os.ReadFile(files[2])
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &back); err != nil || back.Captures != s.Captures || back.Executions == nil || back.Executions.FailedThreshold != 41 {
		t.Errorf("summary.json: %v %+v", err, back)
	}

	// To look at the chart:
	// SCONES_MONITOR_CHART=/tmp/monitor go test ./monitor/ -run 'TestWriteReport$'
	// copies the report to /tmp/monitor/.
	if out := os.Getenv("SCONES_MONITOR_CHART"); out != "" {
		if err := os.MkdirAll(out, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(out, filepath.Base(f)), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		t.Logf("report copied to %s", out)
	}
}

// countColors counts the pixels close to each colour, in one pass.
func countColors(img image.Image, cs ...color.Color) []int {
	want := make([]color.NRGBA, len(cs))
	for i, c := range cs {
		want[i] = color.NRGBAModel.Convert(c).(color.NRGBA)
	}
	n := make([]int, len(cs))
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			got := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			for i, w := range want {
				if absDiff(got.R, w.R) < 40 && absDiff(got.G, w.G) < 40 && absDiff(got.B, w.B) < 40 && got.A > 200 {
					n[i]++
				}
			}
		}
	}
	return n
}

// dashedRow finds a pixel row in the scatter panel (the left 60% of the
// figure, away from the title and the axes' labels) made of many short
// dark runs: a dashed line. It returns -1 when there is none.
func dashedRow(img image.Image) int {
	b := img.Bounds()
	dark := func(x, y int) bool {
		c := color.GrayModel.Convert(img.At(x, y)).(color.Gray)
		return c.Y < 90
	}
	for y := b.Min.Y + b.Dy()*15/100; y < b.Min.Y+b.Dy()*85/100; y++ {
		var runs []int
		run := 0
		for x := b.Min.X + b.Dx()*10/100; x < b.Min.X+b.Dx()*60/100; x++ {
			if dark(x, y) {
				run++
				continue
			}
			if run > 0 {
				runs = append(runs, run)
			}
			run = 0
		}
		if len(runs) < 25 {
			continue
		}
		ok := true
		for _, r := range runs[1 : len(runs)-1] { // the first and last can be cut
			ok = ok && r >= 5 && r <= 16
		}
		if ok {
			return y
		}
	}
	return -1
}

func absDiff(a, b uint8) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}

func TestWriteChartEdgeCases(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2025, 12, 31, 23, 59, 59, 0, time.UTC)
	for name, ds := range map[string]*Dataset{
		"one record":  {Records: []Record{{Time: t0, Output: []float64{0.8, 0.2}}}},
		"all passing": {Records: []Record{{Time: t0, Output: []float64{0.99, 0.01}}, {Time: t0.Add(time.Second), Output: []float64{0.01, 0.99}}}},
		"three classes, low confidence, over days": {Records: []Record{
			{Time: t0, Output: []float64{0.3, 0.3, 0.4}},
			{Time: t0.Add(50 * time.Hour), Output: []float64{0.1, 0.9}},
		}},
		"empty": {},
	} {
		for _, th := range []float64{DefaultThreshold, 0, 1} {
			s := Summarize(ds, th, nil)
			formats := []string{"svg"}
			if th == DefaultThreshold { // PNG is slow under -race: once per case
				formats = append(formats, "png")
			}
			for _, format := range formats {
				var buf bytes.Buffer
				if err := WriteChart(&buf, format, ds, s); err != nil {
					t.Errorf("%s, threshold %v, %s: %v", name, th, format, err)
				}
				if buf.Len() < 1000 {
					t.Errorf("%s, %s: %d bytes", name, format, buf.Len())
				}
				if out := os.Getenv("SCONES_MONITOR_CHART"); out != "" && format == "png" {
					if err := os.WriteFile(filepath.Join(out, strings.ReplaceAll(name, " ", "_")+".png"), buf.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
	}
	if err := WriteChart(io.Discard, "gif", &Dataset{}, Summary{}); err == nil {
		t.Error("gif: no error")
	}
}

func TestWriteReportUnwritableDir(t *testing.T) {
	file := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := WriteReport(filepath.Join(file, "out"), &Dataset{}, Summary{}); err == nil {
		t.Error("no error for a report dir under a file")
	}
}

func TestBins(t *testing.T) {
	edges := binEdges(0.5, 1, 0.93)
	hasT := false
	for i, e := range edges {
		hasT = hasT || e == 0.93
		if i > 0 && (e-edges[i-1] < 0.02 || e-edges[i-1] > 0.03) {
			t.Errorf("bin %d width %v", i, e-edges[i-1])
		}
	}
	if !hasT || edges[0] != 0.5 || edges[len(edges)-1] != 1 {
		t.Errorf("edges %v", edges)
	}
	bins := binCounts([]float64{0.5, 0.93, 0.9300001, 1, 1}, edges, 0.93)
	var below, above float64
	for _, b := range bins {
		if b.Max <= 0.93 {
			below += b.Weight
		} else {
			above += b.Weight
		}
	}
	if below != 2 || above != 3 {
		t.Errorf("below %v above %v: a value at the threshold is a fail", below, above)
	}
	if bins[0].Weight != 1 || bins[len(bins)-1].Weight != 2 {
		t.Errorf("outer bins %v %v", bins[0], bins[len(bins)-1])
	}
}

func TestTickers(t *testing.T) {
	base := float64(time.Date(2025, 10, 4, 8, 30, 0, 0, time.UTC).Unix())
	for _, tc := range []struct {
		span  float64
		first string
	}{
		{40, "08:30:00"},
		{40 * 60, "08:30"},
		{6 * 3600, "09:00"},
		{3 * 86400, "Oct 4 12:00"},
		{3 * 3600, "08:30"},
		{30 * 86400, "Oct 9"},
	} {
		ticks := clockTicks{}.Ticks(base, base+tc.span)
		var got []string
		for _, tk := range ticks {
			if tk.Label != "" {
				got = append(got, tk.Label)
			}
		}
		if len(got) < 2 || len(got) > 8 || got[0] != tc.first {
			t.Errorf("span %vs: labels %v, want 2 to 8 starting %q", tc.span, got, tc.first)
		}
	}
	// Across midnight: the date on the first label and on the new day's.
	var got []string
	mid := float64(time.Date(2025, 12, 31, 23, 58, 0, 0, time.UTC).Unix())
	for _, tk := range (clockTicks{}).Ticks(mid, mid+240) {
		if tk.Label != "" {
			got = append(got, tk.Label)
		}
	}
	if strings.Join(got, "|") != "Dec 31 23:58|23:59|Jan 1 00:00|00:01|00:02" {
		t.Errorf("labels across midnight: %q", got)
	}
	got = nil
	for _, tk := range (confTicks{}).Ticks(0.5, 1) {
		if tk.Label != "" {
			got = append(got, tk.Label)
		}
	}
	if strings.Join(got, " ") != "0.5 0.6 0.7 0.8 0.9 1.0" {
		t.Errorf("confidence labels %v", got)
	}
	got = nil
	for _, tk := range (countTicks{}).Ticks(0, 37) {
		got = append(got, tk.Label)
	}
	if strings.Join(got, " ") != "0 10 20 30" {
		t.Errorf("count labels %v", got)
	}
}
