package sfn_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/scones/scones/emulator"
)

const role = "arn:aws:iam::000000000000:role/scones-states"

const passMachine = `{
  "StartAt": "Shape",
  "States": {
    "Shape": {"Type": "Pass", "Parameters": {"greeting.$": "States.Format('hello {}', $.name)", "n.$": "$.n"}, "Next": "Route"},
    "Route": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericGreaterThan": 1, "Next": "Big"}], "Default": "Small"},
    "Big": {"Type": "Pass", "Result": "big", "ResultPath": "$.size", "Next": "Done"},
    "Small": {"Type": "Fail", "Error": "TooSmall", "Cause": "n must be above 1"},
    "Done": {"Type": "Succeed"}
  }
}`

func client(t *testing.T) (*sfn.Client, *emulator.Server) {
	t.Helper()
	srv, err := emulator.Start(context.Background(), emulator.Options{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""), RetryMaxAttempts: 1}
	return sfn.NewFromConfig(cfg, func(o *sfn.Options) {
		o.BaseEndpoint = aws.String(srv.URL())
		// StartSyncExecution prefixes the host with "sync-", which an IP
		// endpoint cannot take.
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			return st.Initialize.Add(middleware.InitializeMiddlewareFunc("noHostPrefix", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				return next.HandleInitialize(smithyhttp.DisableEndpointHostPrefix(ctx, true), in)
			}), middleware.Before)
		})
	}), srv
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Fatalf("error = %v, want %s", err, code)
	}
}

func wait(t *testing.T, c *sfn.Client, arn *string) *sfn.DescribeExecutionOutput {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		d, err := c.DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{ExecutionArn: arn})
		if err != nil {
			t.Fatal(err)
		}
		if d.Status != types.ExecutionStatusRunning {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("execution %s still running", aws.ToString(arn))
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestStateMachineLifecycle(t *testing.T) {
	c, _ := client(t)
	ctx := context.Background()
	_, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("bad"), RoleArn: aws.String(role),
		Definition: aws.String(`{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"Nowhere"}}}`)})
	wantCode(t, err, "InvalidDefinition")
	if !strings.Contains(err.Error(), "MISSING_TRANSITION_TARGET") {
		t.Errorf("message does not name the problem: %v", err)
	}
	_, err = c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("x"), RoleArn: aws.String("not-an-arn"), Definition: aws.String(passMachine)})
	wantCode(t, err, "InvalidArn")
	_, err = c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("bad name!"), RoleArn: aws.String(role), Definition: aws.String(passMachine)})
	wantCode(t, err, "InvalidName")

	created, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("greeter"), RoleArn: aws.String(role), Definition: aws.String(passMachine),
		Tags: []types.Tag{{Key: aws.String("scones:stack"), Value: aws.String("test")}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(created.StateMachineArn); got != "arn:aws:states:us-east-1:000000000000:stateMachine:greeter" {
		t.Errorf("arn = %s", got)
	}
	d, err := c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: created.StateMachineArn})
	if err != nil || aws.ToString(d.Definition) != passMachine || d.Type != types.StateMachineTypeStandard || d.Status != types.StateMachineStatusActive {
		t.Fatalf("describe = %+v, %v", d, err)
	}
	tags, err := c.ListTagsForResource(ctx, &sfn.ListTagsForResourceInput{ResourceArn: created.StateMachineArn})
	if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Value) != "test" {
		t.Fatalf("tags = %+v, %v", tags, err)
	}
	v, err := c.ValidateStateMachineDefinition(ctx, &sfn.ValidateStateMachineDefinitionInput{Definition: aws.String(`{"StartAt":"A","States":{"A":{"Type":"Pass","End":true,"Next":"A"}}}`)})
	if err != nil || v.Result != types.ValidateStateMachineDefinitionResultCodeFail || len(v.Diagnostics) == 0 {
		t.Fatalf("validate = %+v, %v", v, err)
	}
	if _, err := c.UpdateStateMachine(ctx, &sfn.UpdateStateMachineInput{StateMachineArn: created.StateMachineArn, Definition: aws.String(`{"StartAt":"A","States":{"A":{"Type":"Succeed"}}}`)}); err != nil {
		t.Fatal(err)
	}
	list, err := c.ListStateMachines(ctx, &sfn.ListStateMachinesInput{})
	if err != nil || len(list.StateMachines) != 1 {
		t.Fatalf("list = %+v, %v", list, err)
	}
	if _, err := c.DeleteStateMachine(ctx, &sfn.DeleteStateMachineInput{StateMachineArn: created.StateMachineArn}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: created.StateMachineArn})
	wantCode(t, err, "StateMachineDoesNotExist")
}

