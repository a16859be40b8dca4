package asl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Execution statuses.
const (
	StatusSucceeded = "SUCCEEDED"
	StatusFailed    = "FAILED"
	StatusTimedOut  = "TIMED_OUT"
	StatusAborted   = "ABORTED"
)

// MaxHistoryEvents is the Standard workflow quota on history events; an
// execution that reaches it fails (this also stops runaway loops).
const MaxHistoryEvents = 25000

// MaxPayloadBytes is the Step Functions payload quota (256 KiB): a state
// input, output or task result above it fails with States.DataLimitExceeded.
const MaxPayloadBytes = 256 * 1024

// ExecutionOptions configure one execution.
type ExecutionOptions struct {
	Name             string
	ExecutionArn     string
	StateMachineArn  string
	StateMachineName string
	RoleArn          string
	// StateMachineVersionArn and StateMachineAliasArn, when the execution
	// was started through a version or alias, go into ExecutionStarted.
	StateMachineVersionArn string
	StateMachineAliasArn   string
	// Region for history's taskScheduledEventDetails.region; defaults to
	// the region in StateMachineArn, else "us-east-1".
	Region string
	// Input is the execution input (JSON); empty means {}.
	Input json.RawMessage
	// Invoker runs Task states. Required if the machine has Task states.
	Invoker TaskInvoker
	// Clock defaults to NewScaledClock(1) (real time).
	Clock Clock
	// S3 serves Distributed Map ItemReader and ResultWriter.
	S3 S3
	// OnEvent, if set, is called synchronously, in order, as each event is
	// appended to the history. It must not block for long and must not
	// call back into the execution.
	OnEvent func(HistoryEvent)
	// StartTime defaults to Clock.Now().
	StartTime time.Time
	// Sequential runs Parallel branches and Map iterations one at a time,
	// in order, so histories are deterministic (tests, golden files).
	Sequential bool
	// OnChildExecution, if set, receives each Distributed Map child
	// workflow execution when it ends (its history is not part of the
	// parent's), e.g. for ListExecutions with a mapRunArn. It may be called
	// from several goroutines at once.
	OnChildExecution func(ChildExecution)
	// NewID, if set, makes the random identifiers (task tokens, map run
	// ids); tests use it for deterministic histories. Default: UUIDs.
	NewID func() string
}

// ChildExecution is one finished Distributed Map child workflow execution.
type ChildExecution struct {
	MapRunArn    string
	Name         string
	ExecutionArn string
	Input        json.RawMessage
	Status       string
	Output       json.RawMessage
	Error, Cause string
	StartDate    time.Time
	StopDate     time.Time
	History      []HistoryEvent
}

// ExecutionResult is the outcome of Execute.
type ExecutionResult struct {
	Status    string
	Output    json.RawMessage // set when SUCCEEDED
	Error     string          // set when FAILED, TIMED_OUT or ABORTED
	Cause     string
	StartDate time.Time
	StopDate  time.Time
	History   []HistoryEvent
}

type execution struct {
	sm      *StateMachine
	opts    ExecutionOptions
	clock   Clock
	region  string
	account string
	input   any

	mu      sync.Mutex
	history []HistoryEvent
	// discard: child executions of a Distributed Map keep no history in
	// the parent.
	discard bool

	ctxOnce sync.Once
	execObj map[string]any
}

// thread tracks previousEventId along one line of execution (the main
// flow, a Parallel branch, a Map iteration).
type thread struct {
	ex   *execution
	last int64
}

func (th *thread) emit(typ string, fill func(*HistoryEvent)) int64 {
	ex := th.ex
	ex.mu.Lock()
	defer ex.mu.Unlock()
	ev := HistoryEvent{
		Timestamp:       Timestamp(ex.clock.Now()),
		Type:            typ,
		ID:              int64(len(ex.history) + 1),
		PreviousEventID: th.last,
	}
	if fill != nil {
		fill(&ev)
	}
	if !noAdvance[typ] {
		th.last = ev.ID
	}
	ex.history = append(ex.history, ev)
	if ex.opts.OnEvent != nil && !ex.discard {
		ex.opts.OnEvent(ev)
	}
	return ev.ID
}

// noAdvance lists events that do not become the previousEventId of the
// next event on their line (as observed on AWS): the next event links to
// the one before them.
var noAdvance = map[string]bool{
	"ParallelStateSucceeded": true, "MapStateSucceeded": true, "MapRunSucceeded": true,
	"MapIterationFailed": true, "TaskStateAborted": true,
}

func (th *thread) fork() *thread {
	th.ex.mu.Lock()
	defer th.ex.mu.Unlock()
	return &thread{ex: th.ex, last: th.last}
}

// join makes the latest event in the history the predecessor of th's
// next event (after branches or iterations finish).
func (th *thread) join() {
	th.ex.mu.Lock()
	th.last = int64(len(th.ex.history))
	th.ex.mu.Unlock()
}

// errAbort marks an execution stopped by its context.
var errAbort = &Error{Name: "States.Aborted", Cause: "the execution was aborted"}

