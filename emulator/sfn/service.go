// Package sfn is the emulator's AWS Step Functions (awsJson1_0,
// X-Amz-Target AWSStepFunctions.*): a thin API over the asl engine.
//
// State machines, executions and their history live in the store, so they
// survive restarts with --data-dir. A running execution keeps its history
// in memory and writes it when it ends; an execution that was running when
// the emulator stopped is marked FAILED (States.Runtime, "the emulator
// stopped") when the state is loaded again, since a half-run workflow
// cannot be resumed faithfully.
//
// Tasks reach the emulator's own services in-process (tasks.go): Lambda
// through its Go Invoke, S3 through the Go API the Distributed Map also
// uses, SageMaker and Step Functions itself through the service's HTTP
// handler, so such an integration sees exactly what an SDK call would.
// Results of aws-sdk integrations are in PascalCase, and a service's
// errors are named as on AWS (errornames.go).
package sfn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/scones/scones/emulator/awsapi"
)

const contentType = "application/x-amz-json-1.0"

// Tables.
const (
	tblMachines   = "sfn/statemachines" // arn -> machineRecord
	tblExecutions = "sfn/executions"    // arn -> executionRecord
	tblByMachine  = "sfn/bymachine"     // machineArn|inverted start|execArn -> ""
	tblHistory    = "sfn/history"       // execArn|%010d -> event JSON
	tblTags       = "sfn/tags"          // resource arn -> map
)

// Deps are what tasks reach.
type Deps struct {
	// Lambda invokes a function in-process. Nil makes Lambda tasks fail
	// with Lambda.ServiceException.
	Lambda LambdaInvoker
	// Service returns the HTTP handler of another emulated service by
	// signing name ("sagemaker", "s3", "states", ...), for SDK
	// integrations.
	Service func(name string) http.Handler
	// S3 serves Distributed Map's ItemReader and ResultWriter.
	S3 S3
}

// Service is the emulated Step Functions.
type Service struct {
	env  awsapi.Env
	deps Deps

	mu      sync.Mutex
	running map[string]*run // execution arn -> running execution
	// machines caches parsed definitions by SHA-256. Definitions are
	// few (one per create or update), so it is never pruned.
	machines sync.Map
	tokens   map[string]*taskToken
	wg       sync.WaitGroup
	ctx      context.Context
	cancel   context.CancelFunc
}

// New builds Step Functions over env.Store and marks executions a previous
// process left running as failed.
func New(env awsapi.Env, deps Deps) (*Service, error) {
	ctx, cancel := context.WithCancel(context.Background())
	s := &Service{env: env, deps: deps, running: map[string]*run{}, tokens: map[string]*taskToken{}, ctx: ctx, cancel: cancel}
	if err := s.recover(); err != nil {
		cancel()
		return nil, err
	}
	return s, nil
}

// Name is the SigV4 signing name.
func (s *Service) Name() string { return "states" }

// Close aborts running executions and waits for them to record their end.
func (s *Service) Close(ctx context.Context) error {
	s.cancel()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("sfn: executions still running at shutdown: %w", ctx.Err())
	}
}

func errorf(code, format string, args ...any) *awsapi.Error {
	return &awsapi.Error{Status: http.StatusBadRequest, Code: code, Message: fmt.Sprintf(format, args...)}
}

type handler func(ctx context.Context, body []byte) (any, error)

func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	op, ok := strings.CutPrefix(target, "AWSStepFunctions.")
	if !ok || r.Method != http.MethodPost {
		awsapi.WriteJSONError(w, contentType, errorf("UnknownOperationException", "expected POST with X-Amz-Target AWSStepFunctions.<Operation>, got %s %q", r.Method, target))
		return
	}
	h := s.handlers()[op]
	if h == nil {
		awsapi.WriteJSONError(w, contentType, errorf("UnknownOperationException", "scones does not implement Step Functions operation %s", op))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 32<<20))
	if err != nil {
		awsapi.WriteJSONError(w, contentType, errorf("SerializationException", "reading body: %v", err))
		return
	}
	if len(body) == 0 {
		body = []byte("{}")
	}
	out, err := h(r.Context(), body)
	if err != nil {
		var ae *awsapi.Error
		if !errors.As(err, &ae) {
			ae = &awsapi.Error{Status: 500, Code: "InternalFailure", Message: err.Error(), Fault: true}
		}
		awsapi.WriteJSONError(w, contentType, ae)
		return
	}
	awsapi.WriteJSON(w, http.StatusOK, contentType, out)
}

func (s *Service) handlers() map[string]handler {
	return map[string]handler{
		"CreateStateMachine":               s.createStateMachine,
		"DescribeStateMachine":             s.describeStateMachine,
		"UpdateStateMachine":               s.updateStateMachine,
		"DeleteStateMachine":               s.deleteStateMachine,
		"ListStateMachines":                s.listStateMachines,
		"ValidateStateMachineDefinition":   s.validateDefinition,
		"DescribeStateMachineForExecution": s.describeForExecution,
		"TagResource":                      s.tagResource,
		"UntagResource":                    s.untagResource,
		"ListTagsForResource":              s.listTags,
		"StartExecution":                   s.startExecution,
		"StartSyncExecution":               s.startSyncExecution,
		"DescribeExecution":                s.describeExecution,
		"StopExecution":                    s.stopExecution,
		"ListExecutions":                   s.listExecutions,
		"GetExecutionHistory":              s.getExecutionHistory,
		"SendTaskSuccess":                  s.sendTaskSuccess,
		"SendTaskFailure":                  s.sendTaskFailure,
		"SendTaskHeartbeat":                s.sendTaskHeartbeat,
	}
}

// decode reads a request body strictly: unknown fields are refused, as
// AWS's model-validated APIs do.
func decode(body []byte, v any) error {
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errorf("SerializationException", "cannot decode request: %v", err)
	}
	return nil
}

// epoch is a timestamp as awsJson sends it: seconds since the epoch.
type epoch time.Time

func (t epoch) MarshalJSON() ([]byte, error) {
	tt := time.Time(t)
	return []byte(fmt.Sprintf("%.3f", float64(tt.UnixNano())/1e9)), nil
}

func checkName(kind, name string) error {
	if !awsapi.ValidName(name, 80, "-") {
		return errorf("InvalidName", "Invalid Name: '%s' (a %s name is 1 to 80 characters of letters, digits, '-' and '_')", name, kind)
	}
	return nil
}

func (s *Service) machineArn(name string) string {
	return fmt.Sprintf("arn:aws:states:%s:%s:stateMachine:%s", s.env.Region, s.env.AccountID, name)
}

func (s *Service) executionArn(kind, machine, name string) string {
	return fmt.Sprintf("arn:aws:states:%s:%s:%s:%s:%s", s.env.Region, s.env.AccountID, kind, machine, name)
}

// machineNameOf returns the name part of a state machine ARN.
func machineNameOf(arn string) (string, bool) {
	parts := strings.Split(arn, ":")
	if len(parts) != 7 || parts[0] != "arn" || parts[2] != "states" || parts[5] != "stateMachine" {
		return "", false
	}
	return parts[6], true
}
