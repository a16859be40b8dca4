//go:build !nodocker

// Docker mode talks to the Docker Engine API through
// github.com/moby/moby/client, which is cheap to link and does nothing
// until it is used (testcontainers-go, used here before, scanned every
// process on the machine at start-up of every binary linking it). The slim
// scones-emulator (-tags nodocker, docker_none.go) leaves the client out.

package smcontainer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/scones/scones/sconesdocker"
)

// BuildScratchImage builds img (kept after use) and returns its "repo:tag"
// reference, the tag a hash of the files and the Dockerfile. Building the
// same contents again is a Docker cache hit; the images of older contents
// of the same repository are removed.
func BuildScratchImage(ctx context.Context, img ScratchImage) (string, error) {
	buildContext, tag, err := scratchContext(img)
	if err != nil {
		return "", err
	}
	cli, err := sconesdocker.Client(ctx)
	if err != nil {
		return "", fmt.Errorf("smcontainer: docker: %w", err)
	}
	defer cli.Close()
	ref := img.Repo + ":" + tag
	if err := sconesdocker.Build(ctx, cli, bytes.NewReader(buildContext), ref, nil, nil); err != nil {
		return "", fmt.Errorf("smcontainer: build image %s: %w", img.Repo, err)
	}
	pruneOldTags(ctx, cli, img.Repo, tag)
	return ref, nil
}

// scratchContext returns the build context of img, a tar of its Dockerfile
// and its files under their base names, and the content-hash tag: the
// first 16 hex digits of the tar's SHA-256 (sconesdocker.ContextTar).
func scratchContext(img ScratchImage) ([]byte, string, error) {
	var buf bytes.Buffer
	ct := sconesdocker.NewContextTar(&buf)
	dests := make([]string, 0, len(img.Files))
	for d := range img.Files {
		dests = append(dests, d)
	}
	sort.Strings(dests)
	names := map[string]string{}
	for _, d := range dests {
		name := filepath.Base(d)
		if other, dup := names[name]; dup {
			return nil, "", fmt.Errorf("smcontainer: image %s: files %s and %s share the base name %s", img.Repo, other, d, name)
		}
		names[name] = d
		if err := ct.File(name, 0o755, img.Files[d]); err != nil {
			return nil, "", fmt.Errorf("smcontainer: image file: %w", err)
		}
	}
	if err := ct.Bytes("Dockerfile", 0o644, []byte(img.Dockerfile())); err != nil {
		return nil, "", err
	}
	sum, err := ct.Close()
	if err != nil {
		return nil, "", err
	}
	return buf.Bytes(), sum[:16], nil
}

// pruneOldTags removes the images of repo built for older contents (other
// content-hash tags), so that repeated builds on one machine do not pile
// up. An image a container still uses is refused by Docker and stays.
func pruneOldTags(ctx context.Context, cli *client.Client, repo, keep string) {
	list, err := cli.ImageList(ctx, client.ImageListOptions{Filters: make(client.Filters).Add("reference", repo)})
	if err != nil {
		return
	}
	for _, im := range list.Items {
		current := false
		for _, t := range im.RepoTags {
			if t == repo+":"+keep {
				current = true
			}
		}
		if !current {
			cli.ImageRemove(ctx, im.ID, client.ImageRemoveOptions{PruneChildren: true})
		}
	}
}

// dockerContainer is a started container and the client that runs it.
type dockerContainer struct {
	cli *client.Client
	id  string
}

// startContainer creates and starts `<image> verb` as the current user on
// the host network with spec.Root bind-mounted at /opt/ml.
func (r *Runner) startContainer(ctx context.Context, prog Program, spec Spec, verb string, env map[string]string) (*dockerContainer, error) {
	cli, err := sconesdocker.Client(ctx) // before building: no daemon fails fast
	if err != nil {
		return nil, fmt.Errorf("smcontainer: docker: %w", err)
	}
	ref, err := r.image(ctx, prog)
	if err != nil {
		cli.Close()
		return nil, err
	}
	all := map[string]string{}
	for k, v := range spec.Env {
		all[k] = v
	}
	for k, v := range env {
		all[k] = v
	}
	envList := make([]string, 0, len(all))
	for k, v := range all {
		envList = append(envList, k+"="+v)
	}
	sort.Strings(envList)
	stopSecs := stopSeconds(r.opts.StopTimeout)
	created, err := cli.ContainerCreate(ctx, client.ContainerCreateOptions{
		Config: &container.Config{
			Image:       ref,
			Cmd:         []string{verb},
			Env:         envList,
			User:        strconv.Itoa(os.Getuid()) + ":" + strconv.Itoa(os.Getgid()),
			Labels:      map[string]string{"scones.smcontainer.name": spec.Name, "scones.smcontainer.cmd": verb},
			StopTimeout: &stopSecs,
		},
		HostConfig: &container.HostConfig{
			NetworkMode: "host",
			Binds:       []string{spec.Root + ":" + containerRoot},
		},
	})
	if err != nil {
		cli.Close()
		return nil, fmt.Errorf("smcontainer: create container %s %s: %w", ref, verb, err)
	}
	c := &dockerContainer{cli: cli, id: created.ID}
	if _, err := cli.ContainerStart(ctx, c.id, client.ContainerStartOptions{}); err != nil {
		c.remove()
		return nil, fmt.Errorf("smcontainer: start container %s %s: %w", ref, verb, err)
	}
	return c, nil
}

