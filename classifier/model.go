package classifier

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"io"
	"math"
)

// Model is a trained classifier. It is safe for concurrent use.
type Model struct {
	net *network
	// tta is the number of test-time views averaged by Predict (see ttaViews).
	tta int
}

// MaxTTAViews is the largest supported number of test-time views.
const MaxTTAViews = 10

// ttaViews returns the first n test-time views: the image, its mirror image,
// then the image and its mirror shifted by 2 pixels in each direction (with
// the same mean-colour padding as the training crops).
func ttaViews(n int) []augParams {
	all := []augParams{{}, {flip: true}}
	for _, f := range []bool{false, true} {
		for _, d := range [][2]int{{2, 0}, {-2, 0}, {0, 2}, {0, -2}} {
			all = append(all, augParams{flip: f, dx: d[0], dy: d[1]})
		}
	}
	return all[:n]
}

// NumClasses returns the number of output classes.
func (m *Model) NumClasses() int { return m.net.classes }

// InputSize returns the height and width images are resized to.
func (m *Model) InputSize() (h, w int) { return m.net.h, m.net.w }

// NumParams returns the number of trainable parameters.
func (m *Model) NumParams() int { return m.net.numParams() }

// Predict returns the class probabilities for img (they sum to 1). Images
// that are not the model's input size are resized (see DecodeImage and the
// package doc).
func (m *Model) Predict(img image.Image) ([]float64, error) {
	if m == nil || m.net == nil {
		return nil, errNoModel
	}
	if img == nil {
		return nil, errors.New("nil image")
	}
	b := img.Bounds()
	if b.Dx() <= 0 || b.Dy() <= 0 {
		return nil, fmt.Errorf("image has no pixels (%dx%d)", b.Dx(), b.Dy())
	}
	x := imageToTensor(img, m.net.h, m.net.w, nil)
	p := make([]float32, m.net.classes)
	m.predictTensors([][]float32{x}, p)
	out := make([]float64, len(p))
	for i, v := range p {
		out[i] = float64(v)
	}
	return out, nil
}

// predictTensors writes class probabilities for the [3][h][w] tensors xs
// (values in [0,1]) to probs (len(xs)*classes).
func (m *Model) predictTensors(xs [][]float32, probs []float32) {
	net := m.net
	hw := net.h * net.w
	n := len(xs)
	views := ttaViews(max(1, m.tta))
	nv := len(views)
	in := make([]float32, 3*n*nv*hw)
	tmp := make([]float32, 3*hw)
	for v, p := range views {
		for i, x := range xs {
			src := x
			if v > 0 {
				applyAug(x, tmp, net.h, net.w, p)
				src = tmp
			}
			b := v*n + i // image index within the batch of views
			for c := 0; c < 3; c++ {
				mu, s := net.mean[c], 1/net.std[c]
				dst := in[c*n*nv*hw+b*hw : c*n*nv*hw+(b+1)*hw]
				for j, val := range src[c*hw : (c+1)*hw] {
					dst[j] = (val - mu) * s
				}
			}
		}
	}
	k := net.classes
	out := make([]float32, n*nv*k)
	net.forwardInfer(in, n*nv, out)
	inv := 1 / float32(nv)
	for i := 0; i < n; i++ {
		for j := 0; j < k; j++ {
			var sum float32
			for v := 0; v < nv; v++ {
				sum += out[(v*n+i)*k+j]
			}
			probs[i*k+j] = sum * inv
		}
	}
}

// Model file format (version 1), all integers little-endian:
//
//	magic    8 bytes  "SCONESIC"
//	version  uint32   1
//	hdrLen   uint32   length of the JSON header
//	header   JSON     modelHeader
//	nParams  uint32   number of float32 values that follow
//	params   float32  network parameters and BN statistics, in a fixed order
//	crc      uint32   CRC-32 (IEEE) of everything before it
const (
	modelMagic   = "SCONESIC"
	modelVersion = 1
	// ModelFileName is the file the SageMaker contract writes under
	// /opt/ml/model and loads when serving.
	ModelFileName = "image-classifier.model"
)

type modelHeader struct {
	Format   string    `json:"format"`
	Classes  int       `json:"num_classes"`
	Channels int       `json:"channels"`
	Height   int       `json:"height"`
	Width    int       `json:"width"`
	Stages   []Stage   `json:"stages"`
	TTAViews int       `json:"tta_views"`
	Mean     []float32 `json:"mean"`
	Std      []float32 `json:"std"`
}

func (n *network) tensors() [][]float32 {
	var ts [][]float32
	for i := range n.stages {
		ts = append(ts, n.convW[i], n.gamma[i], n.beta[i], n.runMean[i], n.runVar[i])
	}
	return append(ts, n.fcW, n.fcB)
}

