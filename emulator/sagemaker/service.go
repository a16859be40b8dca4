// Package sagemaker is the emulator's Amazon SageMaker (awsJson1_1,
// X-Amz-Target "SageMaker.<Op>") and SageMaker Runtime (REST-JSON,
// POST /endpoints/{name}/invocations); both sign as "sagemaker", so one
// Service serves them and routes on the path.
//
// Control plane: training jobs (Create, Describe, List, Stop), models,
// endpoint configs (with DataCaptureConfig) and endpoints (Create, Describe,
// Update, Delete, List), and tags (AddTags, ListTags, DeleteTags, and Tags on
// every Create). State lives in the emulator's store (tables
// "sagemaker/..."), so it survives restarts with --data-dir: a training job
// that was running when the emulator stopped is marked Failed on reload,
// and endpoints that were in service are started again.
//
// Training jobs run asynchronously: channels are downloaded from the
// emulator's S3 into a fresh ML root, the training image runs through
// smcontainer (a local process by default, a Docker container when asked),
// its log feeds FinalMetricDataList through the algorithm's metric regexes,
// and model.tar.gz is uploaded to <S3OutputPath>/<job>/output/. The
// failure reason is the container's /opt/ml/output/failure.
//
// Endpoints start one serving container per production variant (model.tar.gz
// from S3 extracted into <root>/model) and turn InService once GET /ping
// answers. InvokeEndpoint is proxied by package serving, and data capture is
// written by package capture through the emulator's S3 (flushed every
// second by default, on DeleteEndpoint and on Close).
package sagemaker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/scones/scones/emulator/awsapi"
	"github.com/scones/scones/emulator/s3"
	"github.com/scones/scones/emulator/sagemaker/capture"
	"github.com/scones/scones/emulator/sagemaker/serving"
	"github.com/scones/scones/emulator/store"
	"github.com/scones/scones/smcontainer"
)

// Store tables.
const (
	tableJobs    = "sagemaker/training-jobs"
	tableModels  = "sagemaker/models"
	tableConfigs = "sagemaker/endpoint-configs"
	tableEPs     = "sagemaker/endpoints"
	tableTags    = "sagemaker/tags"
)

// EnvCaptureFlushInterval overrides the capture flush interval (a Go
// duration, e.g. "500ms").
const EnvCaptureFlushInterval = "SCONES_CAPTURE_FLUSH_INTERVAL"

const jsonContentType = "application/x-amz-json-1.1"

// ObjectStore is what SageMaker needs from S3: the emulator's *s3.Service.
type ObjectStore interface {
	PutObject(ctx context.Context, bucket, key string, body []byte, contentType string) (string, error)
	GetObject(ctx context.Context, bucket, key string) ([]byte, s3.ObjectInfo, error)
	ListObjects(ctx context.Context, bucket, prefix string) ([]s3.ObjectInfo, error)
}

// Option configures New.
type Option func(*config)

type config struct {
	runner        *smcontainer.Runner
	runnerOpts    *smcontainer.Options
	flushInterval time.Duration
	workDir       string
}

// WithRunner runs containers with r.
func WithRunner(r *smcontainer.Runner) Option { return func(c *config) { c.runner = r } }

// WithRunnerOptions builds the Runner from o (default:
// smcontainer.OptionsFromEnv, i.e. SCONES_CONTAINER_MODE and friends).
func WithRunnerOptions(o smcontainer.Options) Option {
	return func(c *config) { c.runnerOpts = &o }
}

// WithCaptureFlushInterval sets how often capture files are written
// (default capture.DefaultFlushInterval, 1 s, or $SCONES_CAPTURE_FLUSH_INTERVAL).
func WithCaptureFlushInterval(d time.Duration) Option {
	return func(c *config) { c.flushInterval = d }
}

// WithWorkDir puts ML roots of jobs and endpoints under dir (default the
// system temp dir).
func WithWorkDir(dir string) Option { return func(c *config) { c.workDir = dir } }

// Service is the emulated SageMaker and SageMaker Runtime.
type Service struct {
	env     awsapi.Env
	objects ObjectStore
	runner  *smcontainer.Runner
	proxy   *serving.Proxy
	log     *slog.Logger
	cfg     config

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.RWMutex
	live    map[string]*liveEndpoint // endpoints taking traffic, by name
	jobs    map[string]*runningJob   // training jobs in progress
	deploys map[string]*deployment   // endpoint creations/updates in progress
	closed  bool
}

