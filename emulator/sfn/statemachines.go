package sfn

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/scones/scones/asl"
	"github.com/scones/scones/emulator/store"
)

type machineRecord struct {
	Arn         string          `json:"arn"`
	Name        string          `json:"name"`
	Definition  string          `json:"definition"`
	RoleArn     string          `json:"roleArn"`
	Type        string          `json:"type"`
	Description string          `json:"description,omitempty"`
	Created     time.Time       `json:"created"`
	Updated     time.Time       `json:"updated"`
	RevisionID  string          `json:"revisionId"`
	Logging     json.RawMessage `json:"logging,omitempty"`
	Tracing     json.RawMessage `json:"tracing,omitempty"`
}

var roleArnRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^arn:aws[\w-]*:iam::\d{12}:role/[\w+=,.@/-]+$`) })

func checkRole(arn string) error {
	if !roleArnRE().MatchString(arn) {
		return errorf("InvalidArn", "Invalid Arn: 'Resource type not valid in this context: %s' (want arn:aws:iam::<account>:role/<name>)", arn)
	}
	return nil
}

// parseDefinition parses and validates a definition, mapping the engine's
// diagnostics to InvalidDefinition.
func parseDefinition(def string) (*asl.StateMachine, error) {
	if def == "" {
		return nil, errorf("InvalidDefinition", "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: definition is empty'")
	}
	sm, err := asl.Parse([]byte(def))
	if err != nil {
		var ve *asl.ValidationError
		if errors.As(err, &ve) {
			return nil, errorf("InvalidDefinition", "%s", ve.Error())
		}
		return nil, errorf("InvalidDefinition", "Invalid State Machine Definition: '%v'", err)
	}
	return sm, nil
}

func (s *Service) getMachine(tx store.Tx, arn string) (*machineRecord, error) {
	b, ok := tx.Get(tblMachines, arn)
	if !ok {
		return nil, errorf("StateMachineDoesNotExist", "State Machine Does Not Exist: '%s'", arn)
	}
	var m machineRecord
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	return &m, nil
}

func (s *Service) loadMachine(arn string) (*machineRecord, error) {
	if _, ok := machineNameOf(arn); !ok {
		return nil, errorf("InvalidArn", "Invalid Arn: '%s'", arn)
	}
	var m *machineRecord
	err := s.env.Store.View(func(tx store.Tx) error {
		var err error
		m, err = s.getMachine(tx, arn)
		return err
	})
	return m, err
}

type tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

func (s *Service) createStateMachine(ctx context.Context, body []byte) (any, error) {
	var in struct {
		Name                    string          `json:"name"`
		Definition              string          `json:"definition"`
		RoleArn                 string          `json:"roleArn"`
		Type                    string          `json:"type"`
		LoggingConfiguration    json.RawMessage `json:"loggingConfiguration"`
		TracingConfiguration    json.RawMessage `json:"tracingConfiguration"`
		Tags                    []tag           `json:"tags"`
		Publish                 bool            `json:"publish"`
		VersionDescription      string          `json:"versionDescription"`
		EncryptionConfiguration json.RawMessage `json:"encryptionConfiguration"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := checkName("state machine", in.Name); err != nil {
		return nil, err
	}
	if in.Publish {
		return nil, errorf("ValidationException", "publish: state machine versions are not supported by the scones emulator")
	}
	if in.Type == "" {
		in.Type = "STANDARD"
	}
	if in.Type != "STANDARD" && in.Type != "EXPRESS" {
		return nil, errorf("ValidationException", "1 validation error detected: Value '%s' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD, EXPRESS]", in.Type)
	}
	if err := checkRole(in.RoleArn); err != nil {
		return nil, err
	}
	if _, err := parseDefinition(in.Definition); err != nil {
		return nil, err
	}
	now := s.env.Now()
	rec := machineRecord{
		Arn: s.machineArn(in.Name), Name: in.Name, Definition: in.Definition, RoleArn: in.RoleArn, Type: in.Type,
		Created: now, Updated: now, RevisionID: uuid.NewString(), Logging: in.LoggingConfiguration, Tracing: in.TracingConfiguration,
	}
	err := s.env.Store.Update(func(tx store.Tx) error {
		if b, ok := tx.Get(tblMachines, rec.Arn); ok {
			var old machineRecord
			json.Unmarshal(b, &old)
			// Same name and same definition and role: AWS answers with the
			// existing machine (idempotent create).
			if old.Definition == rec.Definition && old.RoleArn == rec.RoleArn && old.Type == rec.Type {
				rec = old
				return nil
			}
			return errorf("StateMachineAlreadyExists", "State Machine Already Exists: '%s'", rec.Arn)
		}
		b, _ := json.Marshal(rec)
		if err := tx.Put(tblMachines, rec.Arn, b); err != nil {
			return err
		}
		return putTags(tx, rec.Arn, in.Tags)
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"stateMachineArn": rec.Arn, "creationDate": epoch(rec.Created)}, nil
}

