package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/urfave/cli/v2"

	"github.com/scones/scones/emulator"
	"github.com/scones/scones/profile"
)

// sfnDefinition is the six-state machine, the same as
// asl/bench_test.go's benchDefinition: Pass with Parameters, Choice, Pass
// with ResultPath, an inline Map over 5 items with a Pass inside, Succeed.
const sfnDefinition = `{
  "StartAt": "Init",
  "States": {
    "Init": {"Type": "Pass", "Parameters": {"items.$": "$.items", "kind.$": "$.kind", "id.$": "$$.Execution.Name"}, "Next": "Route"},
    "Route": {"Type": "Choice", "Choices": [{"Variable": "$.kind", "StringEquals": "batch", "Next": "Enrich"}], "Default": "Done"},
    "Enrich": {"Type": "Pass", "Result": {"source": "bench", "version": 2}, "ResultPath": "$.meta", "Next": "Fan"},
    "Fan": {
      "Type": "Map", "ItemsPath": "$.items", "ResultPath": "$.results",
      "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "Item", "States": {"Item": {"Type": "Pass", "Parameters": {"value.$": "$"}, "End": true}}},
      "Next": "Done"
    },
    "Done": {"Type": "Succeed"}
  }
}`

const sfnInput = `{"kind":"batch","items":[1,2,3,4,5]}`

// sfnMotoScript is moto server with the upstream fix for moto issue 10077
// (every StartExecution after a machine's first fails in 5.2.1).
const sfnMotoScript = "/work/shared/tools/moto_server_sfnfix.py"

func sfnCommand() *cli.Command {
	return &cli.Command{
		Name:  "sfn",
		Usage: "Step Functions executions of a 6-state machine (StartExecution + DescribeExecution polling, StartSyncExecution), concurrency 1 and 8: emulator, moto",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "moto-script", Value: sfnMotoScript, Usage: "python file that runs moto server (empty: stock `python3 -m moto.server`)"},
			&cli.DurationFlag{Name: "moto-duration", Usage: "duration of each moto measurement (default --duration)"},
			&cli.DurationFlag{Name: "poll-max", Value: 25 * time.Millisecond, Usage: "longest wait between DescribeExecution polls (polling starts at 100 µs and doubles)"},
			&cli.StringFlag{Name: "cpuprofile", Usage: "write a CPU profile of this process (the in-process emulator and the client) during the emulator's measurements to `FILE`"},
		},
		Action: func(c *cli.Context) error {
			ctx := c.Context
			d := c.Duration("duration")
			srv, err := emulator.Start(ctx, emulator.Options{Addr: "127.0.0.1:0"})
			if err != nil {
				return err
			}
			defer srv.Close()
			var results []result
			var notes []string
			stopProfile, err := startCPUProfile(c.String("cpuprofile"))
			if err != nil {
				return err
			}
			rs, n, err := benchSFN(ctx, "scones emulator", srv.URL(), d, c.Duration("poll-max"), false)
			stopProfile()
			if err != nil {
				return fmt.Errorf("scones emulator: %w", err)
			}
			results, notes = append(results, rs...), append(notes, n...)
			if !c.Bool("no-moto") {
				m, err := startMoto(ctx, c.String("moto-script"))
				if err != nil {
					notes = append(notes, fmt.Sprintf("moto skipped: %v", err))
				} else {
					defer m.stop()
					md := c.Duration("moto-duration")
					if md == 0 {
						md = d
					}
					name := "moto server"
					if c.String("moto-script") != "" {
						name = "moto server (+ fix for issue 10077)"
					}
					rs, n, err := benchSFN(ctx, name, m.url, md, c.Duration("poll-max"), true)
					if err != nil {
						return fmt.Errorf("moto: %w", err)
					}
					results, notes = append(results, rs...), append(notes, n...)
				}
			}
			printResults(results)
			for _, n := range notes {
				fmt.Println()
				fmt.Println(n)
			}
			return nil
		},
	}
}

func sfnClient(url string) *sfn.Client {
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")}
	return sfn.NewFromConfig(cfg, func(o *sfn.Options) {
		o.BaseEndpoint = aws.String(url)
		o.HTTPClient = &http.Client{Transport: &http.Transport{MaxIdleConns: 64, MaxIdleConnsPerHost: 64}}
		o.RetryMaxAttempts = 1
		// StartSyncExecution goes to sync-<host> otherwise.
		o.APIOptions = append(o.APIOptions, profile.DisableHostPrefix)
	})
}

// motoExecuteStateMachines turns on moto's real execution of state
// machines (by default its executions succeed at once without running).
func motoExecuteStateMachines(url string) error {
	resp, err := http.Post(url+"/moto-api/config", "application/json",
		bytes.NewReader([]byte(`{"stepfunctions": {"execute_state_machine": true}}`)))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("POST /moto-api/config: %s", resp.Status)
	}
	return nil
}

