package asl

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCorpusDefinitionsValidate(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "definitions", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 3 {
		t.Fatalf("corpus too small: %v", files)
	}
	found := false
	for _, f := range files {
		if filepath.Base(f) == "console-exported-state-machine.json" {
			found = true
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Parse(b); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	if !found {
		t.Error("the console-exported definition is missing from testdata/definitions")
	}
}

// The console-exported definition in the shared data set, when present,
// must be identical to the corpus copy and validate.
func TestSharedConsoleExportValidates(t *testing.T) {
	const shared = "/work/shared/data/cifar100-bikes/examples/console-exported-state-machine.json"
	b, err := os.ReadFile(shared)
	if err != nil {
		t.Skipf("shared data set not present (%v); the corpus copy is tested by TestCorpusDefinitionsValidate", err)
	}
	if _, err := Parse(b); err != nil {
		t.Fatal(err)
	}
}

// Every file in testdata/invalid is a definition whose first line of
// "expect" ("_expect" key) lists the diagnostics "CODE|location|message
// fragment" it must produce.
func TestInvalidCorpus(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "invalid", "*.json"))
	if len(files) == 0 {
		t.Fatal("no invalid definitions")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := os.ReadFile(strings.TrimSuffix(f, ".json") + ".expect")
		_, err = Parse(b)
		var ve *ValidationError
		if !errors.As(err, &ve) {
			t.Errorf("%s: got %v, want a *ValidationError", f, err)
			continue
		}
		for _, line := range strings.Split(strings.TrimSpace(string(want)), "\n") {
			if line == "" {
				continue
			}
			if !strings.Contains(err.Error(), line) {
				t.Errorf("%s: error does not contain %q:\n%s", filepath.Base(f), line, err)
			}
		}
	}
}

