package sconescontainer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/scones/scones/emulator/faults"
	"github.com/scones/scones/sconesdocker"
)

// Container and emulator constants.
const (
	// Port is the emulator's port inside the container.
	Port = "4566/tcp"
	// HealthPath answers 200 with JSON (see Health) once the emulator serves.
	HealthPath = "/_scones/health"
	// FaultsPath shows (GET), replaces (PUT) and clears (DELETE) the
	// injected faults.
	FaultsPath = "/_scones/faults"
	// DataDir is where WithDataVolume mounts its volume and keeps state.
	DataDir = "/var/lib/scones"
	// DefaultStartupTimeout bounds the wait for the health check.
	DefaultStartupTimeout = 60 * time.Second
)

// Container is a running scones emulator container. It embeds the
// testcontainers.Container, so Terminate, Stop, Start, Logs and the rest
// work as usual, and testcontainers.CleanupContainer accepts it.
type Container struct {
	testcontainers.Container
}

// Run starts the emulator image (see BuildImage) and waits until
// GET /_scones/health answers 200 on the mapped port 4566/tcp. opts are
// this package's With* options and any testcontainers.ContainerCustomizer;
// the package's options append emulator flags to the container command.
//
// As with testcontainers-go's modules, a non-nil *Container may come back
// with an error (the container started but never got healthy): pass it to
// testcontainers.CleanupContainer or Terminate it. Without a reachable
// Docker daemon the error wraps ErrDockerUnavailable.
func Run(ctx context.Context, image string, opts ...testcontainers.ContainerCustomizer) (*Container, error) {
	ctr, err := runImage(ctx, image, "BuildImage", append([]testcontainers.ContainerCustomizer{
		testcontainers.WithExposedPorts(Port),
		testcontainers.WithWaitStrategy(ForHealth(DefaultStartupTimeout)),
	}, opts...))
	var c *Container
	if ctr != nil {
		c = &Container{Container: ctr}
	}
	return c, err
}

// runImage starts image with the module's options followed by the
// caller's, naming build (the function that makes the image) when the
// image is missing.
func runImage(ctx context.Context, image, build string, opts []testcontainers.ContainerCustomizer) (testcontainers.Container, error) {
	if image == "" {
		return nil, fmt.Errorf("sconescontainer: no image given; build one with %s", build)
	}
	provider, err := dockerProvider(ctx)
	if err != nil {
		return nil, err
	}
	_, inspectErr := provider.Client().ImageInspect(ctx, image)
	provider.Close()

	ctr, err := testcontainers.Run(ctx, image, opts...)
	if err != nil {
		if errdefs.IsNotFound(inspectErr) {
			return ctr, fmt.Errorf("sconescontainer: run %s (not present locally; build it with %s): %w", image, build, err)
		}
		return ctr, fmt.Errorf("sconescontainer: run %s: %w", image, err)
	}
	return ctr, nil
}

// dockerProvider returns a healthy Docker provider, or an error wrapping
// ErrDockerUnavailable. The caller closes it.
func dockerProvider(ctx context.Context) (p *testcontainers.DockerProvider, err error) {
	defer func() {
		// Some testcontainers-go helpers panic when no Docker host is
		// found; turn that into the documented error.
		if r := recover(); r != nil {
			p, err = nil, fmt.Errorf("%w: %v", ErrDockerUnavailable, r)
		}
	}()
	p, err = testcontainers.NewDockerProvider()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrDockerUnavailable, err)
	}
	if err := p.Health(ctx); err != nil {
		p.Close()
		return nil, fmt.Errorf("%w: %w", ErrDockerUnavailable, err)
	}
	if err := checkDockerHost(ctx, p.Client().DaemonHost()); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// checkDockerHost refuses a DOCKER_HOST that does not answer. Where it
