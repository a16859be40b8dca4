package sagemaker_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
	"github.com/aws/aws-sdk-go-v2/service/sagemakerruntime"
	"github.com/aws/smithy-go"

	"github.com/scones/scones/emulator"
)

// rawCall posts an awsJson request without the SDK's client-side
// validation, to check the emulator's own.
func rawCall(t *testing.T, url, op string, body any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, url+"/", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "SageMaker."+op)
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/sagemaker/aws4_request, SignedHeaders=host, Signature=00")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func TestValidation(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	url := e.srv.URL()
	for _, tc := range []struct {
		op   string
		body map[string]any
		code string
		msg  string
	}{
		{"CreateTrainingJob", map[string]any{"TrainingJobName": "j"}, "ValidationException", "Value null at 'roleArn'"},
		{"CreateTrainingJob", map[string]any{"TrainingJobName": "bad_name", "RoleArn": "r"}, "ValidationException", "regular expression pattern"},
		{"CreateTrainingJob", map[string]any{"TrainingJobName": "j", "RoleArn": "r", "OutputDataConfig": map[string]any{"S3OutputPath": "s3://b/o"},
			"AlgorithmSpecification": map[string]any{"TrainingImage": classifierImage, "TrainingInputMode": "File"},
			"ResourceConfig":         map[string]any{"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 5},
			"InputDataConfig":        []any{map[string]any{"ChannelName": "train"}}}, "ValidationException", "inputDataConfig.1.member.dataSource"},
		{"DescribeTrainingJob", map[string]any{"TrainingJobName": "none"}, "ValidationException", "none"},
		{"StopTrainingJob", map[string]any{"TrainingJobName": "none"}, "ValidationException", "none"},
		{"DescribeModel", map[string]any{"ModelName": "none"}, "ValidationException", `Could not find model "arn:aws:sagemaker:us-east-1:000000000000:model/none".`},
		{"CreateModel", map[string]any{"ModelName": "m"}, "ValidationException", "PrimaryContainer or Containers"},
		{"CreateEndpointConfig", map[string]any{"EndpointConfigName": "c", "ProductionVariants": []any{map[string]any{"VariantName": "v", "ModelName": "none", "InstanceType": "ml.m5.large"}}},
			"ValidationException", "Could not find model"},
		{"DescribeEndpoint", map[string]any{"EndpointName": "none"}, "ValidationException", `Could not find endpoint "arn:aws:sagemaker:us-east-1:000000000000:endpoint/none".`},
		{"CreateEndpoint", map[string]any{"EndpointName": "e", "EndpointConfigName": "none"}, "ValidationException", "Could not find endpoint configuration"},
		{"DeleteEndpoint", map[string]any{"EndpointName": "none"}, "ValidationException", "Could not find endpoint"},
		{"ListTrainingJobs", map[string]any{"MaxResults": 1000}, "ValidationException", "maxResults"},
		{"CreateHyperParameterTuningJob", map[string]any{}, "UnknownOperationException", "does not emulate"},
	} {
		status, out := rawCall(t, url, tc.op, tc.body)
		if status != 400 || out["__type"] != tc.code || !strings.Contains(fmt.Sprint(out["message"]), tc.msg) {
			t.Errorf("%s %v: %d %v; want %s containing %q", tc.op, tc.body, status, out, tc.code, tc.msg)
		}
	}
	// Duplicate names through the SDK.
	e.bucket(t, "bkt")
	e.put(t, "bkt", "train/x.png", []byte("x"))
	in := trainingInput("dup", fakeImage, "bkt", map[string]string{}, channel("train", "s3://bkt/train/"))
	if _, err := e.sm.CreateTrainingJob(ctx, in); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sm.CreateTrainingJob(ctx, in); apiCode(err) != "ResourceInUse" {
		t.Errorf("duplicate job: %v", err)
	}
	e.waitJob(t, "dup")
	mi := &sagemaker.CreateModelInput{ModelName: aws.String("m"), PrimaryContainer: &smtypes.ContainerDefinition{Image: aws.String(fakeImage)}}
	if _, err := e.sm.CreateModel(ctx, mi); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sm.CreateModel(ctx, mi); apiCode(err) != "ValidationException" || !strings.Contains(err.Error(), "Cannot create already existing model") {
		t.Errorf("duplicate model: %v", err)
	}
}