// Execute runs the state machine to completion and returns its result and
// full history. Cancelling ctx aborts the execution (Status ABORTED); to
// record StopExecution's error and cause, cancel with
// context.WithCancelCause and an *Error as the cause. It never panics on
// bad input: problems become a FAILED execution.
func (sm *StateMachine) Execute(ctx context.Context, opts ExecutionOptions) *ExecutionResult {
	ex := &execution{sm: sm, opts: opts, clock: opts.Clock}
	if ex.clock == nil {
		ex.clock = NewScaledClock(1)
	}
	ex.region, ex.account = arnRegionAccount(opts.StateMachineArn)
	if opts.Region != "" {
		ex.region = opts.Region
	}
	if ex.opts.StartTime.IsZero() {
		ex.opts.StartTime = ex.clock.Now()
	}
	res := &ExecutionResult{StartDate: ex.opts.StartTime}
	th := &thread{ex: ex}

	rawInput := opts.Input
	if len(strings.TrimSpace(string(rawInput))) == 0 {
		rawInput = json.RawMessage("{}")
	}
	// ExecutionStarted records the input exactly as given, as AWS does.
	input, err := decodeJSON(rawInput)
	inputText := string(rawInput)
	th.emit("ExecutionStarted", func(e *HistoryEvent) {
		e.ExecutionStartedEventDetails = &ExecutionStartedEventDetails{Input: inputText, InputDetails: notTruncated(), RoleArn: opts.RoleArn,
			StateMachineVersionArn: opts.StateMachineVersionArn, StateMachineAliasArn: opts.StateMachineAliasArn}
	})
	var out any
	var xerr *Error
	if err != nil {
		xerr = errorf(ErrRuntime, "The execution input is not valid JSON: %v", err)
	} else if len(inputText) > MaxPayloadBytes {
		xerr = errorf(ErrDataLimitExceeded, "The execution input has %d bytes, more than the %d-byte limit", len(inputText), MaxPayloadBytes)
	} else {
		ex.input = input
		runCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		timedOut := make(chan struct{})
		if sm.TimeoutSeconds > 0 {
			go func() {
				if sleepTimeout(runCtx, ex.clock, time.Duration(sm.TimeoutSeconds)*time.Second) == nil {
					close(timedOut)
					cancel()
				}
			}()
		}
		out, xerr = ex.runMachine(runCtx, th, sm.root, input, newScope(nil))
		select {
		case <-timedOut:
			xerr = &Error{Name: ErrTimeout, Cause: fmt.Sprintf("The execution exceeded its TimeoutSeconds of %d", sm.TimeoutSeconds)}
			res.Status = StatusTimedOut
		default:
			if xerr == errAbort || (xerr != nil && ctx.Err() != nil) {
				res.Status = StatusAborted
			}
		}
	}
	if xerr == nil {
		b, encErr := encodeJSON(out)
		switch {
		case encErr != nil:
			xerr = errorf(ErrRuntime, "The execution output cannot be encoded: %v", encErr)
		case len(b) > MaxPayloadBytes:
			xerr = errorf(ErrDataLimitExceeded, "The execution output has %d bytes, more than the %d-byte limit", len(b), MaxPayloadBytes)
		default:
			res.Status = StatusSucceeded
			res.Output = b
			th.emit("ExecutionSucceeded", func(e *HistoryEvent) {
				e.ExecutionSucceededEventDetails = &OutputDetails{Output: string(b), OutputDetails: notTruncated()}
			})
		}
	}
	if xerr != nil {
		switch res.Status {
		case StatusTimedOut:
			res.Error, res.Cause = xerr.Name, xerr.Cause
			th.emit("ExecutionTimedOut", func(e *HistoryEvent) {
				e.ExecutionTimedOutEventDetails = &ErrorDetails{Error: xerr.Name, Cause: xerr.Cause}
			})
		case StatusAborted:
			// StopExecution's error and cause arrive as the context's cause.
			var stop *Error
			if errors.As(context.Cause(ctx), &stop) {
				res.Error, res.Cause = stop.Name, stop.Cause
			}
			th.emit("ExecutionAborted", func(e *HistoryEvent) {
				e.ExecutionAbortedEventDetails = &ErrorDetails{Error: res.Error, Cause: res.Cause}
			})
		default:
			res.Status = StatusFailed
			res.Error, res.Cause = xerr.Name, xerr.Cause
			th.emit("ExecutionFailed", func(e *HistoryEvent) {
				e.ExecutionFailedEventDetails = &ErrorDetails{Error: xerr.Name, Cause: xerr.Cause}
			})
		}
	}
	res.StopDate = ex.clock.Now()
	ex.mu.Lock()
	res.History = append([]HistoryEvent(nil), ex.history...)
	ex.mu.Unlock()
	return res
}

func sleepTimeout(ctx context.Context, c Clock, d time.Duration) error {
	if tc, ok := c.(TimeoutClock); ok {
		return tc.SleepTimeout(ctx, d)
	}
	return c.Sleep(ctx, d)
}

func arnRegionAccount(arn string) (string, string) {
	p := strings.Split(arn, ":")
	region, account := "us-east-1", "123456789012"
	if len(p) >= 5 {
		if p[3] != "" {
			region = p[3]
		}
		if p[4] != "" {
			account = p[4]
		}
	}
	return region, account
}

// runMachine runs a StartAt/States container to its end.
func (ex *execution) runMachine(ctx context.Context, th *thread, m *machine, input any, vars *scope) (any, *Error) {
	name := m.startAt
	inText := ""
	for {
		if ctx.Err() != nil {
			return nil, errAbort
		}
		th.ex.mu.Lock()
		n := len(th.ex.history)
		th.ex.mu.Unlock()
		if n >= MaxHistoryEvents-2 {
			return nil, errorf(ErrRuntime, "The execution reached the maximum number of history events (%d)", MaxHistoryEvents)
		}
		st := m.states[name]
		if st == nil {
			return nil, errorf(ErrRuntime, "no state named %q", name)
		}
		out, lastOut, next, err := ex.runState(ctx, th, st, input, inText, vars)
		if err != nil {
			return nil, err
		}
		if next == "" {
			return out, nil
		}
		// The state's output text is the next state's input text.
		name, input, inText = next, out, lastOut
	}
}

