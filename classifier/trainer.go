package classifier

import (
	"math"
	"sync"
)

// numShards is the fixed number of pieces each mini-batch is split into for
// parallel work. It is a constant, not the CPU count, so that the order of
// every floating-point reduction (and hence the trained model) is the same
// on any machine. Shards run as goroutines; with 2 cores two run at a time.
const numShards = 2

type stageWS struct {
	col   []float32 // [cin*9][n*h*w]
	xhat  []float32 // normalised conv output [out][n*h*w]
	y     []float32 // ReLU output [out][n*h*w]
	pool  []float32 // pooled output [out][n*h/2*w/2]
	arg   []int32
	dy    []float32 // gradient w.r.t. y, then w.r.t. the BN output (masked)
	dpool []float32
	dcol  []float32
	s1    []float64 // per-channel partial sums
	s2    []float64
}

type shard struct {
	n     int
	x     []float32
	st    []stageWS
	gap   []float32 // [C][n]
	probs []float32 // [n][classes]
	dgap  []float32
	grads [][]float32
	// per-image training statistics
	loss    float64
	correct int
	topk    int
}

// trainer owns the per-step workspaces for one network and batch size.
type trainer struct {
	net    *network
	shards []*shard
	cin    []int
	hs, ws []int
	// batch statistics of the current step, per stage
	mean, inv [][]float32
	// gradient sums over the whole batch
	grads     [][]float32
	bnMom     float32
	classW    []float32
	topK      int
	batchSize int
	smooth    float32 // label smoothing
}

func newTrainer(net *network) *trainer {
	t := &trainer{net: net, bnMom: 0.1}
	t.cin, t.hs, t.ws = net.geometry()
	ps, _ := net.params()
	for _, p := range ps {
		t.grads = append(t.grads, make([]float32, len(p)))
	}
	for _, s := range net.stages {
		t.mean = append(t.mean, make([]float32, s.Out))
		t.inv = append(t.inv, make([]float32, s.Out))
	}
	for range numShards {
		sh := &shard{st: make([]stageWS, len(net.stages))}
		for _, p := range ps {
			sh.grads = append(sh.grads, make([]float32, len(p)))
		}
		t.shards = append(t.shards, sh)
	}
	return t
}

// shardRange returns the batch positions [lo, hi) of shard s.
func shardRange(s, batch int) (int, int) {
	return s * batch / numShards, (s + 1) * batch / numShards
}

func (t *trainer) parallel(f func(i int, s *shard)) {
	var wg sync.WaitGroup
	for i, s := range t.shards {
		if s.n == 0 {
			continue
		}
		wg.Go(func() { f(i, s) })
	}
	wg.Wait()
}

// prepare sizes the shard workspaces for a batch of the given size.
func (t *trainer) prepare(batch int) {
	t.batchSize = batch
	net := t.net
	for si, sh := range t.shards {
		lo, hi := shardRange(si, batch)
		n := hi - lo
		sh.n = n
		grow(&sh.x, net.inC*n*net.h*net.w)
		for i, s := range net.stages {
			w := &sh.st[i]
			nhw := n * t.hs[i] * t.ws[i]
			grow(&w.col, t.cin[i]*9*nhw)
			grow(&w.dcol, t.cin[i]*9*nhw)
			grow(&w.xhat, s.Out*nhw)
			grow(&w.y, s.Out*nhw)
			grow(&w.dy, s.Out*nhw)
			if s.Pool {
				pn := s.Out * n * (t.hs[i] / 2) * (t.ws[i] / 2)
				grow(&w.pool, pn)
				grow(&w.dpool, pn)
				if cap(w.arg) < pn {
					w.arg = make([]int32, pn)
				}
				w.arg = w.arg[:pn]
			}
			if len(w.s1) != s.Out {
				w.s1 = make([]float64, s.Out)
				w.s2 = make([]float64, s.Out)
			}
		}
		c := net.stages[len(net.stages)-1].Out
		grow(&sh.gap, c*n)
		grow(&sh.dgap, c*n)
		grow(&sh.probs, n*net.classes)
	}
}

