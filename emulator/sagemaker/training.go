package sagemaker

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/scones/scones/emulator/awsapi"
	"github.com/scones/scones/emulator/sagemaker/capture"
	"github.com/scones/scones/emulator/sagemaker/serving"
	"github.com/scones/scones/emulator/store"
	"github.com/scones/scones/smcontainer"
)

// ImageClassificationMetrics are the metric definitions of the built-in
// image-classification algorithm, matched against its log lines
// ("Epoch[3] Train-accuracy=0.871094", "Epoch[3] Validation-accuracy=0.85").
var imageClassificationMetrics = []MetricDefinition{
	{Name: "train:accuracy", Regex: `Epoch\[\d+\] Train-accuracy=([0-9\.]+)`},
	{Name: "validation:accuracy", Regex: `Epoch\[\d+\] Validation-accuracy=([0-9\.]+)`},
}

// runningJob is a training job in progress.
type runningJob struct {
	cancel  context.CancelCauseFunc
	stopped bool
}

var errStopRequested = errors.New("StopTrainingJob")

// maxFailureReason is FailureReason's length limit.
const maxFailureReason = 1024

func (s *Service) createTrainingJob(_ context.Context, body []byte) (any, error) {
	var in TrainingJob
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := s.validateTrainingJob(&in); err != nil {
		return nil, err
	}
	now := s.env.Now()
	job := in
	job.Tags = nil
	job.TrainingJobArn = s.arn("training-job", in.TrainingJobName)
	job.TrainingJobStatus = "InProgress"
	job.CreationTime, job.LastModifiedTime = Ts(now), Ts(now)
	if job.StoppingCondition == nil {
		day := 86400
		job.StoppingCondition = &StoppingCondition{MaxRuntimeInSeconds: &day}
	}
	if job.AlgorithmSpecification.TrainingImage != "" && smcontainer.IsImageClassification(job.AlgorithmSpecification.TrainingImage) && len(job.AlgorithmSpecification.MetricDefinitions) == 0 {
		job.AlgorithmSpecification.MetricDefinitions = imageClassificationMetrics
	}
	if b := job.AlgorithmSpecification.EnableSageMakerMetricsTimeSeries; b == nil {
		f := false
		job.AlgorithmSpecification.EnableSageMakerMetricsTimeSeries = &f
	}
	transition(&job, "Starting", "Launching requested ML instances", now)
	err := s.env.Store.Update(func(tx store.Tx) error {
		if _, ok := tx.Get(tableJobs, job.TrainingJobName); ok {
			return awsapi.Errorf(http.StatusBadRequest, "ResourceInUse",
				"Training job names must be unique within an AWS account and region, and a training job with this name already exists (%s)", job.TrainingJobArn)
		}
		if err := putJSON(tx, tableJobs, job.TrainingJobName, &job); err != nil {
			return err
		}
		return mergeTags(tx, job.TrainingJobArn, in.Tags)
	})
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, awsapi.Errorf(http.StatusServiceUnavailable, "ServiceUnavailable", "the emulator is shutting down")
	}
	ctx, cancel := context.WithCancelCause(s.ctx)
	if d := job.StoppingCondition.MaxRuntimeInSeconds; d != nil && *d > 0 {
		var c2 context.CancelFunc
		ctx, c2 = context.WithTimeoutCause(ctx, time.Duration(*d)*time.Second, errMaxRuntime)
		inner := cancel
		cancel = func(cause error) { inner(cause); c2() }
	}
	s.jobs[job.TrainingJobName] = &runningJob{cancel: cancel}
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		defer cancel(nil)
		s.runTrainingJob(ctx, job.TrainingJobName)
	}()
	return map[string]string{"TrainingJobArn": job.TrainingJobArn}, nil
}

var errMaxRuntime = errors.New("MaxRuntimeExceeded")

func nullErr(field string) error {
	return validation("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", field)
}

