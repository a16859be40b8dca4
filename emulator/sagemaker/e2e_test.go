package sagemaker_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
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
	"github.com/aws/smithy-go"

	"github.com/scones/scones/emulator"
	"github.com/scones/scones/smcontainer"
)

// classifierImage is the us-east-1 built-in image-classification image.
const classifierImage = "811284229777.dkr.ecr.us-east-1.amazonaws.com/image-classification:1"

// fakeImage maps to smcontainer/testdata/fakealgo, a tiny contract program.
const fakeImage = "123456789012.dkr.ecr.us-east-1.amazonaws.com/fakealgo:latest"

const realCapture = "capture/testdata/AllTraffic-2025-10-04-08-44-11-981.jsonl"

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "sagemaker-test-bin-")
	if err != nil {
		panic(err)
	}
	code := func() int {
		defer os.RemoveAll(dir)
		for name, pkg := range map[string]string{"image-classifier": "../../cmd/image-classifier", "fakealgo": "../../smcontainer/testdata/fakealgo"} {
			out, err := exec.Command("go", "build", "-o", filepath.Join(dir, name), pkg).CombinedOutput()
			if err != nil {
				fmt.Fprintf(os.Stderr, "building %s: %v\n%s", pkg, err, out)
				return 1
			}
		}
		os.Setenv(smcontainer.EnvClassifierPath, filepath.Join(dir, "image-classifier"))
		os.Setenv(smcontainer.EnvImages, fakeImage+"="+filepath.Join(dir, "fakealgo"))
		os.Setenv("SCONES_CAPTURE_FLUSH_INTERVAL", "200ms")
		return m.Run()
	}()
	os.Exit(code)
}

// env is an emulator with SDK clients pointed at it.
type env struct {
	srv *emulator.Server
	s3  *s3.Client
	sm  *sagemaker.Client
	rt  *sagemakerruntime.Client
}

func newEnv(t testing.TB) *env {
	t.Helper()
	srv, err := emulator.Start(context.Background(), emulator.Options{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return newEnvFor(t, srv)
}

func newEnvFor(t testing.TB, srv *emulator.Server) *env {
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")}
	url := srv.URL()
	return &env{
		srv: srv,
		s3:  s3.NewFromConfig(cfg, func(o *s3.Options) { o.BaseEndpoint = &url; o.UsePathStyle = true }),
		sm:  sagemaker.NewFromConfig(cfg, func(o *sagemaker.Options) { o.BaseEndpoint = &url }),
		rt:  sagemakerruntime.NewFromConfig(cfg, func(o *sagemakerruntime.Options) { o.BaseEndpoint = &url }),
	}
}

func (e *env) put(t testing.TB, bucket, key string, body []byte) {
	t.Helper()
	if _, err := e.s3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: bytes.NewReader(body)}); err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
}

func (e *env) bucket(t testing.TB, name string) {
	t.Helper()
	if _, err := e.s3.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: &name}); err != nil {
		t.Fatal(err)
	}
}

// pngOf draws a 32x32 RGBA PNG: class 0 reddish, class 1 bluish, with noise.
func pngOf(class int, rng *rand.Rand) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, 32, 32))
	for y := range 32 {
		for x := range 32 {
			n := uint8(rng.IntN(60))
			c := color.NRGBA{R: 180 + n, G: 40 + n, B: 30 + n, A: 255}
			if class == 1 {
				c = color.NRGBA{R: 30 + n, G: 60 + n, B: 180 + n, A: 255}
			}
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	png.Encode(&buf, img)
	return buf.Bytes()
}

// stageData uploads n images per class to train/ and validation/ with
// their .lst manifests, as the workflow's ETL does.
func (e *env) stageData(t testing.TB, bucket string, n int) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, split := range []string{"train", "validation"} {
		var lst strings.Builder
		for i := range 2 * n {
			class := i % 2
			name := fmt.Sprintf("img_%03d.png", i)
			e.put(t, bucket, split+"/"+name, pngOf(class, rng))
			fmt.Fprintf(&lst, "%d\t%d\t%s\n", i, class, name)
		}
		e.put(t, bucket, split+".lst", []byte(lst.String()))
	}
}