func TestValidationMessages(t *testing.T) {
	cases := []struct {
		name, def string
		want      []string // fragments of Error()
	}{
		{"missing next target", `{"StartAt":"Foo","States":{"Foo":{"Type":"Pass","Next":"Bar"}}}`,
			[]string{"Invalid State Machine Definition: '", "MISSING_TRANSITION_TARGET: Missing 'Next' target: Bar at /States/Foo/Next"}},
		{"unreachable", `{"StartAt":"A","States":{"A":{"Type":"Pass","End":true},"B":{"Type":"Pass","End":true}}}`,
			[]string{`MISSING_TRANSITION_TARGET: State "B" is not reachable. at /States/B`}},
		{"end and next", `{"StartAt":"A","States":{"A":{"Type":"Pass","End":true,"Next":"B"},"B":{"Type":"Succeed"}}}`,
			[]string{"SCHEMA_VALIDATION_FAILED: Field 'Next' cannot be used together with 'End': true at /States/A"}},
		{"neither end nor next", `{"StartAt":"A","States":{"A":{"Type":"Pass"}}}`,
			[]string{"Either 'Next' or 'End': true is required at /States/A"}},
		{"no terminal", `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"},"B":{"Type":"Pass","Next":"A"}}}`,
			[]string{"MISSING_END_STATE: Workflow has no terminal state at null"}},
		{"unknown field", `{"StartAt":"A","States":{"A":{"Type":"Pass","End":true,"Foo":1}}}`,
			[]string{"SCHEMA_VALIDATION_FAILED: Field 'Foo' is not supported at /States/A"}},
		{"timeout on map", `{"StartAt":"M","States":{"M":{"Type":"Map","TimeoutSeconds":3,"ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}`,
			[]string{"Field 'TimeoutSeconds' is not supported at /States/M"}},
		{"catch on pass", `{"StartAt":"A","States":{"A":{"Type":"Pass","End":true,"Catch":[]}}}`,
			[]string{"Field 'Catch' is not supported at /States/A"}},
		{"missing type", `{"StartAt":"A","States":{"A":{"End":true}}}`,
			[]string{"These fields are required: [Type] at /States/A"}},
		{"bad type", `{"StartAt":"A","States":{"A":{"Type":"Nope","End":true}}}`,
			[]string{"The value for the field 'Type' must be one of", "at /States/A/Type"}},
		{"missing startat", `{"States":{"A":{"Type":"Succeed"}}}`,
			[]string{"These fields are required: [StartAt] at null"}},
		{"startat target", `{"StartAt":"X","States":{"A":{"Type":"Succeed"}}}`,
			[]string{"Missing 'StartAt' target: X at /StartAt"}},
		{"not json", `{"StartAt":`, []string{"INVALID_JSON_DESCRIPTION"}},
		{"duplicate key", `{"StartAt":"A","States":{"A":{"Type":"Succeed"},"A":{"Type":"Succeed"}}}`, []string{"INVALID_JSON_DESCRIPTION: Duplicate field \"A\""}},
		{"bad jsonpath", `{"StartAt":"A","States":{"A":{"Type":"Pass","InputPath":"$.a[","End":true}}}`,
			[]string{"at /States/A/InputPath"}},
		{"resultpath not reference", `{"StartAt":"A","States":{"A":{"Type":"Pass","ResultPath":"$.a[*]","End":true}}}`,
			[]string{"not a valid reference path", "at /States/A/ResultPath"}},
		{"bad parameters path", `{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"x.$":"nope"},"End":true}}}`,
			[]string{"The value for the field 'x.$' must be a valid JSONPath", "at /States/A/Parameters/x.$"}},
		{"bad intrinsic", `{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"x.$":"States.Nope(1)"},"End":true}}}`,
			[]string{"at /States/A/Parameters/x.$"}},
		{"states.all not last", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true,"Retry":[{"ErrorEquals":["States.ALL"]},{"ErrorEquals":["X"]}]}}}`,
			[]string{"States.ALL must appear alone in ErrorEquals and in the last retrier"}},
		{"choice no next", `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.a","StringEquals":"x"}],"Default":"D"},"D":{"Type":"Succeed"}}}`,
			[]string{"These fields are required: [Next] at /States/C/Choices/0"}},
		{"choice two operators", `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.a","StringEquals":"x","NumericEquals":1,"Next":"D"}]},"D":{"Type":"Succeed"}}}`,
			[]string{"exactly one comparison operator"}},
		{"choice bad operand type", `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.a","NumericEquals":"1","Next":"D"}]},"D":{"Type":"Succeed"}}}`,
			[]string{"The value of 'NumericEquals' must be a number at /States/C/Choices/0/NumericEquals"}},
		{"choice default target", `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.a","IsPresent":true,"Next":"D"}],"Default":"Z"},"D":{"Type":"Succeed"}}}`,
			[]string{"Missing 'Default' target: Z at /States/C/Default"}},
		{"wait two fields", `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":1,"Timestamp":"2020-01-01T00:00:00Z","End":true}}}`,
			[]string{"exactly one of Seconds, SecondsPath, Timestamp, TimestampPath"}},
		{"wait bad timestamp", `{"StartAt":"W","States":{"W":{"Type":"Wait","Timestamp":"yesterday","End":true}}}`,
			[]string{"at /States/W/Timestamp"}},
		{"fail error and errorpath", `{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"x","ErrorPath":"$.e"}}}`,
			[]string{"Fields 'Error' and 'ErrorPath' are mutually exclusive"}},
		{"task resource", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"lambda","End":true}}}`,
			[]string{"INVALID_RESOURCE", "at /States/T/Resource"}},
		{"jsonata field in jsonpath", `{"StartAt":"A","States":{"A":{"Type":"Pass","Output":{},"End":true}}}`,
			[]string{"The QueryLanguage is set to 'JSONPath', but field 'Output' is only supported for the 'JSONata' QueryLanguage at /States/A"}},
		{"jsonpath field in jsonata", `{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Pass","InputPath":"$","End":true}}}`,
			[]string{"The QueryLanguage is set to 'JSONata', but field 'InputPath' is only supported for the 'JSONPath' QueryLanguage at /States/A"}},
		{"jsonpath state in jsonata machine", `{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Pass","QueryLanguage":"JSONPath","End":true}}}`,
			[]string{"'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine at /States/A"}},
		{"jsonata syntax", `{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Pass","Output":"{% $states.input. %}","End":true}}}`,
			[]string{"at /States/A/Output"}},
		{"jsonata 2 operator", `{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Pass","Output":"{% $x ?? 1 %}","End":true}}}`,
			[]string{"uses the operator ??"}},
		{"jsonata 2 function", `{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Pass","Output":"{% $formatInteger(3, 'w') %}","End":true}}}`,
			[]string{"calls $formatInteger", "at /States/A/Output"}},
		{"jsonata positional binding", `{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Pass","Output":"{% $states.input.items#$i.($i) %}","End":true}}}`,
			[]string{"uses the \"#\" binding operator"}},
		{"jsonata recursion", `{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Pass","Output":"{% ( $f := function($n){ $n > 0 ? $f($n - 1) : 0 }; $f(3) ) %}","End":true}}}`,
			[]string{"defines the recursive function $f"}},
		{"branch unreachable", `{"StartAt":"P","States":{"P":{"Type":"Parallel","End":true,"Branches":[{"StartAt":"A","States":{"A":{"Type":"Succeed"},"B":{"Type":"Succeed"}}}]}}}`,
			[]string{`State "B" is not reachable. at /States/P/Branches/0/States/B`}},
		{"branch next outside", `{"StartAt":"P","States":{"P":{"Type":"Parallel","End":true,"Branches":[{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"P"}}}]}}}`,
			[]string{"Missing 'Next' target: P at /States/P/Branches/0/States/A/Next"}},
		{"duplicate state names", `{"StartAt":"P","States":{"P":{"Type":"Parallel","End":true,"Branches":[{"StartAt":"P","States":{"P":{"Type":"Succeed"}}}]}}}`,
			[]string{"DUPLICATE_STATE_NAME"}},
		{"inline map distributed field", `{"StartAt":"M","States":{"M":{"Type":"Map","ToleratedFailureCount":1,"ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}`,
			[]string{"Field 'ToleratedFailureCount' is only supported by a Map state whose ItemProcessor has Mode DISTRIBUTED"}},
		{"unsupported reader", `{"StartAt":"M","States":{"M":{"Type":"Map","ItemReader":{"Resource":"arn:aws:states:::dynamodb:scan","Parameters":{}},"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}`,
			[]string{"is not supported by this engine", "at /States/M/ItemReader/Resource"}},
		{"bad variable name", `{"StartAt":"A","States":{"A":{"Type":"Pass","Assign":{"1x":1},"End":true}}}`,
			[]string{"The variable name '1x' is invalid"}},
		{"retry bad backoff", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true,"Retry":[{"ErrorEquals":["X"],"BackoffRate":0.5}]}}}`,
			[]string{"at /States/T/Retry/0/BackoffRate"}},
		{"retry bad jitter", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true,"Retry":[{"ErrorEquals":["X"],"JitterStrategy":"HALF"}]}}}`,
			[]string{"at /States/T/Retry/0/JitterStrategy"}},
		{"heartbeat >= timeout", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","TimeoutSeconds":5,"HeartbeatSeconds":5,"End":true}}}`,
			[]string{"HeartbeatSeconds must be smaller than TimeoutSeconds"}},
		{"states.result in Arguments", `{"QueryLanguage":"JSONata","StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Arguments":{"x":"{% $states.result %}"},"End":true}}}`,
			[]string{"reads $states.result", "at /States/T/Arguments"}},
		{"states.result in Pass", `{"QueryLanguage":"JSONata","StartAt":"P","States":{"P":{"Type":"Pass","Output":"{% $states.result %}","End":true}}}`,
			[]string{"reads $states.result", "at /States/P/Output"}},
		{"errorOutput outside catch", `{"QueryLanguage":"JSONata","StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Output":"{% $states.errorOutput %}","End":true}}}`,
			[]string{"reads $states.errorOutput", "at /States/T/Output"}},
		{"reader without input type", `{"StartAt":"M","States":{"M":{"Type":"Map","ItemReader":{"Resource":"arn:aws:states:::s3:getObject","Parameters":{"Bucket":"b","Key":"k"}},"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}`,
			[]string{"These fields are required: [InputType] for the s3:getObject ItemReader at /States/M/ItemReader/ReaderConfig"}},
		{"csv given without headers", `{"StartAt":"M","States":{"M":{"Type":"Map","ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"CSV","CSVHeaderLocation":"GIVEN"},"Parameters":{"Bucket":"b","Key":"k"}},"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}`,
			[]string{"These fields are required: [CSVHeaders] when CSVHeaderLocation is GIVEN"}},
		{"manifest input type", `{"StartAt":"M","States":{"M":{"Type":"Map","ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"MANIFEST"},"Parameters":{"Bucket":"b","Key":"k"}},"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}`,
			[]string{"The InputType 'MANIFEST' is not supported by this engine"}},
		{"writer config", `{"StartAt":"M","States":{"M":{"Type":"Map","ResultWriter":{"Resource":"arn:aws:states:::s3:putObject","WriterConfig":{},"Parameters":{"Bucket":"b"}},"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}`,
			[]string{"Field 'WriterConfig' is not supported by this engine at /States/M/ResultWriter"}},
		{"distributed without execution type", `{"StartAt":"M","States":{"M":{"Type":"Map","ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED"},"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}`,
			[]string{"These fields are required: [ExecutionType]"}},
		{"batcher without limits", `{"StartAt":"M","States":{"M":{"Type":"Map","ItemBatcher":{},"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}`,
			[]string{"An ItemBatcher needs MaxItemsPerBatch or MaxInputBytesPerBatch"}},
		{"iterator and item processor", `{"StartAt":"M","States":{"M":{"Type":"Map","Iterator":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"ItemProcessor":{"StartAt":"Q","States":{"Q":{"Type":"Pass","End":true}}},"End":true}}}`,
			[]string{"Fields 'Iterator' and 'ItemProcessor' are mutually exclusive"}},
		{"catch without next", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true,"Catch":[{"ErrorEquals":["X"]}]}}}`,
			[]string{"These fields are required: [Next] at /States/T/Catch/0"}},
		{"jsonata choice with variable", `{"QueryLanguage":"JSONata","StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.a","IsPresent":true,"Next":"D"}]},"D":{"Type":"Succeed"}}}`,
			[]string{"field 'Variable' is only supported for the 'JSONPath' QueryLanguage", "These fields are required: [Condition]"}},
		{"top-level unknown", `{"StartAt":"A","Foo":1,"States":{"A":{"Type":"Succeed"}}}`,
			[]string{"Field 'Foo' is not supported at null"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.def))
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("got %v, want a *ValidationError", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q:\n%s", w, err)
				}
			}
		})
	}
}

func TestValidationCollectsAllProblems(t *testing.T) {
	_, err := Parse([]byte(`{"StartAt":"pass1","States":{"pass1":{"Type":"Pass","Next":"pass3"},"pass2":{"Type":"Pass","End":true}}}`))
	want := `Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: Missing 'Next' target: pass3 at /States/pass1/Next, MISSING_TRANSITION_TARGET: State "pass2" is not reachable. at /States/pass2'`
	if err == nil || err.Error() != want {
		t.Fatalf("got\n%v\nwant\n%s", err, want)
	}
	var ve *ValidationError
	errors.As(err, &ve)
	if len(ve.Diagnostics) != 2 || ve.Diagnostics[0].Location != "/States/pass1/Next" || ve.Diagnostics[0].Severity != "ERROR" {
		t.Errorf("diagnostics %+v", ve.Diagnostics)
	}
}