func (s *Service) validateTrainingJob(in *TrainingJob) error {
	if err := validName("trainingJobName", in.TrainingJobName); err != nil {
		return err
	}
	if in.RoleArn == "" {
		return nullErr("roleArn")
	}
	if in.OutputDataConfig == nil {
		return nullErr("outputDataConfig")
	}
	if in.OutputDataConfig.S3OutputPath == "" {
		return nullErr("outputDataConfig.s3OutputPath")
	}
	if _, _, err := capture.ParseS3URI(in.OutputDataConfig.S3OutputPath); err != nil {
		return validation("1 validation error detected: Value '%s' at 'outputDataConfig.s3OutputPath' failed to satisfy constraint: Member must satisfy regular expression pattern: ^(https|s3)://([^/]+)/?(.*)$", in.OutputDataConfig.S3OutputPath)
	}
	a := in.AlgorithmSpecification
	if a == nil {
		return nullErr("algorithmSpecification")
	}
	if a.TrainingInputMode == "" {
		return nullErr("algorithmSpecification.trainingInputMode")
	}
	if a.TrainingImage == "" && a.AlgorithmName == "" {
		return validation("Either an algorithm name or a training image must be specified in the AlgorithmSpecification.")
	}
	if a.AlgorithmName != "" && a.TrainingImage == "" {
		return validation("AlgorithmName %q: scones runs training images only; use the algorithm's image URI as TrainingImage.", a.AlgorithmName)
	}
	for i, m := range a.MetricDefinitions {
		if _, err := regexp.Compile(m.Regex); err != nil {
			return validation("MetricDefinitions[%d] %s: invalid regex %q: %v", i, m.Name, m.Regex, err)
		}
	}
	if in.ResourceConfig == nil {
		return nullErr("resourceConfig")
	}
	if in.ResourceConfig.InstanceType == "" && len(in.ResourceConfig.InstanceGroups) == 0 {
		return validation("1 validation error detected: Value null at 'resourceConfig.instanceType' failed to satisfy constraint: Member must not be null")
	}
	if in.ResourceConfig.InstanceCount != nil && *in.ResourceConfig.InstanceCount < 1 {
		return validation("1 validation error detected: Value '%d' at 'resourceConfig.instanceCount' failed to satisfy constraint: Member must have value greater than or equal to 1", *in.ResourceConfig.InstanceCount)
	}
	if in.ResourceConfig.VolumeSizeInGB == nil {
		return nullErr("resourceConfig.volumeSizeInGB")
	}
	seen := map[string]bool{}
	for i, c := range in.InputDataConfig {
		field := fmt.Sprintf("inputDataConfig.%d.member", i+1)
		if c.ChannelName == "" {
			return nullErr(field + ".channelName")
		}
		if seen[c.ChannelName] {
			return validation("Channel names must be unique: %q appears more than once in InputDataConfig.", c.ChannelName)
		}
		seen[c.ChannelName] = true
		if c.DataSource == nil {
			return nullErr(field + ".dataSource")
		}
		src := c.DataSource.S3DataSource
		if src == nil {
			return validation("Channel %q: scones supports S3DataSource only.", c.ChannelName)
		}
		if src.S3Uri == "" {
			return nullErr(field + ".dataSource.s3DataSource.s3Uri")
		}
		if _, _, err := capture.ParseS3URI(src.S3Uri); err != nil {
			return validation("1 validation error detected: Value '%s' at '%s.dataSource.s3DataSource.s3Uri' failed to satisfy constraint: Member must satisfy regular expression pattern: ^(https|s3)://([^/]+)/?(.*)$", src.S3Uri, field)
		}
		switch src.S3DataType {
		case "S3Prefix", "ManifestFile":
		case "":
			return nullErr(field + ".dataSource.s3DataSource.s3DataType")
		default:
			return validation("Channel %q: S3DataType %q is not supported by scones (S3Prefix and ManifestFile are).", c.ChannelName, src.S3DataType)
		}
		if c.CompressionType != "" && c.CompressionType != "None" {
			return validation("Channel %q: CompressionType %q is not supported by scones.", c.ChannelName, c.CompressionType)
		}
	}
	if err := validateTags(in.Tags); err != nil {
		return err
	}
	return nil
}

