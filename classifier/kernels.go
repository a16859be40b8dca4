package classifier

import (
	"gonum.org/v1/gonum/blas/blas32"
)

// The inner loops of the network are vector updates y += a*x and dot
// products over long contiguous float32 rows. gonum's pure-Go BLAS routes
// both to its SIMD kernels (blas32.Axpy / blas32.Dot), which measured 4-8x
// faster on this machine than plain Go loops (see doc.go).

// axpy computes y += a*x for len(x) == len(y).
func axpy(a float32, x, y []float32) {
	if a == 0 || len(x) == 0 {
		return
	}
	blas32.Axpy(a, blas32.Vector{N: len(x), Inc: 1, Data: x}, blas32.Vector{N: len(y), Inc: 1, Data: y})
}

// dot returns sum x[i]*y[i].
func dot(x, y []float32) float32 {
	if len(x) == 0 {
		return 0
	}
	return blas32.Dot(blas32.Vector{N: len(x), Inc: 1, Data: x}, blas32.Vector{N: len(y), Inc: 1, Data: y})
}

// colBlock is the column tile of the matrix kernels: rows of C stay in L1
// and the touched part of B (K rows x colBlock) in L2 while it is reused.
const colBlock = 512

// matMulAdd computes C[m][n] += A[m][k] * B[k][n] (all row-major, dense).
func matMulAdd(m, n, k int, a, b, c []float32) {
	for j0 := 0; j0 < n; j0 += colBlock {
		j1 := min(j0+colBlock, n)
		for i := 0; i < m; i++ {
			ci := c[i*n+j0 : i*n+j1]
			for l, av := range a[i*k : (i+1)*k] {
				axpy(av, b[l*n+j0:l*n+j1], ci)
			}
		}
	}
}

// matTMulAdd computes C[k][n] += A[m][k]ᵀ * B[m][n].
func matTMulAdd(m, n, k int, a, b, c []float32) {
	for j0 := 0; j0 < n; j0 += colBlock {
		j1 := min(j0+colBlock, n)
		for l := 0; l < k; l++ {
			cl := c[l*n+j0 : l*n+j1]
			for i := 0; i < m; i++ {
				axpy(a[i*k+l], b[i*n+j0:i*n+j1], cl)
			}
		}
	}
}

// matMulTAdd computes C[m][k] += A[m][n] * B[k][n]ᵀ.
func matMulTAdd(m, n, k int, a, b, c []float32) {
	for j0 := 0; j0 < n; j0 += colBlock {
		j1 := min(j0+colBlock, n)
		for i := 0; i < m; i++ {
			ai := a[i*n+j0 : i*n+j1]
			ci := c[i*k : (i+1)*k]
			for l := range ci {
				ci[l] += dot(ai, b[l*n+j0:l*n+j1])
			}
		}
	}
}

// im2col expands a [cin][n][h][w] tensor into the [cin*9][n*h*w] patch
// matrix of a 3x3, stride-1, zero-padded (pad 1) convolution.
func im2col(in []float32, cin, n, h, w int, col []float32) {
	hw := h * w
	nhw := n * hw
	for ci := 0; ci < cin; ci++ {
		src := in[ci*nhw : (ci+1)*nhw]
		for ky := 0; ky < 3; ky++ {
			for kx := 0; kx < 3; kx++ {
				row := col[(ci*9+ky*3+kx)*nhw : (ci*9+ky*3+kx+1)*nhw]
				dy, dx := ky-1, kx-1
				x0, x1 := max(0, -dx), min(w, w-dx)
				for img := 0; img < n; img++ {
					for y := 0; y < h; y++ {
						dst := row[img*hw+y*w : img*hw+y*w+w]
						sy := y + dy
						if sy < 0 || sy >= h {
							clear(dst)
							continue
						}
						s := src[img*hw+sy*w : img*hw+sy*w+w]
						if x0 > 0 {
							clear(dst[:x0])
						}
						copy(dst[x0:x1], s[x0+dx:x1+dx])
						if x1 < w {
							clear(dst[x1:])
						}
					}
				}
			}
		}
	}
}

// col2im is the adjoint of im2col: it accumulates the patch-matrix gradient
// col into din ([cin][n][h][w]), which must be zeroed by the caller.
func col2im(col []float32, cin, n, h, w int, din []float32) {
	hw := h * w
	nhw := n * hw
	for ci := 0; ci < cin; ci++ {
		dst := din[ci*nhw : (ci+1)*nhw]
		for ky := 0; ky < 3; ky++ {
			for kx := 0; kx < 3; kx++ {
				row := col[(ci*9+ky*3+kx)*nhw : (ci*9+ky*3+kx+1)*nhw]
				dy, dx := ky-1, kx-1
				x0, x1 := max(0, -dx), min(w, w-dx)
				for img := 0; img < n; img++ {
					for y := 0; y < h; y++ {
						sy := y + dy
						if sy < 0 || sy >= h {
							continue
						}
						s := row[img*hw+y*w+x0 : img*hw+y*w+x1]
						d := dst[img*hw+sy*w+x0+dx : img*hw+sy*w+x1+dx]
						d = d[:len(s)]
						for i, v := range s {
							d[i] += v
						}
					}
				}
			}
		}
	}
}

// maxPool2 applies 2x2/stride-2 max pooling (floor) to a [c][n][h][w]
// tensor, writing [c][n][h/2][w/2] to out and the winning input offsets
// (relative to the channel plane) to arg.
func maxPool2(in []float32, c, n, h, w int, out []float32, arg []int32) {
	oh, ow := h/2, w/2
	hw, ohw := h*w, oh*ow
	for ch := 0; ch < c; ch++ {
		src := in[ch*n*hw : (ch+1)*n*hw]
		dst := out[ch*n*ohw : (ch+1)*n*ohw]
		ag := arg[ch*n*ohw : (ch+1)*n*ohw]
		for img := 0; img < n; img++ {
			for oy := 0; oy < oh; oy++ {
				r0 := img*hw + 2*oy*w
				r1 := r0 + w
				o := img*ohw + oy*ow
				for ox := 0; ox < ow; ox++ {
					// Branch-free: the winner's position is random, so
					// branches would mispredict half the time.
					i0 := r0 + 2*ox
					i1 := r1 + 2*ox
					s0, s1, s2, s3 := src[i0], src[i0+1], src[i1], src[i1+1]
					m01, m23 := max(s0, s1), max(s2, s3)
					a := i0 + b2i(s1 > s0)
					b := i1 + b2i(s3 > s2)
					d := b2i(m23 > m01)
					dst[o+ox] = max(m01, m23)
					ag[o+ox] = int32(a + d*(b-a))
				}
			}
		}
	}
}

// b2i converts a comparison to 0/1 without a branch (the compiler emits SETcc).
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// maxPool2Back scatters dout into din (zeroed by the caller) using arg.
func maxPool2Back(dout []float32, arg []int32, c, n, h, w int, din []float32) {
	hw, ohw := h*w, (h/2)*(w/2)
	for ch := 0; ch < c; ch++ {
		d := din[ch*n*hw : (ch+1)*n*hw]
		g := dout[ch*n*ohw : (ch+1)*n*ohw]
		ag := arg[ch*n*ohw : (ch+1)*n*ohw]
		for i, v := range g {
			d[ag[i]] += v
		}
	}
}
