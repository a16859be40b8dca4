package lambda_test

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/scones/scones/emulator"
)

// reportLatencies reports p50 and p99 of d in milliseconds.
func reportLatencies(b *testing.B, d []time.Duration) {
	if len(d) == 0 {
		return
	}
	slices.Sort(d)
	pct := func(p float64) float64 {
		return float64(d[min(len(d)-1, int(float64(len(d))*p))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}

// BenchmarkColdStart measures CreateFunction through the first response of
// the test function (a trivial echo), through aws-sdk-go-v2, in two cases:
//
//   - code=unpacked: the zip is the one another function has, so its
//     bootstrap is already on disk (unpacked code is kept by SHA-256 while
//     a function has it): the cold start is the upload, the process start
//     and the first invoke;
//   - code=new: every function gets a zip no function had before (the echo
//     zip plus a one-line file), so the 6 MB bootstrap is also inflated and
//     written before it can start.
func BenchmarkColdStart(b *testing.B) {
	base := testFunctionZip(b)
	for _, newCode := range []bool{false, true} {
		name := "code=unpacked"
		if newCode {
			name = "code=new"
		}
		b.Run(name, func(b *testing.B) {
			h := start(b, emulator.Options{})
			ctx := context.Background()
			if !newCode {
				h.create(b, "keeper", base, nil) // holds the unpacked code
				h.invoke(b, "keeper", map[string]int{"n": 0}, nil)
			}
			var lat, created []time.Duration
			b.ResetTimer()
			for i := range b.N {
				zip := base
				if newCode {
					b.StopTimer()
					zip = zipWithNonce(b, base, fmt.Sprintf("%s-%d", b.Name(), i))
					b.StartTimer()
				}
				name := fmt.Sprintf("cold-%d", i)
				t0 := time.Now()
				h.create(b, name, zip, nil)
				created = append(created, time.Since(t0))
				out := h.invoke(b, name, map[string]int{"n": i}, nil)
				lat = append(lat, time.Since(t0))
				if out.FunctionError != nil {
					b.Fatalf("%s", out.Payload)
				}
				b.StopTimer()
				if _, err := h.client.DeleteFunction(ctx, &awslambda.DeleteFunctionInput{FunctionName: aws.String(name)}); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			b.StopTimer()
			reportLatencies(b, lat)
			// How much of it is CreateFunction (uploading a zip of a few MB).
			slices.Sort(created)
			b.ReportMetric(float64(created[len(created)/2].Microseconds())/1000, "create-p50-ms")
		})
	}
}

// zipWithNonce returns the zip with one more small file, so that its
// SHA-256 is new; the other entries are copied without recompressing.
func zipWithNonce(b testing.TB, src []byte, nonce string) []byte {
	b.Helper()
	zr, err := zip.NewReader(bytes.NewReader(src), int64(len(src)))
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range zr.File {
		if err := zw.Copy(f); err != nil {
			b.Fatal(err)
		}
	}
	w, err := zw.Create("nonce.txt")
	if err != nil {
		b.Fatal(err)
	}
	io.WriteString(w, nonce)
	if err := zw.Close(); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkWarmInvoke measures invocations of a warm echo function at
// concurrency 1 and 8, through aws-sdk-go-v2.
func BenchmarkWarmInvoke(b *testing.B) {
	for _, conc := range []int{1, 8} {
		b.Run(fmt.Sprintf("concurrency=%d", conc), func(b *testing.B) {
			h := start(b, emulator.Options{})
			ctx := context.Background()
			h.create(b, "echo", testFunctionZip(b), nil)
			// Warm conc instances.
			var wg sync.WaitGroup
			for range conc {
				wg.Go(func() { h.invoke(b, "echo", map[string]int{"n": 0}, nil) })
			}
			wg.Wait()
			payload := []byte(`{"n":1}`)
			lats := make([][]time.Duration, conc)
			next := make(chan struct{}, b.N)
			for range b.N {
				next <- struct{}{}
			}
			close(next)
			b.ResetTimer()
			for w := range conc {
				wg.Go(func() {
					for range next {
						t0 := time.Now()
						out, err := h.client.Invoke(ctx, &awslambda.InvokeInput{FunctionName: aws.String("echo"), Payload: payload})
						if err != nil || out.FunctionError != nil {
							b.Errorf("invoke: %v", err)
							return
						}
						lats[w] = append(lats[w], time.Since(t0))
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			reportLatencies(b, slices.Concat(lats...))
		})
	}
}
