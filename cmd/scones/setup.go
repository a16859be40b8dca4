package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/scones/scones/emulator"
	"github.com/scones/scones/pipeline"
	"github.com/scones/scones/profile"
)

// profileFlags are the global flags that choose where the workflow runs.
func profileFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "profile", Value: profile.Local, Usage: "where to run: local (embedded emulator), localstack, or aws", EnvVars: []string{"SCONES_PROFILE"}},
		&cli.StringFlag{Name: "config", Usage: "config file (default ./scones.yaml when present)", EnvVars: []string{"SCONES_CONFIG"}},
		&cli.StringFlag{Name: "endpoint", Usage: "for local: use a running `scones emulator` at `URL` instead of the embedded one; for localstack: the LocalStack endpoint", EnvVars: []string{"SCONES_ENDPOINT"}},
		&cli.StringFlag{Name: "region", Usage: "AWS region (default us-east-1)", EnvVars: []string{"SCONES_REGION"}},
		&cli.StringFlag{Name: "bucket", Usage: "S3 bucket (default: scones locally, sagemaker-<region>-<account> on AWS)", EnvVars: []string{"SCONES_BUCKET"}},
		&cli.StringFlag{Name: "state-dir", Usage: "where the embedded emulator of the local profile keeps its state between commands", EnvVars: []string{"SCONES_STATE_DIR"}},
		&cli.BoolFlag{Name: "yes", Aliases: []string{"y"}, Usage: "do not ask for confirmation before changing AWS resources", EnvVars: []string{"SCONES_YES"}},
	}
}

// session is a resolved profile with its clients, and the embedded emulator
// when the local profile started one.
type session struct {
	env *pipeline.Env
	srv *emulator.Server
}

func (s *session) Close() {
	if s.srv != nil {
		s.srv.Close()
	}
}

func defaultStateDir() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	return filepath.Join(dir, "scones", "local")
}

// openSession resolves the profile and connects. For the local profile
// without --endpoint it starts the embedded emulator, keeping state in
// --state-dir so that one command can pick up what the last one left. When
// mutating is set and the profile is aws, it shows the account and asks
// before going on.
func openSession(c *cli.Context, mutating bool) (*session, error) {
	log, err := logger(c)
	if err != nil {
		return nil, err
	}
	p, err := resolveProfile(c)
	if err != nil {
		return nil, err
	}
	s := &session{}
	if p.Name == profile.Local && c.String("endpoint") == "" {
		dir := c.String("state-dir")
		if dir == "" {
			dir = defaultStateDir()
		}
		s.srv, err = emulator.Start(c.Context, emulator.Options{Addr: "127.0.0.1:0", DataDir: dir, Region: p.Region, Logger: log})
		if err != nil {
			if strings.Contains(err.Error(), "timeout") {
				return nil, fmt.Errorf("the embedded emulator's state in %s is in use by another scones process; run `scones emulator` and pass --endpoint, or use --state-dir", dir)
			}
			return nil, err
		}
		if err := p.UseEndpoint(s.srv.URL()); err != nil {
			s.Close()
			return nil, err
		}
	}
	s.env, err = pipeline.NewEnv(c.Context, p, log, c.App.Writer)
	if err != nil {
		s.Close()
		return nil, err
	}
	if mutating && p.Name == profile.AWS && !c.Bool("yes") {
		if err := confirm(c, fmt.Sprintf("This changes resources in AWS account %s, region %s (bucket %s). Continue?", s.env.Account, s.env.Region, s.env.Bucket)); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

// resolveProfile resolves the profile the global flags choose.
func resolveProfile(c *cli.Context) (*profile.Profile, error) {
	return profile.Resolve(profile.Options{
		Profile: c.String("profile"), ConfigPath: c.String("config"), Endpoint: c.String("endpoint"),
		Region: c.String("region"), Bucket: c.String("bucket"),
	})
}

// yesFlag lets `scones <command> --yes` work as well as the global
// `scones --yes <command>`.
func yesFlag() cli.Flag {
	return &cli.BoolFlag{Name: "yes", Aliases: []string{"y"}, Usage: "do not ask for confirmation"}
}

var errNotConfirmed = errors.New("not confirmed: nothing was changed (pass --yes to skip the question)")

func confirm(c *cli.Context, question string) error {
	fmt.Fprintf(c.App.ErrWriter, "%s [y/N] ", question)
	line, _ := bufio.NewReader(c.App.Reader).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return nil
	}
	return errNotConfirmed
}