// does not, testcontainers-go goes on to the next place it knows (the
// default socket among them) and would build and run on a daemon the user
// did not name; the docker CLI refuses instead, and so does this. got is
// the daemon testcontainers-go settled on: a DOCKER_HOST that answers but
// is not it (testcontainers-go's own tc.host setting comes first) is left
// to that setting.
func checkDockerHost(ctx context.Context, got string) error {
	want := os.Getenv(client.EnvOverrideHost)
	if want == "" || want == got {
		return nil
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cli, err := sconesdocker.Client(pctx)
	if err != nil {
		return fmt.Errorf("DOCKER_HOST=%s does not answer; unset it to use %s: %w", want, got, err)
	}
	return cli.Close()
}

// BaseEndpoint is the emulator's URL on the host, http://127.0.0.1:<mapped
// port> (or the Docker host's address when the emulator does not answer on
// 127.0.0.1, e.g. with a remote daemon), for an AWS SDK's BaseEndpoint,
// AWS_ENDPOINT_URL or the CLI's --endpoint-url. It checks that the
// emulator answers there. The mapped port changes when the container is
// stopped and started again, so ask again after each Start.
//
// It is not named Endpoint because the embedded testcontainers.Container
// already has Endpoint(ctx, proto).
func (c *Container) BaseEndpoint(ctx context.Context) (string, error) {
	return reach(ctx, c.Container, Port, probe)
}

// hostPorter is what reach needs of a container (a testcontainers.Container
// or a wait.StrategyTarget).
type hostPorter interface {
	Host(context.Context) (string, error)
	MappedPort(context.Context, string) (network.Port, error)
}

// reach returns the base URL at which the container answers check on the
// host port mapped to port (4566/tcp for the emulator).
//
// testcontainers-go's Host is not enough on its own: when the tests run in
// a container (/.dockerenv exists) it answers the default gateway's
// address, which is wrong when the Docker daemon runs in that same
// container, as on the scones CI machines. So 127.0.0.1 and Host are
// both tried, and the first to answer wins.
func reach(ctx context.Context, ctr hostPorter, containerPort string, check func(context.Context, string) error) (string, error) {
	port, err := ctr.MappedPort(ctx, containerPort)
	if err != nil {
		return "", fmt.Errorf("sconescontainer: mapped port: %w", err)
	}
	if port.IsZero() {
		return "", fmt.Errorf("sconescontainer: %s is not mapped yet", containerPort)
	}
	host, err := ctr.Host(ctx)
	if err != nil {
		return "", fmt.Errorf("sconescontainer: host: %w", err)
	}
	hosts := []string{"127.0.0.1"}
	if host != "" && host != "localhost" && host != "127.0.0.1" {
		hosts = append(hosts, host)
	}
	// Probe every candidate at once: one that does not route (a wrong
	// gateway) must not delay the one that answers.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		base string
		err  error
	}
	results := make(chan result, len(hosts))
	for _, h := range hosts {
		base := "http://" + net.JoinHostPort(h, strconv.Itoa(int(port.Num())))
		go func() { results <- result{base, check(ctx, base)} }()
	}
	var errs []error
	for range hosts {
		r := <-results
		if r.err == nil {
			return r.base, nil
		}
		if !isDialError(r.err) {
			// Connected, so this is the right host (Docker's proxy
			// answers there), but the emulator is not ready yet.
			return "", fmt.Errorf("sconescontainer: the container does not answer yet: %w", r.err)
		}
		errs = append(errs, r.err)
	}
	return "", fmt.Errorf("sconescontainer: the container does not answer: %w", errors.Join(errs...))
}

// isDialError reports whether err is a failure to connect at all.
func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// probe checks that base answers GET /_scones/health with 200 and the
// emulator's JSON.
func probe(ctx context.Context, base string) error {
	status, body, err := sconesdocker.Fetch(ctx, base+HealthPath)
	if err != nil {
		return err
	}
	var h Health
	if err := json.Unmarshal(body, &h); err != nil || status != http.StatusOK || h.Status == "" {
		return fmt.Errorf("GET %s%s: %d, not the emulator's health", base, HealthPath, status)
	}
	return nil
}

// ForHealth is Run's wait strategy: it polls GET /_scones/health on the
// mapped port (as BaseEndpoint finds it) until it answers 200, fails at
// once if the container exits, and gives up after timeout. Pass it again
// through testcontainers.WithWaitStrategy to change the timeout.
func ForHealth(timeout time.Duration) wait.Strategy {
	return healthStrategy{timeout: timeout, port: Port, path: HealthPath, check: probe, what: "the emulator"}
}

// healthStrategy polls check on the host port mapped to port.
type healthStrategy struct {
	timeout    time.Duration
	port, path string
	check      func(context.Context, string) error
	what       string
}