func channel(name, uri string) smtypes.Channel {
	return smtypes.Channel{ChannelName: aws.String(name), ContentType: aws.String("application/x-image"),
		DataSource: &smtypes.DataSource{S3DataSource: &smtypes.S3DataSource{S3DataType: smtypes.S3DataTypeS3Prefix,
			S3Uri: aws.String(uri), S3DataDistributionType: smtypes.S3DataDistributionFullyReplicated}}}
}

func trainingInput(name, image, bucket string, hp map[string]string, channels ...smtypes.Channel) *sagemaker.CreateTrainingJobInput {
	if channels == nil {
		channels = []smtypes.Channel{
			channel("train", "s3://"+bucket+"/train/"), channel("validation", "s3://"+bucket+"/validation/"),
			channel("train_lst", "s3://"+bucket+"/train.lst"), channel("validation_lst", "s3://"+bucket+"/validation.lst"),
		}
	}
	return &sagemaker.CreateTrainingJobInput{
		TrainingJobName: aws.String(name),
		RoleArn:         aws.String("arn:aws:iam::000000000000:role/sagemaker"),
		AlgorithmSpecification: &smtypes.AlgorithmSpecification{TrainingImage: aws.String(image),
			TrainingInputMode: smtypes.TrainingInputModeFile},
		HyperParameters:   hp,
		InputDataConfig:   channels,
		OutputDataConfig:  &smtypes.OutputDataConfig{S3OutputPath: aws.String("s3://" + bucket + "/models")},
		ResourceConfig:    &smtypes.ResourceConfig{InstanceType: smtypes.TrainingInstanceTypeMlM5Xlarge, InstanceCount: aws.Int32(1), VolumeSizeInGB: aws.Int32(5)},
		StoppingCondition: &smtypes.StoppingCondition{MaxRuntimeInSeconds: aws.Int32(600)},
		Tags:              []smtypes.Tag{{Key: aws.String("project"), Value: aws.String("scones")}},
	}
}

func smallHP(n int) map[string]string {
	return map[string]string{"image_shape": "3,32,32", "num_classes": "2", "num_training_samples": fmt.Sprint(2 * n),
		"epochs": "2", "mini_batch_size": "8", "learning_rate": "0.01", "seed": "1"}
}

