package integration

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/testcontainers/testcontainers-go"

	"github.com/scones/scones/sconescontainer"
)

// TestPipelineInContainer runs the same end-to-end suite against the
// emulator built into a FROM scratch image and started by testcontainers-go.
// Lambda functions and the classifier run inside that container.
func TestPipelineInContainer(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the container suite builds an image and trains a model")
	}
	testcontainers.SkipIfProviderIsNotHealthy(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	wd, _ := os.Getwd()
	image, err := sconescontainer.BuildImage(ctx, filepath.Dir(wd)) // the module root
	if err != nil {
		t.Fatal(err)
	}
	ctr, err := sconescontainer.Run(ctx, image, sconescontainer.WithTimeScale(0))
	testcontainers.CleanupContainer(t, ctr)
	if err != nil {
		t.Fatal(err)
	}
	url, err := ctr.BaseEndpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("emulator container %s at %s", image, url)
	runSuite(t, ctx, url, nil)
}