// stateRun is the per-state working set.
type stateRun struct {
	ex      *execution
	th      *thread
	st      *state
	vars    *scope
	input   any    // the raw state input
	inText  string // its JSON text when already known (the previous output)
	outText string // the output's JSON text, set by exit
	entered time.Time
	// enteredID is the id of the StateEntered event.
	enteredID int64
	retries   int
	token     string

	ctxObj     map[string]any
	ctxRetries int
	ctxToken   string
}

// context returns the context object ($$). It is cached per state run
// and rebuilt when the retry count or task token changes; callers must not
// mutate it (itemInput copies it).
func (r *stateRun) context() map[string]any {
	if r.ctxObj != nil && r.ctxRetries == r.retries && r.ctxToken == r.token {
		return r.ctxObj
	}
	ex := r.ex
	c := map[string]any{
		"Execution":    ex.execCtx(),
		"StateMachine": map[string]any{"Id": ex.opts.StateMachineArn, "Name": ex.opts.StateMachineName},
		"State": map[string]any{
			"EnteredTime": formatTime(r.entered),
			"Name":        r.st.name,
			"RetryCount":  json.Number(fmt.Sprint(r.retries)),
		},
	}
	if r.token != "" {
		c["Task"] = map[string]any{"Token": r.token}
	}
	r.ctxObj, r.ctxRetries, r.ctxToken = c, r.retries, r.token
	return c
}

// execCtx is $$.Execution, built once per execution.
func (ex *execution) execCtx() map[string]any {
	ex.ctxOnce.Do(func() {
		ex.execObj = map[string]any{
			"Id":           ex.opts.ExecutionArn,
			"Input":        ex.input,
			"Name":         ex.opts.Name,
			"RoleArn":      ex.opts.RoleArn,
			"StartTime":    formatTime(ex.opts.StartTime),
			"RedriveCount": json.Number("0"),
		}
	})
	return ex.execObj
}

func formatTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func (r *stateRun) env(input any, field, pathErr string) *evalEnv {
	ctxObj := r.context()
	return &evalEnv{
		pathEnv: pathEnv{input: input, ctx: ctxObj, vars: r.vars},
		field:   field,
		pathErr: pathErr,
		states:  map[string]any{"input": r.input, "context": ctxObj},
	}
}

func (r *stateRun) jsonata() bool { return r.st.lang == LangJSONata }

func eventPrefix(typ string) string { return typ + "State" }

func payloadCheck(v any, what string) *Error {
	_, err := payloadText(v, what)
	return err
}

// payloadText encodes v and checks it against the payload quota.
func payloadText(v any, what string) (string, *Error) {
	b, err := encodeJSON(v)
	if err != nil {
		return "", errorf(ErrRuntime, "The %s cannot be encoded as JSON: %v", what, err)
	}
	if len(b) > MaxPayloadBytes {
		return "", errorf(ErrDataLimitExceeded, "The %s has %d bytes, more than the %d-byte limit", what, len(b), MaxPayloadBytes)
	}
	return string(b), nil
}

// runState runs one state; next is "" when the machine ends.
func (ex *execution) runState(ctx context.Context, th *thread, st *state, input any, inText string, vars *scope) (any, string, string, *Error) {
	r := &stateRun{ex: ex, th: th, st: st, vars: vars, input: input, inText: inText, entered: ex.clock.Now()}
	out, next, err := r.run(ctx)
	return out, r.outText, next, r.annotate(err)
}

// annotate gives an engine-raised error AWS's cause prefix naming the
// state and its StateEntered event, and writes the EvaluationFailed event
// of a failed JSONata expression. Errors already annotated (in a nested
// state) and task failures pass through unchanged.
func (r *stateRun) annotate(err *Error) *Error {
	if err == nil || err == errAbort || !err.internal {
		return err
	}
	c := *err
	c.internal = false
	c.Cause = fmt.Sprintf("An error occurred while executing the state '%s' (entered at the event id #%d). %s", r.st.name, r.enteredID, err.Cause)
	if c.location != "" {
		r.th.emit("EvaluationFailed", func(e *HistoryEvent) {
			e.EvaluationFailedEventDetails = &EvaluationFailedEventDetails{Error: c.Name, Cause: c.Cause, Location: c.location, State: r.st.name}
		})
		c.location = ""
	}
	return &c
}

func (r *stateRun) run(ctx context.Context) (any, string, *Error) {
	st, th, input := r.st, r.th, r.input
	inText := r.inText
	var perr *Error
	if inText == "" {
		inText, perr = payloadText(input, "input of state '"+st.name+"'")
		if inText == "" {
			inText = mustJSON(input)
		}
	}
	r.enteredID = th.emit(eventPrefix(st.typ)+"Entered", func(e *HistoryEvent) {
		e.StateEnteredEventDetails = &StateEnteredEventDetails{Name: st.name, Input: inText, InputDetails: notTruncated()}
	})
	if perr != nil {
		return nil, "", perr
	}
	switch st.typ {
	case TypeChoice:
		return r.choice()
	case TypeFail:
		return nil, "", r.fail()
	case TypeSucceed:
		out, err := r.simpleOutput(input)
		if err != nil {
			return nil, "", err
		}
		r.exit(out, "", nil)
		return out, "", nil
	case TypeWait:
		out, next, err := r.wait(ctx)
		if err == errAbort {
			th.emit("WaitStateAborted", nil)
		}
		return out, next, err
	case TypePass:
		return r.pass()
	}
	out, next, err := r.withErrorHandling(ctx)
	if err == errAbort && st.typ == TypeTask {
		th.emit("TaskStateAborted", nil)
	}
	return out, next, err
}