// New builds the SageMaker service over env.Store and the emulator's S3.
func New(env awsapi.Env, objects ObjectStore, opts ...Option) (*Service, error) {
	var c config
	for _, o := range opts {
		o(&c)
	}
	if c.flushInterval == 0 {
		if v := os.Getenv(EnvCaptureFlushInterval); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				return nil, fmt.Errorf("sagemaker: %s: %w", EnvCaptureFlushInterval, err)
			}
			c.flushInterval = d
		}
	}
	log := env.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if env.Now == nil {
		env.Now = time.Now
	}
	if c.runner == nil {
		ro := smcontainer.OptionsFromEnv()
		if c.runnerOpts != nil {
			ro = *c.runnerOpts
		}
		if ro.Logger == nil {
			ro.Logger = log
		}
		r, err := smcontainer.New(ro)
		if err != nil {
			return nil, fmt.Errorf("sagemaker: %w", err)
		}
		c.runner = r
	}
	s := &Service{
		env: env, objects: objects, runner: c.runner, log: log, cfg: c,
		proxy: serving.NewProxy(env.AccountID, env.Region),
		live:  map[string]*liveEndpoint{}, jobs: map[string]*runningJob{}, deploys: map[string]*deployment{},
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if err := s.reload(); err != nil {
		return nil, err
	}
	return s, nil
}

// Name is the SigV4 signing name of SageMaker and SageMaker Runtime.
func (s *Service) Name() string { return "sagemaker" }

// Runner is the container runner.
func (s *Service) Runner() *smcontainer.Runner { return s.runner }

// Operation names a SageMaker Runtime request (InvokeEndpoint) for fault
// rules and logs (awsapi.OperationNamer); control-plane requests are named
// by their X-Amz-Target.
func (s *Service) Operation(r *http.Request) string {
	if _, ok := serving.InvocationEndpoint(r.URL.Path); ok {
		return "InvokeEndpoint"
	}
	if op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "SageMaker."); ok {
		return op
	}
	return ""
}

// ServeHTTP routes SageMaker Runtime by path and SageMaker by X-Amz-Target.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if name, ok := serving.InvocationEndpoint(r.URL.Path); ok {
		s.invoke(w, r, name)
		return
	}
	if strings.HasPrefix(r.URL.Path, "/endpoints/") {
		serving.WriteError(w, serving.ValidationError("scones emulates SageMaker Runtime's InvokeEndpoint only (POST /endpoints/{name}/invocations), not %s %s", r.Method, r.URL.Path))
		return
	}
	target := r.Header.Get("X-Amz-Target")
	op, ok := strings.CutPrefix(target, "SageMaker.")
	if !ok || r.Method != http.MethodPost {
		writeErr(w, &awsapi.Error{Status: http.StatusBadRequest, Code: "UnknownOperationException",
			Message: "SageMaker requests are POST with X-Amz-Target: SageMaker.<Operation>; got " + r.Method + " with target " + target})
		return
	}
	h, ok := s.handlers()[op]
	if !ok {
		writeErr(w, &awsapi.Error{Status: http.StatusBadRequest, Code: "UnknownOperationException",
			Message: "scones does not emulate SageMaker." + op + "; it serves " + strings.Join(s.operations(), ", ")})
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	if err != nil {
		writeErr(w, &awsapi.Error{Status: http.StatusBadRequest, Code: "SerializationException", Message: err.Error()})
		return
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		body = []byte("{}")
	}
	out, err := h(r.Context(), body)
	if err != nil {
		writeErr(w, err)
		return
	}
	if out == nil {
		out = struct{}{}
	}
	awsapi.WriteJSON(w, http.StatusOK, jsonContentType, out)
}

type handler func(ctx context.Context, body []byte) (any, error)

func (s *Service) handlers() map[string]handler {
	return map[string]handler{
		"CreateTrainingJob":      s.createTrainingJob,
		"DescribeTrainingJob":    s.describeTrainingJob,
		"ListTrainingJobs":       s.listTrainingJobs,
		"StopTrainingJob":        s.stopTrainingJob,
		"CreateModel":            s.createModel,
		"DescribeModel":          s.describeModel,
		"DeleteModel":            s.deleteModel,
		"ListModels":             s.listModels,
		"CreateEndpointConfig":   s.createEndpointConfig,
		"DescribeEndpointConfig": s.describeEndpointConfig,
		"DeleteEndpointConfig":   s.deleteEndpointConfig,
		"ListEndpointConfigs":    s.listEndpointConfigs,
		"CreateEndpoint":         s.createEndpoint,
		"DescribeEndpoint":       s.describeEndpoint,
		"UpdateEndpoint":         s.updateEndpoint,
		"DeleteEndpoint":         s.deleteEndpoint,
		"ListEndpoints":          s.listEndpoints,
		"AddTags":                s.addTags,
		"ListTags":               s.listTags,
		"DeleteTags":             s.deleteTags,
	}
}

