package sfn

import (
	"errors"
	"slices"
	"strings"

	"github.com/scones/scones/asl"
)

// integration is how Step Functions names the errors of one service for
// one kind of task. The name is <Service>.<class>, the class of the AWS SDK
// for Java exception that Step Functions caught: an error code the
// service's API model declares has a class of its own, the code with the
// "Exception" suffix added where it lacks it (S3.NoSuchKeyException,
// StepFunctions.ExecutionAlreadyExistsException); any other code is the
// SDK's catch-all class for the service. The optimized integrations use
// the SDK's first version (Lambda.AWSLambdaException, as in AWS's
// recommended Lambda retry; SageMaker.AmazonSageMakerException), the
// aws-sdk integrations its second (S3.S3Exception, SageMaker.SageMakerException).
// The declared codes are those of botocore's API models.
type integration struct {
	prefix, catchAll string
	declared         []string
}

func (in integration) error(code, cause string) *asl.Error {
	if !slices.Contains(in.declared, code) {
		return &asl.Error{Name: in.prefix + "." + in.catchAll, Cause: cause}
	}
	if !strings.HasSuffix(code, "Exception") {
		code += "Exception"
	}
	return &asl.Error{Name: in.prefix + "." + code, Cause: cause}
}

// of names err by its AWS error code; an error without one is the service
// failing, as a ServiceException (a 500) would say.
func (in integration) of(err error) *asl.Error {
	var coded interface{ ErrorCode() string }
	if errors.As(err, &coded) {
		return in.error(coded.ErrorCode(), err.Error())
	}
	return in.error("ServiceException", err.Error())
}

var (
	lambdaTask        = integration{"Lambda", "AWSLambdaException", lambdaErrorCodes}
	sageMakerTask     = integration{"SageMaker", "AmazonSageMakerException", sageMakerErrorCodes}
	stepFunctionsTask = integration{"StepFunctions", "AWSStepFunctionsException", stepFunctionsErrorCodes}
	sdkS3             = integration{"S3", "S3Exception", s3ErrorCodes}
	sdkSageMaker      = integration{"SageMaker", "SageMakerException", sageMakerErrorCodes}
	sdkSfn            = integration{"Sfn", "SfnException", stepFunctionsErrorCodes}
)

var (
	lambdaErrorCodes = []string{
		"CallbackTimeoutException", "CapacityProviderLimitExceededException", "CodeSigningConfigNotFoundException",
		"CodeStorageExceededException", "CodeVerificationFailedException", "DurableExecutionAlreadyStartedException",
		"EC2AccessDeniedException", "EC2ThrottledException", "EC2UnexpectedException", "EFSIOException",
		"EFSMountConnectivityException", "EFSMountFailureException", "EFSMountTimeoutException", "ENILimitReachedException",
		"FunctionVersionsPerCapacityProviderLimitExceededException", "InvalidCodeSignatureException",
		"InvalidParameterValueException", "InvalidRequestContentException", "InvalidRuntimeException",
		"InvalidSecurityGroupIDException", "InvalidSubnetIDException", "InvalidZipFileException", "KMSAccessDeniedException",
		"KMSDisabledException", "KMSInvalidStateException", "KMSNotFoundException", "NoPublishedVersionException",
		"PolicyLengthExceededException", "PreconditionFailedException", "ProvisionedConcurrencyConfigNotFoundException",
		"RecursiveInvocationException", "RequestTooLargeException", "ResourceConflictException", "ResourceInUseException",
		"ResourceNotFoundException", "ResourceNotReadyException", "S3FilesMountConnectivityException",
		"S3FilesMountFailureException", "S3FilesMountTimeoutException", "SerializedRequestEntityTooLargeException",
		"ServiceException", "SnapStartException", "SnapStartNotReadyException", "SnapStartTimeoutException",
		"SubnetIPAddressLimitReachedException", "TooManyRequestsException", "UnsupportedMediaTypeException",
	}
	s3ErrorCodes = []string{
		"AccessDenied", "BucketAlreadyExists", "BucketAlreadyOwnedByYou", "EncryptionTypeMismatch",
		"IdempotencyParameterMismatch", "InvalidObjectState", "InvalidRequest", "InvalidWriteOffset", "NoSuchBucket",
		"NoSuchKey", "NoSuchUpload", "ObjectAlreadyInActiveTierError", "ObjectNotInActiveTierError", "TooManyParts",
	}
	sageMakerErrorCodes     = []string{"ConflictException", "ResourceInUse", "ResourceLimitExceeded", "ResourceNotFound"}
	stepFunctionsErrorCodes = []string{
		"ActivityAlreadyExists", "ActivityDoesNotExist", "ActivityLimitExceeded", "ActivityWorkerLimitExceeded",
		"ConflictException", "ExecutionAlreadyExists", "ExecutionDoesNotExist", "ExecutionLimitExceeded",
		"ExecutionNotRedrivable", "InvalidArn", "InvalidDefinition", "InvalidEncryptionConfiguration",
		"InvalidExecutionInput", "InvalidLoggingConfiguration", "InvalidName", "InvalidOutput", "InvalidToken",
		"InvalidTracingConfiguration", "KmsAccessDeniedException", "KmsInvalidStateException", "KmsThrottlingException",
		"MissingRequiredParameter", "ResourceNotFound", "ServiceQuotaExceededException", "StateMachineAlreadyExists",
		"StateMachineDeleting", "StateMachineDoesNotExist", "StateMachineLimitExceeded", "StateMachineTypeNotSupported",
		"TaskDoesNotExist", "TaskTimedOut", "TooManyTags", "ValidationException",
	}
)
