package intrinsic

import (
	"testing"
)

// BenchmarkFormat measures Parse plus Eval of a States.Format call, the
// work the engine does for a field it has not parsed before.
func BenchmarkFormat(b *testing.B) {
	const expr = "States.Format('s3://{}/{} ({} inferences)', $.s3_bucket, $.s3_key, States.ArrayLength($.inferences))"
	input := map[string]any{
		"s3_bucket":  "sagemaker-us-east-1-123456789012",
		"s3_key":     "test/bicycle_s_000030.png",
		"inferences": []any{0.95, 0.05},
	}
	resolve := docResolver(input, nil, nil)
	b.ReportAllocs()
	for b.Loop() {
		c, err := Parse(expr)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.Eval(resolve); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFormatEvalOnly measures Eval of a call parsed once, the steady
// state of an engine that caches parsed definitions.
func BenchmarkFormatEvalOnly(b *testing.B) {
	c, err := Parse("States.Format('s3://{}/{} ({} inferences)', $.s3_bucket, $.s3_key, States.ArrayLength($.inferences))")
	if err != nil {
		b.Fatal(err)
	}
	resolve := docResolver(map[string]any{
		"s3_bucket":  "sagemaker-us-east-1-123456789012",
		"s3_key":     "test/bicycle_s_000030.png",
		"inferences": []any{0.95, 0.05},
	}, nil, nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Eval(resolve); err != nil {
			b.Fatal(err)
		}
	}
}