func (s *Service) operations() []string {
	var ops []string
	for op := range s.handlers() {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	return ops
}

func writeErr(w http.ResponseWriter, err error) {
	var e *awsapi.Error
	if !errors.As(err, &e) {
		e = &awsapi.Error{Status: http.StatusInternalServerError, Code: "InternalFailure", Message: err.Error(), Fault: true}
	}
	awsapi.WriteJSONError(w, jsonContentType, e)
}

func validation(format string, args ...any) *awsapi.Error {
	return awsapi.Errorf(http.StatusBadRequest, "ValidationException", format, args...)
}

// decode reads a request body into v, as AWS's SerializationException.
func decode(body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return awsapi.Errorf(http.StatusBadRequest, "SerializationException", "cannot parse the request body: %v", err)
	}
	return nil
}

func (s *Service) arn(kind, name string) string {
	return fmt.Sprintf("arn:aws:sagemaker:%s:%s:%s/%s", s.env.Region, s.env.AccountID, kind, strings.ToLower(name))
}

// --- store helpers ---

func getJSON[T any](st store.Store, table, key string) (*T, error) {
	var out *T
	err := st.View(func(tx store.Tx) error {
		b, ok := tx.Get(table, key)
		if !ok {
			return nil
		}
		out = new(T)
		return json.Unmarshal(b, out)
	})
	return out, err
}

func putJSON(tx store.Tx, table, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return tx.Put(table, key, b)
}

func listJSON[T any](st store.Store, table string) ([]*T, error) {
	var out []*T
	err := st.View(func(tx store.Tx) error {
		var derr error
		err := tx.Ascend(table, "", "", func(_ string, b []byte) bool {
			v := new(T)
			if derr = json.Unmarshal(b, v); derr != nil {
				return false
			}
			out = append(out, v)
			return true
		})
		if derr != nil {
			return derr
		}
		return err
	})
	return out, err
}

// --- lifecycle ---

// reload fails training jobs interrupted by a restart and restarts
// endpoints that were in service.
func (s *Service) reload() error {
	now := s.env.Now()
	jobs, err := listJSON[TrainingJob](s.env.Store, tableJobs)
	if err != nil {
		return fmt.Errorf("sagemaker: reload training jobs: %w", err)
	}
	for _, j := range jobs {
		if j.TrainingJobStatus != "InProgress" && j.TrainingJobStatus != "Stopping" {
			continue
		}
		reason := "InternalServerError: the scones emulator restarted while this training job was running, so the job was interrupted. Create a new training job."
		s.env.Store.Update(func(tx store.Tx) error {
			j.TrainingJobStatus = "Failed"
			j.FailureReason = reason
			transition(j, "Failed", "Training job failed. Reason: "+reason, now)
			j.TrainingEndTime, j.LastModifiedTime = Ts(now), Ts(now)
			return putJSON(tx, tableJobs, j.TrainingJobName, j)
		})
		s.log.Warn("training job interrupted by restart marked Failed", "job", j.TrainingJobName)
	}
	eps, err := listJSON[Endpoint](s.env.Store, tableEPs)
	if err != nil {
		return fmt.Errorf("sagemaker: reload endpoints: %w", err)
	}
	for _, ep := range eps {
		switch ep.EndpointStatus {
		case "InService", "Creating", "Updating", "SystemUpdating":
			s.log.Info("restarting endpoint after reload", "endpoint", ep.EndpointName)
			// SystemUpdating ("undergoing maintenance") until its containers answer again.
			s.env.Store.Update(func(tx store.Tx) error {
				ep.EndpointStatus = "SystemUpdating"
				ep.LastModifiedTime = Ts(now)
				return putJSON(tx, tableEPs, ep.EndpointName, ep)
			})
			if err := s.startDeployment(ep.EndpointName, ep.EndpointConfigName, false); err != nil {
				s.log.Warn("cannot restart endpoint", "endpoint", ep.EndpointName, "err", err)
			}
		case "Deleting":
			s.env.Store.Update(func(tx store.Tx) error { return tx.Delete(tableEPs, ep.EndpointName) })
		}
	}
	return nil
}

// Close stops training jobs (marking them Failed), stops endpoint
// containers and writes every buffered capture record.
func (s *Service) Close(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	live := s.live
	s.live = map[string]*liveEndpoint{}
	s.mu.Unlock()
	s.cancel()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	var errs []error
	select {
	case <-done:
	case <-ctx.Done():
		errs = append(errs, fmt.Errorf("sagemaker: background work did not stop: %w", ctx.Err()))
	}
	for _, le := range live {
		errs = append(errs, le.stop(ctx))
	}
	s.proxy.CloseIdle()
	return errors.Join(errs...)
}

