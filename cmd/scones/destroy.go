package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/scones/scones/pipeline"
)

func destroyCommand() *cli.Command {
	return &cli.Command{
		Name:  "destroy",
		Usage: "remove everything deploy created, found by its scones:stack tag",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "keep-bucket", Usage: "leave the bucket and its data"},
			&cli.BoolFlag{Name: "dry-run", Usage: "list what would be removed and stop"},
			yesFlag(),
		},
		Action: func(c *cli.Context) error {
			s, err := openSession(c, false)
			if err != nil {
				return err
			}
			defer s.Close()
			if err := requireStub(c.Context, s.env.Profile); err != nil {
				return err
			}
			found, err := pipeline.Destroy(c.Context, s.env, pipeline.DestroyOptions{KeepBucket: c.Bool("keep-bucket"), DryRun: true})
			if err != nil {
				return err
			}
			if len(found) == 0 {
				fmt.Fprintf(c.App.Writer, "nothing tagged %s=%s: nothing to remove\n", pipeline.TagKey, s.env.Profile.Names.Stack)
				return nil
			}
			for _, f := range found {
				fmt.Fprintf(c.App.Writer, "  %-15s %s\n", f.Kind, f.Name)
			}
			if c.Bool("dry-run") {
				return nil
			}
			if !c.Bool("yes") {
				if err := confirm(c, fmt.Sprintf("Remove these %d resources from %s (account %s, %s)?", len(found), s.env.Profile.Name, s.env.Account, s.env.Region)); err != nil {
					return err
				}
			}
			_, err = pipeline.Destroy(c.Context, s.env, pipeline.DestroyOptions{KeepBucket: c.Bool("keep-bucket")})
			return err
		},
	}
}