// simpleOutput is InputPath+OutputPath (JSONPath) or Output (JSONata)
// for states with no result.
func (r *stateRun) simpleOutput(input any) (any, *Error) {
	if r.jsonata() {
		if r.st.outputTmpl == nil {
			return input, nil
		}
		return r.st.outputTmpl.eval(r.env(input, "Output", ""))
	}
	eff, err := r.applyInputPath(input)
	if err != nil {
		return nil, err
	}
	return r.applyOutputPath(eff)
}

func (r *stateRun) applyInputPath(input any) (any, *Error) {
	p := r.st.input
	if p == nil {
		return input, nil
	}
	if p.null {
		return map[string]any{}, nil
	}
	v, ok, err := p.p.eval(pathEnv{input: input, ctx: r.context(), vars: r.vars})
	if err != nil {
		return nil, asError(err, false)
	}
	if !ok {
		return nil, errorf(ErrRuntime, "Invalid path '%s' : No results for path: %s", p.p.raw, p.p.jaywayString())
	}
	return v, nil
}

func (r *stateRun) applyOutputPath(v any) (any, *Error) {
	p := r.st.output
	if p == nil {
		return v, nil
	}
	if p.null {
		return map[string]any{}, nil
	}
	out, ok, err := p.p.eval(pathEnv{input: v, ctx: r.context(), vars: r.vars})
	if err != nil {
		return nil, asError(err, false)
	}
	if !ok {
		return nil, errorf(ErrRuntime, "Invalid path '%s' : No results for path: %s", p.p.raw, p.p.jaywayString())
	}
	return out, nil
}

// applyResultPath merges result into the raw state input.
func applyResultPath(input, result any, has, null bool, p *jpath) (any, *Error) {
	if !has {
		return result, nil
	}
	if null {
		return input, nil
	}
	out, err := setPath(input, p.ref, result)
	if err != nil {
		return nil, errorf(ErrResultPathMatchFailure, "Unable to apply ResultPath '%s' to input '%s': %v", p.raw, mustJSON(input), err)
	}
	return out, nil
}

// evalAssign evaluates an Assign block; the values are applied by the
// caller after the state's other fields, so they are visible only to the
// next state.
func (r *stateRun) evalAssign(t *tmpl, env *evalEnv) (map[string]any, *Error) {
	if t == nil {
		return nil, nil
	}
	env.field = "Assign"
	env.pathErr = ErrRuntime
	v, err := t.eval(env)
	if err != nil {
		return nil, err
	}
	m, _ := v.(map[string]any)
	if err := payloadCheck(m, "assigned variables of state '"+r.st.name+"'"); err != nil {
		return nil, err
	}
	return m, nil
}

// exit applies assignments and emits the StateExited event.
func (r *stateRun) exit(out any, outText string, assigned map[string]any) {
	if outText == "" {
		outText = mustJSON(out)
	}
	if len(outText) <= MaxPayloadBytes {
		r.outText = outText
	}
	if assigned != nil {
		r.vars.setAll(assigned)
	}
	st := r.st
	r.th.emit(eventPrefix(st.typ)+"Exited", func(e *HistoryEvent) {
		d := &StateExitedEventDetails{Name: st.name, Output: outText, OutputDetails: notTruncated()}
		if st.assign != nil || assigned != nil {
			d.AssignedVariables = map[string]string{}
			for k, v := range assigned {
				d.AssignedVariables[k] = mustJSON(v)
			}
			d.AssignedVariablesDetails = notTruncated()
		}
		e.StateExitedEventDetails = d
	})
}

func (r *stateRun) pass() (any, string, *Error) {
	st := r.st
	var out any
	var assigned map[string]any
	var err *Error
	if r.jsonata() {
		env := r.env(r.input, "Output", "")
		if assigned, err = r.evalAssign(st.assign, r.env(r.input, "Assign", "")); err != nil {
			return nil, "", err
		}
		out = r.input
		if st.outputTmpl != nil {
			if out, err = st.outputTmpl.eval(env); err != nil {
				return nil, "", err
			}
		}
	} else {
		eff, err := r.applyInputPath(r.input)
		if err != nil {
			return nil, "", err
		}
		if st.params != nil {
			if eff, err = st.params.eval(r.env(eff, "Parameters", ErrRuntime)); err != nil {
				return nil, "", err
			}
		}
		result := eff
		if st.hasResult {
			result = st.result
		}
		if assigned, err = r.evalAssign(st.assign, r.env(result, "Assign", "")); err != nil {
			return nil, "", err
		}
		if out, err = applyResultPath(r.input, result, st.hasResultPath, st.resultPathNull, st.resultPath); err != nil {
			return nil, "", err
		}
		if out, err = r.applyOutputPath(out); err != nil {
			return nil, "", err
		}
	}
	outText, perr := payloadText(out, "output of state '"+st.name+"'")
	if perr != nil {
		return nil, "", perr
	}
	r.exit(out, outText, assigned)
	return out, st.next, nil
}

