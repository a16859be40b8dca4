package sconescontainer_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"

	"github.com/scones/scones/emulator/faults"
	"github.com/scones/scones/lambdapkg"
	"github.com/scones/scones/sconescontainer"
)

func TestMain(m *testing.M) {
	// Ryuk's image cannot be pulled where no registry is reachable, and
	// testcontainers-go reads this once, before its first call.
	if os.Getenv("TESTCONTAINERS_RYUK_DISABLED") == "" {
		os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	}
	os.Exit(m.Run())
}

// logWriter sends build output to the test log, line by line.
type logWriter struct{ t *testing.T }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	for line := range strings.SplitSeq(strings.TrimRight(string(p), "\n"), "\n") {
		if strings.TrimSpace(line) != "" {
			w.t.Log(line)
		}
	}
	return len(p), nil
}

// TestEmulatorContainer builds the image (a no-op when it is up to date)
// and runs the emulator in containers.
func TestEmulatorContainer(t *testing.T) {
	testcontainers.SkipIfProviderIsNotHealthy(t)
	if testing.Short() {
		t.Skip("-short: builds the emulator image and runs containers")
	}
	ctx := t.Context()
	start := time.Now()
	img, err := sconescontainer.BuildImage(ctx, "", sconescontainer.WithBuildLog(logWriter{t}))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("BuildImage: %s in %v", img, time.Since(start).Round(time.Millisecond))

	t.Run("AWS", func(t *testing.T) { testAWS(t, img) })
	t.Run("Restart", func(t *testing.T) { testRestart(t, img) })
	t.Run("Faults", func(t *testing.T) { testFaults(t, img) })
	t.Run("Lambda", func(t *testing.T) { testLambda(t, img) })
	t.Run("SageMaker", func(t *testing.T) { testSageMaker(t, img) })
	t.Run("VerifySignatures", func(t *testing.T) {
		ctr := run(t, img, sconescontainer.WithVerifySignatures(map[string]string{"AKIDSCONES": "s3cret"}), sconescontainer.WithRegion("eu-west-1"))
		for _, c := range []struct {
			creds []string
			ok    bool
		}{{[]string{"AKIDSCONES", "s3cret"}, true}, {[]string{"AKIDSCONES", "wrong"}, false}, {nil, false}} {
			cfg, err := ctr.AWSConfig(ctx, c.creds...)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Region != "eu-west-1" {
				t.Errorf("region %q, want eu-west-1 (WithRegion)", cfg.Region)
			}
			_, err = sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			if (err == nil) != c.ok {
				t.Errorf("credentials %v: GetCallerIdentity error %v, want success %v", c.creds, err, c.ok)
			}
		}
	})
	t.Run("ExitFailsFast", func(t *testing.T) {
		start := time.Now()
		ctr, err := sconescontainer.Run(ctx, img, testcontainers.WithCmdArgs("--no-such-flag"))
		testcontainers.CleanupContainer(t, ctr)
		if err == nil || !strings.Contains(err.Error(), "exited with code") {
			t.Fatalf("Run with a bad flag: %v, want the emulator's exit", err)
		}
		if d := time.Since(start); d > 20*time.Second {
			t.Errorf("Run with a bad flag took %v, want a prompt failure", d)
		}
		t.Logf("bad flag: %v after %v", err, time.Since(start).Round(time.Millisecond))
	})
	t.Run("Cached", func(t *testing.T) {
		start := time.Now()
		again, err := sconescontainer.BuildImage(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		if again != img {
			t.Errorf("second BuildImage gave %s, want %s", again, img)
		}
		t.Logf("warm BuildImage: %v", time.Since(start).Round(time.Millisecond))
	})
}

func run(t *testing.T, img string, opts ...testcontainers.ContainerCustomizer) *sconescontainer.Container {
	t.Helper()
	start := time.Now()
	ctr, err := sconescontainer.Run(t.Context(), img, opts...)
	testcontainers.CleanupContainer(t, ctr)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Run: healthy in %v", time.Since(start).Round(time.Millisecond))
	return ctr
}

func s3Client(t *testing.T, ctr *sconescontainer.Container) *s3.Client {
	t.Helper()
	cfg, err := ctr.AWSConfig(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
}

func testAWS(t *testing.T, img string) {
	ctx := t.Context()
	ctr := run(t, img, sconescontainer.WithTimeScale(0))

	ep, err := ctr.BaseEndpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(ep, "http://127.0.0.1:") {
		t.Errorf("BaseEndpoint %q, want http://127.0.0.1:<port>", ep)
	}

	// The health answer, read raw.
	resp, err := http.Get(ep + sconescontainer.HealthPath)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("GET %s: %s %q %s", sconescontainer.HealthPath, resp.Status, resp.Header.Get("Content-Type"), body)
	}
	var h sconescontainer.Health
	if err := json.Unmarshal(body, &h); err != nil {
		t.Fatalf("health JSON %s: %v", body, err)
	}
	if h.Status != "running" || h.Region != "us-east-1" || h.Account != "000000000000" {
		t.Errorf("health %+v", h)
	}
	for _, svc := range []string{"s3", "sts", "iam", "lambda", "sagemaker"} {
		if h.Services[svc] != "running" {
			t.Errorf("health: service %s is %q (%s)", svc, h.Services[svc], body)
		}
	}

	// The classifier SageMaker runs is in the image, where the emulator
	// looks for it (SCONES_CLASSIFIER_PATH). scratch has no shell, so exec
	// it directly.
	code, out, err := ctr.Exec(ctx, []string{"/usr/local/bin/image-classifier"})
	if err != nil {
		t.Fatal(err)
	}
	usage, _ := io.ReadAll(out)
	if !strings.Contains(string(usage), "train|serve") {
		t.Errorf("exec image-classifier: exit %d, output %q", code, usage)
	}

	// S3: bucket, put, get, same bytes.
	s3c := s3Client(t, ctr)
	bucket := "scones-container-test"
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 3<<20+17)
	rand.Read(data)
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("dir/blob.bin"), Body: bytes.NewReader(data)}); err != nil {
		t.Fatal(err)
	}
	got, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("dir/blob.bin")})
	if err != nil {
		t.Fatal(err)
	}
	back, err := io.ReadAll(got.Body)
	got.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back, data) {
		t.Errorf("GetObject gave %d bytes, not the %d put", len(back), len(data))
	}

	// STS and IAM.
	cfg, err := ctr.AWSConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(id.Account) != "000000000000" {
		t.Errorf("GetCallerIdentity account %q, want 000000000000 (arn %s)", aws.ToString(id.Account), aws.ToString(id.Arn))
	}
	iamc := iam.NewFromConfig(cfg)
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	if _, err := iamc.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("container-test"), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
		t.Fatal(err)
	}
	role, err := iamc.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("container-test")})
	if err != nil {
		t.Fatal(err)
	}
	if want := "arn:aws:iam::000000000000:role/container-test"; aws.ToString(role.Role.Arn) != want {
		t.Errorf("role ARN %q, want %q", aws.ToString(role.Role.Arn), want)
	}
}

