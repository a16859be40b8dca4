package integration

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/network"

	"github.com/scones/scones/emulator/faults"
	"github.com/scones/scones/pipeline"
	"github.com/scones/scones/profile"
	"github.com/scones/scones/sconescontainer"
)

// Network aliases of the container suite: the stub endpoint reaches the
// emulator's S3 at http://emulator:4566, and the classify Lambda (which
// runs inside the emulator container) reaches the stub at
// http://stub-endpoint:8080.
const (
	emulatorAlias = "emulator"
	stubAlias     = "stub-endpoint"
)

// TestPipelineInContainer runs the same end-to-end suite against the
// emulator built into a FROM scratch image and started by testcontainers-go,
// with SageMaker Runtime served by the stub endpoint container: the
// emulator trains the model and runs the Lambda functions, and the stub
// serves the trained model to the classify function and writes the data
// capture into the emulator's S3. Both containers share a Docker network.
//
// To prove that every inference goes to the stub, the emulator's own
// InvokeEndpoint fails every call (fault injection) once the stub runs:
// one inference reaching the emulator would fail an execution, which the
// suite refuses.
func TestPipelineInContainer(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the container suite builds two images and trains a model")
	}
	testcontainers.SkipIfProviderIsNotHealthy(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	wd, _ := os.Getwd()
	root := filepath.Dir(wd) // the module root
	image, err := sconescontainer.BuildImage(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	stubImage, err := sconescontainer.BuildStubImage(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	nw, err := network.New(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nw.Remove(context.Background()) })

	ctr, err := sconescontainer.Run(ctx, image, sconescontainer.WithTimeScale(0), network.WithNetwork([]string{emulatorAlias}, nw))
	testcontainers.CleanupContainer(t, ctr)
	if err != nil {
		t.Fatal(err)
	}
	url, err := ctr.BaseEndpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("emulator container %s at %s", image, url)

	runSuite(t, ctx, url, suiteHooks{
		configure: func(p *profile.Profile) error {
			return p.SetFunctionEndpoint(profile.SageMakerRuntime, "http://"+stubAlias+":8080")
		},
		afterDeploy: func(t *testing.T, env *pipeline.Env) {
			stub := startStub(t, ctx, env, stubImage, nw)
			base, err := stub.BaseEndpoint(ctx)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("stub endpoint container %s at %s (in the network: http://%s:8080)", stubImage, base, stubAlias)
			if err := ctr.SetFaults(ctx, faults.Rule{Service: "sagemaker", Operation: "InvokeEndpoint", Rate: 1,
				Code: "ServiceUnavailable", Status: 503, Message: "this suite serves the endpoint from the stub container"}); err != nil {
				t.Fatal(err)
			}
		},
	})
}

// startStub runs the stub endpoint container for the model and the data
// capture settings deploy created in the emulator.
func startStub(t *testing.T, ctx context.Context, env *pipeline.Env, image string, nw *testcontainers.DockerNetwork) *sconescontainer.StubEndpoint {
	t.Helper()
	n := env.Profile.Names
	model, err := env.Clients.SageMaker.DescribeModel(ctx, &sagemaker.DescribeModelInput{ModelName: aws.String(n.Model)})
	if err != nil {
		t.Fatal(err)
	}
	ec, err := env.Clients.SageMaker.DescribeEndpointConfig(ctx, &sagemaker.DescribeEndpointConfigInput{EndpointConfigName: aws.String(n.EndpointConfig)})
	if err != nil {
		t.Fatal(err)
	}
	capture, err := json.Marshal(ec.DataCaptureConfig)
	if err != nil {
		t.Fatal(err)
	}
	stub, err := sconescontainer.RunStubEndpoint(ctx, image,
		sconescontainer.WithStubConfig(sconescontainer.StubConfig{
			EndpointName:         n.Endpoint,
			Variant:              aws.ToString(ec.ProductionVariants[0].VariantName),
			ModelDataURL:         aws.ToString(model.PrimaryContainer.ModelDataUrl),
			S3Endpoint:           "http://" + emulatorAlias + ":4566",
			Region:               env.Region,
			DataCaptureConfig:    string(capture),
			CaptureFlushInterval: 200 * time.Millisecond,
		}),
		network.WithNetwork([]string{stubAlias}, nw))
	testcontainers.CleanupContainer(t, stub)
	if err != nil {
		t.Fatal(err)
	}
	return stub
}
