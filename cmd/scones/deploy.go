package main

import (
	"fmt"
	"runtime"

	"github.com/urfave/cli/v2"

	"github.com/scones/scones/pipeline"
	"github.com/scones/scones/profile"
)

func hostArch() string {
	if runtime.GOARCH == "arm64" {
		return "arm64"
	}
	return "x86_64"
}

func trainFlags() []cli.Flag {
	return []cli.Flag{
		&cli.IntFlag{Name: "epochs", Usage: "training epochs (default: the algorithm's)"},
		&cli.Float64Flag{Name: "learning-rate", Usage: "learning rate (default: the algorithm's)"},
		&cli.IntFlag{Name: "batch-size", Usage: "mini-batch size (default: the algorithm's)"},
		&cli.StringFlag{Name: "instance-type", Value: "ml.p3.2xlarge", Usage: "training instance type (on AWS)"},
	}
}

func trainOptions(c *cli.Context) pipeline.TrainOptions {
	return pipeline.TrainOptions{Epochs: c.Int("epochs"), LearningRate: c.Float64("learning-rate"), BatchSize: c.Int("batch-size"), InstanceType: c.String("instance-type")}
}

func deployCommand() *cli.Command {
	return &cli.Command{
		Name:  "deploy",
		Usage: "create or update the bucket, roles, functions, model, endpoint and state machines (idempotent)",
		Description: `Creates what is missing and updates what changed: the bucket, three IAM roles
with least-privilege inline policies, the three Lambda functions (re-uploaded
only when their code hash changed), the model (training one first when none
exists), the endpoint config with data capture, the endpoint, and the state
machines. A second deploy changes nothing and says so. Everything created is
tagged scones:stack=<stack>.`,
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "arch", Usage: "function architecture: x86_64 or arm64 (default arm64 on AWS, this machine's elsewhere)"},
			&cli.StringFlag{Name: "zips", Usage: "deploy the zips in `DIR` (from `scones package`) instead of building them"},
			yesFlag(),
		}, trainFlags()...),
		Action: func(c *cli.Context) error {
			s, err := openSession(c, true)
			if err != nil {
				return err
			}
			defer s.Close()
			if err := requireStub(c.Context, s.env.Profile); err != nil {
				return err
			}
			arch := c.String("arch")
			if arch != "" && arch != "x86_64" && arch != "arm64" {
				return fmt.Errorf("--arch %q: want x86_64 or arm64", arch)
			}
			if s.env.Profile.Name != profile.AWS && arch != "" && arch != hostArch() {
				return fmt.Errorf("--arch %s: the %s profile runs functions on this %s machine", arch, s.env.Profile.Name, hostArch())
			}
			res, err := pipeline.Deploy(c.Context, s.env, pipeline.DeployOptions{Package: packager(c.String("zips")), Arch: arch, Train: trainOptions(c)})
			if err != nil {
				return err
			}
			printChanges(c, res)
			return nil
		},
	}
}

func printChanges(c *cli.Context, res *pipeline.DeployResult) {
	for _, ch := range res.Changes {
		fmt.Fprintf(c.App.Writer, "  %-10s %-16s %s\n", ch.Action, ch.Kind, ch.Name)
	}
	if !res.Changed() {
		fmt.Fprintln(c.App.Writer, "no changes: everything is deployed and up to date")
	}
}

func trainCommand() *cli.Command {
	return &cli.Command{
		Name:  "train",
		Usage: "run a SageMaker training job of the built-in image-classification algorithm on the staged data",
		Flags: append(trainFlags(), yesFlag()),
		Action: func(c *cli.Context) error {
			s, err := openSession(c, true)
			if err != nil {
				return err
			}
			defer s.Close()
			if err := requireStub(c.Context, s.env.Profile); err != nil {
				return err
			}
			res, err := pipeline.Train(c.Context, s.env, trainOptions(c))
			if err != nil {
				return err
			}
			fmt.Fprintf(c.App.Writer, "training job %s %s in %s\nmodel: %s\n", res.JobName, res.Status, res.Duration.Round(1e6), res.ModelArtifact)
			for k, v := range res.Metrics {
				fmt.Fprintf(c.App.Writer, "  %s = %.4f\n", k, v)
			}
			return nil
		},
	}
}
