package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/scones/scones/emulator"
)

// run runs the CLI in-process and returns its output and error.
func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	app := newApp()
	app.Writer, app.ErrWriter = &out, &out
	app.Reader = strings.NewReader("")
	err := app.RunContext(context.Background(), append([]string{"scones"}, args...))
	return out.String(), err
}

func startEmulator(t *testing.T) *emulator.Server {
	t.Helper()
	srv, err := emulator.Start(context.Background(), emulator.Options{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// Bad input gets a one-line error that says what to do.
func TestBadInputErrors(t *testing.T) {
	srv := startEmulator(t)
	client := s3.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")},
		func(o *s3.Options) { o.BaseEndpoint = aws.String(srv.URL()); o.UsePathStyle = true })
	ctx := context.Background()
	client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("empty")})
	client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("empty"), Key: aws.String("test.lst"), Body: strings.NewReader("")})
	badConfig := filepath.Join(t.TempDir(), "scones.yaml")
	os.WriteFile(badConfig, []byte("profiles:\n  local:\n    regoin: eu-west-1\n"), 0o644)
	splitStub := filepath.Join(t.TempDir(), "scones.yaml")
	os.WriteFile(splitStub, []byte("profiles:\n  localstack:\n    endpoints:\n      sagemaker: http://localhost:8081\n"), 0o644)
	remoteStub := filepath.Join(t.TempDir(), "scones.yaml")
	os.WriteFile(remoteStub, []byte("profiles:\n  localstack:\n    endpoints:\n      sagemaker: http://stub-endpoint:8080\n      sagemaker_runtime: http://stub-endpoint:8080\n"), 0o644)

	cases := []struct {
		name string
		args []string
		want string
	}{
		{"unknown profile", []string{"--profile", "prod", "run"}, `unknown profile "prod": choose local, localstack or aws`},
		{"misspelt config key", []string{"--config", badConfig, "--endpoint", srv.URL(), "run"}, "field regoin not found"},
		{"missing config file", []string{"--config", "/nonexistent/scones.yaml", "run"}, "config file: open /nonexistent/scones.yaml"},
		{"unreachable endpoint", []string{"--endpoint", "http://127.0.0.1:1", "run"}, "cannot reach the local endpoint http://127.0.0.1:1 (is it running?)"},
		{"bucket does not exist (stage)", []string{"--endpoint", srv.URL(), "--bucket", "nope", "stage", "--source", "/dev/null"}, "bucket nope does not exist: create it"},
		{"bucket does not exist (run)", []string{"--endpoint", srv.URL(), "--bucket", "nope", "run"}, "reading s3://nope/test.lst (has the data been staged? run `scones stage`)"},
		{"no test images", []string{"--endpoint", srv.URL(), "--bucket", "empty", "run"}, "s3://empty/test.lst has no entries: no test images to run on"},
		{"bad count", []string{"--endpoint", srv.URL(), "--bucket", "empty", "run", "--count", "0"}, "--count 0: want at least 1"},
		{"endpoint with aws", []string{"--profile", "aws", "--endpoint", srv.URL(), "run"}, "--endpoint cannot be used with the aws profile"},
		{"bad since", []string{"monitor", "--source", t.TempDir(), "--since", "yesterday"}, "yesterday"},
		{"stub outside localstack", []string{"stub"}, "the stub serves SageMaker for the localstack profile (--profile localstack); the local profile has its own"},
		{"stub listen on another port", []string{"--profile", "localstack", "stub", "--listen", "0.0.0.0:9999"}, `--listen "0.0.0.0:9999": want HOST:PORT on the sagemaker endpoint's port`},
		{"stub for a remote endpoint", []string{"--profile", "localstack", "--config", remoteStub, "stub"}, "is not on this machine"},
		{"stub for two addresses", []string{"--profile", "localstack", "--config", splitStub, "stub"}, "the stub serves SageMaker and SageMaker Runtime at one address, but the profile has sagemaker http://localhost:8081 and sagemaker_runtime http://localhost:8080"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := run(t, c.args...)
			if err == nil {
				t.Fatalf("no error, want one containing %q", c.want)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error = %v\nwant it to contain %q", err, c.want)
			}
			if line := oneLine(err); strings.Contains(line, "\n") || len(line) > 400 {
				t.Errorf("not a one-line error: %q", line)
			}
		})
	}
}

func TestVersionAndHelp(t *testing.T) {
	out, err := run(t, "version")
	if err != nil || !strings.HasPrefix(out, "scones ") {
		t.Fatalf("version: %q %v", out, err)
	}
	for _, cmd := range []string{"demo", "stage", "train", "deploy", "run", "monitor", "destroy", "emulator", "package", "version"} {
		out, err := run(t, cmd, "--help")
		if err != nil || !strings.Contains(out, "USAGE") {
			t.Errorf("%s --help: %v\n%s", cmd, err, out)
		}
	}
}

// destroy with nothing deployed says so and changes nothing.
func TestDestroyNothing(t *testing.T) {
	srv := startEmulator(t)
	out, err := run(t, "--endpoint", srv.URL(), "destroy", "--yes")
	if err != nil || !strings.Contains(out, "nothing to remove") {
		t.Fatalf("destroy: %q %v", out, err)
	}
}
