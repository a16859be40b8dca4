// Package emulatorcmd is the `emulator` command line, shared by the scones
// CLI (`scones emulator`) and the slim scones-emulator binary, so both take
// the same flags and behave the same.
package emulatorcmd

import (
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/scones/scones/emulator"
)

// Flags are the emulator's flags.
func Flags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "addr", Value: emulator.DefaultAddr, Usage: "listen address", EnvVars: []string{"SCONES_EMULATOR_ADDR"}},
		&cli.StringFlag{Name: "data-dir", Usage: "keep all state in `DIR` across restarts (default: in memory)", EnvVars: []string{"SCONES_DATA_DIR"}},
		&cli.BoolFlag{Name: "sync", Usage: "with --data-dir, flush every write to disk (survives power loss, not just a crash)"},
		&cli.StringFlag{Name: "region", Value: emulator.DefaultRegion, Usage: "region used in ARNs", EnvVars: []string{"SCONES_REGION"}},
		&cli.StringFlag{Name: "account", Value: emulator.DefaultAccountID, Usage: "account id used in ARNs", EnvVars: []string{"SCONES_ACCOUNT"}},
		&cli.BoolFlag{Name: "verify-signatures", Usage: "check SigV4 signatures against --credentials and refuse bad ones"},
		&cli.StringSliceFlag{Name: "credentials", Value: cli.NewStringSlice("test:test"), Usage: "`ACCESS_KEY:SECRET` pairs accepted with --verify-signatures"},
		&cli.Float64Flag{Name: "time-scale", Value: 1, Usage: "multiply Step Functions waits and retry intervals by this (0 = never wait)"},
	}
}

// Description explains the command.
const Description = `Serves every emulated service on one address, routed by the SigV4 credential
scope of each request. Point any AWS client at it:

   aws --endpoint-url http://127.0.0.1:4566 s3 ls
   go run ./cmd/scones --endpoint http://127.0.0.1:4566 run

GET /_scones/health answers 200 with each service's state once it serves;
PUT /_scones/faults injects faults. SIGINT or SIGTERM stops it cleanly.`

// Action serves until SIGINT, SIGTERM or the end of the context. It reads the
// global --log-level flag when the app defines one.
func Action(c *cli.Context) error {
	var level slog.Level
	if l := c.String("log-level"); l != "" {
		if err := level.UnmarshalText([]byte(l)); err != nil {
			return fmt.Errorf("--log-level %q: want debug, info, warn or error", l)
		}
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	creds := map[string]string{}
	for _, pair := range c.StringSlice("credentials") {
		k, v, ok := strings.Cut(pair, ":")
		if !ok || k == "" || v == "" {
			return fmt.Errorf("--credentials %q: want ACCESS_KEY:SECRET", pair)
		}
		creds[k] = v
	}
	srv, err := emulator.Start(c.Context, emulator.Options{
		Addr:             c.String("addr"),
		DataDir:          c.String("data-dir"),
		Sync:             c.Bool("sync"),
		Region:           c.String("region"),
		AccountID:        c.String("account"),
		VerifySignatures: c.Bool("verify-signatures"),
		Credentials:      creds,
		TimeScale:        c.Float64("time-scale"),
		Logger:           log,
	})
	if err != nil {
		return err
	}
	// SIGINT and SIGTERM are caught from here, once the server listens,
	// not from the process's start: os/signal's first Notify starts two
	// threads, a millisecond of start-up on a VM where threads are dear
	// (docs/BENCHMARKS.md, session 9), and here it overlaps the first
	// requests. A signal in the window before ends the process without the
	// clean stop, as kill -9 would, and loses what kill -9 loses: nothing
	// acknowledged. Readiness is announced after, so whoever waits for the
	// line below and then signals gets the clean stop.
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Fprintf(c.App.Writer, "scones emulator serving on %s\n", srv.URL())
	<-ctx.Done()
	log.Info("stopping emulator")
	return srv.Close()
}
