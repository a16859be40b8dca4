package classifier

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// synthImage draws a 32x32 RGBA image: class 0 has horizontal stripes,
// class 1 vertical ones, with random colours and noise.
func synthImage(rng *rand.Rand, label int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, 32, 32))
	r0, g0, b0 := rng.IntN(128), rng.IntN(128), rng.IntN(128)
	phase := rng.IntN(4)
	for y := 0; y < 32; y++ {
		for x := 0; x < 32; x++ {
			on := (y+phase)/2%2 == 0
			if label == 1 {
				on = (x+phase)/2%2 == 0
			}
			v := 0
			if on {
				v = 110
			}
			n := rng.IntN(30)
			img.SetNRGBA(x, y, color.NRGBA{uint8(r0 + v/2 + n), uint8(g0 + v/2 + n), uint8(b0 + v/2 + n), 255})
		}
	}
	return img
}

func synthExamples(n int, seed uint64) []Example {
	rng := rand.New(rand.NewPCG(seed, 99))
	out := make([]Example, n)
	for i := range out {
		out[i] = Example{Image: synthImage(rng, i%2), Label: i % 2, Name: fmt.Sprintf("synth-%d", i)}
	}
	return out
}

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodeJPEG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// toRGB returns an opaque *image.RGBA copy (PNG colour type 2 when encoded).
func toRGB(img image.Image) *image.RGBA {
	b := img.Bounds()
	out := image.NewRGBA(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			out.Set(x, y, img.At(x, y))
		}
	}
	return out
}

// writeChannelTree writes a SageMaker input tree with n synthetic training
// and m validation images under root and returns root.
func writeChannelTree(t testing.TB, root string, n, m int, hp string) string {
	t.Helper()
	mk := func(p string) {
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p string, b []byte) {
		mk(filepath.Dir(p))
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for _, ch := range []struct {
		name string
		n    int
	}{{"train", n}, {"validation", m}} {
		var lst bytes.Buffer
		for i := 0; i < ch.n; i++ {
			label := i % 2
			rel := fmt.Sprintf("img/%s_%03d.png", ch.name, i)
			write(filepath.Join(root, "input", "data", ch.name, rel), encodePNG(t, synthImage(rng, label)))
			fmt.Fprintf(&lst, "%d\t%d\t%s\n", i, label, rel)
		}
		write(filepath.Join(root, "input", "data", ch.name+"_lst", ch.name+".lst"), lst.Bytes())
	}
	write(filepath.Join(root, "input", "config", "hyperparameters.json"), []byte(hp))
	write(filepath.Join(root, "input", "config", "inputdataconfig.json"), []byte(`{
 "train": {"ContentType": "application/x-image", "TrainingInputMode": "File", "S3DistributionType": "FullyReplicated", "RecordWrapperType": "None"},
 "validation": {"ContentType": "application/x-image", "TrainingInputMode": "File"},
 "train_lst": {"ContentType": "application/x-image", "TrainingInputMode": "File"},
 "validation_lst": {"ContentType": "application/x-image", "TrainingInputMode": "File"}}`))
	write(filepath.Join(root, "input", "config", "resourceconfig.json"), []byte(`{"current_host":"algo-1","hosts":["algo-1"],"network_interface_name":"eth0"}`))
	return root
}

func testRNG() *rand.Rand { return rand.New(rand.NewPCG(11, 12)) }

func sprintf(f string, a ...any) string { return fmt.Sprintf(f, a...) }
