package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/testcontainers/testcontainers-go"
)

func TestStubAddr(t *testing.T) {
	for u, want := range map[string]string{
		"http://localhost:8080":     "127.0.0.1:8080",
		"http://127.0.0.1:9000/":    "127.0.0.1:9000",
		"http://[::1]:8080":         "[::1]:8080",
		"http://stub-endpoint:8080": "error: not on this machine",
		"http://10.0.0.5:8080":      "error: not on this machine",
		"https://localhost:8080":    "error: plain http",
		"http://localhost":          "error: plain http",
	} {
		got, err := stubAddr(u)
		if err != nil {
			got = "error: " + err.Error()
		}
		if w, isErr := strings.CutPrefix(want, "error: "); isErr && !strings.Contains(got, w) || !isErr && got != want {
			t.Errorf("stubAddr(%q) = %q, want %q", u, got, want)
		}
	}
}

// `scones stub` starts the stub SageMaker container for the localstack
// profile, which train, deploy, run and destroy ask for until it answers; a
// second start leaves it alone, one with another configuration replaces
// it, and --stop removes it. The whole pipeline through it is
// integration/TestPipelineInContainer's (there with testcontainers-go).
func TestStubCommand(t *testing.T) {
	if os.Getenv("TESTCONTAINERS_RYUK_DISABLED") == "" {
		os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	}
	testcontainers.SkipIfProviderIsNotHealthy(t)
	if testing.Short() {
		t.Skip("-short: builds the stub image and runs a container")
	}
	srv := startEmulator(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sm := "http://" + ln.Addr().String()
	ln.Close()
	config := filepath.Join(t.TempDir(), "scones.yaml")
	os.WriteFile(config, fmt.Appendf(nil, "profiles:\n  localstack:\n    endpoints:\n      sagemaker: %s\n      sagemaker_runtime: %s\n", sm, sm), 0o644)
	name := fmt.Sprintf("scones-sagemaker-test-%d", os.Getpid())
	cli := func(args ...string) (string, error) {
		return run(t, append([]string{"--profile", "localstack", "--config", config, "--endpoint", srv.URL()}, args...)...)
	}

	for _, cmd := range []string{"train", "deploy", "run", "destroy"} {
		if _, err := cli(cmd, "--yes"); err == nil || !strings.Contains(err.Error(), "start it with `scones --profile localstack stub`") {
			t.Fatalf("%s with no stub: %v, want the hint to start it", cmd, err)
		}
	}
	out, err := cli("stub", "--container", name)
	t.Cleanup(func() { cli("stub", "--stop", "--container", name) })
	if err != nil || !strings.Contains(out, "started: SageMaker at "+sm) || strings.Contains(out, "nothing answers") {
		t.Fatalf("stub: %v\n%s", err, out)
	}
	c := sagemaker.New(sagemaker.Options{Region: "us-east-1", BaseEndpoint: aws.String(sm),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	if _, err := c.ListEndpoints(context.Background(), &sagemaker.ListEndpointsInput{}); err != nil {
		t.Fatalf("ListEndpoints at the stub: %v", err)
	}
	if out, err := cli("stub", "--container", name); err != nil || !strings.Contains(out, "already running") {
		t.Fatalf("second stub: %v\n%s", err, out)
	}
	// Asked for another configuration, it replaces the container; asked
	// again, it leaves it.
	dataDir := t.TempDir()
	for _, want := range []string{"started", "already running"} {
		if out, err := cli("stub", "--container", name, "--data-dir", dataDir); err != nil || !strings.Contains(out, want+": SageMaker at "+sm) {
			t.Fatalf("stub --data-dir: %v\n%s\nwant %q", err, out, want)
		}
	}
	if _, err := c.ListEndpoints(context.Background(), &sagemaker.ListEndpointsInput{}); err != nil {
		t.Fatalf("ListEndpoints at the replaced stub: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "state.db")); err != nil {
		t.Errorf("the stub keeps no state in --data-dir: %v", err)
	}
	if out, err := cli("stub", "--stop", "--container", name); err != nil || !strings.Contains(out, "removed the "+name) {
		t.Fatalf("stub --stop: %v\n%s", err, out)
	}
	if resp, err := http.Get(sm + "/ping"); err == nil {
		resp.Body.Close()
		t.Fatalf("the stub still answers after --stop: %d", resp.StatusCode)
	}
	if out, err := cli("stub", "--stop", "--container", name); err != nil || !strings.Contains(out, "no "+name+" container was there") {
		t.Fatalf("second stub --stop: %v\n%s", err, out)
	}
}