func (r *stateRun) choice() (any, string, *Error) {
	st := r.st
	var eff any = r.input
	if !r.jsonata() {
		var err *Error
		if eff, err = r.applyInputPath(r.input); err != nil {
			return nil, "", err
		}
	}
	env := r.env(eff, "Choices", ErrRuntime)
	next := ""
	var rule *choiceRule
	for _, c := range st.choices {
		ok, err := c.match(env)
		if err != nil {
			return nil, "", err
		}
		if ok {
			next, rule = c.next, c
			break
		}
	}
	if next == "" {
		next = st.deflt
	}
	if next == "" {
		return nil, "", errorf(ErrNoChoiceMatched, "No Choice Rules matched and no Default was specified")
	}
	// Assign and Output: the matched rule's, then the state's.
	assignT, outT := st.assign, st.outputTmpl
	var assigned map[string]any
	for _, t := range []*tmpl{func() *tmpl {
		if rule != nil {
			return rule.assign
		}
		return nil
	}(), assignT} {
		if t == nil {
			continue
		}
		a, err := r.evalAssign(t, r.env(eff, "Assign", ""))
		if err != nil {
			return nil, "", err
		}
		if assigned == nil {
			assigned = map[string]any{}
		}
		for k, v := range a {
			if _, set := assigned[k]; !set {
				assigned[k] = v
			}
		}
	}
	var out any
	var err *Error
	if r.jsonata() {
		out = r.input
		if rule != nil && rule.output != nil {
			outT = rule.output
		}
		if outT != nil {
			if out, err = outT.eval(r.env(r.input, "Output", "")); err != nil {
				return nil, "", err
			}
		}
	} else if out, err = r.applyOutputPath(eff); err != nil {
		return nil, "", err
	}
	r.exit(out, "", assigned)
	return out, next, nil
}

func (r *stateRun) wait(ctx context.Context) (any, string, *Error) {
	st := r.st
	var eff any = r.input
	var err *Error
	if !r.jsonata() {
		if eff, err = r.applyInputPath(r.input); err != nil {
			return nil, "", err
		}
	}
	env := r.env(eff, "Seconds", ErrRuntime)
	var d time.Duration
	switch {
	case st.waitSeconds != nil:
		n, err := r.resolveNum(st.waitSeconds, env)
		if err != nil {
			return nil, "", err
		}
		if n < 0 {
			return nil, "", errorf(ErrRuntime, "The value of '%s' must be a non-negative integer, got %d", st.waitSeconds.field, n)
		}
		d = time.Duration(n) * time.Second
	default:
		var v any
		if st.waitTSPath != nil {
			x, ok, perr := st.waitTSPath.eval(env.pathEnv)
			if perr != nil {
				return nil, "", asError(perr, false)
			}
			if !ok {
				return nil, "", errorf(ErrRuntime, "Invalid path '%s': the TimestampPath references an invalid value", st.waitTSPath.raw)
			}
			v = x
		} else if v, err = st.waitTimestamp.eval(r.env(eff, "Timestamp", ErrRuntime)); err != nil {
			return nil, "", err
		}
		s, _ := v.(string)
		t, ok := parseTimestamp(s)
		if !ok {
			name := ErrRuntime
			if r.jsonata() {
				name = ErrQueryEvaluationError
			}
			return nil, "", errorf(name, "The Timestamp value '%v' is not a valid ISO-8601 timestamp", v)
		}
		d = t.Sub(r.ex.clock.Now())
	}
	if d > 0 {
		if err := r.ex.clock.Sleep(ctx, d); err != nil {
			return nil, "", errAbort
		}
	}
	var assigned map[string]any
	if assigned, err = r.evalAssign(st.assign, r.env(eff, "Assign", "")); err != nil {
		return nil, "", err
	}
	var out any
	if r.jsonata() {
		out = r.input
		if st.outputTmpl != nil {
			if out, err = st.outputTmpl.eval(r.env(r.input, "Output", "")); err != nil {
				return nil, "", err
			}
		}
	} else if out, err = r.applyOutputPath(eff); err != nil {
		return nil, "", err
	}
	r.exit(out, "", assigned)
	return out, st.next, nil
}

// resolveNum resolves a numeric field (literal, path or JSONata).
func (r *stateRun) resolveNum(f *numField, env *evalEnv) (int64, *Error) {
	switch {
	case f.path != nil:
		v, ok, err := f.path.eval(env.pathEnv)
		if err != nil {
			return 0, asError(err, false)
		}
		if !ok {
			return 0, errorf(ErrRuntime, "Invalid path '%s': the %s references an invalid value", f.path.raw, f.field)
		}
		n, isInt := intValue(v)
		if !isInt {
			return 0, errorf(ErrRuntime, "The %s '%s' must point to an integer, got %s", f.field, f.path.raw, mustJSON(v))
		}
		return n, nil
	case f.expr != nil:
		v, err := f.expr.eval(env.states, env.vars)
		if err != nil {
			return 0, err
		}
		n, isInt := intValue(v)
		if !isInt {
			return 0, errorf(ErrQueryEvaluationError, "The JSONata expression '%s' specified for the field '%s' must return an integer, got %s", f.expr.src, f.field, mustJSON(v))
		}
		return n, nil
	}
	return f.lit, nil
}

func (r *stateRun) fail() *Error {
	st := r.st
	env := r.env(r.input, "Error", ErrRuntime)
	get := func(t *tmpl, ref *valueRef, field string) (string, *Error) {
		var v any
		switch {
		case t != nil:
			x, err := t.eval(env)
			if err != nil {
				return "", err
			}
			v = x
		case ref != nil && ref.call != nil:
			x, err := evalIntrinsic(ref.call, env.pathEnv)
			if err != nil {
				return "", err
			}
			v = x
		case ref != nil:
			x, ok, err := ref.path.eval(env.pathEnv)
			if err != nil {
				return "", asError(err, false)
			}
			if !ok {
				return "", errorf(ErrRuntime, "Invalid path '%s': the %sPath references an invalid value", ref.path.raw, field)
			}
			v = x
		default:
			return "", nil
		}
		s, ok := v.(string)
		if !ok {
			name := ErrRuntime
			if r.jsonata() {
				name = ErrQueryEvaluationError
			}
			return "", errorf(name, "The %s of the Fail state '%s' must be a string, got %s", field, st.name, mustJSON(v))
		}
		return s, nil
	}
	e, err := get(st.failError, st.failErrorPath, "Error")
	if err != nil {
		return err
	}
	c, err := get(st.failCause, st.failCausePath, "Cause")
	if err != nil {
		return err
	}
	return &Error{Name: e, Cause: c}
}

