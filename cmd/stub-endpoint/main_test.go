package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
	"github.com/aws/aws-sdk-go-v2/service/sagemakerruntime"
	rttypes "github.com/aws/aws-sdk-go-v2/service/sagemakerruntime/types"

	"github.com/scones/scones/emulator"
	"github.com/scones/scones/smcontainer"
)

// TestStubProcess runs the stub in-process (no Docker): it fetches a model
// trained here from the emulator's S3 through the SDK, starts the
// classifier as a process, serves InvokeEndpoint and writes capture files
// that are all in S3 once it stops.
func TestStubProcess(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(7, 7))
	model := trainTinyModel(t, rng)

	srv := emulatorWithModel(t, "stubproc", "model/model.tar.gz", model)
	url := srv.URL()
	base, stop := startStub(t, "--endpoint-name", "stub",
		"--model-data-url", "s3://stubproc/model/model.tar.gz", "--s3-endpoint", url, "--region", "us-east-1",
		"--capture-destination", "s3://stubproc/capture", "--capture-flush-interval", "1h")
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")}
	rt := sagemakerruntime.NewFromConfig(cfg, func(o *sagemakerruntime.Options) { o.BaseEndpoint = &base })
	const n = 5
	for range n {
		if _, err := rt.InvokeEndpoint(ctx, &sagemakerruntime.InvokeEndpointInput{EndpointName: aws.String("stub"),
			ContentType: aws.String("image/png"), Body: pngOf(0, rng)}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := rt.InvokeEndpoint(ctx, &sagemakerruntime.InvokeEndpointInput{EndpointName: aws.String("stub"),
		ContentType: aws.String("image/png"), Body: []byte("GIF89a")})
	var me *rttypes.ModelError
	if !errors.As(err, &me) || aws.ToInt32(me.OriginalStatusCode) != 400 {
		t.Errorf("non-image: %v", err)
	}
	// The flush interval is an hour: every record must come from the
	// final flush at shutdown.
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.BaseEndpoint = &url; o.UsePathStyle = true })
	list, err := s3c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("stubproc"), Prefix: aws.String("capture/stub/AllTraffic/")})
	if err != nil {
		t.Fatal(err)
	}
	lines := 0
	for _, o := range list.Contents {
		data, _, err := srv.S3.GetObject(ctx, "stubproc", *o.Key)
		if err != nil {
			t.Fatal(err)
		}
		lines += bytes.Count(data, []byte("\n"))
	}
	if lines != n {
		t.Errorf("%d capture records after shutdown, want %d", lines, n)
	}
}

// trainTinyModel builds the classifier, points SCONES_CLASSIFIER_PATH at
// it, trains it on 8 images for one epoch and returns model.tar.gz.
func trainTinyModel(t *testing.T, rng *rand.Rand) []byte {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "image-classifier")
	if out, err := exec.Command("go", "build", "-o", bin, "../image-classifier").CombinedOutput(); err != nil {
		t.Fatalf("build classifier: %v\n%s", err, out)
	}
	t.Setenv(smcontainer.EnvClassifierPath, bin)
	root := filepath.Join(dir, "train")
	for _, ch := range []string{"train", "validation"} {
		os.MkdirAll(filepath.Join(root, "input/data", ch), 0o755)
		os.MkdirAll(filepath.Join(root, "input/data", ch+"_lst"), 0o755)
		var lst strings.Builder
		for i := range 8 {
			os.WriteFile(filepath.Join(root, "input/data", ch, fmt.Sprintf("%d.png", i)), pngOf(i%2, rng), 0o644)
			fmt.Fprintf(&lst, "%d\t%d\t%d.png\n", i, i%2, i)
		}
		os.WriteFile(filepath.Join(root, "input/data", ch+"_lst", ch+".lst"), []byte(lst.String()), 0o644)
	}
	os.MkdirAll(filepath.Join(root, "input/config"), 0o755)
	os.WriteFile(filepath.Join(root, "input/config/hyperparameters.json"),
		[]byte(`{"num_classes":"2","num_training_samples":"8","epochs":"1","mini_batch_size":"4"}`), 0o644)
	train := exec.Command(bin, "train", "--ml-root", root)
	if out, err := train.CombinedOutput(); err != nil {
		t.Fatalf("train: %v\n%s", err, out)
	}
	model, err := tarDir(filepath.Join(root, "model"))
	if err != nil {
		t.Fatal(err)
	}
	return model
}

