package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/scones/scones/emulator"
	"github.com/scones/scones/emulator/faults"
	"github.com/scones/scones/pipeline"
)

// loadTest runs 1,000 executions at concurrency 32: all complete, none is
// lost, and the throughput is logged.
func loadTest(t *testing.T, ctx context.Context, env *pipeline.Env) {
	start := time.Now()
	runs, err := pipeline.Run(ctx, env, pipeline.RunOptions{Count: 1000, Concurrency: 32, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	s := runs.Summary
	if s.Succeeded+s.FailedThreshold != 1000 || s.FailedOther != 0 {
		t.Fatalf("load: %+v; want 1000 ended as designed", s)
	}
	arns := map[string]bool{}
	for _, x := range runs.Executions {
		arns[x.Arn] = true
	}
	if len(arns) != 1000 {
		t.Errorf("%d distinct executions, want 1000", len(arns))
	}
	t.Logf("load: 1000 executions at concurrency 32 in %s: %.0f executions/s (%d succeeded, %d threshold failures)",
		time.Since(start).Round(time.Millisecond), s.PerSecond, s.Succeeded, s.FailedThreshold)
}

// faultTest runs 1,000 executions while 20 % of Lambda invocations fail
// with TooManyRequestsException. Every task retries the Lambda service's
// transient errors (up to 6 times, with backoff), so every execution must
// end SUCCEEDED or as the designed threshold failure, none lost or stuck,
// and the retries must show in the history.
func faultTest(t *testing.T, ctx context.Context, env *pipeline.Env, srv *emulator.Server) {
	if err := srv.Faults().Set([]faults.Rule{{Service: "lambda", Operation: "Invoke", Rate: 0.2, Code: "TooManyRequestsException"}}); err != nil {
		t.Fatal(err)
	}
	defer srv.Faults().Set(nil)
	runs, err := pipeline.Run(ctx, env, pipeline.RunOptions{Count: 1000, Concurrency: 32, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	outcomes := map[string]int{}
	for _, x := range runs.Executions {
		switch {
		case x.Status == "SUCCEEDED":
			outcomes["SUCCEEDED"]++
		case x.Error == pipeline.ThresholdError:
			outcomes[pipeline.ThresholdError]++
		default:
			t.Errorf("execution %s ended %s %s: %s", x.Arn, x.Status, x.Error, x.Cause)
		}
	}
	if total := outcomes["SUCCEEDED"] + outcomes[pipeline.ThresholdError]; total != 1000 {
		t.Fatalf("outcomes %v: %d of 1000 accounted for", outcomes, total)
	}
	injected := srv.Faults().Injected()["lambda:Invoke"]
	t.Logf("faults: %d injected; outcomes %v", injected, outcomes)
	if injected < 400 {
		t.Errorf("only %d faults injected over about 3,000 invocations at 20 %%", injected)
	}

	// Retries show in the history: find an execution whose first task
	// failed and was scheduled again.
	retried := 0
	for _, x := range runs.Executions[:100] {
		h, err := env.Clients.SFN.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(x.Arn), MaxResults: 1000})
		if err != nil {
			t.Fatal(err)
		}
		var seq []string
		for _, e := range h.Events {
			seq = append(seq, string(e.Type))
		}
		joined := strings.Join(seq, " ")
		if strings.Contains(joined, "TaskFailed TaskScheduled") {
			retried++
		}
	}
	if retried == 0 {
		t.Error("no retry (TaskFailed then TaskScheduled) in the first 100 histories")
	}
	fmt.Fprintf(testWriter{t}, "retries visible in %d of the first 100 histories\n", retried)
}
