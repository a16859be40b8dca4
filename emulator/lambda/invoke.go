package lambda

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/scones/scones/emulator/awsapi"
	"github.com/scones/scones/emulator/store"
)

// Invocation types.
const (
	InvocationRequestResponse = "RequestResponse"
	InvocationEvent           = "Event"
	InvocationDryRun          = "DryRun"
)

// InvokeInput is an invocation: what the Invoke API takes.
type InvokeInput struct {
	// FunctionName is a name, name:qualifier, a full ARN or a partial ARN
	// (account:function:name), each with an optional :qualifier.
	FunctionName string
	// Qualifier is $LATEST or a version number; it must agree with one
	// in FunctionName.
	Qualifier string
	// Payload is the event, JSON; empty means {}.
	Payload []byte
	// InvocationType is RequestResponse (the default), Event (queued,
	// retried twice on a function error) or DryRun (checks only).
	InvocationType string
	// LogType "Tail" returns the last 4 KB of the invocation's log in
	// InvokeOutput.LogResult (RequestResponse only).
	LogType string
	// ClientContext is passed to the runtime (base64 JSON, as the API
	// takes it).
	ClientContext string
}

// InvokeOutput is an invocation's outcome.
type InvokeOutput struct {
	// StatusCode is 200 (RequestResponse), 202 (Event) or 204 (DryRun).
	StatusCode int
	// Payload is the function's response or, when FunctionError is set,
	// the error JSON {"errorMessage", "errorType", ...}.
	Payload []byte
	// FunctionError is "Unhandled" when the function failed (an error
	// returned or posted, a crash, a timeout), else "".
	FunctionError string
	// ExecutedVersion is the version that ran ("$LATEST" or a number).
	ExecutedVersion string
	// LogResult is the base64 tail of the log, with LogType Tail.
	LogResult string
	// RequestID is the invocation's id (x-amzn-RequestId).
	RequestID string
}

// Invoke runs a function, as the Invoke API does, for in-process callers
// (the Step Functions service's lambda:invoke integration). A service
// error (ResourceNotFoundException, TooManyRequestsException,
// RequestTooLargeException, InvalidRequestContentException,
// InvalidParameterValueException, ServiceException, ...) is returned as
// *awsapi.Error; a function error is a successful call with FunctionError
// set. If ctx ends first Invoke returns ctx.Err() while the invocation runs
// on to its own timeout, as on AWS.
func (s *Service) Invoke(ctx context.Context, in InvokeInput) (*InvokeOutput, error) {
	typ := in.InvocationType
	if typ == "" {
		typ = InvocationRequestResponse
	}
	if typ != InvocationRequestResponse && typ != InvocationEvent && typ != InvocationDryRun {
		return nil, errValidation("1 validation error detected: Value '%s' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]", typ)
	}
	if in.LogType != "" && in.LogType != "None" && in.LogType != "Tail" {
		return nil, errValidation("1 validation error detected: Value '%s' at 'logType' failed to satisfy constraint: Member must satisfy enum value set: [None, Tail]", in.LogType)
	}
	r, err := s.parseRef(in.FunctionName, in.Qualifier)
	if err != nil {
		return nil, err
	}
	limit := MaxSyncPayload
	if typ == InvocationEvent {
		limit = MaxAsyncPayload
	}
	if len(in.Payload) > limit {
		return nil, &awsapi.Error{Status: http.StatusRequestEntityTooLarge, Code: "RequestTooLargeException",
			Message: fmt.Sprintf("Request must be smaller than %d bytes for the InvokeFunction operation", limit)}
	}
	payload := bytes.TrimSpace(in.Payload)
	if len(payload) == 0 {
		payload = []byte("{}")
	} else if !json.Valid(payload) {
		var v any
		err := json.Unmarshal(payload, &v)
		return nil, awsapi.Errorf(http.StatusBadRequest, "InvalidRequestContentException", "Could not parse request body into json: %v", err)
	} else {
		payload = in.Payload
	}
	cfg, reserved, err := s.lookup(r)
	if err != nil {
		return nil, err
	}
	reqID := awsapi.NewRequestID()
	switch typ {
	case InvocationDryRun:
		return &InvokeOutput{StatusCode: http.StatusNoContent, ExecutedVersion: cfg.Version, RequestID: reqID}, nil
	case InvocationEvent:
		if err := s.enqueue(r, payload, reqID); err != nil {
			return nil, err
		}
		return &InvokeOutput{StatusCode: http.StatusAccepted, RequestID: reqID}, nil
	}
	return s.execute(ctx, cfg, reserved, payload, reqID, in.LogType == "Tail", in.ClientContext)
}

// lookup reads the configuration an invocation runs and the function's
// reserved concurrency.
func (s *Service) lookup(r ref) (*FunctionConfiguration, *int, error) {
	var cfg *FunctionConfiguration
	var reserved *int
	err := s.env.Store.View(func(tx store.Tx) error {
		c, rec, err := s.resolve(tx, r)
		if err != nil {
			return err
		}
		cfg, reserved = c, rec.Reserved
		return nil
	})
	return cfg, reserved, err
}