// stageOut returns the tensor a stage hands to the next one and its spatial size.
func (t *trainer) stageOut(sh *shard, i int) ([]float32, int, int) {
	if t.net.stages[i].Pool {
		return sh.st[i].pool, t.hs[i] / 2, t.ws[i] / 2
	}
	return sh.st[i].y, t.hs[i], t.ws[i]
}

// convForward runs im2col and the convolution of stage i, leaving the raw
// conv output in xhat and per-channel partial sums in s1/s2.
func (t *trainer) convForward(sh *shard, i int, in []float32) {
	net := t.net
	w := &sh.st[i]
	out := net.stages[i].Out
	nhw := sh.n * t.hs[i] * t.ws[i]
	im2col(in, t.cin[i], sh.n, t.hs[i], t.ws[i], w.col)
	clear(w.xhat)
	matMulAdd(out, nhw, t.cin[i]*9, net.convW[i], w.col, w.xhat)
	for c := 0; c < out; c++ {
		var s1, s2 float64
		for _, v := range w.xhat[c*nhw : (c+1)*nhw] {
			f := float64(v)
			s1 += f
			s2 += f * f
		}
		w.s1[c], w.s2[c] = s1, s2
	}
}

// bnStats reduces the shards' partial sums of stage i in fixed order and
// updates the running statistics.
func (t *trainer) bnStats(i int) {
	out := t.net.stages[i].Out
	cnt := float64(t.batchSize * t.hs[i] * t.ws[i])
	for c := 0; c < out; c++ {
		var s1, s2 float64
		for _, sh := range t.shards {
			if sh.n == 0 {
				continue
			}
			s1 += sh.st[i].s1[c]
			s2 += sh.st[i].s2[c]
		}
		m := s1 / cnt
		v := max(s2/cnt-m*m, 0)
		t.mean[i][c] = float32(m)
		t.inv[i][c] = float32(1 / math.Sqrt(v+bnEps))
		unb := v
		if cnt > 1 {
			unb = v * cnt / (cnt - 1)
		}
		t.net.runMean[i][c] = (1-t.bnMom)*t.net.runMean[i][c] + t.bnMom*float32(m)
		t.net.runVar[i][c] = (1-t.bnMom)*t.net.runVar[i][c] + t.bnMom*float32(unb)
	}
}

// bnForward normalises stage i, applies ReLU and pooling.
func (t *trainer) bnForward(sh *shard, i int) {
	net := t.net
	w := &sh.st[i]
	out := net.stages[i].Out
	nhw := sh.n * t.hs[i] * t.ws[i]
	for c := 0; c < out; c++ {
		m, iv := t.mean[i][c], t.inv[i][c]
		g, b := net.gamma[i][c], net.beta[i][c]
		xh := w.xhat[c*nhw : (c+1)*nhw]
		y := w.y[c*nhw : (c+1)*nhw]
		y = y[:len(xh)]
		for j, v := range xh {
			v = (v - m) * iv
			xh[j] = v
			y[j] = max(v*g+b, 0)
		}
	}
	if net.stages[i].Pool {
		maxPool2(w.y, out, sh.n, t.hs[i], t.ws[i], w.pool, w.arg)
	}
}

