package sfn

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/scones/scones/asl"
	"github.com/scones/scones/emulator/store"
)

// maxPayload is Step Functions' limit on execution input and output.
const maxPayload = 256 * 1024

type executionRecord struct {
	Arn        string    `json:"arn"`
	MachineArn string    `json:"machineArn"`
	Name       string    `json:"name"`
	Status     string    `json:"status"`
	Start      time.Time `json:"start"`
	Stop       time.Time `json:"stop,omitempty"`
	Input      string    `json:"input"`
	Output     *string   `json:"output,omitempty"`
	Error      string    `json:"error,omitempty"`
	Cause      string    `json:"cause,omitempty"`
	// Definition is the one the execution ran, for
	// DescribeStateMachineForExecution.
	Definition string `json:"definition"`
	RoleArn    string `json:"roleArn"`
	Events     int    `json:"events"`
}

// run is an execution in flight.
type run struct {
	ctx    context.Context
	mu     sync.Mutex
	rec    executionRecord
	events []asl.HistoryEvent
	cancel context.CancelCauseFunc
	done   chan struct{}
}

type stopCause struct{ error, cause string }

func (s stopCause) Error() string { return s.error + ": " + s.cause }

// parsed returns the parsed state machine of a definition, parsing each
// distinct definition once: a parsed *asl.StateMachine is immutable and
// safe for concurrent executions, and parsing is the largest cost of a
// start after the execution itself.
func (s *Service) parsed(def string) (*asl.StateMachine, error) {
	sum := sha256.Sum256([]byte(def))
	if sm, ok := s.machines.Load(sum); ok {
		return sm.(*asl.StateMachine), nil
	}
	sm, err := parseDefinition(def)
	if err != nil {
		return nil, err
	}
	s.machines.Store(sum, sm)
	return sm, nil
}

// recover marks executions left RUNNING by a previous process as failed.
func (s *Service) recover() error {
	var stale []executionRecord
	err := s.env.Store.View(func(tx store.Tx) error {
		return tx.Ascend(tblExecutions, "", "", func(_ string, v []byte) bool {
			var r executionRecord
			if json.Unmarshal(v, &r) == nil && r.Status == "RUNNING" {
				stale = append(stale, r)
			}
			return true
		})
	})
	if err != nil || len(stale) == 0 {
		return err
	}
	return s.env.Store.Update(func(tx store.Tx) error {
		for _, r := range stale {
			r.Status, r.Stop = "FAILED", s.env.Now()
			r.Error, r.Cause = asl.ErrRuntime, "the scones emulator stopped while this execution was running"
			b, _ := json.Marshal(r)
			if err := tx.Put(tblExecutions, r.Arn, b); err != nil {
				return err
			}
		}
		return nil
	})
}

type startInput struct {
	StateMachineArn string `json:"stateMachineArn"`
	Name            string `json:"name"`
	Input           string `json:"input"`
	TraceHeader     string `json:"traceHeader"`
}

func (s *Service) prepareStart(body []byte) (*machineRecord, *asl.StateMachine, startInput, error) {
	var in startInput
	if err := decode(body, &in); err != nil {
		return nil, nil, in, err
	}
	if in.Name == "" {
		in.Name = uuid.NewString()
	} else if err := checkName("execution", in.Name); err != nil {
		return nil, nil, in, err
	}
	if in.Input == "" {
		in.Input = "{}"
	}
	if len(in.Input) > maxPayload {
		return nil, nil, in, errorf("InvalidExecutionInput", "Input exceeds the 262144 byte limit: %d bytes", len(in.Input))
	}
	if !json.Valid([]byte(in.Input)) {
		return nil, nil, in, errorf("InvalidExecutionInput", "Invalid execution input: not valid JSON")
	}
	m, err := s.loadMachine(in.StateMachineArn)
	if err != nil {
		return nil, nil, in, err
	}
	sm, err := s.parsed(m.Definition)
	if err != nil {
		return nil, nil, in, err
	}
	return m, sm, in, nil
}

