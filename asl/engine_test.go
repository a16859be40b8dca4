package asl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestChoiceComparisons(t *testing.T) {
	n := func(s string) any { return json.Number(s) }
	cases := []struct {
		op   string
		v, o any
		want bool
	}{
		{"StringEquals", "a", "a", true},
		{"StringEquals", "a", "b", false},
		{"StringEquals", n("1"), "1", false}, // type mismatch never matches
		{"StringLessThan", "a", "b", true},
		{"StringGreaterThan", "b", "a", true},
		{"StringLessThanEquals", "a", "a", true},
		{"StringGreaterThanEquals", "a", "b", false},
		{"NumericEquals", n("1"), n("1.0"), true},
		{"NumericEquals", n("123456789012345678901"), n("123456789012345678902"), false},
		{"NumericLessThan", n("1"), n("2"), true},
		{"NumericGreaterThan", n("-1"), n("2"), false},
		{"NumericLessThanEquals", n("2"), n("2"), true},
		{"NumericGreaterThanEquals", n("2.5"), n("2"), true},
		{"NumericEquals", "1", n("1"), false},
		{"BooleanEquals", true, true, true},
		{"BooleanEquals", "true", true, false},
		{"TimestampEquals", "2026-01-01T00:00:00Z", "2026-01-01T01:00:00+01:00", true},
		{"TimestampLessThan", "2026-01-01T00:00:00Z", "2026-01-01T00:00:01Z", true},
		{"TimestampGreaterThan", "2026-01-01T00:00:00Z", "2025-12-31T23:59:59Z", true},
		{"TimestampLessThanEquals", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z", true},
		{"TimestampGreaterThanEquals", "not a time", "2026-01-01T00:00:00Z", false},
		{"IsNull", nil, true, true},
		{"IsNull", n("0"), true, false},
		{"IsNull", n("0"), false, true},
		{"IsNumeric", n("3"), true, true},
		{"IsNumeric", "3", true, false},
		{"IsString", "3", true, true},
		{"IsBoolean", false, true, true},
		{"IsTimestamp", "2026-01-01T00:00:00Z", true, true},
		{"IsTimestamp", "2026-01-01", true, false},
		{"IsTimestamp", "2026-01-01t00:00:00z", true, false},
		{"StringMatches", "log-2026.txt", "log-*.txt", true},
		{"StringMatches", "log.txt", "log-*.txt", false},
		{"StringMatches", "a*b", `a\*b`, true},
		{"StringMatches", "axb", `a\*b`, false},
		{"StringMatches", `a\b`, `a\\b`, true},
		{"StringMatches", "anything", "*", true},
		{"StringMatches", "", "*", true},
		{"StringMatches", "abcabd", "*abd", true},
		{"StringMatches", "xyz", "x*y*z*", true},
	}
	for _, c := range cases {
		if got := compare(c.op, c.v, c.o); got != c.want {
			t.Errorf("%s(%v, %v) = %v, want %v", c.op, c.v, c.o, got, c.want)
		}
	}
}

// Every comparison operator and its ...Path form through a real Choice
// state.
func TestChoiceOperatorsInDefinitions(t *testing.T) {
	input := `{"s":"b","n":5,"b":true,"t":"2026-01-01T00:00:00Z","z":null,
		"os":"b","on":5,"ob":true,"ot":"2026-01-01T00:00:00Z","lo":"a","hi":"c","nlo":1,"nhi":9,"tlo":"2025-01-01T00:00:00Z","thi":"2027-01-01T00:00:00Z"}`
	ops := []struct{ rule string }{
		{`"Variable":"$.s","StringEquals":"b"`}, {`"Variable":"$.s","StringEqualsPath":"$.os"`},
		{`"Variable":"$.s","StringLessThan":"c"`}, {`"Variable":"$.s","StringLessThanPath":"$.hi"`},
		{`"Variable":"$.s","StringGreaterThan":"a"`}, {`"Variable":"$.s","StringGreaterThanPath":"$.lo"`},
		{`"Variable":"$.s","StringLessThanEquals":"b"`}, {`"Variable":"$.s","StringLessThanEqualsPath":"$.os"`},
		{`"Variable":"$.s","StringGreaterThanEquals":"b"`}, {`"Variable":"$.s","StringGreaterThanEqualsPath":"$.os"`},
		{`"Variable":"$.s","StringMatches":"*"`},
		{`"Variable":"$.n","NumericEquals":5`}, {`"Variable":"$.n","NumericEqualsPath":"$.on"`},
		{`"Variable":"$.n","NumericLessThan":6`}, {`"Variable":"$.n","NumericLessThanPath":"$.nhi"`},
		{`"Variable":"$.n","NumericGreaterThan":4`}, {`"Variable":"$.n","NumericGreaterThanPath":"$.nlo"`},
		{`"Variable":"$.n","NumericLessThanEquals":5`}, {`"Variable":"$.n","NumericLessThanEqualsPath":"$.on"`},
		{`"Variable":"$.n","NumericGreaterThanEquals":5`}, {`"Variable":"$.n","NumericGreaterThanEqualsPath":"$.on"`},
		{`"Variable":"$.b","BooleanEquals":true`}, {`"Variable":"$.b","BooleanEqualsPath":"$.ob"`},
		{`"Variable":"$.t","TimestampEquals":"2026-01-01T00:00:00Z"`}, {`"Variable":"$.t","TimestampEqualsPath":"$.ot"`},
		{`"Variable":"$.t","TimestampLessThan":"2027-01-01T00:00:00Z"`}, {`"Variable":"$.t","TimestampLessThanPath":"$.thi"`},
		{`"Variable":"$.t","TimestampGreaterThan":"2025-01-01T00:00:00Z"`}, {`"Variable":"$.t","TimestampGreaterThanPath":"$.tlo"`},
		{`"Variable":"$.t","TimestampLessThanEquals":"2026-01-01T00:00:00Z"`}, {`"Variable":"$.t","TimestampLessThanEqualsPath":"$.ot"`},
		{`"Variable":"$.t","TimestampGreaterThanEquals":"2026-01-01T00:00:00Z"`}, {`"Variable":"$.t","TimestampGreaterThanEqualsPath":"$.ot"`},
		{`"Variable":"$.z","IsNull":true`}, {`"Variable":"$.s","IsPresent":true`}, {`"Variable":"$.nope","IsPresent":false`},
		{`"Variable":"$.n","IsNumeric":true`}, {`"Variable":"$.s","IsString":true`}, {`"Variable":"$.b","IsBoolean":true`},
		{`"Variable":"$.t","IsTimestamp":true`},
	}
	for _, o := range ops {
		def := `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{` + o.rule + `,"Next":"Yes"}],"Default":"No"},"Yes":{"Type":"Pass","Result":"yes","End":true},"No":{"Type":"Pass","Result":"no","End":true}}}`
		res := run(t, def, input, nil)
		if res.Status != StatusSucceeded || string(res.Output) != `"yes"` {
			t.Errorf("rule {%s}: %s %s %s %s", o.rule, res.Status, res.Output, res.Error, res.Cause)
		}
	}
}

func TestRetryBackoffMaxDelayAndJitter(t *testing.T) {
	def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"f"},"End":true,
		"Retry":[{"ErrorEquals":["E"],"IntervalSeconds":2,"MaxAttempts":4,"BackoffRate":3,"MaxDelaySeconds":10}]}}}`
	inv := &scriptInvoker{script: map[string][]scripted{"f": {{Error: "E"}}}}
	sm := mustParse(t, def)
	clock := newFakeClock()
	res := sm.Execute(context.Background(), testOptions(inv, clock, nil))
	expectFailure(t, res, "E")
	want := []time.Duration{2 * time.Second, 6 * time.Second, 10 * time.Second, 10 * time.Second}
	if got := clock.sleeps(); !reflect.DeepEqual(got, want) {
		t.Errorf("sleeps %v, want %v", got, want)
	}
	if len(inv.calls) != 5 {
		t.Errorf("%d attempts, want 5", len(inv.calls))
	}
	for i, c := range inv.calls {
		if c.Attempt != i {
			t.Errorf("call %d has Attempt %d", i, c.Attempt)
		}
	}

	jdef := strings.Replace(def, `"MaxDelaySeconds":10`, `"JitterStrategy":"FULL"`, 1)
	clock = newFakeClock()
	res = mustParse(t, jdef).Execute(context.Background(), testOptions(&scriptInvoker{script: map[string][]scripted{"f": {{Error: "E"}}}}, clock, nil))
	expectFailure(t, res, "E")
	for i, d := range clock.sleeps() {
		max := time.Duration(2*pow(3, i)) * time.Second
		if d < 0 || d > max {
			t.Errorf("jittered sleep %d = %v, outside [0, %v]", i, d, max)
		}
	}
}

func pow(b, e int) int {
	r := 1
	for range e {
		r *= b
	}
	return r
}

func TestRetryCountInContext(t *testing.T) {
	def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"f","Payload":{"retry.$":"$$.State.RetryCount"}},"OutputPath":"$.Payload","End":true,
		"Retry":[{"ErrorEquals":["States.ALL"],"MaxAttempts":2}]}}}`
	inv := &scriptInvoker{script: map[string][]scripted{"f": {{Error: "E"}, {Error: "E"}, {Echo: true}}}}
	expectOutput(t, run(t, def, `{}`, inv), `{"retry":2}`)
}

