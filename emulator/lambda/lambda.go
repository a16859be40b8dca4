// Package lambda is the emulator's AWS Lambda (REST-JSON, signing name
// "lambda"): the control plane (CreateFunction, GetFunction,
// GetFunctionConfiguration, UpdateFunctionCode, UpdateFunctionConfiguration,
// DeleteFunction, ListFunctions, PublishVersion, ListVersionsByFunction,
// Put/Get/DeleteFunctionConcurrency, TagResource, UntagResource, ListTags)
// and Invoke, which runs the function's real `bootstrap` as a local process
// behind an emulated Lambda Runtime API.
//
// # Why its own Runtime API
//
// AWS's runtime interface emulator (aws-lambda-rie) exports nothing
// importable, runs one process per function with one invocation at a time
// and listens on a fixed address. This package instead serves the Runtime
// API itself (GET /2018-06-01/runtime/invocation/next, POST
// .../invocation/{id}/response, .../invocation/{id}/error,
// /2018-06-01/runtime/init/error), so it can keep many instances warm, scale
// them with concurrency, throttle, enforce timeouts and collect logs in
// process, in a few hundred lines and well under a millisecond per warm
// invocation.
//
// # Execution model
//
// Code is stored in the emulator's store (table lambda/code, keyed by the
// zip's SHA-256) and unpacked once per code version into a temporary
// directory, keeping file modes so bootstrap stays executable; the
// directory goes when no function or version has the code any more and no
// process runs from it. Each
// instance is one bootstrap process with its own Runtime API listener on
// 127.0.0.1:0 (AWS_LAMBDA_RUNTIME_API is that host:port, so any custom
// runtime works, not only aws-lambda-go); its stdout and stderr go to one
// pipe whose lines are logged to env.Logger prefixed with the function name
// and request id, and kept per invocation for X-Amz-Log-Type: Tail.
//
// Instances stay warm between invocations (an idle one is stopped after
// IdleTimeout). An invocation takes an idle instance of the function's
// version and revision, or starts one. Concurrency is limited per function
// by ReservedConcurrentExecutions (PutFunctionConcurrency) and across the
// emulator by AccountConcurrency (AWS's default account quota, 1000);
// past either, Invoke answers TooManyRequestsException with AWS's Reason.
// Update and Delete retire a function's instances: idle ones stop at once,
// busy ones when their invocation ends.
//
// Failures are reported as AWS's provided.al2023 runtime reports them:
// timeout kills the instance and returns errorType Sandbox.Timedout
// ("RequestId: ... Error: Task timed out after 3.00 seconds"); a process
// that exits during an invocation gives Runtime.ExitError ("RequestId: ...
// Error: Runtime exited with error: exit status 2"), also when it exits
// during init; an error posted to /runtime/init/error is returned as
// posted (errorType from its body or its Lambda-Runtime-Function-Error-Type
// header, Runtime.InitError if neither); a missing or non-executable
// bootstrap gives Runtime.InvalidEntrypoint.
//
// # Environment
//
// A function process gets only the Lambda environment: AWS_LAMBDA_* and
// _HANDLER, LAMBDA_TASK_ROOT (the unpacked code), AWS_REGION,
// AWS_DEFAULT_REGION, TZ=:UTC, dummy credentials (AWS_ACCESS_KEY_ID=test,
// AWS_SECRET_ACCESS_KEY=test) and AWS_ENDPOINT_URL=env.BaseURL(), the
// emulator's real address, so SDK clients built from the default
// configuration call back into the emulator. The function's own variables
// come last and may override AWS_ENDPOINT_URL (and set
// AWS_ENDPOINT_URL_<SERVICE>), as they could on AWS, where it is not a
// reserved key; AWS's reserved keys (AWS_REGION, AWS_LAMBDA_*, credentials,
// _HANDLER, ...) are refused at CreateFunction and
// UpdateFunctionConfiguration as AWS refuses them.
//
// # Go API
//
// Step Functions calls Service.Invoke in process (no HTTP) with an
// InvokeInput; service errors come back as *awsapi.Error
// (ResourceNotFoundException, TooManyRequestsException, ...) and function
// errors in InvokeOutput.FunctionError with the error JSON as Payload.
package lambda

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/scones/scones/emulator/awsapi"
	"github.com/scones/scones/emulator/s3"
)

// Limits, as AWS's defaults.
const (
	// AccountConcurrency is the emulator-wide limit on concurrent
	// executions (AWS's default account quota).
	AccountConcurrency = 1000
	// MinUnreserved is the concurrency PutFunctionConcurrency must leave
	// unreserved, as AWS requires.
	MinUnreserved = 100
	// MaxSyncPayload and MaxAsyncPayload bound Invoke's request payload;
	// MaxSyncPayload also bounds a function's response.
	MaxSyncPayload  = 6 * 1024 * 1024
	MaxAsyncPayload = 256 * 1024
	// MaxZipSize bounds a zip uploaded in the request; MaxUnzippedSize the
	// unpacked code.
	MaxZipSize      = 50 * 1024 * 1024
	MaxUnzippedSize = 250 * 1024 * 1024
	// IdleTimeout stops an instance that has served nothing for this long.
	IdleTimeout = 10 * time.Minute
	// InitTimeout is AWS's 10 s init limit. A new instance must ask for
	// its first invocation within InitTimeout plus the function's timeout
	// (AWS retries a timed-out init inside the invocation), else the
	// invocation fails with Sandbox.Timedout.
	InitTimeout = 10 * time.Second
	// tailSize is how much log X-Amz-Log-Result carries.
	tailSize = 4096
)

