package cifar

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
)

// Image returns the pixels as a 32x32 opaque image.
func Image(pixels *[PixelBytes]byte) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, ImageSize, ImageSize))
	const plane = ImageSize * ImageSize
	for i := 0; i < plane; i++ {
		o := i * 4
		img.Pix[o] = pixels[i]
		img.Pix[o+1] = pixels[plane+i]
		img.Pix[o+2] = pixels[2*plane+i]
		img.Pix[o+3] = 0xff
	}
	return img
}

// EncodePNG encodes the pixels (R, G, B planes) as a 32x32 8-bit RGB PNG
// (colour type 2, no ancillary chunks). The output depends only on the
// pixels (and the Go version's compress/flate), so it is deterministic.
func EncodePNG(pixels *[PixelBytes]byte) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(4 << 10)
	// image/png writes an opaque NRGBA image as truecolour without alpha.
	if err := png.Encode(&buf, Image(pixels)); err != nil {
		return nil, fmt.Errorf("encode png: %w", err)
	}
	return buf.Bytes(), nil
}

// PixelsFromImage converts a 32x32 image to R, G, B planes. Alpha is
// dropped: CIFAR images are opaque (the PNGs matplotlib writes are RGBA with
// alpha 255 everywhere).
func PixelsFromImage(img image.Image) ([PixelBytes]byte, error) {
	var p [PixelBytes]byte
	b := img.Bounds()
	if b.Dx() != ImageSize || b.Dy() != ImageSize {
		return p, fmt.Errorf("image is %dx%d, want %dx%d", b.Dx(), b.Dy(), ImageSize, ImageSize)
	}
	const plane = ImageSize * ImageSize
	for y := 0; y < ImageSize; y++ {
		for x := 0; x < ImageSize; x++ {
			c := color.NRGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
			i := y*ImageSize + x
			p[i], p[plane+i], p[2*plane+i] = c.R, c.G, c.B
		}
	}
	return p, nil
}

// DecodePNG decodes a 32x32 PNG into R, G, B planes (alpha dropped).
func DecodePNG(data []byte) ([PixelBytes]byte, error) {
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return [PixelBytes]byte{}, fmt.Errorf("decode png: %w", err)
	}
	return PixelsFromImage(img)
}
