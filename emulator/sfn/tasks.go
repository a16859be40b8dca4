package sfn

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/scones/scones/asl"
)

// LambdaInvoker invokes a function in-process.
type LambdaInvoker interface {
	InvokeFunction(ctx context.Context, in LambdaInvocation) (*LambdaResult, error)
}

// LambdaInvocation is one Invoke call.
type LambdaInvocation struct {
	FunctionName   string // name, partial or full ARN, optionally name:qualifier
	Qualifier      string
	Payload        []byte
	InvocationType string // RequestResponse (default), Event, DryRun
}

// LambdaResult is Invoke's answer. A service error is returned as an
// error whose ErrorCode() is Lambda's code (TooManyRequestsException, ...).
type LambdaResult struct {
	StatusCode      int
	Payload         []byte
	FunctionError   string
	ExecutedVersion string
	RequestID       string
}

// S3 is what a Distributed Map needs.
type S3 = asl.S3

func (s *Service) invoker() asl.TaskInvoker {
	return asl.TaskInvokerFunc(s.invokeTask)
}

func (s *Service) invokeTask(ctx context.Context, t *asl.TaskRequest) (json.RawMessage, error) {
	res := t.Resource
	switch {
	case strings.HasPrefix(res, "arn:aws:lambda:"):
		return s.invokeLambda(ctx, t, json.RawMessage(`{}`), true)
	case strings.HasPrefix(res, "arn:aws:states:::lambda:invoke"):
		return s.invokeLambda(ctx, t, t.Parameters, false)
	case strings.HasPrefix(res, "arn:aws:states:::sagemaker:"):
		return s.sagemakerTask(ctx, t)
	case strings.HasPrefix(res, "arn:aws:states:::states:startExecution"):
		return s.startExecutionTask(ctx, t)
	case strings.HasPrefix(res, "arn:aws:states:::aws-sdk:"):
		return s.sdkTask(ctx, t)
	}
	return nil, &asl.Error{Name: "States.Runtime", Cause: fmt.Sprintf("the scones emulator has no integration for resource %s", res)}
}

func (s *Service) invokeLambda(ctx context.Context, t *asl.TaskRequest, params json.RawMessage, bare bool) (json.RawMessage, error) {
	if s.deps.Lambda == nil {
		return nil, &asl.Error{Name: "Lambda.ServiceException", Cause: "the Lambda service is not running in this emulator"}
	}
	in := LambdaInvocation{InvocationType: "RequestResponse"}
	if bare {
		in.FunctionName = t.Resource
		in.Payload = t.Parameters
	} else {
		var p struct {
			FunctionName   string          `json:"FunctionName"`
			Payload        json.RawMessage `json:"Payload"`
			Qualifier      string          `json:"Qualifier"`
			InvocationType string          `json:"InvocationType"`
			ClientContext  string          `json:"ClientContext"`
			LogType        string          `json:"LogType"`
		}
		if err := json.Unmarshal(params, &p); err != nil {
			return nil, &asl.Error{Name: "States.Runtime", Cause: "lambda:invoke parameters: " + err.Error()}
		}
		if p.FunctionName == "" {
			return nil, &asl.Error{Name: "States.Runtime", Cause: "lambda:invoke needs Parameters.FunctionName"}
		}
		in.FunctionName, in.Qualifier, in.Payload = p.FunctionName, p.Qualifier, p.Payload
		if p.InvocationType != "" {
			in.InvocationType = p.InvocationType
		}
		if len(in.Payload) == 0 {
			in.Payload = []byte("{}")
		}
	}
	if f := s.env.Faults; f != nil {
		if e := f.Check(ctx, "lambda", "Invoke"); e != nil {
			return nil, &asl.Error{Name: "Lambda." + e.Code, Cause: e.Message}
		}
	}
	var wait chan tokenResult
	if t.TaskToken != "" {
		wait = s.registerToken(t.TaskToken, t.Heartbeat)
		defer s.dropToken(t.TaskToken)
	}
	out, err := s.deps.Lambda.InvokeFunction(ctx, in)
	if err != nil {
		return nil, lambdaTask.of(err)
	}
	if out.FunctionError != "" {
		var doc struct {
			ErrorType string `json:"errorType"`
		}
		name := "Lambda.Unknown"
		if json.Unmarshal(out.Payload, &doc) == nil && doc.ErrorType != "" {
			name = doc.ErrorType
		}
		return nil, &asl.Error{Name: name, Cause: string(out.Payload)}
	}
	if wait != nil {
		return waitToken(ctx, wait)
	}
	if bare {
		if !json.Valid(out.Payload) {
			return nil, &asl.Error{Name: "States.Runtime", Cause: "the function returned a payload that is not JSON"}
		}
		return out.Payload, nil
	}
	payload := json.RawMessage(out.Payload)
	if len(payload) == 0 {
		payload = json.RawMessage(`""`)
	} else if !json.Valid(payload) {
		b, _ := json.Marshal(string(out.Payload))
		payload = b
	}
	headers := map[string]string{
		"X-Amz-Executed-Version": out.ExecutedVersion, "x-amzn-Remapped-Content-Length": "0",
		"Connection": "keep-alive", "x-amzn-RequestId": out.RequestID, "Content-Type": "application/json",
		"Content-Length": fmt.Sprint(len(out.Payload)),
	}
	all := map[string][]string{}
	for k, v := range headers {
		all[k] = []string{v}
	}
	env := map[string]any{
		"ExecutedVersion":     out.ExecutedVersion,
		"Payload":             payload,
		"SdkHttpMetadata":     map[string]any{"AllHttpHeaders": all, "HttpHeaders": headers, "HttpStatusCode": out.StatusCode},
		"SdkResponseMetadata": map[string]any{"RequestId": out.RequestID},
		"StatusCode":          out.StatusCode,
	}
	return json.Marshal(env)
}

