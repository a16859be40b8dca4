package sconescontainer

import (
	"context"

	"github.com/testcontainers/testcontainers-go"

	"github.com/scones/scones/sconesdocker"
)

// StubPort is the stub endpoint's port inside its container.
const StubPort = "8080/tcp"

// StubEndpoint is a running stub endpoint container: either the whole
// SageMaker API (StubConfig.ServeSageMaker) or one model served at
// SageMaker Runtime's POST /endpoints/{name}/invocations (and the container
// contract's /ping and /invocations), writing data-capture files to S3. It
// embeds the testcontainers.Container.
type StubEndpoint struct {
	testcontainers.Container
}

// WithStubConfig sets the stub's configuration as container environment.
func WithStubConfig(c StubConfig) testcontainers.CustomizeRequestOption {
	return func(req *testcontainers.GenericContainerRequest) error {
		env, err := c.Env()
		if err != nil {
			return err
		}
		return testcontainers.WithEnv(env)(req)
	}
}

// RunStubEndpoint starts the stub endpoint image (see BuildStubImage),
// configured by WithStubConfig among opts, and waits until GET /ping
// answers 200 on the mapped port 8080/tcp, which the stub does once the
// model is loaded (or, serving SageMaker, once it listens). Put it on a Docker network with an alias (testcontainers'
// network.WithNetwork) for code in other containers, such as Lambda
// functions in the emulator container, to reach it there:
//
//	AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME=http://<alias>:8080
//
// As with Run, a non-nil *StubEndpoint may come back with an error.
func RunStubEndpoint(ctx context.Context, image string, opts ...testcontainers.ContainerCustomizer) (*StubEndpoint, error) {
	ctr, err := runImage(ctx, image, "BuildStubImage", append([]testcontainers.ContainerCustomizer{
		testcontainers.WithExposedPorts(StubPort),
		testcontainers.WithWaitStrategy(healthStrategy{timeout: DefaultStartupTimeout, port: StubPort, path: sconesdocker.PingPath, check: sconesdocker.Ping, what: "the stub endpoint"}),
	}, opts...))
	var s *StubEndpoint
	if ctr != nil {
		s = &StubEndpoint{Container: ctr}
	}
	return s, err
}

// BaseEndpoint is the stub's URL on the host (http://127.0.0.1:<mapped
// port>), for a sagemakerruntime client's BaseEndpoint.
func (s *StubEndpoint) BaseEndpoint(ctx context.Context) (string, error) {
	return reach(ctx, s.Container, StubPort, sconesdocker.Ping)
}
