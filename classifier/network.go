package classifier

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Stage is one block of the network: a 3x3 convolution (stride 1, pad 1,
// no bias) to Out channels, batch normalisation, ReLU, and, when Pool is
// set, 2x2 max pooling.
type Stage struct {
	Out  int  `json:"out"`
	Pool bool `json:"pool"`
}

// DefaultStages is the default architecture: three conv-BN-ReLU blocks of
// 16, 32 and 64 channels with max pooling after the first two, followed by
// global average pooling and a linear layer (see the package doc).
func DefaultStages() []Stage {
	return []Stage{{Out: 16, Pool: true}, {Out: 32, Pool: true}, {Out: 64, Pool: false}}
}

const bnEps = 1e-5

// network holds the parameters of the CNN. It is immutable once trained;
// all scratch space lives in workspaces.
type network struct {
	inC, h, w int
	classes   int
	stages    []Stage
	// per stage
	convW   [][]float32 // [out][in*9]
	gamma   [][]float32
	beta    [][]float32
	runMean [][]float32
	runVar  [][]float32
	// head
	fcW []float32 // [classes][lastC]
	fcB []float32 // [classes]
	// input normalisation, per channel
	mean, std []float32
}

func newNetwork(inC, h, w, classes int, stages []Stage, rng *rand.Rand) (*network, error) {
	if len(stages) == 0 {
		return nil, fmt.Errorf("architecture has no stages")
	}
	n := &network{inC: inC, h: h, w: w, classes: classes, stages: append([]Stage(nil), stages...)}
	cin := inC
	sh, sw := h, w
	for i, s := range stages {
		if s.Out <= 0 || s.Out > 1024 {
			return nil, fmt.Errorf("stage %d: channel count %d out of range [1, 1024]", i, s.Out)
		}
		if s.Pool {
			if sh < 2 || sw < 2 {
				return nil, fmt.Errorf("stage %d: cannot pool a %dx%d feature map", i, sh, sw)
			}
			sh, sw = sh/2, sw/2
		}
		wt := make([]float32, s.Out*cin*9)
		if rng != nil {
			// He (Kaiming) normal initialisation for ReLU networks.
			sd := math.Sqrt(2 / float64(cin*9))
			for j := range wt {
				wt[j] = float32(rng.NormFloat64() * sd)
			}
		}
		g := make([]float32, s.Out)
		rv := make([]float32, s.Out)
		for j := range g {
			g[j] = 1
			rv[j] = 1
		}
		n.convW = append(n.convW, wt)
		n.gamma = append(n.gamma, g)
		n.beta = append(n.beta, make([]float32, s.Out))
		n.runMean = append(n.runMean, make([]float32, s.Out))
		n.runVar = append(n.runVar, rv)
		cin = s.Out
	}
	n.fcW = make([]float32, classes*cin)
	if rng != nil {
		sd := 1 / math.Sqrt(float64(cin))
		for j := range n.fcW {
			n.fcW[j] = float32((rng.Float64()*2 - 1) * sd)
		}
	}
	n.fcB = make([]float32, classes)
	n.mean = make([]float32, inC)
	n.std = make([]float32, inC)
	for i := range n.std {
		n.std[i] = 1
	}
	return n, nil
}

// params returns the trainable tensors in a fixed order, and whether weight
// decay applies to each (convolution and linear weights only).
func (n *network) params() (ps [][]float32, decay []bool) {
	for i := range n.stages {
		ps = append(ps, n.convW[i], n.gamma[i], n.beta[i])
		decay = append(decay, true, false, false)
	}
	ps = append(ps, n.fcW, n.fcB)
	decay = append(decay, true, false)
	return ps, decay
}

// geometry returns each stage's input channels, height and width.
func (n *network) geometry() (cin, hs, ws []int) {
	c, h, w := n.inC, n.h, n.w
	for _, s := range n.stages {
		cin, hs, ws = append(cin, c), append(hs, h), append(ws, w)
		c = s.Out
		if s.Pool {
			h, w = h/2, w/2
		}
	}
	return cin, hs, ws
}

func (n *network) numParams() int {
	ps, _ := n.params()
	t := 0
	for _, p := range ps {
		t += len(p)
	}
	return t
}

// ---------------------------------------------------------------------------
// Inference

// forwardInfer computes class probabilities for n images in x
// ([inC][n][h][w], already normalised) using the running BN statistics.
// probs receives n*classes values.
func (n *network) forwardInfer(x []float32, cnt int, probs []float32) {
	cin, hs, ws := n.geometry()
	cur := x
	var colBuf []float32
	for i, s := range n.stages {
		h, w := hs[i], ws[i]
		nhw := cnt * h * w
		col := grow(&colBuf, cin[i]*9*nhw)
		im2col(cur, cin[i], cnt, h, w, col)
		z := make([]float32, s.Out*nhw)
		matMulAdd(s.Out, nhw, cin[i]*9, n.convW[i], col, z)
		for c := 0; c < s.Out; c++ {
			sc := n.gamma[i][c] / float32(math.Sqrt(float64(n.runVar[i][c])+bnEps))
			sh := n.beta[i][c] - n.runMean[i][c]*sc
			row := z[c*nhw : (c+1)*nhw]
			for j, v := range row {
				row[j] = max(v*sc+sh, 0)
			}
		}
		if s.Pool {
			out := make([]float32, s.Out*cnt*(h/2)*(w/2))
			arg := make([]int32, len(out))
			maxPool2(z, s.Out, cnt, h, w, out, arg)
			z = out
		}
		cur = z
	}
	last := len(n.stages) - 1
	c := n.stages[last].Out
	h, w := hs[last], ws[last]
	if n.stages[last].Pool {
		h, w = h/2, w/2
	}
	hw := h * w
	g := make([]float32, c)
	for img := 0; img < cnt; img++ {
		for ch := 0; ch < c; ch++ {
			var s float32
			for _, v := range cur[ch*cnt*hw+img*hw : ch*cnt*hw+(img+1)*hw] {
				s += v
			}
			g[ch] = s / float32(hw)
		}
		out := probs[img*n.classes : (img+1)*n.classes]
		for k := 0; k < n.classes; k++ {
			out[k] = n.fcB[k] + dot(n.fcW[k*c:(k+1)*c], g)
		}
		softmax(out)
	}
}

func grow(b *[]float32, n int) []float32 {
	if cap(*b) < n {
		*b = make([]float32, n)
	}
	*b = (*b)[:n]
	return *b
}

func softmax(v []float32) {
	m := v[0]
	for _, x := range v[1:] {
		m = max(m, x)
	}
	var s float64
	for i, x := range v {
		e := math.Exp(float64(x - m))
		v[i] = float32(e)
		s += e
	}
	for i := range v {
		v[i] = float32(float64(v[i]) / s)
	}
}
