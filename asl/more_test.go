package asl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
)

func TestNondeterministicIntrinsics(t *testing.T) {
	def := `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"id.$":"States.UUID()","r.$":"States.MathRandom(1, 3)","s1.$":"States.MathRandom(0, 1000, 42)","s2.$":"States.MathRandom(0, 1000, 42)"},"End":true}}}`
	res := run(t, def, `{}`, nil)
	if res.Status != StatusSucceeded {
		t.Fatalf("%s %s", res.Error, res.Cause)
	}
	var out struct {
		ID     string
		R      int
		S1, S2 int
	}
	if err := json.Unmarshal(res.Output, &out); err != nil {
		t.Fatal(err)
	}
	if len(out.ID) != 36 || out.R < 1 || out.R > 3 || out.S1 != out.S2 {
		t.Errorf("output %s", res.Output)
	}
}

type failingPutS3 struct{ *memS3 }

func (f failingPutS3) PutObject(context.Context, string, string, []byte, string) (string, error) {
	return "", errors.New("AccessDenied")
}

func TestResultWriterFailure(t *testing.T) {
	s3 := newMemS3()
	_, _ = s3.PutObject(context.Background(), "b", "i.json", []byte(`[1]`), "")
	def := `{"StartAt":"M","States":{"M":{"Type":"Map","ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"JSON"},"Parameters":{"Bucket":"b","Key":"i.json"}},
		"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},
		"ResultWriter":{"Resource":"arn:aws:states:::s3:putObject","Parameters":{"Bucket":"out","Prefix":"r"}},"End":true}}}`
	res := mustParse(t, def).Execute(context.Background(), distOpts(nil, failingPutS3{s3}, `{}`))
	expectFailure(t, res, ErrResultWriterFailed)
}

func TestMaxConcurrencyPath(t *testing.T) {
	def := `{"StartAt":"M","States":{"M":{"Type":"Map","MaxConcurrencyPath":"$.c","ItemsPath":"$.xs","ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}`
	sm := mustParse(t, def)
	o := testOptions(nil, NewScaledClock(0), json.RawMessage(`{"c":2,"xs":[1,2,3,4,5]}`))
	o.Sequential = false
	res := sm.Execute(context.Background(), o)
	expectOutput(t, res, `[1,2,3,4,5]`)
	res = run(t, def, `{"c":"two","xs":[1]}`, nil)
	expectFailure(t, res, ErrRuntime)
}

func TestPassOutputOverPayloadLimit(t *testing.T) {
	def := `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"a.$":"$.s","b.$":"$.s"},"End":true}}}`
	big := strings.Repeat("x", MaxPayloadBytes/2+10)
	res := run(t, def, `{"s":"`+big+`"}`, nil)
	expectFailure(t, res, ErrDataLimitExceeded)
}

func TestValidationErrorOnlyErrors(t *testing.T) {
	ve := &ValidationError{Diagnostics: []Diagnostic{
		{Severity: SeverityError, Code: CodeSchemaValidationFailed, Message: "m", Location: "/States/A"},
		{Severity: SeverityWarning, Code: "W", Message: "w"},
	}}
	if got := ve.Error(); got != "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: m at /States/A'" {
		t.Errorf("%s", got)
	}
	if len(ve.Errors()) != 1 {
		t.Error("Errors() must drop warnings")
	}
}

