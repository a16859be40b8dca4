package intrinsic

// javaRandom is java.util.Random: a 48-bit linear congruential generator.
// A seeded States.MathRandom uses it so that a seed always gives the same
// number, computed the way a Java service most plausibly computes it.
type javaRandom struct{ seed int64 }

const (
	javaMultiplier = 0x5DEECE66D
	javaAddend     = 0xB
	javaMask       = (int64(1) << 48) - 1
)

func newJavaRandom(seed int64) *javaRandom {
	return &javaRandom{seed: (seed ^ javaMultiplier) & javaMask}
}

// next returns the next pseudorandom value with the given number of bits
// (Random.next). Signed overflow wraps in Go as it does in Java.
func (r *javaRandom) next(bits uint) int32 {
	r.seed = (r.seed*javaMultiplier + javaAddend) & javaMask
	return int32(uint64(r.seed) >> (48 - bits))
}

// nextInt returns a value in [0, bound) exactly as Random.nextInt(int)
// does; bound must be positive.
func (r *javaRandom) nextInt(bound int32) int32 {
	v := r.next(31)
	m := bound - 1
	if bound&m == 0 { // a power of two
		return int32((int64(bound) * int64(v)) >> 31)
	}
	for u := v; ; u = r.next(31) {
		v = u % bound
		if u-v+m >= 0 {
			return v
		}
	}
}
