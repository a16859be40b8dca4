package classifier

import (
	"bytes"
	"context"
	"errors"
	"image"
	"math"
	"runtime"
	"strings"
	"testing"
)

func smallConfig() TrainConfig {
	cfg := DefaultTrainConfig()
	cfg.Epochs = 3
	cfg.MiniBatchSize = 16
	cfg.Stages = []Stage{{Out: 8, Pool: true}, {Out: 16, Pool: false}}
	return cfg
}

func trainSmall(t testing.TB, seed uint64) (*Model, Metrics) {
	t.Helper()
	cfg := smallConfig()
	cfg.Seed = seed
	m, met, err := Train(context.Background(), cfg, synthExamples(64, 1), synthExamples(16, 2), nil)
	if err != nil {
		t.Fatal(err)
	}
	return m, met
}

func TestDeterminism(t *testing.T) {
	a, _ := trainSmall(t, 7)
	b, _ := trainSmall(t, 7)
	c, _ := trainSmall(t, 8)
	ab, _ := a.MarshalBinary()
	bb, _ := b.MarshalBinary()
	cb, _ := c.MarshalBinary()
	if !bytes.Equal(ab, bb) {
		t.Fatal("same seed produced different model bytes")
	}
	if bytes.Equal(ab, cb) {
		t.Fatal("different seeds produced identical models")
	}
	// The result does not depend on the number of CPUs.
	prev := runtime.GOMAXPROCS(1)
	d, _ := trainSmall(t, 7)
	runtime.GOMAXPROCS(prev)
	db, _ := d.MarshalBinary()
	if !bytes.Equal(ab, db) {
		t.Fatal("GOMAXPROCS=1 produced a different model")
	}
}

func TestTrainLearnsSynthetic(t *testing.T) {
	cfg := smallConfig()
	cfg.Epochs = 6
	var lines []string
	logf := func(f string, a ...any) { lines = append(lines, sprintf(f, a...)) }
	m, met, err := Train(context.Background(), cfg, synthExamples(128, 1), synthExamples(32, 2), logf)
	if err != nil {
		t.Fatal(err)
	}
	if met.ValidationAccuracy < 0.9 {
		t.Fatalf("validation accuracy %v on an easy synthetic task", met.ValidationAccuracy)
	}
	log := strings.Join(lines, "\n")
	for _, want := range []string{"Epoch[0] Train-accuracy=", "Epoch[5] Validation-accuracy=", "Epoch[0] Time cost="} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	p, err := m.Predict(synthImage(testRNG(), 1))
	if err != nil {
		t.Fatal(err)
	}
	if len(p) != 2 || math.Abs(p[0]+p[1]-1) > 1e-5 {
		t.Fatalf("probabilities %v", p)
	}
}

func TestTrainOptimizersAndAugmentations(t *testing.T) {
	for _, c := range []struct{ opt, aug string }{
		{"nag", "crop_color"}, {"adam", "crop_color_transform"}, {"rmsprop", "none"},
	} {
		cfg := smallConfig()
		cfg.Epochs = 2
		cfg.Optimizer, cfg.Augmentation = c.opt, c.aug
		if c.opt != "sgd" && c.opt != "nag" {
			cfg.LearningRate = 0.01
		}
		cfg.LRSchedulerStep = []int{1}
		cfg.TopK = 2
		cfg.UseWeightedLoss = true
		cfg.Cutout = 8
		_, met, err := Train(context.Background(), cfg, synthExamples(32, 1), synthExamples(8, 2), nil)
		if err != nil {
			t.Fatalf("%s/%s: %v", c.opt, c.aug, err)
		}
		if len(met.Epochs) != 2 || met.Epochs[1].ValidationTopK != 1 {
			t.Fatalf("%s/%s: metrics %+v", c.opt, c.aug, met)
		}
	}
}

func TestEarlyStopping(t *testing.T) {
	cfg := smallConfig()
	cfg.Epochs = 30
	cfg.EarlyStopping = true
	cfg.EarlyStoppingMinEpochs = 2
	cfg.EarlyStoppingPatience = 1
	cfg.EarlyStoppingTolerance = 0.5 // nothing counts as an improvement
	_, met, err := Train(context.Background(), cfg, synthExamples(32, 1), synthExamples(8, 2), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !met.StoppedEarly || len(met.Epochs) != 2 {
		t.Fatalf("stopped early %v after %d epochs", met.StoppedEarly, len(met.Epochs))
	}
}

func TestTrainCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err := Train(ctx, smallConfig(), synthExamples(32, 1), nil, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	m, _ := trainSmall(t, 3)
	data, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	m2, err := Load(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	img := synthImage(testRNG(), 0)
	p1, _ := m.Predict(img)
	p2, _ := m2.Predict(img)
	for i := range p1 {
		if p1[i] != p2[i] {
			t.Fatalf("predictions differ after reload: %v vs %v", p1, p2)
		}
	}
	again, _ := m2.MarshalBinary()
	if !bytes.Equal(data, again) {
		t.Fatal("re-saved model differs")
	}
}

func TestLoadCorrupt(t *testing.T) {
	m, _ := trainSmall(t, 3)
	data, _ := m.MarshalBinary()
	flip := func(i int) []byte {
		b := append([]byte(nil), data...)
		b[i] ^= 0x40
		return b
	}
	cases := map[string][]byte{
		"empty":       nil,
		"truncated":   data[:len(data)/2],
		"bad magic":   flip(0),
		"bad version": flip(8),
		"param bit":   flip(len(data) - 20),
		"header bit":  flip(20),
		"not a model": []byte(strings.Repeat("hello world ", 10)),
	}
	for name, b := range cases {
		_, err := Load(bytes.NewReader(b))
		if !errors.Is(err, ErrCorruptModel) {
			t.Errorf("%s: err = %v, want ErrCorruptModel", name, err)
		}
	}
}

func TestPredictResizesAndAcceptsFormats(t *testing.T) {
	m, _ := trainSmall(t, 3)
	src := synthImage(testRNG(), 1)
	p0, err := m.Predict(src)
	if err != nil {
		t.Fatal(err)
	}
	// RGB (no alpha) and RGBA give the same answer.
	p1, _ := m.Predict(toRGB(src))
	if math.Abs(p0[0]-p1[0]) > 1e-6 {
		t.Fatalf("RGBA %v vs RGB %v", p0, p1)
	}
	// A 64x48 image is resized to the model's 32x32 input.
	big := image.NewNRGBA(image.Rect(0, 0, 64, 48))
	for y := 0; y < 48; y++ {
		for x := 0; x < 64; x++ {
			big.Set(x, y, src.At(x/2, y*2/3))
		}
	}
	if p, err := m.Predict(big); err != nil || len(p) != 2 {
		t.Fatalf("resized predict: %v %v", p, err)
	}
	if _, err := m.Predict(image.NewNRGBA(image.Rect(0, 0, 0, 0))); err == nil {
		t.Fatal("empty image accepted")
	}
}
