//go:build !nodocker

package smcontainer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
)

func BuildScratchImage(ctx context.Context, img ScratchImage) (string, error) {
	dir, err := os.MkdirTemp("", "scones-image-*")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	h := sha256.New()
	dests := make([]string, 0, len(img.Files))
	for d := range img.Files {
		dests = append(dests, d)
	}
	sort.Strings(dests)
	for _, d := range dests {
		data, err := os.ReadFile(img.Files[d])
		if err != nil {
			return "", fmt.Errorf("smcontainer: image file: %w", err)
		}
		fmt.Fprintf(h, "%s\x00%d\x00", d, len(data))
		h.Write(data)
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(d)), data, 0o755); err != nil {
			return "", err
		}
	}
	df := img.Dockerfile()
	h.Write([]byte(df))
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(df), 0o644); err != nil {
		return "", err
	}
	tag := hex.EncodeToString(h.Sum(nil))[:16]
	provider, err := testcontainers.NewDockerProvider()
	if err != nil {
		return "", fmt.Errorf("smcontainer: docker: %w", err)
	}
	defer provider.Close()
	ref, err := provider.BuildImage(ctx, &testcontainers.ContainerRequest{FromDockerfile: testcontainers.FromDockerfile{
		Context: dir, Dockerfile: "Dockerfile", Repo: img.Repo, Tag: tag, KeepImage: true, BuildLogWriter: io.Discard,
	}})
	if err != nil {
		return "", fmt.Errorf("smcontainer: build image %s: %w", img.Repo, err)
	}
	pruneOldTags(ctx, provider, img.Repo, tag)
	return ref, nil
}

// pruneOldTags removes the images of repo built for older contents (other
// content-hash tags), so that repeated builds on one machine do not pile
// up. An image a container still uses is refused by Docker and stays.
func pruneOldTags(ctx context.Context, provider *testcontainers.DockerProvider, repo, keep string) {
	cli := provider.Client()
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

type tcLogger struct{ r *Runner }

func (l tcLogger) Printf(format string, v ...any) {
	l.r.log.Debug(strings.TrimSpace(fmt.Sprintf(format, v...)), "component", "testcontainers")
}

type logConsumer struct{ w *lineWriter }

func (c logConsumer) Accept(l testcontainers.Log) { c.w.Write(l.Content) }

func (r *Runner) startContainer(ctx context.Context, prog Program, spec Spec, verb string, env map[string]string, follow *lineWriter) (testcontainers.Container, error) {
	ref, err := r.image(ctx, prog)
	if err != nil {
		return nil, err
	}
	allEnv := map[string]string{}
	for k, v := range spec.Env {
		allEnv[k] = v
	}
	for k, v := range env {
		allEnv[k] = v
	}
	req := testcontainers.ContainerRequest{
		Image: ref,
		Cmd:   []string{verb},
		Env:   allEnv,
		ConfigModifier: func(c *container.Config) {
			c.User = strconv.Itoa(os.Getuid()) + ":" + strconv.Itoa(os.Getgid())
		},
		HostConfigModifier: func(hc *container.HostConfig) {
			hc.NetworkMode = "host"
			hc.Binds = append(hc.Binds, spec.Root+":"+containerRoot)
		},
	}
	if follow != nil {
		req.LogConsumerCfg = &testcontainers.LogConsumerConfig{Consumers: []testcontainers.LogConsumer{logConsumer{follow}}}
	}
	c, err := testcontainers.GenericContainer(ctx, testcontainers.GenericContainerRequest{
		ContainerRequest: req, Started: true, Logger: tcLogger{r},
	})
	if err != nil {
		if c != nil {
			c.Terminate(context.Background())
		}
		return nil, fmt.Errorf("smcontainer: start container %s %s: %w", ref, verb, err)
	}
	return c, nil
}

func (r *Runner) dockerTrain(ctx context.Context, prog Program, spec Spec) error {
	c, err := r.startContainer(ctx, prog, spec, "train", nil, nil)
	if err != nil {
		return err
	}
	defer c.Terminate(context.Background())
	code, waitErr := r.waitExit(ctx, c, 100*time.Millisecond)
	// The whole log, once the container has exited, so no line is lost.
	out := r.lineWriter(spec, "train")
	lctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if rc, err := c.Logs(lctx); err == nil {
		io.Copy(out, rc)
		rc.Close()
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

func (r *Runner) waitExit(ctx context.Context, c testcontainers.Container, every time.Duration) (int, error) {
	for {
		st, err := c.State(context.Background())
		if err != nil {
			return -1, fmt.Errorf("smcontainer: container state: %w", err)
		}
		if !st.Running && st.Status != "created" {
			return st.ExitCode, nil
		}
		select {
		case <-ctx.Done():
			t := r.opts.StopTimeout
			c.Stop(context.Background(), &t)
			return -1, ctx.Err()
		case <-time.After(every):
		}
	}
}

func (r *Runner) dockerServe(ctx context.Context, prog Program, spec Spec, port int) (*Instance, error) {
	out := r.lineWriter(spec, "serve")
	c, err := r.startContainer(ctx, prog, spec, "serve", map[string]string{portEnv: strconv.Itoa(port)}, out)
	if err != nil {
		return nil, err
	}
	inst := &Instance{URL: "http://127.0.0.1:" + strconv.Itoa(port), done: make(chan struct{})}
	stopped := make(chan struct{})
	go func() {
		code, err := r.waitExit(stoppedContext(stopped), c, 500*time.Millisecond)
		if err == nil && code != 0 {
			err = &ExitError{Code: code}
		}
		out.Close()
		inst.exited(err)
	}()
	inst.stop = func(ctx context.Context) error {
		select {
		case <-stopped:
		default:
			close(stopped)
		}
		err := c.Terminate(ctx, testcontainers.StopTimeout(r.opts.StopTimeout))
		select {
		case <-inst.done:
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		}
		return err
	}
	return inst, nil
}

func stoppedContext(ch <-chan struct{}) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-ch; cancel() }()
	return ctx
}