// head runs global average pooling, the linear layer, softmax
// cross-entropy and the head's backward pass for a shard. labels holds the
// shard's labels. It leaves the gradient w.r.t. the last stage's output in
// that stage's dy (or dpool) and the fc gradients in the shard.
func (t *trainer) head(sh *shard, labels []int) {
	net := t.net
	last := len(net.stages) - 1
	c := net.stages[last].Out
	y, h, w := t.stageOut(sh, last)
	hw := h * w
	n := sh.n
	k := net.classes
	inv := 1 / float32(hw)
	for ch := 0; ch < c; ch++ {
		for img := 0; img < n; img++ {
			var s float32
			for _, v := range y[ch*n*hw+img*hw : ch*n*hw+(img+1)*hw] {
				s += v
			}
			sh.gap[ch*n+img] = s * inv
		}
	}
	gW, gB := sh.grads[len(sh.grads)-2], sh.grads[len(sh.grads)-1]
	g := make([]float32, c)
	dl := make([]float32, k)
	clear(sh.dgap)
	sh.loss, sh.correct, sh.topk = 0, 0, 0
	scale := 1 / float32(t.batchSize)
	for img := 0; img < n; img++ {
		for ch := 0; ch < c; ch++ {
			g[ch] = sh.gap[ch*n+img]
		}
		p := sh.probs[img*k : (img+1)*k]
		for j := 0; j < k; j++ {
			p[j] = net.fcB[j] + dot(net.fcW[j*c:(j+1)*c], g)
		}
		softmax(p)
		lab := labels[img]
		sh.loss -= math.Log(math.Max(float64(p[lab]), 1e-12))
		rank := 0
		for j := 0; j < k; j++ {
			if j != lab && (p[j] > p[lab] || (p[j] == p[lab] && j < lab)) {
				rank++
			}
		}
		if rank == 0 {
			sh.correct++
		}
		if t.topK > 0 && rank < t.topK {
			sh.topk++
		}
		cw := float32(1)
		if t.classW != nil {
			cw = t.classW[lab]
		}
		for j := 0; j < k; j++ {
			d := p[j] - t.smooth/float32(k)
			if j == lab {
				d -= 1 - t.smooth
			}
			dl[j] = d * cw * scale
			gB[j] += dl[j]
			axpy(dl[j], g, gW[j*c:(j+1)*c])
		}
		for j := 0; j < k; j++ {
			for ch := 0; ch < c; ch++ {
				sh.dgap[ch*n+img] += dl[j] * net.fcW[j*c+ch]
			}
		}
	}
	// Spread the GAP gradient back over the spatial positions.
	dst := sh.st[last].dy
	if net.stages[last].Pool {
		dst = sh.st[last].dpool
	}
	for ch := 0; ch < c; ch++ {
		for img := 0; img < n; img++ {
			v := sh.dgap[ch*n+img] * inv
			row := dst[ch*n*hw+img*hw : ch*n*hw+(img+1)*hw]
			for j := range row {
				row[j] = v
			}
		}
	}
	if net.stages[last].Pool {
		clear(sh.st[last].dy)
		maxPool2Back(sh.st[last].dpool, sh.st[last].arg, c, n, t.hs[last], t.ws[last], sh.st[last].dy)
	}
	t.reluBack(sh, last)
}

// reluBack masks dy of stage i by the ReLU and computes the partial sums
// the BN backward pass needs.
func (t *trainer) reluBack(sh *shard, i int) {
	w := &sh.st[i]
	out := t.net.stages[i].Out
	nhw := sh.n * t.hs[i] * t.ws[i]
	for c := 0; c < out; c++ {
		dy := w.dy[c*nhw : (c+1)*nhw]
		y := w.y[c*nhw : (c+1)*nhw]
		xh := w.xhat[c*nhw : (c+1)*nhw]
		y = y[:len(dy)]
		xh = xh[:len(dy)]
		var s1, s2 float64
		for j, v := range dy {
			// y >= 0, so y > 0 exactly when its bit pattern is non-zero;
			// build an all-ones/all-zeros mask from that without a branch.
			u := math.Float32bits(y[j])
			v = math.Float32frombits(math.Float32bits(v) & uint32(int32(-u)>>31))
			dy[j] = v
			s1 += float64(v)
			s2 += float64(v * xh[j])
		}
		w.s1[c], w.s2[c] = s1, s2
	}
}

