package sconesdocker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// stubStartupTimeout bounds the wait for a started stub to answer.
const stubStartupTimeout = 60 * time.Second

// StubServiceName is the container StartStubService runs unless told
// otherwise: the stub serving SageMaker for the CLI's localstack profile.
const StubServiceName = "scones-sagemaker"

// StubServiceOptions configures StartStubService.
type StubServiceOptions struct {
	// Name is the container's name (default StubServiceName).
	Name string
	// Addr is where the stub listens, on the host's network: host:port,
	// e.g. 127.0.0.1:8080.
	Addr string
	// DataDir, if set, is a host directory that keeps SageMaker's state
	// (training jobs, models, endpoints) across restarts of the container;
	// it is mounted as the stub's STUB_DATA_DIR, and the stub runs as the
	// current user so that the files stay the user's.
	DataDir string
	// Config is the stub's configuration; its S3Endpoint is as seen from
	// the host, which on the host's network is also what the stub sees.
	Config StubConfig
}

// StartStubService runs image as the container o.Name on the host's network
// and waits until it answers GET /ping at o.Addr. Unlike
// sconescontainer.RunStubEndpoint's containers, which belong to a test and
// go with it, this one outlives the process that started it: one command
// starts it, the next ones use it, StopStubService removes it. It is made
// through the Docker API directly, so that no testcontainers-go reaper can
// end it.
//
// A container of that name that already runs, answers at o.Addr and was made
// from this image with this configuration is left as it is, and started is
// false; any other container of that name (stopped, not answering, from an
// older image, configured otherwise) is replaced. If something else answers
// at o.Addr, nothing is started.
func StartStubService(ctx context.Context, image string, o StubServiceOptions) (started bool, err error) {
	env, err := o.Config.Env()
	if err != nil {
		return false, err
	}
	if o.Addr == "" {
		return false, errors.New("sconesdocker: StubServiceOptions.Addr is empty")
	}
	name := o.Name
	if name == "" {
		name = StubServiceName
	}
	base := "http://" + o.Addr
	cli, err := Client(ctx)
	if err != nil {
		return false, err
	}
	defer cli.Close()

	env["STUB_ADDR"] = o.Addr
	cfg := &container.Config{Image: image, Labels: map[string]string{"scones.stub": "sagemaker"}}
	host := &container.HostConfig{NetworkMode: "host"}
	if o.DataDir != "" {
		if err := os.MkdirAll(o.DataDir, 0o755); err != nil {
			return false, fmt.Errorf("sconesdocker: stub data dir: %w", err)
		}
		env["STUB_DATA_DIR"] = "/data"
		host.Binds = []string{o.DataDir + ":/data"}
		cfg.User = strconv.Itoa(os.Getuid()) + ":" + strconv.Itoa(os.Getgid())
	}
	for k, v := range env {
		cfg.Env = append(cfg.Env, k+"="+v)
	}
	sort.Strings(cfg.Env)

	answers := Ping(ctx, base) == nil
	old, err := cli.ContainerInspect(ctx, name, client.ContainerInspectOptions{})
	switch {
	case err == nil && old.Container.State != nil && old.Container.State.Running && answers && sameStub(ctx, cli, old.Container, cfg, host):
		return false, nil
	case err == nil:
		// Stopped, not answering, or made from another image or with
		// another configuration: replaced, so that the stub runs what
		// the caller asked for.
		if _, err := cli.ContainerRemove(ctx, name, client.ContainerRemoveOptions{Force: true}); err != nil {
			return false, fmt.Errorf("sconesdocker: remove the old %s container: %w", name, err)
		}
	case !errdefs.IsNotFound(err):
		return false, fmt.Errorf("sconesdocker: inspect %s: %w", name, err)
	case answers:
		return false, fmt.Errorf("sconesdocker: something other than the %s container already answers at %s; stop it, or give the stub another address", name, base)
	}

	created, err := cli.ContainerCreate(ctx, client.ContainerCreateOptions{Name: name, Config: cfg, HostConfig: host})
	if err != nil {
		if errdefs.IsNotFound(err) {
			return false, fmt.Errorf("sconesdocker: image %s is not present locally; build it with BuildStubImage: %w", image, err)
		}
		return false, fmt.Errorf("sconesdocker: create %s: %w", name, err)
	}
	fail := func(e error) (bool, error) {
		var logs bytes.Buffer
		if rc, err := cli.ContainerLogs(context.WithoutCancel(ctx), created.ID, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true, Tail: "20"}); err == nil {
			stdcopy.StdCopy(&logs, &logs, rc)
			rc.Close()
		}
		cli.ContainerRemove(context.WithoutCancel(ctx), created.ID, client.ContainerRemoveOptions{Force: true})
		if s := strings.TrimSpace(logs.String()); s != "" {
			e = fmt.Errorf("%w; its log ends:\n%s", e, s)
		}
		return false, e
	}
	if _, err := cli.ContainerStart(ctx, created.ID, client.ContainerStartOptions{}); err != nil {
		return fail(fmt.Errorf("sconesdocker: start %s: %w", name, err))
	}
	deadline := time.Now().Add(stubStartupTimeout)
	for {
		err := Ping(ctx, base)
		if err == nil {
			return true, nil
		}
		st, ierr := cli.ContainerInspect(ctx, created.ID, client.ContainerInspectOptions{})
		if ierr == nil && st.Container.State != nil && !st.Container.State.Running {
			return fail(fmt.Errorf("sconesdocker: %s exited (status %d) before answering at %s", name, st.Container.State.ExitCode, base))
		}
		if time.Now().After(deadline) {
			return fail(fmt.Errorf("sconesdocker: %s did not answer at %s within %v: %w", name, base, stubStartupTimeout, err))
		}
		select {
		case <-ctx.Done():
			return fail(ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// sameStub reports whether the running container c was made from the
// image cfg names (as it is now: a rebuilt image is another one) with
// cfg's environment and user and host's mounts.
func sameStub(ctx context.Context, cli client.APIClient, c container.InspectResponse, cfg *container.Config, host *container.HostConfig) bool {
	img, err := cli.ImageInspect(ctx, cfg.Image)
	if err != nil || c.Config == nil || c.HostConfig == nil || img.ID != c.Image || c.Config.User != cfg.User || !slices.Equal(c.HostConfig.Binds, host.Binds) {
		return false
	}
	have := map[string]bool{}
	for _, e := range c.Config.Env { // the image's ENV lines as well as ours
		have[e] = true
	}
	for _, e := range cfg.Env {
		if !have[e] {
			return false
		}
	}
	return true
}

// StopStubService removes the container name (StartStubService's), killing
// it if it runs; removed is false when there was none.
func StopStubService(ctx context.Context, name string) (removed bool, err error) {
	cli, err := Client(ctx)
	if err != nil {
		return false, err
	}
	defer cli.Close()
	if _, err := cli.ContainerRemove(ctx, name, client.ContainerRemoveOptions{Force: true}); err != nil {
		if errdefs.IsNotFound(err) {
			return false, nil
		}
		return false, fmt.Errorf("sconesdocker: remove %s: %w", name, err)
	}
	return true, nil
}
