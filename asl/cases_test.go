package asl

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestCases runs every testdata/cases/*.json: the definition must parse,
// the execution must match the case's "expect" block, and the result and
// full history must match testdata/golden/case-<name>.json.
func TestCases(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "cases", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			res, tc := runCase(t, f)
			ex := tc.Expect
			if ex.Status == "" {
				t.Fatal("the case has no expect.status")
			}
			if res.Status != ex.Status {
				t.Errorf("status %s (%s: %s), want %s", res.Status, res.Error, res.Cause, ex.Status)
			}
			if len(ex.Output) > 0 {
				var g, w any
				_ = json.Unmarshal(res.Output, &g)
				if err := json.Unmarshal(ex.Output, &w); err != nil {
					t.Fatal(err)
				}
				if !jsonDeepEqual(g, w) {
					t.Errorf("output %s, want %s", res.Output, ex.Output)
				}
			}
			if ex.Error != "" && res.Error != ex.Error {
				t.Errorf("error %q (cause %q), want %q", res.Error, res.Cause, ex.Error)
			}
			if ex.Cause != "" && !strings.Contains(res.Cause, ex.Cause) {
				t.Errorf("cause %q does not contain %q", res.Cause, ex.Cause)
			}
			if ex.Events != nil && !reflect.DeepEqual(eventTypes(res.History), ex.Events) {
				t.Errorf("events %v,\nwant %v", eventTypes(res.History), ex.Events)
			}
			checkGolden(t, "case-"+name, golden{Status: res.Status, Output: res.Output, Error: res.Error, Cause: res.Cause, History: res.History})
		})
	}
}