func TestStatesAllDoesNotCatchTerminalErrors(t *testing.T) {
	big := strings.Repeat("x", MaxPayloadBytes)
	def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:s3:getObject","Parameters":{"Bucket":"b"},"End":true,
		"Retry":[{"ErrorEquals":["States.ALL"]}],
		"Catch":[{"ErrorEquals":["States.ALL"],"Next":"Caught"}]},"Caught":{"Type":"Succeed"}}}`
	inv := &scriptInvoker{script: map[string][]scripted{"*": {{Result: json.RawMessage(`{"Body":"` + big + `"}`)}}}}
	res := run(t, def, `{}`, inv)
	expectFailure(t, res, ErrDataLimitExceeded)
	if len(inv.calls) != 1 {
		t.Errorf("States.DataLimitExceeded was retried: %d calls", len(inv.calls))
	}
	// The exact name does catch it.
	def2 := strings.Replace(def, `"Catch":[{"ErrorEquals":["States.ALL"]`, `"Catch":[{"ErrorEquals":["States.DataLimitExceeded"]`, 1)
	res = run(t, def2, `{}`, &scriptInvoker{script: map[string][]scripted{"*": {{Result: json.RawMessage(`{"Body":"` + big + `"}`)}}}})
	if res.Status != StatusSucceeded {
		t.Errorf("explicit States.DataLimitExceeded catcher: %s %s", res.Status, res.Error)
	}
	// States.Runtime (a bad OutputPath) is not caught by States.ALL.
	res = run(t, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:s3:getObject","OutputPath":"$.missing","End":true,
		"Catch":[{"ErrorEquals":["States.ALL"],"Next":"Caught"}]},"Caught":{"Type":"Succeed"}}}`, `{}`, &scriptInvoker{script: map[string][]scripted{"*": {{Result: json.RawMessage(`{}`)}}}})
	expectFailure(t, res, ErrRuntime)
}

func TestTaskFailedWildcard(t *testing.T) {
	cases := []struct {
		err  string
		want bool
	}{
		{"Custom", true}, {ErrTaskFailed, true}, {ErrTimeout, false}, {ErrRuntime, false},
		{ErrDataLimitExceeded, false}, {ErrHeartbeatTimeout, true}, {ErrParameterPathFailure, true},
	}
	for _, c := range cases {
		if got := errorMatches([]string{ErrTaskFailed}, &Error{Name: c.err}); got != c.want {
			t.Errorf("States.TaskFailed vs %s = %v, want %v", c.err, got, c.want)
		}
	}
	if !errorMatches([]string{ErrAll}, &Error{Name: ErrTimeout}) {
		t.Error("States.ALL must match States.Timeout")
	}
	if !errorMatches([]string{ErrRuntime}, &Error{Name: ErrRuntime}) {
		t.Error("an exact States.Runtime must match")
	}
}

// blockingInvoker blocks until its context ends, recording heartbeats.
type blockingInvoker struct {
	beats    int
	interval time.Duration
}

func (b *blockingInvoker) Invoke(ctx context.Context, t *TaskRequest) (json.RawMessage, error) {
	if b.beats > 0 {
		for range b.beats {
			select {
			case <-time.After(b.interval):
				t.Heartbeat()
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		return json.RawMessage(`"done"`), nil
	}
	<-ctx.Done()
	return nil, ctx.Err()
}

func TestTaskTimeoutAndHeartbeat(t *testing.T) {
	clock := NewScaledClock(0.2) // 1 s of workflow time = 200 ms
	opts := func(inv TaskInvoker) ExecutionOptions {
		o := testOptions(inv, clock, nil)
		return o
	}
	def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"f"},"TimeoutSeconds":2,"End":true}}}`
	res := mustParse(t, def).Execute(context.Background(), opts(&blockingInvoker{}))
	expectFailure(t, res, ErrTimeout)
	if got := eventTypes(res.History); got[len(got)-2] != "TaskTimedOut" {
		t.Errorf("events %v", got)
	}
	// TimeoutSecondsPath and catching States.Timeout.
	def = `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"f"},"TimeoutSecondsPath":"$.t","End":true,
		"Catch":[{"ErrorEquals":["States.Timeout"],"Next":"C"}]},"C":{"Type":"Pass","End":true}}}`
	o := opts(&blockingInvoker{})
	o.Input = json.RawMessage(`{"t":1}`)
	res = mustParse(t, def).Execute(context.Background(), o)
	if res.Status != StatusSucceeded || !strings.Contains(string(res.Output), "States.Timeout") {
		t.Errorf("caught timeout: %s %s", res.Status, res.Output)
	}
	// Missing heartbeats.
	def = `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken","Parameters":{"FunctionName":"f","Token.$":"$$.Task.Token"},"HeartbeatSeconds":1,"TimeoutSeconds":100,"End":true}}}`
	res = mustParse(t, def).Execute(context.Background(), opts(&blockingInvoker{}))
	expectFailure(t, res, ErrHeartbeatTimeout)
	// Heartbeats in time keep the task alive (5 beats, 5 ms apart, against
	// a 200 ms heartbeat limit).
	res = mustParse(t, def).Execute(context.Background(), opts(&blockingInvoker{beats: 50, interval: 5 * time.Millisecond}))
	expectOutput(t, res, `"done"`)
}

