// Package capture writes SageMaker Model Monitor data-capture files exactly
// as SageMaker does: JSON Lines records of each sampled invocation's input and
// output, batched into objects keyed
//
//	<DestinationS3Uri>/<endpoint>/<variant>/yyyy/mm/dd/hh/MM-SS-mmm-<uuid>.jsonl
//
// (UTC; the time is that of the file's first record). A record looks like
//
//	{"captureData":{"endpointInput":{"observedContentType":"image/png","mode":"INPUT","data":"iVBOR...","encoding":"BASE64"},
//	 "endpointOutput":{"observedContentType":"application/json","mode":"OUTPUT","data":"[0.82, 0.17]","encoding":"JSON"}},
//	 "eventMetadata":{"eventId":"<uuid>","inferenceId":"<id>","inferenceTime":"2025-10-04T08:44:11Z"},"eventVersion":"0"}
//
// on one line, field for field in the order SageMaker writes them (compare
// the real capture file in the cifar100-bikes data set). Data is encoded as
// SageMaker does: raw text with encoding "JSON" for a content type listed in
// CaptureContentTypeHeader.JsonContentTypes, raw text with "CSV" for one in
// CsvContentTypes, base64 with "BASE64" otherwise (also when no header
// configuration is given, as SageMaker does; the SageMaker Python SDK sends
// text/csv and application/json by default).
//
// The same Writer serves the emulator's SageMaker (writing through the
// in-process S3) and the stub endpoint container (writing through an
// aws-sdk-go-v2 S3 client): both implement Putter.
//
// Flushing: SageMaker uploads capture files every few minutes. Locally the
// Writer uploads the records buffered so far every FlushInterval
// (DefaultFlushInterval, 1 s, unless configured), on Flush, on Close, and so
// before an endpoint is deleted. Records are encoded when Record is called,
// so a record that Record accepted is in the buffer before the invocation is
// acknowledged, and Close returns only after it is uploaded (or with the
// upload error). A failed upload keeps its records for the next flush.
package capture

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"mime"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// DefaultFlushInterval is how often a Writer uploads buffered records when
// Options.FlushInterval is zero.
const DefaultFlushInterval = time.Second

// Putter stores one object: sagemaker.CapturePutter gives one over the
// emulator's S3 or, through s3client, over another.
type Putter interface {
	Put(ctx context.Context, bucket, key string, body []byte) error
}

// PutterFunc adapts a function to Putter.
type PutterFunc func(ctx context.Context, bucket, key string, body []byte) error

// Put calls f.
func (f PutterFunc) Put(ctx context.Context, bucket, key string, body []byte) error {
	return f(ctx, bucket, key, body)
}

// DataCaptureConfig is SageMaker's DataCaptureConfig shape (as in
// CreateEndpointConfig), in its JSON wire form.
type DataCaptureConfig struct {
	EnableCapture             *bool                     `json:"EnableCapture,omitempty"`
	InitialSamplingPercentage *int                      `json:"InitialSamplingPercentage,omitempty"`
	DestinationS3Uri          string                    `json:"DestinationS3Uri,omitempty"`
	KmsKeyId                  string                    `json:"KmsKeyId,omitempty"`
	CaptureOptions            []CaptureOption           `json:"CaptureOptions,omitempty"`
	CaptureContentTypeHeader  *CaptureContentTypeHeader `json:"CaptureContentTypeHeader,omitempty"`
}

// CaptureOption is one entry of DataCaptureConfig.CaptureOptions.
type CaptureOption struct {
	CaptureMode string `json:"CaptureMode"`
}

// CaptureContentTypeHeader lists the content types captured as text.
type CaptureContentTypeHeader struct {
	CsvContentTypes  []string `json:"CsvContentTypes,omitempty"`
	JsonContentTypes []string `json:"JsonContentTypes,omitempty"`
}