// bnBackStats reduces the BN-backward partial sums of stage i into the
// gamma/beta gradients.
func (t *trainer) bnBackStats(i int) {
	out := t.net.stages[i].Out
	gg, gb := t.grads[3*i+1], t.grads[3*i+2]
	for c := 0; c < out; c++ {
		var s1, s2 float64
		for _, sh := range t.shards {
			if sh.n == 0 {
				continue
			}
			s1 += sh.st[i].s1[c]
			s2 += sh.st[i].s2[c]
		}
		gb[c] = float32(s1)
		gg[c] = float32(s2)
	}
}

// convBackward turns dy of stage i into the conv-output gradient,
// accumulates the weight gradient and, for i > 0, propagates to stage i-1.
func (t *trainer) convBackward(sh *shard, i int) {
	net := t.net
	w := &sh.st[i]
	out := net.stages[i].Out
	nhw := sh.n * t.hs[i] * t.ws[i]
	cnt := float32(t.batchSize * t.hs[i] * t.ws[i])
	gb, gg := t.grads[3*i+2], t.grads[3*i+1]
	for c := 0; c < out; c++ {
		k := net.gamma[i][c] * t.inv[i][c]
		mb := gb[c] / cnt
		mg := gg[c] / cnt
		dy := w.dy[c*nhw : (c+1)*nhw]
		xh := w.xhat[c*nhw : (c+1)*nhw]
		xh = xh[:len(dy)]
		for j, v := range dy {
			dy[j] = k * (v - mb - xh[j]*mg)
		}
	}
	kk := t.cin[i] * 9
	matMulTAdd(out, nhw, kk, w.dy, w.col, sh.grads[3*i])
	if i == 0 {
		return
	}
	clear(w.dcol)
	matTMulAdd(out, nhw, kk, net.convW[i], w.dy, w.dcol)
	p := &sh.st[i-1]
	if net.stages[i-1].Pool {
		clear(p.dpool)
		col2im(w.dcol, t.cin[i], sh.n, t.hs[i], t.ws[i], p.dpool)
		clear(p.dy)
		maxPool2Back(p.dpool, p.arg, t.cin[i], sh.n, t.hs[i-1], t.ws[i-1], p.dy)
	} else {
		clear(p.dy)
		col2im(w.dcol, t.cin[i], sh.n, t.hs[i], t.ws[i], p.dy)
	}
	t.reluBack(sh, i-1)
}

// step runs forward and backward for one prepared batch whose inputs are
// already in the shards' x. labels has the batch's labels in batch order.
// On return t.grads holds the batch gradient.
func (t *trainer) step(labels []int) {
	net := t.net
	L := len(net.stages)
	for _, sh := range t.shards {
		for _, g := range sh.grads {
			clear(g)
		}
	}
	t.parallel(func(_ int, sh *shard) { t.convForward(sh, 0, sh.x) })
	for i := 0; i < L; i++ {
		t.bnStats(i)
		t.parallel(func(si int, sh *shard) {
			t.bnForward(sh, i)
			if i+1 < L {
				in, _, _ := t.stageOut(sh, i)
				t.convForward(sh, i+1, in)
			} else {
				lo, hi := shardRange(si, t.batchSize)
				t.head(sh, labels[lo:hi])
			}
		})
	}
	for i := L - 1; i >= 0; i-- {
		t.bnBackStats(i)
		t.parallel(func(_ int, sh *shard) { t.convBackward(sh, i) })
	}
	// Reduce the per-shard gradients in shard order.
	for pi, g := range t.grads {
		if pi < 3*L && pi%3 != 0 {
			continue // BN gradients were reduced by bnBackStats
		}
		clear(g)
		for _, sh := range t.shards {
			if sh.n == 0 {
				continue
			}
			for j, v := range sh.grads[pi] {
				g[j] += v
			}
		}
	}
}
