package integration

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/network"

	"github.com/scones/scones/emulator/faults"
	"github.com/scones/scones/profile"
	"github.com/scones/scones/sconescontainer"
)

// Network aliases of the container suite: the stub reaches the emulator's
// S3 at http://emulator:4566, and the classify Lambda (which runs inside
// the emulator container) reaches the stub at http://stub-endpoint:8080.
const (
	emulatorAlias = "emulator"
	stubAlias     = "stub-endpoint"
)

// TestPipelineInContainer runs the same end-to-end suite with the
// localstack profile against two containers started by testcontainers-go
// on one Docker network, both FROM scratch images built from this source:
//
//   - the emulator, as the LocalStack-compatible endpoint: S3, Lambda
//     (the functions run inside it), Step Functions, IAM and STS;
//   - the stub endpoint container serving SageMaker (--serve-sagemaker):
//     the training job, the model, the endpoint with its data capture and
//     every InvokeEndpoint, with data, model and capture files in the
//     emulator's S3.
//
// The emulator's own SageMaker fails every call (fault injection), so one
// SageMaker request reaching it instead of the stub fails the suite.
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

	emu, err := sconescontainer.Run(ctx, image, sconescontainer.WithTimeScale(0),
		sconescontainer.WithFaults(faults.Rule{Service: "sagemaker", Operation: "*", Rate: 1, Code: "ServiceUnavailable", Status: 503,
			Message: "this suite serves SageMaker from the stub endpoint container"}),
		network.WithNetwork([]string{emulatorAlias}, nw))
	testcontainers.CleanupContainer(t, emu)
	if err != nil {
		t.Fatal(err)
	}
	url, err := emu.BaseEndpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	stub, err := sconescontainer.RunStubEndpoint(ctx, stubImage,
		sconescontainer.WithStubConfig(sconescontainer.StubConfig{ServeSageMaker: true,
			S3Endpoint: "http://" + emulatorAlias + ":4566", CaptureFlushInterval: 200 * time.Millisecond}),
		network.WithNetwork([]string{stubAlias}, nw))
	testcontainers.CleanupContainer(t, stub)
	if err != nil {
		t.Fatal(err)
	}
	stubURL, err := stub.BaseEndpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("emulator container %s at %s; stub SageMaker container %s at %s", image, url, stubImage, stubURL)

	runSuite(t, ctx, url, suiteHooks{
		profile: profile.LocalStack,
		configure: func(p *profile.Profile) error {
			p.Endpoints[profile.SageMaker] = stubURL
			p.Endpoints[profile.SageMakerRuntime] = stubURL
			return p.SetFunctionEndpoint(profile.SageMakerRuntime, "http://"+stubAlias+":8080")
		},
	})
}
