package classifier

import "math"

// optimizer applies one update per mini-batch. Its state is per parameter
// tensor, in network.params() order.
type optimizer struct {
	kind                 string
	momentum, wd         float32
	beta1, beta2, eps, g float64
	params               [][]float32
	decay                []bool
	m, v                 [][]float32
	t                    int
}

func newOptimizer(cfg *TrainConfig, net *network) *optimizer {
	ps, decay := net.params()
	o := &optimizer{
		kind: cfg.Optimizer, momentum: float32(cfg.Momentum), wd: float32(cfg.WeightDecay),
		beta1: cfg.Beta1, beta2: cfg.Beta2, eps: cfg.Eps, g: cfg.Gamma,
		params: ps, decay: decay,
	}
	for _, p := range ps {
		o.m = append(o.m, make([]float32, len(p)))
		o.v = append(o.v, make([]float32, len(p)))
	}
	return o
}

func (o *optimizer) update(grads [][]float32, lr float32) {
	o.t++
	switch o.kind {
	case "sgd", "nag":
		// MXNet-style SGD: v = momentum*v - lr*(g + wd*w); w += v.
		// NAG: w += momentum*v - lr*(g + wd*w) with the updated v.
		nag := o.kind == "nag"
		for pi, p := range o.params {
			g := grads[pi]
			v := o.m[pi]
			wd := float32(0)
			if o.decay[pi] {
				wd = o.wd
			}
			g = g[:len(p)]
			v = v[:len(p)]
			for j := range p {
				gj := g[j] + wd*p[j]
				v[j] = o.momentum*v[j] - lr*gj
				if nag {
					p[j] += o.momentum*v[j] - lr*gj
				} else {
					p[j] += v[j]
				}
			}
		}
	case "adam":
		b1, b2 := o.beta1, o.beta2
		c1 := 1 - math.Pow(b1, float64(o.t))
		c2 := 1 - math.Pow(b2, float64(o.t))
		step := float64(lr) * math.Sqrt(c2) / c1
		for pi, p := range o.params {
			g, m, v := grads[pi], o.m[pi], o.v[pi]
			for j := range p {
				gj := float64(g[j])
				m[j] = float32(b1*float64(m[j]) + (1-b1)*gj)
				v[j] = float32(b2*float64(v[j]) + (1-b2)*gj*gj)
				p[j] -= float32(step * float64(m[j]) / (math.Sqrt(float64(v[j])) + o.eps))
			}
		}
	case "rmsprop":
		for pi, p := range o.params {
			g, v := grads[pi], o.v[pi]
			for j := range p {
				gj := float64(g[j])
				v[j] = float32(o.g*float64(v[j]) + (1-o.g)*gj*gj)
				p[j] -= float32(float64(lr) * gj / (math.Sqrt(float64(v[j])) + o.eps))
			}
		}
	}
}