func TestNormalizeDots(t *testing.T) {
	cases := map[string]string{
		"$.a.b":                 "$.a.b",
		"$.detail.request-id":   "$.detail['request-id']",
		"$..x-y":                "$..['x-y']",
		"$.a[?(@.b-c > 1)].d-e": "$.a[?(@.b-c > 1)]['d-e']",
		"$.1abc":                "$['1abc']",
		"$.it's":                `$['it\'s']`,
		"$.*":                   "$.*",
	}
	for in, want := range cases {
		if got := normalizeDots(in); got != want {
			t.Errorf("normalizeDots(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSetPathDoesNotMutate(t *testing.T) {
	in, _ := decodeJSON([]byte(`{"a":{"b":1},"l":[1,2]}`))
	before := mustJSON(in)
	p, err := compileRefPath("$.a.c", false)
	if err != nil {
		t.Fatal(err)
	}
	out, err := setPath(in, p.ref, "x")
	if err != nil {
		t.Fatal(err)
	}
	if mustJSON(in) != before || mustJSON(out) != `{"a":{"b":1,"c":"x"},"l":[1,2]}` {
		t.Errorf("in %s out %s", mustJSON(in), mustJSON(out))
	}
	p, _ = compileRefPath("$.l[5]", false)
	if _, err := setPath(in, p.ref, 1); err == nil {
		t.Error("setting an index past the end must fail")
	}
}

func TestActivityAndSubmittedEvents(t *testing.T) {
	def := `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:states:us-east-1:123456789012:activity:review","TimeoutSeconds":60,"HeartbeatSeconds":10,"Next":"Q"},
		"Q":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken","Parameters":{"QueueUrl":"q","MessageBody.$":"$$.Task.Token"},"End":true}}}`
	inv := TaskInvokerFunc(func(ctx context.Context, r *TaskRequest) (json.RawMessage, error) {
		if strings.Contains(r.Resource, ":activity:") {
			r.ActivityStarted("worker-1")
			r.Submitted(json.RawMessage(`{"ignored":true}`)) // not a service integration: no event
			return json.RawMessage(`{"approved":true}`), nil
		}
		r.Submitted(json.RawMessage(`{"MessageId":"m-1"}`))
		r.Submitted(json.RawMessage(`{"MessageId":"again"}`)) // only once
		return json.RawMessage(`{"callback":"ok"}`), nil
	})
	res := run(t, def, `{}`, inv)
	expectOutput(t, res, `{"callback":"ok"}`)
	want := []string{"ExecutionStarted", "TaskStateEntered", "ActivityScheduled", "ActivityStarted", "ActivitySucceeded", "TaskStateExited",
		"TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSubmitted", "TaskSucceeded", "TaskStateExited", "ExecutionSucceeded"}
	if got := eventTypes(res.History); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("events %v", got)
	}
	if w := res.History[3].ActivityStartedEventDetails.WorkerName; w != "worker-1" {
		t.Errorf("worker %q", w)
	}
	sched := res.History[2].ActivityScheduledEventDetails
	if sched.Resource != "arn:aws:states:us-east-1:123456789012:activity:review" || *sched.TimeoutInSeconds != 60 || *sched.HeartbeatInSeconds != 10 {
		t.Errorf("ActivityScheduled %+v", sched)
	}
	if sub := res.History[9].TaskSubmittedEventDetails; sub.Output != `{"MessageId":"m-1"}` || sub.ResourceType != "sqs" {
		t.Errorf("TaskSubmitted %+v", sub)
	}
	// An activity invoker that never reports a worker still gets an
	// ActivityStarted event before the result.
	res = run(t, `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:states:us-east-1:123456789012:activity:review","End":true}}}`, `{}`,
		TaskInvokerFunc(func(context.Context, *TaskRequest) (json.RawMessage, error) { return nil, &Error{Name: "Rejected"} }))
	expectFailure(t, res, "Rejected")
	if got := eventTypes(res.History); strings.Join(got, ",") != "ExecutionStarted,TaskStateEntered,ActivityScheduled,ActivityStarted,ActivityFailed,ExecutionFailed" {
		t.Errorf("events %v", got)
	}
}

func TestValidate(t *testing.T) {
	if d := Validate([]byte(`{"StartAt":"A","States":{"A":{"Type":"Succeed"}}}`)); len(d) != 0 {
		t.Errorf("valid definition: %v", d)
	}
	d := Validate([]byte(`{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"}}}`))
	if len(d) != 1 || d[0].Code != CodeMissingTransitionTarget || d[0].Location != "/States/A/Next" || d[0].Severity != SeverityError {
		t.Errorf("diagnostics %+v", d)
	}
}

func TestJaywayPathFunctions(t *testing.T) {
	def := `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"n.$":"$.xs.length()","min.$":"$.xs.min()","max.$":"$.xs.max()","sum.$":"$.xs.sum()","avg.$":"$.xs.avg()","sd.$":"$.ys.stddev()","prices.$":"$.items[*].p.sum()"},"End":true}}}`
	res := run(t, def, `{"xs":[3,1,2],"ys":[2,4,4,4,5,5,7,9],"items":[{"p":1.5},{"p":2}]}`, nil)
	expectOutput(t, res, `{"n":3,"min":1,"max":3,"sum":6,"avg":2,"sd":2,"prices":3.5}`)
	res = run(t, `{"StartAt":"P","States":{"P":{"Type":"Pass","InputPath":"$.s.length()","End":true}}}`, `{"s":"text"}`, nil)
	expectFailure(t, res, ErrRuntime)
	res = run(t, `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.xs.length()","NumericGreaterThan":2,"Next":"Y"}],"Default":"N"},"Y":{"Type":"Succeed"},"N":{"Type":"Fail"}}}`, `{"xs":[1,2,3]}`, nil)
	if res.Status != StatusSucceeded {
		t.Errorf("choice on length(): %s", res.Status)
	}
}

func TestRunawayLoopStopsAtHistoryQuota(t *testing.T) {
	def := `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"C"},"C":{"Type":"Choice","Choices":[{"Variable":"$.stop","IsPresent":true,"Next":"D"}],"Default":"A"},"D":{"Type":"Succeed"}}}`
	res := run(t, def, `{}`, nil)
	expectFailure(t, res, ErrRuntime)
	if len(res.History) > MaxHistoryEvents {
		t.Errorf("%d events", len(res.History))
	}
}

func TestTaskCredentials(t *testing.T) {
	def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Credentials":{"RoleArn.$":"$.role"},"Parameters":{"FunctionName":"f"},"End":true}}}`
	var got *TaskRequest
	res := run(t, def, `{"role":"arn:aws:iam::111122223333:role/x"}`, TaskInvokerFunc(func(_ context.Context, r *TaskRequest) (json.RawMessage, error) {
		got = r
		return json.RawMessage(`{}`), nil
	}))
	expectOutput(t, res, `{}`)
	if string(got.Credentials) != `{"RoleArn":"arn:aws:iam::111122223333:role/x"}` {
		t.Errorf("credentials %s", got.Credentials)
	}
	if tc := res.History[2].TaskScheduledEventDetails.TaskCredentials; tc == nil || tc.RoleArn != "arn:aws:iam::111122223333:role/x" {
		t.Errorf("taskCredentials %+v", tc)
	}
}

func TestEngineErrorsAnnotatedAndEvaluationFailed(t *testing.T) {
	def := `{"QueryLanguage":"JSONata","StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
		"Arguments":{"FunctionName":"f","Payload":{"v":"{% $states.input.missing %}"}},
		"Retry":[{"ErrorEquals":["States.QueryEvaluationError"],"MaxAttempts":1}],
		"Catch":[{"ErrorEquals":["States.ALL"],"Output":"{% $states.errorOutput %}","Next":"D"}],"End":true},"D":{"Type":"Succeed"}}}`
	res := run(t, def, `{}`, nil)
	if res.Status != StatusSucceeded {
		t.Fatalf("%s %s", res.Error, res.Cause)
	}
	want := "ExecutionStarted,TaskStateEntered,EvaluationFailed,EvaluationFailed,SucceedStateEntered,SucceedStateExited,ExecutionSucceeded"
	if got := strings.Join(eventTypes(res.History), ","); got != want {
		t.Fatalf("events %s", got)
	}
	ev := res.History[2].EvaluationFailedEventDetails
	if ev.Location != "Arguments/Payload/v" || ev.State != "T" || ev.Error != ErrQueryEvaluationError ||
		!strings.HasPrefix(ev.Cause, "An error occurred while executing the state 'T' (entered at the event id #2). ") {
		t.Errorf("EvaluationFailed %+v", ev)
	}
	var out struct{ Error, Cause string }
	_ = json.Unmarshal(res.Output, &out)
	if out.Error != ErrQueryEvaluationError || strings.Count(out.Cause, "An error occurred while executing") != 1 {
		t.Errorf("error output %s", res.Output)
	}
	// Task failures keep the invoker's cause as is.
	res = run(t, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"f"},"End":true}}}`, `{}`,
		&scriptInvoker{script: map[string][]scripted{"f": {{Error: "E", Cause: "raw"}}}})
	if res.Cause != "raw" {
		t.Errorf("cause %q", res.Cause)
	}
	// A failure inside a Parallel branch is annotated once, at its state.
	res = run(t, `{"StartAt":"P","States":{"P":{"Type":"Parallel","End":true,"Branches":[{"StartAt":"X","States":{"X":{"Type":"Pass","InputPath":"$.nope","End":true}}}]}}}`, `{}`, nil)
	if strings.Count(res.Cause, "An error occurred while executing the state") != 1 || !strings.Contains(res.Cause, "state 'X' (entered at the event id #4)") {
		t.Errorf("cause %q", res.Cause)
	}
}

func TestCorpusParallelActivityRuns(t *testing.T) {
	sm := loadDef(t, "parallel-activity.asl.json")
	var puts atomic.Int64
	inv := TaskInvokerFunc(func(_ context.Context, r *TaskRequest) (json.RawMessage, error) {
		if r.ResourceType == "dynamodb" {
			puts.Add(1)
			if !strings.Contains(string(r.Parameters), `"pk":{"S":"`) {
				return nil, &Error{Name: "BadItem", Cause: string(r.Parameters)}
			}
			return json.RawMessage(`{"SdkHttpMetadata":{"HttpStatusCode":200}}`), nil
		}
		if r.HeartbeatSeconds != 30 || r.TimeoutSeconds != 90 {
			return nil, &Error{Name: "BadTimeouts", Cause: fmt.Sprint(r.HeartbeatSeconds, r.TimeoutSeconds)}
		}
		return json.RawMessage(`{"approved":true}`), nil
	})
	res := sm.Execute(context.Background(), testOptions(inv, newFakeClock(), json.RawMessage(`{"timeout":90}`)))
	if res.Status != StatusSucceeded {
		t.Fatalf("%s %s %s", res.Status, res.Error, res.Cause)
	}
	if puts.Load() != 5 {
		t.Errorf("%d puts", puts.Load())
	}
	// The Parallel output feeds Report/Done; the ResultSelector shaped it.
	var exited *StateExitedEventDetails
	for _, e := range res.History {
		if e.Type == "ParallelStateExited" {
			exited = e.StateExitedEventDetails
		}
	}
	if exited == nil || exited.Output != `{"count":5,"review":{"approved":true}}` {
		t.Errorf("Parallel output %+v", exited)
	}
}

