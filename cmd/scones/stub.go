package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/scones/scones/profile"
	"github.com/scones/scones/sconesdocker"
)

func stubCommand() *cli.Command {
	return &cli.Command{
		Name:  "stub",
		Usage: "start the stub SageMaker container the localstack profile uses, or --stop it",
		Description: `The localstack profile takes SageMaker (control plane and runtime) from the
stub endpoint container, which serves the emulator's SageMaker over the
profile's S3. This builds its image from the source tree (FROM scratch; only
what changed is rebuilt), and runs it as the container ` + sconesdocker.StubServiceName + `
on the host's network, listening where the profile's sagemaker endpoint
points (default ` + profile.DefaultStubEndpoint + `). It keeps running after this
command ends; a second start leaves a running one alone unless its image
or configuration changed, when it replaces it. Needs Docker.`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "stop", Usage: "remove the container"},
			&cli.StringFlag{Name: "container", Value: sconesdocker.StubServiceName, Usage: "the container's `NAME`"},
			&cli.StringFlag{Name: "listen", Usage: "listen on `HOST:PORT` instead of the sagemaker endpoint's own address: 0.0.0.0:8080 lets functions that LocalStack runs in containers reach the stub too (see function_endpoints)"},
			&cli.StringFlag{Name: "data-dir", Usage: "keep SageMaker's state (training jobs, models, endpoints) in `DIR` across restarts of the container; in memory without"},
		},
		Action: func(c *cli.Context) error {
			p, err := resolveProfile(c)
			if err != nil {
				return err
			}
			if p.Name != profile.LocalStack {
				return fmt.Errorf("the stub serves SageMaker for the localstack profile (--profile localstack); the %s profile has its own", p.Name)
			}
			if c.Bool("stop") {
				removed, err := sconesdocker.StopStubService(c.Context, c.String("container"))
				if err != nil {
					return err
				}
				if removed {
					fmt.Fprintf(c.App.Writer, "removed the %s container\n", c.String("container"))
				} else {
					fmt.Fprintf(c.App.Writer, "no %s container was there\n", c.String("container"))
				}
				return nil
			}
			sm := p.Endpoints[profile.SageMaker]
			addr, err := stubAddr(sm)
			if err != nil {
				return err
			}
			if l := c.String("listen"); l != "" {
				_, want, _ := net.SplitHostPort(addr)
				if _, port, err := net.SplitHostPort(l); err != nil || port != want {
					return fmt.Errorf("--listen %q: want HOST:PORT on the sagemaker endpoint's port (%s)", l, sm)
				}
				addr = l
			}
			if rt := p.Endpoints[profile.SageMakerRuntime]; rt != sm {
				return fmt.Errorf("the stub serves SageMaker and SageMaker Runtime at one address, but the profile has sagemaker %s and sagemaker_runtime %s", sm, rt)
			}
			dataDir := c.String("data-dir")
			if dataDir != "" {
				if dataDir, err = filepath.Abs(dataDir); err != nil {
					return err
				}
			}
			fmt.Fprintf(c.App.ErrWriter, "building the stub image %s from the source tree...\n", sconesdocker.DefaultStubImage)
			image, err := sconesdocker.BuildStubImage(c.Context, "")
			if err != nil {
				return err
			}
			started, err := sconesdocker.StartStubService(c.Context, image, sconesdocker.StubServiceOptions{
				Name: c.String("container"), Addr: addr, DataDir: dataDir,
				Config: sconesdocker.StubConfig{ServeSageMaker: true, S3Endpoint: p.Endpoints[profile.S3], Region: p.Region},
			})
			if err != nil {
				return err
			}
			if err := answers(c.Context, p.Endpoints[profile.S3]); err != nil {
				fmt.Fprintf(c.App.ErrWriter, "note: nothing answers at %s yet; the stub keeps SageMaker's data in that S3, so start LocalStack (or scones-emulator) there before training (%v)\n", p.Endpoints[profile.S3], err)
			}
			verb := "already running"
			if started {
				verb = "started"
			}
			fmt.Fprintf(c.App.Writer, "%s: SageMaker at %s, over S3 at %s (container %s; remove it with `scones --profile localstack stub --stop`)\n",
				verb, sm, p.Endpoints[profile.S3], c.String("container"))
			return nil
		},
	}
}

// stubAddr is the host:port the stub listens on for the sagemaker endpoint
// u, which must be on this machine: the stub runs on the host's network.
func stubAddr(u string) (string, error) {
	pu, err := url.Parse(u)
	if err != nil || pu.Scheme != "http" || pu.Port() == "" {
		return "", fmt.Errorf("the sagemaker endpoint %q: the stub serves plain http on a port, e.g. %s", u, profile.DefaultStubEndpoint)
	}
	host := pu.Hostname()
	if host == "localhost" {
		host = "127.0.0.1"
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return "", fmt.Errorf("the sagemaker endpoint %s is not on this machine (localhost or 127.0.0.1), where `scones stub` would start it", u)
	}
	return net.JoinHostPort(host, pu.Port()), nil
}

// requireStub checks, for the localstack profile, that the SageMaker
// endpoint answers at all, so that train, deploy, run and destroy say what
// to start before changing anything, rather than failing halfway (or in
// every execution) on a refused connection. Any HTTP answer will do: the
// endpoint may be something other than the stub.
func requireStub(ctx context.Context, p *profile.Profile) error {
	if p.Name != profile.LocalStack {
		return nil
	}
	sm := p.Endpoints[profile.SageMaker]
	if err := answers(ctx, sm+"/ping"); err != nil {
		return fmt.Errorf("SageMaker for the localstack profile, the stub endpoint at %s, does not answer; start it with `scones --profile localstack stub` (%w)", sm, err)
	}
	return nil
}

// answers checks that something answers HTTP at u, whatever the status.
func answers(ctx context.Context, u string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}