// errorMatches applies ErrorEquals. States.ALL matches everything except
// States.DataLimitExceeded and States.Runtime (terminal errors, which only
// their exact name catches); States.TaskFailed matches every error except
// States.Timeout and those two (AWS: "any known error name except for
// States.Timeout").
func errorMatches(names []string, err *Error) bool {
	terminal := err.Name == ErrDataLimitExceeded || err.Name == ErrRuntime
	for _, n := range names {
		switch {
		case n == err.Name:
			return true
		case n == ErrAll && !terminal:
			return true
		case n == ErrTaskFailed && !terminal && err.Name != ErrTimeout:
			return true
		}
	}
	return false
}

// withErrorHandling runs a Task, Parallel or Map state with its Retry and
// Catch fields.
func (r *stateRun) withErrorHandling(ctx context.Context) (any, string, *Error) {
	st := r.st
	attempts := make([]int, len(st.retry))
	for {
		out, err := r.runOnce(ctx)
		if err == nil {
			return out, st.next, nil
		}
		// Retriers and catchers see the annotated error, as on AWS.
		err = r.annotate(err)
		if err == errAbort || ctx.Err() != nil {
			return nil, "", errAbort
		}
		// Retry.
		retried := false
		for i, rt := range st.retry {
			if !errorMatches(rt.errorEquals, err) {
				continue
			}
			if attempts[i] < rt.maxAttempts {
				delay := rt.interval * math.Pow(rt.backoff, float64(attempts[i]))
				if rt.maxDelay > 0 && delay > rt.maxDelay {
					delay = rt.maxDelay
				}
				if rt.jitterFull {
					delay = rand.Float64() * delay
				}
				attempts[i]++
				r.retries++
				if serr := r.ex.clock.Sleep(ctx, time.Duration(delay*float64(time.Second))); serr != nil {
					return nil, "", errAbort
				}
				retried = true
			}
			break
		}
		if retried {
			continue
		}
		// Catch.
		for _, c := range st.catch {
			if !errorMatches(c.errorEquals, err) {
				continue
			}
			errOut := map[string]any{"Error": err.Name, "Cause": err.Cause}
			var out any
			var assigned map[string]any
			var aerr *Error
			if r.jsonata() {
				env := r.env(r.input, "Output", "")
				env.states["errorOutput"] = errOut
				if assigned, aerr = r.evalAssign(c.assign, env); aerr != nil {
					return nil, "", aerr
				}
				out = errOut
				if c.output != nil {
					env.field = "Output"
					if out, aerr = c.output.eval(env); aerr != nil {
						return nil, "", aerr
					}
				}
			} else {
				if assigned, aerr = r.evalAssign(c.assign, r.env(errOut, "Assign", "")); aerr != nil {
					return nil, "", aerr
				}
				if out, aerr = applyResultPath(r.input, errOut, c.hasResultPath, c.resultPathNull, c.resultPath); aerr != nil {
					return nil, "", aerr
				}
			}
			if assigned != nil {
				r.vars.setAll(assigned)
			}
			return out, c.next, nil
		}
		return nil, "", err
	}
}

// runOnce is one attempt of a Task, Parallel or Map state, from effective
// input to state output (emitting StateExited on success).
func (r *stateRun) runOnce(ctx context.Context) (any, *Error) {
	st := r.st
	var eff any
	var err *Error
	// Each attempt of a callback task gets a fresh task token.
	if kind, _, rname, ok := classifyResource(st.resource); st.typ == TypeTask && ok && kind == kindService && strings.HasSuffix(rname, ".waitForTaskToken") {
		r.token = r.ex.newTaskToken()
	}
	if r.jsonata() {
		eff = r.input
		if st.params != nil {
			if eff, err = st.params.eval(r.env(r.input, "Arguments", "")); err != nil {
				return nil, err
			}
		}
	} else {
		if eff, err = r.applyInputPath(r.input); err != nil {
			return nil, err
		}
		if st.params != nil {
			if eff, err = st.params.eval(r.env(eff, "Parameters", ErrRuntime)); err != nil {
				return nil, err
			}
		}
	}
	if err := payloadCheck(eff, "effective input of state '"+st.name+"'"); err != nil {
		return nil, err
	}
	var result any
	switch st.typ {
	case TypeTask:
		result, err = r.task(ctx, eff)
	case TypeParallel:
		result, err = r.parallel(ctx, eff)
	case TypeMap:
		result, err = r.mapRun(ctx, eff)
	}
	if err != nil {
		return nil, err
	}
	if err := payloadCheck(result, "result of state '"+st.name+"'"); err != nil {
		return nil, err
	}
	var out any
	var assigned map[string]any
	if r.jsonata() {
		env := r.env(r.input, "Output", "")
		env.states["result"] = result
		if assigned, err = r.evalAssign(st.assign, env); err != nil {
			return nil, err
		}
		out = result
		if st.outputTmpl != nil {
			env.field = "Output"
			if out, err = st.outputTmpl.eval(env); err != nil {
				return nil, err
			}
		}
	} else {
		if st.resultSelector != nil {
			if result, err = st.resultSelector.eval(r.env(result, "ResultSelector", ErrRuntime)); err != nil {
				return nil, err
			}
		}
		if assigned, err = r.evalAssign(st.assign, r.env(result, "Assign", "")); err != nil {
			return nil, err
		}
		if out, err = applyResultPath(r.input, result, st.hasResultPath, st.resultPathNull, st.resultPath); err != nil {
			return nil, err
		}
		if out, err = r.applyOutputPath(out); err != nil {
			return nil, err
		}
	}
	outText, perr := payloadText(out, "output of state '"+st.name+"'")
	if perr != nil {
		return nil, perr
	}
	r.exit(out, outText, assigned)
	return out, nil
}

