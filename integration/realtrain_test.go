package integration

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/scones/scones/cifar"
	"github.com/scones/scones/emulator"
	"github.com/scones/scones/fixtures"
	"github.com/scones/scones/pipeline"
)

// minRealAccuracy is the test accuracy the built-in ResNet reached on a GPU
// in the reference run; the local classifier must not fall below it.
const minRealAccuracy = 0.875

// TestTrainRealImagesAccuracy stages the 1,000 real training and 200 real
// test images, trains through CreateTrainingJob with the default
// hyperparameters (validation channel = the test images, as the reference
// notebook did; the classifier keeps its last epoch, so nothing is chosen
// on them), and asserts the reported validation accuracy, so a regression
// of the model cannot land silently.
func TestTrainRealImagesAccuracy(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: trains on the real images (about 30 to 60 s)")
	}
	dir, err := fixtures.RealDir()
	if errors.Is(err, fixtures.ErrNoRealData) {
		t.Skipf("real CIFAR-100 images not present (%v): the accuracy check is skipped", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	ds, err := fixtures.RealDataset(dir, fixtures.RealOptions{})
	if err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(t.TempDir(), "cifar-100-python.tar.gz")
	if err := fixtures.WriteArchiveFile(archive, ds, cifar.FormatPython, 1); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	srv, err := emulator.Start(ctx, emulator.Options{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	env := newEnv(t, srv.URL())
	if _, err := pipeline.Stage(ctx, env, pipeline.StageOptions{Source: archive, CreateBucket: true}); err != nil {
		t.Fatal(err)
	}
	res, err := pipeline.Train(ctx, env, pipeline.TrainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	acc, ok := res.Metrics["validation:accuracy"]
	t.Logf("training job %s: %s in %s, metrics %v", res.JobName, res.Status, res.Duration.Round(time.Second), res.Metrics)
	if !ok {
		t.Fatalf("no validation:accuracy in FinalMetricDataList: %v", res.Metrics)
	}
	if acc < minRealAccuracy {
		t.Errorf("validation accuracy on the 200 real test images = %.3f, want >= %.3f", acc, minRealAccuracy)
	}
}
