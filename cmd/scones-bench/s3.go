package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
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
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "rounds", Value: 6, Usage: "alternating rounds per case; each runs --duration / rounds"},
			&cli.BoolFlag{Name: "processes", Usage: "run the emulator (scones-emulator) and the floor each in a process of its own instead of in this one"},
		},
		Action: func(c *cli.Context) error {
			ctx := c.Context
			d := c.Duration("duration")
			var results []result

			var targets []struct{ name, url string }
			if c.Bool("processes") {
				// Each server in a process of its own, so that each has
				// its own garbage collector and neither pays for the
				// client's: scones-emulator, and this binary's floor.
				dir, err := os.MkdirTemp("", "scones-bench")
				if err != nil {
					return err
				}
				defer os.RemoveAll(dir)
				bin, err := buildBinary(dir, "scones-emulator", "./cmd/scones-emulator", "nodocker")
				if err != nil {
					return err
				}
				emu, err := startProcess(ctx, bin, []string{"--addr", "127.0.0.1:PORT"}, "/_scones/health")
				if err != nil {
					return err
				}
				defer emu.stop()
				self, err := os.Executable()
				if err != nil {
					return err
				}
				floor, err := startProcess(ctx, self, []string{"floor", "--addr", "127.0.0.1:PORT"}, "/")
				if err != nil {
					return err
				}
				defer floor.stop()
				targets = append(targets, struct{ name, url string }{"scones-emulator (own process)", emu.url}, struct{ name, url string }{"floor (own process)", floor.url})
			} else {
				srv, err := emulator.Start(ctx, emulator.Options{Addr: "127.0.0.1:0"})
				if err != nil {
					return err
				}
				defer srv.Close()
				floor := httptest.NewServer(floorHandler())
				defer floor.Close()
				targets = append(targets, struct{ name, url string }{"scones emulator", srv.URL()}, struct{ name, url string }{"floor (bare net/http)", floor.URL})
			}
			if !c.Bool("no-moto") {
				m, err := startMoto(ctx, "")
				if err != nil {
					fmt.Printf("moto skipped: %v\n\n", err)
				} else {
					defer m.stop()
					targets = append(targets, struct{ name, url string }{"moto server", m.url})
				}
			}
			// The targets are measured in alternating rounds (each case,
			// round after round: emulator, floor, moto), so that load drift
			// on a shared machine falls on all alike.
			var benches []*s3Bench
			for _, t := range targets {
				b, err := newS3Bench(ctx, t.name, t.url)
				if err != nil {
					return fmt.Errorf("%s: %w", t.name, err)
				}
				benches = append(benches, b)
			}
			rounds := c.Int("rounds")
			// The emulator's throughput over the floor's, round by round:
			// their spread says how far one run's ratio can be trusted.
			var ratios [][]float64
			for _, cs := range s3Cases() {
				merged := make([]result, len(benches))
				var caseRatios []float64
				for range rounds {
					var round []result
					for i, b := range benches {
						r := measure(ctx, b.name, cs.op, cs.conc, d/time.Duration(rounds), b.op(cs.op))
						round = append(round, r)
						merged[i] = mergeResults(merged[i], r)
					}
					caseRatios = append(caseRatios, round[0].perSecond()/round[1].perSecond())
				}
				results = append(results, merged...)
				ratios = append(ratios, caseRatios)
			}
			printResults(results)
			fmt.Println()
			fmt.Println("| operation | concurrency | emulator / floor, whole run | per round: median | min | max |")
			fmt.Println("| --- | ---: | ---: | ---: | ---: | ---: |")
			for i, cs := range s3Cases() {
				emu, floor := results[i*len(benches)], results[i*len(benches)+1]
				r := ratios[i]
				slices.Sort(r)
				fmt.Printf("| %s | %d | %.3f | %.3f | %.3f | %.3f |\n", cs.op, cs.conc, emu.perSecond()/floor.perSecond(), r[len(r)/2], r[0], r[len(r)-1])
			}
			return nil
		},
	}
}

func s3Client(url string) *s3.Client {
	// What config.LoadDefaultConfig gives: request checksums (CRC32) and
	// response validation whenever the operation supports them. A bare
	// aws.Config leaves both unset, which means "when required" only.
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenSupported}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(url)
		o.UsePathStyle = true
	})
}

type s3Case struct {
	op   string
	conc int
}

func s3Cases() []s3Case {
	return []s3Case{{"PutObject 3 KB", 1}, {"GetObject 3 KB", 1}, {"PutObject 3 KB", 8}, {"GetObject 3 KB", 8}}
}

// s3Bench is one target with its bucket and the object GetObject reads.
type s3Bench struct {
	name   string
	client *s3.Client
	body   []byte
}

func newS3Bench(ctx context.Context, name, url string) (*s3Bench, error) {
	b := &s3Bench{name: name, client: s3Client(url), body: bytes.Repeat([]byte("scones!"), objectSize/7+1)[:objectSize]}
	if _, err := b.client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bench")}); err != nil {
		return nil, fmt.Errorf("CreateBucket: %w", err)
	}
	if _, err := b.client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bench"), Key: aws.String("get3k"), Body: bytes.NewReader(b.body)}); err != nil {
		return nil, fmt.Errorf("PutObject: %w", err)
	}
	return b, nil
}

func (b *s3Bench) op(name string) func(ctx context.Context, w, i int) error {
	if name == "PutObject 3 KB" {
		return func(ctx context.Context, w, i int) error {
			_, err := b.client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bench"),
				Key: aws.String("put/" + strconv.Itoa(w) + "/" + strconv.Itoa(i%500)), Body: bytes.NewReader(b.body)})
			return err
		}
	}
	return func(ctx context.Context, w, i int) error {
		resp, err := b.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bench"), Key: aws.String("get3k")})
		if err != nil {
			return err
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err == nil && n != objectSize {
			err = fmt.Errorf("got %d bytes", n)
		}
		return err
	}
}

// floorCommand serves the floor alone, for s3 --processes.
func floorCommand() *cli.Command {
	return &cli.Command{
		Name:   "floor",
		Hidden: true,
		Usage:  "serve the S3 floor (a bare net/http handler) alone, for s3 --processes",
		Flags:  []cli.Flag{&cli.StringFlag{Name: "addr", Value: "127.0.0.1:0"}},
		Action: func(c *cli.Context) error { return http.ListenAndServe(c.String("addr"), floorHandler()) },
	}
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
