package monitor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func TestKeyHour(t *testing.T) {
	h8 := time.Date(2025, 10, 4, 8, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		key, group string
		hour       time.Time
		ok         bool
	}{
		{"ep/AllTraffic/2025/10/04/08/44-11-981-x.jsonl", "ep/AllTraffic/", h8, true},
		{"2025/10/04/08/x.jsonl", "", h8, true},
		{"a/b/c/2025/10/04/08/x.jsonl", "a/b/c/", h8, true},
		{"ep/AllTraffic/2025/10/04/24/x.jsonl", "", time.Time{}, false},
		{"ep/AllTraffic/2025/13/04/08/x.jsonl", "", time.Time{}, false},
		{"ep/AllTraffic/2025/10/04/8/x.jsonl", "", time.Time{}, false},
		{"ep/AllTraffic/2025/10/04/08/", "", time.Time{}, false},
		{"ep/AllTraffic/2025/10/04/08/sub/x.jsonl", "", time.Time{}, false},
		{"ep/x2025/10/04/08/x.jsonl", "", time.Time{}, false},
		{"ep/+025/10/04/08/x.jsonl", "", time.Time{}, false},
		{"x.jsonl", "", time.Time{}, false},
	} {
		group, hour, ok := keyHour(tc.key)
		if group != tc.group || !hour.Equal(tc.hour) || ok != tc.ok {
			t.Errorf("keyHour(%q) = %q, %v, %v; want %q, %v, %v", tc.key, group, hour, ok, tc.group, tc.hour, tc.ok)
		}
	}
	if got := cutoffHour(time.Date(2025, 10, 4, 8, 30, 0, 0, time.UTC)); !got.Equal(time.Date(2025, 10, 4, 7, 0, 0, 0, time.UTC)) {
		t.Errorf("cutoffHour = %v", got)
	}
}

