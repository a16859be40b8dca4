package sconescontainer

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/testcontainers/testcontainers-go"
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

// StubConfig is what the stub serves and where it reaches S3: the STUB_*
// and AWS_* variables of cmd/stub-endpoint, set by WithStubConfig.
type StubConfig struct {
	// ServeSageMaker makes the stub serve the whole SageMaker API
	// (training jobs, models, endpoint configs, endpoints, InvokeEndpoint,
	// data capture) over the S3 at S3Endpoint, for a LocalStack-compatible
	// endpoint without SageMaker; the endpoint and model fields below are
	// then left empty, and only S3Endpoint, Region, the credentials and
	// CaptureFlushInterval apply.
	ServeSageMaker bool
	// EndpointName is the one endpoint served (required unless
	// ServeSageMaker): InvokeEndpoint for any other name answers
	// ValidationError, as SageMaker does.
	EndpointName string
	// Variant is the production variant (default AllTraffic).
	Variant string
	// ModelDataURL is the s3:// URL of the trained model.tar.gz (required
	// unless ServeSageMaker).
	ModelDataURL string
	// S3Endpoint is the S3 URL as seen from inside the container, e.g.
	// http://emulator:4566 on a shared Docker network; empty means AWS.
	S3Endpoint string
	// Region defaults to us-east-1; the credentials to test/test.
	Region, AccessKeyID, SecretAccessKey string
	// DataCaptureConfig is SageMaker's DataCaptureConfig as JSON (what
	// DescribeEndpointConfig returns); empty leaves capture off unless
	// CaptureDestination is set.
	DataCaptureConfig string
	// CaptureDestination turns capture on (Input and Output, 100 %) to
	// this s3:// prefix when DataCaptureConfig is empty.
	CaptureDestination string
	// CaptureFlushInterval is how often buffered records are written
	// (default 1 s).
	CaptureFlushInterval time.Duration
}

// WithStubConfig sets the stub's configuration as container environment.
func WithStubConfig(c StubConfig) testcontainers.CustomizeRequestOption {
	return func(req *testcontainers.GenericContainerRequest) error {
		env, err := c.env()
		if err != nil {
			return err
		}
		return testcontainers.WithEnv(env)(req)
	}
}

// env is the container environment that configures cmd/stub-endpoint.
func (c StubConfig) env() (map[string]string, error) {
	one := c.EndpointName != "" || c.ModelDataURL != "" || c.Variant != "" || c.DataCaptureConfig != "" || c.CaptureDestination != ""
	switch {
	case c.ServeSageMaker && one:
		return nil, errors.New("sconescontainer: StubConfig: ServeSageMaker serves the endpoints CreateEndpoint makes; leave the endpoint, model and capture fields empty")
	case !c.ServeSageMaker && c.EndpointName == "":
		return nil, errors.New("sconescontainer: StubConfig: EndpointName is required")
	case !c.ServeSageMaker && c.ModelDataURL == "":
		return nil, errors.New("sconescontainer: StubConfig: ModelDataURL is required")
	}
	env := map[string]string{
		"AWS_REGION":            or(c.Region, "us-east-1"),
		"AWS_ACCESS_KEY_ID":     or(c.AccessKeyID, "test"),
		"AWS_SECRET_ACCESS_KEY": or(c.SecretAccessKey, "test"),
	}
	set := func(k, v string) {
		if v != "" {
			env[k] = v
		}
	}
	if c.ServeSageMaker {
		env["STUB_SERVE_SAGEMAKER"] = "true"
	}
	set("STUB_ENDPOINT_NAME", c.EndpointName)
	set("STUB_MODEL_DATA_URL", c.ModelDataURL)
	set("STUB_VARIANT", c.Variant)
	set("AWS_ENDPOINT_URL_S3", c.S3Endpoint)
	set("STUB_DATA_CAPTURE_CONFIG", c.DataCaptureConfig)
	set("STUB_CAPTURE_DESTINATION", c.CaptureDestination)
	if c.CaptureFlushInterval > 0 {
		env["STUB_CAPTURE_FLUSH_INTERVAL"] = c.CaptureFlushInterval.String()
	}
	return env, nil
}

func or(v, def string) string {
	if v != "" {
		return v
	}
	return def
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
		testcontainers.WithWaitStrategy(healthStrategy{timeout: DefaultStartupTimeout, port: StubPort, path: pingPath, check: pingProbe, what: "the stub endpoint"}),
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
	return reach(ctx, s.Container, StubPort, pingProbe)
}

// pingPath is the health check of SageMaker's serving-container contract.
const pingPath = "/ping"

// pingProbe checks that base answers GET /ping with 200.
func pingProbe(ctx context.Context, base string) error {
	status, _, err := get(ctx, base+pingPath)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("GET %s%s: %d", base, pingPath, status)
	}
	return nil
}