// TestServeSageMaker runs the stub in its --serve-sagemaker mode
// in-process, over the emulator's S3 reached through the SDK: the model,
// endpoint config (with capture) and endpoint made through the SageMaker
// API, InvokeEndpoint, and the capture file written to that S3.
func TestServeSageMaker(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(8, 8))
	model := trainTinyModel(t, rng)
	srv := emulatorWithModel(t, "smb", "models/m/model.tar.gz", model)
	dataDir := t.TempDir()
	base, stop := startStub(t, "--serve-sagemaker", "--s3-endpoint", srv.URL(), "--capture-flush-interval", "1h", "--data-dir", dataDir)
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")}
	sm := sagemaker.NewFromConfig(cfg, func(o *sagemaker.Options) { o.BaseEndpoint = &base })
	rt := sagemakerruntime.NewFromConfig(cfg, func(o *sagemakerruntime.Options) { o.BaseEndpoint = &base })
	image := smcontainer.ImageClassificationURI("us-east-1")
	if _, err := sm.CreateModel(ctx, &sagemaker.CreateModelInput{ModelName: aws.String("m"), ExecutionRoleArn: aws.String("arn:aws:iam::000000000000:role/r"),
		PrimaryContainer: &smtypes.ContainerDefinition{Image: aws.String(image), ModelDataUrl: aws.String("s3://smb/models/m/model.tar.gz")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := sm.CreateEndpointConfig(ctx, &sagemaker.CreateEndpointConfigInput{EndpointConfigName: aws.String("c"),
		ProductionVariants: []smtypes.ProductionVariant{{VariantName: aws.String("AllTraffic"), ModelName: aws.String("m"),
			InstanceType: smtypes.ProductionVariantInstanceTypeMlM5Large, InitialInstanceCount: aws.Int32(1)}},
		DataCaptureConfig: &smtypes.DataCaptureConfig{EnableCapture: aws.Bool(true), InitialSamplingPercentage: aws.Int32(100),
			DestinationS3Uri: aws.String("s3://smb/capture"), CaptureOptions: []smtypes.CaptureOption{{CaptureMode: smtypes.CaptureModeInput}, {CaptureMode: smtypes.CaptureModeOutput}}},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := sm.CreateEndpoint(ctx, &sagemaker.CreateEndpointInput{EndpointName: aws.String("e"), EndpointConfigName: aws.String("c")}); err != nil {
		t.Fatal(err)
	}
	if err := sagemaker.NewEndpointInServiceWaiter(sm).Wait(ctx, &sagemaker.DescribeEndpointInput{EndpointName: aws.String("e")}, time.Minute,
		func(o *sagemaker.EndpointInServiceWaiterOptions) {
			o.MinDelay, o.MaxDelay = 50*time.Millisecond, 200*time.Millisecond
		}); err != nil {
		t.Fatal(err)
	}
	const n = 3
	for range n {
		out, err := rt.InvokeEndpoint(ctx, &sagemakerruntime.InvokeEndpointInput{EndpointName: aws.String("e"), ContentType: aws.String("image/png"), Body: pngOf(1, rng)})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(out.Body, []byte("[")) {
			t.Errorf("inference %s", out.Body)
		}
	}
	// A model whose data is missing from S3 fails the endpoint with
	// SageMaker's message.
	sm.CreateModel(ctx, &sagemaker.CreateModelInput{ModelName: aws.String("gone"), ExecutionRoleArn: aws.String("arn:aws:iam::000000000000:role/r"),
		PrimaryContainer: &smtypes.ContainerDefinition{Image: aws.String(image), ModelDataUrl: aws.String("s3://smb/models/gone/model.tar.gz")}})
	if _, err := sm.CreateEndpointConfig(ctx, &sagemaker.CreateEndpointConfigInput{EndpointConfigName: aws.String("gone"),
		ProductionVariants: []smtypes.ProductionVariant{{VariantName: aws.String("AllTraffic"), ModelName: aws.String("gone"),
			InstanceType: smtypes.ProductionVariantInstanceTypeMlM5Large, InitialInstanceCount: aws.Int32(1)}}}); err != nil {
		t.Fatal(err)
	}
	sm.CreateEndpoint(ctx, &sagemaker.CreateEndpointInput{EndpointName: aws.String("gone"), EndpointConfigName: aws.String("gone")})
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
		d, err := sm.DescribeEndpoint(ctx, &sagemaker.DescribeEndpointInput{EndpointName: aws.String("gone")})
		if err != nil {
			t.Fatal(err)
		}
		if d.EndpointStatus == smtypes.EndpointStatusFailed {
			if !strings.Contains(aws.ToString(d.FailureReason), "Failed to download model data") {
				t.Errorf("failure reason %q", aws.ToString(d.FailureReason))
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("endpoint with missing model data: %s", d.EndpointStatus)
		}
	}
	if err := stop(); err != nil { // writes the buffered capture records
		t.Fatal(err)
	}
	objs, err := srv.S3.ListObjects(ctx, "smb", "capture/e/AllTraffic/")
	if err != nil {
		t.Fatal(err)
	}
	lines := 0
	for _, o := range objs {
		data, _, _ := srv.S3.GetObject(ctx, "smb", o.Key)
		lines += bytes.Count(data, []byte("\n"))
	}
	if lines != n {
		t.Errorf("%d capture records in the emulator's S3, want %d", lines, n)
	}

	// Started again on the same --data-dir, the stub still has the
	// endpoint, and serves it once its model is up again.
	base, stop = startStub(t, "--serve-sagemaker", "--s3-endpoint", srv.URL(), "--data-dir", dataDir)
	sm = sagemaker.NewFromConfig(cfg, func(o *sagemaker.Options) { o.BaseEndpoint = &base })
	rt = sagemakerruntime.NewFromConfig(cfg, func(o *sagemakerruntime.Options) { o.BaseEndpoint = &base })
	if err := sagemaker.NewEndpointInServiceWaiter(sm).Wait(ctx, &sagemaker.DescribeEndpointInput{EndpointName: aws.String("e")}, time.Minute,
		func(o *sagemaker.EndpointInServiceWaiterOptions) {
			o.MinDelay, o.MaxDelay = 50*time.Millisecond, 200*time.Millisecond
		}); err != nil {
		t.Fatalf("endpoint e after a restart: %v", err)
	}
	if out, err := rt.InvokeEndpoint(ctx, &sagemakerruntime.InvokeEndpointInput{EndpointName: aws.String("e"), ContentType: aws.String("image/png"), Body: pngOf(0, rng)}); err != nil || !bytes.HasPrefix(out.Body, []byte("[")) {
		t.Fatalf("InvokeEndpoint after a restart: %v", err)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// emulatorWithModel starts an in-process emulator (closed when the test
// ends) holding model at s3://bucket/key.
func emulatorWithModel(t *testing.T, bucket, key string, model []byte) *emulator.Server {
	t.Helper()
	ctx := context.Background()
	srv, err := emulator.Start(ctx, emulator.Options{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	if err := srv.S3.CreateBucket(ctx, bucket); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.S3.PutObject(ctx, bucket, key, model, ""); err != nil {
		t.Fatal(err)
	}
	return srv
}

// startStub runs the stub in-process with args on a free port, with the
// test credentials in the environment, and waits until GET /ping answers.
// It returns the stub's URL and stop, which ends the stub and returns
// what run returned.
func startStub(t *testing.T, args ...string) (base string, stop func() error) {
	t.Helper()
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	port := strconv.Itoa(freePort(t))
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel) // if the test ends without stop
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, append([]string{"--addr", "127.0.0.1:" + port}, args...), slog.New(slog.NewTextHandler(io.Discard, nil)))
	}()
	base = "http://127.0.0.1:" + port
	waitHTTP(t, base+"/ping", time.Minute)
	return base, func() error { cancel(); return <-errc }
}

func tarDir(dir string) ([]byte, error) {
	var buf bytes.Buffer
	cmd := exec.Command("tar", "-czf", "-", "-C", dir, ".")
	cmd.Stdout = &buf
	if err := cmd.Run(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func TestParseFlags(t *testing.T) {
	if _, err := parse([]string{"--model-dir", "/x/model"}); err == nil || !strings.Contains(err.Error(), "endpoint-name") {
		t.Errorf("missing endpoint name: %v", err)
	}
	if _, err := parse([]string{"--endpoint-name", "e"}); err == nil || !strings.Contains(err.Error(), "model") {
		t.Errorf("missing model: %v", err)
	}
	o, err := parse([]string{"--endpoint-name", "e", "--model-url", "http://m", "--capture-destination", "s3://b/p", "--capture-modes", "Input"})
	if err != nil {
		t.Fatal(err)
	}
	dc, err := o.dataCapture()
	if err != nil || dc.DestinationS3Uri != "s3://b/p" || len(dc.CaptureOptions) != 1 || dc.Validate() != nil {
		t.Errorf("capture config %+v %v", dc, err)
	}
	if _, err := parse([]string{"--serve-sagemaker", "--endpoint-name", "e"}); err == nil || !strings.Contains(err.Error(), "drop --endpoint-name") {
		t.Errorf("--serve-sagemaker with one endpoint's flags: %v", err)
	}
	if o, err := parse([]string{"--serve-sagemaker"}); err != nil || !o.serveSageMaker {
		t.Errorf("--serve-sagemaker: %+v %v", o, err)
	}
	if _, err := parse([]string{"--endpoint-name", "e", "--model-url", "http://m", "--data-dir", "/tmp/x"}); err == nil || !strings.Contains(err.Error(), "--data-dir") {
		t.Errorf("--data-dir without --serve-sagemaker: %v", err)
	}
	if _, err := parse([]string{"--endpoint-name", "e", "--model-url", "http://m", "extra"}); err == nil || !strings.Contains(err.Error(), "unexpected arguments") {
		t.Errorf("stray argument: %v", err)
	}
	o.captureConfig = `{"InitialSamplingPercentage": 50, "DestinationS3Uri": "s3://c/d", "CaptureOptions": [{"CaptureMode": "Output"}]}`
	if dc, err := o.dataCapture(); err != nil || *dc.InitialSamplingPercentage != 50 {
		t.Errorf("json capture config %+v %v", dc, err)
	}
}