// testRestart keeps state in a volume: across a stop and start of one
// container, and into a new container using the same volume.
func testRestart(t *testing.T, img string) {
	ctx := t.Context()
	vol := fmt.Sprintf("scones-emulator-test-%d", time.Now().UnixNano())
	// Registered first, so it runs after the containers are gone, and
	// also when a Run fails before the volume could be handed to a
	// Terminate.
	t.Cleanup(func() {
		p, err := testcontainers.NewDockerProvider()
		if err != nil {
			t.Error(err)
			return
		}
		defer p.Close()
		_, err = p.Client().VolumeRemove(context.WithoutCancel(t.Context()), vol, client.VolumeRemoveOptions{Force: true})
		if err != nil && !cerrdefs.IsNotFound(err) {
			t.Errorf("remove volume %s: %v", vol, err)
		}
	})
	ctr := run(t, img, sconescontainer.WithDataVolume(vol), sconescontainer.WithSync())
	s3c := s3Client(t, ctr)
	bucket, key, data := "kept", "state.txt", []byte("written before the restart\n")
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(data)}); err != nil {
		t.Fatal(err)
	}
	readBack := func(c *sconescontainer.Container, when string) {
		t.Helper()
		out, err := s3Client(t, c).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			t.Fatalf("%s: %v", when, err)
		}
		defer out.Body.Close()
		got, _ := io.ReadAll(out.Body)
		if !bytes.Equal(got, data) {
			t.Errorf("%s: read %q, want %q", when, got, data)
		}
	}

	timeout := 10 * time.Second
	if err := ctr.Stop(ctx, &timeout); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := ctr.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("restart: healthy again in %v", time.Since(start).Round(time.Millisecond))
	readBack(ctr, "after stop and start")

	if err := ctr.Terminate(ctx); err != nil {
		t.Fatal(err)
	}
	next, err := sconescontainer.Run(ctx, img, sconescontainer.WithDataVolume(vol))
	testcontainers.CleanupContainer(t, next)
	if err != nil {
		t.Fatal(err)
	}
	readBack(next, "in a new container on the same volume")
}

