package workflow_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/scones/scones/emulator"
	"github.com/scones/scones/lambdas/handler"
	"github.com/scones/scones/lambdas/workflow"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// fixtures are the test images, and their base64 that event files name as
// @IMAGE@ (PNG) and @JPEG@ so that the files stay readable.
type fixtures struct {
	png, jpeg []byte
	replacer  *strings.Replacer // placeholder -> base64
	reverse   *strings.Replacer // base64 -> placeholder
}

func loadFixtures(t *testing.T) fixtures {
	t.Helper()
	png, err := os.ReadFile("testdata/image.png")
	if err != nil {
		t.Fatal(err)
	}
	jpg, err := os.ReadFile("testdata/image.jpg")
	if err != nil {
		t.Fatal(err)
	}
	p, j := base64.StdEncoding.EncodeToString(png), base64.StdEncoding.EncodeToString(jpg)
	return fixtures{png: png, jpeg: jpg,
		replacer: strings.NewReplacer("@IMAGE@", p, "@JPEG@", j),
		reverse:  strings.NewReplacer(p, "@IMAGE@", j, "@JPEG@")}
}

// runGolden invokes h through aws-lambda-go's handler (what the runtime
// loop calls) with testdata/<fn>/<name>.event.json and compares the result,
// or the error JSON Lambda would report, with <name>.golden.json as JSON.
func runGolden(t *testing.T, fx fixtures, fn, name string, h workflow.HandlerFunc) {
	t.Helper()
	event, err := os.ReadFile(filepath.Join("testdata", fn, name+".event.json"))
	if err != nil {
		t.Fatal(err)
	}
	event = []byte(fx.replacer.Replace(string(event)))
	out, err := handler.New(h).Invoke(context.Background(), event)
	if err != nil {
		var ie messages.InvokeResponse_Error
		if !errors.As(err, &ie) {
			t.Fatalf("handler error %T %v is not a messages.InvokeResponse_Error: its errorType would be the Go type name", err, err)
		}
		if out, err = json.Marshal(ie); err != nil {
			t.Fatal(err)
		}
	}
	got := []byte(fx.reverse.Replace(string(out)))
	golden := filepath.Join("testdata", fn, name+".golden.json")
	if *update {
		var buf bytes.Buffer
		if err := json.Indent(&buf, got, "", "  "); err != nil {
			t.Fatal(err)
		}
		buf.WriteByte('\n')
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("output is not JSON: %v: %s", err, got)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("%s: %v", golden, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s/%s:\n got %s\nwant %s", fn, name, got, bytes.TrimSpace(want))
	}
}

// startS3 starts the emulator in-process and fills bucket scones-test. It
// returns nil when the emulator's S3 cannot store objects yet.
func startS3(t *testing.T, fx fixtures) *s3.Client {
	t.Helper()
	ctx := context.Background()
	srv, err := emulator.Start(ctx, emulator.Options{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	cfg := aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(srv.URL()),
	}
	// The endpoint override makes NewS3Client use path style, as in the
	// Lambda where AWS_ENDPOINT_URL is set.
	client := workflow.NewS3Client(cfg, func(k string) string {
		if k == "AWS_ENDPOINT_URL" {
			return srv.URL()
		}
		return ""
	})
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("scones-test")}); err != nil {
		var ae smithy.APIError
		if errors.As(err, &ae) && ae.ErrorCode() == "NotImplemented" {
			return nil
		}
		t.Fatal(err)
	}
	for key, body := range map[string][]byte{"test/bike.png": fx.png, "notes.txt": []byte("not an image\n")} {
		if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("scones-test"), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
	}
	return client
}

func TestSerializeImageData(t *testing.T) {
	fx := loadFixtures(t)
	client := startS3(t, fx)
	noS3 := map[string]bool{"missing_key": true, "missing_bucket": true, "not_object": true}
	for _, name := range []string{"ok", "reference_string_body", "missing_key", "missing_bucket", "no_such_bucket", "no_such_key", "not_image", "not_object"} {
		t.Run(name, func(t *testing.T) {
			if client == nil && !noS3[name] {
				t.Skip("the emulator's S3 answers NotImplemented: it is still being written (emulator/s3)")
			}
			var getter workflow.S3Getter = client
			if client == nil {
				getter = (*s3.Client)(nil)
			}
			runGolden(t, fx, "serializeImageData", name, workflow.SerializeImageData(getter))
		})
	}
}