// Objects is the S3 service's Go API, which CreateFunction and
// UpdateFunctionCode read S3Bucket/S3Key code with.
type Objects interface {
	GetObject(ctx context.Context, bucket, key string) ([]byte, s3.ObjectInfo, error)
}

// Service is the emulated Lambda. It is safe for concurrent use.
type Service struct {
	env     awsapi.Env
	objects Objects
	log     *slog.Logger

	ctx    context.Context // cancelled by Close: stops async retries
	cancel context.CancelFunc
	async  sync.WaitGroup

	mu        sync.Mutex
	closed    bool
	pools     map[string]*pool // by poolKey
	busy      map[string]int   // concurrent executions per function name
	totalBusy int
	unpacked  map[string]*unpacked // by code SHA-256 hex
	codeDir   string               // made on first use, removed by Close
	instances sync.WaitGroup       // one per live instance's waiter
}

// New builds the Lambda service over env.Store; objects (the S3 service)
// serves code given as S3Bucket/S3Key and may be nil.
func New(env awsapi.Env, objects Objects) (*Service, error) {
	if env.Store == nil {
		return nil, errors.New("lambda: awsapi.Env.Store is nil")
	}
	if env.Now == nil {
		env.Now = time.Now
	}
	if env.Logger == nil {
		env.Logger = slog.New(slog.DiscardHandler)
	}
	if env.BaseURL == nil {
		env.BaseURL = func() string { return "" }
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Service{
		env: env, objects: objects, log: env.Logger.With("service", "lambda"),
		ctx: ctx, cancel: cancel,
		pools: map[string]*pool{}, busy: map[string]int{}, unpacked: map[string]*unpacked{},
	}, nil
}

// Name is the SigV4 signing name the edge routes on.
func (s *Service) Name() string { return "lambda" }

// Close stops every function process, drops queued asynchronous
// invocations and removes the unpacked code.
func (s *Service) Close(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	var all []*instance
	for k, p := range s.pools {
		p.retired = true
		for inst := range p.all {
			all = append(all, inst)
		}
		delete(s.pools, k)
	}
	s.mu.Unlock()
	s.cancel()
	for _, inst := range all {
		inst.kill()
	}
	done := make(chan struct{})
	go func() {
		s.async.Wait()
		s.instances.Wait()
		close(done)
	}()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = fmt.Errorf("lambda: close: %w", ctx.Err())
	}
	s.mu.Lock()
	dir := s.codeDir
	s.mu.Unlock()
	if dir == "" {
		return err
	}
	if rerr := os.RemoveAll(dir); rerr != nil && err == nil {
		err = fmt.Errorf("lambda: removing unpacked code: %w", rerr)
	}
	return err
}

// Error constructors, with AWS's codes and statuses.

func errNotFound(format string, args ...any) *awsapi.Error {
	return awsapi.Errorf(http.StatusNotFound, "ResourceNotFoundException", format, args...)
}

func errConflict(format string, args ...any) *awsapi.Error {
	return awsapi.Errorf(http.StatusConflict, "ResourceConflictException", format, args...)
}

func errInvalid(format string, args ...any) *awsapi.Error {
	return awsapi.Errorf(http.StatusBadRequest, "InvalidParameterValueException", format, args...)
}

func errValidation(format string, args ...any) *awsapi.Error {
	return awsapi.Errorf(http.StatusBadRequest, "ValidationException", format, args...)
}

func errService(format string, args ...any) *awsapi.Error {
	e := awsapi.Errorf(http.StatusInternalServerError, "ServiceException", format, args...)
	e.Fault = true
	return e
}

// Throttle reasons (TooManyRequestsException.Reason).
const (
	ReasonReserved = "ReservedFunctionConcurrentInvocationLimitExceeded"
	ReasonAccount  = "ConcurrentInvocationLimitExceeded"
)

// ThrottleError is TooManyRequestsException: an *awsapi.Error with AWS's
// Reason, which the REST-JSON writer puts in the body.
func throttleError(reason string) *awsapi.Error {
	return &awsapi.Error{Status: http.StatusTooManyRequests, Code: "TooManyRequestsException", Message: "Rate Exceeded.",
		Headers: map[string]string{"Retry-After": "1", reasonHeader: reason}}
}

// reasonHeader carries a throttle's Reason from throttleError to the
// response writer, which moves it into the body; it is never sent.
const reasonHeader = "X-Scones-Throttle-Reason"

// ThrottleReason returns a TooManyRequestsException's Reason
// (ReasonReserved or ReasonAccount), or "" for any other error.
func ThrottleReason(err error) string {
	var e *awsapi.Error
	if errors.As(err, &e) && e.Code == "TooManyRequestsException" {
		return e.Headers[reasonHeader]
	}
	return ""
}