func testFaults(t *testing.T, img string) {
	ctx := t.Context()
	// STS names its operations (query protocol), so the rule can name one.
	rule := faults.Rule{Service: "sts", Operation: "GetCallerIdentity", Rate: 1, Code: "Throttling", Status: 400, Message: "injected"}
	ctr := run(t, img, sconescontainer.WithFaults(rule))
	check := func(when string, wantFault bool) {
		t.Helper()
		cfg, err := ctr.AWSConfig(ctx)
		if err != nil {
			t.Fatal(err)
		}
		stsc := sts.NewFromConfig(cfg, func(o *sts.Options) { o.RetryMaxAttempts = 1 })
		_, err = stsc.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		var ae smithy.APIError
		switch {
		case wantFault && (!errors.As(err, &ae) || ae.ErrorCode() != "Throttling"):
			t.Errorf("%s: GetCallerIdentity: %v, want the injected Throttling", when, err)
		case !wantFault && err != nil:
			t.Errorf("%s: GetCallerIdentity: %v", when, err)
		}
	}
	check("after Run", true)
	timeout := 5 * time.Second
	if err := ctr.Stop(ctx, &timeout); err != nil {
		t.Fatal(err)
	}
	if err := ctr.Start(ctx); err != nil {
		t.Fatal(err)
	}
	check("after a restart", true)
	if err := ctr.SetFaults(ctx); err != nil {
		t.Fatal(err)
	}
	check("with faults cleared", false)
}