// transition ends the current secondary status and starts a new one.
func transition(j *TrainingJob, status, msg string, now time.Time) {
	if n := len(j.SecondaryStatusTransitions); n > 0 && j.SecondaryStatusTransitions[n-1].EndTime == nil {
		j.SecondaryStatusTransitions[n-1].EndTime = Ts(now)
	}
	t := SecondaryStatusTransition{Status: status, StartTime: Ts(now), StatusMessage: msg}
	if status == "Completed" || status == "Failed" || status == "Stopped" || status == "MaxRuntimeExceeded" {
		t.EndTime = Ts(now)
	}
	j.SecondaryStatusTransitions = append(j.SecondaryStatusTransitions, t)
	j.SecondaryStatus = status
	j.LastModifiedTime = Ts(now)
}

// updateJob applies fn to the stored job.
func (s *Service) updateJob(name string, fn func(*TrainingJob)) (*TrainingJob, error) {
	var out *TrainingJob
	err := s.env.Store.Update(func(tx store.Tx) error {
		b, ok := tx.Get(tableJobs, name)
		if !ok {
			return fmt.Errorf("training job %s vanished", name)
		}
		var j TrainingJob
		if err := json.Unmarshal(b, &j); err != nil {
			return err
		}
		fn(&j)
		out = &j
		return putJSON(tx, tableJobs, name, &j)
	})
	return out, err
}

// metricTracker keeps the last value of each metric seen in the log.
type metricTracker struct {
	now  func() time.Time
	defs []MetricDefinition
	res  []*regexp.Regexp
	mu   sync.Mutex
	last map[string]MetricData
	tail []string // last log lines, for failure reasons
}

func newMetricTracker(defs []MetricDefinition, now func() time.Time) *metricTracker {
	m := &metricTracker{now: now, defs: defs, last: map[string]MetricData{}}
	for _, d := range defs {
		re, err := regexp.Compile(d.Regex)
		if err != nil {
			re = regexp.MustCompile(`$^`)
		}
		m.res = append(m.res, re)
	}
	return m
}

func (m *metricTracker) line(l string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.tail = append(m.tail, l); len(m.tail) > 20 {
		m.tail = m.tail[1:]
	}
	for i, re := range m.res {
		sub := re.FindStringSubmatch(l)
		if len(sub) < 2 {
			continue
		}
		v, err := strconv.ParseFloat(sub[len(sub)-1], 64)
		if err != nil {
			continue
		}
		m.last[m.defs[i].Name] = MetricData{MetricName: m.defs[i].Name, Value: v, Timestamp: Ts(m.now())}
	}
}

func (m *metricTracker) final() []MetricData {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []MetricData
	for _, d := range m.defs {
		if v, ok := m.last[d.Name]; ok {
			out = append(out, v)
		}
	}
	return out
}

func (m *metricTracker) lastLines() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.tail) == 0 {
		return ""
	}
	return m.tail[len(m.tail)-1]
}

