package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/scones/scones/monitor"
	"github.com/scones/scones/pipeline"
)

func monitorCommand() *cli.Command {
	return &cli.Command{
		Name:  "monitor",
		Usage: "read the endpoint's captured data back and report confidence over time against the threshold",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "source", Usage: "capture files: a local `DIR` or s3://bucket/prefix (default: the deployment's capture destination)"},
			&cli.StringFlag{Name: "since", Usage: "only records at or after this time (RFC 3339) or this long ago (e.g. 2h)"},
			&cli.StringFlag{Name: "out", Value: "scones-out", Usage: "write monitor.png, monitor.svg and summary.json to `DIR`"},
			&cli.Float64Flag{Name: "threshold", Usage: "confidence threshold (default: the profile's, 0.93)"},
		},
		Action: func(c *cli.Context) error {
			since, err := monitor.ParseSince(c.String("since"), time.Now())
			if err != nil {
				return err
			}
			var src monitor.Lister
			threshold := c.Float64("threshold")
			source := c.String("source")
			if source != "" && !strings.HasPrefix(source, "s3://") {
				src = monitor.NewDirLister(source)
				if threshold == 0 {
					threshold = 0.93
				}
			} else {
				s, err := openSession(c, false)
				if err != nil {
					return err
				}
				defer s.Close()
				if threshold == 0 {
					threshold = s.env.Profile.Threshold
				}
				bucket, prefix := s.env.Bucket, s.env.Profile.Names.DataCapturePrefix
				if source != "" {
					if bucket, prefix, err = monitor.ParseS3URI(source); err != nil {
						return err
					}
				}
				src = monitor.NewS3Lister(s.env.Clients.S3, bucket, prefix)
			}
			return report(c, src, since, threshold, c.String("out"), readRuns(c.String("out")))
		},
	}
}

func report(c *cli.Context, src monitor.Lister, since time.Time, threshold float64, out string, execs *monitor.ExecutionCounts) error {
	ds, err := monitor.Read(c.Context, src, since)
	if err != nil {
		if errors.Is(err, monitor.ErrNoCaptures) {
			return fmt.Errorf("%w (has the endpoint been invoked? run `scones run` first)", err)
		}
		return err
	}
	sum := monitor.Summarize(ds, threshold, execs)
	monitor.PrintSummary(c.App.Writer, sum)
	files, err := monitor.WriteReport(out, ds, sum)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "report: %s\n", strings.Join(files, ", "))
	return nil
}

// readRuns reads the execution counts `scones run` left in dir, if any.
func readRuns(dir string) *monitor.ExecutionCounts {
	b, err := os.ReadFile(filepath.Join(dir, "runs.json"))
	if err != nil {
		return nil
	}
	var r pipeline.RunResult
	if json.Unmarshal(b, &r) != nil {
		return nil
	}
	return countsOf(r.Summary)
}

func countsOf(s pipeline.RunSummary) *monitor.ExecutionCounts {
	return &monitor.ExecutionCounts{Succeeded: s.Succeeded, FailedThreshold: s.FailedThreshold, FailedOther: s.FailedOther}
}
