package main

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
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
			&cli.BoolFlag{Name: "processes", Usage: "run the emulator (scones-emulator) and the floors each in a process of its own instead of in this one, and report each server's CPU per operation"},
			&cli.BoolFlag{Name: "aws-floor", Usage: "add a second floor that does only what AWS's S3 API demands of any server: MD5 ETag, CRC32 (or else x-amz-content-sha256) checked, the object kept, AWS's response headers"},
			&cli.BoolFlag{Name: "same-binary", Usage: "with --processes: also run the emulator served by this binary (scones-bench), the floors' own, so that the comparison does not depend on how each binary is laid out"},
			&cli.StringFlag{Name: "cpuprofile", Usage: "write a CPU profile of this process to `FILE`, the client's work labelled with the target it measured (target) and the case (case): `go tool pprof -tags FILE` gives the client's CPU time per target, which the server's work can raise when both share the cores"},
		},
		Action: func(c *cli.Context) error {
			ctx := c.Context
			d := c.Duration("duration")
			var results []result

			type target struct {
				name, url string
				pid       int // the server's own process, with --processes
			}
			var targets []target
			// Where the AWS-work floor and the emulator served by this
			// binary are among the targets (0: not run).
			awsIdx, sameIdx := 0, 0
			awsFloor := c.Bool("aws-floor")
			sameBinary := c.Bool("same-binary")
			if sameBinary && !c.Bool("processes") {
				return fmt.Errorf("--same-binary needs --processes: without it every server already runs in this binary")
			}
			if c.Bool("processes") {
				// Each server in a process of its own, so that each has
				// its own garbage collector and neither pays for the
				// client's: scones-emulator, and this binary's floor.
				dir, err := os.MkdirTemp("", "scones-bench")
				if err != nil {
					return err
				}
				defer os.RemoveAll(dir)
				bin, err := buildEmulator(dir)
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
				targets = append(targets, target{"scones-emulator (own process)", emu.url, emu.cmd.Process.Pid}, target{"floor (own process)", floor.url, floor.cmd.Process.Pid})
				if awsFloor {
					af, err := startProcess(ctx, self, []string{"floor", "--aws", "--addr", "127.0.0.1:PORT"}, "/")
					if err != nil {
						return err
					}
					defer af.stop()
					awsIdx = len(targets)
					targets = append(targets, target{"floor with AWS's work (own process)", af.url, af.cmd.Process.Pid})
				}
				if sameBinary {
					se, err := startProcess(ctx, self, []string{"serve-emulator", "--addr", "127.0.0.1:PORT"}, "/_scones/health")
					if err != nil {
						return err
					}
					defer se.stop()
					sameIdx = len(targets)
					targets = append(targets, target{"scones emulator served by scones-bench (own process)", se.url, se.cmd.Process.Pid})
				}
			} else {
				srv, err := emulator.Start(ctx, emulator.Options{Addr: "127.0.0.1:0"})
				if err != nil {
					return err
				}
				defer srv.Close()
				floor := httptest.NewServer(floorHandler())
				defer floor.Close()
				targets = append(targets, target{"scones emulator", srv.URL(), 0}, target{"floor (bare net/http)", floor.URL, 0})
				if awsFloor {
					af := httptest.NewServer(awsFloorHandler())
					defer af.Close()
					awsIdx = len(targets)
					targets = append(targets, target{"floor with AWS's work", af.URL, 0})
				}
			}
			if !c.Bool("no-moto") {
				m, err := startMoto(ctx, "")
				if err != nil {
					fmt.Printf("moto skipped: %v\n\n", err)
				} else {
					defer m.stop()
					targets = append(targets, target{"moto server", m.url, m.cmd.Process.Pid})
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
			stopProfile, err := startCPUProfile(c.String("cpuprofile"))
			if err != nil {
				return err
			}
			defer stopProfile()
			rounds := c.Int("rounds")
			// The emulator's throughput over the floor's, round by round:
			// their spread says how far one run's ratio can be trusted.
			var ratios [][]float64
			// Each server process's CPU time per case, indexed as results.
			serverCPU := make([]time.Duration, len(s3Cases())*len(benches))
			for ci, cs := range s3Cases() {
				merged := make([]result, len(benches))
				var caseRatios []float64
				for range rounds {
					var round []result
					for i, b := range benches {
						cpu0 := processCPU(targets[i].pid)
						var r result
						// The workers inherit the labels; the servers'
						// goroutines, started by their listeners, do not.
						pprof.Do(ctx, pprof.Labels("target", b.name, "case", fmt.Sprintf("%s c%d", cs.op, cs.conc)), func(ctx context.Context) {
							r = measure(ctx, b.name, cs.op, cs.conc, d/time.Duration(rounds), b.op(cs.op))
						})
						serverCPU[ci*len(benches)+i] += processCPU(targets[i].pid) - cpu0
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
			// Extra columns: the emulator over the floor with AWS's work,
			// and the emulator served by this binary over the floor.
			cols, seps := "", ""
			if awsIdx > 0 {
				cols, seps = cols+" emulator / floor with AWS's work |", seps+" ---: |"
			}
			if sameIdx > 0 {
				cols, seps = cols+" emulator served by scones-bench / floor |", seps+" ---: |"
			}
			fmt.Println("| operation | concurrency | emulator / floor, whole run | per round: median | min | max |" + cols)
			fmt.Println("| --- | ---: | ---: | ---: | ---: | ---: |" + seps)
			for i, cs := range s3Cases() {
				row := results[i*len(benches) : (i+1)*len(benches)]
				emu, floor := row[0], row[1]
				r := ratios[i]
				slices.Sort(r)
				fmt.Printf("| %s | %d | %.3f | %.3f | %.3f | %.3f |", cs.op, cs.conc, emu.perSecond()/floor.perSecond(), r[len(r)/2], r[0], r[len(r)-1])
				if awsIdx > 0 {
					fmt.Printf(" %.3f |", emu.perSecond()/row[awsIdx].perSecond())
				}
				if sameIdx > 0 {
					fmt.Printf(" %.3f |", row[sameIdx].perSecond()/floor.perSecond())
				}
				fmt.Println()
			}
			if c.Bool("processes") {
				// Each server's own CPU time (user + system, from /proc)
				// over the operations it served: what the server costs,
				// apart from the client, which all targets share.
				fmt.Println()
				fmt.Println("| target | operation | concurrency | server CPU per operation |")
				fmt.Println("| --- | --- | ---: | ---: |")
				for k, r := range results {
					if targets[k%len(benches)].pid == 0 {
						continue
					}
					fmt.Printf("| %s | %s | %d | %.1f µs |\n", r.target, r.op, r.concurrency, microsPerOp(serverCPU[k], r.ops))
				}
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
	// A server loaded before (scones-bench load) already has the bucket.
	var owned *types.BucketAlreadyOwnedByYou
	if _, err := b.client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bench")}); err != nil && !errors.As(err, &owned) {
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

// loadCommand drives one running S3 endpoint with a case of the s3
// command: to compare two builds of a server, run each in turn (the s3
// command compares servers of one build), or to measure any S3-compatible
// endpoint.
func loadCommand() *cli.Command {
	return &cli.Command{
		Name:  "load",
		Usage: "drive a running S3 endpoint with PutObject or GetObject of 3 KB for --duration and print ops/s (and, with --pid, the server's CPU per operation)",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "url", Required: true, Usage: "the endpoint, e.g. http://127.0.0.1:4566"},
			&cli.StringFlag{Name: "op", Value: "put", Usage: "put or get"},
			&cli.IntFlag{Name: "concurrency", Value: 1},
			&cli.IntFlag{Name: "pid", Usage: "the server's process id: its CPU time per operation is read from /proc"},
		},
		Action: func(c *cli.Context) error {
			op := map[string]string{"put": "PutObject 3 KB", "get": "GetObject 3 KB"}[c.String("op")]
			if op == "" {
				return fmt.Errorf("--op %q: want put or get", c.String("op"))
			}
			url, pid := c.String("url"), c.Int("pid")
			if pid != 0 {
				if _, err := os.Stat("/proc/" + strconv.Itoa(pid) + "/stat"); err != nil {
					return fmt.Errorf("--pid %d: no such process to read the CPU time of (%w)", pid, err)
				}
			}
			b, err := newS3Bench(c.Context, url, url)
			if err != nil {
				return err
			}
			// A tenth of the time warms the connections, the server's and
			// the client's, uncounted.
			d := c.Duration("duration")
			measure(c.Context, url, op, c.Int("concurrency"), d/10, b.op(op))
			cpu0 := processCPU(pid)
			r := measure(c.Context, url, op, c.Int("concurrency"), d, b.op(op))
			cpu := processCPU(pid) - cpu0
			printResults([]result{r})
			if pid != 0 && r.ops > 0 {
				fmt.Printf("\nserver CPU per operation: %.1f µs\n", microsPerOp(cpu, r.ops))
			}
			return nil
		},
	}
}

// microsPerOp is a server's CPU time over the operations it served, in µs.
func microsPerOp(cpu time.Duration, ops int) float64 {
	return float64(cpu.Nanoseconds()) / 1e3 / float64(ops)
}

// serveEmulatorCommand serves the emulator from this binary, for s3
// --processes --same-binary: the same code as scones-emulator, laid out in
// the binary the floors run from.
func serveEmulatorCommand() *cli.Command {
	return &cli.Command{
		Name:   "serve-emulator",
		Hidden: true,
		Usage:  "serve the emulator (in memory) from this binary, for s3 --processes --same-binary",
		Flags:  []cli.Flag{&cli.StringFlag{Name: "addr", Value: "127.0.0.1:0"}},
		Action: func(c *cli.Context) error {
			srv, err := emulator.Start(c.Context, emulator.Options{Addr: c.String("addr")})
			if err != nil {
				return err
			}
			<-c.Context.Done()
			return srv.Close()
		},
	}
}

// floorCommand serves the floor alone, for s3 --processes.
func floorCommand() *cli.Command {
	return &cli.Command{
		Name:   "floor",
		Hidden: true,
		Usage:  "serve the S3 floor (a bare net/http handler) alone, for s3 --processes",
		Flags:  []cli.Flag{&cli.StringFlag{Name: "addr", Value: "127.0.0.1:0"}, &cli.BoolFlag{Name: "aws", Usage: "serve the floor with AWS's work (awsFloorHandler)"}},
		Action: func(c *cli.Context) error {
			h := floorHandler()
			if c.Bool("aws") {
				h = awsFloorHandler()
			}
			return http.ListenAndServe(c.String("addr"), h)
		},
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

// awsFloorHandler is the least a server can do for these calls while
// keeping S3's contract with the SDK: a PUT's body is read whole, its MD5
// is the ETag, the x-amz-checksum-crc32 the SDK sends is checked (or, if
// it sent none, the x-amz-content-sha256, as the emulator does without
// --verify-signatures), and the object is kept; a GET returns the kept bytes
// with the headers S3 sends (Last-Modified, ETag, its CRC32 when asked).
// No routing, no XML, no other operation, no metadata: the gap between it
// and the bare floor is what S3's semantics cost any server, and the gap
// between it and the emulator is the emulator's own.
func awsFloorHandler() http.Handler {
	type object struct {
		data     []byte
		etag     string
		crc      string
		modified string
	}
	var (
		mu      sync.RWMutex
		objects = map[string]*object{}
	)
	reqID := func() string {
		var b [8]byte
		rand.Read(b[:])
		return strings.ToUpper(hex.EncodeToString(b[:]))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["X-Amz-Request-Id"] = []string{reqID()}
		switch r.Method {
		case http.MethodPut:
			if r.ContentLength < 0 || r.ContentLength > 1<<20 {
				http.Error(w, "want a Content-Length of at most 1 MiB", http.StatusBadRequest)
				return
			}
			data := make([]byte, r.ContentLength)
			if _, err := io.ReadFull(r.Body, data); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			var c [4]byte
			binary.BigEndian.PutUint32(c[:], crc32.ChecksumIEEE(data))
			crc := base64.StdEncoding.EncodeToString(c[:])
			wantCRC := r.Header.Get("X-Amz-Checksum-Crc32")
			if wantCRC != "" && wantCRC != crc {
				http.Error(w, "BadDigest", http.StatusBadRequest)
				return
			}
			if want := r.Header.Get("X-Amz-Content-Sha256"); len(want) == 64 && wantCRC == "" {
				sum := sha256.Sum256(data)
				if hex.EncodeToString(sum[:]) != want {
					http.Error(w, "XAmzContentSHA256Mismatch", http.StatusBadRequest)
					return
				}
			}
			sum := md5.Sum(data)
			o := &object{data: data, etag: `"` + hex.EncodeToString(sum[:]) + `"`, crc: crc, modified: time.Now().UTC().Format(http.TimeFormat)}
			mu.Lock()
			objects[r.URL.Path] = o
			mu.Unlock()
			h["Etag"] = []string{o.etag}
			h["X-Amz-Checksum-Crc32"] = []string{crc}
			h["X-Amz-Checksum-Type"] = []string{"FULL_OBJECT"}
			h["Content-Length"] = []string{"0"}
			w.WriteHeader(http.StatusOK)
		case http.MethodGet, http.MethodHead:
			mu.RLock()
			o := objects[r.URL.Path]
			mu.RUnlock()
			if o == nil {
				http.Error(w, "NoSuchKey", http.StatusNotFound)
				return
			}
			h["Last-Modified"] = []string{o.modified}
			h["Etag"] = []string{o.etag}
			h["Accept-Ranges"] = []string{"bytes"}
			h["Content-Type"] = []string{"application/octet-stream"}
			if strings.EqualFold(r.Header.Get("X-Amz-Checksum-Mode"), "ENABLED") {
				h["X-Amz-Checksum-Crc32"] = []string{o.crc}
				h["X-Amz-Checksum-Type"] = []string{"FULL_OBJECT"}
			}
			h["Content-Length"] = []string{strconv.Itoa(len(o.data))}
			w.WriteHeader(http.StatusOK)
			if r.Method == http.MethodGet {
				w.Write(o.data)
			}
		default:
			http.Error(w, "PUT or GET", http.StatusMethodNotAllowed)
		}
	})
}