// runTrainingJob is the training job's goroutine.
func (s *Service) runTrainingJob(ctx context.Context, name string) {
	job, err := getJSON[TrainingJob](s.env.Store, tableJobs, name)
	if err != nil || job == nil {
		s.log.Error("training job not found", "job", name, "err", err)
		return
	}
	log := s.log.With("job", name)
	root, err := os.MkdirTemp(s.cfg.workDir, "sagemaker-job-"+name+"-")
	if err != nil {
		s.finishJob(name, "Failed", "InternalServerError: cannot create the ML root: "+err.Error(), nil, "")
		return
	}
	defer os.RemoveAll(root)
	start := s.env.Now()
	metrics := newMetricTracker(job.AlgorithmSpecification.MetricDefinitions, s.env.Now)

	fail := func(reason string) {
		// Paths in the container's view, as on SageMaker.
		reason = strings.ReplaceAll(reason, root, "/opt/ml")
		log.Warn("training job failed", "reason", reason)
		s.finishJob(name, "Failed", reason, metrics.final(), "")
	}
	if _, err := s.runner.Resolve(job.AlgorithmSpecification.TrainingImage); err != nil {
		fail("ClientError: " + err.Error())
		return
	}
	s.updateJob(name, func(j *TrainingJob) {
		j.TrainingStartTime = Ts(s.env.Now())
		transition(j, "Downloading", "Downloading input data", s.env.Now())
	})
	if err := s.prepareRoot(ctx, job, root); err != nil {
		if ctx.Err() != nil {
			s.endStopped(ctx, name, root, job, metrics)
			return
		}
		fail(err.Error())
		return
	}
	s.updateJob(name, func(j *TrainingJob) {
		transition(j, "Training", "Training image download completed. Training in progress.", s.env.Now())
	})
	log.Info("training job started", "image", job.AlgorithmSpecification.TrainingImage, "root", root)
	env := map[string]string{"TRAINING_JOB_NAME": name, "TRAINING_JOB_ARN": job.TrainingJobArn, "AWS_REGION": s.env.Region}
	for k, v := range job.Environment {
		env[k] = v
	}
	err = s.runner.Train(ctx, smcontainer.Spec{Name: name, Kind: "job", Image: job.AlgorithmSpecification.TrainingImage,
		Root: root, Env: env, Output: metrics.line})
	if ctx.Err() != nil {
		s.endStopped(ctx, name, root, job, metrics)
		return
	}
	if err != nil {
		reason := readFailure(root)
		if reason == "" {
			var ee *smcontainer.ExitError
			if errors.As(err, &ee) {
				reason = fmt.Sprintf("AlgorithmError: the training container exited with code %d and wrote no /opt/ml/output/failure; last output: %s", ee.Code, metrics.lastLines())
			} else {
				reason = "ClientError: " + err.Error()
			}
		}
		fail(reason)
		return
	}
	s.updateJob(name, func(j *TrainingJob) {
		transition(j, "Uploading", "Uploading generated training model", s.env.Now())
	})
	artifact, err := s.uploadArtifacts(context.WithoutCancel(ctx), job, root)
	if err != nil {
		fail("InternalServerError: uploading the model artifacts failed: " + err.Error())
		return
	}
	log.Info("training job completed", "model", artifact, "took", s.env.Now().Sub(start).Round(time.Millisecond))
	s.finishJob(name, "Completed", "", metrics.final(), artifact)
}

// endStopped finishes a job that StopTrainingJob, MaxRuntimeInSeconds or
// shutdown interrupted: artifacts written so far are uploaded, as
// SageMaker does for stopped jobs.
func (s *Service) endStopped(ctx context.Context, name, root string, job *TrainingJob, metrics *metricTracker) {
	cause := context.Cause(ctx)
	if !errors.Is(cause, errStopRequested) && !errors.Is(cause, errMaxRuntime) {
		s.finishJob(name, "Failed", "InternalServerError: the scones emulator shut down while this training job was running.", metrics.final(), "")
		return
	}
	artifact := ""
	if entries, _ := os.ReadDir(filepath.Join(root, "model")); len(entries) > 0 {
		s.updateJob(name, func(j *TrainingJob) {
			transition(j, "Uploading", "Uploading generated training model", s.env.Now())
		})
		artifact, _ = s.uploadArtifacts(context.WithoutCancel(ctx), job, root)
	}
	status := "Stopped"
	if errors.Is(cause, errMaxRuntime) {
		status = "MaxRuntimeExceeded"
	}
	s.finishJob(name, status, "", metrics.final(), artifact)
}

