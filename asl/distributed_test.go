package asl

import (
	"context"
	"crypto/md5"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// memS3 is an in-memory S3 for Distributed Map tests.
type memS3 struct {
	mu      sync.Mutex
	objects map[string][]byte // "bucket/key"
}

func newMemS3() *memS3 { return &memS3{objects: map[string][]byte{}} }

func (m *memS3) GetObject(_ context.Context, bucket, key string) ([]byte, ObjectInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.objects[bucket+"/"+key]
	if !ok {
		return nil, ObjectInfo{}, fmt.Errorf("NoSuchKey: %s/%s", bucket, key)
	}
	return b, ObjectInfo{Key: key, Size: int64(len(b))}, nil
}

func (m *memS3) ListObjectsV2(_ context.Context, bucket, prefix string) ([]ObjectInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []ObjectInfo
	for k, v := range m.objects {
		if key, ok := strings.CutPrefix(k, bucket+"/"); ok && strings.HasPrefix(key, prefix) {
			out = append(out, ObjectInfo{Key: key, Size: int64(len(v)), ETag: `"etag"`, LastModified: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

func (m *memS3) PutObject(_ context.Context, bucket, key string, body []byte, _ string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.objects[bucket+"/"+key] = append([]byte(nil), body...)
	return fmt.Sprintf(`"%x"`, md5.Sum(body)), nil
}

func (m *memS3) keys(prefix string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for k := range m.objects {
		if strings.HasPrefix(k, prefix) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func distOpts(inv TaskInvoker, s3 S3, input string) ExecutionOptions {
	o := testOptions(inv, newFakeClock(), json.RawMessage(input))
	o.S3 = s3
	return o
}

// The project's "all images" workflow: listObjectsV2 over test/, three
// Lambdas per image, threshold failures tolerated.
func TestDistributedMapSconesAll(t *testing.T) {
	sm := loadDef(t, "scones-all.asl.json")
	s3 := newMemS3()
	for _, k := range []string{"test/a.png", "test/b.png", "test/c.png", "train/x.png"} {
		_, _ = s3.PutObject(context.Background(), "bucket", k, []byte("png"), "")
	}
	inv := TaskInvokerFunc(func(ctx context.Context, r *TaskRequest) (json.RawMessage, error) {
		var p struct {
			FunctionName string
			Payload      map[string]any
		}
		_ = json.Unmarshal(r.Parameters, &p)
		switch p.FunctionName {
		case "filter":
			if p.Payload["s3_key"] == "test/b.png" {
				return nil, &Error{Name: "THRESHOLD_CONFIDENCE_NOT_MET", Cause: "low"}
			}
		}
		return lambdaInvokeResponse(p.Payload), nil
	})
	o := distOpts(inv, s3, `{"s3_bucket":"bucket","prefix":"test/"}`)
	var ids atomic.Int64
	o.NewID = func() string { return fmt.Sprintf("id-%d", ids.Add(1)) }
	var mu sync.Mutex
	children := map[string]ChildExecution{}
	var ordered []ChildExecution
	o.OnChildExecution = func(c ChildExecution) {
		mu.Lock()
		defer mu.Unlock()
		var in struct {
			S3Key string `json:"s3_key"`
		}
		_ = json.Unmarshal(c.Input, &in)
		children[in.S3Key] = c
		ordered = append(ordered, c)
	}
	res := sm.Execute(context.Background(), o)
	if len(children) != 3 || children["test/b.png"].Status != StatusFailed || children["test/a.png"].Status != StatusSucceeded {
		t.Errorf("children %+v", children)
	}
	if c := children["test/a.png"]; len(c.History) != 17 || c.History[0].Type != "ExecutionStarted" || c.History[16].Type != "ExecutionSucceeded" || !strings.HasPrefix(c.MapRunArn, "arn:aws:states:") {
		t.Errorf("child history %v", eventTypes(c.History))
	}
	if c := children["test/b.png"]; len(c.History) != 16 || c.Error != "THRESHOLD_CONFIDENCE_NOT_MET" {
		t.Errorf("failed child: %s %v", c.Error, eventTypes(c.History))
	}
	if res.Status != StatusSucceeded {
		t.Fatalf("%s %s %s", res.Status, res.Error, res.Cause)
	}
	var out []map[string]any
	if err := json.Unmarshal(res.Output, &out); err != nil || len(out) != 3 {
		t.Fatalf("output %s", res.Output)
	}
	if out[0]["s3_key"] != "test/a.png" || out[1]["Error"] != "THRESHOLD_CONFIDENCE_NOT_MET" || out[2]["s3_key"] != "test/c.png" {
		t.Errorf("output %s", res.Output)
	}
	want := []string{"ExecutionStarted", "MapStateEntered", "MapRunStarted", "MapRunSucceeded", "MapStateExited", "ExecutionSucceeded"}
	if got := eventTypes(res.History); !reflect.DeepEqual(got, want) {
		t.Errorf("events %v, want %v", got, want)
	}
	arn := res.History[2].MapRunStartedEventDetails.MapRunArn
	if arn != "arn:aws:states:us-east-1:123456789012:mapRun:test-machine/ClassifyAll:id-1" {
		t.Errorf("mapRunArn %s", arn)
	}
	checkGolden(t, "distributed-scones-all", map[string]any{
		"parent":   golden{Status: res.Status, Output: res.Output, History: res.History},
		"children": ordered,
	})
}

func TestDistributedMapReadersBatcherWriter(t *testing.T) {
	s3 := newMemS3()
	ctx := context.Background()
	_, _ = s3.PutObject(ctx, "b", "items.json", []byte(`[{"n":1},{"n":2},{"n":3},{"n":4},{"n":5}]`), "")
	_, _ = s3.PutObject(ctx, "b", "items.jsonl", []byte("{\"n\":1}\n\n{\"n\":2}\n"), "")
	_, _ = s3.PutObject(ctx, "b", "items.csv", []byte("n,name\n1,one\n2,\"two, too\"\n"), "")
	_, _ = s3.PutObject(ctx, "b", "noheader.csv", []byte("1|one\n2|two\n"), "")
	proc := `"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"EXPRESS"},"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`
	cases := []struct {
		name, reader, extra, want string
	}{
		{"json", `"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"JSON","MaxItems":2},"Parameters":{"Bucket":"b","Key":"items.json"}`, ``, `[{"n":1},{"n":2}]`},
		{"jsonl", `"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"JSONL"},"Parameters":{"Bucket":"b","Key.$":"$.key"}`, ``, `[{"n":1},{"n":2}]`},
		{"csv first row", `"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"CSV","CSVHeaderLocation":"FIRST_ROW"},"Parameters":{"Bucket":"b","Key":"items.csv"}`, ``, `[{"n":"1","name":"one"},{"n":"2","name":"two, too"}]`},
		{"csv given", `"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"CSV","CSVHeaderLocation":"GIVEN","CSVHeaders":["id","label"],"CSVDelimiter":"PIPE"},"Parameters":{"Bucket":"b","Key":"noheader.csv"}`, ``, `[{"id":"1","label":"one"},{"id":"2","label":"two"}]`},
		{"batcher", `"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"JSON"},"Parameters":{"Bucket":"b","Key":"items.json"}`,
			`"ItemBatcher":{"MaxItemsPerBatch":2,"BatchInput":{"k.$":"$.key"}},"ItemSelector":{"v.$":"$$.Map.Item.Value.n","i.$":"$$.Map.Item.Index"},`,
			`[{"BatchInput":{"k":"items.jsonl"},"Items":[{"i":0,"v":1},{"i":1,"v":2}]},{"BatchInput":{"k":"items.jsonl"},"Items":[{"i":2,"v":3},{"i":3,"v":4}]},{"BatchInput":{"k":"items.jsonl"},"Items":[{"i":4,"v":5}]}]`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			def := `{"StartAt":"M","States":{"M":{"Type":"Map",` + c.extra + `"ItemReader":{` + c.reader + `},` + proc + `,"End":true}}}`
			res := mustParse(t, def).Execute(ctx, distOpts(nil, s3, `{"key":"items.jsonl"}`))
			expectOutput(t, res, c.want)
		})
	}

	t.Run("list objects", func(t *testing.T) {
		def := `{"StartAt":"M","States":{"M":{"Type":"Map","ItemReader":{"Resource":"arn:aws:states:::s3:listObjectsV2","Parameters":{"Bucket":"b","Prefix":"items.j"}},` + proc + `,"End":true}}}`
		res := mustParse(t, def).Execute(ctx, distOpts(nil, s3, `{}`))
		expectOutput(t, res, `[{"Etag":"\"etag\"","Key":"items.json","LastModified":1767225600,"Size":41,"StorageClass":"STANDARD"},{"Etag":"\"etag\"","Key":"items.jsonl","LastModified":1767225600,"Size":17,"StorageClass":"STANDARD"}]`)
	})

	t.Run("result writer", func(t *testing.T) {
		def := `{"StartAt":"M","States":{"M":{"Type":"Map","Label":"run1","ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"JSON"},"Parameters":{"Bucket":"b","Key":"items.json"}},
			"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.n","NumericEquals":3,"Next":"F"}],"Default":"S"},"F":{"Type":"Fail","Error":"Three"},"S":{"Type":"Succeed"}}},
			"ToleratedFailureCount":1,"ResultWriter":{"Resource":"arn:aws:states:::s3:putObject","Parameters":{"Bucket":"out","Prefix":"results"}},"End":true}}}`
		res := mustParse(t, def).Execute(ctx, distOpts(nil, s3, `{}`))
		if res.Status != StatusSucceeded {
			t.Fatalf("%s %s %s", res.Status, res.Error, res.Cause)
		}
		var out struct {
			MapRunArn           string
			ResultWriterDetails struct{ Bucket, Key string }
		}
		_ = json.Unmarshal(res.Output, &out)
		if out.ResultWriterDetails.Bucket != "out" || !strings.HasSuffix(out.ResultWriterDetails.Key, "/manifest.json") || !strings.Contains(out.MapRunArn, ":mapRun:test-machine/run1:") {
			t.Fatalf("output %s", res.Output)
		}
		keys := s3.keys("out/results/")
		if len(keys) != 3 {
			t.Fatalf("written %v", keys)
		}
		manifest, _, _ := s3.GetObject(ctx, "out", out.ResultWriterDetails.Key)
		var m struct {
			DestinationBucket string
			ResultFiles       map[string][]struct{ Key string }
		}
		_ = json.Unmarshal(manifest, &m)
		if m.DestinationBucket != "out" || len(m.ResultFiles["SUCCEEDED"]) != 1 || len(m.ResultFiles["FAILED"]) != 1 {
			t.Fatalf("manifest %s", manifest)
		}
		failed, _, _ := s3.GetObject(ctx, "out", m.ResultFiles["FAILED"][0].Key)
		var fl []map[string]any
		_ = json.Unmarshal(failed, &fl)
		if len(fl) != 1 || fl[0]["Error"] != "Three" || fl[0]["Status"] != "FAILED" || fl[0]["Input"] != `{"n":3}` {
			t.Errorf("FAILED file %s", failed)
		}
		succeeded, _, _ := s3.GetObject(ctx, "out", m.ResultFiles["SUCCEEDED"][0].Key)
		var sl []map[string]any
		_ = json.Unmarshal(succeeded, &sl)
		if len(sl) != 4 {
			t.Errorf("SUCCEEDED file %s", succeeded)
		}
	})

	t.Run("tolerance exceeded", func(t *testing.T) {
		def := `{"StartAt":"M","States":{"M":{"Type":"Map","ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"JSON"},"Parameters":{"Bucket":"b","Key":"items.json"}},
			"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.n","NumericGreaterThan":3,"Next":"F"}],"Default":"S"},"F":{"Type":"Fail","Error":"Big"},"S":{"Type":"Succeed"}}},
			"ToleratedFailurePercentagePath":"$.pct","End":true}}}`
		res := mustParse(t, def).Execute(ctx, distOpts(nil, s3, `{"pct":39}`))
		expectFailure(t, res, ErrExceedToleratedFailureThreshold)
		if got := eventTypes(res.History); got[len(got)-2] != "MapRunFailed" {
			t.Errorf("events %v", got)
		}
		res = mustParse(t, def).Execute(ctx, distOpts(nil, s3, `{"pct":40}`))
		if res.Status != StatusSucceeded {
			t.Errorf("40%% tolerated: %s %s", res.Status, res.Cause)
		}
	})

	t.Run("reader failure", func(t *testing.T) {
		def := `{"StartAt":"M","States":{"M":{"Type":"Map","ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"JSON"},"Parameters":{"Bucket":"b","Key":"missing.json"}},` + proc + `,"End":true}}}`
		res := mustParse(t, def).Execute(ctx, distOpts(nil, s3, `{}`))
		expectFailure(t, res, ErrItemReaderFailed)
		res = mustParse(t, def).Execute(ctx, distOpts(nil, nil, `{}`))
		expectFailure(t, res, ErrItemReaderFailed)
	})
}
