package s3_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// runConcurrent runs op b.N times spread over n goroutines.
func runConcurrent(b *testing.B, n int, op func(i int64) error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, n)
	b.ResetTimer()
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				if err := op(i); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

// BenchmarkPutObject3KB measures PutObject of 3 KB through aws-sdk-go-v2
// (default checksum settings) to the in-process edge over TCP.
func BenchmarkPutObject3KB(b *testing.B) {
	srv := startServer(b, emulatorOptions())
	c := newClient(srv.URL())
	ctx := context.Background()
	c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bench")})
	data := randBytes(3072, 1)
	for _, n := range []int{1, 8} {
		b.Run(fmt.Sprintf("c%d", n), func(b *testing.B) {
			runConcurrent(b, n, func(i int64) error {
				_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bench"), Key: aws.String(fmt.Sprintf("k%d", i%1000)), Body: bytes.NewReader(data)})
				return err
			})
		})
	}
}

// BenchmarkGetObject3KB measures GetObject of 3 KB (body read to the end,
// so the SDK's response checksum validation runs when the object has one).
func BenchmarkGetObject3KB(b *testing.B) {
	srv := startServer(b, emulatorOptions())
	c := newClient(srv.URL())
	ctx := context.Background()
	c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bench")})
	data := randBytes(3072, 1)
	for i := range 100 {
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bench"), Key: aws.String(fmt.Sprintf("k%d", i)), Body: bytes.NewReader(data)}); err != nil {
			b.Fatal(err)
		}
	}
	for _, n := range []int{1, 8} {
		b.Run(fmt.Sprintf("c%d", n), func(b *testing.B) {
			runConcurrent(b, n, func(i int64) error {
				out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bench"), Key: aws.String(fmt.Sprintf("k%d", i%100))})
				if err != nil {
					return err
				}
				_, err = io.Copy(io.Discard, out.Body)
				out.Body.Close()
				return err
			})
		})
	}
}