// callJSON calls an awsJson operation of another emulated service
// in-process and returns its body, or the AWS error as an asl.Error named
// as names says.
func (s *Service) callJSON(ctx context.Context, service, target, contentType string, names integration, body []byte) (json.RawMessage, error) {
	if s.deps.Service == nil || s.deps.Service(service) == nil {
		return nil, &asl.Error{Name: "States.Runtime", Cause: fmt.Sprintf("the %s service is not running in this emulator", service)}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "/", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("X-Amz-Target", target)
	req.Header.Set("Content-Type", contentType)
	rec := &response{header: http.Header{}}
	s.deps.Service(service).ServeHTTP(rec, req)
	if rec.code >= 300 {
		var e struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		json.Unmarshal(rec.body.Bytes(), &e)
		return nil, names.error(e.Type[strings.LastIndexByte(e.Type, '#')+1:], e.Message)
	}
	return rec.body.Bytes(), nil
}

// response is what an in-process call to another service wrote. It is
// not net/http/httptest's recorder because that package would link a test
// certificate and its parsing into every emulator binary.
type response struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (r *response) Header() http.Header { return r.header }

func (r *response) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
}

func (r *response) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(b)
}

func (s *Service) sagemakerTask(ctx context.Context, t *asl.TaskRequest) (json.RawMessage, error) {
	action := strings.TrimPrefix(t.Resource, "arn:aws:states:::sagemaker:")
	sync := strings.HasSuffix(action, ".sync")
	action = strings.TrimSuffix(action, ".sync")
	op := strings.ToUpper(action[:1]) + action[1:]
	out, err := s.callJSON(ctx, "sagemaker", "SageMaker."+op, "application/x-amz-json-1.1", sageMakerTask, t.Parameters)
	if err != nil || !sync {
		return out, err
	}
	var name struct {
		TrainingJobName  string `json:"TrainingJobName"`
		TransformJobName string `json:"TransformJobName"`
	}
	json.Unmarshal(t.Parameters, &name)
	var describe, key, field string
	switch op {
	case "CreateTrainingJob":
		describe, key, field = "DescribeTrainingJob", "TrainingJobName", "TrainingJobStatus"
	case "CreateTransformJob":
		describe, key, field = "DescribeTransformJob", "TransformJobName", "TransformJobStatus"
	default:
		return nil, &asl.Error{Name: "States.Runtime", Cause: "sagemaker:" + action + ".sync is not an integration Step Functions offers"}
	}
	id := name.TrainingJobName + name.TransformJobName
	req, _ := json.Marshal(map[string]string{key: id})
	for {
		out, err := s.callJSON(ctx, "sagemaker", "SageMaker."+describe, "application/x-amz-json-1.1", sageMakerTask, req)
		if err != nil {
			return nil, err
		}
		var st map[string]any
		json.Unmarshal(out, &st)
		switch st[field] {
		case "Completed":
			return out, nil
		case "Failed", "Stopped":
			reason, _ := st["FailureReason"].(string)
			return nil, &asl.Error{Name: "States.TaskFailed", Cause: fmt.Sprintf("%s %s: %s", id, st[field], reason)}
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (s *Service) startExecutionTask(ctx context.Context, t *asl.TaskRequest) (json.RawMessage, error) {
	suffix := strings.TrimPrefix(t.Resource, "arn:aws:states:::states:startExecution")
	var p struct {
		StateMachineArn string          `json:"StateMachineArn"`
		Input           json.RawMessage `json:"Input"`
		Name            string          `json:"Name"`
	}
	if err := json.Unmarshal(t.Parameters, &p); err != nil {
		return nil, &asl.Error{Name: "States.Runtime", Cause: "states:startExecution parameters: " + err.Error()}
	}
	input := "{}"
	if len(p.Input) > 0 {
		var str string
		if json.Unmarshal(p.Input, &str) == nil {
			input = str
		} else {
			input = string(p.Input)
		}
	}
	body, _ := json.Marshal(map[string]string{"stateMachineArn": p.StateMachineArn, "input": input, "name": p.Name})
	out, err := s.startExecution(ctx, body)
	if err != nil {
		return nil, stepFunctionsTask.of(err)
	}
	started := out.(map[string]any)
	arn := started["executionArn"].(string)
	if suffix == "" || suffix == ".waitForTaskToken" {
		return json.Marshal(map[string]any{"ExecutionArn": arn, "StartDate": started["startDate"]})
	}
	s.mu.Lock()
	r := s.running[arn]
	s.mu.Unlock()
	if r != nil {
		select {
		case <-r.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	rec, _, err := s.lookup(arn)
	if err != nil {
		return nil, err
	}
	res := map[string]any{
		"ExecutionArn": rec.Arn, "StateMachineArn": rec.MachineArn, "Name": rec.Name, "Status": rec.Status,
		"StartDate": epoch(rec.Start), "StopDate": epoch(rec.Stop), "Input": rec.Input,
		"InputDetails": map[string]bool{"Included": true},
	}
	if suffix == ".sync:2" {
		res["Input"] = json.RawMessage(rec.Input)
	}
	if rec.Output != nil {
		res["Output"] = *rec.Output
		if suffix == ".sync:2" {
			res["Output"] = json.RawMessage(*rec.Output)
		}
		res["OutputDetails"] = map[string]bool{"Included": true}
	}
	if rec.Status != "SUCCEEDED" {
		cause, _ := json.Marshal(res)
		return nil, &asl.Error{Name: "States.TaskFailed", Cause: string(cause)}
	}
	return json.Marshal(res)
}

// sdkServices are the aws-sdk integrations served over awsJson.
var sdkServices = map[string]struct {
	signing, target, contentType string
	names                        integration
}{
	"sagemaker": {"sagemaker", "SageMaker.", "application/x-amz-json-1.1", sdkSageMaker},
	"sfn":       {"states", "AWSStepFunctions.", "application/x-amz-json-1.0", sdkSfn},
}

func (s *Service) sdkTask(ctx context.Context, t *asl.TaskRequest) (json.RawMessage, error) {
	rest := strings.TrimPrefix(t.Resource, "arn:aws:states:::aws-sdk:")
	service, action, ok := strings.Cut(rest, ":")
	if !ok || action == "" {
		return nil, &asl.Error{Name: "States.Runtime", Cause: "malformed aws-sdk resource " + t.Resource}
	}
	if service == "s3" && s.deps.S3 != nil {
		return s.s3Task(ctx, action, t.Parameters)
	}
	svc, ok := sdkServices[service]
	if !ok {
		return nil, &asl.Error{Name: "States.Runtime", Cause: fmt.Sprintf("the scones emulator serves aws-sdk integrations for s3 (getObject, putObject, listObjectsV2), sagemaker and sfn; not %s", service)}
	}
	op := strings.ToUpper(action[:1]) + action[1:]
	if service != "sfn" {
		return s.callJSON(ctx, svc.signing, svc.target+op, svc.contentType, svc.names, t.Parameters)
	}
	out, err := s.callJSON(ctx, svc.signing, svc.target+op, svc.contentType, svc.names, recaseKeys(t.Parameters, false))
	if err != nil {
		return nil, err
	}
	return recaseKeys(out, true), nil
}

// recaseKeys sets the case of the first letter of every object key, lower
// or upper: the aws-sdk integrations take and give PascalCase names, while
// Step Functions' own wire uses camelCase. Numbers pass through as written.
func recaseKeys(raw json.RawMessage, upper bool) json.RawMessage {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if d.Decode(&v) != nil {
		return raw
	}
	first := strings.ToLower
	if upper {
		first = strings.ToUpper
	}
	var walk func(any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			out := make(map[string]any, len(x))
			for k, val := range x {
				if k != "" {
					k = first(k[:1]) + k[1:]
				}
				out[k] = walk(val)
			}
			return out
		case []any:
			for i := range x {
				x[i] = walk(x[i])
			}
		}
		return v
	}
	b, _ := json.Marshal(walk(v))
	return b
}

func (s *Service) s3Task(ctx context.Context, action string, params json.RawMessage) (json.RawMessage, error) {
	var p struct {
		Bucket      string          `json:"Bucket"`
		Key         string          `json:"Key"`
		Prefix      string          `json:"Prefix"`
		Body        json.RawMessage `json:"Body"`
		ContentType string          `json:"ContentType"`
	}
	if err := json.Unmarshal(params, &p); err != nil {
		return nil, &asl.Error{Name: "States.Runtime", Cause: "s3 parameters: " + err.Error()}
	}
	switch action {
	case "getObject":
		b, o, err := s.deps.S3.GetObject(ctx, p.Bucket, p.Key)
		if err != nil {
			return nil, sdkS3.of(err)
		}
		meta := o.Metadata
		if meta == nil {
			meta = map[string]string{}
		}
		return json.Marshal(map[string]any{"Body": string(b), "ContentLength": len(b), "ContentType": o.ContentType, "ETag": o.ETag,
			"LastModified": o.LastModified.UTC().Format(time.RFC3339), "Metadata": meta, "AcceptRanges": "bytes"})
	case "putObject":
		body := []byte(p.Body)
		var str string
		if json.Unmarshal(p.Body, &str) == nil {
			body = []byte(str)
		}
		etag, err := s.deps.S3.PutObject(ctx, p.Bucket, p.Key, body, p.ContentType)
		if err != nil {
			return nil, sdkS3.of(err)
		}
		return json.Marshal(map[string]any{"ETag": etag})
	case "listObjectsV2":
		objs, err := s.deps.S3.ListObjectsV2(ctx, p.Bucket, p.Prefix)
		if err != nil {
			return nil, sdkS3.of(err)
		}
		contents := []map[string]any{}
		for _, o := range objs {
			contents = append(contents, map[string]any{"Key": o.Key, "Size": o.Size, "ETag": o.ETag, "LastModified": o.LastModified.UTC().Format(time.RFC3339), "StorageClass": "STANDARD"})
		}
		return json.Marshal(map[string]any{"Contents": contents, "KeyCount": len(contents), "Name": p.Bucket, "Prefix": p.Prefix, "IsTruncated": false})
	}
	return nil, &asl.Error{Name: "States.Runtime", Cause: "the scones emulator's aws-sdk:s3 integration serves getObject, putObject and listObjectsV2, not " + action}
}

// task tokens for .waitForTaskToken

type tokenResult struct {
	output json.RawMessage
	err    *asl.Error
}

type taskToken struct {
	ch        chan tokenResult
	heartbeat func()
}

// NewTaskToken makes a token for $$.Task.Token.
func NewTaskToken() string { return uuid.NewString() + uuid.NewString() }

func (s *Service) registerToken(token string, heartbeat func()) chan tokenResult {
	ch := make(chan tokenResult, 1)
	s.mu.Lock()
	s.tokens[token] = &taskToken{ch: ch, heartbeat: heartbeat}
	s.mu.Unlock()
	return ch
}

func (s *Service) dropToken(token string) {
	s.mu.Lock()
	delete(s.tokens, token)
	s.mu.Unlock()
}

func waitToken(ctx context.Context, ch chan tokenResult) (json.RawMessage, error) {
	select {
	case r := <-ch:
		if r.err != nil {
			return nil, r.err
		}
		return r.output, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (s *Service) token(token string) (*taskToken, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tokens[token]
	if t == nil {
		return nil, errorf("TaskDoesNotExist", "Task Does Not Exist: the token matches no waiting task (it finished, timed out, or never existed)")
	}
	return t, nil
}

func (s *Service) sendTaskSuccess(ctx context.Context, body []byte) (any, error) {
	var in struct {
		TaskToken string `json:"taskToken"`
		Output    string `json:"output"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if !json.Valid([]byte(in.Output)) {
		return nil, errorf("InvalidOutput", "Invalid Output: not valid JSON")
	}
	t, err := s.token(in.TaskToken)
	if err != nil {
		return nil, err
	}
	select {
	case t.ch <- tokenResult{output: json.RawMessage(in.Output)}:
	default:
		return nil, errorf("TaskTimedOut", "Task Timed Out: the task already has a result")
	}
	return struct{}{}, nil
}

func (s *Service) sendTaskFailure(ctx context.Context, body []byte) (any, error) {
	var in struct {
		TaskToken string `json:"taskToken"`
		Error     string `json:"error"`
		Cause     string `json:"cause"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	t, err := s.token(in.TaskToken)
	if err != nil {
		return nil, err
	}
	select {
	case t.ch <- tokenResult{err: &asl.Error{Name: in.Error, Cause: in.Cause}}:
	default:
		return nil, errorf("TaskTimedOut", "Task Timed Out: the task already has a result")
	}
	return struct{}{}, nil
}

func (s *Service) sendTaskHeartbeat(ctx context.Context, body []byte) (any, error) {
	var in struct {
		TaskToken string `json:"taskToken"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	t, err := s.token(in.TaskToken)
	if err != nil {
		return nil, err
	}
	if t.heartbeat != nil {
		t.heartbeat()
	}
	return struct{}{}, nil
}