// --- tags ---

type addTagsInput struct {
	ResourceArn string `json:"ResourceArn"`
	Tags        []Tag  `json:"Tags"`
}

func (s *Service) resourceExists(arn string) bool {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[2] != "sagemaker" {
		return false
	}
	kind, name, ok := strings.Cut(parts[5], "/")
	if !ok {
		return false
	}
	table := map[string]string{"training-job": tableJobs, "model": tableModels, "endpoint-config": tableConfigs, "endpoint": tableEPs}[kind]
	if table == "" {
		return false
	}
	found := false
	s.env.Store.View(func(tx store.Tx) error {
		// ARNs lower-case the name; names are case-sensitive keys.
		tx.Ascend(table, "", "", func(k string, _ []byte) bool {
			if strings.ToLower(k) == name {
				found = true
				return false
			}
			return true
		})
		return nil
	})
	return found
}

func validateTags(tags []Tag) error {
	if len(tags) > 50 {
		return validation("1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50")
	}
	for i, t := range tags {
		if t.Key == "" || len(t.Key) > 128 {
			return validation("1 validation error detected: Value '%s' at 'tags.%d.member.key' failed to satisfy constraint: Member must have length between 1 and 128", t.Key, i+1)
		}
		if len(t.Value) > 256 {
			return validation("1 validation error detected: Value at 'tags.%d.member.value' failed to satisfy constraint: Member must have length less than or equal to 256", i+1)
		}
	}
	return nil
}

// mergeTags adds tags to arn's tags inside tx.
func mergeTags(tx store.Tx, arn string, tags []Tag) error {
	if len(tags) == 0 {
		return nil
	}
	var cur []Tag
	if b, ok := tx.Get(tableTags, arn); ok {
		json.Unmarshal(b, &cur)
	}
	for _, t := range tags {
		replaced := false
		for i := range cur {
			if cur[i].Key == t.Key {
				cur[i].Value, replaced = t.Value, true
			}
		}
		if !replaced {
			cur = append(cur, t)
		}
	}
	return putJSON(tx, tableTags, arn, cur)
}

func (s *Service) addTags(_ context.Context, body []byte) (any, error) {
	var in addTagsInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.ResourceArn == "" {
		return nil, validation("1 validation error detected: Value null at 'resourceArn' failed to satisfy constraint: Member must not be null")
	}
	if in.Tags == nil {
		return nil, validation("1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null")
	}
	if err := validateTags(in.Tags); err != nil {
		return nil, err
	}
	if !s.resourceExists(in.ResourceArn) {
		return nil, validation("Resource %s not found.", in.ResourceArn)
	}
	err := s.env.Store.Update(func(tx store.Tx) error { return mergeTags(tx, in.ResourceArn, in.Tags) })
	if err != nil {
		return nil, err
	}
	return map[string]any{"Tags": in.Tags}, nil
}

