// Command scones runs the Scones Unlimited image-classification workflow
// local-first: against its embedded AWS emulator (the default), a
// LocalStack-compatible endpoint, or real AWS.
//
// This file holds the app and its global flags; each subcommand lives in a
// file of its own name. Commands wire flags to the packages that do the
// work and hold no business logic.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newApp().RunContext(ctx, os.Args); err != nil {
		fmt.Fprintln(os.Stderr, "scones:", oneLine(err))
		var ec cli.ExitCoder
		if errors.As(err, &ec) {
			os.Exit(ec.ExitCode())
		}
		os.Exit(1)
	}
}

func newApp() *cli.App {
	return &cli.App{
		Name:                 "scones",
		Usage:                "run the Scones Unlimited ML workflow locally, against LocalStack, or on AWS",
		Version:              version,
		EnableBashCompletion: true,
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "log-level", Value: "warn", Usage: "log level: debug, info, warn, error", EnvVars: []string{"SCONES_LOG_LEVEL"}},
		}, profileFlags()...),
		Commands: []*cli.Command{
			demoCommand(),
			stageCommand(),
			trainCommand(),
			deployCommand(),
			runCommand(),
			monitorCommand(),
			destroyCommand(),
			emulatorCommand(),
			stubCommand(),
			packageCommand(),
			versionCommand(),
		},
	}
}

// logger builds the process logger from the global --log-level flag.
func logger(c *cli.Context) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.String("log-level"))); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", c.String("log-level"))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})), nil
}

// oneLine keeps errors to one actionable line on the terminal.
func oneLine(err error) string {
	s := err.Error()
	for i, r := range s {
		if r == '\n' {
			return s[:i]
		}
	}
	return s
}
