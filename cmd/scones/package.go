package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/scones/scones/lambdapkg"
	"github.com/scones/scones/pipeline"
)

func packageCommand() *cli.Command {
	return &cli.Command{
		Name:  "package",
		Usage: "build the three Lambda functions as provided.al2023 zips (a static bootstrap each)",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "arch", Value: "arm64", Usage: "x86_64 or arm64 (as AWS runs them), or host (this machine, for local runs)"},
			&cli.StringFlag{Name: "out", Value: "dist", Usage: "write the zips to `DIR`"},
		},
		Action: func(c *cli.Context) error {
			arch := c.String("arch")
			switch arch {
			case "host":
				arch = ""
			case "x86_64", "arm64":
			default:
				return fmt.Errorf("--arch %q: want x86_64, arm64 or host", arch)
			}
			arts, err := lambdapkg.BuildAll(c.Context, lambdapkg.Options{Arch: arch, OutDir: c.String("out")})
			if err != nil {
				return err
			}
			for _, a := range arts {
				fmt.Fprintf(c.App.Writer, "%-32s %s  %7.1f KB  sha256 %s\n", a.Function, a.ZipPath, float64(a.Size)/1024, a.CodeSha256)
			}
			return nil
		},
	}
}

// packager returns the deploy packager: zips from dir when given (made by
// `scones package`), else built from this module's source.
func packager(dir string) pipeline.Packager {
	return func(ctx context.Context, function, arch string) ([]byte, error) {
		if dir != "" {
			b, err := os.ReadFile(filepath.Join(dir, function+".zip"))
			if err != nil {
				return nil, fmt.Errorf("--zips: %w (make them with `scones package --out %s`)", err, dir)
			}
			return b, nil
		}
		if arch == hostArch() {
			arch = "" // built for this OS, so the local emulator can run it
		}
		path, _, err := lambdapkg.Build(ctx, lambdapkg.Options{Function: function, Arch: arch})
		if err != nil {
			return nil, fmt.Errorf("%w (deploy builds the functions from the scones source tree; run it from there, or pass --zips)", err)
		}
		return os.ReadFile(path)
	}
}
