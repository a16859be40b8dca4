package capture

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// realFile is the real SageMaker capture file from the cifar100-bikes data
// set, copied into testdata so the test runs without the data set.
const realFile = "testdata/AllTraffic-2025-10-04-08-44-11-981.jsonl"

type memPutter struct {
	mu    sync.Mutex
	objs  map[string][]byte
	fails int
}

func (m *memPutter) Put(_ context.Context, bucket, key string, body []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fails > 0 {
		m.fails--
		return errors.New("injected failure")
	}
	if m.objs == nil {
		m.objs = map[string][]byte{}
	}
	m.objs[bucket+"/"+key] = append([]byte(nil), body...)
	return nil
}

func (m *memPutter) all() map[string][]byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string][]byte{}
	for k, v := range m.objs {
		out[k] = v
	}
	return out
}

func pct(n int) *int { return &n }

func bikesConfig() *DataCaptureConfig {
	return &DataCaptureConfig{
		InitialSamplingPercentage: pct(100),
		DestinationS3Uri:          "s3://bucket/data_capture",
		CaptureOptions:            []CaptureOption{{"Input"}, {"Output"}},
		CaptureContentTypeHeader:  &CaptureContentTypeHeader{CsvContentTypes: []string{"text/csv"}, JsonContentTypes: []string{"application/json"}},
	}
}

var eventIDRe = regexp.MustCompile(`"eventId":"[0-9a-f-]{36}"`)