// fakeEndpoint is a real HTTP peer speaking the SageMaker runtime's
// InvokeEndpoint (POST /endpoints/{name}/invocations): endpoint
// "bikes" answers [0.97, 0.03] for PNG and [0.2, 0.8] for JPEG; any other
// name is a ValidationError as SageMaker sends it.
func fakeEndpoint(t *testing.T, fx fixtures) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		name, ok := strings.CutPrefix(r.URL.Path, "/endpoints/")
		name, ok2 := strings.CutSuffix(name, "/invocations")
		if r.Method != http.MethodPost || !ok || !ok2 {
			http.Error(w, "bad path "+r.URL.Path, http.StatusNotFound)
			return
		}
		if name != "bikes" {
			w.Header().Set("X-Amzn-ErrorType", "ValidationError")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"message":"Endpoint ` + name + ` of account 000000000000 not found."}`))
			return
		}
		ct := r.Header.Get("Content-Type")
		switch {
		case ct == "image/png" && bytes.Equal(body, fx.png):
			w.Write([]byte("[0.97, 0.03]"))
		case ct == "image/jpeg" && bytes.Equal(body, fx.jpeg):
			w.Write([]byte("[0.2, 0.8]"))
		default:
			t.Errorf("endpoint got Content-Type %q and %d unexpected bytes", ct, len(body))
			http.Error(w, "unexpected", http.StatusBadRequest)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestClassifyImage(t *testing.T) {
	fx := loadFixtures(t)
	srv := fakeEndpoint(t, fx)
	client := workflow.NewSageMakerRuntimeClient(aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(srv.URL),
	})
	for _, name := range []string{"ok", "reference_string_body", "reference_bytes_repr", "jpeg", "missing_key", "not_image", "bad_base64", "unknown_endpoint"} {
		t.Run(name, func(t *testing.T) {
			endpoint := "bikes"
			if name == "unknown_endpoint" {
				endpoint = "no-such-endpoint"
			}
			runGolden(t, fx, "classifyImage", name, workflow.ClassifyImage(client, endpoint))
		})
	}
	t.Run("no_endpoint_name", func(t *testing.T) {
		_, err := workflow.ClassifyImage(client, "")(context.Background(), []byte(`{}`))
		var e *workflow.Error
		if !errors.As(err, &e) || e.Type != workflow.ErrConfiguration || !strings.Contains(e.Message, "ENDPOINT_NAME") {
			t.Errorf("got %v, want an InvalidConfiguration error naming ENDPOINT_NAME", err)
		}
	})
}

func TestFilterLowConfidenceInferences(t *testing.T) {
	fx := loadFixtures(t)
	for _, name := range []string{"pass", "below_threshold", "at_threshold", "reference_string_inferences", "reference_lambda2_output", "custom_threshold", "missing_inferences", "bad_inferences"} {
		t.Run(name, func(t *testing.T) {
			threshold := workflow.DefaultThreshold
			if name == "custom_threshold" {
				threshold = 0.5
			}
			runGolden(t, fx, "filterLowConfidenceInferences", name, workflow.FilterLowConfidenceInferences(threshold))
		})
	}
}

func TestParseThreshold(t *testing.T) {
	for in, want := range map[string]float64{"": 0.93, "0.5": 0.5, " 0.8 ": 0.8} {
		if got, err := workflow.ParseThreshold(in, 0.93); err != nil || got != want {
			t.Errorf("ParseThreshold(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"high", "1.5", "-1"} {
		if _, err := workflow.ParseThreshold(in, 0.93); err == nil {
			t.Errorf("ParseThreshold(%q) succeeded", in)
		}
	}
}
