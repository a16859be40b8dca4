package asl

import (
	"context"
	"encoding/json"
	"testing"
)

// benchDefinition has six states: Pass with Parameters, Choice, Pass with
// ResultPath, an inline Map over 5 items (whose processor is the sixth
// state, a Pass), and Succeed.
const benchDefinition = `{
  "StartAt": "Init",
  "States": {
    "Init": {"Type": "Pass", "Parameters": {"items.$": "$.items", "kind.$": "$.kind", "id.$": "$$.Execution.Name"}, "Next": "Route"},
    "Route": {"Type": "Choice", "Choices": [{"Variable": "$.kind", "StringEquals": "batch", "Next": "Enrich"}], "Default": "Done"},
    "Enrich": {"Type": "Pass", "Result": {"source": "bench", "version": 2}, "ResultPath": "$.meta", "Next": "Fan"},
    "Fan": {
      "Type": "Map", "ItemsPath": "$.items", "ResultPath": "$.results",
      "ItemProcessor": {"StartAt": "Item", "States": {"Item": {"Type": "Pass", "Parameters": {"value.$": "$"}, "End": true}}},
      "Next": "Done"
    },
    "Done": {"Type": "Succeed"}
  }
}`

func benchmarkEngine(b *testing.B, sequential bool) {
	sm, err := Parse([]byte(benchDefinition))
	if err != nil {
		b.Fatal(err)
	}
	opts := testOptions(nil, NewScaledClock(0), json.RawMessage(`{"kind":"batch","items":[1,2,3,4,5]}`))
	opts.Sequential = sequential
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		res := sm.Execute(ctx, opts)
		if res.Status != StatusSucceeded {
			b.Fatalf("%s %s", res.Error, res.Cause)
		}
	}
}

// BenchmarkExecute6States runs the engine alone (no task invoker) with
// Map iterations concurrent, as in production.
func BenchmarkExecute6States(b *testing.B) { benchmarkEngine(b, false) }

// BenchmarkExecute6StatesSequential is the same with Sequential set.
func BenchmarkExecute6StatesSequential(b *testing.B) { benchmarkEngine(b, true) }

func BenchmarkParse(b *testing.B) {
	def := []byte(benchDefinition)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(def); err != nil {
			b.Fatal(err)
		}
	}
}

func TestBenchDefinitionOutput(t *testing.T) {
	res := run(t, benchDefinition, `{"kind":"batch","items":[1,2,3,4,5]}`, nil)
	expectOutput(t, res, `{"items":[1,2,3,4,5],"kind":"batch","id":"test-execution","meta":{"source":"bench","version":2},"results":[{"value":1},{"value":2},{"value":3},{"value":4},{"value":5}]}`)
	if len(res.History) != 34 {
		t.Errorf("%d events: %v", len(res.History), eventTypes(res.History))
	}
}
