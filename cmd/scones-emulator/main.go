// Command scones-emulator is the embedded AWS emulator alone: the same
// server and flags as `scones emulator`, in a binary without the workflow's
// SDK clients, for the fastest start (CI services, containers).
//
// Build it with -tags nodocker to leave out Docker mode for SageMaker
// containers (testcontainers-go, whose initialisation scans every process on
// the machine), urfave_cli_no_docs to leave out urfave/cli's man-page writer
// (its markdown library's init allocates 214 KB), and CGO_ENABLED=0 to link
// it statically (no dynamic loader or libc start-up):
//
//	CGO_ENABLED=0 go build -tags nodocker,urfave_cli_no_docs ./cmd/scones-emulator
//
// Every page a process touches first costs a page fault, and start-up is
// mostly those; the last two cut a quarter of the time to the first
// answer (docs/BENCHMARKS.md, session 7).
package main

import (
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/scones/scones/emulator/emulatorcmd"
)

func main() {
	// The emulator command catches SIGINT and SIGTERM itself, once it
	// listens (emulatorcmd.Action).
	app := &cli.App{
		Name:        "scones-emulator",
		Usage:       "serve the scones AWS emulator (S3, STS, IAM, Lambda, Step Functions, SageMaker) on one address",
		Description: emulatorcmd.Description,
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "log-level", Value: "info", Usage: "log level: debug, info, warn, error", EnvVars: []string{"SCONES_LOG_LEVEL"}},
		}, emulatorcmd.Flags()...),
		Action: emulatorcmd.Action,
	}
	if err := app.Run(os.Args); err != nil {
		fmt.Fprintln(os.Stderr, "scones-emulator:", err)
		os.Exit(1)
	}
}