func (s *Service) listTags(_ context.Context, body []byte) (any, error) {
	var in struct {
		ResourceArn string
		NextToken   string
		MaxResults  int
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.ResourceArn == "" {
		return nil, validation("1 validation error detected: Value null at 'resourceArn' failed to satisfy constraint: Member must not be null")
	}
	if !s.resourceExists(in.ResourceArn) {
		return nil, validation("Resource %s not found.", in.ResourceArn)
	}
	tags := []Tag{}
	s.env.Store.View(func(tx store.Tx) error {
		if b, ok := tx.Get(tableTags, in.ResourceArn); ok {
			json.Unmarshal(b, &tags)
		}
		return nil
	})
	page, next, err := paginate(tags, in.NextToken, in.MaxResults, 50)
	if err != nil {
		return nil, err
	}
	return map[string]any{"Tags": page, "NextToken": omitEmpty(next)}, nil
}

func (s *Service) deleteTags(_ context.Context, body []byte) (any, error) {
	var in struct {
		ResourceArn string
		TagKeys     []string
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.ResourceArn == "" || in.TagKeys == nil {
		return nil, validation("1 validation error detected: Value null at 'resourceArn' or 'tagKeys' failed to satisfy constraint: Member must not be null")
	}
	if !s.resourceExists(in.ResourceArn) {
		return nil, validation("Resource %s not found.", in.ResourceArn)
	}
	err := s.env.Store.Update(func(tx store.Tx) error {
		var cur []Tag
		if b, ok := tx.Get(tableTags, in.ResourceArn); ok {
			json.Unmarshal(b, &cur)
		}
		keep := cur[:0]
		for _, t := range cur {
			drop := false
			for _, k := range in.TagKeys {
				drop = drop || k == t.Key
			}
			if !drop {
				keep = append(keep, t)
			}
		}
		return putJSON(tx, tableTags, in.ResourceArn, keep)
	})
	return nil, err
}

// --- lists ---

// listParams are the common List* parameters.
type listParams struct {
	NextToken          string     `json:"NextToken"`
	MaxResults         int        `json:"MaxResults"`
	NameContains       string     `json:"NameContains"`
	CreationTimeAfter  *Timestamp `json:"CreationTimeAfter"`
	CreationTimeBefore *Timestamp `json:"CreationTimeBefore"`
	LastModifiedAfter  *Timestamp `json:"LastModifiedTimeAfter"`
	LastModifiedBefore *Timestamp `json:"LastModifiedTimeBefore"`
	StatusEquals       string     `json:"StatusEquals"`
	SortBy             string     `json:"SortBy"`
	SortOrder          string     `json:"SortOrder"`
}

type listItem struct {
	name     string
	created  time.Time
	modified time.Time
	status   string
	value    any
}

// list filters, sorts (default CreationTime Descending) and pages items.
func (p *listParams) list(items []listItem) ([]any, string, error) {
	var out []listItem
	for _, it := range items {
		if p.NameContains != "" && !strings.Contains(strings.ToLower(it.name), strings.ToLower(p.NameContains)) {
			continue
		}
		if p.CreationTimeAfter != nil && !it.created.After(p.CreationTimeAfter.Time()) {
			continue
		}
		if p.CreationTimeBefore != nil && !it.created.Before(p.CreationTimeBefore.Time()) {
			continue
		}
		if p.LastModifiedAfter != nil && !it.modified.After(p.LastModifiedAfter.Time()) {
			continue
		}
		if p.LastModifiedBefore != nil && !it.modified.Before(p.LastModifiedBefore.Time()) {
			continue
		}
		if p.StatusEquals != "" && it.status != p.StatusEquals {
			continue
		}
		out = append(out, it)
	}
	desc := p.SortOrder != "Ascending"
	if p.SortOrder != "" && p.SortOrder != "Ascending" && p.SortOrder != "Descending" {
		return nil, "", validation("1 validation error detected: Value '%s' at 'sortOrder' failed to satisfy constraint: Member must satisfy enum value set: [Ascending, Descending]", p.SortOrder)
	}
	less := func(a, b listItem) bool {
		switch p.SortBy {
		case "Name":
			return a.name < b.name
		case "Status":
			return a.status < b.status || (a.status == b.status && a.name < b.name)
		}
		return a.created.Before(b.created) || (a.created.Equal(b.created) && a.name < b.name)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if desc {
			return less(out[j], out[i])
		}
		return less(out[i], out[j])
	})
	vals := make([]any, len(out))
	for i, it := range out {
		vals[i] = it.value
	}
	return paginate(vals, p.NextToken, p.MaxResults, 10)
}

func paginate[T any](items []T, token string, max, def int) ([]T, string, error) {
	if max <= 0 {
		max = def
	}
	if max > 100 {
		return nil, "", validation("1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 100", max)
	}
	start := 0
	if token != "" {
		if _, err := fmt.Sscanf(token, "scones-%d", &start); err != nil || start < 0 || start > len(items) {
			return nil, "", validation("Invalid pagination token %q.", token)
		}
	}
	end := min(start+max, len(items))
	next := ""
	if end < len(items) {
		next = fmt.Sprintf("scones-%d", end)
	}
	page := items[start:end]
	if page == nil {
		page = []T{}
	}
	return page, next, nil
}

func omitEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// --- validation helpers ---

var namePattern = `^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}`

func validName(field, name string) error {
	if name == "" {
		return validation("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", field)
	}
	ok := len(name) <= 63
	for i, c := range name {
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (c != '-' || i == 0) {
			ok = false
		}
	}
	if !ok || strings.HasSuffix(name, "-") {
		return validation("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: %s", name, field, namePattern)
	}
	return nil
}

// capturePutter writes capture files through the service's S3.
func (s *Service) capturePutter() capture.Putter { return CapturePutter(s.objects) }

// CapturePutter writes data-capture files to an ObjectStore: the
// emulator's S3, or another S3 through s3client (the stub endpoint's
// one-model mode).
func CapturePutter(objects ObjectStore) capture.Putter {
	return capture.PutterFunc(func(ctx context.Context, bucket, key string, body []byte) error {
		_, err := objects.PutObject(ctx, bucket, key, body, "application/octet-stream")
		return err
	})
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
