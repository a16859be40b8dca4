package asl_test

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/scones/scones/asl"
)

func Example() {
	sm, err := asl.Parse([]byte(`{
	  "StartAt": "Greet",
	  "States": {
	    "Greet": {
	      "Type": "Task",
	      "Resource": "arn:aws:states:::lambda:invoke",
	      "Parameters": {"FunctionName": "greeter", "Payload": {"name.$": "$.name"}},
	      "OutputPath": "$.Payload",
	      "End": true
	    }
	  }
	}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	invoker := asl.TaskInvokerFunc(func(ctx context.Context, t *asl.TaskRequest) (json.RawMessage, error) {
		var p struct{ Payload struct{ Name string } }
		if err := json.Unmarshal(t.Parameters, &p); err != nil {
			return nil, err
		}
		return json.Marshal(map[string]any{"Payload": "hello " + p.Payload.Name, "StatusCode": 200})
	})
	res := sm.Execute(context.Background(), asl.ExecutionOptions{
		Name:    "example",
		Input:   json.RawMessage(`{"name":"scones"}`),
		Invoker: invoker,
		Clock:   asl.NewScaledClock(0),
	})
	fmt.Println(res.Status, string(res.Output))
	for _, e := range res.History {
		fmt.Println(e.ID, e.Type)
	}
	// Output:
	// SUCCEEDED "hello scones"
	// 1 ExecutionStarted
	// 2 TaskStateEntered
	// 3 TaskScheduled
	// 4 TaskStarted
	// 5 TaskSucceeded
	// 6 TaskStateExited
	// 7 ExecutionSucceeded
}

func ExampleParse_invalid() {
	_, err := asl.Parse([]byte(`{"StartAt":"Foo","States":{"Foo":{"Type":"Pass","Next":"Bar"}}}`))
	fmt.Println(err)
	// Output:
	// Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: Missing 'Next' target: Bar at /States/Foo/Next'
}