// benchSFN measures one target. notes carry "unsupported" findings.
func benchSFN(ctx context.Context, name, url string, d, pollMax time.Duration, isMoto bool) ([]result, []string, error) {
	if isMoto {
		if err := motoExecuteStateMachines(url); err != nil {
			return nil, nil, err
		}
	}
	client := sfnClient(url)
	role := aws.String("arn:aws:iam::000000000000:role/bench-sfn")
	std, err := client.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("bench-standard"),
		Definition: aws.String(sfnDefinition), RoleArn: role, Type: sfntypes.StateMachineTypeStandard})
	if err != nil {
		return nil, nil, fmt.Errorf("CreateStateMachine STANDARD: %w", err)
	}
	exp, err := client.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("bench-express"),
		Definition: aws.String(sfnDefinition), RoleArn: role, Type: sfntypes.StateMachineTypeExpress})
	if err != nil {
		return nil, nil, fmt.Errorf("CreateStateMachine EXPRESS: %w", err)
	}
	runStd := func(ctx context.Context, _, _ int) error {
		return startAndWait(ctx, client, std.StateMachineArn, sfnInput, pollMax, checkBenchOutput)
	}
	runSync := func(ctx context.Context, _, _ int) error {
		out, err := client.StartSyncExecution(ctx, &sfn.StartSyncExecutionInput{StateMachineArn: exp.StateMachineArn, Input: aws.String(sfnInput)})
		if err != nil {
			return err
		}
		if out.Status != sfntypes.SyncExecutionStatusSucceeded {
			return fmt.Errorf("status %s: %s %s", out.Status, aws.ToString(out.Error), aws.ToString(out.Cause))
		}
		return checkBenchOutput(aws.ToString(out.Output))
	}
	// One of each first: it checks the machine works and warms connections.
	if err := runStd(ctx, 0, 0); err != nil {
		return nil, nil, fmt.Errorf("first standard execution: %w", err)
	}
	var notes []string
	syncErr := runSync(ctx, 0, 0)
	if syncErr != nil {
		notes = append(notes, fmt.Sprintf("%s: StartSyncExecution unsupported: %v", name, oneLine(syncErr)))
	}
	var out []result
	for _, conc := range []int{1, 8} {
		describeCalls.Store(0)
		before := readProcCPU()
		r := measure(ctx, name, "StartExecution + DescribeExecution", conc, d, runStd)
		after := readProcCPU()
		out = append(out, r)
		if r.ops > 0 {
			notes = append(notes, fmt.Sprintf("%s, StartExecution, concurrency %d: %.1f DescribeExecution polls per execution; %s", name, conc,
				float64(describeCalls.Load())/float64(r.ops+r.errors), cpuNote(before, after, r)))
		}
		if syncErr == nil {
			before := readProcCPU()
			r := measure(ctx, name, "StartSyncExecution (EXPRESS)", conc, d, runSync)
			out = append(out, r)
			notes = append(notes, fmt.Sprintf("%s, StartSyncExecution, concurrency %d: %s", name, conc, cpuNote(before, readProcCPU(), r)))
		}
	}
	return out, notes, nil
}

func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

// startAndWait starts an execution and polls DescribeExecution until it is
// no longer RUNNING, starting at 100 µs and doubling up to pollMax. check,
// when non-nil, looks at a SUCCEEDED execution's output.
func startAndWait(ctx context.Context, client *sfn.Client, machine *string, input string, pollMax time.Duration, check func(string) error) error {
	// A unique name: moto names unnamed executions "None", so its second
	// unnamed StartExecution fails with ExecutionAlreadyExists.
	name := fmt.Sprintf("bench-%d-%d", time.Now().UnixNano(), executionSeq.Add(1))
	st, err := client.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: machine, Input: aws.String(input), Name: aws.String(name)})
	if err != nil {
		return fmt.Errorf("StartExecution: %w", err)
	}
	_, err = waitExecution(ctx, client, st.ExecutionArn, pollMax, check)
	return err
}

var executionSeq atomic.Int64

// describeCalls counts DescribeExecution polls, to report polls per
// execution.
var describeCalls atomic.Int64

var errExecutionFailed = errors.New("execution did not succeed")

func waitExecution(ctx context.Context, client *sfn.Client, arn *string, pollMax time.Duration, check func(string) error) (*sfn.DescribeExecutionOutput, error) {
	wait := 100 * time.Microsecond
	deadline := time.Now().Add(2 * time.Minute)
	for {
		describeCalls.Add(1)
		out, err := client.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: arn})
		if err != nil {
			return nil, fmt.Errorf("DescribeExecution: %w", err)
		}
		switch out.Status {
		case sfntypes.ExecutionStatusRunning, sfntypes.ExecutionStatusPendingRedrive:
		case sfntypes.ExecutionStatusSucceeded:
			if check != nil {
				return out, check(aws.ToString(out.Output))
			}
			return out, nil
		default:
			return out, fmt.Errorf("%w: %s %s %s", errExecutionFailed, out.Status, aws.ToString(out.Error), aws.ToString(out.Cause))
		}
		if time.Now().After(deadline) {
			return out, fmt.Errorf("still RUNNING after 2 minutes")
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
		if wait *= 2; wait > pollMax {
			wait = pollMax
		}
	}
}

// checkBenchOutput checks the machine really ran: the Map's five results
// and the ResultPath'd meta are in the output.
func checkBenchOutput(out string) error {
	out = strings.Join(strings.Fields(out), "")
	if !strings.Contains(out, `"results"`) || !strings.Contains(out, `{"value":5}`) || !strings.Contains(out, `"meta"`) {
		return fmt.Errorf("unexpected output %.200s", out)
	}
	return nil
}

// cpuNote sums the CPU time of this process and its children (the client,
// and the emulator or moto server) over a measurement: per execution and
// as cores kept busy. On a shared machine it is steadier than ops/s.
func cpuNote(before, after procCPU, r result) string {
	var total time.Duration
	for n, v := range after {
		total += v - before[n]
	}
	if r.ops == 0 {
		return fmt.Sprintf("%.2f CPU s", total.Seconds())
	}
	return fmt.Sprintf("CPU (client + server) %s per execution, %.2f cores busy", fmtDur(total/time.Duration(r.ops)), total.Seconds()/r.elapsed.Seconds())
}