// finishJob records a terminal state. status is Completed, Failed,
// Stopped or MaxRuntimeExceeded (a Stopped job with that secondary status).
func (s *Service) finishJob(name, status, reason string, metrics []MetricData, artifact string) {
	now := s.env.Now()
	if len(reason) > maxFailureReason {
		reason = reason[:maxFailureReason]
	}
	s.updateJob(name, func(j *TrainingJob) {
		switch status {
		case "Completed":
			transition(j, "Completed", "Training job completed", now)
		case "Failed":
			transition(j, "Failed", "Training job failed. Reason: "+reason, now)
			j.FailureReason = reason
		case "Stopped":
			transition(j, "Stopped", "Training job stopped", now)
		case "MaxRuntimeExceeded":
			transition(j, "MaxRuntimeExceeded", "Job stopped because max run time was exceeded", now)
			status = "Stopped"
		}
		j.TrainingJobStatus = status
		j.FinalMetricDataList = metrics
		if artifact != "" {
			j.ModelArtifacts = &ModelArtifacts{S3ModelArtifacts: artifact}
		}
		j.TrainingEndTime = Ts(now)
		if j.TrainingStartTime != nil {
			secs := int(now.Sub(j.TrainingStartTime.Time()).Seconds() + 0.5)
			j.TrainingTimeInSeconds, j.BillableTimeInSeconds = &secs, &secs
		}
	})
	s.mu.Lock()
	delete(s.jobs, name)
	s.mu.Unlock()
}

func readFailure(root string) string {
	b, err := os.ReadFile(filepath.Join(root, "output", "failure"))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// prepareRoot writes input/config and downloads every channel.
func (s *Service) prepareRoot(ctx context.Context, job *TrainingJob, root string) error {
	for _, d := range []string{"input/config", "input/data", "model", "output/data", "code", "checkpoints"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			return fmt.Errorf("InternalServerError: %v", err)
		}
	}
	hp := job.HyperParameters
	if hp == nil {
		hp = map[string]string{}
	}
	idc := map[string]map[string]string{}
	for _, c := range job.InputDataConfig {
		m := map[string]string{
			"TrainingInputMode":  firstNonEmpty(c.InputMode, job.AlgorithmSpecification.TrainingInputMode),
			"S3DistributionType": firstNonEmpty(c.DataSource.S3DataSource.S3DataDistributionType, "FullyReplicated"),
			"RecordWrapperType":  firstNonEmpty(c.RecordWrapperType, "None"),
		}
		if c.ContentType != "" {
			m["ContentType"] = c.ContentType
		}
		idc[c.ChannelName] = m
	}
	rc := map[string]any{"current_host": "algo-1", "current_instance_type": job.ResourceConfig.InstanceType,
		"current_group_name": "homogeneousCluster", "hosts": []string{"algo-1"}, "network_interface_name": "eth0",
		"instance_groups": []map[string]any{{"instance_group_name": "homogeneousCluster", "instance_type": job.ResourceConfig.InstanceType, "hosts": []string{"algo-1"}}}}
	for file, v := range map[string]any{"hyperparameters.json": hp, "inputdataconfig.json": idc, "resourceconfig.json": rc} {
		b, _ := json.Marshal(v)
		if err := os.WriteFile(filepath.Join(root, "input/config", file), b, 0o644); err != nil {
			return fmt.Errorf("InternalServerError: %v", err)
		}
	}
	for _, c := range job.InputDataConfig {
		if err := s.downloadChannel(ctx, job, c, filepath.Join(root, "input/data", c.ChannelName)); err != nil {
			return err
		}
	}
	return nil
}

func firstNonEmpty(a ...string) string {
	for _, s := range a {
		if s != "" {
			return s
		}
	}
	return ""
}

