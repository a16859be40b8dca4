package asl

import (
	"context"
	"encoding/json"
	"strings"
	"time"
)

// TaskRequest is what the engine asks a TaskInvoker to do for one attempt
// of a Task state.
type TaskRequest struct {
	// Resource is the state's Resource ARN as written, e.g.
	// "arn:aws:states:::lambda:invoke" or a Lambda function ARN.
	Resource string
	// ResourceType and ResourceName are how history names the resource:
	// "lambda" and "invoke" for arn:aws:states:::lambda:invoke,
	// "aws-sdk:s3" and "getObject" for an SDK integration. Empty for
	// Lambda function and activity ARNs.
	ResourceType, ResourceName string
	// Parameters is the effective input after Parameters (JSONPath) or
	// Arguments (JSONata): for lambda:invoke, {FunctionName, Payload, ...}.
	Parameters json.RawMessage
	// Credentials is the evaluated Credentials field, if any.
	Credentials json.RawMessage
	// StateName is the Task state's name; ExecutionArn the execution's.
	StateName    string
	ExecutionArn string
	Region       string
	// TaskToken is set for ".waitForTaskToken" resources: the invoker
	// returns once the token's SendTaskSuccess/Failure arrives.
	TaskToken string
	// TimeoutSeconds and HeartbeatSeconds as resolved for this attempt
	// (0: not set). The engine enforces both itself.
	TimeoutSeconds, HeartbeatSeconds int64
	// Attempt is 0 for the first try and counts retries.
	Attempt int
	// Heartbeat records a heartbeat for HeartbeatSeconds (for an
	// activity worker's or callback's SendTaskHeartbeat). Safe to call
	// from any goroutine; never nil.
	Heartbeat func()
	// Submitted reports, for a ".waitForTaskToken" integration, the
	// service's response to the submitted request; the engine writes a
	// TaskSubmitted event. Call it at most once, before Invoke returns.
	// Never nil; a no-op for other resources.
	Submitted func(output json.RawMessage)
	// ActivityStarted reports that a worker took an activity task (the
	// ActivityStarted event, with the worker's name). If the invoker never
	// calls it, the engine writes ActivityStarted when the result
	// arrives. Never nil; a no-op for other resources.
	ActivityStarted func(workerName string)
}

// TaskInvoker runs tasks. A task failure is returned as *Error{Name,
// Cause} (for Lambda, the function's errorType and error document); any
// other error becomes States.TaskFailed. The invoker writes nothing to
// history: the engine emits the Task*/LambdaFunction*/Activity* events.
type TaskInvoker interface {
	Invoke(ctx context.Context, t *TaskRequest) (json.RawMessage, error)
}

// TaskInvokerFunc adapts a function to TaskInvoker.
type TaskInvokerFunc func(ctx context.Context, t *TaskRequest) (json.RawMessage, error)

// Invoke calls f.
func (f TaskInvokerFunc) Invoke(ctx context.Context, t *TaskRequest) (json.RawMessage, error) {
	return f(ctx, t)
}

// resource kinds, which decide the history event family.
const (
	kindService  = iota // arn:aws:states:::service:action -> Task*
	kindLambda          // arn:aws:lambda:...:function:name -> LambdaFunction*
	kindActivity        // arn:aws:states:...:activity:name -> Activity*
)

var integrationSuffixes = []string{".waitForTaskToken", ".sync:2", ".sync"}

// classifyResource splits a Resource ARN into its history names.
func classifyResource(res string) (kind int, rtype, rname string, ok bool) {
	parts := strings.SplitN(res, ":", 6)
	if len(parts) < 6 || parts[0] != "arn" {
		return 0, "", "", false
	}
	switch {
	case parts[2] == "states" && parts[3] == "" && parts[4] == "":
		rest := parts[5]
		suffix := ""
		for _, s := range integrationSuffixes {
			if strings.HasSuffix(rest, s) {
				suffix = s
				rest = strings.TrimSuffix(rest, s)
				break
			}
		}
		i := strings.LastIndexByte(rest, ':')
		if i <= 0 || i == len(rest)-1 {
			return 0, "", "", false
		}
		return kindService, rest[:i], rest[i+1:] + suffix, true
	case parts[2] == "lambda" && strings.HasPrefix(parts[5], "function:"):
		return kindLambda, "", "", true
	case parts[2] == "states" && strings.HasPrefix(parts[5], "activity:"):
		return kindActivity, "", "", true
	}
	return 0, "", "", false
}

// ObjectInfo describes an object: a listObjectsV2 entry, or what
// getObject answers beside the body.
type ObjectInfo struct {
	Key          string
	Size         int64
	ETag         string // with its quotes, as S3 returns it
	LastModified time.Time
	StorageClass string
	ContentType  string            // getObject only
	Metadata     map[string]string // getObject only: user metadata, keys without x-amz-meta-
}

// S3 is the object storage a Distributed Map reads items from
// (ItemReader) and writes results to (ResultWriter). The emulator
// implements it over its S3 service, and its Step Functions serves the
// aws-sdk:s3 integration with it too.
type S3 interface {
	GetObject(ctx context.Context, bucket, key string) ([]byte, ObjectInfo, error)
	ListObjectsV2(ctx context.Context, bucket, prefix string) ([]ObjectInfo, error)
	// PutObject stores body with a Content-Type (empty: S3's default) and
	// returns its quoted ETag, as S3 answers it.
	PutObject(ctx context.Context, bucket, key string, body []byte, contentType string) (string, error)
}

var _ TaskInvoker = TaskInvokerFunc(nil)
