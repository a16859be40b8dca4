// Command scones-bench measures the emulator side by side with its floor (a
// bare net/http server) and its peer (moto server) in one run, and prints
// Markdown tables for docs/BENCHMARKS.md.
//
//	go run ./cmd/scones-bench s3        # PutObject/GetObject 3 KB, concurrency 1 and 8
//	go run ./cmd/scones-bench --duration 5s load --url http://127.0.0.1:4566 --op put   # one running endpoint
//	go run ./cmd/scones-bench startup   # time to first ListBuckets, idle RSS
//	go run ./cmd/scones-bench sfn       # 6-state executions: Start+Describe and StartSync, vs moto
//	go run ./cmd/scones-bench e2e       # whole-workflow executions on the embedded emulator
//	go run ./cmd/scones-bench stage --archive FILE   # stage a full-size archive vs gzip -dc
//
// moto is started with `python3 -m moto.server` when python3 and moto are
// installed; otherwise its rows say it was skipped and why.
package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/scones/scones/sconesdocker"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	app := &cli.App{
		Name:  "scones-bench",
		Usage: "benchmark the emulator against its floor and its peers",
		Flags: []cli.Flag{
			&cli.DurationFlag{Name: "duration", Value: 3 * time.Second, Usage: "how long each measurement runs"},
			&cli.BoolFlag{Name: "no-moto", Usage: "skip the moto peer"},
		},
		Commands: []*cli.Command{s3Command(), startupCommand(), sfnCommand(), e2eCommand(), stageCommand(), floorCommand(), serveEmulatorCommand(), loadCommand()},
	}
	if err := app.RunContext(ctx, os.Args); err != nil {
		fmt.Fprintln(os.Stderr, "scones-bench:", err)
		os.Exit(1)
	}
}

// result is one measured configuration.
type result struct {
	target      string
	op          string
	concurrency int
	ops         int
	errors      int
	firstErr    error
	elapsed     time.Duration
	latencies   []time.Duration
}

func (r result) perSecond() float64 { return float64(r.ops) / r.elapsed.Seconds() }

// mergeResults adds round r to the total acc (the zero result to start).
func mergeResults(acc, r result) result {
	if acc.target == "" {
		acc = result{target: r.target, op: r.op, concurrency: r.concurrency}
	}
	acc.ops += r.ops
	acc.errors += r.errors
	if acc.firstErr == nil {
		acc.firstErr = r.firstErr
	}
	acc.elapsed += r.elapsed
	acc.latencies = mergeSorted(acc.latencies, r.latencies)
	return acc
}

// buildBinary builds the module's package pkg (with tags) into dir/name,
// from the working directory, which must be the module root.
func buildBinary(dir, name, pkg string, tags ...string) (string, error) {
	return goBuild("", nil, dir, name, pkg, tags...)
}

// buildEmulator builds scones-emulator into dir as the README builds it.
func buildEmulator(dir string) (string, error) {
	return goBuild("", []string{"CGO_ENABLED=0"}, dir, "scones-emulator", "./cmd/scones-emulator", sconesdocker.EmulatorTags)
}

// goBuild builds pkg (with tags) into dir/name, from the module at src (""
// for the working directory), with env added to the go command's.
func goBuild(src string, env []string, dir, name, pkg string, tags ...string) (string, error) {
	out := filepath.Join(dir, name)
	args := []string{"build", "-o", out}
	if len(tags) > 0 {
		args = append(args, "-tags", strings.Join(tags, ","))
	}
	build := exec.Command("go", append(args, pkg)...)
	build.Dir = src
	build.Env = append(os.Environ(), env...)
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		return "", fmt.Errorf("building %s: %w", pkg, err)
	}
	return out, nil
}

// mergeSorted merges two sorted slices into a new sorted one.
func mergeSorted(a, b []time.Duration) []time.Duration {
	out := make([]time.Duration, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		if a[0] <= b[0] {
			out, a = append(out, a[0]), a[1:]
		} else {
			out, b = append(out, b[0]), b[1:]
		}
	}
	return append(append(out, a...), b...)
}

func (r result) percentile(p float64) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	i := int(p * float64(len(r.latencies)-1))
	return r.latencies[i]
}

// measure runs op from concurrency workers for d and collects latencies.
func measure(ctx context.Context, target, name string, concurrency int, d time.Duration, op func(ctx context.Context, worker, i int) error) result {
	var mu sync.Mutex
	res := result{target: target, op: name, concurrency: concurrency}
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < concurrency; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			var lat []time.Duration
			var errs int
			var first error
			for i := 0; time.Now().Before(deadline) && ctx.Err() == nil; i++ {
				t0 := time.Now()
				err := op(ctx, w, i)
				if err != nil {
					errs++
					if first == nil {
						first = err
					}
					continue
				}
				lat = append(lat, time.Since(t0))
			}
			mu.Lock()
			res.latencies = append(res.latencies, lat...)
			res.ops += len(lat)
			res.errors += errs
			if res.firstErr == nil {
				res.firstErr = first
			}
			mu.Unlock()
		}(w)
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	sort.Slice(res.latencies, func(i, j int) bool { return res.latencies[i] < res.latencies[j] })
	return res
}

func printResults(rs []result) {
	fmt.Println("| target | operation | concurrency | ops/s | p50 | p99 | errors |")
	fmt.Println("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
	for _, r := range rs {
		errs := fmt.Sprint(r.errors)
		if r.firstErr != nil {
			errs += fmt.Sprintf(" (first: %.80s)", r.firstErr)
		}
		fmt.Printf("| %s | %s | %d | %.0f | %s | %s | %s |\n", r.target, r.op, r.concurrency, r.perSecond(),
			fmtDur(r.percentile(0.50)), fmtDur(r.percentile(0.99)), errs)
	}
}

func fmtDur(d time.Duration) string {
	return fmt.Sprintf("%.3f ms", float64(d.Microseconds())/1000)
}
