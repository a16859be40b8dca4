package classifier

import "testing"

func TestFormatProbabilities(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want string
	}{
		{[]float64{0.8227921724319458, 0.1772077977657318}, "[0.8227921724319458, 0.1772077977657318]"},
		{[]float64{1, 0}, "[1.0, 0.0]"},
		{[]float64{1e-7, 0.9999999}, "[1e-07, 0.9999999]"},
	} {
		if got := string(FormatProbabilities(c.in)); got != c.want {
			t.Errorf("FormatProbabilities(%v) = %s, want %s", c.in, got, c.want)
		}
	}
}
