package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/urfave/cli/v2"

	"github.com/scones/scones/emulator"
	"github.com/scones/scones/fixtures"
	"github.com/scones/scones/lambdapkg"
	"github.com/scones/scones/pipeline"
	"github.com/scones/scones/profile"
)

func e2eCommand() *cli.Command {
	return &cli.Command{
		Name: "e2e",
		Usage: "end-to-end workflow executions (3 Lambda invokes, 1 S3 read, 1 inference) on the embedded emulator, " +
			"StartExecution + DescribeExecution polling, concurrency 1 and 32",
		Flags: []cli.Flag{
			&cli.IntSliceFlag{Name: "concurrency", Value: cli.NewIntSlice(1, 32), Usage: "concurrencies to measure"},
			&cli.DurationFlag{Name: "poll-max", Value: 5 * time.Millisecond, Usage: "longest wait between DescribeExecution polls (polling starts at 100 µs and doubles)"},
			&cli.StringFlag{Name: "cpuprofile", Usage: "write a CPU profile of this process (emulator and client) during the measurements to `FILE`"},
		},
		Action: func(c *cli.Context) error {
			ctx := c.Context
			d := c.Duration("duration")
			t0 := time.Now()
			srv, err := emulator.Start(ctx, emulator.Options{Addr: "127.0.0.1:0", TimeScale: 0})
			if err != nil {
				return err
			}
			defer srv.Close()
			p, err := profile.Resolve(profile.Options{Profile: profile.Local, Endpoint: srv.URL()})
			if err != nil {
				return err
			}
			env, err := pipeline.NewEnv(ctx, p, nil, io.Discard)
			if err != nil {
				return err
			}
			dir, err := os.MkdirTemp("", "scones-bench-e2e")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			archive, err := fixtures.WriteCommitted(dir, fixtures.MiniPython)
			if err != nil {
				return err
			}
			if _, err := pipeline.Stage(ctx, env, pipeline.StageOptions{Source: archive, CreateBucket: true}); err != nil {
				return fmt.Errorf("stage: %w", err)
			}
			dep, err := pipeline.Deploy(ctx, env, pipeline.DeployOptions{Package: func(ctx context.Context, function, arch string) ([]byte, error) {
				path, _, err := lambdapkg.Build(ctx, lambdapkg.Options{Function: function})
				if err != nil {
					return nil, err
				}
				return os.ReadFile(path)
			}})
			if err != nil {
				return fmt.Errorf("deploy: %w", err)
			}
			fmt.Fprintf(os.Stderr, "staged, trained and deployed in %s\n", time.Since(t0).Round(time.Millisecond))
			entries, err := env.ReadManifest(ctx, "test.lst")
			if err != nil {
				return err
			}
			keys := make([]string, len(entries))
			for i, e := range entries {
				keys[i] = "test/" + e.Filename
			}
			machine := aws.String(dep.StateMachineArn)
			client := env.Clients.SFN
			var succeeded, thresholdFailed atomic.Int64
			var sample arnSample
			run := func(ctx context.Context, _, _ int) error {
				in, _ := json.Marshal(map[string]string{"s3_bucket": env.Bucket, "s3_key": keys[rand.IntN(len(keys))]})
				st, err := client.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: machine, Input: aws.String(string(in))})
				if err != nil {
					return fmt.Errorf("StartExecution: %w", err)
				}
				t0 := time.Now()
				out, err := waitExecution(ctx, client, st.ExecutionArn, c.Duration("poll-max"), nil)
				sample.add(aws.ToString(st.ExecutionArn), time.Since(t0))
				if errors.Is(err, errExecutionFailed) && aws.ToString(out.Error) == pipeline.ThresholdError {
					// The designed failure: the workflow ran to its end.
					thresholdFailed.Add(1)
					return nil
				}
				if err == nil {
					succeeded.Add(1)
				}
				return err
			}
			// Warm up: every function instance and connection.
			warm := measure(ctx, "warm-up", "", 32, time.Second, run)
			if warm.ops == 0 {
				return fmt.Errorf("warm-up: no execution completed: %v", warm.firstErr)
			}
			succeeded.Store(0)
			thresholdFailed.Store(0)
			stopProfile, err := startCPUProfile(c.String("cpuprofile"))
			if err != nil {
				return err
			}
			defer stopProfile()
			var results []result
			samples := map[int]*arnSample{}
			cpu := map[int][2]procCPU{}
			polls := map[int]float64{}
			for _, conc := range c.IntSlice("concurrency") {
				sample.reset()
				before := readProcCPU()
				describeCalls.Store(0)
				results = append(results, measure(ctx, "scones emulator (in-process)", "workflow execution (StartExecution + DescribeExecution)", conc, d, run))
				cpu[conc] = [2]procCPU{before, readProcCPU()}
				polls[conc] = float64(describeCalls.Load()) / float64(max(1, results[len(results)-1].ops))
				samples[conc] = sample.copy()
			}
			stopProfile()
			printResults(results)
			for i, conc := range c.IntSlice("concurrency") {
				if err := printBreakdown(ctx, client, conc, samples[conc]); err != nil {
					return err
				}
				fmt.Printf("| DescribeExecution polls per execution | %.1f |\n", polls[conc])
				fmt.Printf("\nconcurrency %d: CPU time by process during the measurement\n\n", conc)
				printCPUPerOp(cpu[conc][0], cpu[conc][1], results[i].ops, results[i].elapsed)
			}
			fmt.Printf("\noutcomes: %d succeeded, %d failed with %s (the designed threshold failure), both counted as completed executions\n",
				succeeded.Load(), thresholdFailed.Load(), pipeline.ThresholdError)
			fmt.Printf("state machine: %s\n", strings.TrimPrefix(dep.StateMachineArn, "arn:aws:states:"))
			return nil
		},
	}
}

