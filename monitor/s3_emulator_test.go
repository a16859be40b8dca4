package monitor

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/scones/scones/emulator"
)

// listCounter counts the ListObjectsV2 requests that reach the server and
// how many carried a continuation token or start-after.
type listCounter struct {
	base                 http.RoundTripper
	lists, tokens, jumps atomic.Int64
}

func (c *listCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	if q := r.URL.Query(); r.Method == http.MethodGet && q.Get("list-type") == "2" {
		c.lists.Add(1)
		if q.Get("continuation-token") != "" {
			c.tokens.Add(1)
		}
		if q.Get("start-after") != "" {
			c.jumps.Add(1)
		}
	}
	return c.base.RoundTrip(r)
}

func (c *listCounter) reset() { c.lists.Store(0); c.tokens.Store(0); c.jumps.Store(0) }

// skipIfNotImplemented skips the test when the emulator's S3 answers
// NotImplemented (it is being finished separately); other errors fail.
func skipIfNotImplemented(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() == "NotImplemented" {
		t.Skipf("the emulator's S3 does not implement %s yet (%v): the S3 lister is not tested against it", what, err)
	}
	t.Fatalf("%s: %v", what, err)
}

// TestS3ListerEmulator reads more than 1,000 capture files through the
// embedded emulator's S3, so ListObjectsV2 pages, with and without a
// --since window.
func TestS3ListerEmulator(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("-short: uploads 1,605 objects")
	}
	ctx := context.Background()
	srv, err := emulator.Start(ctx, emulator.Options{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })

	counter := &listCounter{base: http.DefaultTransport}
	cfg := aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		HTTPClient:  &http.Client{Transport: counter},
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(srv.URL())
		o.UsePathStyle = true
	})
	const bucket = "scones-capture"
	_, err = client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)})
	skipIfNotImplemented(t, "CreateBucket", err)

	day := time.Date(2025, 10, 4, 0, 0, 0, 0, time.UTC)
	objects := synthCaptures("data_capture", "scones-endpoint", map[time.Time]int{
		day.Add(6 * time.Hour): 500, day.Add(7 * time.Hour): 300, day.Add(8 * time.Hour): 800,
	})
	for k, v := range synthCaptures("data_capture", "zz-other-endpoint", map[time.Time]int{day.Add(9 * time.Hour): 5}) {
		objects[k] = v
	}
	objects["elsewhere/scones-endpoint/AllTraffic/2025/10/04/08/00-00-000-x.jsonl"] = "not under the prefix"
	keys := make(chan string)
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		putErrs []error
	)
	for range 8 {
		wg.Go(func() {
			for k := range keys {
				_, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(k), Body: strings.NewReader(objects[k]), ContentType: aws.String("application/jsonlines")})
				if err != nil {
					mu.Lock()
					putErrs = append(putErrs, err)
					mu.Unlock()
				}
			}
		})
	}
	for k := range objects {
		keys <- k
	}
	close(keys)
	wg.Wait()
	if len(putErrs) > 0 {
		skipIfNotImplemented(t, "PutObject", putErrs[0])
	}

	l := NewS3Lister(client, bucket, "data_capture")

	// All of it: 1,605 keys, two pages.
	counter.reset()
	ds, err := Read(ctx, l, time.Time{})
	skipIfNotImplemented(t, "ListObjectsV2/GetObject", err)
	if len(ds.Files) != 1605 || len(ds.Records) != 1605 || len(ds.Errors) != 0 || ds.OutsideWindow != 0 {
		t.Errorf("all: %d files, %d records, %d errors, %d outside", len(ds.Files), len(ds.Records), len(ds.Errors), ds.OutsideWindow)
	}
	if ds.Listing.Requests != 2 || counter.lists.Load() != 2 || counter.tokens.Load() != 1 || counter.jumps.Load() != 0 {
		t.Errorf("all: lister made %d requests; server saw %d lists, %d with a continuation token, %d with start-after; want 2, 2, 1, 0",
			ds.Listing.Requests, counter.lists.Load(), counter.tokens.Load(), counter.jumps.Load())
	}
	if ds.Source != "s3://scones-capture/data_capture/" {
		t.Errorf("source %q", ds.Source)
	}

	// Since 08:30: the 06 hour folder (500 files) is jumped over, 07 is
	// the slack hour (read, records dropped by time), 1,105 keys in two
	// pages after the jump.
	counter.reset()
	since := day.Add(8*time.Hour + 30*time.Minute)
	ds, err = Read(ctx, l, since)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.Files) != 1105 || len(ds.Records) != 405 || ds.OutsideWindow != 700 || ds.Listing.SkippedHours != 1 {
		t.Errorf("since: %d files, %d records, %d outside, %d jumps; want 1105, 405, 700, 1", len(ds.Files), len(ds.Records), ds.OutsideWindow, ds.Listing.SkippedHours)
	}
	if ds.Listing.Requests != 3 || counter.lists.Load() != 3 || counter.jumps.Load() != 1 || counter.tokens.Load() != 1 {
		t.Errorf("since: lister made %d requests; server saw %d lists, %d with start-after, %d with a token; want 3, 3, 1, 1",
			ds.Listing.Requests, counter.lists.Load(), counter.jumps.Load(), counter.tokens.Load())
	}
	for _, k := range ds.Files {
		if strings.Contains(k, "/2025/10/04/06/") {
			t.Fatalf("read %s, an hour folder before the window", k)
		}
	}
	for _, r := range ds.Records {
		if r.Time.Before(since) {
			t.Fatalf("record at %v kept", r.Time)
		}
	}
	s := Summarize(ds, DefaultThreshold, nil)
	if s.Captures != 405 || s.Passed+s.Failed != 405 || s.Passed == 0 || s.Failed == 0 {
		t.Errorf("summary: %d captures, %d pass, %d fail", s.Captures, s.Passed, s.Failed)
	}

	// A missing object is an error, not a skip.
	if _, err := l.Open(ctx, "data_capture/missing.jsonl"); err == nil || !strings.Contains(err.Error(), "s3://scones-capture/data_capture/missing.jsonl") {
		t.Errorf("missing object: %v", err)
	}
	// A missing bucket too.
	if _, err := Read(ctx, NewS3Lister(client, "no-such-bucket", "x"), time.Time{}); err == nil || !strings.Contains(err.Error(), "NoSuchBucket") {
		t.Errorf("missing bucket: %v", err)
	}
}