// execute runs one synchronous invocation.
func (s *Service) execute(ctx context.Context, cfg *FunctionConfiguration, reserved *int, payload []byte, reqID string, tail bool, clientContext string) (*InvokeOutput, error) {
	p, inst, err := s.acquire(cfg, reserved)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	cold := inst == nil
	inv := &invocation{
		id: reqID, arn: s.functionArn(cfg.FunctionName), payload: payload,
		timeout: time.Duration(cfg.Timeout) * time.Second, clientContext: clientContext,
		picked: make(chan struct{}), result: make(chan invokeResult, 1),
	}
	if cfg.Version != "$LATEST" {
		inv.arn += ":" + cfg.Version
	}
	out := &InvokeOutput{StatusCode: http.StatusOK, ExecutedVersion: cfg.Version, RequestID: reqID}
	if cold {
		inst, err = s.startInstance(p)
		if err != nil {
			s.release(p, nil, false)
			var ee *entrypointError
			if !errors.As(err, &ee) {
				return nil, err
			}
			out.Payload = errorPayload("Runtime.InvalidEntrypoint", "RequestId: "+reqID+" Error: "+ee.msg)
			out.FunctionError = "Unhandled"
			if tail {
				out.LogResult = base64.StdEncoding.EncodeToString(tailOf([]byte(fmt.Sprintf(
					"START RequestId: %s Version: %s\n%s\nEND RequestId: %s\nREPORT RequestId: %s\tDuration: 0.00 ms\tBilled Duration: 0 ms\tMemory Size: %d MB\tStatus: error\tError Type: Runtime.InvalidEntrypoint\n",
					reqID, cfg.Version, ee.msg, reqID, reqID, cfg.MemorySize))))
			}
			return out, nil
		}
	}
	inst.work <- inv // the instance is ours alone: never blocks
	res, ok := inst.await(ctx.Done(), inv)
	if !ok {
		// The caller gave up; the invocation runs on and frees its slot.
		go func() {
			res, _ := inst.await(nil, inv)
			s.release(p, inst, res.healthy)
		}()
		return nil, ctx.Err()
	}
	if tail {
		inst.flushLogs(reqID)
	}
	s.release(p, inst, res.healthy)
	out.Payload = res.payload
	if res.funcErr {
		out.FunctionError = "Unhandled"
	}
	dur := time.Since(start)
	if isClosed(inv.picked) {
		dur = time.Since(inv.pickedAt)
	}
	report := fmt.Sprintf("REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %d ms\tMemory Size: %d MB\t",
		reqID, float64(dur.Microseconds())/1000, dur.Milliseconds()+1, cfg.MemorySize)
	if cold {
		report += fmt.Sprintf("Init Duration: %.2f ms\t", float64(time.Duration(inst.initDur.Load()).Microseconds())/1000)
	}
	if res.status != "" {
		report += "Status: " + res.status + "\t"
	}
	s.log.Debug("lambda: "+report, "function", cfg.FunctionName, "request_id", reqID)
	if tail {
		var log bytes.Buffer
		inst.logMu.Lock()
		log.Write(inv.initLog)
		fmt.Fprintf(&log, "START RequestId: %s Version: %s\n", reqID, cfg.Version)
		log.Write(inv.log)
		inst.logMu.Unlock()
		if res.status == "timeout" {
			fmt.Fprintf(&log, "%s %s Task timed out after %.2f seconds\n", time.Now().UTC().Format("2006-01-02T15:04:05.000Z"), reqID, inv.timeout.Seconds())
		}
		fmt.Fprintf(&log, "END RequestId: %s\n%s\n", reqID, report)
		out.LogResult = base64.StdEncoding.EncodeToString(tailOf(log.Bytes()))
	}
	return out, nil
}

func tailOf(b []byte) []byte {
	if len(b) > tailSize {
		return b[len(b)-tailSize:]
	}
	return b
}

// enqueue accepts an Event invocation and runs it in the background:
// throttles and service errors are retried with backoff for up to six
// hours, a function error is retried twice, after one and two minutes, as
// AWS does; every wait is scaled by env.TimeScale.
func (s *Service) enqueue(r ref, payload []byte, reqID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errService("the Lambda service is shutting down")
	}
	s.async.Add(1)
	go func() {
		defer s.async.Done()
		s.runAsync(r, payload, reqID)
	}()
	return nil
}

func (s *Service) scaled(d time.Duration) time.Duration {
	return time.Duration(float64(d) * s.env.TimeScale)
}

func (s *Service) sleep(d time.Duration) bool {
	if d <= 0 {
		return s.ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.ctx.Done():
		return false
	}
}

func (s *Service) runAsync(r ref, payload []byte, reqID string) {
	log := s.log.With("function", r.name, "request_id", reqID, "invocation", "Event")
	start := time.Now()
	maxAge := s.scaled(6 * time.Hour)
	backoff := time.Second
	retryDelays := []time.Duration{time.Minute, 2 * time.Minute}
	attempt := 0
	for {
		cfg, reserved, err := s.lookup(r)
		if err != nil {
			log.Warn("lambda: dropping asynchronous invocation", "err", err)
			return
		}
		out, err := s.execute(s.ctx, cfg, reserved, payload, reqID, false, "")
		if err != nil {
			if s.ctx.Err() != nil {
				return
			}
			if time.Since(start) > maxAge {
				log.Warn("lambda: asynchronous invocation expired", "err", err)
				return
			}
			// Throttled or failed to start: back off (at least a little
			// even at TimeScale 0, so as not to spin).
			if !s.sleep(max(s.scaled(backoff), 5*time.Millisecond)) {
				return
			}
			backoff = min(backoff*2, 5*time.Minute)
			continue
		}
		if out.FunctionError == "" {
			log.Debug("lambda: asynchronous invocation succeeded", "attempt", attempt+1)
			return
		}
		if attempt == len(retryDelays) {
			log.Warn("lambda: asynchronous invocation failed after retries", "attempts", attempt+1, "error", string(out.Payload))
			return
		}
		log.Info("lambda: asynchronous invocation failed; retrying", "attempt", attempt+1, "error", string(out.Payload))
		if !s.sleep(s.scaled(retryDelays[attempt])) {
			return
		}
		attempt++
	}
}