func TestWaitForTaskTokenPassesToken(t *testing.T) {
	def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken","Parameters":{"QueueUrl":"q","MessageBody":{"token.$":"$$.Task.Token"}},"End":true}}}`
	var got *TaskRequest
	inv := TaskInvokerFunc(func(ctx context.Context, r *TaskRequest) (json.RawMessage, error) {
		got = r
		return json.RawMessage(`{"ok":true}`), nil
	})
	res := run(t, def, `{}`, inv)
	expectOutput(t, res, `{"ok":true}`)
	if got.TaskToken == "" || !strings.Contains(string(got.Parameters), got.TaskToken) {
		t.Errorf("token %q not in parameters %s", got.TaskToken, got.Parameters)
	}
	if got.ResourceType != "sqs" || got.ResourceName != "sendMessage.waitForTaskToken" {
		t.Errorf("resource %q %q", got.ResourceType, got.ResourceName)
	}
	sched := res.History[2].TaskScheduledEventDetails
	if sched == nil || sched.ResourceType != "sqs" || sched.Resource != "sendMessage.waitForTaskToken" || sched.Region != "us-east-1" {
		t.Errorf("TaskScheduled %+v", sched)
	}
}

func TestAbortOnContextCancel(t *testing.T) {
	def := `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":3600,"End":true}}}`
	ctx, cancel := context.WithCancel(context.Background())
	o := testOptions(nil, NewScaledClock(1), nil)
	o.OnEvent = func(e HistoryEvent) {
		if e.Type == "WaitStateEntered" {
			cancel()
		}
	}
	res := mustParse(t, def).Execute(ctx, o)
	if res.Status != StatusAborted {
		t.Fatalf("status %s", res.Status)
	}
	if got := eventTypes(res.History); strings.Join(got, ",") != "ExecutionStarted,WaitStateEntered,WaitStateAborted,ExecutionAborted" {
		t.Errorf("events %v", got)
	}
	// StopExecution's error and cause, through the context's cause.
	cctx, ccancel := context.WithCancelCause(context.Background())
	o = testOptions(nil, NewScaledClock(1), nil)
	o.OnEvent = func(e HistoryEvent) {
		if e.Type == "WaitStateEntered" {
			ccancel(&Error{Name: "UserStopped", Cause: "by operator"})
		}
	}
	res = mustParse(t, def).Execute(cctx, o)
	if d := res.History[len(res.History)-1].ExecutionAbortedEventDetails; res.Status != StatusAborted || d == nil || d.Error != "UserStopped" || d.Cause != "by operator" || res.Error != "UserStopped" {
		t.Errorf("stop with cause: %s %+v", res.Status, d)
	}
	// A running task is aborted too.
	ctx, cancel = context.WithCancel(context.Background())
	o = testOptions(&blockingInvoker{}, NewScaledClock(1), nil)
	o.OnEvent = func(e HistoryEvent) {
		if e.Type == "TaskStarted" {
			cancel()
		}
	}
	res = mustParse(t, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"f"},"End":true}}}`).Execute(ctx, o)
	if got := eventTypes(res.History); res.Status != StatusAborted || strings.Join(got, ",") != "ExecutionStarted,TaskStateEntered,TaskScheduled,TaskStarted,TaskStateAborted,ExecutionAborted" {
		t.Errorf("%s events %v", res.Status, got)
	}
}

func TestExecutionTimeout(t *testing.T) {
	def := `{"TimeoutSeconds":1,"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":3600,"End":true}}}`
	res := mustParse(t, def).Execute(context.Background(), testOptions(nil, NewScaledClock(0.01), nil))
	if res.Status != StatusTimedOut || res.Error != ErrTimeout {
		t.Fatalf("status %s %s", res.Status, res.Error)
	}
	if last := res.History[len(res.History)-1].Type; last != "ExecutionTimedOut" {
		t.Errorf("last event %s", last)
	}
}

func TestOnEventOrderAndIDs(t *testing.T) {
	sm := loadDef(t, "console-exported-state-machine.json")
	var seen []HistoryEvent
	o := testOptions(&scriptInvoker{script: referenceScript(true)}, newFakeClock(), json.RawMessage(`{"s3_bucket":"b","s3_key":"k"}`))
	o.OnEvent = func(e HistoryEvent) { seen = append(seen, e) }
	res := sm.Execute(context.Background(), o)
	if !reflect.DeepEqual(seen, res.History) {
		t.Error("OnEvent saw a different sequence than History")
	}
	for i, e := range res.History {
		if e.ID != int64(i+1) || e.PreviousEventID != int64(i) {
			t.Errorf("event %d: id %d previous %d", i, e.ID, e.PreviousEventID)
		}
	}
}

func TestHistoryEventJSONShape(t *testing.T) {
	ev := HistoryEvent{Timestamp: Timestamp(time.UnixMilli(1700000000123)), Type: "TaskScheduled", ID: 3, PreviousEventID: 2,
		TaskScheduledEventDetails: &TaskScheduledEventDetails{ResourceType: "lambda", Resource: "invoke", Region: "us-east-1", Parameters: "{}"}}
	b, _ := json.Marshal(ev)
	want := `{"timestamp":1700000000.123,"type":"TaskScheduled","id":3,"previousEventId":2,"taskScheduledEventDetails":{"resourceType":"lambda","resource":"invoke","region":"us-east-1","parameters":"{}"}}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	var back HistoryEvent
	if err := json.Unmarshal(b, &back); err != nil || !time.Time(back.Timestamp).Equal(time.UnixMilli(1700000000123)) {
		t.Errorf("round trip: %v %v", err, time.Time(back.Timestamp))
	}
}