func TestCorpusJSONataOrderRuns(t *testing.T) {
	sm := loadDef(t, "jsonata-order.asl.json")
	var token string
	inv := TaskInvokerFunc(func(_ context.Context, r *TaskRequest) (json.RawMessage, error) {
		switch r.ResourceType {
		case "lambda":
			return lambdaInvokeResponse(map[string]any{"available": 5}), nil
		case "sqs":
			token = r.TaskToken
			var p struct {
				MessageBody struct{ OrderID, Token string }
			}
			_ = json.Unmarshal(r.Parameters, &p)
			if p.MessageBody.Token != r.TaskToken || p.MessageBody.OrderID != "o-1" {
				return nil, &Error{Name: "BadMessage", Cause: string(r.Parameters)}
			}
			return json.RawMessage(`{}`), nil
		}
		return nil, &Error{Name: "Unexpected"}
	})
	res := sm.Execute(context.Background(), testOptions(inv, newFakeClock(), json.RawMessage(`{"order":{"id":"o-1","sku":"s","qty":2}}`)))
	expectOutput(t, res, `{"id":"o-1","sku":"s","qty":2,"shipped":true}`)
	if token == "" {
		t.Error("no task token")
	}
}

func TestStateMachineAccessors(t *testing.T) {
	sm := mustParse(t, `{"Comment":"c","TimeoutSeconds":5,"StartAt":"B","States":{"B":{"Type":"Pass","Next":"A"},"A":{"Type":"Succeed"}}}`)
	if sm.StartAt() != "B" || strings.Join(sm.StateNames(), ",") != "A,B" || sm.Comment != "c" || sm.TimeoutSeconds != 5 || sm.QueryLanguage != LangJSONPath {
		t.Errorf("%q %v %q %d %s", sm.StartAt(), sm.StateNames(), sm.Comment, sm.TimeoutSeconds, sm.QueryLanguage)
	}
}

