package sconesdocker

import (
	"strings"
	"testing"
)

// StubConfig becomes cmd/stub-endpoint's environment, and refuses the
// combinations the stub would refuse at start, naming the field.
func TestStubConfigEnv(t *testing.T) {
	env, err := StubConfig{ServeSageMaker: true, S3Endpoint: "http://127.0.0.1:4566", Region: "eu-west-1"}.Env()
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"STUB_SERVE_SAGEMAKER": "true", "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:4566", "AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "test"} {
		if env[k] != v {
			t.Errorf("%s = %q, want %q (env %v)", k, env[k], v, env)
		}
	}
	if _, ok := env["STUB_ENDPOINT_NAME"]; ok {
		t.Errorf("unset fields are set: %v", env)
	}
	for c, want := range map[*StubConfig]string{
		{ServeSageMaker: true, EndpointName: "e"}: "leave the endpoint, model and capture fields empty",
		{ModelDataURL: "s3://b/m.tar.gz"}:         "EndpointName is required",
		{EndpointName: "e"}:                       "ModelDataURL is required",
	} {
		if _, err := c.Env(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%+v: %v, want %q", *c, err, want)
		}
	}
}