// stopSeconds is d in whole seconds, rounded up: the API's stop timeout.
func stopSeconds(d time.Duration) int { return int(math.Ceil(d.Seconds())) }

// stop sends SIGTERM and, after timeout, SIGKILL, and returns once the
// container has stopped.
func (c *dockerContainer) stop(timeout time.Duration) error {
	secs := stopSeconds(timeout)
	ctx, cancel := context.WithTimeout(context.Background(), timeout+sconesdocker.CallTimeout)
	defer cancel()
	_, err := c.cli.ContainerStop(ctx, c.id, client.ContainerStopOptions{Timeout: &secs})
	return err
}

// remove removes the container (killing it if it still runs) and closes
// the client.
func (c *dockerContainer) remove() error {
	ctx, cancel := context.WithTimeout(context.Background(), sconesdocker.CallTimeout)
	defer cancel()
	_, err := c.cli.ContainerRemove(ctx, c.id, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
	c.cli.Close()
	if err != nil {
		return fmt.Errorf("smcontainer: remove container: %w", err)
	}
	return nil
}

// copyLogs writes the container's stdout and stderr into w, demultiplexed
// (the container has no TTY), and with follow keeps doing so until the
// container stops.
func (c *dockerContainer) copyLogs(ctx context.Context, w io.Writer, follow bool) error {
	rc, err := c.cli.ContainerLogs(ctx, c.id, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true, Follow: follow})
	if err != nil {
		return err
	}
	defer rc.Close()
	_, err = stdcopy.StdCopy(w, w, rc)
	return err
}

func (r *Runner) dockerTrain(ctx context.Context, prog Program, spec Spec) error {
	c, err := r.startContainer(ctx, prog, spec, "train", nil)
	if err != nil {
		return err
	}
	defer c.remove()
	code, waitErr := r.waitExit(ctx, c, 100*time.Millisecond)
	// The whole log, once the container has exited, so no line is lost.
	out := r.lineWriter(spec, "train")
	lctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.copyLogs(lctx, out, false); err != nil {
		r.log.Warn("smcontainer: container logs", "name", spec.Name, "container", c.id, "err", err)
	}
	out.Close()
	if waitErr != nil {
		return waitErr
	}
	if code != 0 {
		return &ExitError{Code: code}
	}
	return nil
}

// waitExit polls the container every interval until it exits and returns
// its exit code; cancelling ctx stops it (Options.StopTimeout) and returns
// ctx's error.
func (r *Runner) waitExit(ctx context.Context, c *dockerContainer, every time.Duration) (int, error) {
	for {
		ictx, cancel := context.WithTimeout(context.Background(), sconesdocker.CallTimeout)
		res, err := c.cli.ContainerInspect(ictx, c.id, client.ContainerInspectOptions{})
		cancel()
		if err != nil {
			return -1, fmt.Errorf("smcontainer: container state: %w", err)
		}
		st := res.Container.State
		if st == nil {
			return -1, errors.New("smcontainer: container state: the daemon reported none")
		}
		if !st.Running && st.Status != container.StateCreated {
			return st.ExitCode, nil
		}
		select {
		case <-ctx.Done():
			if err := c.stop(r.opts.StopTimeout); err != nil {
				r.log.Warn("smcontainer: stop container", "container", c.id, "err", err)
			}
			return -1, ctx.Err()
		case <-time.After(every):
		}
	}
}

func (r *Runner) dockerServe(ctx context.Context, prog Program, spec Spec, port int) (*Instance, error) {
	c, err := r.startContainer(ctx, prog, spec, "serve", serveEnv(port))
	if err != nil {
		return nil, err
	}
	out := r.lineWriter(spec, "serve")
	// Follow the log live; the stream ends when the container stops.
	lctx, cancelLogs := context.WithCancel(context.Background())
	logsDone := make(chan struct{})
	go func() {
		defer close(logsDone)
		if err := c.copyLogs(lctx, out, true); err != nil && lctx.Err() == nil {
			r.log.Warn("smcontainer: container logs", "name", spec.Name, "container", c.id, "err", err)
		}
	}()
	inst := &Instance{URL: "http://127.0.0.1:" + strconv.Itoa(port), done: make(chan struct{})}
	stopped := make(chan struct{})
	var stopOnce sync.Once
	var removeErr error // set before inst.done closes
	go func() {
		wctx, cancelWait := stoppedContext(stopped)
		code, err := r.waitExit(wctx, c, 500*time.Millisecond)
		cancelWait()
		if err == nil && code != 0 {
			err = &ExitError{Code: code}
		}
		select {
		case <-logsDone:
		case <-time.After(5 * time.Second):
			cancelLogs()
			<-logsDone
		}
		cancelLogs()
		removeErr = c.remove()
		out.Close()
		inst.exited(err)
	}()
	// Stop stops the container (SIGTERM, SIGKILL after StopTimeout) and
	// removes it; the removal goes on if ctx ends first.
	inst.stop = func(ctx context.Context) error {
		stopOnce.Do(func() { close(stopped) })
		select {
		case <-inst.done:
			return removeErr
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return inst, nil
}

// stoppedContext is cancelled when ch closes or cancel is called.
func stoppedContext(ch <-chan struct{}) (ctx context.Context, cancel func()) {
	ctx, cancel = context.WithCancel(context.Background())
	go func() {
		select {
		case <-ch:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}
