package sconesdocker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

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

// Env is the container environment that configures cmd/stub-endpoint.
func (c StubConfig) Env() (map[string]string, error) {
	one := c.EndpointName != "" || c.ModelDataURL != "" || c.Variant != "" || c.DataCaptureConfig != "" || c.CaptureDestination != ""
	switch {
	case c.ServeSageMaker && one:
		return nil, errors.New("sconesdocker: StubConfig: ServeSageMaker serves the endpoints CreateEndpoint makes; leave the endpoint, model and capture fields empty")
	case !c.ServeSageMaker && c.EndpointName == "":
		return nil, errors.New("sconesdocker: StubConfig: EndpointName is required")
	case !c.ServeSageMaker && c.ModelDataURL == "":
		return nil, errors.New("sconesdocker: StubConfig: ModelDataURL is required")
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

// PingPath is the health check of SageMaker's serving-container contract.
const PingPath = "/ping"

// Ping checks that base answers GET /ping with 200.
func Ping(ctx context.Context, base string) error {
	status, _, err := Fetch(ctx, base+PingPath)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("GET %s%s: %d", base, PingPath, status)
	}
	return nil
}

// Fetch does one GET, for a health probe, with a 2 s timeout and returns the
// status and up to 1 MiB of body. Proxies are not used: the address is the
// Docker host.
func Fetch(ctx context.Context, url string) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, nil, err
	}
	hc := http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, body, err
}
