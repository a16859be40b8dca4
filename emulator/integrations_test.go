package emulator_test

import (
	"context"
	"crypto/md5"
	"encoding/json"
	"fmt"
	"slices"
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
// task's result, in PascalCase, and its AWS error the task's error, named
// as on AWS: <Service>.<Code>Exception for a code the service's API model
// declares, the SDK's catch-all class for any other (SageMaker's
// ValidationException is not declared).
func TestStepFunctionsSDKIntegrations(t *testing.T) {
	srv := start(t, emulator.Options{})
	ctx := context.Background()
	c := sfn.NewFromConfig(awsConfig("test", "test"), func(o *sfn.Options) { o.BaseEndpoint = aws.String(srv.URL()) })
	role := aws.String("arn:aws:iam::000000000000:role/sfn")
	if err := srv.S3.CreateBucket(ctx, "out"); err != nil {
		t.Fatal(err)
	}
	child, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("child"), RoleArn: role,
		Definition: aws.String(`{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`)})
	if err != nil {
		t.Fatal(err)
	}
	catch := func(name, path, next string) string {
		return `"Catch":[{"ErrorEquals":["` + name + `"],"ResultPath":"$.` + path + `","Next":"` + next + `"}],"End":true`
	}
	start := func(input string) string {
		return `{"Type":"Task","Resource":"arn:aws:states:::states:startExecution","Parameters":{"StateMachineArn":"` +
			aws.ToString(child.StateMachineArn) + `","Name":"once","Input":{"n":` + input + `}},"ResultPath":null,`
	}
	def := `{"StartAt":"List","States":{
	  "List":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:sfn:listStateMachines","Parameters":{"MaxResults":10},
	    "ResultSelector":{"names.$":"$.StateMachines[*].Name"},"ResultPath":"$.list","Next":"Describe"},
	  "Describe":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:sagemaker:describeTrainingJob","Parameters":{"TrainingJobName.$":"$.job"},
	    ` + catch("SageMaker.SageMakerException", "sagemakerErr", "CreateTrainingJob") + `},
	  "CreateTrainingJob":{"Type":"Task","Resource":"arn:aws:states:::sagemaker:createTrainingJob","Parameters":{"TrainingJobName":"incomplete"},
	    ` + catch("SageMaker.AmazonSageMakerException", "createErr", "GetObject") + `},
	  "GetObject":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:s3:getObject","Parameters":{"Bucket":"no-such-bucket","Key":"k"},
	    ` + catch("S3.NoSuchBucketException", "s3Err", "PutObject") + `},
	  "PutObject":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:s3:putObject","Parameters":{"Bucket":"out","Key":"k","Body":"hello","ContentType":"text/plain"},
	    "ResultPath":"$.put","Next":"GetBack"},
	  "GetBack":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:s3:getObject","Parameters":{"Bucket":"out","Key":"k"},
	    "ResultPath":"$.got","Next":"DescribeExecution"},
	  "DescribeExecution":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:sfn:describeExecution",
	    "Parameters":{"ExecutionArn":"arn:aws:states:us-east-1:000000000000:execution:child:never-ran"},
	    ` + catch("Sfn.ExecutionDoesNotExistException", "sfnErr", "Start") + `},
	  "Start":` + start("1") + `"Next":"StartAgain"},
	  "StartAgain":` + start("2") + catch("StepFunctions.ExecutionAlreadyExistsException", "startErr", "Done") + `},
	  "Done":{"Type":"Pass","End":true}}}`
	sm, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("integrations"), RoleArn: role, Definition: aws.String(def)})
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
		List                                             struct{ Names []string } `json:"list"`
		Put                                              struct{ ETag string }
		Got                                              struct{ Body, ETag, LastModified, ContentType string }
		SageMakerErr, CreateErr, S3Err, SfnErr, StartErr struct{ Error, Cause string }
	}
	if err := json.Unmarshal([]byte(aws.ToString(out.Output)), &got); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.List.Names, []string{"child", "integrations"}) {
		t.Errorf("listStateMachines through the integration gave %v, want [child integrations]", got.List.Names)
	}
	if want := fmt.Sprintf(`"%x"`, md5.Sum([]byte("hello"))); got.Put.ETag != want {
		t.Errorf("putObject through the integration gave ETag %q, want %s", got.Put.ETag, want)
	}
	if got.Got.Body != "hello" || got.Got.ETag != got.Put.ETag || got.Got.LastModified == "" || got.Got.ContentType != "text/plain" {
		t.Errorf("getObject through the integration gave %+v, want the body and ETag put", got.Got)
	}
	for _, e := range []struct {
		name, got, cause, want string
	}{
		{"describeTrainingJob", got.SageMakerErr.Error, got.SageMakerErr.Cause, "no-such-job"},
		{"createTrainingJob", got.CreateErr.Error, got.CreateErr.Cause, "roleArn"},
		{"getObject", got.S3Err.Error, got.S3Err.Cause, "no-such-bucket"},
		{"describeExecution", got.SfnErr.Error, got.SfnErr.Cause, "never-ran"},
		{"startExecution", got.StartErr.Error, got.StartErr.Cause, "once"},
	} {
		if e.got == "" || !strings.Contains(e.cause, e.want) {
			t.Errorf("%s: error %q, cause %q; want a cause naming %q", e.name, e.got, e.cause, e.want)
		}
	}
}
