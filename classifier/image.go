package classifier

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"mime"
	"net/http"
	"strings"

	"golang.org/x/image/draw"
)

// ErrUnsupportedContentType is returned by DecodeImage for a content type
// it does not accept.
var ErrUnsupportedContentType = errors.New("unsupported content type")

// DecodeImage decodes a PNG or JPEG image. contentType may be "image/png",
// "image/jpeg" (or "image/jpg"), or "application/x-image", for which the
// format is detected from the bytes; parameters such as "; charset=" are
// ignored. An empty body, an undecodable body or a body whose bytes do not
// match the declared type is an error naming the problem.
func DecodeImage(contentType string, body []byte) (image.Image, error) {
	mt := strings.ToLower(strings.TrimSpace(contentType))
	if mt != "" {
		if parsed, _, err := mime.ParseMediaType(mt); err == nil {
			mt = parsed
		}
	}
	if len(body) == 0 {
		return nil, errors.New("empty image body")
	}
	sniffed := http.DetectContentType(body)
	var format string
	switch mt {
	case "image/png":
		format = "png"
	case "image/jpeg", "image/jpg":
		format = "jpeg"
	case "application/x-image", "":
		switch sniffed {
		case "image/png":
			format = "png"
		case "image/jpeg":
			format = "jpeg"
		default:
			return nil, fmt.Errorf("body is not a PNG or JPEG image (detected %s)", sniffed)
		}
	default:
		return nil, fmt.Errorf("%w %q: use image/png, image/jpeg or application/x-image", ErrUnsupportedContentType, contentType)
	}
	var (
		img image.Image
		err error
	)
	switch format {
	case "png":
		img, err = png.Decode(bytes.NewReader(body))
	default:
		img, err = jpeg.Decode(bytes.NewReader(body))
	}
	if err != nil {
		return nil, fmt.Errorf("decode %s image (%d bytes, detected %s): %w", format, len(body), sniffed, err)
	}
	b := img.Bounds()
	if b.Dx() <= 0 || b.Dy() <= 0 {
		return nil, fmt.Errorf("image has no pixels (%dx%d)", b.Dx(), b.Dy())
	}
	return img, nil
}

// imageToTensor converts img to a [3][h][w] float32 tensor with values in
// [0, 1]. Images of another size are resized to h x w with a bilinear
// kernel (golang.org/x/image/draw.BiLinear, which low-pass filters when
// shrinking) without preserving the aspect ratio, the way the built-in
// algorithm's inference resizes to image_shape. Alpha is ignored: colour
// channels are used as stored (non-premultiplied), so RGBA PNGs such as the
// CIFAR exports behave like their RGB counterparts.
func imageToTensor(img image.Image, h, w int, dst []float32) []float32 {
	b := img.Bounds()
	var src *image.NRGBA
	if b.Dx() == w && b.Dy() == h {
		if n, ok := img.(*image.NRGBA); ok {
			src = n
		}
	}
	if src == nil {
		src = image.NewNRGBA(image.Rect(0, 0, w, h))
		if b.Dx() == w && b.Dy() == h {
			for y := 0; y < h; y++ {
				for x := 0; x < w; x++ {
					src.Set(x, y, color.NRGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)))
				}
			}
		} else {
			draw.BiLinear.Scale(src, src.Bounds(), opaque{img}, b, draw.Src, nil)
		}
	}
	if cap(dst) < 3*h*w {
		dst = make([]float32, 3*h*w)
	}
	dst = dst[:3*h*w]
	hw := h * w
	for y := 0; y < h; y++ {
		row := src.Pix[y*src.Stride : y*src.Stride+4*w]
		for x := 0; x < w; x++ {
			p := row[4*x : 4*x+4]
			dst[y*w+x] = float32(p[0]) / 255
			dst[hw+y*w+x] = float32(p[1]) / 255
			dst[2*hw+y*w+x] = float32(p[2]) / 255
		}
	}
	return dst
}

// opaque presents an image with its alpha forced to 255 and colours
// un-premultiplied, so that scaling ignores alpha the same way the
// unscaled path does.
type opaque struct{ image.Image }

func (o opaque) ColorModel() color.Model { return color.NRGBAModel }

func (o opaque) At(x, y int) color.Color {
	c := color.NRGBAModel.Convert(o.Image.At(x, y)).(color.NRGBA)
	c.A = 255
	return c
}