func TestParseS3URI(t *testing.T) {
	b, p, err := ParseS3URI("s3://my-bucket/data_capture/ep")
	if err != nil || b != "my-bucket" || p != "data_capture/ep" {
		t.Errorf("= %q %q %v", b, p, err)
	}
	for _, bad := range []string{"my-bucket/x", "s3:///x", "http://b/x"} {
		if _, _, err := ParseS3URI(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	if s := NewS3Lister(nil, "b", "data_capture").String(); s != "s3://b/data_capture/" {
		t.Errorf("String = %q", s)
	}
}

// captureKey is the capture key layout for a record at t.
func captureKey(prefix, endpoint string, t time.Time, n int) string {
	return fmt.Sprintf("%s/%s/AllTraffic/%s/%s-%08x-0000-4000-8000-000000000000.jsonl",
		prefix, endpoint, t.Format("2006/01/02/15"), t.Format("04-05-000"), n)
}

// synthCaptures lays out capture files: per hour, n files of one record each
// at evenly spaced times, top confidences cycling through a pattern that
// has passes and fails.
func synthCaptures(prefix, endpoint string, hours map[time.Time]int) map[string]string {
	files := map[string]string{}
	n := 0
	for h, count := range hours {
		for i := range count {
			t := h.Add(time.Duration(i) * time.Hour / time.Duration(count))
			p := []float64{0.99, 0.95, 0.91, 0.7, 0.52}[n%5]
			out := fmt.Sprintf("[%g, %g]", p, 1-p)
			if n%2 == 1 {
				out = fmt.Sprintf("[%g, %g]", 1-p, p)
			}
			files[captureKey(prefix, endpoint, t, n)] = line(t, out, "JSON", "application/json") + "\n"
			n++
		}
	}
	return files
}

// fakeS3 is a small in-memory ListObjectsV2/GetObject with S3's paging
// semantics, for testing the lister without a server.
type fakeS3 struct {
	mu       sync.Mutex
	objects  map[string]string
	requests []s3.ListObjectsV2Input
}

func (f *fakeS3) ListObjectsV2(_ context.Context, in *s3.ListObjectsV2Input, _ ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, *in)
	var keys []string
	for k := range f.objects {
		if strings.HasPrefix(k, aws.ToString(in.Prefix)) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	after := aws.ToString(in.StartAfter)
	if tok := aws.ToString(in.ContinuationToken); tok != "" {
		after = strings.TrimPrefix(tok, "tok:")
	}
	i := sort.SearchStrings(keys, after)
	for i < len(keys) && keys[i] <= after {
		i++
	}
	limit := int(aws.ToInt32(in.MaxKeys))
	if limit == 0 {
		limit = 1000
	}
	out := &s3.ListObjectsV2Output{}
	for ; i < len(keys) && len(out.Contents) < limit; i++ {
		out.Contents = append(out.Contents, s3types.Object{Key: aws.String(keys[i]), Size: aws.Int64(int64(len(f.objects[keys[i]])))})
	}
	if i < len(keys) {
		out.IsTruncated = aws.Bool(true)
		out.NextContinuationToken = aws.String("tok:" + keys[i-1])
	}
	return out, nil
}

func (f *fakeS3) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	body, ok := f.objects[aws.ToString(in.Key)]
	if !ok {
		return nil, &s3types.NoSuchKey{}
	}
	return &s3.GetObjectOutput{Body: io.NopCloser(strings.NewReader(body))}, nil
}

func TestS3ListerPagingAndSinceFake(t *testing.T) {
	day := time.Date(2025, 10, 4, 0, 0, 0, 0, time.UTC)
	objects := synthCaptures("data_capture", "ep-a", map[time.Time]int{day.Add(6 * time.Hour): 25, day.Add(7 * time.Hour): 10, day.Add(8 * time.Hour): 30})
	for k, v := range synthCaptures("data_capture", "ep-b", map[time.Time]int{day.Add(5 * time.Hour): 5, day.Add(9 * time.Hour): 4}) {
		objects[k] = v
	}
	objects["data_capture/ep-a/notes.txt"] = "x"
	objects["data_capture_old/ep-a/AllTraffic/2025/10/04/08/00-00-000-old.jsonl"] = "not read"
	ctx := context.Background()

	fake := &fakeS3{objects: objects}
	l := &S3Lister{Client: fake, Bucket: "b", Prefix: "data_capture", PageSize: 7}
	all, err := l.List(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all.Keys) != 74 || len(all.Ignored) != 1 || all.SkippedHours != 0 {
		t.Errorf("all: %d keys, ignored %v, skipped %d", len(all.Keys), all.Ignored, all.SkippedHours)
	}
	if want := (75 + 6) / 7; all.Requests != want || len(fake.requests) != want {
		t.Errorf("all: %d requests, want %d pages of 7", all.Requests, want)
	}
	if !sort.StringsAreSorted(all.Keys) {
		t.Error("keys not in order")
	}
	for _, r := range fake.requests[1:] {
		if r.ContinuationToken == nil {
			t.Errorf("a later page without ContinuationToken: %+v", r)
		}
	}

	// since 08:30: ep-a's 06 folder and ep-b's 05 folder are jumped over;
	// ep-a's 07 folder (the slack hour) is read and its records dropped.
	fake.requests = nil
	since := day.Add(8*time.Hour + 30*time.Minute)
	ds, err := Read(ctx, l, since)
	if err != nil {
		t.Fatal(err)
	}
	if ds.Listing.SkippedHours != 2 {
		t.Errorf("skipped %d, want 2 jumps", ds.Listing.SkippedHours)
	}
	if len(ds.Files) != 10+30+4 {
		t.Errorf("%d files, want 44", len(ds.Files))
	}
	for _, k := range ds.Files {
		if strings.Contains(k, "/2025/10/04/06/") || strings.Contains(k, "/2025/10/04/05/") {
			t.Errorf("read %s, before the window", k)
		}
	}
	var jumps int
	for _, r := range fake.requests {
		if r.StartAfter != nil {
			jumps++
			if r.ContinuationToken != nil {
				t.Errorf("jump with a token: %+v", r)
			}
		}
	}
	if jumps != 2 {
		t.Errorf("%d StartAfter requests, want 2", jumps)
	}
	if len(ds.Records) != 15+4 || ds.OutsideWindow != 10+15 {
		t.Errorf("%d records in window, %d outside; want 19 and 25", len(ds.Records), ds.OutsideWindow)
	}
	for _, r := range ds.Records {
		if r.Time.Before(since) {
			t.Errorf("record at %v kept", r.Time)
		}
	}
}

func TestDirListerSince(t *testing.T) {
	root := t.TempDir()
	day := time.Date(2025, 10, 4, 0, 0, 0, 0, time.UTC)
	files := synthCaptures("dc", "ep", map[time.Time]int{day.Add(6 * time.Hour): 3, day.Add(7 * time.Hour): 4, day.Add(8 * time.Hour): 6})
	files["dc/ep/AllTraffic/README"] = "x"
	for k, v := range files {
		p := filepath.Join(root, filepath.FromSlash(k))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	l := NewDirLister(root)
	ds, err := Read(ctx, l, day.Add(8*time.Hour+30*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if ds.Listing.SkippedHours != 1 || len(ds.Files) != 10 || len(ds.Records) != 3 || ds.OutsideWindow != 7 {
		t.Errorf("skipped %d hours, %d files, %d records, %d outside", ds.Listing.SkippedHours, len(ds.Files), len(ds.Records), ds.OutsideWindow)
	}
	if len(ds.Ignored) != 1 || ds.Ignored[0] != "dc/ep/AllTraffic/README" {
		t.Errorf("ignored %v", ds.Ignored)
	}
	if !strings.HasPrefix(ds.Files[0], "dc/ep/AllTraffic/2025/10/04/07/") {
		t.Errorf("first file %s", ds.Files[0])
	}

	// Nothing in the window: an error naming the window.
	_, err = Read(ctx, l, day.Add(20*time.Hour))
	if !errors.Is(err, ErrNoCaptures) || !strings.Contains(err.Error(), "no capture files") {
		t.Errorf("late since: %v", err)
	}
	_, err = Read(ctx, l, day.Add(9*time.Hour))
	if !errors.Is(err, ErrNoCaptures) || !strings.Contains(err.Error(), "all earlier") {
		t.Errorf("since after the records: %v", err)
	}

	// A single file.
	one := filepath.Join(root, filepath.FromSlash(ds.Files[0]))
	ds1, err := Read(ctx, NewDirLister(one), time.Time{})
	if err != nil || len(ds1.Records) != 1 || ds1.Files[0] != filepath.Base(one) {
		t.Errorf("single file: %v %+v", err, ds1)
	}

	if _, err := Read(ctx, NewDirLister(filepath.Join(root, "missing")), time.Time{}); err == nil {
		t.Error("missing dir: no error")
	}
}

func TestReadMalformed(t *testing.T) {
	root := t.TempDir()
	t0 := time.Date(2025, 10, 4, 8, 0, 0, 0, time.UTC)
	write := func(name, body string) {
		p := filepath.Join(root, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.jsonl", "{oops\n"+line(t0, "[0.1,0.9]", "JSON", "application/json")+"\n")
	write("b.jsonl", line(t0.Add(time.Second), "[0.1,0.9]", "JSON", "application/json")+"\n\n[1]\n")
	ds, err := Read(context.Background(), NewDirLister(root), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ds.Errors {
		got = append(got, fmt.Sprintf("%s:%d", e.Key, e.Line))
	}
	if strings.Join(got, " ") != "a.jsonl:1 b.jsonl:3" || len(ds.Records) != 2 {
		t.Errorf("errors at %v, %d records", got, len(ds.Records))
	}
	var out bytes.Buffer
	PrintSummary(&out, Summarize(ds, DefaultThreshold, nil))
	if !strings.Contains(out.String(), "2 malformed capture lines") || !strings.Contains(out.String(), "a.jsonl:1: not a capture record") {
		t.Errorf("summary does not show the malformed lines:\n%s", out.String())
	}

	// Nothing parses: an error quoting file:line.
	root2 := t.TempDir()
	if err := os.WriteFile(filepath.Join(root2, "bad.jsonl"), []byte("x\n{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Read(context.Background(), NewDirLister(root2), time.Time{})
	if !errors.Is(err, ErrNoCaptures) || !strings.Contains(err.Error(), "bad.jsonl:1: not a capture record") || !strings.Contains(err.Error(), "bad.jsonl:2: no eventMetadata") {
		t.Errorf("all malformed: %v", err)
	}
}

// erroringLister fails to open one file.
type erroringLister struct{ *DirLister }

func (e erroringLister) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if strings.HasPrefix(key, "b") {
		return nil, errors.New("access denied")
	}
	return e.DirLister.Open(ctx, key)
}

func TestReadOpenError(t *testing.T) {
	root := t.TempDir()
	t0 := time.Date(2025, 10, 4, 8, 0, 0, 0, time.UTC)
	for _, n := range []string{"a.jsonl", "b.jsonl", "c.jsonl"} {
		if err := os.WriteFile(filepath.Join(root, n), []byte(line(t0, "[0.1,0.9]", "JSON", "application/json")), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, err := Read(context.Background(), erroringLister{NewDirLister(root)}, time.Time{})
	if err == nil || !strings.Contains(err.Error(), "access denied") {
		t.Errorf("err = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Read(ctx, NewDirLister(root), time.Time{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestParseSince(t *testing.T) {
	now := time.Date(2025, 10, 4, 10, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"":                          {},
		"90m":                       time.Date(2025, 10, 4, 8, 30, 0, 0, time.UTC),
		"2025-10-04T08:30:00Z":      time.Date(2025, 10, 4, 8, 30, 0, 0, time.UTC),
		"2025-10-04T10:30:00+02:00": time.Date(2025, 10, 4, 8, 30, 0, 0, time.UTC),
		"2025-10-04":                time.Date(2025, 10, 4, 0, 0, 0, 0, time.UTC),
	} {
		got, err := ParseSince(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseSince(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"-5m", "yesterday", "2025-10-04 08:30"} {
		if _, err := ParseSince(bad, now); err == nil || !strings.Contains(err.Error(), "--since") {
			t.Errorf("ParseSince(%q): %v", bad, err)
		}
	}
}