// Validate checks c as CreateEndpointConfig does and returns a message in
// AWS's "1 validation error detected: ..." style, or nil.
func (c *DataCaptureConfig) Validate() error {
	var errs []string
	if c.InitialSamplingPercentage == nil {
		errs = append(errs, "Value null at 'dataCaptureConfig.initialSamplingPercentage' failed to satisfy constraint: Member must not be null")
	} else if p := *c.InitialSamplingPercentage; p < 0 || p > 100 {
		errs = append(errs, fmt.Sprintf("Value '%d' at 'dataCaptureConfig.initialSamplingPercentage' failed to satisfy constraint: Member must have value between 0 and 100", p))
	}
	if c.DestinationS3Uri == "" {
		errs = append(errs, "Value null at 'dataCaptureConfig.destinationS3Uri' failed to satisfy constraint: Member must not be null")
	} else if _, _, err := ParseS3URI(c.DestinationS3Uri); err != nil {
		errs = append(errs, fmt.Sprintf("Value '%s' at 'dataCaptureConfig.destinationS3Uri' failed to satisfy constraint: Member must satisfy regular expression pattern: ^(https|s3)://([^/])/?(.*)$", c.DestinationS3Uri))
	}
	if n := len(c.CaptureOptions); n < 1 || n > 2 {
		errs = append(errs, fmt.Sprintf("Value '%v' at 'dataCaptureConfig.captureOptions' failed to satisfy constraint: Member must have length between 1 and 2", c.CaptureOptions))
	}
	for i, o := range c.CaptureOptions {
		switch o.CaptureMode {
		case "Input", "Output", "InputAndOutput":
		default:
			errs = append(errs, fmt.Sprintf("Value '%s' at 'dataCaptureConfig.captureOptions.%d.member.captureMode' failed to satisfy constraint: Member must satisfy enum value set: [Input, Output, InputAndOutput]", o.CaptureMode, i+1))
		}
	}
	if len(errs) == 0 {
		return nil
	}
	noun := "error"
	if len(errs) > 1 {
		noun = "errors"
	}
	return fmt.Errorf("%d validation %s detected: %s", len(errs), noun, strings.Join(errs, "; "))
}

// Enabled reports whether capture is on (EnableCapture defaults to true).
func (c *DataCaptureConfig) Enabled() bool {
	return c != nil && (c.EnableCapture == nil || *c.EnableCapture)
}

// Config is what a Writer needs, derived from a DataCaptureConfig.
type Config struct {
	Bucket, Prefix   string // from DestinationS3Uri
	SamplingPercent  int
	CaptureInput     bool
	CaptureOutput    bool
	CSVContentTypes  []string
	JSONContentTypes []string
}

// ConfigFrom derives a Config from an API DataCaptureConfig.
func ConfigFrom(c *DataCaptureConfig) (Config, error) {
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	bucket, prefix, _ := ParseS3URI(c.DestinationS3Uri)
	cfg := Config{Bucket: bucket, Prefix: prefix, SamplingPercent: *c.InitialSamplingPercentage}
	for _, o := range c.CaptureOptions {
		switch o.CaptureMode {
		case "Input":
			cfg.CaptureInput = true
		case "Output":
			cfg.CaptureOutput = true
		case "InputAndOutput":
			cfg.CaptureInput, cfg.CaptureOutput = true, true
		}
	}
	if h := c.CaptureContentTypeHeader; h != nil {
		cfg.CSVContentTypes = h.CsvContentTypes
		cfg.JSONContentTypes = h.JsonContentTypes
	}
	return cfg, nil
}

// ParseS3URI splits s3://bucket/prefix into bucket and prefix (without
// leading or trailing slashes).
func ParseS3URI(uri string) (bucket, prefix string, err error) {
	rest, ok := strings.CutPrefix(uri, "s3://")
	if !ok {
		return "", "", fmt.Errorf("%q is not an s3:// URI", uri)
	}
	bucket, prefix, _ = strings.Cut(rest, "/")
	if bucket == "" {
		return "", "", fmt.Errorf("%q names no bucket", uri)
	}
	return bucket, strings.Trim(prefix, "/"), nil
}

// Options configures a Writer.
type Options struct {
	Endpoint string // endpoint name, the first key element after the prefix
	Variant  string // production variant name
	// FlushInterval is how often buffered records are uploaded;
	// DefaultFlushInterval when zero, never on a timer when negative.
	FlushInterval time.Duration
	// Now returns the current time; time.Now when nil.
	Now    func() time.Time
	Logger *slog.Logger
}

// Event is one invocation to capture.
type Event struct {
	// Time is the inference time; the Writer's clock when zero.
	Time              time.Time
	InferenceID       string
	InputContentType  string
	Input             []byte
	OutputContentType string
	Output            []byte
}