// TestBadTrainingInput runs the real classifier on broken inputs: each
// job ends Failed with the classifier's (or the data download's) reason.
func TestBadTrainingInput(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const bucket, n = "bad", 4
	e.bucket(t, bucket)
	e.stageData(t, bucket, n)
	e.put(t, bucket, "empty.lst", nil)
	e.put(t, bucket, "corrupt/img_000.png", []byte("this is not a PNG"))
	e.put(t, bucket, "corrupt/img_001.png", pngOf(1, rand.New(rand.NewPCG(1, 1))))
	e.put(t, bucket, "corrupt.lst", []byte("0\t0\timg_000.png\n1\t1\timg_001.png\n"))
	std := func(train, trainLst string) []smtypes.Channel {
		return []smtypes.Channel{channel("train", "s3://"+bucket+"/"+train), channel("validation", "s3://"+bucket+"/validation/"),
			channel("train_lst", "s3://"+bucket+"/"+trainLst), channel("validation_lst", "s3://"+bucket+"/validation.lst")}
	}
	badHP := smallHP(n)
	badHP["num_classes"] = "two"
	cases := map[string]struct {
		in   *sagemaker.CreateTrainingJobInput
		want string
	}{
		"bad-hyperparameters": {trainingInput("bad-hyperparameters", classifierImage, bucket, badHP), "num_classes"},
		"missing-channels": {trainingInput("missing-channels", classifierImage, bucket, smallHP(n),
			channel("train", "s3://"+bucket+"/train/"), channel("train_lst", "s3://"+bucket+"/train.lst")), "validation"},
		"empty-lst":      {trainingInput("empty-lst", classifierImage, bucket, smallHP(n), std("train/", "empty.lst")...), "lst"},
		"corrupt-images": {trainingInput("corrupt-images", classifierImage, bucket, smallHP(n), std("corrupt/", "corrupt.lst")...), "img_000.png"},
		"no-objects":     {trainingInput("no-objects", classifierImage, bucket, smallHP(n), std("nothing/", "train.lst")...), `No S3 objects found under S3 URL "s3://bad/nothing/"`},
		"unknown-image": {trainingInput("unknown-image", "123456789012.dkr.ecr.us-east-1.amazonaws.com/mystery:3", bucket, smallHP(n)),
			`"123456789012.dkr.ecr.us-east-1.amazonaws.com/mystery:3"`},
	}
	for name, tc := range cases {
		if _, err := e.sm.CreateTrainingJob(ctx, tc.in); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	for name, tc := range cases {
		job := e.waitJob(t, name)
		reason := aws.ToString(job.FailureReason)
		if job.TrainingJobStatus != smtypes.TrainingJobStatusFailed || !strings.Contains(reason, tc.want) {
			t.Errorf("%s: %s %q; want Failed mentioning %q", name, job.TrainingJobStatus, reason, tc.want)
		} else {
			t.Logf("%s: %s", name, reason)
		}
		if last := job.SecondaryStatusTransitions[len(job.SecondaryStatusTransitions)-1]; last.Status != smtypes.SecondaryStatusFailed {
			t.Errorf("%s: last secondary status %s", name, last.Status)
		}
	}
}

// TestFakeLifecycle drives stop, list, tags, update and failures with the
// fast testdata program.
func TestFakeLifecycle(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const bucket = "life"
	e.bucket(t, bucket)
	e.put(t, bucket, "data/a.png", []byte("a"))
	e.put(t, bucket, "data/sub/b.png", []byte("b"))
	e.put(t, bucket, "manifest.json", []byte(`[{"prefix": "s3://life/data/"}, "a.png", "sub/b.png"]`))
	manifest := channel("extra", "s3://life/manifest.json")
	manifest.DataSource.S3DataSource.S3DataType = smtypes.S3DataTypeManifestFile
	custom := trainingInput("fake-1", fakeImage, bucket, map[string]string{}, channel("train", "s3://life/data"), manifest)
	custom.AlgorithmSpecification.MetricDefinitions = []smtypes.MetricDefinition{{Name: aws.String("acc"), Regex: aws.String(`Validation-accuracy=([0-9.]+)`)}}
	if _, err := e.sm.CreateTrainingJob(ctx, custom); err != nil {
		t.Fatal(err)
	}
	job := e.waitJob(t, "fake-1")
	if job.TrainingJobStatus != smtypes.TrainingJobStatusCompleted {
		t.Fatalf("%s %s", job.TrainingJobStatus, aws.ToString(job.FailureReason))
	}
	if len(job.FinalMetricDataList) != 1 || aws.ToFloat32(job.FinalMetricDataList[0].Value) < 0.59 {
		t.Errorf("metrics %+v", job.FinalMetricDataList)
	}
	// The model counts files per channel directory: S3Prefix without a
	// trailing slash keeps the data/ directory, the manifest keeps sub/.
	e.deploy(t, "fake-1", fakeImage, aws.ToString(job.ModelArtifacts.S3ModelArtifacts), bucket)
	out, err := e.rt.InvokeEndpoint(ctx, &sagemakerruntime.InvokeEndpointInput{EndpointName: aws.String("fake-1"), Body: []byte("12345"),
		ContentType: aws.String("application/octet-stream"), CustomAttributes: aws.String("c=1")})
	if err != nil {
		t.Fatal(err)
	}
	if string(out.Body) != `{"bytes":5,"model":{"extra":1,"extra/sub":1,"train/data":1,"train/data/sub":1}}` || aws.ToString(out.CustomAttributes) != "echo:c=1" {
		t.Errorf("invoke: %s %q", out.Body, aws.ToString(out.CustomAttributes))
	}
	_, err = e.rt.InvokeEndpoint(ctx, &sagemakerruntime.InvokeEndpointInput{EndpointName: aws.String("fake-1"), Body: []byte("x"),
		ContentType: aws.String("application/x-reject")})
	if apiCode(err) != "ModelError" || !strings.Contains(err.Error(), "Received client error (415) from primary") {
		t.Errorf("reject: %v", err)
	}
	_, err = e.rt.InvokeEndpoint(ctx, &sagemakerruntime.InvokeEndpointInput{EndpointName: aws.String("fake-1"), Body: []byte("x"),
		ContentType: aws.String("text/plain"), TargetVariant: aws.String("Canary")})
	if apiCode(err) != "ValidationError" {
		t.Errorf("unknown variant: %v", err)
	}

	// UpdateEndpoint to a config with two variants.
	if _, err := e.sm.CreateEndpointConfig(ctx, &sagemaker.CreateEndpointConfigInput{EndpointConfigName: aws.String("two"),
		ProductionVariants: []smtypes.ProductionVariant{
			{VariantName: aws.String("A"), ModelName: aws.String("fake-1"), InstanceType: smtypes.ProductionVariantInstanceTypeMlM5Large, InitialInstanceCount: aws.Int32(1)},
			{VariantName: aws.String("B"), ModelName: aws.String("fake-1"), InstanceType: smtypes.ProductionVariantInstanceTypeMlM5Large, InitialInstanceCount: aws.Int32(1)}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sm.UpdateEndpoint(ctx, &sagemaker.UpdateEndpointInput{EndpointName: aws.String("fake-1"), EndpointConfigName: aws.String("two")}); err != nil {
		t.Fatal(err)
	}
	ep := e.waitEndpoint(t, "fake-1")
	if ep.EndpointStatus != smtypes.EndpointStatusInService || aws.ToString(ep.EndpointConfigName) != "two" || len(ep.ProductionVariants) != 2 {
		t.Fatalf("after update: %s %s %d", ep.EndpointStatus, aws.ToString(ep.EndpointConfigName), len(ep.ProductionVariants))
	}
	out, err = e.rt.InvokeEndpoint(ctx, &sagemakerruntime.InvokeEndpointInput{EndpointName: aws.String("fake-1"), Body: []byte("x"),
		ContentType: aws.String("text/plain"), TargetVariant: aws.String("B")})
	if err != nil || aws.ToString(out.InvokedProductionVariant) != "B" {
		t.Errorf("target variant B: %v", err)
	}

	// An endpoint whose image cannot run fails naming the image.
	if _, err := e.sm.CreateModel(ctx, &sagemaker.CreateModelInput{ModelName: aws.String("ghost"),
		PrimaryContainer: &smtypes.ContainerDefinition{Image: aws.String("ghcr.io/nobody/ghost:1")}}); err != nil {
		t.Fatal(err)
	}
	e.sm.CreateEndpointConfig(ctx, &sagemaker.CreateEndpointConfigInput{EndpointConfigName: aws.String("ghost"),
		ProductionVariants: []smtypes.ProductionVariant{{VariantName: aws.String("AllTraffic"), ModelName: aws.String("ghost"),
			InstanceType: smtypes.ProductionVariantInstanceTypeMlM5Large, InitialInstanceCount: aws.Int32(1)}}})
	e.sm.CreateEndpoint(ctx, &sagemaker.CreateEndpointInput{EndpointName: aws.String("ghost"), EndpointConfigName: aws.String("ghost")})
	if ep := e.waitEndpoint(t, "ghost"); ep.EndpointStatus != smtypes.EndpointStatusFailed || !strings.Contains(aws.ToString(ep.FailureReason), `"ghcr.io/nobody/ghost:1"`) {
		t.Errorf("ghost endpoint: %s %s", ep.EndpointStatus, aws.ToString(ep.FailureReason))
	}
	_, err = e.rt.InvokeEndpoint(ctx, &sagemakerruntime.InvokeEndpointInput{EndpointName: aws.String("ghost"), Body: []byte("x")})
	if apiCode(err) != "ValidationError" {
		t.Errorf("invoke failed endpoint: %v", err)
	}

	// StopTrainingJob: the program gets SIGTERM, saves what it has, and
	// the job ends Stopped with its artifacts.
	slow := trainingInput("slow", fakeImage, bucket, map[string]string{"sleep": "60s"}, channel("train", "s3://life/data/"))
	if _, err := e.sm.CreateTrainingJob(ctx, slow); err != nil {
		t.Fatal(err)
	}
	for {
		d, _ := e.sm.DescribeTrainingJob(ctx, &sagemaker.DescribeTrainingJobInput{TrainingJobName: aws.String("slow")})
		if d.SecondaryStatus == smtypes.SecondaryStatusTraining {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	if _, err := e.sm.StopTrainingJob(ctx, &sagemaker.StopTrainingJobInput{TrainingJobName: aws.String("slow")}); err != nil {
		t.Fatal(err)
	}
	stopped := e.waitJob(t, "slow")
	if stopped.TrainingJobStatus != smtypes.TrainingJobStatusStopped || stopped.ModelArtifacts == nil {
		t.Errorf("stopped job: %s %+v", stopped.TrainingJobStatus, stopped.ModelArtifacts)
	}
	var sts []string
	for _, tr := range stopped.SecondaryStatusTransitions {
		sts = append(sts, string(tr.Status))
	}
	if got := strings.Join(sts, ","); got != "Starting,Downloading,Training,Stopping,Uploading,Stopped" {
		t.Errorf("stopped transitions %s", got)
	}

	// Lists: filters, order and pages.
	lj, err := e.sm.ListTrainingJobs(ctx, &sagemaker.ListTrainingJobsInput{StatusEquals: smtypes.TrainingJobStatusCompleted})
	if err != nil || len(lj.TrainingJobSummaries) != 1 || aws.ToString(lj.TrainingJobSummaries[0].TrainingJobName) != "fake-1" {
		t.Errorf("list completed: %+v %v", lj, err)
	}
	var names []string
	var token *string
	for {
		page, err := e.sm.ListEndpointConfigs(ctx, &sagemaker.ListEndpointConfigsInput{MaxResults: aws.Int32(1), NextToken: token,
			SortBy: smtypes.EndpointConfigSortKeyName, SortOrder: smtypes.OrderKeyAscending})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range page.EndpointConfigs {
			names = append(names, aws.ToString(c.EndpointConfigName))
		}
		if token = page.NextToken; token == nil {
			break
		}
	}
	if strings.Join(names, ",") != "fake-1,ghost,two" {
		t.Errorf("paged configs %v", names)
	}
	le, _ := e.sm.ListEndpoints(ctx, &sagemaker.ListEndpointsInput{NameContains: aws.String("FAKE")})
	if len(le.Endpoints) != 1 || le.Endpoints[0].EndpointStatus != smtypes.EndpointStatusInService {
		t.Errorf("list endpoints %+v", le.Endpoints)
	}

	// Tags.
	arn := aws.ToString(ep.EndpointArn)
	if _, err := e.sm.AddTags(ctx, &sagemaker.AddTagsInput{ResourceArn: &arn, Tags: []smtypes.Tag{{Key: aws.String("k"), Value: aws.String("v")},
		{Key: aws.String("project"), Value: aws.String("other")}}}); err != nil {
		t.Fatal(err)
	}
	e.sm.DeleteTags(ctx, &sagemaker.DeleteTagsInput{ResourceArn: &arn, TagKeys: []string{"k"}})
	lt, err := e.sm.ListTags(ctx, &sagemaker.ListTagsInput{ResourceArn: &arn})
	if err != nil || len(lt.Tags) != 1 || aws.ToString(lt.Tags[0].Value) != "other" {
		t.Errorf("tags %+v %v", lt, err)
	}
	if _, err := e.sm.ListTags(ctx, &sagemaker.ListTagsInput{ResourceArn: aws.String("arn:aws:sagemaker:us-east-1:000000000000:model/none")}); apiCode(err) != "ValidationException" {
		t.Errorf("tags of missing model: %v", err)
	}
	// Deletes.
	for _, c := range []string{"fake-1", "ghost"} {
		if _, err := e.sm.DeleteEndpoint(ctx, &sagemaker.DeleteEndpointInput{EndpointName: aws.String(c)}); err != nil {
			t.Error(err)
		}
	}
	if _, err := e.sm.DeleteEndpointConfig(ctx, &sagemaker.DeleteEndpointConfigInput{EndpointConfigName: aws.String("two")}); err != nil {
		t.Error(err)
	}
	if _, err := e.sm.DeleteModel(ctx, &sagemaker.DeleteModelInput{ModelName: aws.String("ghost")}); err != nil {
		t.Error(err)
	}
	lm, _ := e.sm.ListModels(ctx, &sagemaker.ListModelsInput{})
	if len(lm.Models) != 1 {
		t.Errorf("models left %+v", lm.Models)
	}
}

// TestRestart: a job running when the emulator stops is Failed on reload,
// and an endpoint in service is started again.
func TestRestart(t *testing.T) {
	// Capture records reach S3 only through the flush at Close.
	t.Setenv("SCONES_CAPTURE_FLUSH_INTERVAL", "1h")
	dir := t.TempDir()
	ctx := context.Background()
	start := func() *env {
		srv, err := emulator.Start(ctx, emulator.Options{Addr: "127.0.0.1:0", DataDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		e := newEnvFor(t, srv)
		return e
	}
	e := start()
	e.bucket(t, "rrr")
	e.put(t, "rrr", "data/a.png", []byte("a"))
	if _, err := e.sm.CreateTrainingJob(ctx, trainingInput("quick", fakeImage, "rrr", map[string]string{}, channel("train", "s3://rrr/data/"))); err != nil {
		t.Fatal(err)
	}
	job := e.waitJob(t, "quick")
	e.deploy(t, "kept", fakeImage, aws.ToString(job.ModelArtifacts.S3ModelArtifacts), "rrr")
	if _, err := e.sm.CreateTrainingJob(ctx, trainingInput("long", fakeImage, "rrr", map[string]string{"sleep": "60s"}, channel("train", "s3://rrr/data/"))); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if _, err := e.rt.InvokeEndpoint(ctx, &sagemakerruntime.InvokeEndpointInput{EndpointName: aws.String("kept"), Body: []byte("before"),
		ContentType: aws.String("text/plain"), InferenceId: aws.String("before-restart")}); err != nil {
		t.Fatal(err)
	}
	e.srv.Close()

	e = start()
	defer e.srv.Close()
	d, err := e.sm.DescribeTrainingJob(ctx, &sagemaker.DescribeTrainingJobInput{TrainingJobName: aws.String("long")})
	if err != nil || d.TrainingJobStatus != smtypes.TrainingJobStatusFailed || !strings.Contains(aws.ToString(d.FailureReason), "restarted") &&
		!strings.Contains(aws.ToString(d.FailureReason), "shut down") {
		t.Errorf("interrupted job: %v %s %q", err, d.TrainingJobStatus, aws.ToString(d.FailureReason))
	}
	if ep := e.waitEndpoint(t, "kept"); ep.EndpointStatus != smtypes.EndpointStatusInService {
		t.Fatalf("endpoint after restart: %s %s", ep.EndpointStatus, aws.ToString(ep.FailureReason))
	}
	if _, err := e.rt.InvokeEndpoint(ctx, &sagemakerruntime.InvokeEndpointInput{EndpointName: aws.String("kept"), Body: []byte("x"), ContentType: aws.String("text/plain")}); err != nil {
		t.Error(err)
	}
	// The invocation acknowledged before the restart was captured.
	objs, err := e.srv.S3.ListObjects(ctx, "rrr", "data_capture/kept/AllTraffic/")
	if err != nil || len(objs) != 1 {
		t.Fatalf("capture files after restart: %v %v", objs, err)
	}
	data, _, _ := e.srv.S3.GetObject(ctx, "rrr", objs[0].Key)
	if !bytes.Contains(data, []byte(`"inferenceId":"before-restart"`)) {
		t.Errorf("capture file: %s", data)
	}
}

// TestAWSCLI invokes the endpoint with the installed AWS CLI v1.
func TestAWSCLI(t *testing.T) {
	awsPath, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("the AWS CLI (aws) is not installed; skipping the CLI cross-check")
	}
	e := newEnv(t)
	ctx := context.Background()
	const bucket, n = "cli", 4
	e.bucket(t, bucket)
	e.stageData(t, bucket, n)
	if _, err := e.sm.CreateTrainingJob(ctx, trainingInput("cli", classifierImage, bucket, smallHP(n))); err != nil {
		t.Fatal(err)
	}
	job := e.waitJob(t, "cli")
	if job.ModelArtifacts == nil {
		t.Fatalf("job %s: %s", job.TrainingJobStatus, aws.ToString(job.FailureReason))
	}
	e.deploy(t, "cli", classifierImage, aws.ToString(job.ModelArtifacts.S3ModelArtifacts), bucket)
	dir := t.TempDir()
	img := filepath.Join(dir, "x.png")
	os.WriteFile(img, pngOf(0, rand.New(rand.NewPCG(3, 3))), 0o644)
	outFile := filepath.Join(dir, "out.json")
	cmd := exec.Command(awsPath, "sagemaker-runtime", "invoke-endpoint", "--endpoint-url", e.srv.URL(), "--region", "us-east-1",
		"--endpoint-name", "cli", "--content-type", "image/png", "--body", "fileb://"+img, outFile)
	var envv []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			envv = append(envv, kv)
		}
	}
	cmd.Env = append(envv, "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_DEFAULT_REGION=us-east-1")
	stdout, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("aws cli: %v\n%s", err, stdout)
	}
	var meta struct{ ContentType, InvokedProductionVariant string }
	if err := json.Unmarshal(stdout, &meta); err != nil || meta.InvokedProductionVariant != "AllTraffic" || meta.ContentType != "application/json" {
		t.Errorf("cli output %s", stdout)
	}
	body, _ := os.ReadFile(outFile)
	var probs []float64
	if err := json.Unmarshal(body, &probs); err != nil || len(probs) != 2 {
		t.Errorf("cli body %s", body)
	}
	// The control plane through the CLI too (awsJson1_1, epoch timestamps).
	cmd = exec.Command(awsPath, "sagemaker", "describe-endpoint", "--endpoint-url", e.srv.URL(), "--region", "us-east-1", "--endpoint-name", "cli")
	cmd.Env = append(envv, "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test")
	stdout, err = cmd.CombinedOutput()
	var desc struct {
		EndpointStatus    string
		CreationTime      float64
		DataCaptureConfig struct{ CaptureStatus string }
	}
	if err != nil || json.Unmarshal(stdout, &desc) != nil || desc.EndpointStatus != "InService" || desc.DataCaptureConfig.CaptureStatus != "Started" ||
		time.Since(time.Unix(int64(desc.CreationTime), 0)) > time.Hour {
		t.Errorf("cli describe-endpoint: %v %s", err, stdout)
	}
	// And the CLI sees the ValidationError for an unknown endpoint.
	cmd = exec.Command(awsPath, "sagemaker-runtime", "invoke-endpoint", "--endpoint-url", e.srv.URL(), "--region", "us-east-1",
		"--endpoint-name", "nope", "--content-type", "image/png", "--body", "fileb://"+img, outFile)
	cmd.Env = append(envv, "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test")
	stdout, err = cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(stdout), "ValidationError") || !strings.Contains(string(stdout), "Endpoint nope of account 000000000000 not found.") {
		t.Errorf("cli unknown endpoint: %v %s", err, stdout)
	}
}

// BenchmarkInvokeEndpoint measures InvokeEndpoint through aws-sdk-go-v2
// for one 32x32 PNG against the classifier, with data capture on.
func BenchmarkInvokeEndpoint(b *testing.B) { benchInvoke(b, classifierImage) }

// BenchmarkInvokeEndpointOverhead is the same path to the testdata
// program, whose /invocations does no inference: what remains is the SDK,
// the edge, the proxy and capture.
func BenchmarkInvokeEndpointOverhead(b *testing.B) { benchInvoke(b, fakeImage) }

func benchInvoke(b *testing.B, image string) {
	e := newEnv(b)
	ctx := context.Background()
	const bucket, n = "bench", 4
	e.bucket(b, bucket)
	e.stageData(b, bucket, n)
	if _, err := e.sm.CreateTrainingJob(ctx, trainingInput("bench", image, bucket, smallHP(n))); err != nil {
		b.Fatal(err)
	}
	job := e.waitJob(b, "bench")
	if job.ModelArtifacts == nil {
		b.Fatalf("job %s: %s", job.TrainingJobStatus, aws.ToString(job.FailureReason))
	}
	e.deploy(b, "bench", image, aws.ToString(job.ModelArtifacts.S3ModelArtifacts), bucket)
	img := pngOf(0, rand.New(rand.NewPCG(5, 5)))
	in := &sagemakerruntime.InvokeEndpointInput{EndpointName: aws.String("bench"), ContentType: aws.String("image/png"), Body: img}
	for range 50 { // warm up connections
		if _, err := e.rt.InvokeEndpoint(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
	lat := make([]time.Duration, 0, b.N)
	var mu sync.Mutex
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		out, err := e.rt.InvokeEndpoint(ctx, in)
		d := time.Since(t0)
		if err != nil {
			b.Fatal(err)
		}
		io.Discard.Write(out.Body)
		mu.Lock()
		lat = append(lat, d)
		mu.Unlock()
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	}
}

// TestBoto3 cross-checks the wire format with boto3, which nobody here
// wrote: describe the training job and endpoint, invoke, and read the
// ValidationError of an unknown endpoint.
func TestBoto3(t *testing.T) {
	if err := exec.Command("python3", "-c", "import boto3").Run(); err != nil {
		t.Skip("python3 with boto3 is not installed; skipping the boto3 cross-check")
	}
	e := newEnv(t)
	ctx := context.Background()
	e.bucket(t, "boto")
	e.put(t, "boto", "data/a.png", []byte("a"))
	if _, err := e.sm.CreateTrainingJob(ctx, trainingInput("boto", fakeImage, "boto", map[string]string{}, channel("train", "s3://boto/data/"))); err != nil {
		t.Fatal(err)
	}
	job := e.waitJob(t, "boto")
	e.deploy(t, "boto", fakeImage, aws.ToString(job.ModelArtifacts.S3ModelArtifacts), "boto")
	script := `
import boto3, json, sys, botocore
url = sys.argv[1]
kw = dict(endpoint_url=url, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
sm = boto3.client("sagemaker", **kw)
rt = boto3.client("sagemaker-runtime", **kw)
j = sm.describe_training_job(TrainingJobName="boto")
ep = sm.describe_endpoint(EndpointName="boto")
out = rt.invoke_endpoint(EndpointName="boto", ContentType="text/plain", Body=b"hello", InferenceId="b1")
res = {"status": j["TrainingJobStatus"], "created_year": j["CreationTime"].year,
       "transitions": [t["Status"] for t in j["SecondaryStatusTransitions"]],
       "endpoint": ep["EndpointStatus"], "variant": out["InvokedProductionVariant"], "body": out["Body"].read().decode()}
try:
    rt.invoke_endpoint(EndpointName="missing", ContentType="text/plain", Body=b"x")
except botocore.exceptions.ClientError as e:
    res["error"] = e.response["Error"]
try:
    sm.describe_training_job(TrainingJobName="missing")
except botocore.exceptions.ClientError as e:
    res["job_error"] = e.response["Error"]["Code"]
print(json.dumps(res))
`
	cmd := exec.Command("python3", "-c", script, e.srv.URL())
	var envv []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			envv = append(envv, kv)
		}
	}
	cmd.Env = envv
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("boto3: %v\n%s", err, out)
	}
	var res struct {
		Status, Endpoint, Variant, Body string
		CreatedYear                     int `json:"created_year"`
		Transitions                     []string
		Error                           struct{ Code, Message string }
		JobError                        string `json:"job_error"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if res.Status != "Completed" || res.CreatedYear != time.Now().Year() || len(res.Transitions) != 5 || res.Endpoint != "InService" ||
		res.Variant != "AllTraffic" || !strings.HasPrefix(res.Body, `{"bytes":5,`) ||
		res.Error.Code != "ValidationError" || res.Error.Message != "Endpoint missing of account 000000000000 not found." || res.JobError != "ValidationException" {
		t.Errorf("boto3 saw %s", out)
	}
}

// TestContainerCrash: a serving container that dies marks its endpoint
// Failed with a reason, and invocations then fail with ValidationError.
func TestContainerCrash(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.bucket(t, "crash")
	e.put(t, "crash", "data/a.png", []byte("a"))
	if _, err := e.sm.CreateTrainingJob(ctx, trainingInput("crash", fakeImage, "crash", map[string]string{}, channel("train", "s3://crash/data/"))); err != nil {
		t.Fatal(err)
	}
	job := e.waitJob(t, "crash")
	e.deploy(t, "crash", fakeImage, aws.ToString(job.ModelArtifacts.S3ModelArtifacts), "crash")
	_, err := e.rt.InvokeEndpoint(ctx, &sagemakerruntime.InvokeEndpointInput{EndpointName: aws.String("crash"), Body: []byte("crash-now"), ContentType: aws.String("text/plain")})
	if apiCode(err) != "ModelError" {
		t.Errorf("crashing invocation: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		ep, err := e.sm.DescribeEndpoint(ctx, &sagemaker.DescribeEndpointInput{EndpointName: aws.String("crash")})
		if err != nil {
			t.Fatal(err)
		}
		if ep.EndpointStatus == smtypes.EndpointStatusFailed {
			if !strings.Contains(aws.ToString(ep.FailureReason), "exited unexpectedly") {
				t.Errorf("reason %q", aws.ToString(ep.FailureReason))
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("endpoint still %s", ep.EndpointStatus)
		}
		time.Sleep(20 * time.Millisecond)
	}
	_, err = e.rt.InvokeEndpoint(ctx, &sagemakerruntime.InvokeEndpointInput{EndpointName: aws.String("crash"), Body: []byte("x"), ContentType: aws.String("text/plain")})
	if apiCode(err) != "ValidationError" {
		t.Errorf("after crash: %v", err)
	}
}

// TestMaxRuntime: StoppingCondition.MaxRuntimeInSeconds stops the job.
func TestMaxRuntime(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.bucket(t, "maxrt")
	e.put(t, "maxrt", "data/a.png", []byte("a"))
	in := trainingInput("maxrt", fakeImage, "maxrt", map[string]string{"sleep": "60s"}, channel("train", "s3://maxrt/data/"))
	in.StoppingCondition.MaxRuntimeInSeconds = aws.Int32(1)
	if _, err := e.sm.CreateTrainingJob(ctx, in); err != nil {
		t.Fatal(err)
	}
	job := e.waitJob(t, "maxrt")
	if job.TrainingJobStatus != smtypes.TrainingJobStatusStopped || job.SecondaryStatus != smtypes.SecondaryStatusMaxRuntimeExceeded {
		t.Errorf("%s / %s", job.TrainingJobStatus, job.SecondaryStatus)
	}
}
