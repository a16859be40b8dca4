// Package pipeline holds the workflow's operations: stage, train, deploy,
// run, monitor and destroy. Each is a plain function over an Env, which
// carries only SDK clients built from a profile: the same code runs against
// the embedded emulator, LocalStack or AWS, and nothing here knows which.
package pipeline

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/scones/scones/profile"
)

// TagKey is the tag every resource deploy creates carries; its value is the
// stack name. destroy finds what to remove by it.
const TagKey = "scones:stack"

// Env is what every operation runs with.
type Env struct {
	Profile *profile.Profile
	Clients *profile.Clients
	Account string
	Bucket  string
	Region  string
	Log     *slog.Logger
	// Out receives the human-readable progress and tables.
	Out io.Writer
}

// NewEnv builds the clients of p, learns the account from STS and settles
// the bucket name.
func NewEnv(ctx context.Context, p *profile.Profile, log *slog.Logger, out io.Writer) (*Env, error) {
	clients, err := p.Clients(ctx)
	if err != nil {
		return nil, err
	}
	account, _, err := clients.Account(ctx)
	if err != nil {
		return nil, fmt.Errorf("cannot reach %s: %w", describeTarget(p), err)
	}
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if out == nil {
		out = io.Discard
	}
	return &Env{Profile: p, Clients: clients, Account: account, Bucket: p.BucketName(account), Region: p.Region, Log: log, Out: out}, nil
}

func describeTarget(p *profile.Profile) string {
	if p.Name == profile.AWS {
		return "AWS (check your credentials and region)"
	}
	return fmt.Sprintf("the %s endpoint %s (is it running?)", p.Name, p.Endpoints[profile.STS])
}

// Tags are the tags deploy puts on everything it creates.
func (e *Env) Tags() map[string]string {
	return map[string]string{TagKey: e.Profile.Names.Stack}
}

func (e *Env) printf(format string, args ...any) {
	fmt.Fprintf(e.Out, format, args...)
}

func (e *Env) s3URI(key string) string {
	return "s3://" + e.Bucket + "/" + key
}
