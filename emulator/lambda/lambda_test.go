package lambda_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/scones/scones/emulator"
	"github.com/scones/scones/emulator/lambda"
	"github.com/scones/scones/lambdapkg"
)

const role = "arn:aws:iam::000000000000:role/scones-lambda"

// testZip is testdata/testfn built once per test binary.
var testZip struct {
	once sync.Once
	path string
	data []byte
	err  error
	dir  string
}

func testFunctionZip(tb testing.TB) []byte {
	tb.Helper()
	testZip.once.Do(func() {
		// A bound, so that a wedged go build fails the test with a reason.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		testZip.path, _, testZip.err = lambdapkg.Build(ctx, lambdapkg.Options{
			Function: "./emulator/lambda/testdata/testfn", OutDir: testZip.dir})
		if testZip.err == nil {
			testZip.data, testZip.err = os.ReadFile(testZip.path)
		}
	})
	if testZip.err != nil {
		tb.Fatal(testZip.err)
	}
	return testZip.data
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "scones-lambda-test-")
	if err != nil {
		panic(err)
	}
	testZip.dir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type harness struct {
	srv    *emulator.Server
	client *awslambda.Client
	cfg    aws.Config
}

func start(tb testing.TB, opts emulator.Options) *harness {
	tb.Helper()
	opts.Addr = "127.0.0.1:0"
	srv, err := emulator.Start(context.Background(), opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := srv.Close(); err != nil {
			tb.Errorf("emulator close: %v", err)
		}
	})
	cfg := aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(srv.URL()),
	}
	return &harness{srv: srv, cfg: cfg, client: awslambda.NewFromConfig(cfg, func(o *awslambda.Options) {
		o.RetryMaxAttempts = 1 // see throttles as they are
	})}
}

func (h *harness) create(tb testing.TB, name string, zip []byte, mod func(*awslambda.CreateFunctionInput)) *awslambda.CreateFunctionOutput {
	tb.Helper()
	in := &awslambda.CreateFunctionInput{
		FunctionName: aws.String(name),
		Runtime:      types.RuntimeProvidedal2023,
		Role:         aws.String(role),
		Handler:      aws.String("bootstrap"),
		Code:         &types.FunctionCode{ZipFile: zip},
	}
	if mod != nil {
		mod(in)
	}
	out, err := h.client.CreateFunction(context.Background(), in)
	if err != nil {
		tb.Fatalf("CreateFunction %s: %v", name, err)
	}
	return out
}

func (h *harness) invoke(tb testing.TB, name string, payload any, mod func(*awslambda.InvokeInput)) *awslambda.InvokeOutput {
	tb.Helper()
	body, err := json.Marshal(payload)
	if err != nil {
		tb.Fatal(err)
	}
	in := &awslambda.InvokeInput{FunctionName: aws.String(name), Payload: body}
	if mod != nil {
		mod(in)
	}
	out, err := h.client.Invoke(context.Background(), in)
	if err != nil {
		tb.Fatalf("Invoke %s: %v", name, err)
	}
	return out
}

type fnError struct {
	ErrorMessage string `json:"errorMessage"`
	ErrorType    string `json:"errorType"`
}

func functionError(tb testing.TB, out *awslambda.InvokeOutput) fnError {
	tb.Helper()
	if out.FunctionError == nil || *out.FunctionError != "Unhandled" {
		tb.Fatalf("FunctionError %v, want Unhandled; payload %s", out.FunctionError, out.Payload)
	}
	var e fnError
	if err := json.Unmarshal(out.Payload, &e); err != nil {
		tb.Fatalf("error payload %s: %v", out.Payload, err)
	}
	return e
}