func (ex *execution) newTaskToken() string {
	if ex.opts.NewID != nil {
		return ex.opts.NewID()
	}
	return strings.ReplaceAll(uuid.NewString()+uuid.NewString(), "-", "")
}

func (ex *execution) newID() string {
	if ex.opts.NewID != nil {
		return ex.opts.NewID()
	}
	return uuid.NewString()
}

// task invokes the resource once, with timeouts and heartbeats, and
// writes the resource's history events.
func (r *stateRun) task(ctx context.Context, eff any) (any, *Error) {
	st := r.st
	ex := r.ex
	kind, rtype, rname, ok := classifyResource(st.resource)
	if !ok {
		return nil, errorf(ErrRuntime, "The resource '%s' is not supported", st.resource)
	}
	// The ...Path forms read the state input (AWS: "a path in the state input").
	env := r.env(r.input, "TimeoutSecondsPath", ErrRuntime)
	var timeout, heartbeat int64
	var err *Error
	if st.timeout != nil {
		if timeout, err = r.resolveNum(st.timeout, env); err != nil {
			return nil, err
		}
	}
	if st.heartbeat != nil {
		if heartbeat, err = r.resolveNum(st.heartbeat, env); err != nil {
			return nil, err
		}
	}
	params, encErr := encodeJSON(eff)
	if encErr != nil {
		return nil, errorf(ErrRuntime, "The task parameters cannot be encoded: %v", encErr)
	}
	var creds json.RawMessage
	roleArn := ""
	if st.credentials != nil {
		// Credentials read the state input (after InputPath), like Parameters.
		credIn := r.input
		if !r.jsonata() {
			if credIn, err = r.applyInputPath(r.input); err != nil {
				return nil, err
			}
		}
		c, err := st.credentials.eval(r.env(credIn, "Credentials", ErrRuntime))
		if err != nil {
			return nil, err
		}
		creds, _ = encodeJSON(c)
		if m, ok := c.(map[string]any); ok {
			if role, ok := m["RoleArn"].(string); ok {
				roleArn = role
			}
		}
	}
	optInt := func(n int64) *int64 {
		if n == 0 {
			return nil
		}
		return &n
	}
	switch kind {
	case kindService:
		r.th.emit("TaskScheduled", func(e *HistoryEvent) {
			d := &TaskScheduledEventDetails{ResourceType: rtype, Resource: rname, Region: ex.region, Parameters: string(params), TimeoutInSeconds: optInt(timeout), HeartbeatInSeconds: optInt(heartbeat)}
			if roleArn != "" {
				d.TaskCredentials = &TaskCredentials{RoleArn: roleArn}
			}
			e.TaskScheduledEventDetails = d
		})
		r.th.emit("TaskStarted", func(e *HistoryEvent) {
			e.TaskStartedEventDetails = &TaskStartedEventDetails{ResourceType: rtype, Resource: rname}
		})
	case kindLambda:
		r.th.emit("LambdaFunctionScheduled", func(e *HistoryEvent) {
			e.LambdaFunctionScheduledEventDetails = &LambdaFunctionScheduledEventDetails{Resource: st.resource, Input: string(params), InputDetails: notTruncated(), TimeoutInSeconds: optInt(timeout)}
		})
		r.th.emit("LambdaFunctionStarted", nil)
	case kindActivity:
		r.th.emit("ActivityScheduled", func(e *HistoryEvent) {
			e.ActivityScheduledEventDetails = &ActivityScheduledEventDetails{Resource: st.resource, Input: string(params), InputDetails: notTruncated(), TimeoutInSeconds: optInt(timeout), HeartbeatInSeconds: optInt(heartbeat)}
		})
	}
	// Late callbacks (after a timeout) must not write events.
	var cbMu sync.Mutex
	finished, activityStarted, submitted := false, false, false
	startActivity := func(worker string) {
		cbMu.Lock()
		defer cbMu.Unlock()
		if finished || activityStarted || kind != kindActivity {
			return
		}
		activityStarted = true
		r.th.emit("ActivityStarted", func(e *HistoryEvent) {
			e.ActivityStartedEventDetails = &ActivityStartedEventDetails{WorkerName: worker}
		})
	}
	submit := func(out json.RawMessage) {
		cbMu.Lock()
		defer cbMu.Unlock()
		if finished || submitted || kind != kindService {
			return
		}
		submitted = true
		text := string(out)
		if v, err := decodeJSON(out); err == nil {
			text = mustJSON(v)
		}
		r.th.emit("TaskSubmitted", func(e *HistoryEvent) {
			e.TaskSubmittedEventDetails = &TaskOutputDetails{ResourceType: rtype, Resource: rname, Output: text, OutputDetails: notTruncated()}
		})
	}
	finish := func() {
		if kind == kindActivity {
			startActivity("")
		}
		cbMu.Lock()
		finished = true
		cbMu.Unlock()
	}
	fail := func(typ string, e *Error) *Error {
		finish()
		switch kind {
		case kindService:
			r.th.emit("Task"+typ, func(h *HistoryEvent) {
				d := &TaskErrorDetails{ResourceType: rtype, Resource: rname, Error: e.Name, Cause: e.Cause}
				if typ == "Failed" {
					h.TaskFailedEventDetails = d
				} else {
					h.TaskTimedOutEventDetails = d
				}
			})
		case kindLambda:
			r.th.emit("LambdaFunction"+typ, func(h *HistoryEvent) {
				d := &ErrorDetails{Error: e.Name, Cause: e.Cause}
				if typ == "Failed" {
					h.LambdaFunctionFailedEventDetails = d
				} else {
					h.LambdaFunctionTimedOutEventDetails = d
				}
			})
		case kindActivity:
			r.th.emit("Activity"+typ, func(h *HistoryEvent) {
				d := &ErrorDetails{Error: e.Name, Cause: e.Cause}
				if typ == "Failed" {
					h.ActivityFailedEventDetails = d
				} else {
					h.ActivityTimedOutEventDetails = d
				}
			})
		}
		return e
	}
	if ex.opts.Invoker == nil {
		return nil, fail("Failed", errorf(ErrTaskFailed, "no task invoker is configured for resource %s", st.resource))
	}
	raw, ierr := r.invoke(ctx, &TaskRequest{
		Resource: st.resource, ResourceType: rtype, ResourceName: rname,
		Parameters: params, Credentials: creds, StateName: st.name,
		ExecutionArn: ex.opts.ExecutionArn, Region: ex.region, TaskToken: r.token,
		TimeoutSeconds: timeout, HeartbeatSeconds: heartbeat, Attempt: r.retries,
		Submitted: submit, ActivityStarted: startActivity,
	})
	if ierr != nil {
		if ierr == errAbort {
			finish()
			return nil, errAbort
		}
		typ := "Failed"
		if ierr.Name == ErrTimeout || ierr.Name == ErrHeartbeatTimeout {
			typ = "TimedOut"
		}
		return nil, fail(typ, ierr)
	}
	if len(raw) > MaxPayloadBytes {
		return nil, fail("Failed", errorf(ErrDataLimitExceeded, "The task result has %d bytes, more than the %d-byte limit", len(raw), MaxPayloadBytes))
	}
	if len(strings.TrimSpace(string(raw))) == 0 {
		raw = json.RawMessage("null")
	}
	result, derr := decodeJSON(raw)
	if derr != nil {
		return nil, fail("Failed", errorf(ErrTaskFailed, "The task result is not valid JSON: %v", derr))
	}
	outText := mustJSON(result)
	finish()
	switch kind {
	case kindService:
		r.th.emit("TaskSucceeded", func(e *HistoryEvent) {
			e.TaskSucceededEventDetails = &TaskOutputDetails{ResourceType: rtype, Resource: rname, Output: outText, OutputDetails: notTruncated()}
		})
	case kindLambda:
		r.th.emit("LambdaFunctionSucceeded", func(e *HistoryEvent) {
			e.LambdaFunctionSucceededEventDetails = &OutputDetails{Output: outText, OutputDetails: notTruncated()}
		})
	case kindActivity:
		r.th.emit("ActivitySucceeded", func(e *HistoryEvent) {
			e.ActivitySucceededEventDetails = &OutputDetails{Output: outText, OutputDetails: notTruncated()}
		})
	}
	return result, nil
}