// Writer buffers capture records of one endpoint variant and uploads them.
// Its methods are safe for concurrent use.
type Writer struct {
	cfg  Config
	put  Putter
	opts Options
	log  *slog.Logger

	mu       sync.Mutex
	batches  map[string]*batch // by hour directory
	buffered int               // bytes in batches
	dropped  int
	closed   bool

	flushMu sync.Mutex // serialises uploads
	stop    chan struct{}
	done    chan struct{}
}

type batch struct {
	first time.Time
	buf   bytes.Buffer
	n     int
}

// NewWriter starts a Writer. Close it to upload what is buffered.
func NewWriter(cfg Config, put Putter, opts Options) (*Writer, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("capture: no destination bucket")
	}
	if opts.Endpoint == "" || opts.Variant == "" {
		return nil, errors.New("capture: endpoint and variant names are required")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.FlushInterval == 0 {
		opts.FlushInterval = DefaultFlushInterval
	}
	w := &Writer{cfg: cfg, put: put, opts: opts, log: opts.Logger, batches: map[string]*batch{},
		stop: make(chan struct{}), done: make(chan struct{})}
	if w.log == nil {
		w.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	go w.loop()
	return w, nil
}

func (w *Writer) loop() {
	defer close(w.done)
	if w.opts.FlushInterval < 0 {
		<-w.stop
		return
	}
	t := time.NewTicker(w.opts.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			if err := w.Flush(ctx); err != nil {
				w.log.Warn("data capture upload failed; will retry", "endpoint", w.opts.Endpoint, "variant", w.opts.Variant, "err", err)
			}
			cancel()
		}
	}
}

// Sample decides whether to capture one invocation, per the sampling
// percentage.
func (w *Writer) Sample() bool {
	p := w.cfg.SamplingPercent
	return p >= 100 || (p > 0 && rand.IntN(100) < p)
}

// Record encodes ev into the buffer. It does not keep ev's slices. After
// Close, it uploads the record at once.
func (w *Writer) Record(ev Event) {
	if ev.Time.IsZero() {
		ev.Time = w.opts.Now()
	}
	ev.Time = ev.Time.UTC()
	line := w.encode(ev)
	dir := ev.Time.Format("2006/01/02/15")
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		b := &batch{first: ev.Time, n: 1}
		b.buf.Write(line)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := w.upload(ctx, dir, b); err != nil {
			w.log.Error("data capture record lost after close", "endpoint", w.opts.Endpoint, "err", err)
		}
		return
	}
	if w.buffered+len(line) > MaxBuffered {
		w.dropped++
		dropped := w.dropped
		w.mu.Unlock()
		if dropped == 1 || dropped%1000 == 0 {
			w.log.Error("data capture buffer full because uploads keep failing; dropping records",
				"endpoint", w.opts.Endpoint, "variant", w.opts.Variant, "dropped", dropped, "limit", MaxBuffered)
		}
		return
	}
	b := w.batches[dir]
	if b == nil {
		b = &batch{first: ev.Time}
		w.batches[dir] = b
	}
	b.buf.Write(line)
	b.n++
	w.buffered += len(line)
	w.mu.Unlock()
}

// MaxBuffered bounds the bytes a Writer buffers while uploads fail (for
// instance when the destination bucket does not exist); records beyond it
// are dropped with an error log.
const MaxBuffered = 256 << 20

// The record, field for field in SageMaker's order.
type record struct {
	CaptureData   captureData   `json:"captureData"`
	EventMetadata eventMetadata `json:"eventMetadata"`
	EventVersion  string        `json:"eventVersion"`
}

type captureData struct {
	EndpointInput  *payload `json:"endpointInput,omitempty"`
	EndpointOutput *payload `json:"endpointOutput,omitempty"`
}

type payload struct {
	ObservedContentType string `json:"observedContentType"`
	Mode                string `json:"mode"`
	Data                string `json:"data"`
	Encoding            string `json:"encoding"`
}

type eventMetadata struct {
	EventID       string `json:"eventId"`
	InferenceID   string `json:"inferenceId,omitempty"`
	InferenceTime string `json:"inferenceTime"`
}

// InferenceTimeLayout is how SageMaker writes eventMetadata.inferenceTime
// (UTC, whole seconds, as in the real capture files).
const InferenceTimeLayout = "2006-01-02T15:04:05Z"