// waitJob polls until the job leaves InProgress/Stopping.
func (e *env) waitJob(t testing.TB, name string) *sagemaker.DescribeTrainingJobOutput {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		out, err := e.sm.DescribeTrainingJob(context.Background(), &sagemaker.DescribeTrainingJobInput{TrainingJobName: &name})
		if err != nil {
			t.Fatal(err)
		}
		if s := out.TrainingJobStatus; s != smtypes.TrainingJobStatusInProgress && s != smtypes.TrainingJobStatusStopping {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("training job %s still %s", name, out.TrainingJobStatus)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (e *env) waitEndpoint(t testing.TB, name string) *sagemaker.DescribeEndpointOutput {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		out, err := e.sm.DescribeEndpoint(context.Background(), &sagemaker.DescribeEndpointInput{EndpointName: &name})
		if err != nil {
			t.Fatal(err)
		}
		if s := out.EndpointStatus; s != smtypes.EndpointStatusCreating && s != smtypes.EndpointStatusUpdating && s != smtypes.EndpointStatusSystemUpdating {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("endpoint %s still %s", name, out.EndpointStatus)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// deploy creates model, endpoint config (capture on) and endpoint.
func (e *env) deploy(t testing.TB, name, image, modelData, bucket string) {
	t.Helper()
	ctx := context.Background()
	if _, err := e.sm.CreateModel(ctx, &sagemaker.CreateModelInput{ModelName: aws.String(name),
		ExecutionRoleArn: aws.String("arn:aws:iam::000000000000:role/sagemaker"),
		PrimaryContainer: &smtypes.ContainerDefinition{Image: aws.String(image), ModelDataUrl: aws.String(modelData)},
		Tags:             []smtypes.Tag{{Key: aws.String("project"), Value: aws.String("scones")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sm.CreateEndpointConfig(ctx, &sagemaker.CreateEndpointConfigInput{EndpointConfigName: aws.String(name),
		ProductionVariants: []smtypes.ProductionVariant{{VariantName: aws.String("AllTraffic"), ModelName: aws.String(name),
			InitialInstanceCount: aws.Int32(1), InstanceType: smtypes.ProductionVariantInstanceTypeMlM5Large, InitialVariantWeight: aws.Float32(1)}},
		DataCaptureConfig: &smtypes.DataCaptureConfig{EnableCapture: aws.Bool(true), InitialSamplingPercentage: aws.Int32(100),
			DestinationS3Uri: aws.String("s3://" + bucket + "/data_capture"),
			CaptureOptions:   []smtypes.CaptureOption{{CaptureMode: smtypes.CaptureModeInput}, {CaptureMode: smtypes.CaptureModeOutput}},
			CaptureContentTypeHeader: &smtypes.CaptureContentTypeHeader{CsvContentTypes: []string{"text/csv"},
				JsonContentTypes: []string{"application/json"}}},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sm.CreateEndpoint(ctx, &sagemaker.CreateEndpointInput{EndpointName: aws.String(name), EndpointConfigName: aws.String(name),
		Tags: []smtypes.Tag{{Key: aws.String("project"), Value: aws.String("scones")}}}); err != nil {
		t.Fatal(err)
	}
	if ep := e.waitEndpoint(t, name); ep.EndpointStatus != smtypes.EndpointStatusInService {
		t.Fatalf("endpoint %s: %s: %s", name, ep.EndpointStatus, aws.ToString(ep.FailureReason))
	}
}

// TestWorkflow is the end-to-end check: train the classifier on
// small PNGs, deploy it with data capture, invoke it through the SDK, and
// read the capture file back from S3, field by field against the real one.
func TestWorkflow(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const bucket, n = "scones-e2e", 12
	e.bucket(t, bucket)
	e.stageData(t, bucket, n)

	if _, err := e.sm.CreateTrainingJob(ctx, trainingInput("bikes-1", classifierImage, bucket, smallHP(n))); err != nil {
		t.Fatal(err)
	}
	job := e.waitJob(t, "bikes-1")
	if job.TrainingJobStatus != smtypes.TrainingJobStatusCompleted {
		t.Fatalf("job %s: %s", job.TrainingJobStatus, aws.ToString(job.FailureReason))
	}
	var statuses []string
	for _, tr := range job.SecondaryStatusTransitions {
		statuses = append(statuses, string(tr.Status))
		if tr.StartTime == nil || tr.EndTime == nil || tr.StatusMessage == nil {
			t.Errorf("transition %s incomplete: %+v", tr.Status, tr)
		}
	}
	if got := strings.Join(statuses, ","); got != "Starting,Downloading,Training,Uploading,Completed" {
		t.Errorf("secondary statuses %s", got)
	}
	metrics := map[string]float32{}
	for _, m := range job.FinalMetricDataList {
		metrics[aws.ToString(m.MetricName)] = aws.ToFloat32(m.Value)
	}
	if _, ok := metrics["train:accuracy"]; !ok {
		t.Errorf("final metrics %v lack train:accuracy", metrics)
	}
	if _, ok := metrics["validation:accuracy"]; !ok {
		t.Errorf("final metrics %v lack validation:accuracy", metrics)
	}
	artifact := aws.ToString(job.ModelArtifacts.S3ModelArtifacts)
	if artifact != "s3://"+bucket+"/models/bikes-1/output/model.tar.gz" {
		t.Errorf("artifact %s", artifact)
	}
	if job.CreationTime == nil || job.TrainingStartTime == nil || job.TrainingEndTime == nil || time.Since(*job.CreationTime) > time.Hour {
		t.Errorf("timestamps: %v %v %v", job.CreationTime, job.TrainingStartTime, job.TrainingEndTime)
	}

	e.deploy(t, "bikes-1", classifierImage, artifact, bucket)
	ep, _ := e.sm.DescribeEndpoint(ctx, &sagemaker.DescribeEndpointInput{EndpointName: aws.String("bikes-1")})
	if ep.DataCaptureConfig == nil || ep.DataCaptureConfig.CaptureStatus != smtypes.CaptureStatusStarted || len(ep.ProductionVariants) != 1 {
		t.Errorf("describe endpoint: %+v", ep)
	}

	img := pngOf(1, rand.New(rand.NewPCG(9, 9)))
	out, err := e.rt.InvokeEndpoint(ctx, &sagemakerruntime.InvokeEndpointInput{EndpointName: aws.String("bikes-1"),
		ContentType: aws.String("image/png"), Accept: aws.String("application/json"), Body: img,
		InferenceId: aws.String("inference-0001"), CustomAttributes: aws.String("trace=1")})
	if err != nil {
		t.Fatal(err)
	}
	var probs []float64
	if err := json.Unmarshal(out.Body, &probs); err != nil || len(probs) != 2 || probs[0]+probs[1] < 0.99 || probs[0]+probs[1] > 1.01 {
		t.Fatalf("inference %s (%v)", out.Body, err)
	}
	if aws.ToString(out.InvokedProductionVariant) != "AllTraffic" || aws.ToString(out.ContentType) != "application/json" {
		t.Errorf("variant %q content type %q", aws.ToString(out.InvokedProductionVariant), aws.ToString(out.ContentType))
	}
	// A second invocation without an inference id.
	if _, err := e.rt.InvokeEndpoint(ctx, &sagemakerruntime.InvokeEndpointInput{EndpointName: aws.String("bikes-1"),
		ContentType: aws.String("image/png"), Body: img}); err != nil {
		t.Fatal(err)
	}

	// A body that is not an image: the container's 4xx becomes ModelError.
	_, err = e.rt.InvokeEndpoint(ctx, &sagemakerruntime.InvokeEndpointInput{EndpointName: aws.String("bikes-1"),
		ContentType: aws.String("image/png"), Body: []byte("not a png")})
	var me *rttypes.ModelError
	if !errors.As(err, &me) || aws.ToInt32(me.OriginalStatusCode) < 400 || aws.ToInt32(me.OriginalStatusCode) > 499 ||
		aws.ToString(me.OriginalMessage) == "" || !strings.HasPrefix(aws.ToString(me.LogStreamArn), "arn:aws:logs:us-east-1:000000000000:log-group:/aws/sagemaker/Endpoints/bikes-1") {
		t.Errorf("non-image body: %v", err)
	} else {
		t.Logf("non-image body: %v", err)
	}
	// Unknown endpoint: ValidationError.
	_, err = e.rt.InvokeEndpoint(ctx, &sagemakerruntime.InvokeEndpointInput{EndpointName: aws.String("nope"),
		ContentType: aws.String("image/png"), Body: img})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationError" || ae.ErrorMessage() != "Endpoint nope of account 000000000000 not found." {
		t.Errorf("unknown endpoint: %v", err)
	}

	// Tags from every Create.
	for _, arn := range []string{*job.TrainingJobArn, *ep.EndpointArn} {
		tags, err := e.sm.ListTags(ctx, &sagemaker.ListTagsInput{ResourceArn: aws.String(arn)})
		if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "project" {
			t.Errorf("tags of %s: %+v %v", arn, tags, err)
		}
	}

	// DeleteEndpoint flushes capture before it returns.
	if _, err := e.sm.DeleteEndpoint(ctx, &sagemaker.DeleteEndpointInput{EndpointName: aws.String("bikes-1")}); err != nil {
		t.Fatal(err)
	}
	records := e.captureRecords(t, bucket, "data_capture/bikes-1/AllTraffic/")
	if len(records) != 2 {
		t.Fatalf("%d capture records, want 2", len(records))
	}
	checkRecord(t, records[0], img, out.Body, "inference-0001")
	checkRecord(t, records[1], img, out.Body, "")
}

// captureRecords reads every capture file under prefix and checks keys.
func (e *env) captureRecords(t testing.TB, bucket, prefix string) []string {
	t.Helper()
	ctx := context.Background()
	list, err := e.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: &prefix})
	if err != nil {
		t.Fatal(err)
	}
	keyRe := regexp.MustCompile(`^` + regexp.QuoteMeta(prefix) + `\d{4}/\d{2}/\d{2}/\d{2}/\d{2}-\d{2}-\d{3}-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.jsonl$`)
	var lines []string
	for _, o := range list.Contents {
		if !keyRe.MatchString(*o.Key) {
			t.Errorf("capture key %s does not match %s", *o.Key, keyRe)
		}
		obj, err := e.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: o.Key})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(obj.Body)
		obj.Body.Close()
		if !bytes.HasSuffix(b, []byte("\n")) {
			t.Errorf("capture file %s does not end in a newline", *o.Key)
		}
		lines = append(lines, strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")...)
	}
	sort.SliceStable(lines, func(i, j int) bool {
		return strings.Contains(lines[i], "inferenceId") && !strings.Contains(lines[j], "inferenceId")
	})
	return lines
}

// keyOrder lists the object keys of a JSON document depth-first, in order.
func keyOrder(t testing.TB, doc string) []string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(doc))
	var keys []string
	var value func() error
	value = func() error {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'):
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return err
				}
				keys = append(keys, k.(string))
				if err := value(); err != nil {
					return err
				}
			}
			_, err = dec.Token()
		case json.Delim('['):
			for dec.More() {
				if err := value(); err != nil {
					return err
				}
			}
			_, err = dec.Token()
		}
		return err
	}
	if err := value(); err != nil {
		t.Fatal(err)
	}
	return keys
}

type captureRecord struct {
	CaptureData struct {
		EndpointInput  *capturePayload `json:"endpointInput"`
		EndpointOutput *capturePayload `json:"endpointOutput"`
	} `json:"captureData"`
	EventMetadata struct {
		EventID       string `json:"eventId"`
		InferenceID   string `json:"inferenceId"`
		InferenceTime string `json:"inferenceTime"`
	} `json:"eventMetadata"`
	EventVersion string `json:"eventVersion"`
}

type capturePayload struct {
	ObservedContentType string `json:"observedContentType"`
	Mode                string `json:"mode"`
	Data                string `json:"data"`
	Encoding            string `json:"encoding"`
}

// checkRecord compares a capture line with the real capture file: the same
// keys in the same order (plus inferenceId when one was sent), and values
// that reproduce the invocation.
func checkRecord(t *testing.T, line string, input, output []byte, inferenceID string) {
	t.Helper()
	real, err := os.ReadFile(realCapture)
	if err != nil {
		t.Fatal(err)
	}
	want := keyOrder(t, string(real))
	if inferenceID != "" {
		for i, k := range want {
			if k == "eventId" {
				want = append(want[:i+1], append([]string{"inferenceId"}, want[i+1:]...)...)
				break
			}
		}
	}
	if got := keyOrder(t, line); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("key order\n got %v\nwant %v", got, want)
	}
	var r captureRecord
	if err := json.Unmarshal([]byte(line), &r); err != nil {
		t.Fatal(err)
	}
	in, out := r.CaptureData.EndpointInput, r.CaptureData.EndpointOutput
	if in == nil || out == nil {
		t.Fatalf("record lacks input or output: %s", line)
	}
	if in.ObservedContentType != "image/png" || in.Mode != "INPUT" || in.Encoding != "BASE64" {
		t.Errorf("input %+v", *in)
	}
	if d, err := base64.StdEncoding.DecodeString(in.Data); err != nil || !bytes.Equal(d, input) {
		t.Errorf("input data does not decode to the PNG sent")
	}
	if out.ObservedContentType != "application/json" || out.Mode != "OUTPUT" || out.Encoding != "JSON" || out.Data != string(output) {
		t.Errorf("output %+v, want data %s", *out, output)
	}
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(r.EventMetadata.EventID) {
		t.Errorf("eventId %q", r.EventMetadata.EventID)
	}
	if ts, err := time.Parse("2006-01-02T15:04:05Z", r.EventMetadata.InferenceTime); err != nil || time.Since(ts) > time.Hour {
		t.Errorf("inferenceTime %q", r.EventMetadata.InferenceTime)
	}
	if r.EventMetadata.InferenceID != inferenceID || r.EventVersion != "0" {
		t.Errorf("inferenceId %q eventVersion %q", r.EventMetadata.InferenceID, r.EventVersion)
	}
}

