package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/urfave/cli/v2"

	"github.com/scones/scones/emulator"
)

const objectSize = 3 * 1024

func s3Command() *cli.Command {
	return &cli.Command{
		Name:  "s3",
		Usage: "PutObject and GetObject of 3 KB through aws-sdk-go-v2: emulator, bare net/http floor, moto",
		Action: func(c *cli.Context) error {
			ctx := c.Context
			d := c.Duration("duration")
			var results []result

			srv, err := emulator.Start(ctx, emulator.Options{Addr: "127.0.0.1:0"})
			if err != nil {
				return err
			}
			defer srv.Close()
			floor := httptest.NewServer(floorHandler())
			defer floor.Close()

			targets := []struct{ name, url string }{{"scones emulator", srv.URL()}, {"floor (bare net/http)", floor.URL}}
			if !c.Bool("no-moto") {
				m, err := startMoto(ctx, "")
				if err != nil {
					fmt.Printf("moto skipped: %v\n\n", err)
				} else {
					defer m.stop()
					targets = append(targets, struct{ name, url string }{"moto server", m.url})
				}
			}
			for _, t := range targets {
				rs, err := benchS3(ctx, t.name, t.url, d)
				if err != nil {
					return fmt.Errorf("%s: %w", t.name, err)
				}
				results = append(results, rs...)
			}
			printResults(results)
			return nil
		},
	}
}

func s3Client(url string) *s3.Client {
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(url)
		o.UsePathStyle = true
	})
}

func benchS3(ctx context.Context, name, url string, d time.Duration) ([]result, error) {
	client := s3Client(url)
	body := bytes.Repeat([]byte("scones!"), objectSize/7+1)[:objectSize]
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bench")}); err != nil {
		return nil, fmt.Errorf("CreateBucket: %w", err)
	}
	if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bench"), Key: aws.String("get3k"), Body: bytes.NewReader(body)}); err != nil {
		return nil, fmt.Errorf("PutObject: %w", err)
	}
	var out []result
	for _, conc := range []int{1, 8} {
		out = append(out, measure(ctx, name, "PutObject 3 KB", conc, d, func(ctx context.Context, w, i int) error {
			_, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bench"),
				Key: aws.String("put/" + strconv.Itoa(w) + "/" + strconv.Itoa(i%500)), Body: bytes.NewReader(body)})
			return err
		}))
		out = append(out, measure(ctx, name, "GetObject 3 KB", conc, d, func(ctx context.Context, w, i int) error {
			resp, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bench"), Key: aws.String("get3k")})
			if err != nil {
				return err
			}
			n, err := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if err == nil && n != objectSize {
				err = fmt.Errorf("got %d bytes", n)
			}
			return err
		}))
	}
	return out, nil
}

// floorHandler is the least a server can do for these calls: read the body,
// answer with fixed headers, or return 3 KB. No storage, no XML, no checks.
func floorHandler() http.Handler {
	body := bytes.Repeat([]byte("scones!"), objectSize/7+1)[:objectSize]
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("ETag", `"0123456789abcdef0123456789abcdef"`)
		if r.Method == http.MethodGet {
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Write(body)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}