// testLambda runs a real workflow Lambda inside the container; it reads
// S3 through AWS_ENDPOINT_URL, i.e. calls back into the emulator from
// inside the container.
func testLambda(t *testing.T, img string) {
	ctx := t.Context()
	arch := daemonLambdaArch(t)
	zipPath, _, err := lambdapkg.Build(ctx, lambdapkg.Options{Function: "serializeImageData", Arch: arch, OutDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	code, err := os.ReadFile(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	ctr := run(t, img, sconescontainer.WithTimeScale(0))
	cfg, err := ctr.AWSConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	pic := testPNG(t)
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("images")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("images"), Key: aws.String("test/bike.png"), Body: bytes.NewReader(pic)}); err != nil {
		t.Fatal(err)
	}
	lc := lambda.NewFromConfig(cfg)
	if _, err := lc.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName:  aws.String("serializeImageData"),
		Runtime:       lambdatypes.RuntimeProvidedal2023,
		Handler:       aws.String("bootstrap"),
		Role:          aws.String("arn:aws:iam::000000000000:role/lambda"),
		Architectures: []lambdatypes.Architecture{lambdatypes.Architecture(arch)},
		Code:          &lambdatypes.FunctionCode{ZipFile: code},
	}); err != nil {
		t.Fatal(err)
	}
	out, err := lc.Invoke(ctx, &lambda.InvokeInput{
		FunctionName: aws.String("serializeImageData"),
		Payload:      []byte(`{"s3_bucket":"images","s3_key":"test/bike.png"}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	if out.FunctionError != nil {
		logs(t, ctr)
		t.Fatalf("function error %s: %s", aws.ToString(out.FunctionError), out.Payload)
	}
	var res struct {
		StatusCode int `json:"statusCode"`
		Body       struct {
			ImageData string `json:"image_data"`
		} `json:"body"`
	}
	if err := json.Unmarshal(out.Payload, &res); err != nil {
		t.Fatalf("payload %s: %v", out.Payload, err)
	}
	if res.StatusCode != 200 || res.Body.ImageData != base64.StdEncoding.EncodeToString(pic) {
		t.Errorf("payload %.200s: want statusCode 200 and the PNG base64-encoded", out.Payload)
	}
}

func daemonLambdaArch(t *testing.T) string {
	t.Helper()
	p, err := testcontainers.NewDockerProvider()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	v, err := p.Client().ServerVersion(t.Context(), client.ServerVersionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	switch v.Arch {
	case "amd64":
		return "x86_64"
	case "arm64":
		return "arm64"
	}
	t.Skipf("Lambda has no architecture for a %s Docker daemon", v.Arch)
	return ""
}

func testPNG(t *testing.T) []byte {
	t.Helper()
	m := image.NewRGBA(image.Rect(0, 0, 32, 32))
	for y := range 32 {
		for x := range 32 {
			m.Set(x, y, color.RGBA{uint8(8 * x), uint8(8 * y), 128, 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func logs(t *testing.T, ctr *sconescontainer.Container) {
	t.Helper()
	rc, err := ctr.Logs(context.WithoutCancel(t.Context()))
	if err != nil {
		t.Log(err)
		return
	}
	defer rc.Close()
	b, _ := io.ReadAll(rc)
	t.Logf("container log:\n%s", b)
}

// TestNoDocker checks, in a child process pointed at a Docker socket that
// does not exist, that Run and BuildImage fail with ErrDockerUnavailable
// rather than panicking, and that SkipIfProviderIsNotHealthy skips.
func TestNoDocker(t *testing.T) {
	if os.Getenv("SCONESCONTAINER_NO_DOCKER_CHILD") == "1" {
		ctx := t.Context()
		_, err := sconescontainer.Run(ctx, sconescontainer.DefaultImage)
		if !errors.Is(err, sconescontainer.ErrDockerUnavailable) {
			t.Fatalf("Run without Docker: %v, want ErrDockerUnavailable", err)
		}
		fmt.Println("Run:", err)
		_, err = sconescontainer.BuildImage(ctx, "")
		if !errors.Is(err, sconescontainer.ErrDockerUnavailable) {
			t.Fatalf("BuildImage without Docker: %v, want ErrDockerUnavailable", err)
		}
		fmt.Println("BuildImage:", err)
		testcontainers.SkipIfProviderIsNotHealthy(t)
		t.Fatal("SkipIfProviderIsNotHealthy did not skip without Docker")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	args := []string{exe, "-test.run=^TestNoDocker$", "-test.v"}
	if _, err := os.Stat("/var/run/docker.sock"); err == nil {
		// testcontainers-go falls back to the default socket, so hide it:
		// a private mount namespace with an empty /run (root only).
		unshare, err := exec.LookPath("unshare")
		if err != nil || os.Geteuid() != 0 {
			t.Skip("/var/run/docker.sock exists and hiding it needs root and unshare(1)")
		}
		args = append([]string{unshare, "-m", "--propagation", "private", "sh", "-c", `mount -t tmpfs tmpfs /run && exec "$0" "$@"`}, args...)
	}
	// The child's go command (BuildImage runs `go env GOMOD`) may leave a
	// telemetry process writing under $HOME/.config/go after it exits, so
	// HOME is not a t.TempDir, whose cleanup fails the test on a
	// non-empty directory; its removal is best effort.
	home, err := os.MkdirTemp("", "scones-nodocker-home-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(home) })
	cmd := exec.CommandContext(t.Context(), args[0], args[1:]...)
	cmd.Env = []string{
		"SCONESCONTAINER_NO_DOCKER_CHILD=1",
		"DOCKER_HOST=unix://" + t.TempDir() + "/no-docker.sock",
		"TESTCONTAINERS_RYUK_DISABLED=true",
		"GOTELEMETRY=off",
		"HOME=" + home,
		"PATH=" + os.Getenv("PATH"),
	}
	out, err := cmd.CombinedOutput()
	t.Logf("child:\n%s", out)
	if err != nil {
		t.Fatalf("child: %v", err)
	}
	if !strings.Contains(string(out), "--- SKIP: TestNoDocker") {
		t.Errorf("child did not end in a skip")
	}
}

// TestUnreachableDockerHost: a DOCKER_HOST that does not answer is refused,
// where testcontainers-go alone would fall back to the default socket and
// build and run there. Its choice of host is made once per process, so the
// check runs in a child.
func TestUnreachableDockerHost(t *testing.T) {
	if os.Getenv("SCONESCONTAINER_BAD_HOST_CHILD") == "1" {
		ctx := t.Context()
		// Run finds its daemon through testcontainers-go, which falls
		// back; BuildImage through the Docker client, which does not.
		want := "DOCKER_HOST=" + os.Getenv("DOCKER_HOST") + " does not answer"
		_, err := sconescontainer.Run(ctx, sconescontainer.DefaultImage)
		if !errors.Is(err, sconescontainer.ErrDockerUnavailable) || !strings.Contains(err.Error(), want) {
			t.Fatalf("Run: %v, want ErrDockerUnavailable with %q", err, want)
		}
		want = "DOCKER_HOST=" + os.Getenv("DOCKER_HOST")
		_, err = sconescontainer.BuildImage(ctx, "")
		if !errors.Is(err, sconescontainer.ErrDockerUnavailable) || !strings.Contains(err.Error(), want) {
			t.Fatalf("BuildImage: %v, want ErrDockerUnavailable with %q", err, want)
		}
		fmt.Println("refused:", err)
		return
	}
	if testing.Short() {
		t.Skip("-short")
	}
	// Meaningful only where testcontainers-go has a daemon to fall back to.
	testcontainers.SkipIfProviderIsNotHealthy(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), exe, "-test.run=^TestUnreachableDockerHost$", "-test.v")
	cmd.Env = append(os.Environ(),
		"SCONESCONTAINER_BAD_HOST_CHILD=1",
		"DOCKER_HOST=unix://"+t.TempDir()+"/no-docker.sock")
	out, err := cmd.CombinedOutput()
	t.Logf("child:\n%s", out)
	if err != nil {
		t.Fatalf("child: %v", err)
	}
	if !strings.Contains(string(out), "refused:") {
		t.Errorf("child did not reach its checks")
	}
}

func TestOptionsReject(t *testing.T) {
	for name, opt := range map[string]testcontainers.CustomizeRequestOption{
		"empty data dir":     sconescontainer.WithDataDir(""),
		"empty volume":       sconescontainer.WithDataVolume(""),
		"negative scale":     sconescontainer.WithTimeScale(-1),
		"colon in key":       sconescontainer.WithVerifySignatures(map[string]string{"a:b": "c"}),
		"empty secret":       sconescontainer.WithVerifySignatures(map[string]string{"a": ""}),
		"fault rate above 1": sconescontainer.WithFaults(faults.Rule{Service: "s3", Rate: 2}),
	} {
		if err := opt.Customize(&testcontainers.GenericContainerRequest{}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := sconescontainer.Run(t.Context(), ""); err == nil {
		t.Error("Run with no image: no error")
	}
	if _, err := sconescontainer.BuildImage(t.Context(), t.TempDir()); err == nil || !strings.Contains(err.Error(), "not the scones module") {
		t.Errorf("BuildImage outside the module: %v", err)
	}
	if _, err := sconescontainer.BuildImage(t.Context(), "", sconescontainer.WithImageTag("no-tag")); err == nil {
		t.Error("BuildImage with tag no-tag: no error")
	}
}