func (s *Service) startExecution(ctx context.Context, body []byte) (any, error) {
	m, sm, in, err := s.prepareStart(body)
	if err != nil {
		return nil, err
	}
	arn := s.executionArn("execution", m.Name, in.Name)
	rec := executionRecord{Arn: arn, MachineArn: m.Arn, Name: in.Name, Status: "RUNNING", Start: s.env.Now(), Input: in.Input, Definition: m.Definition, RoleArn: m.RoleArn}
	var existing *executionRecord
	err = s.env.Store.Update(func(tx store.Tx) error {
		if b, ok := tx.Get(tblExecutions, arn); ok {
			var old executionRecord
			json.Unmarshal(b, &old)
			existing = &old
			return nil
		}
		b, _ := json.Marshal(rec)
		if err := tx.Put(tblExecutions, arn, b); err != nil {
			return err
		}
		return tx.Put(tblByMachine, m.Arn+"|"+invertedTime(rec.Start)+"|"+arn, nil)
	})
	if err != nil {
		return nil, err
	}
	if existing != nil {
		// StartExecution is idempotent for a running execution with the
		// same name and input.
		if existing.Status == "RUNNING" && existing.Input == in.Input {
			return map[string]any{"executionArn": existing.Arn, "startDate": epoch(existing.Start)}, nil
		}
		return nil, errorf("ExecutionAlreadyExists", "Execution Already Exists: '%s'", arn)
	}
	s.launch(rec, sm)
	return map[string]any{"executionArn": arn, "startDate": epoch(rec.Start)}, nil
}

// launch runs an execution in the background.
func (s *Service) launch(rec executionRecord, sm *asl.StateMachine) *run {
	ctx, cancel := context.WithCancelCause(s.ctx)
	r := &run{ctx: ctx, rec: rec, cancel: cancel, done: make(chan struct{})}
	s.mu.Lock()
	s.running[rec.Arn] = r
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(r.done)
		res := s.execute(ctx, r, sm)
		s.finish(r, res)
	}()
	return r
}

func (s *Service) execute(ctx context.Context, r *run, sm *asl.StateMachine) *asl.ExecutionResult {
	name, _ := machineNameOf(r.rec.MachineArn)
	return sm.Execute(ctx, asl.ExecutionOptions{
		Name:             r.rec.Name,
		ExecutionArn:     r.rec.Arn,
		StateMachineArn:  r.rec.MachineArn,
		StateMachineName: name,
		RoleArn:          r.rec.RoleArn,
		Input:            json.RawMessage(r.rec.Input),
		Invoker:          s.invoker(),
		Clock:            asl.NewScaledClock(s.env.TimeScale),
		S3:               s.deps.S3,
		StartTime:        r.rec.Start,
		OnEvent: func(ev asl.HistoryEvent) {
			r.mu.Lock()
			r.events = append(r.events, ev)
			r.mu.Unlock()
		},
	})
}