// arnSample keeps the first executions of a measurement and how long the
// client waited for each after StartExecution returned.
type arnSample struct {
	mu    sync.Mutex
	arns  []string
	waits []time.Duration
}

const sampleSize = 300

func (s *arnSample) add(arn string, wait time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.arns) < sampleSize {
		s.arns = append(s.arns, arn)
		s.waits = append(s.waits, wait)
	}
}

func (s *arnSample) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.arns, s.waits = nil, nil
}

func (s *arnSample) copy() *arnSample {
	s.mu.Lock()
	defer s.mu.Unlock()
	return &arnSample{arns: slices.Clone(s.arns), waits: slices.Clone(s.waits)}
}

// printBreakdown reads the history of the sampled executions and prints
// the mean time in each state and in the engine (ExecutionStarted to the
// end), next to what the client saw. History timestamps have millisecond
// resolution, so only means over many executions are meaningful.
func printBreakdown(ctx context.Context, client *sfn.Client, conc int, s *arnSample) error {
	if len(s.arns) == 0 {
		return nil
	}
	type acc struct {
		sum time.Duration
		n   int
	}
	states := map[string]*acc{}
	var order []string
	var engine, scheduled acc
	for _, arn := range s.arns {
		h, err := client.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn), MaxResults: 1000})
		if err != nil {
			return fmt.Errorf("GetExecutionHistory: %w", err)
		}
		var start, entered, sched time.Time
		var name string
		for _, e := range h.Events {
			ts := aws.ToTime(e.Timestamp)
			switch e.Type {
			case sfntypes.HistoryEventTypeExecutionStarted:
				start = ts
			case sfntypes.HistoryEventTypeTaskStateEntered:
				entered = ts
				name = aws.ToString(e.StateEnteredEventDetails.Name)
			case sfntypes.HistoryEventTypeTaskScheduled:
				sched = ts
			case sfntypes.HistoryEventTypeTaskSucceeded, sfntypes.HistoryEventTypeTaskFailed:
				scheduled.sum += ts.Sub(sched)
				scheduled.n++
				a := states[name]
				if a == nil {
					a = &acc{}
					states[name] = a
					order = append(order, name)
				}
				a.sum += ts.Sub(entered)
				a.n++
			case sfntypes.HistoryEventTypeExecutionSucceeded, sfntypes.HistoryEventTypeExecutionFailed:
				engine.sum += ts.Sub(start)
				engine.n++
			}
		}
	}
	mean := func(a acc) string {
		if a.n == 0 {
			return "-"
		}
		return fmtDur(a.sum / time.Duration(a.n))
	}
	var wait time.Duration
	for _, w := range s.waits {
		wait += w
	}
	fmt.Printf("\nconcurrency %d: where an execution's time goes (means over %d executions, from their histories)\n\n", conc, len(s.arns))
	fmt.Println("| part | mean |")
	fmt.Println("| --- | ---: |")
	fmt.Printf("| client: StartExecution returned to final DescribeExecution | %s |\n", fmtDur(wait/time.Duration(len(s.waits))))
	fmt.Printf("| engine: ExecutionStarted to ExecutionSucceeded/Failed | %s |\n", mean(engine))
	for _, n := range order {
		fmt.Printf("| Task state %s (entered to task end) | %s |\n", n, mean(*states[n]))
	}
	fmt.Printf("| all Lambda invokes (TaskScheduled to TaskSucceeded/Failed, per invoke) | %s |\n", mean(scheduled))
	return nil
}