func (s *Service) describeStateMachine(ctx context.Context, body []byte) (any, error) {
	var in struct {
		StateMachineArn string `json:"stateMachineArn"`
		IncludedData    string `json:"includedData"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	m, err := s.loadMachine(in.StateMachineArn)
	if err != nil {
		return nil, err
	}
	return machineOut(m), nil
}

func machineOut(m *machineRecord) map[string]any {
	out := map[string]any{
		"stateMachineArn": m.Arn, "name": m.Name, "status": "ACTIVE", "definition": m.Definition,
		"roleArn": m.RoleArn, "type": m.Type, "creationDate": epoch(m.Created), "revisionId": m.RevisionID,
		"loggingConfiguration": json.RawMessage(`{"level":"OFF","includeExecutionData":false}`),
		"tracingConfiguration": json.RawMessage(`{"enabled":false}`),
	}
	if len(m.Logging) > 0 {
		out["loggingConfiguration"] = m.Logging
	}
	if len(m.Tracing) > 0 {
		out["tracingConfiguration"] = m.Tracing
	}
	return out
}

func (s *Service) updateStateMachine(ctx context.Context, body []byte) (any, error) {
	var in struct {
		StateMachineArn         string          `json:"stateMachineArn"`
		Definition              *string         `json:"definition"`
		RoleArn                 *string         `json:"roleArn"`
		LoggingConfiguration    json.RawMessage `json:"loggingConfiguration"`
		TracingConfiguration    json.RawMessage `json:"tracingConfiguration"`
		Publish                 bool            `json:"publish"`
		VersionDescription      string          `json:"versionDescription"`
		EncryptionConfiguration json.RawMessage `json:"encryptionConfiguration"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.Definition == nil && in.RoleArn == nil && in.LoggingConfiguration == nil && in.TracingConfiguration == nil {
		return nil, errorf("MissingRequiredParameter", "Either the definition, the roleArn, the loggingConfiguration or the tracingConfiguration must be specified")
	}
	if in.Definition != nil {
		if _, err := parseDefinition(*in.Definition); err != nil {
			return nil, err
		}
	}
	if in.RoleArn != nil {
		if err := checkRole(*in.RoleArn); err != nil {
			return nil, err
		}
	}
	var rec *machineRecord
	err := s.env.Store.Update(func(tx store.Tx) error {
		var err error
		if rec, err = s.getMachine(tx, in.StateMachineArn); err != nil {
			return err
		}
		if in.Definition != nil {
			rec.Definition = *in.Definition
		}
		if in.RoleArn != nil {
			rec.RoleArn = *in.RoleArn
		}
		if in.LoggingConfiguration != nil {
			rec.Logging = in.LoggingConfiguration
		}
		if in.TracingConfiguration != nil {
			rec.Tracing = in.TracingConfiguration
		}
		rec.Updated = s.env.Now()
		rec.RevisionID = uuid.NewString()
		b, _ := json.Marshal(rec)
		return tx.Put(tblMachines, rec.Arn, b)
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"updateDate": epoch(rec.Updated), "revisionId": rec.RevisionID}, nil
}

func (s *Service) deleteStateMachine(ctx context.Context, body []byte) (any, error) {
	var in struct {
		StateMachineArn string `json:"stateMachineArn"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if _, ok := machineNameOf(in.StateMachineArn); !ok {
		return nil, errorf("InvalidArn", "Invalid Arn: '%s'", in.StateMachineArn)
	}
	// Deleting a missing state machine succeeds, as on AWS.
	err := s.env.Store.Update(func(tx store.Tx) error {
		if err := tx.Delete(tblMachines, in.StateMachineArn); err != nil {
			return err
		}
		return tx.Delete(tblTags, in.StateMachineArn)
	})
	return struct{}{}, err
}

func (s *Service) listStateMachines(ctx context.Context, body []byte) (any, error) {
	var in struct {
		MaxResults int    `json:"maxResults"`
		NextToken  string `json:"nextToken"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	limit, err := pageSize(in.MaxResults)
	if err != nil {
		return nil, err
	}
	items := []map[string]any{}
	next := ""
	err = s.env.Store.View(func(tx store.Tx) error {
		return tx.Ascend(tblMachines, "", in.NextToken, func(k string, v []byte) bool {
			if len(items) == limit {
				next = k
				return false
			}
			var m machineRecord
			if json.Unmarshal(v, &m) == nil {
				items = append(items, map[string]any{"stateMachineArn": m.Arn, "name": m.Name, "type": m.Type, "creationDate": epoch(m.Created)})
			}
			return true
		})
	})
	out := map[string]any{"stateMachines": items}
	if next != "" {
		out["nextToken"] = next
	}
	return out, err
}

func pageSize(n int) (int, error) {
	switch {
	case n == 0:
		return 100, nil
	case n < 0 || n > 1000:
		return 0, errorf("ValidationException", "1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000", n)
	}
	return n, nil
}

func (s *Service) validateDefinition(ctx context.Context, body []byte) (any, error) {
	var in struct {
		Definition string `json:"definition"`
		Type       string `json:"type"`
		Severity   string `json:"severity"`
		MaxResults int    `json:"maxResults"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	diags := []map[string]any{}
	result := "OK"
	sm, err := asl.Parse([]byte(in.Definition))
	var list []asl.Diagnostic
	if err != nil {
		var ve *asl.ValidationError
		if errors.As(err, &ve) {
			list = ve.Diagnostics
		} else {
			list = []asl.Diagnostic{{Severity: "ERROR", Code: "SCHEMA_VALIDATION_FAILED", Message: err.Error()}}
		}
	} else {
		list = sm.Warnings
	}
	for _, d := range list {
		if d.Severity == "ERROR" {
			result = "FAIL"
		} else if in.Severity != "WARNING" {
			continue
		}
		diag := map[string]any{"severity": d.Severity, "code": d.Code, "message": d.Message}
		if d.Location != "" {
			diag["location"] = d.Location
		}
		diags = append(diags, diag)
	}
	truncated := false
	if in.MaxResults > 0 && len(diags) > in.MaxResults {
		diags, truncated = diags[:in.MaxResults], true
	}
	return map[string]any{"result": result, "diagnostics": diags, "truncated": truncated}, nil
}

func putTags(tx store.Tx, arn string, tags []tag) error {
	if len(tags) == 0 {
		return nil
	}
	cur := map[string]string{}
	if b, ok := tx.Get(tblTags, arn); ok {
		json.Unmarshal(b, &cur)
	}
	for _, t := range tags {
		cur[t.Key] = t.Value
	}
	if len(cur) > 50 {
		return errorf("TooManyTags", "Too many tags: %d (at most 50)", len(cur))
	}
	b, _ := json.Marshal(cur)
	return tx.Put(tblTags, arn, b)
}

func (s *Service) tagResource(ctx context.Context, body []byte) (any, error) {
	var in struct {
		ResourceArn string `json:"resourceArn"`
		Tags        []tag  `json:"tags"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	return struct{}{}, s.env.Store.Update(func(tx store.Tx) error {
		if _, err := s.getMachine(tx, in.ResourceArn); err != nil {
			return errorf("ResourceNotFound", "Resource not found: '%s'", in.ResourceArn)
		}
		return putTags(tx, in.ResourceArn, in.Tags)
	})
}

func (s *Service) untagResource(ctx context.Context, body []byte) (any, error) {
	var in struct {
		ResourceArn string   `json:"resourceArn"`
		TagKeys     []string `json:"tagKeys"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	return struct{}{}, s.env.Store.Update(func(tx store.Tx) error {
		if _, err := s.getMachine(tx, in.ResourceArn); err != nil {
			return errorf("ResourceNotFound", "Resource not found: '%s'", in.ResourceArn)
		}
		cur := map[string]string{}
		if b, ok := tx.Get(tblTags, in.ResourceArn); ok {
			json.Unmarshal(b, &cur)
		}
		for _, k := range in.TagKeys {
			delete(cur, k)
		}
		b, _ := json.Marshal(cur)
		return tx.Put(tblTags, in.ResourceArn, b)
	})
}

func (s *Service) listTags(ctx context.Context, body []byte) (any, error) {
	var in struct {
		ResourceArn string `json:"resourceArn"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	tags := []tag{}
	err := s.env.Store.View(func(tx store.Tx) error {
		if _, err := s.getMachine(tx, in.ResourceArn); err != nil {
			return errorf("ResourceNotFound", "Resource not found: '%s'", in.ResourceArn)
		}
		cur := map[string]string{}
		if b, ok := tx.Get(tblTags, in.ResourceArn); ok {
			json.Unmarshal(b, &cur)
		}
		keys := make([]string, 0, len(cur))
		for k := range cur {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			tags = append(tags, tag{Key: k, Value: cur[k]})
		}
		return nil
	})
	return map[string]any{"tags": tags}, err
}

// invertedTime orders newest first in an ascending key scan.
func invertedTime(t time.Time) string {
	return strconv.FormatInt(1<<62-t.UnixNano(), 10)
}