func TestInputOutputPathsReadContextAndVariables(t *testing.T) {
	def := `{"StartAt":"A","States":{"A":{"Type":"Pass","Assign":{"cfg":{"x":1}},"Next":"B"},
		"B":{"Type":"Pass","InputPath":"$cfg","Next":"C"},
		"C":{"Type":"Pass","OutputPath":"$$.State","End":true}}}`
	res := run(t, def, `{}`, nil)
	if res.Status != StatusSucceeded || !strings.Contains(string(res.Output), `"Name":"C"`) {
		t.Fatalf("%s %s %s", res.Status, res.Output, res.Cause)
	}
	var b string
	for _, e := range res.History {
		if e.Type == "PassStateExited" && e.StateExitedEventDetails.Name == "B" {
			b = e.StateExitedEventDetails.Output
		}
	}
	if b != `{"x":1}` {
		t.Errorf("B output %s", b)
	}
}

func TestRuntimeFieldErrors(t *testing.T) {
	cases := []struct{ name, def, input, err string }{
		{"fail errorpath not string", `{"StartAt":"F","States":{"F":{"Type":"Fail","ErrorPath":"$.code"}}}`, `{"code":5}`, ErrRuntime},
		{"fail causepath missing", `{"StartAt":"F","States":{"F":{"Type":"Fail","CausePath":"$.nope"}}}`, `{}`, ErrRuntime},
		{"wait negative seconds", `{"StartAt":"W","States":{"W":{"Type":"Wait","SecondsPath":"$.s","End":true}}}`, `{"s":-1}`, ErrRuntime},
		{"wait seconds not integer", `{"StartAt":"W","States":{"W":{"Type":"Wait","SecondsPath":"$.s","End":true}}}`, `{"s":1.5}`, ErrRuntime},
		{"wait bad timestamp", `{"StartAt":"W","States":{"W":{"Type":"Wait","TimestampPath":"$.t","End":true}}}`, `{"t":"tomorrow"}`, ErrRuntime},
		{"jsonata wait not integer", `{"QueryLanguage":"JSONata","StartAt":"W","States":{"W":{"Type":"Wait","Seconds":"{% 'x' %}","End":true}}}`, `{}`, ErrQueryEvaluationError},
		{"jsonata fail error not string", `{"QueryLanguage":"JSONata","StartAt":"F","States":{"F":{"Type":"Fail","Error":"{% 5 %}"}}}`, `{}`, ErrQueryEvaluationError},
		{"jsonata items not array", `{"QueryLanguage":"JSONata","StartAt":"M","States":{"M":{"Type":"Map","Items":"{% 5 %}","ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}`, `{}`, ErrQueryEvaluationError},
		{"heartbeat path missing", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","HeartbeatSecondsPath":"$.h","End":true}}}`, `{}`, ErrRuntime},
		{"intrinsic path missing", `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"x.$":"States.Format('{}', $.nope)"},"End":true}}}`, `{}`, ErrRuntime},
		{"item selector path missing", `{"StartAt":"M","States":{"M":{"Type":"Map","ItemSelector":{"v.$":"$.nope"},"ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}`, `[1]`, ErrRuntime},
		{"result selector path missing", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","ResultSelector":{"v.$":"$.nope"},"End":true}}}`, `{}`, ErrRuntime},
		{"undefined variable", `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"x.$":"$nope"},"End":true}}}`, `{}`, ErrRuntime},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := run(t, c.def, c.input, &scriptInvoker{script: map[string][]scripted{"*": {{Result: json.RawMessage(`{}`)}}}})
			expectFailure(t, res, c.err)
			if !strings.HasPrefix(res.Cause, "An error occurred while executing the state") {
				t.Errorf("cause %q", res.Cause)
			}
		})
	}
}
