package main

import (
	"github.com/urfave/cli/v2"

	"github.com/scones/scones/pipeline"
)

func stageCommand() *cli.Command {
	return &cli.Command{
		Name:  "stage",
		Usage: "decode the CIFAR-100 archive and upload bicycle and motorcycle PNGs and .lst manifests to S3",
		Description: `Reads the CIFAR-100 python or binary archive (the official URL by default, or
any URL, archive file or folder of extracted files), keeps the chosen labels,
and writes train/<file>.png, test/<file>.png, train.lst and test.lst
(row<TAB>class<TAB>filename) to the bucket. Downloads are cached and checked
against the published size and MD5. Re-runs upload only what changed; the
manifests are written last.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "source", Usage: "archive `URL|FILE|DIR` (default: the official python-version URL)"},
			&cli.StringFlag{Name: "prefix", Usage: "key prefix inside the bucket"},
			&cli.StringSliceFlag{Name: "labels", Usage: "fine labels by name or index, in class order (default bicycle,motorcycle)"},
			&cli.IntFlag{Name: "concurrency", Value: 16, Usage: "parallel uploads"},
			&cli.StringFlag{Name: "cache-dir", Usage: "download cache (default: the user cache dir)"},
			&cli.BoolFlag{Name: "create-bucket", Usage: "create the bucket when it does not exist"},
			yesFlag(),
		},
		Action: func(c *cli.Context) error {
			s, err := openSession(c, true)
			if err != nil {
				return err
			}
			defer s.Close()
			res, err := pipeline.Stage(c.Context, s.env, pipeline.StageOptions{
				Source: c.String("source"), Prefix: c.String("prefix"), Labels: c.StringSlice("labels"),
				Concurrency: c.Int("concurrency"), CacheDir: c.String("cache-dir"), CreateBucket: c.Bool("create-bucket"), Progress: true,
			})
			if err != nil {
				return err
			}
			pipeline.PrintStage(c.App.Writer, res)
			return nil
		},
	}
}
