package profile_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scones/scones/emulator"
	"github.com/scones/scones/profile"
)

func TestResolveDefaults(t *testing.T) {
	p, err := profile.Resolve(profile.Options{ConfigPath: ""})
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != profile.Local || p.Region != "us-east-1" || p.Threshold != 0.93 || p.BucketName("000000000000") != "scones" {
		t.Fatalf("defaults = %+v", p)
	}
	aws, err := profile.Resolve(profile.Options{Profile: "aws", Region: "eu-west-1"})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.BucketName("123456789012"); got != "sagemaker-eu-west-1-123456789012" {
		t.Errorf("aws bucket = %s", got)
	}
	if len(aws.Endpoints) != 0 {
		t.Errorf("aws profile has endpoints %v", aws.Endpoints)
	}
	ls, err := profile.Resolve(profile.Options{Profile: "localstack"})
	if err != nil {
		t.Fatal(err)
	}
	if ls.Endpoints[profile.S3] != profile.DefaultLocalStackEndpoint || ls.Endpoints[profile.SageMakerRuntime] != profile.DefaultStubEndpoint {
		t.Errorf("localstack endpoints = %v", ls.Endpoints)
	}
}

func TestResolveErrors(t *testing.T) {
	_, err := profile.Resolve(profile.Options{Profile: "prod"})
	if !errors.Is(err, profile.ErrUnknownProfile) || !strings.Contains(err.Error(), "local, localstack or aws") {
		t.Errorf("unknown profile: %v", err)
	}
	_, err = profile.Resolve(profile.Options{Profile: "aws", Endpoint: "http://127.0.0.1:4566"})
	if err == nil || !strings.Contains(err.Error(), "--endpoint cannot be used with the aws profile") {
		t.Errorf("aws + endpoint: %v", err)
	}
	_, err = profile.Resolve(profile.Options{Endpoint: "127.0.0.1:4566"})
	if err == nil || !strings.Contains(err.Error(), "want a URL") {
		t.Errorf("endpoint without scheme: %v", err)
	}
	_, err = profile.Resolve(profile.Options{ConfigPath: filepath.Join(t.TempDir(), "missing.yaml")})
	if err == nil || !strings.Contains(err.Error(), "config file") {
		t.Errorf("missing explicit config: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "scones.yaml")
	os.WriteFile(bad, []byte("profiles:\n  local:\n    regoin: eu-west-1\n"), 0o644)
	_, err = profile.Resolve(profile.Options{ConfigPath: bad})
	if err == nil || !strings.Contains(err.Error(), "regoin") {
		t.Errorf("misspelt key: %v", err)
	}
	os.WriteFile(bad, []byte("profiles:\n  local:\n    endpoints:\n      dynamodb: http://x\n"), 0o644)
	_, err = profile.Resolve(profile.Options{ConfigPath: bad})
	if err == nil || !strings.Contains(err.Error(), `unknown service "dynamodb"`) {
		t.Errorf("unknown service key: %v", err)
	}
	for body, want := range map[string]string{
		"profiles:\n  local:\n    function_endpoints:\n      sagemaker_runtim: http://x\n":        `function_endpoints: unknown service "sagemaker_runtim"`,
		"profiles:\n  local:\n    function_endpoints:\n      sagemaker_runtime: stub:8080\n":      `want a URL such as http://stub-endpoint:8080`,
		"profiles:\n  aws:\n    function_endpoints:\n      sagemaker_runtime: http://stub:8080\n": `profile aws cannot set function_endpoints`,
	} {
		os.WriteFile(bad, []byte(body), 0o644)
		name := "local"
		if strings.Contains(body, "aws:") {
			name = "aws"
		}
		_, err = profile.Resolve(profile.Options{Profile: name, ConfigPath: bad})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", body, err, want)
		}
	}
}

func TestConfigFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "scones.yaml")
	os.WriteFile(path, []byte(`
profiles:
  localstack:
    endpoint: http://127.0.0.1:4999
    endpoints:
      sagemaker_runtime: http://127.0.0.1:8088
    function_endpoints:
      sagemaker_runtime: http://stub-endpoint:8080
    bucket: my-bucket
    threshold: 0.8
names:
  endpoint: my-endpoint
`), 0o644)
	p, err := profile.Resolve(profile.Options{Profile: "localstack", ConfigPath: path})
	if err != nil {
		t.Fatal(err)
	}
	if p.Endpoints[profile.S3] != "http://127.0.0.1:4999" || p.Endpoints[profile.SageMakerRuntime] != "http://127.0.0.1:8088" {
		t.Errorf("endpoints = %v", p.Endpoints)
	}
	if env := p.FunctionEnv(); len(env) != 1 || env["AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME"] != "http://stub-endpoint:8080" {
		t.Errorf("function env = %v", env)
	}
	if p.BucketName("x") != "my-bucket" || p.Threshold != 0.8 || p.Names.Endpoint != "my-endpoint" || p.Names.Model != profile.DefaultNames().Model {
		t.Errorf("profile = %+v", p)
	}
}

// Without function_endpoints, the localstack profile's functions reach
// SageMaker Runtime where the CLI does (the stub), not at the
// LocalStack-compatible endpoint that runs them; the other profiles set
// nothing.
func TestFunctionEndpointDefault(t *testing.T) {
	path := filepath.Join(t.TempDir(), "scones.yaml")
	os.WriteFile(path, []byte("profiles:\n  localstack:\n    endpoints:\n      sagemaker_runtime: http://127.0.0.1:8088\n"), 0o644)
	for _, tc := range []struct {
		name, config, want string
	}{
		{"localstack", "", profile.DefaultStubEndpoint},
		{"localstack", path, "http://127.0.0.1:8088"},
		{"local", "", ""},
		{"aws", "", ""},
	} {
		p, err := profile.Resolve(profile.Options{Profile: tc.name, ConfigPath: tc.config})
		if err != nil {
			t.Fatal(err)
		}
		if got := p.FunctionEnv()["AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME"]; got != tc.want || (tc.want == "" && len(p.FunctionEnv()) != 0) {
			t.Errorf("%s %s: function env %v, want sagemaker_runtime %q", tc.name, tc.config, p.FunctionEnv(), tc.want)
		}
	}
}

func TestClientsAgainstEmulator(t *testing.T) {
	srv, err := emulator.Start(context.Background(), emulator.Options{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	p, err := profile.Resolve(profile.Options{Endpoint: srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	c, err := p.Clients(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	account, arn, err := c.Account(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if account != "000000000000" || !strings.HasSuffix(arn, ":root") {
		t.Errorf("account = %s %s", account, arn)
	}
}

func TestLocalWithoutEndpointRefuses(t *testing.T) {
	p, err := profile.Resolve(profile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Clients(context.Background())
	if err == nil || !strings.Contains(err.Error(), "no endpoint") {
		t.Fatalf("local profile without endpoint: %v (must never fall back to AWS)", err)
	}
}
