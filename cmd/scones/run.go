package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/scones/scones/pipeline"
)

func runCommand() *cli.Command {
	return &cli.Command{
		Name:  "run",
		Usage: "start workflow executions on random test images and report how each ended",
		Description: `Starts --count executions of the deployed state machine, each on a random image
from test.lst, waits for all of them, and prints a table and a summary.
Executions that fail with THRESHOLD_CONFIDENCE_NOT_MET are the designed
outcome: run exits 0 when those are the only failures, and 1 when anything
else failed.`,
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "count", Aliases: []string{"n"}, Value: 10, Usage: "executions to start"},
			&cli.BoolFlag{Name: "all", Usage: "classify every test image in one execution: a Distributed Map over the test/ prefix"},
			&cli.IntFlag{Name: "concurrency", Value: 8, Usage: "executions in flight at once"},
			&cli.Int64Flag{Name: "seed", Usage: "seed for picking images (default: random)"},
			&cli.StringFlag{Name: "out", Value: "scones-out", Usage: "write runs.json (for monitor) to `DIR`"},
			yesFlag(),
		},
		Action: func(c *cli.Context) error {
			s, err := openSession(c, true)
			if err != nil {
				return err
			}
			defer s.Close()
			if err := requireStub(c.Context, s.env.Profile); err != nil {
				return err
			}
			opts := pipeline.RunOptions{Count: c.Int("count"), Concurrency: c.Int("concurrency"), Seed: c.Int64("seed"), Progress: true}
			run := pipeline.Run
			if c.Bool("all") {
				run = pipeline.RunAll
			}
			res, err := run(c.Context, s.env, opts)
			if err != nil {
				return err
			}
			pipeline.PrintRun(c.App.Writer, res, []string{"bicycle", "motorcycle"})
			if err := writeRuns(c.String("out"), res); err != nil {
				return err
			}
			if res.Summary.FailedOther > 0 {
				return cli.Exit(fmt.Sprintf("%d executions failed for reasons other than the threshold", res.Summary.FailedOther), 1)
			}
			return nil
		},
	}
}

// writeRuns keeps the run's outcome next to the monitor report, so monitor
// can count executions.
func writeRuns(dir string, res *pipeline.RunResult) error {
	if dir == "" {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "runs.json"), b, 0o644)
}
