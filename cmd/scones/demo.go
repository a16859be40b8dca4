package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/scones/scones/emulator"
	"github.com/scones/scones/fixtures"
	"github.com/scones/scones/monitor"
	"github.com/scones/scones/pipeline"
	"github.com/scones/scones/profile"
)

func demoCommand() *cli.Command {
	return &cli.Command{
		Name:  "demo",
		Usage: "run the whole workflow (stage, train, deploy, run, monitor) on a fresh embedded emulator",
		Description: `Starts the embedded AWS emulator in memory, stages the committed CIFAR-100
fixture archive, trains the classifier through SageMaker's API, deploys the
functions, endpoint and state machine, runs --count executions on random test
images, and writes the monitor report to --out. No network, no Docker, no AWS
account.`,
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "count", Value: 20, Usage: "executions to run"},
			&cli.StringFlag{Name: "out", Value: "scones-out", Usage: "write the report to `DIR`"},
			&cli.StringFlag{Name: "source", Usage: "stage this CIFAR-100 archive `URL|FILE|DIR` instead of the committed fixture"},
			&cli.Int64Flag{Name: "seed", Value: 1, Usage: "seed for picking test images"},
			&cli.DurationFlag{Name: "timeout", Value: 10 * time.Minute, Usage: "give up (and say where) after this long"},
		},
		Action: func(c *cli.Context) error {
			log, err := logger(c)
			if err != nil {
				return err
			}
			// A step that never ends (a training job or endpoint stuck in
			// progress) fails the demo with the step's name instead of
			// hanging it.
			ctx, cancel := context.WithTimeoutCause(c.Context, c.Duration("timeout"), fmt.Errorf("demo: not finished after --timeout %s", c.Duration("timeout")))
			defer cancel()
			c.Context = ctx
			w := c.App.Writer
			total := time.Now()
			step := func(name string, start time.Time) {
				fmt.Fprintf(w, "==> %-8s done in %s\n\n", name, time.Since(start).Round(time.Millisecond))
			}

			t := time.Now()
			srv, err := emulator.Start(c.Context, emulator.Options{Addr: "127.0.0.1:0", Logger: log})
			if err != nil {
				return err
			}
			defer srv.Close()
			p, err := profile.Resolve(profile.Options{Profile: profile.Local, Endpoint: srv.URL()})
			if err != nil {
				return err
			}
			env, err := pipeline.NewEnv(c.Context, p, log, w)
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "emulator at %s, account %s, bucket %s\n", srv.URL(), env.Account, env.Bucket)
			step("emulator", t)

			t = time.Now()
			source := c.String("source")
			if source == "" {
				dir, err := os.MkdirTemp("", "scones-demo")
				if err != nil {
					return err
				}
				defer os.RemoveAll(dir)
				if source, err = fixtures.WriteCommitted(dir, fixtures.MiniPython); err != nil {
					return err
				}
			}
			fmt.Fprintf(w, "==> stage %s\n", source)
			staged, err := pipeline.Stage(c.Context, env, pipeline.StageOptions{Source: source, CreateBucket: true})
			if err != nil {
				return fmt.Errorf("stage: %w", err)
			}
			pipeline.PrintStage(w, staged)
			step("stage", t)

			t = time.Now()
			fmt.Fprintln(w, "==> deploy (trains the model first)")
			dep, err := pipeline.Deploy(c.Context, env, pipeline.DeployOptions{Package: packager("")})
			if err != nil {
				return err
			}
			printChanges(c, dep)
			step("deploy", t)

			t = time.Now()
			fmt.Fprintf(w, "==> run %d executions\n", c.Int("count"))
			runs, err := pipeline.Run(c.Context, env, pipeline.RunOptions{Count: c.Int("count"), Seed: c.Int64("seed"), Concurrency: 8})
			if err != nil {
				return err
			}
			pipeline.PrintRun(w, runs, staged.Labels)
			if err := writeRuns(c.String("out"), runs); err != nil {
				return err
			}
			step("run", t)

			t = time.Now()
			fmt.Fprintln(w, "==> monitor")
			src := monitor.NewS3Lister(env.Clients.S3, env.Bucket, p.Names.DataCapturePrefix)
			want := runs.Summary.Succeeded + runs.Summary.FailedThreshold
			if err := waitCaptures(c.Context, src, want); err != nil {
				return err
			}
			if err := report(c, src, time.Time{}, p.Threshold, c.String("out"), countsOf(runs.Summary)); err != nil {
				return err
			}
			step("monitor", t)
			fmt.Fprintf(w, "demo finished in %s: %d succeeded, %d failed by threshold, %d failed otherwise; report in %s/\n",
				time.Since(total).Round(time.Millisecond), runs.Summary.Succeeded, runs.Summary.FailedThreshold, runs.Summary.FailedOther, c.String("out"))
			if runs.Summary.FailedOther > 0 {
				return cli.Exit("some executions failed for reasons other than the threshold", 1)
			}
			return nil
		},
	}
}

// waitCaptures waits until the endpoint's capture files hold at least want
// records: SageMaker writes capture files in batches, some time after the
// invocations.
func waitCaptures(ctx context.Context, src monitor.Lister, want int) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		ds, err := monitor.Read(ctx, src, time.Time{})
		if err == nil && len(ds.Records) >= want {
			return nil
		}
		if time.Now().After(deadline) {
			got := 0
			if ds != nil {
				got = len(ds.Records)
			}
			return fmt.Errorf("capture files hold %d records after 30 s, want %d (one per endpoint invocation)", got, want)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}
