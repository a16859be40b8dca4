package classifier

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func realDataDir(t testing.TB) string {
	t.Helper()
	d := filepath.Join("..", "..", "shared", "data", "cifar100-bikes")
	if _, err := os.Stat(filepath.Join(d, "train.lst")); err != nil {
		t.Skipf("real data not found at %s (the ../shared/data/cifar100-bikes folder next to the module root): %v", d, err)
	}
	return d
}

func loadReal(t testing.TB) (train, test []Example) {
	t.Helper()
	d := realDataDir(t)
	tr, err := LoadLST(filepath.Join(d, "train.lst"), filepath.Join(d, "train"))
	if err != nil {
		t.Fatal(err)
	}
	te, err := LoadLST(filepath.Join(d, "test.lst"), filepath.Join(d, "test"))
	if err != nil {
		t.Fatal(err)
	}
	return tr, te
}

// skipLong skips the slow real-data training tests under -short, under the
// race detector (which slows training about 10x) and when
// SCONES_SKIP_LONG_TESTS is set to a non-empty value.
func skipLong(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("real-data training test skipped under -short")
	}
	if raceEnabled {
		t.Skip("real-data training test skipped under the race detector (training is ~10x slower); run without -race")
	}
	if os.Getenv("SCONES_SKIP_LONG_TESTS") != "" {
		t.Skip("real-data training test skipped: SCONES_SKIP_LONG_TESTS is set")
	}
}

// TestRealDataAccuracy trains the default configuration on the 1,000 real
// training images and checks accuracy on the 200 real test images.
func TestRealDataAccuracy(t *testing.T) {
	skipLong(t)
	tr, te := loadReal(t)
	cfg := DefaultTrainConfig()
	start, cpu0 := time.Now(), processCPU()
	m, met, err := Train(context.Background(), cfg, tr, nil, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	dur, cpu := time.Since(start), processCPU()-cpu0
	correct := 0
	for _, e := range te {
		p, err := m.Predict(e.Image)
		if err != nil {
			t.Fatal(err)
		}
		if (p[1] > p[0]) == (e.Label == 1) {
			correct++
		}
	}
	acc := float64(correct) / float64(len(te))
	t.Logf("seed %d: test accuracy %.3f (%d/%d), training wall time %v, CPU time %v (%.1f s on two idle cores), %d epochs, %d parameters",
		cfg.Seed, acc, correct, len(te), dur.Round(time.Millisecond), cpu.Round(time.Millisecond), cpu.Seconds()/2, len(met.Epochs), m.NumParams())
	if acc < 0.875 {
		t.Errorf("test accuracy %.3f < 0.875", acc)
	}
}