// finish records the end of an execution and its history in one write.
func (s *Service) finish(r *run, res *asl.ExecutionResult) {
	r.mu.Lock()
	rec := &r.rec
	rec.Status = res.Status
	rec.Stop = s.env.Now()
	if res.Status == "SUCCEEDED" {
		out := string(res.Output)
		rec.Output = &out
	}
	rec.Error, rec.Cause = res.Error, res.Cause
	if c, ok := context.Cause(r.ctx).(stopCause); ok && res.Status == "ABORTED" {
		rec.Error, rec.Cause = c.error, c.cause
	}
	events := r.events
	if len(res.History) > len(events) {
		events = res.History
	}
	rec.Events = len(events)
	final := *rec
	r.mu.Unlock()
	err := s.env.Store.Update(func(tx store.Tx) error {
		b, _ := json.Marshal(final)
		if err := tx.Put(tblExecutions, final.Arn, b); err != nil {
			return err
		}
		for i := range events {
			eb, _ := json.Marshal(&events[i])
			if err := tx.Put(tblHistory, historyKey(final.Arn, i), eb); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		s.env.Logger.Error("sfn: recording execution end", "execution", final.Arn, "err", err)
	}
	s.mu.Lock()
	delete(s.running, final.Arn)
	s.mu.Unlock()
}

func historyKey(arn string, i int) string {
	return arn + "|" + fmt.Sprintf("%010d", i)
}

func (s *Service) startSyncExecution(ctx context.Context, body []byte) (any, error) {
	m, sm, in, err := s.prepareStart(body)
	if err != nil {
		return nil, err
	}
	if m.Type != "EXPRESS" {
		return nil, errorf("StateMachineTypeNotSupported", "This operation is not supported by this type of state machine: StartSyncExecution needs an EXPRESS state machine, %s is STANDARD", m.Name)
	}
	arn := s.executionArn("express", m.Name, in.Name+":"+uuid.NewString())
	start := s.env.Now()
	r := &run{ctx: ctx, rec: executionRecord{Arn: arn, MachineArn: m.Arn, Name: in.Name, Input: in.Input, RoleArn: m.RoleArn, Start: start}}
	res := s.execute(ctx, r, sm)
	out := map[string]any{
		"executionArn": arn, "stateMachineArn": m.Arn, "name": in.Name, "startDate": epoch(start), "stopDate": epoch(s.env.Now()),
		"status": res.Status, "input": in.Input, "inputDetails": map[string]bool{"included": true},
		"billingDetails": map[string]any{"billedMemoryUsedInMB": 64, "billedDurationInMilliseconds": 100},
	}
	if res.Status == "SUCCEEDED" {
		out["output"] = string(res.Output)
		out["outputDetails"] = map[string]bool{"included": true}
	} else {
		out["error"], out["cause"] = res.Error, res.Cause
	}
	return out, nil
}

// lookup returns an execution: the live record when it runs, else the
// stored one.
func (s *Service) lookup(arn string) (executionRecord, *run, error) {
	s.mu.Lock()
	r := s.running[arn]
	s.mu.Unlock()
	if r != nil {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.rec, r, nil
	}
	if !strings.HasPrefix(arn, "arn:") || !strings.Contains(arn, ":execution:") {
		return executionRecord{}, nil, errorf("InvalidArn", "Invalid Arn: '%s'", arn)
	}
	var rec executionRecord
	err := s.env.Store.View(func(tx store.Tx) error {
		b, ok := tx.Get(tblExecutions, arn)
		if !ok {
			return errorf("ExecutionDoesNotExist", "Execution Does Not Exist: '%s'", arn)
		}
		return json.Unmarshal(b, &rec)
	})
	return rec, nil, err
}

func executionOut(rec executionRecord) map[string]any {
	out := map[string]any{
		"executionArn": rec.Arn, "stateMachineArn": rec.MachineArn, "name": rec.Name, "status": rec.Status,
		"startDate": epoch(rec.Start), "input": rec.Input, "inputDetails": map[string]bool{"included": true},
		"redriveCount": 0, "redriveStatus": "NOT_REDRIVABLE",
	}
	if rec.Status != "RUNNING" {
		out["stopDate"] = epoch(rec.Stop)
	}
	if rec.Output != nil {
		out["output"] = *rec.Output
		out["outputDetails"] = map[string]bool{"included": true}
	}
	if rec.Error != "" {
		out["error"] = rec.Error
	}
	if rec.Cause != "" {
		out["cause"] = rec.Cause
	}
	return out
}

func (s *Service) describeExecution(ctx context.Context, body []byte) (any, error) {
	var in struct {
		ExecutionArn string `json:"executionArn"`
		IncludedData string `json:"includedData"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	rec, _, err := s.lookup(in.ExecutionArn)
	if err != nil {
		return nil, err
	}
	return executionOut(rec), nil
}

func (s *Service) describeForExecution(ctx context.Context, body []byte) (any, error) {
	var in struct {
		ExecutionArn string `json:"executionArn"`
		IncludedData string `json:"includedData"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	rec, _, err := s.lookup(in.ExecutionArn)
	if err != nil {
		return nil, err
	}
	name, _ := machineNameOf(rec.MachineArn)
	return map[string]any{
		"stateMachineArn": rec.MachineArn, "name": name, "definition": rec.Definition, "roleArn": rec.RoleArn,
		"updateDate": epoch(rec.Start),
	}, nil
}

func (s *Service) stopExecution(ctx context.Context, body []byte) (any, error) {
	var in struct {
		ExecutionArn string `json:"executionArn"`
		Error        string `json:"error"`
		Cause        string `json:"cause"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	rec, r, err := s.lookup(in.ExecutionArn)
	if err != nil {
		return nil, err
	}
	if r == nil || rec.Status != "RUNNING" {
		return nil, errorf("ValidationException", "Execution is not running: '%s' is %s", in.ExecutionArn, rec.Status)
	}
	r.cancel(stopCause{error: in.Error, cause: in.Cause})
	<-r.done
	rec, _, _ = s.lookup(in.ExecutionArn)
	return map[string]any{"stopDate": epoch(rec.Stop)}, nil
}

func (s *Service) listExecutions(ctx context.Context, body []byte) (any, error) {
	var in struct {
		StateMachineArn string `json:"stateMachineArn"`
		StatusFilter    string `json:"statusFilter"`
		MaxResults      int    `json:"maxResults"`
		NextToken       string `json:"nextToken"`
		MapRunArn       string `json:"mapRunArn"`
		RedriveFilter   string `json:"redriveFilter"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.MapRunArn != "" {
		return nil, errorf("ValidationException", "mapRunArn: listing a Map Run's child executions is not supported by the scones emulator")
	}
	switch in.StatusFilter {
	case "", "RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE":
	default:
		return nil, errorf("ValidationException", "1 validation error detected: Value '%s' at 'statusFilter' failed to satisfy constraint: Member must satisfy enum value set: [RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, PENDING_REDRIVE]", in.StatusFilter)
	}
	limit, err := pageSize(in.MaxResults)
	if err != nil {
		return nil, err
	}
	if _, err := s.loadMachine(in.StateMachineArn); err != nil {
		return nil, err
	}
	prefix := in.StateMachineArn + "|"
	var arns []string
	next := ""
	err = s.env.Store.View(func(tx store.Tx) error {
		return tx.Ascend(tblByMachine, prefix, in.NextToken, func(k string, _ []byte) bool {
			if len(arns) == limit+1 {
				return false
			}
			arns = append(arns, k[strings.LastIndexByte(k, '|')+1:])
			if len(arns) == limit+1 {
				next = k
			}
			return true
		})
	})
	if err != nil {
		return nil, err
	}
	if len(arns) > limit {
		arns = arns[:limit]
	}
	items := []map[string]any{}
	for _, arn := range arns {
		rec, _, err := s.lookup(arn)
		if err != nil {
			continue
		}
		if in.StatusFilter != "" && rec.Status != in.StatusFilter {
			continue
		}
		item := map[string]any{"executionArn": rec.Arn, "stateMachineArn": rec.MachineArn, "name": rec.Name, "status": rec.Status, "startDate": epoch(rec.Start)}
		if rec.Status != "RUNNING" {
			item["stopDate"] = epoch(rec.Stop)
		}
		items = append(items, item)
	}
	out := map[string]any{"executions": items}
	if next != "" {
		out["nextToken"] = next
	}
	return out, nil
}

func (s *Service) getExecutionHistory(ctx context.Context, body []byte) (any, error) {
	var in struct {
		ExecutionArn         string `json:"executionArn"`
		MaxResults           int    `json:"maxResults"`
		ReverseOrder         bool   `json:"reverseOrder"`
		NextToken            string `json:"nextToken"`
		IncludeExecutionData *bool  `json:"includeExecutionData"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	limit, err := pageSize(in.MaxResults)
	if err != nil {
		return nil, err
	}
	rec, r, err := s.lookup(in.ExecutionArn)
	if err != nil {
		return nil, err
	}
	var events []json.RawMessage
	if r != nil {
		r.mu.Lock()
		for i := range r.events {
			b, _ := json.Marshal(&r.events[i])
			events = append(events, b)
		}
		r.mu.Unlock()
	} else {
		err = s.env.Store.View(func(tx store.Tx) error {
			return tx.Ascend(tblHistory, rec.Arn+"|", "", func(_ string, v []byte) bool {
				events = append(events, append(json.RawMessage(nil), v...))
				return true
			})
		})
		if err != nil {
			return nil, err
		}
	}
	if in.ReverseOrder {
		for i, j := 0, len(events)-1; i < j; i, j = i+1, j-1 {
			events[i], events[j] = events[j], events[i]
		}
	}
	start := 0
	if in.NextToken != "" {
		n, err := strconv.Atoi(in.NextToken)
		if err != nil || n < 0 || n > len(events) {
			return nil, errorf("InvalidToken", "Invalid Token: '%s'", in.NextToken)
		}
		start = n
	}
	end := min(start+limit, len(events))
	page := events[start:end]
	if in.IncludeExecutionData != nil && !*in.IncludeExecutionData {
		page = stripData(page)
	}
	out := map[string]any{"events": page}
	if end < len(events) {
		out["nextToken"] = strconv.Itoa(end)
	}
	return out, nil
}

// stripData removes inputs and outputs from events, for
// includeExecutionData=false.
func stripData(events []json.RawMessage) []json.RawMessage {
	out := make([]json.RawMessage, len(events))
	for i, e := range events {
		var m map[string]any
		if json.Unmarshal(e, &m) != nil {
			out[i] = e
			continue
		}
		for k, v := range m {
			if d, ok := v.(map[string]any); ok && strings.HasSuffix(k, "EventDetails") {
				for _, f := range []string{"input", "output", "parameters"} {
					delete(d, f)
				}
			}
		}
		out[i], _ = json.Marshal(m)
	}
	return out
}