func TestExecutions(t *testing.T) {
	c, _ := client(t)
	ctx := context.Background()
	sm, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("greeter"), RoleArn: aws.String(role), Definition: aws.String(passMachine)})
	if err != nil {
		t.Fatal(err)
	}
	ok, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn, Name: aws.String("first"), Input: aws.String(`{"name":"scones","n":3}`)})
	if err != nil {
		t.Fatal(err)
	}
	d := wait(t, c, ok.ExecutionArn)
	if d.Status != types.ExecutionStatusSucceeded {
		t.Fatalf("status %s: %s %s", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
	}
	var out map[string]any
	json.Unmarshal([]byte(aws.ToString(d.Output)), &out)
	if out["greeting"] != "hello scones" || out["size"] != "big" {
		t.Errorf("output = %s", aws.ToString(d.Output))
	}
	// Same name, same input, finished: ExecutionAlreadyExists.
	_, err = c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn, Name: aws.String("first"), Input: aws.String(`{"name":"scones","n":3}`)})
	wantCode(t, err, "ExecutionAlreadyExists")
	_, err = c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn, Input: aws.String(`{not json`)})
	wantCode(t, err, "InvalidExecutionInput")

	bad, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn, Input: aws.String(`{"name":"x","n":0}`)})
	if err != nil {
		t.Fatal(err)
	}
	d = wait(t, c, bad.ExecutionArn)
	if d.Status != types.ExecutionStatusFailed || aws.ToString(d.Error) != "TooSmall" || aws.ToString(d.Cause) != "n must be above 1" {
		t.Fatalf("failed execution = %s %s %s", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
	}

	for i := 0; i < 5; i++ {
		s, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn, Input: aws.String(fmt.Sprintf(`{"name":"n%d","n":%d}`, i, i+2))})
		if err != nil {
			t.Fatal(err)
		}
		wait(t, c, s.ExecutionArn)
	}
	var all []types.ExecutionListItem
	p := sfn.NewListExecutionsPaginator(c, &sfn.ListExecutionsInput{StateMachineArn: sm.StateMachineArn, MaxResults: 3})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page.Executions...)
	}
	if len(all) != 7 {
		t.Fatalf("listed %d executions, want 7", len(all))
	}
	for i := 1; i < len(all); i++ {
		if all[i].StartDate.After(*all[i-1].StartDate) {
			t.Errorf("executions not newest first at %d", i)
		}
	}
	failed, err := c.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: sm.StateMachineArn, StatusFilter: types.ExecutionStatusFailed})
	if err != nil || len(failed.Executions) != 1 {
		t.Fatalf("FAILED filter: %+v, %v", failed, err)
	}

	h, err := c.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: ok.ExecutionArn})
	if err != nil {
		t.Fatal(err)
	}
	var seq []string
	for _, e := range h.Events {
		seq = append(seq, string(e.Type))
	}
	want := "ExecutionStarted PassStateEntered PassStateExited ChoiceStateEntered ChoiceStateExited PassStateEntered PassStateExited SucceedStateEntered SucceedStateExited ExecutionSucceeded"
	if strings.Join(seq, " ") != want {
		t.Errorf("history:\n got %s\nwant %s", strings.Join(seq, " "), want)
	}
	rev, err := c.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: ok.ExecutionArn, ReverseOrder: true, MaxResults: 4})
	if err != nil || len(rev.Events) != 4 || rev.Events[0].Type != types.HistoryEventTypeExecutionSucceeded || rev.NextToken == nil {
		t.Fatalf("reverse page: %+v, %v", rev, err)
	}
	_, err = c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String("arn:aws:states:us-east-1:000000000000:execution:greeter:nope")})
	wantCode(t, err, "ExecutionDoesNotExist")
}

func TestStartSyncExecution(t *testing.T) {
	c, _ := client(t)
	ctx := context.Background()
	std, _ := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("std"), RoleArn: aws.String(role), Definition: aws.String(passMachine)})
	express, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("fast"), RoleArn: aws.String(role), Definition: aws.String(passMachine), Type: types.StateMachineTypeExpress})
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.StartSyncExecution(ctx, &sfn.StartSyncExecutionInput{StateMachineArn: express.StateMachineArn, Input: aws.String(`{"name":"sync","n":5}`)})
	if err != nil {
		t.Fatal(err)
	}
	if out.Status != types.SyncExecutionStatusSucceeded || !strings.Contains(aws.ToString(out.Output), "hello sync") {
		t.Fatalf("sync = %s %s", out.Status, aws.ToString(out.Output))
	}
	_, err = c.StartSyncExecution(ctx, &sfn.StartSyncExecutionInput{StateMachineArn: std.StateMachineArn})
	wantCode(t, err, "StateMachineTypeNotSupported")
}

func TestAWSCLI(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("the AWS CLI is not installed: skipping the CLI cross-check")
	}
	_, srv := client(t)
	def := t.TempDir() + "/def.json"
	os.WriteFile(def, []byte(passMachine), 0o644)
	run := func(args ...string) map[string]any {
		t.Helper()
		cmd := exec.Command("aws", append([]string{"--endpoint-url", srv.URL(), "--output", "json", "stepfunctions"}, args...)...)
		cmd.Env = cliEnv()
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("aws %v: %v\n%s", args, err, b)
		}
		var v map[string]any
		json.Unmarshal(b, &v)
		return v
	}
	sm := run("create-state-machine", "--name", "cli", "--role-arn", role, "--definition", "file://"+def)
	ex := run("start-execution", "--state-machine-arn", sm["stateMachineArn"].(string), "--input", `{"name":"cli","n":2}`)
	var d map[string]any
	for i := 0; i < 100; i++ {
		d = run("describe-execution", "--execution-arn", ex["executionArn"].(string))
		if d["status"] != "RUNNING" {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if d["status"] != "SUCCEEDED" || !strings.Contains(d["output"].(string), "hello cli") {
		t.Fatalf("describe-execution = %v", d)
	}
	h := run("get-execution-history", "--execution-arn", ex["executionArn"].(string))
	if n := len(h["events"].([]any)); n != 10 {
		t.Errorf("get-execution-history: %d events, want 10", n)
	}
}

func cliEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	return append(env, "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_DEFAULT_REGION=us-east-1", "AWS_MAX_ATTEMPTS=1")
}