// Timeout is the startup timeout (wait.StrategyTimeout).
func (s healthStrategy) Timeout() *time.Duration { return &s.timeout }

func (s healthStrategy) String() string {
	return fmt.Sprintf("GET %s on %s answers 200 (within %v)", s.path, s.port, s.timeout)
}

// WaitUntilReady implements wait.Strategy.
func (s healthStrategy) WaitUntilReady(ctx context.Context, target wait.StrategyTarget) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	for {
		if st, err := target.State(ctx); err == nil && !st.Running && (st.Status == "exited" || st.Status == "dead") {
			return fmt.Errorf("sconescontainer: %s exited with code %d before it was healthy (see the container log)", s.what, st.ExitCode)
		}
		_, err := reach(ctx, target, s.port, s.check)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("sconescontainer: not healthy within %v: %w (last: %w)", s.timeout, ctx.Err(), err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// AWSConfig is an aws.Config for the emulator: BaseEndpoint, the region it
// reports, and static credentials (test/test unless given, which is what
// the emulator accepts by default). S3 clients also need UsePathStyle:
//
//	s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
func (c *Container) AWSConfig(ctx context.Context, accessKeyAndSecret ...string) (aws.Config, error) {
	key, secret := "test", "test"
	switch len(accessKeyAndSecret) {
	case 0:
	case 2:
		key, secret = accessKeyAndSecret[0], accessKeyAndSecret[1]
	default:
		return aws.Config{}, errors.New("sconescontainer: AWSConfig takes no credentials or an access key and a secret")
	}
	ep, err := c.BaseEndpoint(ctx)
	if err != nil {
		return aws.Config{}, err
	}
	h, err := c.Health(ctx)
	if err != nil {
		return aws.Config{}, err
	}
	return aws.Config{
		Region:       h.Region,
		BaseEndpoint: aws.String(ep),
		Credentials:  credentials.NewStaticCredentialsProvider(key, secret, ""),
	}, nil
}

// Health is the body of GET /_scones/health.
type Health struct {
	Status   string            `json:"status"`
	Region   string            `json:"region"`
	Account  string            `json:"account"`
	Services map[string]string `json:"services"`
}

// Health reads GET /_scones/health. A status other than 200 is an error.
func (c *Container) Health(ctx context.Context) (Health, error) {
	var h Health
	body, err := c.call(ctx, http.MethodGet, HealthPath, nil)
	if err != nil {
		return h, err
	}
	if err := json.Unmarshal(body, &h); err != nil {
		return h, fmt.Errorf("sconescontainer: health: %w", err)
	}
	return h, nil
}

// SetFaults replaces the injected faults (PUT /_scones/faults); no rules
// clears them. Faults live in the emulator's memory: WithFaults applies
// them again after every start.
func (c *Container) SetFaults(ctx context.Context, rules ...faults.Rule) error {
	if len(rules) == 0 {
		_, err := c.call(ctx, http.MethodDelete, FaultsPath, nil)
		return err
	}
	return putFaults(ctx, c, rules)
}

// call does one request against the emulator's control API and returns
// the body of a 200 answer.
func (c *Container) call(ctx context.Context, method, path string, body []byte) ([]byte, error) {
	ep, err := c.BaseEndpoint(ctx)
	if err != nil {
		return nil, err
	}
	return do(ctx, method, ep+path, body)
}

func do(ctx context.Context, method, url string, body []byte) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return nil, fmt.Errorf("sconescontainer: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("sconescontainer: %s %s: %w", method, url, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("sconescontainer: %s %s: %w", method, url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("sconescontainer: %s %s: %s: %s", method, url, resp.Status, strings.TrimSpace(string(out)))
	}
	return out, nil
}

func putFaults(ctx context.Context, ctr testcontainers.Container, rules []faults.Rule) error {
	body, err := json.Marshal(rules)
	if err != nil {
		return fmt.Errorf("sconescontainer: faults: %w", err)
	}
	base, err := reach(ctx, ctr, Port, probe)
	if err != nil {
		return err
	}
	_, err = do(ctx, http.MethodPut, base+FaultsPath, body)
	return err
}

// WithDataDir keeps the emulator's state in dir inside the container
// (--data-dir). Mount a volume or a host directory there for the state to
// outlive the container (see WithDataVolume); without a mount it survives
// a stop and start of the same container only.
func WithDataDir(dir string) testcontainers.CustomizeRequestOption {
	return func(req *testcontainers.GenericContainerRequest) error {
		if dir == "" {
			return errors.New("sconescontainer: WithDataDir: empty directory")
		}
		req.Cmd = append(req.Cmd, "--data-dir", dir)
		return nil
	}
}

// WithDataVolume mounts the named Docker volume (created if missing) at
// DataDir and keeps the emulator's state there, so a new container with the
// same volume sees the state of the last one. Removing the volume is the
// caller's: Terminate(ctx, testcontainers.RemoveVolumes(name)).
func WithDataVolume(name string) testcontainers.CustomizeRequestOption {
	return func(req *testcontainers.GenericContainerRequest) error {
		if name == "" {
			return errors.New("sconescontainer: WithDataVolume: empty volume name")
		}
		req.Mounts = append(req.Mounts, testcontainers.VolumeMount(name, DataDir))
		return WithDataDir(DataDir)(req)
	}
}

// WithSync flushes every write to disk (--sync; only with a data dir).
func WithSync() testcontainers.CustomizeRequestOption {
	return testcontainers.WithCmdArgs("--sync")
}

// WithVerifySignatures makes the emulator check every request's SigV4
// signature (--verify-signatures). credentials maps access key ids to
// secrets; none keeps the emulator's default, test/test.
func WithVerifySignatures(credentials map[string]string) testcontainers.CustomizeRequestOption {
	return func(req *testcontainers.GenericContainerRequest) error {
		req.Cmd = append(req.Cmd, "--verify-signatures")
		keys := make([]string, 0, len(credentials))
		for k, v := range credentials {
			if k == "" || v == "" || strings.Contains(k, ":") {
				return fmt.Errorf("sconescontainer: WithVerifySignatures: bad credentials %q", k)
			}
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			req.Cmd = append(req.Cmd, "--credentials", k+":"+credentials[k])
		}
		return nil
	}
}

// WithTimeScale multiplies the waits the emulator performs (Step Functions
// Wait states and retry intervals): 1 is real time, 0 never waits.
func WithTimeScale(scale float64) testcontainers.CustomizeRequestOption {
	return func(req *testcontainers.GenericContainerRequest) error {
		if scale < 0 {
			return fmt.Errorf("sconescontainer: WithTimeScale: %v is negative", scale)
		}
		req.Cmd = append(req.Cmd, "--time-scale", strconv.FormatFloat(scale, 'g', -1, 64))
		return nil
	}
}

// WithRegion sets the region used in ARNs and responses (--region).
func WithRegion(region string) testcontainers.CustomizeRequestOption {
	return testcontainers.WithCmdArgs("--region", region)
}

// WithAccountID sets the account id used in ARNs (--account).
func WithAccountID(account string) testcontainers.CustomizeRequestOption {
	return testcontainers.WithCmdArgs("--account", account)
}

// WithLogLevel sets the emulator's log level (debug, info, warn, error);
// the log is the container's output.
func WithLogLevel(level string) testcontainers.CustomizeRequestOption {
	return testcontainers.WithEnv(map[string]string{"SCONES_LOG_LEVEL": level})
}

// WithFaults injects faults once the emulator is ready, and again after
// every later start (faults live in the emulator's memory). Change them at
// run time with (*Container).SetFaults.
func WithFaults(rules ...faults.Rule) testcontainers.CustomizeRequestOption {
	return func(req *testcontainers.GenericContainerRequest) error {
		checked := make([]faults.Rule, len(rules))
		for i, r := range rules {
			if err := r.Validate(); err != nil {
				return fmt.Errorf("sconescontainer: WithFaults: rule %d: %w", i, err)
			}
			checked[i] = r
		}
		req.LifecycleHooks = append(req.LifecycleHooks, testcontainers.ContainerLifecycleHooks{
			PostReadies: []testcontainers.ContainerHook{func(ctx context.Context, ctr testcontainers.Container) error {
				return putFaults(ctx, ctr, checked)
			}},
		})
		return nil
	}
}
