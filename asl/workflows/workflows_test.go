package workflows

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestRender(t *testing.T) {
	s := Substitutions{
		SerializeImageDataArn:            "arn:aws:lambda:us-east-1:000000000000:function:serializeImageData",
		ClassifyImageArn:                 "arn:aws:lambda:us-east-1:000000000000:function:classifyImage",
		FilterLowConfidenceInferencesArn: "arn:aws:lambda:us-east-1:000000000000:function:filterLowConfidenceInferences",
	}
	for name, fn := range map[string]func(Substitutions) ([]byte, error){"single": Single, "all": All} {
		def, err := fn(s)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if strings.Contains(string(def), "${") {
			t.Errorf("%s: placeholder left: %s", name, def)
		}
		var v map[string]any
		if err := json.Unmarshal(def, &v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !strings.Contains(string(def), s.ClassifyImageArn) {
			t.Errorf("%s: ARN not substituted", name)
		}
	}
	_, err := Single(Substitutions{ClassifyImageArn: "x"})
	if err == nil || !strings.Contains(err.Error(), "FilterLowConfidenceInferencesArn, SerializeImageDataArn") {
		t.Errorf("missing values: %v", err)
	}
}

// Every task retries the Lambda service's transient errors (throttling,
// service faults) and nothing else, so a threshold failure still fails the
// execution loudly, with the Lambda's error type, while a transient fault
// does not. No task has a Catch.
func TestRetriesOnlyTransientErrors(t *testing.T) {
	transient := map[string]bool{"Lambda.ServiceException": true, "Lambda.AWSLambdaException": true, "Lambda.SdkClientException": true, "Lambda.TooManyRequestsException": true}
	for name, def := range map[string][]byte{"single": single, "all": all} {
		var d struct {
			States map[string]json.RawMessage
		}
		if err := json.Unmarshal(def, &d); err != nil {
			t.Fatal(err)
		}
		tasks := map[string]json.RawMessage{}
		for n, st := range d.States {
			var m struct {
				Type          string
				ItemProcessor struct{ States map[string]json.RawMessage }
			}
			json.Unmarshal(st, &m)
			if m.Type == "Map" {
				for cn, cst := range m.ItemProcessor.States {
					tasks[cn] = cst
				}
			} else {
				tasks[n] = st
			}
		}
		if len(tasks) != 3 {
			t.Fatalf("%s: %d tasks", name, len(tasks))
		}
		for n, st := range tasks {
			var task struct {
				Retry []struct {
					ErrorEquals []string
					MaxAttempts int
				}
				Catch []any
			}
			json.Unmarshal(st, &task)
			if len(task.Catch) > 0 {
				t.Errorf("%s/%s has a Catch", name, n)
			}
			if len(task.Retry) != 1 || task.Retry[0].MaxAttempts < 6 {
				t.Errorf("%s/%s: Retry %+v, want one retrier with at least 6 attempts", name, n, task.Retry)
				continue
			}
			for _, e := range task.Retry[0].ErrorEquals {
				if !transient[e] {
					t.Errorf("%s/%s retries %s, which is not a transient Lambda service error", name, n, e)
				}
			}
		}
	}
}
