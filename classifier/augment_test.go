package classifier

import (
	"math/rand/v2"
	"testing"
)

func TestApplyAugGeometry(t *testing.T) {
	h, w := 4, 5
	src := make([]float32, 3*h*w)
	for i := range src {
		src[i] = float32(i%(h*w)) / 100
	}
	dst := make([]float32, len(src))
	applyAug(src, dst, h, w, augParams{})
	for i := range src {
		if dst[i] != src[i] {
			t.Fatalf("identity changed pixel %d", i)
		}
	}
	applyAug(src, dst, h, w, augParams{flip: true})
	for c := 0; c < 3; c++ {
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				if dst[c*h*w+y*w+x] != src[c*h*w+y*w+w-1-x] {
					t.Fatalf("flip wrong at c%d y%d x%d", c, y, x)
				}
			}
		}
	}
	// Shift right by one: column 0 is padding (the channel mean), column x
	// shows source column x-1.
	applyAug(src, dst, h, w, augParams{dx: -1})
	var mean float32
	for _, v := range src[:h*w] {
		mean += v
	}
	mean /= float32(h * w)
	if dst[0] != mean || dst[1] != src[0] {
		t.Fatalf("shift: got %v %v, want %v %v", dst[0], dst[1], mean, src[0])
	}
}

func TestDrawAugRanges(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 1000; i++ {
		p := drawAug(rng, "crop_color_transform", 8, 32, 32)
		if p.dx < -cropPad || p.dx > cropPad || p.dy < -cropPad || p.dy > cropPad || !p.color || !p.affine || p.cut != 8 {
			t.Fatalf("out of range: %+v", p)
		}
	}
	if p := drawAug(rng, "none", 8, 32, 32); p != (augParams{}) {
		t.Fatalf("none drew %+v", p)
	}
}