func TestInvokerErrorsBecomeTaskFailed(t *testing.T) {
	def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"f"},"End":true}}}`
	res := run(t, def, `{}`, TaskInvokerFunc(func(context.Context, *TaskRequest) (json.RawMessage, error) {
		return nil, fmt.Errorf("connection refused: %w", errors.New("dial"))
	}))
	expectFailure(t, res, ErrTaskFailed)
	res = run(t, def, `{}`, TaskInvokerFunc(func(context.Context, *TaskRequest) (json.RawMessage, error) {
		panic("invoker bug")
	}))
	expectFailure(t, res, ErrTaskFailed)
	res = run(t, def, `{}`, TaskInvokerFunc(func(context.Context, *TaskRequest) (json.RawMessage, error) {
		return json.RawMessage(`{not json`), nil
	}))
	expectFailure(t, res, ErrTaskFailed)
	res = run(t, def, `{}`, nil)
	expectFailure(t, res, ErrTaskFailed)
}

func TestBadExecutionInput(t *testing.T) {
	res := run(t, `{"StartAt":"A","States":{"A":{"Type":"Succeed"}}}`, `{"a":`, nil)
	expectFailure(t, res, ErrRuntime)
	res = run(t, `{"StartAt":"A","States":{"A":{"Type":"Succeed"}}}`, `"`+strings.Repeat("x", MaxPayloadBytes)+`"`, nil)
	expectFailure(t, res, ErrDataLimitExceeded)
	res = run(t, `{"StartAt":"A","States":{"A":{"Type":"Succeed"}}}`, ``, nil)
	expectOutput(t, res, `{}`)
}

// Concurrent branches and iterations (no Sequential) under -race.
func TestConcurrentParallelAndMap(t *testing.T) {
	def := `{"StartAt":"P","States":{"P":{"Type":"Parallel","Next":"M","Branches":[
		{"StartAt":"T1","States":{"T1":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"f","Payload":1},"OutputPath":"$.Payload","End":true}}},
		{"StartAt":"T2","States":{"T2":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"f","Payload":2},"OutputPath":"$.Payload","End":true}}}]},
		"M":{"Type":"Map","MaxConcurrency":3,"ItemProcessor":{"StartAt":"T3","States":{"T3":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"f","Payload.$":"$"},"OutputPath":"$.Payload","End":true}}},"End":true}}}`
	var calls atomic.Int64
	var inflight, peak atomic.Int64
	inv := TaskInvokerFunc(func(ctx context.Context, r *TaskRequest) (json.RawMessage, error) {
		calls.Add(1)
		n := inflight.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(30 * time.Millisecond)
		inflight.Add(-1)
		var p struct{ Payload any }
		_ = json.Unmarshal(r.Parameters, &p)
		return lambdaInvokeResponse(p.Payload), nil
	})
	sm := mustParse(t, def)
	o := testOptions(inv, NewScaledClock(0), nil)
	o.Sequential = false
	var mu sync.Mutex
	var ids []int64
	o.OnEvent = func(e HistoryEvent) { mu.Lock(); ids = append(ids, e.ID); mu.Unlock() }
	res := sm.Execute(context.Background(), o)
	expectOutput(t, res, `[1,2]`)
	if calls.Load() != 4 {
		t.Errorf("%d calls", calls.Load())
	}
	if peak.Load() < 2 {
		t.Errorf("peak concurrency %d: branches did not run concurrently", peak.Load())
	}
	for i, id := range ids {
		if id != int64(i+1) {
			t.Fatalf("event ids out of order: %v", ids)
		}
	}
}

func TestScaledClock(t *testing.T) {
	c := NewScaledClock(0)
	before := c.Now()
	start := time.Now()
	if err := c.Sleep(context.Background(), time.Hour); err != nil {
		t.Fatal(err)
	}
	if time.Since(start) > 100*time.Millisecond {
		t.Error("scale 0 slept")
	}
	if c.Now().Sub(before) < time.Hour {
		t.Error("a skipped sleep did not advance Now")
	}
	c = NewScaledClock(0.001)
	start = time.Now()
	_ = c.Sleep(context.Background(), 10*time.Second)
	if el := time.Since(start); el < 10*time.Millisecond || el > 5*time.Second {
		t.Errorf("scaled sleep took %v, want about 10ms", el)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := NewScaledClock(1).Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled sleep: %v", err)
	}
}

func TestJSONataExtensions(t *testing.T) {
	def := `{"QueryLanguage":"JSONata","StartAt":"P","States":{"P":{"Type":"Pass","Output":{
		"u":"{% $uuid() %}","r":"{% $random() %}","rs1":"{% $random(7) %}","rs2":"{% $random(7) %}"},"End":true}}}`
	res := run(t, def, `{}`, nil)
	if res.Status != StatusSucceeded {
		t.Fatalf("%s %s", res.Error, res.Cause)
	}
	var out struct {
		U        string
		R        float64
		Rs1, Rs2 float64
	}
	_ = json.Unmarshal(res.Output, &out)
	if len(out.U) != 36 || out.R < 0 || out.R >= 1 || out.Rs1 != out.Rs2 {
		t.Errorf("output %s", res.Output)
	}
	res = run(t, `{"QueryLanguage":"JSONata","StartAt":"P","States":{"P":{"Type":"Pass","Output":"{% $hash('x', 'CRC32') %}","End":true}}}`, `{}`, nil)
	expectFailure(t, res, ErrQueryEvaluationError)
}

// Assign values are visible to the next state, not to the same state's
// other fields; JSONata Assign and Output see the same $states.
func TestAssignVisibility(t *testing.T) {
	def := `{"QueryLanguage":"JSONata","StartAt":"A","States":{
		"A":{"Type":"Pass","Assign":{"x":1},"Next":"B"},
		"B":{"Type":"Pass","Assign":{"x":"{% $x + 1 %}"},"Output":{"seen":"{% $x %}"},"Next":"C"},
		"C":{"Type":"Pass","Output":{"prev":"{% $states.input.seen %}","now":"{% $x %}"},"End":true}}}`
	expectOutput(t, run(t, def, `{}`, nil), `{"prev":1,"now":2}`)
}

func TestLargeIntegersPreserved(t *testing.T) {
	def := `{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"id.$":"$.id","f.$":"$.f"},"End":true}}}`
	res := run(t, def, `{"id":12345678901234567890123,"f":1.50}`, nil)
	if string(res.Output) != `{"f":1.50,"id":12345678901234567890123}` {
		t.Errorf("output %s", res.Output)
	}
}
