package integration

// TestLocalStack runs the peer cross-check of moto_test.go (stage, the
// wire probes against the emulator, and deploy/destroy where the image
// serves Lambda and SageMaker) against LocalStack, started by
// testcontainers-go from an image that must already be present locally:
// the test never pulls. Without Docker, or without the image, it skips
// and says how to enable it.
//
// The container is started with testcontainers-go's generic Run (exposed
// 4566/tcp, then GET /_localstack/health until it answers), which is what
// the modules/localstack module does: that module is a separate Go module,
// not in go.mod, and this suite needs nothing else from it. The health
// check tries 127.0.0.1 besides testcontainers' Host, which is wrong when
// the tests run in the container that also runs the Docker daemon.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/testcontainers/testcontainers-go"

	"github.com/scones/scones/emulator"
)

// LocalStackImage is the pinned LocalStack image; SCONES_LOCALSTACK_IMAGE
// overrides it.
const LocalStackImage = "localstack/localstack:4.14"

func init() {
	// The Ryuk reaper image cannot be pulled without a registry; the test
	// removes its container itself (testcontainers.CleanupContainer).
	if os.Getenv("TESTCONTAINERS_RYUK_DISABLED") == "" {
		os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	}
}

func localStackHowTo(image string) string {
	return fmt.Sprintf(`to run it, on a machine with registry access:
    docker pull %[1]s && docker save %[1]s | gzip > localstack.tar.gz
then here:
    docker load < localstack.tar.gz
    export LOCALSTACK_AUTH_TOKEN=...   # current LocalStack images need an account token to start;
                                       # Lambda needs a paid tier and SageMaker the Ultimate tier
    go test -count=1 -run LocalStack -v ./integration/
(SCONES_LOCALSTACK_IMAGE=<image> picks another image; the suite runs the parts /_localstack/health reports available)`, image)
}

func TestLocalStack(t *testing.T) {
	testcontainers.SkipIfProviderIsNotHealthy(t)
	image := LocalStackImage
	if v := os.Getenv("SCONES_LOCALSTACK_IMAGE"); v != "" {
		image = v
	}
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()

	// Look for the image first: testcontainers would otherwise try to pull
	// it, which fails slowly where no registry is reachable.
	provider, err := testcontainers.NewDockerProvider()
	if err != nil {
		t.Skipf("LocalStack cross-check skipped: no Docker provider (%v)", err)
	}
	_, inspectErr := provider.Client().ImageInspect(ctx, image)
	provider.Close()
	if inspectErr != nil {
		t.Skipf("LocalStack cross-check skipped: image %s is not present locally (%v) and this test never pulls;\n%s", image, inspectErr, localStackHowTo(image))
	}

	env := map[string]string{"SERVICES": "s3,sts,iam,lambda,stepfunctions,sagemaker"}
	if tok := os.Getenv("LOCALSTACK_AUTH_TOKEN"); tok != "" {
		env["LOCALSTACK_AUTH_TOKEN"] = tok
	} else {
		t.Log("LOCALSTACK_AUTH_TOKEN is not set: current LocalStack images may refuse to start without it")
	}
	ctr, err := testcontainers.Run(ctx, image,
		testcontainers.WithExposedPorts("4566/tcp"),
		testcontainers.WithEnv(env),
	)
	testcontainers.CleanupContainer(t, ctr)
	if err != nil {
		t.Fatalf("starting %s: %v", image, err)
	}
	url, health, err := reachContainerHealth(ctx, ctr, "4566/tcp", "/_localstack/health", 3*time.Minute)
	if err != nil {
		t.Fatalf("%s: %v (an auth-token problem shows in the container log: docker logs %s)", image, err, ctr.GetContainerID())
	}
	var h struct {
		Services map[string]string `json:"services"`
	}
	if err := json.Unmarshal(health, &h); err != nil {
		t.Fatalf("/_localstack/health: %v: %s", err, health)
	}
	services := h.Services
	t.Logf("LocalStack %s at %s: %v", image, url, services)
	for _, s := range []string{"s3", "sts", "iam", "stepfunctions"} {
		if !localStackServiceUp(services[s]) {
			t.Fatalf("LocalStack reports %s %q: the suite needs S3, STS, IAM and Step Functions", s, services[s])
		}
	}
	p := &peerTarget{name: "localstack", url: url, sageMaker: localStackServiceUp(services["sagemaker"]), lambda: localStackServiceUp(services["lambda"])}

	srv, err := emulator.Start(ctx, emulator.Options{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	penv := peerEnv(t, ctx, url)
	emu := peerEnv(t, ctx, srv.URL())

	t.Run("probes", func(t *testing.T) {
		po := probePeer(t, ctx, penv, p.sageMaker, p.lambda)
		eo := probePeer(t, ctx, emu, p.sageMaker, p.lambda)
		checkPeerContract(t, "localstack", po)
		checkPeerContract(t, "emulator", eo)
		compareProbes(t, "localstack", po, eo, nil)
	})
	staged := t.Run("stage", func(t *testing.T) { stageSuite(t, ctx, p, penv, emu) })
	t.Run("deploy", func(t *testing.T) {
		switch {
		case !staged:
			t.Skip("stage failed: deploy trains on the staged data")
		case !p.lambda || !p.sageMaker:
			t.Skipf("deploy needs Lambda and SageMaker on LocalStack (health: lambda %q, sagemaker %q); %s", services["lambda"], services["sagemaker"], "set LOCALSTACK_AUTH_TOKEN for a tier that has them")
		}
		deploySuite(t, ctx, p, penv)
	})
}

// reachContainerHealth waits until GET path answers 200 on the host port mapped to
// port, and returns the base URL that answered and the body. It tries
// 127.0.0.1 as well as testcontainers' Host: when the tests run inside a
// container, Host answers the default gateway, which is wrong when the
// Docker daemon runs in that same container (as on the scones machines;
// see sconescontainer.reach). It gives up when the container exits.
func reachContainerHealth(ctx context.Context, ctr *testcontainers.DockerContainer, port, path string, timeout time.Duration) (string, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	hc := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	var last error
	for {
		if st, err := ctr.State(ctx); err == nil && !st.Running && (st.Status == "exited" || st.Status == "dead") {
			return "", nil, fmt.Errorf("the container exited with code %d before %s answered", st.ExitCode, path)
		}
		hosts := []string{"127.0.0.1"}
		if h, err := ctr.Host(ctx); err == nil && h != "" && h != "127.0.0.1" && h != "localhost" {
			hosts = append(hosts, h)
		}
		if p, err := ctr.MappedPort(ctx, port); err == nil && !p.IsZero() {
			for _, h := range hosts {
				base := "http://" + net.JoinHostPort(h, strconv.Itoa(int(p.Num())))
				resp, err := hc.Get(base + path)
				if err != nil {
					last = err
					continue
				}
				body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
				resp.Body.Close()
				if err == nil && resp.StatusCode == http.StatusOK {
					return base, body, nil
				}
				last = fmt.Errorf("GET %s%s: %s", base, path, resp.Status)
			}
		}
		select {
		case <-ctx.Done():
			return "", nil, fmt.Errorf("%s did not answer within %s (last: %v)", path, timeout, last)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func localStackServiceUp(state string) bool { return state == "available" || state == "running" }