// downloadChannel copies a channel's S3 objects into dir. For S3Prefix, a
// key's path below the prefix's last "/" is kept (s3://b/train/ puts
// train/x.png at x.png; s3://b/train.lst puts train.lst at train.lst).
func (s *Service) downloadChannel(ctx context.Context, job *TrainingJob, c Channel, dir string) error {
	src := c.DataSource.S3DataSource
	bucket, prefix, _ := capture.ParseS3URI(src.S3Uri)
	if strings.HasSuffix(src.S3Uri, "/") && prefix != "" {
		prefix += "/"
	}
	type item struct{ bucket, key, rel string }
	var items []item
	switch src.S3DataType {
	case "ManifestFile":
		data, _, err := s.objects.GetObject(ctx, bucket, prefix)
		if err != nil {
			return fmt.Errorf("ClientError: cannot read manifest file %s of channel %s: %v", src.S3Uri, c.ChannelName, err)
		}
		var entries []json.RawMessage
		if err := json.Unmarshal(data, &entries); err != nil || len(entries) == 0 {
			return fmt.Errorf("ClientError: manifest file %s of channel %s is not a JSON array [{\"prefix\": \"s3://...\"}, \"key\", ...]", src.S3Uri, c.ChannelName)
		}
		var head struct {
			Prefix string `json:"prefix"`
		}
		if err := json.Unmarshal(entries[0], &head); err != nil || head.Prefix == "" {
			return fmt.Errorf("ClientError: manifest file %s of channel %s must start with {\"prefix\": \"s3://...\"}", src.S3Uri, c.ChannelName)
		}
		mb, mp, err := capture.ParseS3URI(head.Prefix)
		if err != nil {
			return fmt.Errorf("ClientError: manifest file %s: %v", src.S3Uri, err)
		}
		if mp != "" {
			mp += "/"
		}
		for _, e := range entries[1:] {
			var rel string
			if err := json.Unmarshal(e, &rel); err != nil {
				return fmt.Errorf("ClientError: manifest file %s of channel %s: entries after the prefix must be strings", src.S3Uri, c.ChannelName)
			}
			items = append(items, item{mb, mp + rel, rel})
		}
	default:
		objs, err := s.objects.ListObjects(ctx, bucket, prefix)
		if err != nil {
			return fmt.Errorf("ClientError: cannot list %s for channel %s: %v", src.S3Uri, c.ChannelName, err)
		}
		base := ""
		if i := strings.LastIndex(prefix, "/"); i >= 0 {
			base = prefix[:i+1]
		}
		for _, o := range objs {
			if strings.HasSuffix(o.Key, "/") {
				continue
			}
			items = append(items, item{bucket, o.Key, strings.TrimPrefix(o.Key, base)})
		}
	}
	if len(items) == 0 {
		return fmt.Errorf("ClientError: No S3 objects found under S3 URL \"%s\" given in input data source. Please ensure that the bucket exists in the selected region (%s), that objects exist under that S3 prefix, and that the role \"%s\" has \"s3:ListBucket\" permissions on bucket \"%s\".",
			src.S3Uri, s.env.Region, job.RoleArn, bucket)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("InternalServerError: %v", err)
	}
	for _, it := range items {
		if err := ctx.Err(); err != nil {
			return err
		}
		dst, err := serving.SafeJoin(dir, it.rel)
		if err != nil {
			return fmt.Errorf("ClientError: channel %s: object key %q: %v", c.ChannelName, it.key, err)
		}
		data, _, err := s.objects.GetObject(ctx, it.bucket, it.key)
		if err != nil {
			return fmt.Errorf("ClientError: channel %s: cannot download s3://%s/%s: %v", c.ChannelName, it.bucket, it.key, err)
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return fmt.Errorf("InternalServerError: %v", err)
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			return fmt.Errorf("InternalServerError: %v", err)
		}
	}
	return nil
}

// uploadArtifacts uploads model.tar.gz (and output.tar.gz when the job
// wrote output data) and returns the model's S3 URI.
func (s *Service) uploadArtifacts(ctx context.Context, job *TrainingJob, root string) (string, error) {
	bucket, prefix, _ := capture.ParseS3URI(job.OutputDataConfig.S3OutputPath)
	base := job.TrainingJobName + "/output/"
	if prefix != "" {
		base = prefix + "/" + base
	}
	model, err := tarGz(filepath.Join(root, "model"))
	if err != nil {
		return "", err
	}
	if _, err := s.objects.PutObject(ctx, bucket, base+"model.tar.gz", model, "application/x-tar"); err != nil {
		return "", err
	}
	if entries, _ := os.ReadDir(filepath.Join(root, "output/data")); len(entries) > 0 {
		if out, err := tarGz(filepath.Join(root, "output/data")); err == nil {
			s.objects.PutObject(ctx, bucket, base+"output.tar.gz", out, "application/x-tar")
		}
	}
	return "s3://" + bucket + "/" + base + "model.tar.gz", nil
}