// realData is the cifar100-bikes data set, when present.
const realData = "../../../shared/data/cifar100-bikes"

// TestRealData trains on a slice of the real CIFAR-100 bikes (RGBA PNGs
// with tEXt chunks, as the reference notebook wrote them), deploys with
// capture, and compares a capture record of a real test image with the
// real capture file.
func TestRealData(t *testing.T) {
	if _, err := os.Stat(filepath.Join(realData, "train.lst")); err != nil {
		t.Skipf("real data set not found at %s; skipping (the synthetic-PNG tests cover the same path)", realData)
	}
	e := newEnv(t)
	ctx := context.Background()
	const bucket = "real-bikes"
	e.bucket(t, bucket)
	for _, split := range []struct{ lst, dir, prefix string }{{"train.lst", "train", "train"}, {"test.lst", "test", "validation"}} {
		b, err := os.ReadFile(filepath.Join(realData, split.lst))
		if err != nil {
			t.Fatal(err)
		}
		var keep strings.Builder
		for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if i >= 60 {
				break
			}
			f := strings.Split(line, "\t")
			img, err := os.ReadFile(filepath.Join(realData, split.dir, f[2]))
			if err != nil {
				t.Fatal(err)
			}
			e.put(t, bucket, split.prefix+"/"+f[2], img)
			keep.WriteString(line + "\n")
		}
		e.put(t, bucket, split.prefix+".lst", []byte(keep.String()))
	}
	if _, err := e.sm.CreateTrainingJob(ctx, trainingInput("real", classifierImage, bucket, smallHP(30))); err != nil {
		t.Fatal(err)
	}
	job := e.waitJob(t, "real")
	if job.TrainingJobStatus != smtypes.TrainingJobStatusCompleted {
		t.Fatalf("%s: %s", job.TrainingJobStatus, aws.ToString(job.FailureReason))
	}
	e.deploy(t, "real", classifierImage, aws.ToString(job.ModelArtifacts.S3ModelArtifacts), bucket)
	lst, _ := os.ReadFile(filepath.Join(realData, "test.lst"))
	name := strings.Split(strings.Split(string(lst), "\n")[0], "\t")[2]
	img, _ := os.ReadFile(filepath.Join(realData, "test", name))
	out, err := e.rt.InvokeEndpoint(ctx, &sagemakerruntime.InvokeEndpointInput{EndpointName: aws.String("real"),
		ContentType: aws.String("image/png"), Body: img})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.sm.DeleteEndpoint(ctx, &sagemaker.DeleteEndpointInput{EndpointName: aws.String("real")}); err != nil {
		t.Fatal(err)
	}
	records := e.captureRecords(t, bucket, "data_capture/real/AllTraffic/")
	if len(records) != 1 {
		t.Fatalf("%d records", len(records))
	}
	checkRecord(t, records[0], img, out.Body, "")
	t.Logf("real test image %s: %s", name, out.Body)
}
