package asl

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/golden")

// fakeClock is a deterministic Clock: Now only moves when Sleep is called.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	slept []time.Duration
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.slept = append(c.slept, d)
	return nil
}

// SleepTimeout never fires: fake-clock tasks complete instantly.
func (c *fakeClock) SleepTimeout(ctx context.Context, d time.Duration) error {
	<-ctx.Done()
	return ctx.Err()
}

func (c *fakeClock) sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.slept...)
}

// scripted is one scripted task response.
type scripted struct {
	Result json.RawMessage `json:"result,omitempty"`
	Error  string          `json:"error,omitempty"`
	Cause  string          `json:"cause,omitempty"`
	// Echo returns the task parameters (for lambda:invoke: the Payload
	// wrapped like the Lambda integration's response).
	Echo bool `json:"echo,omitempty"`
	// Sleep makes the invoker block until its context ends.
	Block bool `json:"block,omitempty"`
}

// scriptInvoker answers tasks from a script keyed by FunctionName (for
// lambda:invoke) or Resource; each key's responses are consumed in order
// and the last repeats.
type scriptInvoker struct {
	mu     sync.Mutex
	script map[string][]scripted
	calls  []*TaskRequest
}

func (s *scriptInvoker) Invoke(ctx context.Context, t *TaskRequest) (json.RawMessage, error) {
	s.mu.Lock()
	s.calls = append(s.calls, t)
	key := t.Resource
	var params map[string]any
	_ = json.Unmarshal(t.Parameters, &params)
	if fn, ok := params["FunctionName"].(string); ok && t.ResourceType == "lambda" {
		key = fn
	}
	list := s.script[key]
	if len(list) == 0 {
		list = s.script["*"]
	}
	if len(list) == 0 {
		s.mu.Unlock()
		return nil, &Error{Name: "NoScript", Cause: "no scripted response for " + key}
	}
	resp := list[0]
	if len(list) > 1 {
		s.script[key] = list[1:]
		if _, ok := s.script[key]; !ok {
			s.script["*"] = list[1:]
		}
	}
	s.mu.Unlock()
	switch {
	case resp.Block:
		<-ctx.Done()
		return nil, ctx.Err()
	case resp.Error != "":
		return nil, &Error{Name: resp.Error, Cause: resp.Cause}
	case resp.Echo:
		if t.ResourceType == "lambda" {
			return lambdaInvokeResponse(params["Payload"]), nil
		}
		return t.Parameters, nil
	}
	if t.ResourceType == "lambda" && t.ResourceName == "invoke" {
		var payload any
		_ = json.Unmarshal(resp.Result, &payload)
		return lambdaInvokeResponse(payload), nil
	}
	return resp.Result, nil
}

// lambdaInvokeResponse wraps a payload like the Lambda integration does.
func lambdaInvokeResponse(payload any) json.RawMessage {
	b, _ := json.Marshal(map[string]any{
		"ExecutedVersion": "$LATEST",
		"Payload":         payload,
		"SdkHttpMetadata": map[string]any{"HttpStatusCode": 200},
		"SdkResponseMetadata": map[string]any{
			"RequestId": "00000000-0000-0000-0000-000000000000",
		},
		"StatusCode": 200,
	})
	return b
}

// testCase is a data-driven engine test in testdata/cases.
type testCase struct {
	Definition json.RawMessage       `json:"definition"`
	Input      json.RawMessage       `json:"input"`
	Tasks      map[string][]scripted `json:"tasks"`
	// Expect states what must hold regardless of the golden file.
	Expect struct {
		Status string          `json:"status"`
		Output json.RawMessage `json:"output"`
		Error  string          `json:"error"`
		Cause  string          `json:"cause"`
		Events []string        `json:"events"`
	} `json:"expect"`
}

// golden is what a case's golden file holds.
type golden struct {
	Status  string          `json:"status"`
	Output  json.RawMessage `json:"output,omitempty"`
	Error   string          `json:"error,omitempty"`
	Cause   string          `json:"cause,omitempty"`
	History []HistoryEvent  `json:"history"`
}

func testOptions(inv TaskInvoker, clock Clock, input json.RawMessage) ExecutionOptions {
	return ExecutionOptions{
		Name:             "test-execution",
		ExecutionArn:     "arn:aws:states:us-east-1:123456789012:execution:test-machine:test-execution",
		StateMachineArn:  "arn:aws:states:us-east-1:123456789012:stateMachine:test-machine",
		StateMachineName: "test-machine",
		RoleArn:          "arn:aws:iam::123456789012:role/test-role",
		Input:            input,
		Invoker:          inv,
		Clock:            clock,
		Sequential:       true,
	}
}

// runCase executes a case file and returns the result.
func runCase(t *testing.T, path string) (*ExecutionResult, *testCase) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var tc testCase
	if err := json.Unmarshal(b, &tc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	sm, err := Parse(tc.Definition)
	if err != nil {
		t.Fatalf("%s: Parse: %v", path, err)
	}
	inv := &scriptInvoker{script: tc.Tasks}
	if inv.script == nil {
		inv.script = map[string][]scripted{}
	}
	return sm.Execute(context.Background(), testOptions(inv, newFakeClock(), tc.Input)), &tc
}

// checkGolden compares got with testdata/golden/<name>.json as JSON.
func checkGolden(t *testing.T, name string, got any) {
	t.Helper()
	b, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "golden", name+".json")
	if *update {
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	var g, w any
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if !jsonDeepEqual(g, w) {
		t.Errorf("%s differs from the golden file (run go test -update to refresh if intended)\n got: %s\nwant: %s", name, compact(b), compact(want))
	}
}

func jsonDeepEqual(a, b any) bool {
	ab, _ := json.Marshal(a)
	bb, _ := json.Marshal(b)
	return bytes.Equal(ab, bb)
}

func compact(b []byte) string {
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return string(b)
	}
	return buf.String()
}

func eventTypes(h []HistoryEvent) []string {
	out := make([]string, len(h))
	for i, e := range h {
		out[i] = e.Type
	}
	return out
}

func mustParse(t testing.TB, def string) *StateMachine {
	t.Helper()
	sm, err := Parse([]byte(def))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return sm
}

func run(t testing.TB, def, input string, inv TaskInvoker) *ExecutionResult {
	t.Helper()
	sm := mustParse(t, def)
	return sm.Execute(context.Background(), testOptions(inv, newFakeClock(), json.RawMessage(input)))
}

func expectOutput(t *testing.T, res *ExecutionResult, want string) {
	t.Helper()
	if res.Status != StatusSucceeded {
		t.Fatalf("status %s (%s: %s), want SUCCEEDED; history %v", res.Status, res.Error, res.Cause, eventTypes(res.History))
	}
	var g, w any
	if err := json.Unmarshal(res.Output, &g); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad want %s: %v", want, err)
	}
	if !jsonDeepEqual(g, w) {
		t.Errorf("output %s, want %s", res.Output, want)
	}
}

func expectFailure(t *testing.T, res *ExecutionResult, errName string) {
	t.Helper()
	if res.Status != StatusFailed || res.Error != errName {
		t.Fatalf("status %s error %q (cause %q), want FAILED with %q; history %v", res.Status, res.Error, res.Cause, errName, eventTypes(res.History))
	}
}

var _ = fmt.Sprint