func TestControlPlane(t *testing.T) {
	h := start(t, emulator.Options{})
	ctx := context.Background()
	zip := testFunctionZip(t)
	created := h.create(t, "fn-a", zip, func(in *awslambda.CreateFunctionInput) {
		in.Environment = &types.Environment{Variables: map[string]string{"K": "v"}}
		in.Tags = map[string]string{"project": "scones"}
	})
	if got := aws.ToString(created.FunctionArn); got != "arn:aws:lambda:us-east-1:000000000000:function:fn-a" {
		t.Errorf("FunctionArn %s", got)
	}
	if aws.ToInt32(created.Timeout) != 3 || aws.ToInt32(created.MemorySize) != 128 || aws.ToString(created.Version) != "$LATEST" ||
		created.State != types.StateActive || created.LastUpdateStatus != types.LastUpdateStatusSuccessful ||
		created.PackageType != types.PackageTypeZip || aws.ToInt64(&created.CodeSize) != int64(len(zip)) {
		t.Errorf("CreateFunction output %+v", created)
	}
	if _, err := time.Parse("2006-01-02T15:04:05.000-0700", aws.ToString(created.LastModified)); err != nil {
		t.Errorf("LastModified: %v", err)
	}
	if _, err := h.client.CreateFunction(ctx, &awslambda.CreateFunctionInput{FunctionName: aws.String("fn-a"), Runtime: types.RuntimeProvidedal2023,
		Role: aws.String(role), Code: &types.FunctionCode{ZipFile: zip}}); !isErr[*types.ResourceConflictException](err) {
		t.Errorf("duplicate CreateFunction: %v, want ResourceConflictException", err)
	}
	_, err := h.client.CreateFunction(ctx, &awslambda.CreateFunctionInput{FunctionName: aws.String("py"), Runtime: types.RuntimePython312,
		Role: aws.String(role), Handler: aws.String("app.handler"), Code: &types.FunctionCode{ZipFile: zip}})
	if !isErr[*types.InvalidParameterValueException](err) || !strings.Contains(err.Error(), "provided.al2023") {
		t.Errorf("python runtime: %v, want InvalidParameterValueException naming provided.al2023", err)
	}
	_, err = h.client.CreateFunction(ctx, &awslambda.CreateFunctionInput{FunctionName: aws.String("bad-env"), Runtime: types.RuntimeProvidedal2023,
		Role: aws.String(role), Code: &types.FunctionCode{ZipFile: zip}, Environment: &types.Environment{Variables: map[string]string{"AWS_REGION": "x"}}})
	if !isErr[*types.InvalidParameterValueException](err) {
		t.Errorf("reserved variable: %v, want InvalidParameterValueException", err)
	}
	_, err = h.client.CreateFunction(ctx, &awslambda.CreateFunctionInput{FunctionName: aws.String("not-zip"), Runtime: types.RuntimeProvidedal2023,
		Role: aws.String(role), Code: &types.FunctionCode{ZipFile: []byte("not a zip")}})
	if !isErr[*types.InvalidParameterValueException](err) {
		t.Errorf("bad zip: %v, want InvalidParameterValueException", err)
	}
	if _, err := h.client.GetFunction(ctx, &awslambda.GetFunctionInput{FunctionName: aws.String("missing")}); !isErr[*types.ResourceNotFoundException](err) {
		t.Errorf("GetFunction missing: %v", err)
	}

	got, err := h.client.GetFunction(ctx, &awslambda.GetFunctionInput{FunctionName: aws.String("fn-a")})
	if err != nil {
		t.Fatal(err)
	}
	if got.Tags["project"] != "scones" || got.Configuration.Environment.Variables["K"] != "v" || aws.ToString(got.Code.RepositoryType) != "S3" {
		t.Errorf("GetFunction %+v", got)
	}

	// Code.Location serves the zip (through the edge, like a presigned URL).
	if resp, err := http.Get(aws.ToString(got.Code.Location)); err != nil {
		t.Errorf("GET Code.Location: %v", err)
	} else {
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !bytes.Equal(data, zip) {
			t.Errorf("Code.Location %s served %d bytes (status %d), want the %d-byte zip", aws.ToString(got.Code.Location), len(data), resp.StatusCode, len(zip))
		}
	}
	// A warm instance sees the old environment; an update retires it.
	var env map[string]string
	json.Unmarshal(h.invoke(t, "fn-a", map[string]any{"action": "env", "keys": []string{"K"}}, nil).Payload, &env)
	if env["K"] != "v" {
		t.Errorf("K=%q before the update", env["K"])
	}
	// Update configuration and code; publish versions.
	upd, err := h.client.UpdateFunctionConfiguration(ctx, &awslambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("fn-a"),
		Timeout: aws.Int32(10), MemorySize: aws.Int32(256), Environment: &types.Environment{Variables: map[string]string{"K": "w"}}})
	if err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(h.invoke(t, "fn-a", map[string]any{"action": "env", "keys": []string{"K"}}, nil).Payload, &env)
	if env["K"] != "w" {
		t.Errorf("K=%q after UpdateFunctionConfiguration, want w: the warm instance was not retired", env["K"])
	}
	if aws.ToInt32(upd.Timeout) != 10 || aws.ToInt32(upd.MemorySize) != 256 || upd.Environment.Variables["K"] != "w" || aws.ToString(upd.RevisionId) == aws.ToString(created.RevisionId) {
		t.Errorf("UpdateFunctionConfiguration %+v", upd)
	}
	v1, err := h.client.PublishVersion(ctx, &awslambda.PublishVersionInput{FunctionName: aws.String("fn-a")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(v1.Version) != "1" || aws.ToString(v1.FunctionArn) != "arn:aws:lambda:us-east-1:000000000000:function:fn-a:1" {
		t.Errorf("PublishVersion %s %s", aws.ToString(v1.Version), aws.ToString(v1.FunctionArn))
	}
	again, err := h.client.PublishVersion(ctx, &awslambda.PublishVersionInput{FunctionName: aws.String("fn-a")})
	if err != nil || aws.ToString(again.Version) != "1" {
		t.Errorf("publishing an unchanged function: %v, version %s, want 1", err, aws.ToString(again.Version))
	}
	if _, err := h.client.UpdateFunctionConfiguration(ctx, &awslambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("fn-a"),
		Environment: &types.Environment{Variables: map[string]string{"K": "x"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.client.UpdateFunctionCode(ctx, &awslambda.UpdateFunctionCodeInput{FunctionName: aws.String("fn-a"), ZipFile: zip}); err != nil {
		t.Fatal(err)
	}
	// Each qualifier form runs its own configuration.
	for _, tc := range []struct{ name, qualifier, version, k string }{
		{"fn-a", "", "$LATEST", "x"},
		{"fn-a", "$LATEST", "$LATEST", "x"},
		{"fn-a:1", "", "1", "w"},
		{"fn-a", "1", "1", "w"},
		{"arn:aws:lambda:us-east-1:000000000000:function:fn-a:1", "", "1", "w"},
		{"000000000000:function:fn-a", "", "$LATEST", "x"},
	} {
		out := h.invoke(t, tc.name, map[string]any{"action": "env", "keys": []string{"K", "AWS_LAMBDA_FUNCTION_VERSION"}}, func(in *awslambda.InvokeInput) {
			if tc.qualifier != "" {
				in.Qualifier = aws.String(tc.qualifier)
			}
		})
		var env map[string]string
		json.Unmarshal(out.Payload, &env)
		if aws.ToString(out.ExecutedVersion) != tc.version || env["K"] != tc.k || env["AWS_LAMBDA_FUNCTION_VERSION"] != tc.version {
			t.Errorf("invoke %s qualifier %q: version %s env %v, want %s K=%s", tc.name, tc.qualifier, aws.ToString(out.ExecutedVersion), env, tc.version, tc.k)
		}
	}
	if _, err := h.client.Invoke(ctx, &awslambda.InvokeInput{FunctionName: aws.String("fn-a:7")}); !isErr[*types.ResourceNotFoundException](err) {
		t.Errorf("invoke missing version: %v", err)
	}
	if _, err := h.client.Invoke(ctx, &awslambda.InvokeInput{FunctionName: aws.String("fn-a:1"), Qualifier: aws.String("2")}); !isErr[*types.InvalidParameterValueException](err) {
		t.Errorf("conflicting qualifiers: %v", err)
	}
	vers, err := h.client.ListVersionsByFunction(ctx, &awslambda.ListVersionsByFunctionInput{FunctionName: aws.String("fn-a")})
	if err != nil || len(vers.Versions) != 2 {
		t.Errorf("ListVersionsByFunction: %v %d", err, len(vers.Versions))
	}

	// Tags.
	arn := aws.ToString(created.FunctionArn)
	if _, err := h.client.TagResource(ctx, &awslambda.TagResourceInput{Resource: aws.String(arn), Tags: map[string]string{"stage": "test"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.client.UntagResource(ctx, &awslambda.UntagResourceInput{Resource: aws.String(arn), TagKeys: []string{"project"}}); err != nil {
		t.Fatal(err)
	}
	tags, err := h.client.ListTags(ctx, &awslambda.ListTagsInput{Resource: aws.String(arn)})
	if err != nil || len(tags.Tags) != 1 || tags.Tags["stage"] != "test" {
		t.Errorf("ListTags: %v %v", err, tags)
	}

	// Paging.
	for _, n := range []string{"fn-b", "fn-c", "fn-d"} {
		h.create(t, n, zip, nil)
	}
	var names []string
	p := awslambda.NewListFunctionsPaginator(h.client, &awslambda.ListFunctionsInput{MaxItems: aws.Int32(3)})
	pages := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, f := range page.Functions {
			names = append(names, aws.ToString(f.FunctionName))
		}
	}
	if strings.Join(names, ",") != "fn-a,fn-b,fn-c,fn-d" || pages != 2 {
		t.Errorf("ListFunctions pages %d: %v", pages, names)
	}

	// Delete a version, then the function.
	if _, err := h.client.DeleteFunction(ctx, &awslambda.DeleteFunctionInput{FunctionName: aws.String("fn-a"), Qualifier: aws.String("1")}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.client.DeleteFunction(ctx, &awslambda.DeleteFunctionInput{FunctionName: aws.String("fn-a")}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.client.Invoke(ctx, &awslambda.InvokeInput{FunctionName: aws.String("fn-a")}); !isErr[*types.ResourceNotFoundException](err) {
		t.Errorf("invoke deleted: %v", err)
	}
}

func isErr[T error](err error) bool {
	var target T
	return errors.As(err, &target)
}

// TestFailures covers a timeout, a crash, init errors, a function error
// and a throttle, and that the function recovers from each.
func TestFailures(t *testing.T) {
	h := start(t, emulator.Options{})
	ctx := context.Background()
	zip := testFunctionZip(t)
	h.create(t, "fail", zip, func(in *awslambda.CreateFunctionInput) { in.Timeout = aws.Int32(1) })

	t.Run("timeout", func(t *testing.T) {
		start := time.Now()
		e := functionError(t, h.invoke(t, "fail", map[string]any{"action": "sleep", "ms": 30000}, nil))
		if e.ErrorType != "Sandbox.Timedout" || !strings.Contains(e.ErrorMessage, "Task timed out after 1.00 seconds") || !strings.HasPrefix(e.ErrorMessage, "RequestId: ") {
			t.Errorf("timeout error %+v", e)
		}
		if d := time.Since(start); d > 15*time.Second {
			t.Errorf("a 1 s timeout took %v: the sleeping function was not stopped", d)
		}
	})
	t.Run("crash", func(t *testing.T) {
		e := functionError(t, h.invoke(t, "fail", map[string]any{"action": "crash"}, nil))
		if e.ErrorType != "Runtime.ExitError" || !strings.Contains(e.ErrorMessage, "Error: Runtime exited with error: exit status 2") {
			t.Errorf("crash error %+v", e)
		}
	})
	t.Run("handler error", func(t *testing.T) {
		e := functionError(t, h.invoke(t, "fail", map[string]any{"action": "fail"}, nil))
		if e.ErrorType != "errorString" || e.ErrorMessage != "asked to fail" {
			t.Errorf("handler error %+v", e)
		}
	})
	t.Run("recovers", func(t *testing.T) {
		out := h.invoke(t, "fail", map[string]any{"n": 7}, nil)
		if out.FunctionError != nil || !strings.Contains(string(out.Payload), `"n":7`) {
			t.Errorf("after failures: %v %s", out.FunctionError, out.Payload)
		}
	})
	t.Run("init error reported", func(t *testing.T) {
		h.create(t, "init-report", zip, func(in *awslambda.CreateFunctionInput) {
			in.Environment = &types.Environment{Variables: map[string]string{"INIT_FAIL": "report"}}
		})
		e := functionError(t, h.invoke(t, "init-report", map[string]any{}, nil))
		if e.ErrorType != "Custom.ConfigError" || e.ErrorMessage != "CONFIG is not set" {
			t.Errorf("init error %+v", e)
		}
	})
	t.Run("init exit", func(t *testing.T) {
		h.create(t, "init-exit", zip, func(in *awslambda.CreateFunctionInput) {
			in.Environment = &types.Environment{Variables: map[string]string{"INIT_FAIL": "exit"}}
		})
		e := functionError(t, h.invoke(t, "init-exit", map[string]any{}, nil))
		if e.ErrorType != "Runtime.ExitError" || !strings.Contains(e.ErrorMessage, "exit status 3") {
			t.Errorf("init exit %+v", e)
		}
	})
	t.Run("no bootstrap", func(t *testing.T) {
		h.create(t, "no-bootstrap", zipWithout(t), nil)
		e := functionError(t, h.invoke(t, "no-bootstrap", map[string]any{}, nil))
		if e.ErrorType != "Runtime.InvalidEntrypoint" {
			t.Errorf("no bootstrap %+v", e)
		}
	})
	t.Run("throttle", func(t *testing.T) {
		h.create(t, "one-at-a-time", zip, func(in *awslambda.CreateFunctionInput) { in.Timeout = aws.Int32(5) })
		if _, err := h.client.PutFunctionConcurrency(ctx, &awslambda.PutFunctionConcurrencyInput{FunctionName: aws.String("one-at-a-time"),
			ReservedConcurrentExecutions: aws.Int32(1)}); err != nil {
			t.Fatal(err)
		}
		h.invoke(t, "one-at-a-time", map[string]any{}, nil) // warm, so the slow one starts at once
		done := make(chan *awslambda.InvokeOutput, 1)
		// The slow one retries throttles (the SDK's default retryer), as the
		// probes below may hold the slot when it arrives.
		retrying := awslambda.NewFromConfig(h.cfg, func(o *awslambda.Options) { o.RetryMaxAttempts = 20 })
		go func() {
			out, err := retrying.Invoke(ctx, &awslambda.InvokeInput{FunctionName: aws.String("one-at-a-time"), Payload: []byte(`{"action":"sleep","ms":3000}`)})
			if err != nil {
				t.Errorf("slow invoke: %v", err)
			}
			done <- out
		}()
		// Until the slow invocation holds the one slot, a second one may
		// still succeed; once it does, the next is throttled.
		var throttled error
	poll:
		for {
			select {
			case out := <-done:
				done <- out
				break poll
			default:
			}
			_, err := h.client.Invoke(ctx, &awslambda.InvokeInput{FunctionName: aws.String("one-at-a-time"), Payload: []byte(`{}`)})
			if err != nil {
				throttled = err
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		var tm *types.TooManyRequestsException
		if !errors.As(throttled, &tm) || tm.Reason != types.ThrottleReasonReservedFunctionConcurrentInvocationLimitExceeded {
			t.Errorf("concurrent invoke: %v, want TooManyRequestsException with Reason ReservedFunctionConcurrentInvocationLimitExceeded", throttled)
		}
		if out := <-done; out == nil || out.FunctionError != nil {
			t.Errorf("slow invoke: %+v", out)
		}
		conc, err := h.client.GetFunctionConcurrency(ctx, &awslambda.GetFunctionConcurrencyInput{FunctionName: aws.String("one-at-a-time")})
		if err != nil || aws.ToInt32(conc.ReservedConcurrentExecutions) != 1 {
			t.Errorf("GetFunctionConcurrency %v %v", err, conc)
		}
	})
}

// zipWithout builds a zip holding one file that is not bootstrap.
func zipWithout(tb testing.TB) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("handler.sh")
	if err != nil {
		tb.Fatal(err)
	}
	w.Write([]byte("#!/bin/sh\n"))
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func TestConcurrentInvokes(t *testing.T) {
	h := start(t, emulator.Options{})
	h.create(t, "echo", testFunctionZip(t), nil)
	const n = 50
	var wg sync.WaitGroup
	results := make([][]byte, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := h.client.Invoke(context.Background(), &awslambda.InvokeInput{FunctionName: aws.String("echo"), Payload: []byte(fmt.Sprintf(`{"n":%d}`, i))})
			if err != nil {
				errs[i] = err
				return
			}
			if out.FunctionError != nil {
				errs[i] = fmt.Errorf("function error %s", out.Payload)
			}
			results[i] = out.Payload
		}()
	}
	wg.Wait()
	pids := map[int]bool{}
	for i := range n {
		if errs[i] != nil {
			t.Errorf("invoke %d: %v", i, errs[i])
			continue
		}
		var r struct{ N, Pid int }
		if err := json.Unmarshal(results[i], &r); err != nil || r.N != i {
			t.Errorf("invoke %d returned %s", i, results[i])
		}
		pids[r.Pid] = true
	}
	t.Logf("%d invocations served by %d instances", n, len(pids))
}

// lockedBuffer is a log sink safe for concurrent writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestLogsAndEnvironment(t *testing.T) {
	var logs lockedBuffer
	h := start(t, emulator.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	h.create(t, "logger", testFunctionZip(t), func(in *awslambda.CreateFunctionInput) {
		in.Environment = &types.Environment{Variables: map[string]string{"AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME": "http://127.0.0.1:1"}}
	})
	out := h.invoke(t, "logger", map[string]any{"action": "log", "lines": []string{"hello from the function", "second line"}},
		func(in *awslambda.InvokeInput) { in.LogType = types.LogTypeTail })
	raw, err := base64.StdEncoding.DecodeString(aws.ToString(out.LogResult))
	if err != nil {
		t.Fatal(err)
	}
	log := string(raw)
	for _, want := range []string{"init: ready", "START RequestId: ", "hello from the function\nsecond line\n", "END RequestId: ", "REPORT RequestId: ", "Init Duration: "} {
		if !strings.Contains(log, want) {
			t.Errorf("log tail lacks %q:\n%s", want, log)
		}
	}
	// The emulator's log has each output line prefixed with the function
	// and request id.
	reqID := ""
	if i := strings.Index(log, "START RequestId: "); i >= 0 {
		reqID = strings.Fields(log[i+len("START RequestId: "):])[0]
	}
	if want := "[logger " + reqID + "] hello from the function"; reqID == "" || !strings.Contains(logs.String(), want) {
		t.Errorf("emulator log lacks %q:\n%s", want, logs.String())
	}
	keys := []string{"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME", "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
		"AWS_REGION", "AWS_ACCESS_KEY_ID", "TZ", "_HANDLER", "LAMBDA_TASK_ROOT"}
	out = h.invoke(t, "logger", map[string]any{"action": "env", "keys": keys}, nil)
	var env map[string]string
	json.Unmarshal(out.Payload, &env)
	want := map[string]string{"AWS_ENDPOINT_URL": h.srv.URL(), "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME": "http://127.0.0.1:1",
		"AWS_LAMBDA_FUNCTION_NAME": "logger", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128", "AWS_REGION": "us-east-1",
		"AWS_ACCESS_KEY_ID": "test", "TZ": ":UTC", "_HANDLER": "bootstrap"}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s=%q, want %q", k, env[k], v)
		}
	}
	if st, err := os.Stat(filepath.Join(env["LAMBDA_TASK_ROOT"], "bootstrap")); err != nil || st.Mode().Perm()&0o100 == 0 {
		t.Errorf("LAMBDA_TASK_ROOT %q has no executable bootstrap: %v", env["LAMBDA_TASK_ROOT"], err)
	}
}

func TestInvocationTypes(t *testing.T) {
	h := start(t, emulator.Options{}) // TimeScale 0: async retries at once
	ctx := context.Background()
	h.create(t, "async", testFunctionZip(t), nil)
	dry, err := h.client.Invoke(ctx, &awslambda.InvokeInput{FunctionName: aws.String("async"), InvocationType: types.InvocationTypeDryRun})
	if err != nil || dry.StatusCode != 204 {
		t.Errorf("DryRun: %v %v", err, dry)
	}
	file := filepath.Join(t.TempDir(), "attempts")
	payload, _ := json.Marshal(map[string]any{"action": "append", "file": file})
	ev, err := h.client.Invoke(ctx, &awslambda.InvokeInput{FunctionName: aws.String("async"), InvocationType: types.InvocationTypeEvent, Payload: payload})
	if err != nil || ev.StatusCode != 202 {
		t.Fatalf("Event: %v %v", err, ev)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		data, _ := os.ReadFile(file)
		if n := strings.Count(string(data), "attempt"); n == 3 {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("after 10 s the failing event ran %d times, want 3 (1 + 2 retries)", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	if data, _ := os.ReadFile(file); strings.Count(string(data), "attempt") != 3 {
		t.Errorf("more than 3 attempts: %q", data)
	}
	big := []byte(`{"pad":"` + strings.Repeat("x", 300*1024) + `"}`)
	if _, err := h.client.Invoke(ctx, &awslambda.InvokeInput{FunctionName: aws.String("async"), InvocationType: types.InvocationTypeEvent, Payload: big}); !isErr[*types.RequestTooLargeException](err) {
		t.Errorf("300 KB Event: %v, want RequestTooLargeException", err)
	}
	out := h.invoke(t, "async", map[string]any{"action": "big", "n": 7 * 1024 * 1024}, nil)
	if e := functionError(t, out); e.ErrorType != "Function.ResponseSizeTooLarge" {
		t.Errorf("7 MB response: %+v", e)
	}
}

func TestCloseStopsInstances(t *testing.T) {
	srv, err := emulator.Start(context.Background(), emulator.Options{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	svc := srv.Lambda
	ctx := context.Background()
	if _, err := svc.CreateFunction(ctx, lambda.CreateFunctionInput{FunctionName: "f", Runtime: "provided.al2023", Role: role,
		Code: lambda.FunctionCode{ZipFile: testFunctionZip(t)}}); err != nil {
		t.Fatal(err)
	}
	out, err := svc.Invoke(ctx, lambda.InvokeInput{FunctionName: "f", Payload: []byte(`{"n":1}`)})
	if err != nil || out.FunctionError != "" || out.StatusCode != 200 || out.ExecutedVersion != "$LATEST" {
		t.Fatalf("Invoke: %v %+v", err, out)
	}
	var r struct{ Pid int }
	json.Unmarshal(out.Payload, &r)
	if _, err := svc.Invoke(ctx, lambda.InvokeInput{FunctionName: "nope"}); lambda.ThrottleReason(err) != "" || !strings.Contains(fmt.Sprint(err), "ResourceNotFoundException") {
		t.Errorf("Invoke missing function: %v", err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if p, err := os.FindProcess(r.Pid); err == nil {
		if err := p.Signal(syscall.Signal(0)); err == nil {
			t.Errorf("process %d still runs after Close", r.Pid)
		}
	}
}

// TestPersistence keeps functions (and their code) in the store across an
// emulator restart with a data directory.
func TestPersistence(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	zip := testFunctionZip(t)
	for round := range 2 {
		srv, err := emulator.Start(ctx, emulator.Options{Addr: "127.0.0.1:0", DataDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		if round == 0 {
			if _, err := srv.Lambda.CreateFunction(ctx, lambda.CreateFunctionInput{FunctionName: "kept", Runtime: "provided.al2023", Role: role,
				Code: lambda.FunctionCode{ZipFile: zip}}); err != nil {
				t.Fatal(err)
			}
		}
		out, err := srv.Lambda.Invoke(ctx, lambda.InvokeInput{FunctionName: "kept", Payload: []byte(`{"n":5}`)})
		if err != nil || out.FunctionError != "" || !strings.Contains(string(out.Payload), `"n":5`) {
			t.Errorf("round %d: %v %+v", round, err, out)
		}
		if err := srv.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestUploadPersistence creates a function over HTTP with a data
// directory: the uploaded zip (cut out of the request body and hashed as
// it is read) is what CodeSha256, CodeSize, Code.Location and, after a
// restart, the running function show.
func TestUploadPersistence(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	zip := testFunctionZip(t)
	sum := sha256.Sum256(zip)
	for round := range 2 {
		srv, err := emulator.Start(ctx, emulator.Options{Addr: "127.0.0.1:0", DataDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		h := &harness{srv: srv, client: awslambda.NewFromConfig(aws.Config{Region: "us-east-1",
			Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""), BaseEndpoint: aws.String(srv.URL())})}
		if round == 0 {
			created := h.create(t, "uploaded", zip, nil)
			if got := aws.ToString(created.CodeSha256); got != base64.StdEncoding.EncodeToString(sum[:]) || created.CodeSize != int64(len(zip)) {
				t.Errorf("CodeSha256 %s, CodeSize %d; want the zip's", got, created.CodeSize)
			}
		}
		got, err := h.client.GetFunction(ctx, &awslambda.GetFunctionInput{FunctionName: aws.String("uploaded")})
		if err != nil {
			t.Fatalf("round %d: GetFunction: %v", round, err)
		}
		resp, err := http.Get(aws.ToString(got.Code.Location))
		if err != nil {
			t.Fatalf("round %d: GET Code.Location: %v", round, err)
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !bytes.Equal(data, zip) {
			t.Errorf("round %d: Code.Location served %d bytes that are not the uploaded zip", round, len(data))
		}
		if out := h.invoke(t, "uploaded", map[string]int{"n": 7}, nil); out.FunctionError != nil || !strings.Contains(string(out.Payload), `"n":7`) {
			t.Errorf("round %d: invoke: %s", round, out.Payload)
		}
		if err := srv.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestInvokeContextCancelled: a caller that gives up gets its context's
// error; the invocation runs on and then frees its concurrency slot.
func TestInvokeContextCancelled(t *testing.T) {
	h := start(t, emulator.Options{})
	svc := h.srv.Lambda
	ctx := context.Background()
	if _, err := svc.CreateFunction(ctx, lambda.CreateFunctionInput{FunctionName: "slow", Runtime: "provided.al2023", Role: role,
		Code: lambda.FunctionCode{ZipFile: testFunctionZip(t)}}); err != nil {
		t.Fatal(err)
	}
	if err := svc.PutFunctionConcurrency(ctx, "slow", 1); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if _, err := svc.Invoke(short, lambda.InvokeInput{FunctionName: "slow", Payload: []byte(`{"action":"sleep","ms":1000}`)}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Invoke with a short context: %v", err)
	}
	if _, err := svc.Invoke(ctx, lambda.InvokeInput{FunctionName: "slow"}); lambda.ThrottleReason(err) != lambda.ReasonReserved {
		t.Errorf("while the abandoned invocation runs: %v, want a throttle", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, err := svc.Invoke(ctx, lambda.InvokeInput{FunctionName: "slow", Payload: []byte(`{"n":2}`)})
		if err == nil {
			if out.FunctionError != "" || !strings.Contains(string(out.Payload), `"n":2`) {
				t.Errorf("after the abandoned invocation: %+v", out)
			}
			break
		}
		if lambda.ThrottleReason(err) == "" || time.Now().After(deadline) {
			t.Fatalf("the slot was not freed: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A CreateFunction whose code comes from S3 may carry other members named
// ZipFile, an environment variable or a tag, whose values must arrive as
// sent and must not be taken for the code (the body's ZipFile fast path).
func TestZipFileNamedElsewhere(t *testing.T) {
	h := start(t, emulator.Options{})
	ctx := context.Background()
	if err := h.srv.S3.CreateBucket(ctx, "code"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.srv.S3.PutObject(ctx, "code", "fn.zip", testFunctionZip(t), "application/zip"); err != nil {
		t.Fatal(err)
	}
	s3Code := &types.FunctionCode{S3Bucket: aws.String("code"), S3Key: aws.String("fn.zip")}
	// Each alone (a member named ZipFile after the first is already
	// refused by the fast path), and both.
	for i, c := range []struct {
		env, tags map[string]string
	}{
		{env: map[string]string{"ZipFile": "QUJD"}},
		{tags: map[string]string{"ZipFile": "REVG"}},
		{env: map[string]string{"ZipFile": "QUJD"}, tags: map[string]string{"ZipFile": "REVG"}},
	} {
		name := fmt.Sprintf("named%d", i)
		created := h.create(t, name, nil, func(in *awslambda.CreateFunctionInput) {
			in.Code = s3Code
			if c.env != nil {
				in.Environment = &types.Environment{Variables: c.env}
			}
			in.Tags = c.tags
		})
		if c.env != nil {
			if got := created.Environment.Variables["ZipFile"]; got != "QUJD" {
				t.Errorf("%s: environment variable ZipFile = %q, want QUJD", name, got)
			}
			out := h.invoke(t, name, map[string]any{"action": "env", "keys": []string{"ZipFile"}}, nil)
			if !strings.Contains(string(out.Payload), `"ZipFile":"QUJD"`) {
				t.Errorf("%s: the function sees %s, want ZipFile=QUJD", name, out.Payload)
			}
		}
		if c.tags != nil {
			tags, err := h.client.ListTags(ctx, &awslambda.ListTagsInput{Resource: created.FunctionArn})
			if err != nil {
				t.Fatal(err)
			}
			if got := tags.Tags["ZipFile"]; got != "REVG" {
				t.Errorf("%s: tag ZipFile = %q, want REVG", name, got)
			}
		}
	}
}
