package sconesdocker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	buildtypes "github.com/moby/moby/api/types/build"
	"github.com/moby/moby/api/types/jsonstream"
	"github.com/moby/moby/client"
)

// ErrDockerUnavailable is wrapped by the errors of Client, and so of
// BuildImage, BuildStubImage and the stub service, when no Docker daemon
// answers.
var ErrDockerUnavailable = errors.New("scones: Docker is not available")

// CallTimeout bounds a Docker API call that should answer at once (ping,
// inspect, remove), so that a hung daemon cannot hang a job.
const CallTimeout = 30 * time.Second

// Client connects to the Docker daemon: DOCKER_HOST (with
// DOCKER_API_VERSION, DOCKER_CERT_PATH and DOCKER_TLS_VERIFY), else the
// default socket, else the user's rootless or Docker Desktop socket when
// the default one is missing. The API version is negotiated with the
// daemon. A daemon that does not answer the ping is an error naming where
// it was looked for. The caller closes the client.
func Client(ctx context.Context) (*client.Client, error) {
	opts := []client.Opt{client.FromEnv}
	if os.Getenv(client.EnvOverrideHost) == "" {
		if sock := userDockerSocket(); sock != "" {
			opts = append(opts, client.WithHost("unix://"+sock))
		}
	}
	cli, err := client.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("%w: %w (check DOCKER_HOST and the other DOCKER_* variables)", ErrDockerUnavailable, err)
	}
	pctx, cancel := context.WithTimeout(ctx, CallTimeout)
	defer cancel()
	if _, err := cli.Ping(pctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		hint := "DOCKER_HOST is unset, so " + cli.DaemonHost() + " was tried; set DOCKER_HOST to reach another daemon"
		if h := os.Getenv(client.EnvOverrideHost); h != "" {
			hint = "DOCKER_HOST=" + h
		}
		cli.Close()
		return nil, fmt.Errorf("%w: %w (%s)", ErrDockerUnavailable, err, hint)
	}
	return cli, nil
}

// userDockerSocket returns a rootless Docker or Docker Desktop socket when
// the default socket does not exist, the places testcontainers-go looked
// too; "" keeps the client's default.
func userDockerSocket() string {
	def, ok := strings.CutPrefix(client.DefaultDockerHost, "unix://")
	if runtime.GOOS == "windows" || !ok {
		return ""
	}
	if _, err := os.Stat(def); err == nil {
		return ""
	}
	var socks []string
	if xdg := os.Getenv("XDG_RUNTIME_DIR"); xdg != "" {
		socks = append(socks, filepath.Join(xdg, "docker.sock"))
	}
	if home, err := os.UserHomeDir(); err == nil {
		socks = append(socks, filepath.Join(home, ".docker", "run", "docker.sock"), filepath.Join(home, ".docker", "desktop", "docker.sock"))
	}
	socks = append(socks, filepath.Join("/run/user", strconv.Itoa(os.Getuid()), "docker.sock"))
	for _, s := range socks {
		if _, err := os.Stat(s); err == nil {
			return s
		}
	}
	return ""
}

// Build builds the image of the build context buildContext (a tar holding
// a Dockerfile) as ref (repo:tag), with labels, and waits for the build to
// end, its text sent to log (if not nil). It uses the classic builder:
// BuildKit needs a session this client does not run, and FROM scratch with
// COPY needs nothing more.
func Build(ctx context.Context, cli *client.Client, buildContext io.Reader, ref string, labels map[string]string, log io.Writer) error {
	res, err := cli.ImageBuild(ctx, buildContext, client.ImageBuildOptions{
		Tags:        []string{ref},
		Dockerfile:  "Dockerfile",
		Remove:      true,
		ForceRemove: true,
		Labels:      labels,
		Version:     buildtypes.BuilderV1,
	})
	if err != nil {
		return err
	}
	defer res.Body.Close()
	return ReadBuildOutput(res.Body, log)
}

// buildMessage is one JSON message of the build output.
type buildMessage struct {
	Stream      string            `json:"stream"`
	Error       string            `json:"error"` // older daemons
	ErrorDetail *jsonstream.Error `json:"errorDetail"`
}

// ReadBuildOutput reads the build's JSON message stream to the end,
// writing its text to log (if not nil); an error message in it fails the
// build, prefixed with the step it stopped at.
func ReadBuildOutput(r io.Reader, log io.Writer) error {
	dec := json.NewDecoder(r)
	step := ""
	for {
		var m buildMessage
		if err := dec.Decode(&m); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("reading the build output: %w", err)
		}
		msg := m.Error
		if m.ErrorDetail != nil && m.ErrorDetail.Message != "" {
			msg = m.ErrorDetail.Message
		}
		if msg != "" {
			if step != "" {
				return fmt.Errorf("%s: %s", step, msg)
			}
			return errors.New(msg)
		}
		if log != nil && m.Stream != "" {
			io.WriteString(log, m.Stream)
		}
		if s := strings.TrimSpace(m.Stream); strings.HasPrefix(s, "Step ") {
			step = s
		}
	}
}
