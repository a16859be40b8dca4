package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// RunAll classifies every image under test/ in one execution of the
// Distributed Map state machine, then reads each image's outcome from the
// map run's ResultWriter files (manifest.json, SUCCEEDED_n.json,
// FAILED_n.json). Inferences are known for the succeeded images only: a
// failed child's output is not part of the results.
func RunAll(ctx context.Context, e *Env, o RunOptions) (*RunResult, error) {
	entries, err := e.ReadManifest(ctx, "test.lst")
	if err != nil {
		return nil, err
	}
	class := map[string]int{}
	for _, ent := range entries {
		class["test/"+ent.Filename] = ent.Class
	}
	arn := e.stateMachineArn(e.Profile.Names.StateMachine + "-all")
	input, _ := json.Marshal(map[string]string{"s3_bucket": e.Bucket, "prefix": "test/"})
	start := time.Now()
	out, err := e.Clients.SFN.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(arn), Input: aws.String(string(input))})
	if err != nil {
		return nil, fmt.Errorf("StartExecution %s: %w (run deploy first)", e.Profile.Names.StateMachine+"-all", err)
	}
	e.printf("distributed map over s3://%s/test/: %s\n", e.Bucket, aws.ToString(out.ExecutionArn))
	d, err := e.waitExecution(ctx, out.ExecutionArn, o.Poll, 5*time.Millisecond)
	if err != nil {
		return nil, err
	}
	if d.Status != sfntypes.ExecutionStatusSucceeded {
		return nil, fmt.Errorf("the distributed map execution %s: %s %s", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
	}
	var result struct {
		ResultWriterDetails struct{ Bucket, Key string }
	}
	if err := json.Unmarshal([]byte(aws.ToString(d.Output)), &result); err != nil || result.ResultWriterDetails.Key == "" {
		return nil, fmt.Errorf("the distributed map's output names no result manifest: %s", aws.ToString(d.Output))
	}
	var manifest struct {
		ResultFiles map[string][]struct{ Key string }
	}
	if err := e.getJSON(ctx, result.ResultWriterDetails.Bucket, result.ResultWriterDetails.Key, &manifest); err != nil {
		return nil, err
	}
	res := &RunResult{}
	for _, status := range []string{"SUCCEEDED", "FAILED", "PENDING"} {
		for _, f := range manifest.ResultFiles[status] {
			var items []struct {
				ExecutionArn, Status, Error, Cause string
				Input, Output                      json.RawMessage
				StartDate, StopDate                string
			}
			if err := e.getJSON(ctx, result.ResultWriterDetails.Bucket, f.Key, &items); err != nil {
				return nil, err
			}
			for _, it := range items {
				var in struct {
					Key string `json:"s3_key"`
				}
				json.Unmarshal(unquote(it.Input), &in)
				x := Execution{Key: in.Key, TrueClass: class[in.Key], Arn: it.ExecutionArn, Status: it.Status, Error: it.Error, Cause: it.Cause}
				if x.Status == "" {
					x.Status = status
				}
				if it.Status == "SUCCEEDED" {
					x.Inferences = inferencesFrom(unquote(it.Output))
				}
				res.Executions = append(res.Executions, x)
			}
		}
	}
	if len(res.Executions) == 0 {
		return nil, fmt.Errorf("the distributed map ran no item: is s3://%s/test/ empty?", e.Bucket)
	}
	res.Summary = summarize(res.Executions, time.Since(start))
	return res, nil
}

// unquote turns a JSON string holding JSON (as ResultWriter files carry
// Input and Output) into that JSON; other values pass through.
func unquote(raw json.RawMessage) json.RawMessage {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return json.RawMessage(s)
	}
	return raw
}

func (e *Env) getJSON(ctx context.Context, bucket, key string, v any) error {
	out, err := e.Clients.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return fmt.Errorf("reading s3://%s/%s: %w", bucket, key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("s3://%s/%s: %w", bucket, key, err)
	}
	return nil
}
