package classifier

import (
	"bytes"
	"testing"
)

// BenchmarkPredict measures single-image inference latency (one 32x32
// RGBA image, flip test-time augmentation included) of the default
// architecture. The weights are random: latency does not depend on them.
func BenchmarkPredict(b *testing.B) {
	cfg := DefaultTrainConfig()
	cfg.Epochs = 1
	m, _, err := Train(b.Context(), cfg, synthExamples(32, 1), nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	img := synthImage(testRNG(), 1)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Predict(img); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkInvocation measures decode + predict for a PNG body, the work
// behind one POST /invocations.
func BenchmarkInvocation(b *testing.B) {
	cfg := DefaultTrainConfig()
	cfg.Epochs = 1
	m, _, err := Train(b.Context(), cfg, synthExamples(32, 1), nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	body := encodePNG(b, synthImage(testRNG(), 1))
	for b.Loop() {
		img, err := DecodeImage("image/png", bytes.Clone(body))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := m.Predict(img); err != nil {
			b.Fatal(err)
		}
	}
}