// TestMatchesRealFile re-creates the real capture record from its own
// input and output and compares the bytes (the event id aside).
func TestMatchesRealFile(t *testing.T) {
	real, err := os.ReadFile(realFile)
	if err != nil {
		t.Fatal(err)
	}
	var rec struct {
		CaptureData struct {
			EndpointInput, EndpointOutput struct {
				ObservedContentType, Mode, Data, Encoding string
			}
		}
		EventMetadata struct{ EventID, InferenceTime string }
	}
	if err := json.Unmarshal(real, &rec); err != nil {
		t.Fatal(err)
	}
	in, err := base64.StdEncoding.DecodeString(rec.CaptureData.EndpointInput.Data)
	if err != nil {
		t.Fatal(err)
	}
	when, err := time.Parse(InferenceTimeLayout, rec.EventMetadata.InferenceTime)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := ConfigFrom(bikesConfig())
	if err != nil {
		t.Fatal(err)
	}
	p := &memPutter{}
	w, err := NewWriter(cfg, p, Options{Endpoint: "ep", Variant: "AllTraffic", FlushInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	w.Record(Event{Time: when.Add(981 * time.Millisecond), InputContentType: "image/png", Input: in,
		OutputContentType: "application/json", Output: []byte(rec.CaptureData.EndpointOutput.Data)})
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	objs := p.all()
	if len(objs) != 1 {
		t.Fatalf("got %d objects, want 1", len(objs))
	}
	keyRe := regexp.MustCompile(`^bucket/data_capture/ep/AllTraffic/2025/10/04/08/44-11-981-[0-9a-f-]{36}\.jsonl$`)
	for k, v := range objs {
		if !keyRe.MatchString(k) {
			t.Errorf("key %q does not match %s", k, keyRe)
		}
		got := eventIDRe.ReplaceAllString(string(v), `"eventId":"`+rec.EventMetadata.EventID+`"`)
		if got != string(real) {
			t.Errorf("record differs from the real file:\n got %.300s...\nwant %.300s...", got, real)
		}
	}
}

func TestEncodingsModesAndInferenceID(t *testing.T) {
	c := bikesConfig()
	c.CaptureOptions = []CaptureOption{{"Output"}}
	c.CaptureContentTypeHeader.CsvContentTypes = []string{"text/csv"}
	cfg, _ := ConfigFrom(c)
	p := &memPutter{}
	w, _ := NewWriter(cfg, p, Options{Endpoint: "ep", Variant: "v", FlushInterval: -1})
	w.Record(Event{InferenceID: "abc<1>", InputContentType: "image/png", Input: []byte{1, 2},
		OutputContentType: "text/csv; charset=utf-8", Output: []byte("0.1,0.9")})
	w.Record(Event{OutputContentType: "application/octet-stream", Output: []byte{0xff}})
	w.Close(context.Background())
	var lines []string
	for _, v := range p.all() {
		lines = append(lines, strings.Split(strings.TrimSuffix(string(v), "\n"), "\n")...)
	}
	if len(lines) != 2 {
		t.Fatalf("got %d lines", len(lines))
	}
	if !strings.HasPrefix(lines[0], `{"captureData":{"endpointOutput":{"observedContentType":"text/csv; charset=utf-8","mode":"OUTPUT","data":"0.1,0.9","encoding":"CSV"}},"eventMetadata":{"eventId":"`) ||
		!strings.Contains(lines[0], `"inferenceId":"abc<1>","inferenceTime":"`) {
		t.Errorf("line 0 = %s", lines[0])
	}
	if !strings.Contains(lines[1], `"data":"/w==","encoding":"BASE64"`) || strings.Contains(lines[1], "inferenceId") {
		t.Errorf("line 1 = %s", lines[1])
	}
}

func TestNoHeaderConfigMeansBase64(t *testing.T) {
	c := bikesConfig()
	c.CaptureContentTypeHeader = nil
	cfg, _ := ConfigFrom(c)
	p := &memPutter{}
	w, _ := NewWriter(cfg, p, Options{Endpoint: "ep", Variant: "v", FlushInterval: -1})
	w.Record(Event{OutputContentType: "application/json", Output: []byte("[1]")})
	w.Close(context.Background())
	for _, v := range p.all() {
		if !bytes.Contains(v, []byte(`"data":"WzFd","encoding":"BASE64"`)) {
			t.Errorf("got %s", v)
		}
	}
}

func TestSampling(t *testing.T) {
	for _, tc := range []struct{ pct, min, max int }{{0, 0, 0}, {100, 1000, 1000}, {50, 400, 600}} {
		c := bikesConfig()
		c.InitialSamplingPercentage = pct(tc.pct)
		cfg, _ := ConfigFrom(c)
		w, _ := NewWriter(cfg, &memPutter{}, Options{Endpoint: "e", Variant: "v", FlushInterval: -1})
		n := 0
		for range 1000 {
			if w.Sample() {
				n++
			}
		}
		if n < tc.min || n > tc.max {
			t.Errorf("%d%%: sampled %d of 1000", tc.pct, n)
		}
		w.Close(context.Background())
	}
}

func TestHourSplitIntervalAndRetry(t *testing.T) {
	cfg, _ := ConfigFrom(bikesConfig())
	p := &memPutter{fails: 1}
	w, _ := NewWriter(cfg, p, Options{Endpoint: "e", Variant: "v", FlushInterval: 20 * time.Millisecond})
	t0 := time.Date(2026, 1, 2, 3, 59, 59, 0, time.UTC)
	w.Record(Event{Time: t0, Input: []byte("a")})
	w.Record(Event{Time: t0.Add(2 * time.Second), Input: []byte("b")})
	deadline := time.Now().Add(5 * time.Second)
	for len(p.all()) < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	objs := p.all()
	if len(objs) != 2 {
		t.Fatalf("got %d objects after timed flushes: %v", len(objs), objs)
	}
	hours := map[string]bool{}
	for k := range objs {
		hours[strings.Join(strings.Split(k, "/")[4:8], "/")] = true
	}
	if !hours["2026/01/02/03"] || !hours["2026/01/02/04"] {
		t.Errorf("hour directories %v", hours)
	}
	if w.Pending() != 0 {
		t.Errorf("pending %d", w.Pending())
	}
	w.Close(context.Background())
	// After Close a record is uploaded at once.
	w.Record(Event{Input: []byte("late")})
	if len(p.all()) != 3 {
		t.Errorf("late record not uploaded")
	}
}

func TestValidate(t *testing.T) {
	c := &DataCaptureConfig{InitialSamplingPercentage: pct(101), DestinationS3Uri: "http://x", CaptureOptions: []CaptureOption{{"Both"}}}
	err := c.Validate()
	if err == nil || !strings.HasPrefix(err.Error(), "3 validation errors detected: ") {
		t.Fatalf("err = %v", err)
	}
	if err := bikesConfig().Validate(); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkRecord(b *testing.B) {
	cfg, _ := ConfigFrom(bikesConfig())
	w, _ := NewWriter(cfg, &memPutter{}, Options{Endpoint: "e", Variant: "v", FlushInterval: 10 * time.Millisecond})
	in := bytes.Repeat([]byte{7}, 3000)
	out := []byte("[0.8227921724319458, 0.1772077977657318]")
	b.ReportAllocs()
	for b.Loop() {
		w.Record(Event{InputContentType: "image/png", Input: in, OutputContentType: "application/json", Output: out})
	}
	w.Close(context.Background())
}