func (w *Writer) encode(ev Event) []byte {
	r := record{EventVersion: "0", EventMetadata: eventMetadata{
		EventID: uuid.NewString(), InferenceID: ev.InferenceID, InferenceTime: ev.Time.Format(InferenceTimeLayout)}}
	if w.cfg.CaptureInput {
		r.CaptureData.EndpointInput = w.payload("INPUT", ev.InputContentType, ev.Input)
	}
	if w.cfg.CaptureOutput {
		r.CaptureData.EndpointOutput = w.payload("OUTPUT", ev.OutputContentType, ev.Output)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(r) // cannot fail: strings only; Encode appends '\n'
	return buf.Bytes()
}

func (w *Writer) payload(mode, contentType string, data []byte) *payload {
	p := &payload{ObservedContentType: contentType, Mode: mode}
	switch {
	case utf8.Valid(data) && matches(contentType, w.cfg.JSONContentTypes):
		p.Data, p.Encoding = string(data), "JSON"
	case utf8.Valid(data) && matches(contentType, w.cfg.CSVContentTypes):
		p.Data, p.Encoding = string(data), "CSV"
	default:
		p.Data, p.Encoding = base64.StdEncoding.EncodeToString(data), "BASE64"
	}
	return p
}

// matches reports whether contentType is in list, comparing the whole
// header first and then the media type without parameters.
func matches(contentType string, list []string) bool {
	if len(list) == 0 {
		return false
	}
	ct := strings.TrimSpace(contentType)
	mt, _, err := mime.ParseMediaType(ct)
	for _, l := range list {
		l = strings.TrimSpace(l)
		if strings.EqualFold(l, ct) || (err == nil && strings.EqualFold(l, mt)) {
			return true
		}
	}
	return false
}

// Key returns the object key of a file whose first record was at t.
func (w *Writer) Key(t time.Time) string {
	t = t.UTC()
	name := fmt.Sprintf("%s/%02d-%02d-%03d-%s.jsonl", t.Format("2006/01/02/15"), t.Minute(), t.Second(), t.Nanosecond()/1e6, uuid.NewString())
	parts := []string{w.opts.Endpoint, w.opts.Variant, name}
	if w.cfg.Prefix != "" {
		parts = append([]string{w.cfg.Prefix}, parts...)
	}
	return strings.Join(parts, "/")
}

func (w *Writer) upload(ctx context.Context, _ string, b *batch) error {
	key := w.Key(b.first)
	if err := w.put.Put(ctx, w.cfg.Bucket, key, b.buf.Bytes()); err != nil {
		return fmt.Errorf("capture: put s3://%s/%s: %w", w.cfg.Bucket, key, err)
	}
	w.log.Debug("data capture file written", "endpoint", w.opts.Endpoint, "key", key, "records", b.n)
	return nil
}

// Flush uploads every buffered record, one object per hour directory.
// Batches that fail to upload stay buffered and the error is returned.
func (w *Writer) Flush(ctx context.Context) error {
	w.flushMu.Lock()
	defer w.flushMu.Unlock()
	w.mu.Lock()
	batches := w.batches
	w.batches = map[string]*batch{}
	w.buffered = 0
	w.mu.Unlock()
	dirs := make([]string, 0, len(batches))
	for d := range batches {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	var errs []error
	for _, d := range dirs {
		b := batches[d]
		if err := w.upload(ctx, d, b); err != nil {
			errs = append(errs, err)
			w.requeue(d, b)
		}
	}
	return errors.Join(errs...)
}

// requeue puts a batch that failed to upload back in front of newer records.
func (w *Writer) requeue(dir string, b *batch) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if cur := w.batches[dir]; cur != nil {
		w.buffered -= cur.buf.Len()
		b.buf.Write(cur.buf.Bytes())
		b.n += cur.n
	}
	w.batches[dir] = b
	w.buffered += b.buf.Len()
}

// Close stops the timer and uploads what is buffered. Records arriving
// later are uploaded one by one.
func (w *Writer) Close(ctx context.Context) error {
	w.mu.Lock()
	already := w.closed
	w.closed = true
	w.mu.Unlock()
	if !already {
		close(w.stop)
		<-w.done
	}
	return w.Flush(ctx)
}

// Pending returns the number of buffered records.
func (w *Writer) Pending() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, b := range w.batches {
		n += b.n
	}
	return n
}

// IsSuccess reports whether an HTTP status from a model container counts as
// a successful invocation (only those are captured).
func IsSuccess(status int) bool { return status >= http.StatusOK && status < 300 }