// Save writes the model in the versioned, checksummed format.
func (m *Model) Save(w io.Writer) error {
	if m == nil || m.net == nil {
		return errNoModel
	}
	n := m.net
	hdr, err := json.Marshal(modelHeader{
		Format: "scones image classifier", Classes: n.classes, Channels: n.inC,
		Height: n.h, Width: n.w, Stages: n.stages, TTAViews: max(1, m.tta), Mean: n.mean, Std: n.std,
	})
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	buf.WriteString(modelMagic)
	_ = binary.Write(&buf, binary.LittleEndian, uint32(modelVersion))
	_ = binary.Write(&buf, binary.LittleEndian, uint32(len(hdr)))
	buf.Write(hdr)
	ts := n.tensors()
	total := 0
	for _, t := range ts {
		total += len(t)
	}
	_ = binary.Write(&buf, binary.LittleEndian, uint32(total))
	for _, t := range ts {
		_ = binary.Write(&buf, binary.LittleEndian, t)
	}
	_ = binary.Write(&buf, binary.LittleEndian, crc32.ChecksumIEEE(buf.Bytes()))
	_, err = w.Write(buf.Bytes())
	return err
}

// MarshalBinary returns the model file bytes.
func (m *Model) MarshalBinary() ([]byte, error) {
	var b bytes.Buffer
	err := m.Save(&b)
	return b.Bytes(), err
}

// ErrCorruptModel is wrapped by every Load error caused by the file's content.
var ErrCorruptModel = errors.New("corrupt or unsupported model file")

// Load reads a model written by Save, validating magic, version, checksum,
// header and parameter count.
func Load(r io.Reader) (*Model, error) {
	data, err := io.ReadAll(bufio.NewReader(io.LimitReader(r, 1<<30)))
	if err != nil {
		return nil, fmt.Errorf("read model: %w", err)
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrCorruptModel, fmt.Sprintf(format, args...))
	}
	if len(data) < len(modelMagic)+12 {
		return nil, bad("file too short (%d bytes)", len(data))
	}
	if string(data[:8]) != modelMagic {
		return nil, bad("bad magic %q, want %q", data[:8], modelMagic)
	}
	if v := binary.LittleEndian.Uint32(data[8:]); v != modelVersion {
		return nil, bad("format version %d, this build reads version %d", v, modelVersion)
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	if got := crc32.ChecksumIEEE(body); got != sum {
		return nil, bad("checksum mismatch (file %08x, computed %08x): truncated or modified", sum, got)
	}
	hl := int(binary.LittleEndian.Uint32(data[12:]))
	if hl <= 0 || 16+hl+4 > len(body) {
		return nil, bad("header length %d out of range", hl)
	}
	var h modelHeader
	dec := json.NewDecoder(bytes.NewReader(data[16 : 16+hl]))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&h); err != nil {
		return nil, bad("header: %v", err)
	}
	if h.Channels != 3 || h.Classes < 2 || h.Height < 4 || h.Width < 4 || h.Height > 512 || h.Width > 512 ||
		h.TTAViews < 1 || h.TTAViews > MaxTTAViews || len(h.Mean) != 3 || len(h.Std) != 3 || len(h.Stages) == 0 || len(h.Stages) > 32 {
		return nil, bad("header values out of range: %+v", h)
	}
	net, err := newNetwork(h.Channels, h.Height, h.Width, h.Classes, h.Stages, nil)
	if err != nil {
		return nil, bad("architecture: %v", err)
	}
	copy(net.mean, h.Mean)
	copy(net.std, h.Std)
	for _, s := range net.std {
		if !(s > 0) {
			return nil, bad("non-positive input std")
		}
	}
	p := body[16+hl:]
	if len(p) < 4 {
		return nil, bad("missing parameter count")
	}
	cnt := int(binary.LittleEndian.Uint32(p))
	p = p[4:]
	ts := net.tensors()
	want := 0
	for _, t := range ts {
		want += len(t)
	}
	if cnt != want || len(p) != 4*want {
		return nil, bad("parameter count %d (%d bytes), architecture needs %d", cnt, len(p), want)
	}
	off := 0
	for _, t := range ts {
		for j := range t {
			v := math.Float32frombits(binary.LittleEndian.Uint32(p[off:]))
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return nil, bad("non-finite parameter")
			}
			t[j] = v
			off += 4
		}
	}
	for i := range net.stages {
		for _, v := range net.runVar[i] {
			if v < 0 {
				return nil, bad("negative running variance")
			}
		}
	}
	return &Model{net: net, tta: h.TTAViews}, nil
}
