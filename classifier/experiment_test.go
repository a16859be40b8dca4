package classifier

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// splitTrain splits the training examples into a stratified fit/holdout
// split: every fifth example of each class (in manifest order) is held out.
// Model choices are made on the holdout, never on the test images.
func splitTrain(ex []Example) (fit, holdout []Example) {
	seen := map[int]int{}
	for _, e := range ex {
		seen[e.Label]++
		if seen[e.Label]%5 == 0 {
			holdout = append(holdout, e)
		} else {
			fit = append(fit, e)
		}
	}
	return fit, holdout
}

// TestExperiment is a tuning harness, not a check. SCONES_EXPERIMENT holds
// a JSON TrainConfig patch (e.g. {"Epochs":20}); seeds in SCONES_SEEDS
// (comma separated). It trains on 800 training images and reports accuracy
// on the 200 held-out training images; SCONES_EXPERIMENT_TEST=1 trains on
// all 1,000 and reports test accuracy instead.
func TestExperiment(t *testing.T) {
	patch := os.Getenv("SCONES_EXPERIMENT")
	if patch == "" {
		t.Skip("tuning harness: set SCONES_EXPERIMENT to a JSON TrainConfig patch, e.g. '{}'")
	}
	tr, te := loadReal(t)
	fit, val := splitTrain(tr)
	if os.Getenv("SCONES_EXPERIMENT_TEST") == "1" {
		fit, val = tr, te
	}
	seeds := strings.Split(os.Getenv("SCONES_SEEDS"), ",")
	var accs []float64
	for _, s := range seeds {
		cfg := DefaultTrainConfig()
		if err := json.Unmarshal([]byte(patch), &cfg); err != nil {
			t.Fatal(err)
		}
		if s != "" {
			if err := json.Unmarshal([]byte(s), &cfg.Seed); err != nil {
				t.Fatal(err)
			}
		}
		start, cpu0 := time.Now(), processCPU()
		m, met, err := Train(context.Background(), cfg, fit, nil, func(string, ...any) {})
		if err != nil {
			t.Fatal(err)
		}
		dur, cpu := time.Since(start), processCPU()-cpu0
		vx, vy, err := toTensors(val, cfg.NumClasses, cfg.Height, cfg.Width)
		if err != nil {
			t.Fatal(err)
		}
		acc, _ := m.evaluate(vx, vy, 0)
		var alt []string
		for _, v := range []int{1, 2, 6, 10} {
			m.tta = v
			a, _ := m.evaluate(vx, vy, 0)
			alt = append(alt, fmt.Sprintf("tta%d=%.3f", v, a))
		}
		accs = append(accs, acc)
		t.Logf("seed %d: acc %.3f (%s) train %.3f time %.1fs cpu %.1fs params %d", cfg.Seed, acc, strings.Join(alt, " "), met.TrainAccuracy, dur.Seconds(), cpu.Seconds(), met.NumParams)
	}
	mean := 0.0
	for _, a := range accs {
		mean += a
	}
	t.Logf("RESULT %s mean %.4f over %v", patch, mean/float64(len(accs)), accs)
}
