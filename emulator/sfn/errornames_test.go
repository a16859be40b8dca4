package sfn

import (
	"errors"
	"testing"

	"github.com/scones/scones/emulator/awsapi"
)

func TestIntegrationErrorNames(t *testing.T) {
	for _, c := range []struct {
		in         integration
		code, want string
	}{
		{lambdaTask, "TooManyRequestsException", "Lambda.TooManyRequestsException"},
		{lambdaTask, "ThrottlingException", "Lambda.AWSLambdaException"}, // not in Lambda's model
		{sdkS3, "NoSuchKey", "S3.NoSuchKeyException"},
		{sdkS3, "ObjectNotInActiveTierError", "S3.ObjectNotInActiveTierErrorException"},
		{sdkS3, "InvalidRange", "S3.S3Exception"},
		{sageMakerTask, "ResourceLimitExceeded", "SageMaker.ResourceLimitExceededException"},
		{sageMakerTask, "ValidationException", "SageMaker.AmazonSageMakerException"},
		{sdkSageMaker, "ValidationException", "SageMaker.SageMakerException"},
		{stepFunctionsTask, "ExecutionAlreadyExists", "StepFunctions.ExecutionAlreadyExistsException"},
		{stepFunctionsTask, "ThrottlingException", "StepFunctions.AWSStepFunctionsException"},
		{sdkSfn, "InvalidArn", "Sfn.InvalidArnException"},
		{sdkSfn, "", "Sfn.SfnException"},
	} {
		if got := c.in.error(c.code, "why"); got.Name != c.want || got.Cause != "why" {
			t.Errorf("%s error %q: %q (cause %q), want %q", c.in.prefix, c.code, got.Name, got.Cause, c.want)
		}
	}
	coded := &awsapi.Error{Status: 404, Code: "NoSuchBucket", Message: "gone"}
	if got := sdkS3.of(coded).Name; got != "S3.NoSuchBucketException" {
		t.Errorf("a coded error: %s", got)
	}
	if got := lambdaTask.of(errors.New("disk full")).Name; got != "Lambda.ServiceException" {
		t.Errorf("an error without a code: %s", got)
	}
}
