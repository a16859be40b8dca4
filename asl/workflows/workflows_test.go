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

// The last task has no Retry and no Catch: a threshold failure fails the
// execution loudly, with the Lambda's error type.
func TestLastTaskFailsLoudly(t *testing.T) {
	var def struct {
		States map[string]map[string]any
	}
	json.Unmarshal(single, &def)
	last := def.States["FilterLowConfidenceInferences"]
	if _, ok := last["Retry"]; ok {
		t.Error("filter task has a Retry block")
	}
	if _, ok := last["Catch"]; ok {
		t.Error("filter task has a Catch block")
	}
	for _, n := range []string{"SerializeImageData", "ClassifyImage"} {
		if _, ok := def.States[n]["Retry"]; !ok {
			t.Errorf("%s lacks the console's Retry block", n)
		}
	}
}
