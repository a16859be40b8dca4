package integration

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/scones/scones/emulator"
	"github.com/scones/scones/fixtures"
	"github.com/scones/scones/lambdapkg"
	"github.com/scones/scones/monitor"
	"github.com/scones/scones/pipeline"
	"github.com/scones/scones/profile"
)

// packager builds the functions from this module for the host, as the CLI
// does for the local profile.
func packager(ctx context.Context, function, arch string) ([]byte, error) {
	path, _, err := lambdapkg.Build(ctx, lambdapkg.Options{Function: function})
	if err != nil {
		return nil, err
	}
	return os.ReadFile(path)
}

func newEnv(t *testing.T, url string) *pipeline.Env {
	t.Helper()
	return newProfileEnv(t, profile.Local, url, nil)
}

// newProfileEnv is newEnv for the named profile, every service it serves
// from one endpoint at url, adjusted by configure (when not nil).
func newProfileEnv(t *testing.T, name, url string, configure func(*profile.Profile) error) *pipeline.Env {
	t.Helper()
	p, err := profile.Resolve(profile.Options{Profile: name, Endpoint: url})
	if err != nil {
		t.Fatal(err)
	}
	if configure != nil {
		if err := configure(p); err != nil {
			t.Fatal(err)
		}
	}
	env, err := pipeline.NewEnv(context.Background(), p, nil, testWriter{t})
	if err != nil {
		t.Fatal(err)
	}
	return env
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

// TestPipelineInProcess runs the whole workflow on the embedded emulator:
// stage the fixture archive, train through CreateTrainingJob, deploy, run
// 100 executions, read the capture back, and destroy, asserting at every
// step.
func TestPipelineInProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the end-to-end pipeline trains a model (about 30 s)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	srv, err := emulator.Start(ctx, emulator.Options{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	runSuite(t, ctx, srv.URL(), suiteHooks{extra: func(t *testing.T, env *pipeline.Env) {
		t.Run("load", func(t *testing.T) { loadTest(t, ctx, env) })
		t.Run("faults", func(t *testing.T) { faultTest(t, ctx, env, srv) })
	}})
}

// suiteHooks adapt runSuite to a backend.
type suiteHooks struct {
	// profile names the profile (default local) whose endpoints are url.
	profile string
	// configure adjusts the profile before anything runs.
	configure func(*profile.Profile) error
	// extra runs backend-specific checks before destroy.
	extra func(*testing.T, *pipeline.Env)
}

// runSuite is the end-to-end suite against the emulator at url: stage,
// train, deploy twice, 100 executions with their histories, capture,
// monitor, the Distributed Map run, the hooks' checks, and destroy.
func runSuite(t *testing.T, ctx context.Context, url string, hooks suiteHooks) {
	if hooks.profile == "" {
		hooks.profile = profile.Local
	}
	env := newProfileEnv(t, hooks.profile, url, hooks.configure)
	archive, err := fixtures.WriteCommitted(t.TempDir(), fixtures.MiniPython)
	if err != nil {
		t.Fatal(err)
	}

	// Stage: counts per split and class, then an idempotent re-run.
	staged, err := pipeline.Stage(ctx, env, pipeline.StageOptions{Source: archive, CreateBucket: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := staged.Counts; len(got["train"]) != 2 || got["train"][0] != 120 || got["train"][1] != 120 || got["test"][0] != 25 || got["test"][1] != 25 {
		t.Fatalf("staged counts = %v", got)
	}
	if staged.Uploaded != 240+50+2 {
		t.Errorf("uploaded %d objects, want 292 (290 PNGs and 2 manifests)", staged.Uploaded)
	}
	again, err := pipeline.Stage(ctx, env, pipeline.StageOptions{Source: archive})
	if err != nil {
		t.Fatal(err)
	}
	if again.Uploaded != 0 || again.Unchanged != 292 {
		t.Errorf("re-stage uploaded %d, unchanged %d; want 0 and 292", again.Uploaded, again.Unchanged)
	}

	// Deploy: trains first, creates everything; a second deploy changes nothing.
	dep, err := pipeline.Deploy(ctx, env, pipeline.DeployOptions{Package: packager})
	if err != nil {
		t.Fatal(err)
	}
	created := map[string]bool{}
	for _, c := range dep.Changes {
		if c.Action == "created" {
			created[c.Kind] = true
		}
	}
	for _, kind := range []string{"role", "function", "training job", "model", "endpoint config", "endpoint", "state machine"} {
		if !created[kind] {
			t.Errorf("deploy created no %s: %+v", kind, dep.Changes)
		}
	}
	job, _, err := env.LatestModelArtifact(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dj, err := env.Clients.SageMaker.DescribeTrainingJob(ctx, &sagemaker.DescribeTrainingJobInput{TrainingJobName: aws.String(job)})
	if err != nil {
		t.Fatal(err)
	}
	if dj.TrainingJobStatus != "Completed" {
		t.Fatalf("training job %s: %s", job, dj.TrainingJobStatus)
	}
	metrics := map[string]float32{}
	for _, m := range dj.FinalMetricDataList {
		metrics[aws.ToString(m.MetricName)] = aws.ToFloat32(m.Value)
	}
	if acc, ok := metrics["validation:accuracy"]; !ok || acc < 0.6 {
		t.Errorf("validation accuracy = %v (present %v), want a metric of at least 0.6", acc, ok)
	}
	ep, err := env.Clients.SageMaker.DescribeEndpoint(ctx, &sagemaker.DescribeEndpointInput{EndpointName: aws.String(env.Profile.Names.Endpoint)})
	if err != nil || ep.EndpointStatus != "InService" {
		t.Fatalf("endpoint: %v %v", ep, err)
	}
	second, err := pipeline.Deploy(ctx, env, pipeline.DeployOptions{Package: packager})
	if err != nil {
		t.Fatal(err)
	}
	if second.Changed() {
		t.Errorf("second deploy changed things: %+v", second.Changes)
	}

	// Run: 100 executions, some succeed and some fail as designed.
	runs, err := pipeline.Run(ctx, env, pipeline.RunOptions{Count: 100, Concurrency: 16, Seed: 42})
	if err != nil {
		t.Fatal(err)
	}
	s := runs.Summary
	t.Logf("run: %+v", s)
	if s.Succeeded == 0 || s.FailedThreshold == 0 || s.FailedOther != 0 || s.Succeeded+s.FailedThreshold != 100 {
		t.Fatalf("run summary = %+v; want both successes and threshold failures, and nothing else", s)
	}
	for _, x := range runs.Executions {
		if x.Status == "FAILED" && (x.Error != pipeline.ThresholdError || !strings.Contains(x.Cause, "0.93")) {
			t.Errorf("execution %s failed with %s: %s", x.Key, x.Error, x.Cause)
		}
	}
	if s.Accuracy < 0.9 {
		t.Errorf("accuracy on succeeded = %.3f, want >= 0.9", s.Accuracy)
	}
	checkHistory(t, env, runs)

	// Monitor: one capture record per endpoint invocation.
	src := monitor.NewS3Lister(env.Clients.S3, env.Bucket, env.Profile.Names.DataCapturePrefix)
	var ds *monitor.Dataset
	deadline := time.Now().Add(30 * time.Second)
	for {
		ds, err = monitor.Read(ctx, src, time.Time{})
		if err == nil && len(ds.Records) >= 100 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil || len(ds.Records) != 100 {
		t.Fatalf("capture records = %v, %v; want exactly 100 (one per invocation)", lenOf(ds), err)
	}
	sum := monitor.Summarize(ds, env.Profile.Threshold, &monitor.ExecutionCounts{Succeeded: s.Succeeded, FailedThreshold: s.FailedThreshold})
	passed := 0
	for _, r := range ds.Records {
		if top, _ := r.Top(); monitor.Passes(top, env.Profile.Threshold) {
			passed++
		}
	}
	if passed != s.Succeeded {
		t.Errorf("monitor: %d captures pass the threshold, but %d executions succeeded", passed, s.Succeeded)
	}
	files, err := monitor.WriteReport(t.TempDir(), ds, sum)
	if err != nil || len(files) != 3 {
		t.Fatalf("report = %v, %v", files, err)
	}

	t.Run("all", func(t *testing.T) {
		all, err := pipeline.RunAll(ctx, env, pipeline.RunOptions{})
		if err != nil {
			t.Fatal(err)
		}
		s := all.Summary
		t.Logf("run --all: %+v", s)
		if len(all.Executions) != 50 || s.Succeeded == 0 || s.FailedThreshold == 0 || s.FailedOther != 0 {
			t.Errorf("distributed map over 50 test images: %d results, %+v", len(all.Executions), s)
		}
	})
	if hooks.extra != nil {
		hooks.extra(t, env)
	}

	// Destroy: nothing tagged is left.
	if _, err := pipeline.Destroy(ctx, env, pipeline.DestroyOptions{}); err != nil {
		t.Fatal(err)
	}
	left, err := pipeline.FindTagged(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Errorf("after destroy, still tagged: %+v", left)
	}
}

func lenOf(ds *monitor.Dataset) int {
	if ds == nil {
		return 0
	}
	return len(ds.Records)
}

// checkHistory compares the event sequence of one succeeded and one
// threshold-failed execution with what Step Functions writes for the
// reference workflow: 17 events for a success, 16 for the failure.
func checkHistory(t *testing.T, env *pipeline.Env, runs *pipeline.RunResult) {
	t.Helper()
	task := "TaskStateEntered TaskScheduled TaskStarted TaskSucceeded TaskStateExited "
	want := map[string]string{
		"SUCCEEDED": "ExecutionStarted " + task + task + task + "ExecutionSucceeded",
		"FAILED":    "ExecutionStarted " + task + task + "TaskStateEntered TaskScheduled TaskStarted TaskFailed ExecutionFailed",
	}
	seen := map[string]bool{}
	for _, x := range runs.Executions {
		if seen[x.Status] {
			continue
		}
		seen[x.Status] = true
		h, err := env.Clients.SFN.GetExecutionHistory(context.Background(), &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(x.Arn)})
		if err != nil {
			t.Fatal(err)
		}
		var types []string
		for _, e := range h.Events {
			types = append(types, string(e.Type))
		}
		if got := strings.Join(types, " "); got != want[x.Status] {
			t.Errorf("%s history (%d events):\n got %s\nwant %s", x.Status, len(types), got, want[x.Status])
		}
		if x.Status == "FAILED" {
			last := h.Events[len(h.Events)-1]
			if d := last.ExecutionFailedEventDetails; d == nil || aws.ToString(d.Error) != pipeline.ThresholdError {
				t.Errorf("ExecutionFailed details = %+v", d)
			}
			var cause map[string]any
			if err := json.Unmarshal([]byte(aws.ToString(last.ExecutionFailedEventDetails.Cause)), &cause); err != nil || cause["errorType"] != pipeline.ThresholdError {
				t.Errorf("failure cause is not the Lambda error document: %s", aws.ToString(last.ExecutionFailedEventDetails.Cause))
			}
		}
	}
	if len(seen) != 2 {
		t.Errorf("statuses seen: %v", seen)
	}
}
