package classifier

import (
	"math"
	"math/rand/v2"
	"testing"
)

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.NormFloat64())
	}
	return s
}

func TestMatrixKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	m, n, k := 5, 1100, 7 // n spans several column blocks
	a := randSlice(rng, m*k)
	b := randSlice(rng, k*n)
	c := make([]float32, m*n)
	matMulAdd(m, n, k, a, b, c)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j += 97 {
			var want float64
			for l := 0; l < k; l++ {
				want += float64(a[i*k+l]) * float64(b[l*n+j])
			}
			if math.Abs(want-float64(c[i*n+j])) > 1e-4 {
				t.Fatalf("matMulAdd[%d][%d] = %v, want %v", i, j, c[i*n+j], want)
			}
		}
	}
	// matTMulAdd: C[k][n] += Aᵀ B with A [m][k], B [m][n]
	bm := randSlice(rng, m*n)
	ct := make([]float32, k*n)
	matTMulAdd(m, n, k, a, bm, ct)
	for l := 0; l < k; l++ {
		for j := 0; j < n; j += 89 {
			var want float64
			for i := 0; i < m; i++ {
				want += float64(a[i*k+l]) * float64(bm[i*n+j])
			}
			if math.Abs(want-float64(ct[l*n+j])) > 1e-4 {
				t.Fatalf("matTMulAdd[%d][%d] = %v, want %v", l, j, ct[l*n+j], want)
			}
		}
	}
	// matMulTAdd: C[m][k] += A[m][n] B[k][n]ᵀ
	cw := make([]float32, m*k)
	matMulTAdd(m, n, k, bm, b, cw)
	for i := 0; i < m; i++ {
		for l := 0; l < k; l++ {
			var want float64
			for j := 0; j < n; j++ {
				want += float64(bm[i*n+j]) * float64(b[l*n+j])
			}
			if math.Abs(want-float64(cw[i*k+l])) > 1e-3 {
				t.Fatalf("matMulTAdd[%d][%d] = %v, want %v", i, l, cw[i*k+l], want)
			}
		}
	}
}

// col2im must be the adjoint of im2col: <im2col(x), y> == <x, col2im(y)>.
func TestIm2colAdjoint(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	cin, n, h, w := 3, 2, 5, 6
	x := randSlice(rng, cin*n*h*w)
	col := make([]float32, cin*9*n*h*w)
	im2col(x, cin, n, h, w, col)
	y := randSlice(rng, len(col))
	back := make([]float32, len(x))
	col2im(y, cin, n, h, w, back)
	var l, r float64
	for i := range col {
		l += float64(col[i]) * float64(y[i])
	}
	for i := range x {
		r += float64(x[i]) * float64(back[i])
	}
	if math.Abs(l-r) > 1e-3 {
		t.Fatalf("<im2col x, y> = %v, <x, col2im y> = %v", l, r)
	}
	// Spot-check one patch entry against the definition: row (ci,ky,kx),
	// output pixel (img,y,x) reads input (y+ky-1, x+kx-1) or 0.
	ci, ky, kx, img, yy, xx := 1, 0, 2, 1, 0, 5
	got := col[(ci*9+ky*3+kx)*n*h*w+img*h*w+yy*w+xx]
	if got != 0 { // y-1 < 0 is padding
		t.Fatalf("padding entry = %v, want 0", got)
	}
	ky, yy, xx = 2, 3, 2
	got = col[(ci*9+ky*3+kx)*n*h*w+img*h*w+yy*w+xx]
	want := x[ci*n*h*w+img*h*w+(yy+1)*w+(xx+1)]
	if got != want {
		t.Fatalf("patch entry = %v, want %v", got, want)
	}
}

func TestMaxPool(t *testing.T) {
	// one channel, one 4x4 image
	in := []float32{
		1, 2, 0, 0,
		3, 4, 0, 9,
		-1, -2, 5, 5,
		-3, -4, 5, 6,
	}
	out := make([]float32, 4)
	arg := make([]int32, 4)
	maxPool2(in, 1, 1, 4, 4, out, arg)
	want := []float32{4, 9, -1, 6}
	for i := range want {
		if out[i] != want[i] {
			t.Fatalf("pool = %v, want %v", out, want)
		}
	}
	din := make([]float32, 16)
	maxPool2Back([]float32{1, 2, 3, 4}, arg, 1, 1, 4, 4, din)
	if din[5] != 1 || din[7] != 2 || din[8] != 3 || din[15] != 4 {
		t.Fatalf("pool backward = %v", din)
	}
}

// TestGradientCheck compares the analytic gradient of the whole training
// step (conv, batch norm in training mode, ReLU, max pool, global average
// pooling, linear, softmax cross-entropy) with central finite differences.
func TestGradientCheck(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	stages := []Stage{{Out: 3, Pool: true}, {Out: 4, Pool: false}}
	net, err := newNetwork(3, 6, 6, 3, stages, rng)
	if err != nil {
		t.Fatal(err)
	}
	for i := range net.stages { // non-trivial BN affine parameters
		for c := range net.gamma[i] {
			net.gamma[i][c] = float32(0.5 + rng.Float64())
			net.beta[i][c] = float32(rng.NormFloat64() * 0.3)
		}
	}
	const batch = 5
	tr := newTrainer(net)
	tr.classW = []float32{1, 1.5, 0.7}
	tr.prepare(batch)
	xs := randSlice(rng, batch*3*36)
	labels := []int{0, 2, 1, 1, 0}
	fill := func(si int, sh *shard) {
		lo, _ := shardRange(si, batch)
		for j := 0; j < sh.n; j++ {
			for c := 0; c < 3; c++ {
				copy(sh.x[c*sh.n*36+j*36:c*sh.n*36+(j+1)*36], xs[(lo+j)*108+c*36:(lo+j)*108+(c+1)*36])
			}
		}
	}
	loss := func() float64 {
		tr.stepWith(labels, fill)
		var l float64
		for si, sh := range tr.shards {
			lo, _ := shardRange(si, batch)
			for j := 0; j < sh.n; j++ {
				p := sh.probs[j*3 : j*3+3]
				l -= float64(tr.classW[labels[lo+j]]) * math.Log(float64(p[labels[lo+j]]))
			}
		}
		return l / batch
	}
	loss()
	ps, _ := net.params()
	analytic := make([][]float32, len(ps))
	for i, g := range tr.grads {
		analytic[i] = append([]float32(nil), g...)
	}
	const eps = 2e-3
	checked, bad := 0, 0
	for pi, p := range ps {
		for j := 0; j < len(p); j += 1 + len(p)/12 {
			orig := p[j]
			p[j] = orig + eps
			lp := loss()
			p[j] = orig - eps
			lm := loss()
			p[j] = orig
			num := (lp - lm) / (2 * eps)
			ana := float64(analytic[pi][j])
			checked++
			if math.Abs(num-ana) > 3e-2*math.Max(math.Abs(num), math.Abs(ana))+2e-4 {
				bad++
				t.Logf("param %d[%d]: numerical %.6f analytic %.6f", pi, j, num, ana)
			}
		}
	}
	// A ReLU or max-pool kink inside the finite-difference interval can
	// spoil an individual estimate; tolerate at most one of those.
	if bad > 1 {
		t.Fatalf("%d of %d gradient entries disagree", bad, checked)
	}
	t.Logf("checked %d gradient entries, %d outside tolerance", checked, bad)
}