// tarGz archives dir's contents (paths relative to dir).
func tarGz(dir string) ([]byte, error) {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == dir {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		hdr, err := tar.FileInfoHeader(info, "")
		if err != nil {
			return err
		}
		hdr.Name = filepath.ToSlash(rel)
		if d.IsDir() {
			hdr.Name += "/"
		}
		hdr.Uname, hdr.Gname, hdr.Uid, hdr.Gid = "", "", 0, 0
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if info.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			_, err = tw.Write(b)
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (s *Service) describeTrainingJob(_ context.Context, body []byte) (any, error) {
	var in struct{ TrainingJobName string }
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.TrainingJobName == "" {
		return nil, nullErr("trainingJobName")
	}
	j, err := getJSON[TrainingJob](s.env.Store, tableJobs, in.TrainingJobName)
	if err != nil {
		return nil, err
	}
	if j == nil {
		return nil, awsapi.Errorf(http.StatusBadRequest, "ValidationException", "Requested resource not found: training job %s does not exist.", in.TrainingJobName)
	}
	return j, nil
}

func (s *Service) listTrainingJobs(_ context.Context, body []byte) (any, error) {
	var p listParams
	if err := decode(body, &p); err != nil {
		return nil, err
	}
	jobs, err := listJSON[TrainingJob](s.env.Store, tableJobs)
	if err != nil {
		return nil, err
	}
	items := make([]listItem, len(jobs))
	for i, j := range jobs {
		items[i] = listItem{name: j.TrainingJobName, created: j.CreationTime.Time(), modified: j.LastModifiedTime.Time(), status: j.TrainingJobStatus,
			value: TrainingJobSummary{TrainingJobName: j.TrainingJobName, TrainingJobArn: j.TrainingJobArn, CreationTime: j.CreationTime,
				TrainingEndTime: j.TrainingEndTime, LastModifiedTime: j.LastModifiedTime, TrainingJobStatus: j.TrainingJobStatus, SecondaryStatus: j.SecondaryStatus}}
	}
	page, next, err := p.list(items)
	if err != nil {
		return nil, err
	}
	return map[string]any{"TrainingJobSummaries": page, "NextToken": omitEmpty(next)}, nil
}

func (s *Service) stopTrainingJob(_ context.Context, body []byte) (any, error) {
	var in struct{ TrainingJobName string }
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.TrainingJobName == "" {
		return nil, nullErr("trainingJobName")
	}
	j, err := getJSON[TrainingJob](s.env.Store, tableJobs, in.TrainingJobName)
	if err != nil {
		return nil, err
	}
	if j == nil {
		return nil, awsapi.Errorf(http.StatusBadRequest, "ValidationException", "Requested resource not found: training job %s does not exist.", in.TrainingJobName)
	}
	s.mu.Lock()
	rj := s.jobs[in.TrainingJobName]
	if rj != nil && !rj.stopped {
		rj.stopped = true
		s.mu.Unlock()
		s.updateJob(in.TrainingJobName, func(j *TrainingJob) {
			if j.TrainingJobStatus == "InProgress" {
				j.TrainingJobStatus = "Stopping"
				transition(j, "Stopping", "Stopping the training job", s.env.Now())
			}
		})
		rj.cancel(errStopRequested)
		return nil, nil
	}
	s.mu.Unlock()
	if j.TrainingJobStatus != "InProgress" && j.TrainingJobStatus != "Stopping" {
		return nil, validation("The request was rejected because the training job is in status %s.", j.TrainingJobStatus)
	}
	return nil, nil
}
