package classifier

import (
	"math"
	"math/rand/v2"
)

// cropPad is the padding of the random crop: the image is shifted by up to
// this many pixels in each direction; the exposed border takes the image's
// mean colour (see applyAug).
const cropPad = 4

type augParams struct {
	flip   bool
	dx, dy int
	// crop_color
	color          bool
	hue            float64 // radians
	sat, lightness float64
	// crop_color_transform: inverse affine map around the image centre
	affine bool
	a      [4]float64
	// cutout: a square of side cut centred at (cx, cy) is set to the mean colour
	cut, cx, cy int
}

// drawAug draws the random augmentation for one image. All randomness is
// drawn serially from rng so training is deterministic.
func drawAug(rng *rand.Rand, kind string, cutout, h, w int) augParams {
	var p augParams
	if kind == "none" {
		return p
	}
	if cutout > 0 {
		p.cut = cutout
		p.cx = rng.IntN(w)
		p.cy = rng.IntN(h)
	}
	p.flip = rng.IntN(2) == 1
	p.dx = rng.IntN(2*cropPad+1) - cropPad
	p.dy = rng.IntN(2*cropPad+1) - cropPad
	if kind == "crop_color" || kind == "crop_color_transform" {
		// The built-in adds random values in [-36, 36], [-50, 50] and
		// [-50, 50] to hue (degrees), saturation and lightness (0..255).
		p.color = true
		p.hue = (rng.Float64()*72 - 36) * math.Pi / 180
		p.sat = (rng.Float64()*100 - 50) / 255
		p.lightness = (rng.Float64()*100 - 50) / 255
	}
	if kind == "crop_color_transform" {
		// Rotation up to 10 degrees, shear up to 0.1, aspect ratio change up to 0.25.
		p.affine = true
		th := (rng.Float64()*20 - 10) * math.Pi / 180
		sh := rng.Float64()*0.2 - 0.1
		ar := 1 + (rng.Float64()*0.5 - 0.25)
		sx, sy := math.Sqrt(ar), 1/math.Sqrt(ar)
		c, s := math.Cos(th), math.Sin(th)
		// forward = R * Shear * Scale; we store its inverse.
		f := [4]float64{c * sx, (c*sh - s) * sy, s * sx, (s*sh + c) * sy}
		det := f[0]*f[3] - f[1]*f[2]
		p.a = [4]float64{f[3] / det, -f[1] / det, -f[2] / det, f[0] / det}
	}
	return p
}

// applyAug writes the augmented copy of src ([3][h][w], values in [0,1])
// to dst. Pixels shifted in from outside the image take the image's own
// per-channel mean, so padding carries no artificial signal.
func applyAug(src, dst []float32, h, w int, p augParams) {
	hw := h * w
	var mean [3]float32
	for c := 0; c < 3; c++ {
		var s float32
		for _, v := range src[c*hw : (c+1)*hw] {
			s += v
		}
		mean[c] = s / float32(hw)
	}
	if p.affine {
		cy, cx := float64(h-1)/2, float64(w-1)/2
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				ox := float64(x) - cx + float64(p.dx)
				oy := float64(y) - cy + float64(p.dy)
				sx := p.a[0]*ox + p.a[1]*oy + cx
				sy := p.a[2]*ox + p.a[3]*oy + cy
				if p.flip {
					sx = float64(w-1) - sx
				}
				for c := 0; c < 3; c++ {
					dst[c*hw+y*w+x] = bilinear(src[c*hw:(c+1)*hw], h, w, sx, sy, mean[c])
				}
			}
		}
	} else {
		for c := 0; c < 3; c++ {
			s := src[c*hw : (c+1)*hw]
			d := dst[c*hw : (c+1)*hw]
			for y := 0; y < h; y++ {
				sy := y + p.dy
				row := d[y*w : (y+1)*w]
				if sy < 0 || sy >= h {
					for x := range row {
						row[x] = mean[c]
					}
					continue
				}
				srow := s[sy*w : (sy+1)*w]
				for x := range row {
					sx := x + p.dx
					if p.flip {
						sx = w - 1 - x + p.dx
					}
					if sx < 0 || sx >= w {
						row[x] = mean[c]
					} else {
						row[x] = srow[sx]
					}
				}
			}
		}
	}
	if p.color {
		colorJitter(dst, hw, p)
	}
	if p.cut > 0 {
		y0, y1 := max(0, p.cy-p.cut/2), min(h, p.cy-p.cut/2+p.cut)
		x0, x1 := max(0, p.cx-p.cut/2), min(w, p.cx-p.cut/2+p.cut)
		for c := 0; c < 3; c++ {
			for y := y0; y < y1; y++ {
				row := dst[c*hw+y*w : c*hw+(y+1)*w]
				for x := x0; x < x1; x++ {
					row[x] = mean[c]
				}
			}
		}
	}
}

func bilinear(img []float32, h, w int, x, y float64, fill float32) float32 {
	if x < -1 || y < -1 || x > float64(w) || y > float64(h) {
		return fill
	}
	x0, y0 := int(math.Floor(x)), int(math.Floor(y))
	fx, fy := float32(x-float64(x0)), float32(y-float64(y0))
	at := func(xx, yy int) float32 {
		if xx < 0 || yy < 0 || xx >= w || yy >= h {
			return fill
		}
		return img[yy*w+xx]
	}
	top := at(x0, y0)*(1-fx) + at(x0+1, y0)*fx
	bot := at(x0, y0+1)*(1-fx) + at(x0+1, y0+1)*fx
	return top*(1-fy) + bot*fy
}

// colorJitter shifts hue, saturation and lightness. It works in YIQ space:
// hue is a rotation of the chroma plane, saturation scales chroma and
// lightness shifts luma. This approximates the built-in's HSL jitter.
func colorJitter(d []float32, hw int, p augParams) {
	cs, sn := float32(math.Cos(p.hue)), float32(math.Sin(p.hue))
	satScale := float32(max(0, 1+2*p.sat))
	l := float32(p.lightness)
	for j := 0; j < hw; j++ {
		r, g, b := d[j], d[hw+j], d[2*hw+j]
		y := 0.299*r + 0.587*g + 0.114*b
		i := 0.596*r - 0.274*g - 0.322*b
		q := 0.211*r - 0.523*g + 0.312*b
		i, q = (i*cs-q*sn)*satScale, (i*sn+q*cs)*satScale
		y += l
		d[j] = clamp01(y + 0.956*i + 0.621*q)
		d[hw+j] = clamp01(y - 0.272*i - 0.647*q)
		d[2*hw+j] = clamp01(y - 1.106*i + 1.703*q)
	}
}

func clamp01(v float32) float32 {
	return min(max(v, 0), 1)
}
