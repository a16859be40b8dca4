package lambda_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/scones/scones/emulator"
	"github.com/scones/scones/lambdapkg"
)

// workflowZips are the three real Lambdas, built once per test binary.
var workflowZips struct {
	once sync.Once
	arts map[string]lambdapkg.Artifact
	err  error
}

func realZips(tb testing.TB) map[string]lambdapkg.Artifact {
	tb.Helper()
	workflowZips.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		arts, err := lambdapkg.BuildAll(ctx, lambdapkg.Options{OutDir: filepath.Join(testZip.dir, "workflow")})
		workflowZips.err = err
		workflowZips.arts = map[string]lambdapkg.Artifact{}
		for _, a := range arts {
			workflowZips.arts[a.Function] = a
		}
	})
	if workflowZips.err != nil {
		tb.Fatal(workflowZips.err)
	}
	return workflowZips.arts
}

func testPNG(tb testing.TB) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, 32, 32))
	for y := range 32 {
		for x := range 32 {
			img.Set(x, y, color.NRGBA{uint8(x * 8), uint8(y * 8), 128, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// TestDeployWorkflow deploys the three real zips (one of them from S3) and
// runs the workflow's chain through aws-sdk-go-v2, as the state machine
// would: each function gets the previous one's payload.
func TestDeployWorkflow(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the three Lambdas")
	}
	arts := realZips(t)
	h := start(t, emulator.Options{})
	ctx := context.Background()
	pic := testPNG(t)

	s3c := s3.NewFromConfig(h.cfg, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("scones")}); err != nil {
		t.Fatal(err)
	}
	filterZip, err := os.ReadFile(arts["filterLowConfidenceInferences"].ZipPath)
	if err != nil {
		t.Fatal(err)
	}
	for key, body := range map[string][]byte{"test/bike.png": pic, "lambda/filter.zip": filterZip} {
		if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("scones"), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
	}

	// The SageMaker endpoint: a real HTTP peer; classifyImage finds it
	// through AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME, the SDK's own override.
	endpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.URL.Path != "/endpoints/bikes/invocations" || r.Header.Get("Content-Type") != "image/png" || !bytes.Equal(body, pic) {
			t.Errorf("endpoint got %s %s %q, %d bytes", r.Method, r.URL.Path, r.Header.Get("Content-Type"), len(body))
			http.Error(w, "unexpected", http.StatusBadRequest)
			return
		}
		w.Write([]byte("[0.97, 0.03]"))
	}))
	defer endpoint.Close()

	zipOf := func(name string) []byte {
		data, err := os.ReadFile(arts[name].ZipPath)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	h.create(t, "serializeImageData", zipOf("serializeImageData"), nil)
	h.create(t, "classifyImage", zipOf("classifyImage"), func(in *awslambda.CreateFunctionInput) {
		in.Environment = &types.Environment{Variables: map[string]string{"ENDPOINT_NAME": "bikes", "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME": endpoint.URL}}
	})
	created := h.create(t, "filterLowConfidenceInferences", nil, func(in *awslambda.CreateFunctionInput) {
		in.Code = &types.FunctionCode{S3Bucket: aws.String("scones"), S3Key: aws.String("lambda/filter.zip")}
		in.Architectures = []types.Architecture{types.ArchitectureX8664}
	})
	if aws.ToString(created.CodeSha256) != arts["filterLowConfidenceInferences"].CodeSha256 {
		t.Errorf("CodeSha256 %s, lambdapkg says %s", aws.ToString(created.CodeSha256), arts["filterLowConfidenceInferences"].CodeSha256)
	}

	out := h.invoke(t, "serializeImageData", map[string]string{"s3_bucket": "scones", "s3_key": "test/bike.png"}, nil)
	if out.FunctionError != nil {
		t.Fatalf("serializeImageData: %s", out.Payload)
	}
	out = h.invoke(t, "classifyImage", json.RawMessage(out.Payload), nil)
	if out.FunctionError != nil {
		t.Fatalf("classifyImage: %s", out.Payload)
	}
	classified := out.Payload
	var resp struct {
		StatusCode int
		Body       struct {
			ImageData  string    `json:"image_data"`
			S3Bucket   string    `json:"s3_bucket"`
			Inferences []float64 `json:"inferences"`
		}
	}
	if err := json.Unmarshal(classified, &resp); err != nil || resp.StatusCode != 200 || !reflect.DeepEqual(resp.Body.Inferences, []float64{0.97, 0.03}) || resp.Body.S3Bucket != "scones" {
		t.Fatalf("classifyImage returned %s", classified)
	}
	out = h.invoke(t, "filterLowConfidenceInferences", json.RawMessage(classified), nil)
	if out.FunctionError != nil || !jsonEqual(out.Payload, classified) {
		t.Errorf("filter passed %s (error %v), want its input", out.Payload, out.FunctionError)
	}

	// A threshold above the confidence fails as designed.
	if _, err := h.client.UpdateFunctionConfiguration(ctx, &awslambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("filterLowConfidenceInferences"),
		Environment: &types.Environment{Variables: map[string]string{"THRESHOLD": "0.99"}}}); err != nil {
		t.Fatal(err)
	}
	e := functionError(t, h.invoke(t, "filterLowConfidenceInferences", json.RawMessage(classified), nil))
	if e.ErrorType != "THRESHOLD_CONFIDENCE_NOT_MET" || !strings.Contains(e.ErrorMessage, "0.99") || !strings.Contains(e.ErrorMessage, "[0.97,0.03]") {
		t.Errorf("filter at 0.99: %+v", e)
	}
	e = functionError(t, h.invoke(t, "serializeImageData", map[string]string{"s3_bucket": "nope", "s3_key": "test/bike.png"}, nil))
	if e.ErrorType != "NoSuchBucket" {
		t.Errorf("wrong bucket: %+v", e)
	}
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	return json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil && reflect.DeepEqual(x, y)
}

