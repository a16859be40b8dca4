package emulator_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/scones/scones/emulator"
)

// Step Functions' aws-sdk integrations for sagemaker and sfn are served by
// calling the other service's handler in-process: its answer becomes the
// task's result, its AWS error the task's error, <Service>.<Code>.
func TestStepFunctionsSDKIntegrations(t *testing.T) {
	srv := start(t, emulator.Options{})
	ctx := context.Background()
	c := sfn.NewFromConfig(awsConfig("test", "test"), func(o *sfn.Options) { o.BaseEndpoint = aws.String(srv.URL()) })
	def := `{"StartAt":"List","States":{
	  "List":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:sfn:listStateMachines","Parameters":{"MaxResults":10},
	    "ResultSelector":{"names.$":"$.StateMachines[*].Name"},"ResultPath":"$.list","Next":"Describe"},
	  "Describe":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:sagemaker:describeTrainingJob","Parameters":{"TrainingJobName.$":"$.job"},
	    "Catch":[{"ErrorEquals":["SageMaker.ValidationException"],"ResultPath":"$.err","Next":"Done"}],"End":true},
	  "Done":{"Type":"Pass","End":true}}}`
	sm, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("integrations"),
		RoleArn: aws.String("arn:aws:iam::000000000000:role/sfn"), Definition: aws.String(def)})
	if err != nil {
		t.Fatal(err)
	}
	run, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn, Input: aws.String(`{"job":"no-such-job"}`)})
	if err != nil {
		t.Fatal(err)
	}
	var out *sfn.DescribeExecutionOutput
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if out, err = c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: run.ExecutionArn}); err != nil {
			t.Fatal(err)
		}
		if out.Status != types.ExecutionStatusRunning || time.Now().After(deadline) {
			break
		}
	}
	if out.Status != types.ExecutionStatusSucceeded {
		t.Fatalf("status %s: %s %s", out.Status, aws.ToString(out.Error), aws.ToString(out.Cause))
	}
	var got struct {
		List struct{ Names []string } `json:"list"`
		Err  struct{ Error, Cause string }
	}
	if err := json.Unmarshal([]byte(aws.ToString(out.Output)), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.List.Names) != 1 || got.List.Names[0] != "integrations" {
		t.Errorf("listStateMachines through the integration gave %v, want [integrations]", got.List.Names)
	}
	if got.Err.Error != "SageMaker.ValidationException" || !strings.Contains(got.Err.Cause, "no-such-job") {
		t.Errorf("describeTrainingJob of a missing job gave error %q, cause %q", got.Err.Error, got.Err.Cause)
	}
}
