package asl

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// The reference workflow: three lambda:invoke tasks, OutputPath
// $.Payload, console Retry blocks, Catch -> Fail on the third.
func referenceScript(pass bool) map[string][]scripted {
	fn := "arn:aws:lambda:us-east-1:148908537034:function:"
	body := `{"image_data":"iVBORw0KGgo=","s3_bucket":"b","s3_key":"test/bike.png","inferences":[]}`
	classified := `{"image_data":"iVBORw0KGgo=","s3_bucket":"b","s3_key":"test/bike.png","inferences":[0.97,0.03]}`
	s := map[string][]scripted{
		fn + "serializeImageData:$LATEST": {{Result: json.RawMessage(`{"statusCode":200,"body":` + body + `}`)}},
		fn + "classifyImage:$LATEST":      {{Result: json.RawMessage(`{"statusCode":200,"body":` + classified + `}`)}},
	}
	if pass {
		s[fn+"filterInferences:$LATEST"] = []scripted{{Result: json.RawMessage(`{"statusCode":200,"body":` + classified + `}`)}}
	} else {
		s[fn+"filterInferences:$LATEST"] = []scripted{{Error: "THRESHOLD_CONFIDENCE_NOT_MET", Cause: `{"errorMessage":"THRESHOLD_CONFIDENCE_NOT_MET","errorType":"THRESHOLD_CONFIDENCE_NOT_MET"}`}}
	}
	return s
}

func loadDef(t *testing.T, name string) *StateMachine {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "definitions", name))
	if err != nil {
		t.Fatal(err)
	}
	sm, err := Parse(b)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return sm
}

func TestReferenceWorkflowSuccess(t *testing.T) {
	sm := loadDef(t, "console-exported-state-machine.json")
	res := sm.Execute(context.Background(), testOptions(&scriptInvoker{script: referenceScript(true)}, newFakeClock(), json.RawMessage(`{"s3_bucket":"b","s3_key":"test/bike.png"}`)))
	expectOutput(t, res, `{"statusCode":200,"body":{"image_data":"iVBORw0KGgo=","s3_bucket":"b","s3_key":"test/bike.png","inferences":[0.97,0.03]}}`)
	if len(res.History) != 17 {
		t.Errorf("%d events, want 17: %v", len(res.History), eventTypes(res.History))
	}
	want := []string{"ExecutionStarted"}
	for range 3 {
		want = append(want, "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSucceeded", "TaskStateExited")
	}
	want = append(want, "ExecutionSucceeded")
	if got := eventTypes(res.History); !reflect.DeepEqual(got, want) {
		t.Errorf("events %v, want %v", got, want)
	}
	checkGolden(t, "reference-success", golden{Status: res.Status, Output: res.Output, History: res.History})
}

// With Catch -> Fail on the third task, a threshold failure is TaskFailed,
// then FailStateEntered and ExecutionFailed: 17 events. (The 16
// is the count without the Catch, as in asl/workflows/scones.asl.json,
// where TaskFailed is followed directly by ExecutionFailed; see
// TestReferenceWorkflowFailureNoCatch.)
func TestReferenceWorkflowFailureCaught(t *testing.T) {
	sm := loadDef(t, "console-exported-state-machine.json")
	res := sm.Execute(context.Background(), testOptions(&scriptInvoker{script: referenceScript(false)}, newFakeClock(), json.RawMessage(`{"s3_bucket":"b","s3_key":"test/bike.png"}`)))
	if res.Status != StatusFailed {
		t.Fatalf("status %s", res.Status)
	}
	// The Fail state has no Error/Cause, so the execution's are empty.
	if res.Error != "" || res.Cause != "" {
		t.Errorf("error %q cause %q, want empty (Fail state without Error/Cause)", res.Error, res.Cause)
	}
	want := []string{"ExecutionStarted"}
	for range 2 {
		want = append(want, "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSucceeded", "TaskStateExited")
	}
	want = append(want, "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskFailed", "FailStateEntered", "ExecutionFailed")
	if got := eventTypes(res.History); !reflect.DeepEqual(got, want) {
		t.Errorf("events %v, want %v", got, want)
	}
	checkGolden(t, "reference-failure-caught", golden{Status: res.Status, Error: res.Error, Cause: res.Cause, History: res.History})
}

func TestReferenceWorkflowFailureNoCatch(t *testing.T) {
	sm := loadDef(t, "scones.asl.json")
	script := map[string][]scripted{
		"serialize": {{Result: json.RawMessage(`{"statusCode":200,"body":{"s3_key":"k"}}`)}},
		"classify":  {{Result: json.RawMessage(`{"s3_key":"k","inferences":[0.5,0.5]}`)}},
		"filter":    {{Error: "THRESHOLD_CONFIDENCE_NOT_MET", Cause: `{"errorMessage":"THRESHOLD_CONFIDENCE_NOT_MET"}`}},
	}
	res := sm.Execute(context.Background(), testOptions(&scriptInvoker{script: script}, newFakeClock(), json.RawMessage(`{"s3_bucket":"b","s3_key":"k"}`)))
	expectFailure(t, res, "THRESHOLD_CONFIDENCE_NOT_MET")
	if len(res.History) != 16 {
		t.Errorf("%d events, want 16: %v", len(res.History), eventTypes(res.History))
	}
	checkGolden(t, "reference-failure-uncaught", golden{Status: res.Status, Error: res.Error, Cause: res.Cause, History: res.History})
}