// TestAWSCLI drives the emulator with the AWS CLI v1 when it is installed.
func TestAWSCLI(t *testing.T) {
	cli, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("the AWS CLI (aws) is not installed: skipping the CLI cross-check")
	}
	h := start(t, emulator.Options{})
	dir := t.TempDir()
	zipPath := filepath.Join(dir, "fn.zip")
	if err := os.WriteFile(zipPath, testFunctionZip(t), 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE=" + filepath.Join(dir, "none"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "none")}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(cli, append([]string{"--endpoint-url", h.srv.URL(), "--output", "json"}, args...)...)
		cmd.Env = env
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	out := run("lambda", "create-function", "--function-name", "cli-fn", "--runtime", "provided.al2023", "--handler", "bootstrap",
		"--zip-file", "fileb://"+zipPath, "--role", "arn:aws:iam::000000000000:role/x")
	if !strings.Contains(out, `"FunctionArn": "arn:aws:lambda:us-east-1:000000000000:function:cli-fn"`) {
		t.Errorf("create-function printed %s", out)
	}
	out = run("lambda", "invoke", "--function-name", "cli-fn", "--log-type", "Tail", "--payload", `{"n": 42}`, filepath.Join(dir, "ok.json"))
	if !strings.Contains(out, `"StatusCode": 200`) || strings.Contains(out, "FunctionError") || !strings.Contains(out, `"LogResult": "`) {
		t.Errorf("invoke printed %s", out)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "ok.json")); !strings.Contains(string(data), `"n":42`) {
		t.Errorf("invoke wrote %s", data)
	}
	out = run("lambda", "invoke", "--function-name", "cli-fn", "--payload", `{"action": "fail"}`, filepath.Join(dir, "fail.json"))
	if !strings.Contains(out, `"FunctionError": "Unhandled"`) {
		t.Errorf("failing invoke printed %s", out)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "fail.json")); !strings.Contains(string(data), `"errorMessage":"asked to fail"`) {
		t.Errorf("failing invoke wrote %s", data)
	}
	out = run("lambda", "list-functions")
	if !strings.Contains(out, `"FunctionName": "cli-fn"`) {
		t.Errorf("list-functions printed %s", out)
	}
	run("lambda", "delete-function", "--function-name", "cli-fn")
}