// invoke calls the invoker, enforcing TimeoutSeconds and HeartbeatSeconds.
func (r *stateRun) invoke(ctx context.Context, req *TaskRequest) (json.RawMessage, *Error) {
	ictx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		raw json.RawMessage
		err error
	}
	done := make(chan result, 1)
	beats := make(chan struct{}, 1)
	req.Heartbeat = func() {
		select {
		case beats <- struct{}{}:
		default:
		}
	}
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- result{err: &Error{Name: ErrTaskFailed, Cause: fmt.Sprintf("the task invoker panicked: %v", p)}}
			}
		}()
		raw, err := r.ex.opts.Invoker.Invoke(ictx, req)
		done <- result{raw, err}
	}()
	timeoutC := make(chan struct{})
	if req.TimeoutSeconds > 0 {
		go func() {
			if sleepTimeout(ictx, r.ex.clock, time.Duration(req.TimeoutSeconds)*time.Second) == nil {
				close(timeoutC)
			}
		}()
	}
	hbC := make(chan struct{})
	if req.HeartbeatSeconds > 0 {
		go func() {
			for {
				hctx, hcancel := context.WithCancel(ictx)
				fired := make(chan error, 1)
				go func() { fired <- sleepTimeout(hctx, r.ex.clock, time.Duration(req.HeartbeatSeconds)*time.Second) }()
				select {
				case <-beats:
					hcancel()
					<-fired
					continue
				case err := <-fired:
					hcancel()
					if err == nil {
						close(hbC)
					}
					return
				}
			}
		}()
	}
	select {
	case res := <-done:
		if res.err != nil {
			if ctx.Err() != nil {
				return nil, errAbort
			}
			return nil, asError(res.err, true)
		}
		return res.raw, nil
	case <-timeoutC:
		return nil, &Error{Name: ErrTimeout, Cause: fmt.Sprintf("The task did not complete within its TimeoutSeconds of %d", req.TimeoutSeconds)}
	case <-hbC:
		return nil, &Error{Name: ErrHeartbeatTimeout, Cause: fmt.Sprintf("The task sent no heartbeat within its HeartbeatSeconds of %d", req.HeartbeatSeconds)}
	case <-ctx.Done():
		return nil, errAbort
	}
}
