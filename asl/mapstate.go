package asl

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Concurrency used when MaxConcurrency is 0 (unlimited on AWS).
const (
	inlineMapDefaultConcurrency      = 40
	distributedMapDefaultConcurrency = 1000
)

// mapRun runs a Map state on its effective input.
func (r *stateRun) mapRun(ctx context.Context, eff any) (any, *Error) {
	ms := r.st.mapSpec
	items, err := r.mapItems(ctx, eff)
	if err != nil {
		return nil, err
	}
	conc := int64(0)
	if ms.maxConc != nil {
		if conc, err = r.resolveNum(ms.maxConc, r.env(eff, "MaxConcurrency", ErrRuntime)); err != nil {
			return nil, err
		}
	}
	if ms.distributed {
		return r.distributedMap(ctx, eff, items, int(conc))
	}
	return r.inlineMap(ctx, eff, items, int(conc))
}

// mapItems reads the items: ItemReader, ItemsPath (JSONPath) or Items
// (JSONata), else the effective input itself.
func (r *stateRun) mapItems(ctx context.Context, eff any) ([]any, *Error) {
	ms := r.st.mapSpec
	if ms.reader != nil {
		return r.readItems(ctx, eff)
	}
	var v any = eff
	if r.jsonata() {
		if ms.items != nil {
			x, err := ms.items.eval(r.env(eff, "Items", ""))
			if err != nil {
				return nil, err
			}
			v = x
		}
		arr, ok := v.([]any)
		if !ok {
			return nil, errorf(ErrQueryEvaluationError, "The Items of the Map state '%s' must be an array, got %s", r.st.name, typeName(v))
		}
		return arr, nil
	}
	if ms.itemsPath != nil && ms.itemsPath.p != nil {
		x, ok, err := ms.itemsPath.p.eval(pathEnv{input: eff, ctx: r.context(), vars: r.vars})
		if err != nil {
			return nil, asError(err, false)
		}
		if !ok {
			return nil, errorf(ErrRuntime, "Invalid path '%s' : No results for path: %s", ms.itemsPath.p.raw, ms.itemsPath.p.jaywayString())
		}
		v = x
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, errorf(ErrRuntime, "Item selection failed: the ItemsPath of the Map state '%s' must point to a JSON array, got %s", r.st.name, typeName(v))
	}
	return arr, nil
}

// itemInput applies ItemSelector (or legacy Parameters) to one item, with
// $$.Map.Item.Index/Value in the context.
func (r *stateRun) itemInput(eff any, index int, item any) (any, *Error) {
	ms := r.st.mapSpec
	if ms.itemSelector == nil {
		return item, nil
	}
	env := r.env(eff, "ItemSelector", ErrRuntime)
	base := env.ctx.(map[string]any)
	ctxObj := make(map[string]any, len(base)+1)
	for k, v := range base {
		ctxObj[k] = v
	}
	ctxObj["Map"] = map[string]any{"Item": map[string]any{"Index": json.Number(fmt.Sprint(index)), "Value": item}}
	env.ctx = ctxObj
	env.states["context"] = ctxObj
	return ms.itemSelector.eval(env)
}

func (r *stateRun) inlineMap(ctx context.Context, eff any, items []any, conc int) (any, *Error) {
	st := r.st
	r.th.emit("MapStateStarted", func(e *HistoryEvent) {
		e.MapStateStartedEventDetails = &MapStateStartedEventDetails{Length: len(items)}
	})
	inputs := make([]any, len(items))
	for i, it := range items {
		in, err := r.itemInput(eff, i, it)
		if err != nil {
			r.th.emit("MapStateFailed", nil)
			return nil, err
		}
		inputs[i] = in
	}
	if conc <= 0 {
		conc = inlineMapDefaultConcurrency
	}
	if r.ex.opts.Sequential {
		conc = 1
	}
	results := make([]any, len(items))
	errs := make([]*Error, len(items))
	mctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, conc)
	var wg sync.WaitGroup
	var failMu sync.Mutex
	var failure *Error
	base := r.th.last
	for i := range items {
		if mctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		if mctx.Err() != nil {
			<-sem
			break
		}
		wg.Add(1)
		th := &thread{ex: r.ex, last: base}
		th.emit("MapIterationStarted", func(e *HistoryEvent) {
			e.MapIterationStartedEventDetails = &MapIterationEventDetails{Name: st.name, Index: i}
		})
		work := func() {
			defer wg.Done()
			defer func() { <-sem }()
			out, err := r.ex.runMachine(mctx, th, st.mapSpec.processor, inputs[i], newScope(r.vars))
			if err != nil {
				errs[i] = err
				if err == errAbort {
					th.emit("MapIterationAborted", func(e *HistoryEvent) {
						e.MapIterationAbortedEventDetails = &MapIterationEventDetails{Name: st.name, Index: i}
					})
					return
				}
				th.emit("MapIterationFailed", func(e *HistoryEvent) {
					e.MapIterationFailedEventDetails = &MapIterationEventDetails{Name: st.name, Index: i}
				})
				failMu.Lock()
				if failure == nil {
					failure = err
				}
				failMu.Unlock()
				cancel()
				return
			}
			results[i] = out
			th.emit("MapIterationSucceeded", func(e *HistoryEvent) {
				e.MapIterationSucceededEventDetails = &MapIterationEventDetails{Name: st.name, Index: i}
			})
		}
		if conc == 1 {
			work()
		} else {
			go work()
		}
	}
	wg.Wait()
	r.th.join()
	if failure != nil {
		r.th.emit("MapStateFailed", nil)
		return nil, failure
	}
	if ctx.Err() != nil {
		r.th.emit("MapStateAborted", nil)
		return nil, errAbort
	}
	r.th.emit("MapStateSucceeded", nil)
	return results, nil
}

// childResult is one Distributed Map child execution.
type childResult struct {
	Name      string
	Input     any
	Output    any
	Err       *Error
	StartDate time.Time
	StopDate  time.Time
}

func (r *stateRun) distributedMap(ctx context.Context, eff any, items []any, conc int) (any, *Error) {
	st := r.st
	ms := st.mapSpec
	ex := r.ex
	// Tolerated failure thresholds.
	env := r.env(eff, "ToleratedFailurePercentage", ErrRuntime)
	var tolPct, tolCount int64 = 0, 0
	var err *Error
	hasPct, hasCount := ms.tolPct != nil, ms.tolCount != nil
	if hasPct {
		if tolPct, err = r.resolveNum(ms.tolPct, env); err != nil {
			return nil, err
		}
		if tolPct < 0 || tolPct > 100 {
			return nil, errorf(ErrRuntime, "ToleratedFailurePercentage must be between 0 and 100, got %d", tolPct)
		}
	}
	if hasCount {
		if tolCount, err = r.resolveNum(ms.tolCount, env); err != nil {
			return nil, err
		}
	}
	// Item inputs, then batches.
	inputs := make([]any, len(items))
	for i, it := range items {
		if inputs[i], err = r.itemInput(eff, i, it); err != nil {
			return nil, err
		}
	}
	if ms.batcher != nil {
		if inputs, err = r.batch(eff, inputs); err != nil {
			return nil, err
		}
	}
	label := ms.label
	if label == "" {
		label = st.name
	}
	smName := ex.opts.StateMachineName
	runID := ex.newID()
	mapRunArn := fmt.Sprintf("arn:aws:states:%s:%s:mapRun:%s/%s:%s", ex.region, ex.account, smName, label, runID)
	r.th.emit("MapRunStarted", func(e *HistoryEvent) {
		e.MapRunStartedEventDetails = &MapRunStartedEventDetails{MapRunArn: mapRunArn}
	})
	if conc <= 0 {
		conc = distributedMapDefaultConcurrency
	}
	if ex.opts.Sequential {
		conc = 1
	}
	results := make([]childResult, len(inputs))
	sem := make(chan struct{}, conc)
	var wg sync.WaitGroup
	for i := range inputs {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			results[i] = ex.runChild(ctx, st.mapSpec.processor, inputs[i], fmt.Sprintf("%s:%d", runID, i), mapRunArn)
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		r.th.emit("MapRunAborted", nil)
		return nil, errAbort
	}
	failed := 0
	var firstErr *Error
	for _, c := range results {
		if c.Err != nil {
			failed++
			if firstErr == nil {
				firstErr = c.Err
			}
		}
	}
	var out any
	if ms.writer != nil {
		o, werr := r.writeResults(ctx, eff, mapRunArn, runID, results)
		if werr != nil {
			r.th.emit("MapRunFailed", func(e *HistoryEvent) {
				e.MapRunFailedEventDetails = &ErrorDetails{Error: werr.Name, Cause: werr.Cause}
			})
			return nil, werr
		}
		out = o
	} else {
		arr := make([]any, len(results))
		for i, c := range results {
			if c.Err != nil {
				arr[i] = map[string]any{"Error": c.Err.Name, "Cause": c.Err.Cause}
			} else {
				arr[i] = c.Output
			}
		}
		out = arr
	}
	exceeded := false
	if failed > 0 {
		exceeded = true
		if hasCount && int64(failed) <= tolCount {
			exceeded = false
		}
		if hasPct && len(results) > 0 && float64(failed)*100/float64(len(results)) <= float64(tolPct) {
			exceeded = false
		}
	}
	if exceeded {
		e := errorf(ErrExceedToleratedFailureThreshold, "The specified tolerated failure threshold was exceeded: %d of %d items failed (first error: %s)", failed, len(results), firstErr.Error())
		r.th.emit("MapRunFailed", func(h *HistoryEvent) {
			h.MapRunFailedEventDetails = &ErrorDetails{Error: e.Name, Cause: e.Cause}
		})
		return nil, e
	}
	r.th.emit("MapRunSucceeded", nil)
	return out, nil
}

// runChild runs one child workflow execution of a Distributed Map. Its
// history is its own (AWS records it in the child execution, not in the
// parent), so it is not appended to the parent's history.
func (ex *execution) runChild(ctx context.Context, m *machine, input any, name, mapRunArn string) childResult {
	child := &execution{sm: ex.sm, clock: ex.clock, region: ex.region, account: ex.account, input: input, discard: true}
	child.opts = ex.opts
	child.opts.OnEvent = nil
	child.opts.Name = name
	child.opts.ExecutionArn = ex.opts.ExecutionArn + "/" + name
	child.opts.StartTime = ex.clock.Now()
	res := childResult{Name: name, Input: input, StartDate: child.opts.StartTime}
	th := &thread{ex: child}
	// Distributed Map children see no variables of the parent.
	th.emit("ExecutionStarted", func(e *HistoryEvent) {
		e.ExecutionStartedEventDetails = &ExecutionStartedEventDetails{Input: mustJSON(input), InputDetails: notTruncated(), RoleArn: ex.opts.RoleArn}
	})
	out, err := child.runMachine(ctx, th, m, input, newScope(nil))
	res.Output, res.Err, res.StopDate = out, err, ex.clock.Now()
	ce := ChildExecution{MapRunArn: mapRunArn, Name: name, ExecutionArn: child.opts.ExecutionArn,
		Input: json.RawMessage(mustJSON(input)), StartDate: res.StartDate, StopDate: res.StopDate}
	switch {
	case err == errAbort:
		ce.Status = StatusAborted
		th.emit("ExecutionAborted", func(e *HistoryEvent) { e.ExecutionAbortedEventDetails = &ErrorDetails{} })
	case err != nil:
		ce.Status, ce.Error, ce.Cause = StatusFailed, err.Name, err.Cause
		th.emit("ExecutionFailed", func(e *HistoryEvent) {
			e.ExecutionFailedEventDetails = &ErrorDetails{Error: err.Name, Cause: err.Cause}
		})
	default:
		ce.Status, ce.Output = StatusSucceeded, json.RawMessage(mustJSON(out))
		th.emit("ExecutionSucceeded", func(e *HistoryEvent) {
			e.ExecutionSucceededEventDetails = &OutputDetails{Output: string(ce.Output), OutputDetails: notTruncated()}
		})
	}
	if ex.opts.OnChildExecution != nil {
		child.mu.Lock()
		ce.History = append([]HistoryEvent(nil), child.history...)
		child.mu.Unlock()
		ex.opts.OnChildExecution(ce)
	}
	return res
}

// batch groups item inputs per ItemBatcher: each child input becomes
// {"Items": [...], "BatchInput": ...}.
func (r *stateRun) batch(eff any, inputs []any) ([]any, *Error) {
	b := r.st.mapSpec.batcher
	env := r.env(eff, "ItemBatcher", ErrRuntime)
	var maxItems, maxBytes int64
	var err *Error
	if b.maxItems != nil {
		if maxItems, err = r.resolveNum(b.maxItems, env); err != nil {
			return nil, err
		}
	}
	if b.maxBytes != nil {
		if maxBytes, err = r.resolveNum(b.maxBytes, env); err != nil {
			return nil, err
		}
	}
	var batchInput any
	if b.batchInput != nil {
		if batchInput, err = b.batchInput.eval(r.env(eff, "BatchInput", ErrRuntime)); err != nil {
			return nil, err
		}
	}
	var out []any
	var cur []any
	curBytes := 0
	flush := func() {
		if len(cur) == 0 {
			return
		}
		m := map[string]any{"Items": cur}
		if batchInput != nil {
			m["BatchInput"] = batchInput
		}
		out = append(out, m)
		cur, curBytes = nil, 0
	}
	for _, in := range inputs {
		n := len(mustJSON(in))
		if maxBytes > 0 && int64(n) > maxBytes {
			return nil, errorf(ErrRuntime, "An item of %d bytes is larger than MaxInputBytesPerBatch (%d)", n, maxBytes)
		}
		if (maxItems > 0 && int64(len(cur)) >= maxItems) || (maxBytes > 0 && int64(curBytes+n) > maxBytes) {
			flush()
		}
		cur = append(cur, in)
		curBytes += n
	}
	flush()
	return out, nil
}

// readItems runs the ItemReader.
func (r *stateRun) readItems(ctx context.Context, eff any) ([]any, *Error) {
	rd := r.st.mapSpec.reader
	s3 := r.ex.opts.S3
	fail := func(format string, args ...any) *Error { return errorf(ErrItemReaderFailed, format, args...) }
	if s3 == nil {
		return nil, fail("no S3 client is configured for the ItemReader")
	}
	pv, err := rd.params.eval(r.env(eff, "ItemReader.Parameters", ErrRuntime))
	if err != nil {
		return nil, err
	}
	pm, _ := pv.(map[string]any)
	bucket, _ := pm["Bucket"].(string)
	if bucket == "" {
		return nil, fail("The ItemReader parameters must include a Bucket")
	}
	var maxItems int64
	if rd.maxItems != nil {
		if maxItems, err = r.resolveNum(rd.maxItems, r.env(eff, "MaxItems", ErrRuntime)); err != nil {
			return nil, err
		}
	}
	var items []any
	switch rd.resource {
	case "s3:listObjectsV2":
		prefix, _ := pm["Prefix"].(string)
		objs, lerr := s3.ListObjectsV2(ctx, bucket, prefix)
		if lerr != nil {
			return nil, fail("listObjectsV2 s3://%s/%s failed: %v", bucket, prefix, lerr)
		}
		for _, o := range objs {
			items = append(items, map[string]any{
				"Etag":         o.ETag,
				"Key":          o.Key,
				"LastModified": json.Number(fmt.Sprint(o.LastModified.Unix())), // epoch seconds, as in AWS's examples
				"Size":         json.Number(fmt.Sprint(o.Size)),
				"StorageClass": nonEmpty(o.StorageClass, "STANDARD"),
			})
		}
	case "s3:getObject":
		key, _ := pm["Key"].(string)
		if key == "" {
			return nil, fail("The ItemReader parameters must include a Key")
		}
		body, _, gerr := s3.GetObject(ctx, bucket, key)
		if gerr != nil {
			return nil, fail("getObject s3://%s/%s failed: %v", bucket, key, gerr)
		}
		var perr error
		items, perr = parseItems(body, rd)
		if perr != nil {
			return nil, fail("s3://%s/%s: %v", bucket, key, perr)
		}
	}
	if maxItems > 0 && int64(len(items)) > maxItems {
		items = items[:maxItems]
	}
	if items == nil {
		items = []any{}
	}
	return items, nil
}

func nonEmpty(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// parseItems decodes an S3 object per ReaderConfig.InputType.
func parseItems(body []byte, rd *itemReader) ([]any, error) {
	switch rd.inputType {
	case "JSON":
		v, err := decodeJSON(body)
		if err != nil {
			return nil, fmt.Errorf("invalid JSON: %w", err)
		}
		arr, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("the JSON file must hold an array, got %s", typeName(v))
		}
		return arr, nil
	case "JSONL":
		var out []any
		sc := bufio.NewScanner(bytes.NewReader(body))
		sc.Buffer(make([]byte, 0, 64*1024), MaxPayloadBytes+1)
		line := 0
		for sc.Scan() {
			line++
			t := strings.TrimSpace(sc.Text())
			if t == "" {
				continue
			}
			v, err := decodeJSON([]byte(t))
			if err != nil {
				return nil, fmt.Errorf("line %d: invalid JSON: %w", line, err)
			}
			out = append(out, v)
		}
		if err := sc.Err(); err != nil {
			return nil, err
		}
		return out, nil
	case "CSV":
		cr := csv.NewReader(bytes.NewReader(body))
		if rd.csvDelimiter != "" {
			cr.Comma = rune(rd.csvDelimiter[0])
		}
		cr.FieldsPerRecord = -1
		headers := rd.csvHeaders
		var out []any
		first := true
		for {
			rec, err := cr.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("invalid CSV: %w", err)
			}
			if first && rd.csvHeaderLoc == "FIRST_ROW" {
				headers = rec
				first = false
				continue
			}
			first = false
			if len(rec) > len(headers) {
				return nil, fmt.Errorf("a CSV row has %d fields but there are %d headers", len(rec), len(headers))
			}
			m := map[string]any{}
			for i, h := range headers {
				if i < len(rec) {
					m[h] = rec[i]
				} else {
					m[h] = ""
				}
			}
			out = append(out, m)
		}
		return out, nil
	}
	return nil, fmt.Errorf("InputType %s is not supported", rd.inputType)
}

// writeResults writes the ResultWriter files (manifest.json,
// SUCCEEDED_0.json, FAILED_0.json) under Prefix/<map run id>/ and returns
// the Map state's result.
func (r *stateRun) writeResults(ctx context.Context, eff any, mapRunArn, runID string, results []childResult) (any, *Error) {
	fail := func(format string, args ...any) *Error { return errorf(ErrResultWriterFailed, format, args...) }
	s3 := r.ex.opts.S3
	if s3 == nil {
		return nil, fail("no S3 client is configured for the ResultWriter")
	}
	pv, err := r.st.mapSpec.writer.params.eval(r.env(eff, "ResultWriter.Parameters", ErrRuntime))
	if err != nil {
		return nil, err
	}
	pm, _ := pv.(map[string]any)
	bucket, _ := pm["Bucket"].(string)
	prefix, _ := pm["Prefix"].(string)
	if bucket == "" {
		return nil, fail("The ResultWriter parameters must include a Bucket")
	}
	dir := runID
	if prefix != "" {
		dir = strings.TrimSuffix(prefix, "/") + "/" + runID
	}
	var ok, bad []any
	for _, c := range results {
		e := map[string]any{
			"ExecutionArn":    r.ex.opts.ExecutionArn + "/" + c.Name,
			"Input":           mustJSON(c.Input),
			"InputDetails":    map[string]any{"Included": true},
			"Name":            c.Name,
			"RedriveCount":    json.Number("0"),
			"RedriveStatus":   "NOT_REDRIVABLE",
			"StartDate":       formatTime(c.StartDate),
			"StateMachineArn": r.ex.opts.StateMachineArn,
			"StopDate":        formatTime(c.StopDate),
		}
		if c.Err != nil {
			e["Status"] = StatusFailed
			e["Error"] = c.Err.Name
			e["Cause"] = c.Err.Cause
			bad = append(bad, e)
		} else {
			e["Status"] = StatusSucceeded
			e["Output"] = mustJSON(c.Output)
			e["OutputDetails"] = map[string]any{"Included": true}
			ok = append(ok, e)
		}
	}
	files := map[string][]any{"SUCCEEDED": {}, "FAILED": {}, "PENDING": {}}
	for status, list := range map[string][]any{"SUCCEEDED": ok, "FAILED": bad} {
		if len(list) == 0 {
			continue
		}
		key := dir + "/" + status + "_0.json"
		body, _ := encodeJSON(list)
		if _, perr := s3.PutObject(ctx, bucket, key, body, "application/json"); perr != nil {
			return nil, fail("putObject s3://%s/%s failed: %v", bucket, key, perr)
		}
		files[status] = append(files[status], map[string]any{"Key": key, "Size": json.Number(fmt.Sprint(len(body)))})
	}
	manifest := map[string]any{
		"DestinationBucket": bucket,
		"MapRunArn":         mapRunArn,
		"ResultFiles":       map[string]any{"SUCCEEDED": files["SUCCEEDED"], "FAILED": files["FAILED"], "PENDING": files["PENDING"]},
	}
	mkey := dir + "/manifest.json"
	body, _ := encodeJSON(manifest)
	if _, perr := s3.PutObject(ctx, bucket, mkey, body, "application/json"); perr != nil {
		return nil, fail("putObject s3://%s/%s failed: %v", bucket, mkey, perr)
	}
	return map[string]any{
		"MapRunArn":           mapRunArn,
		"ResultWriterDetails": map[string]any{"Bucket": bucket, "Key": mkey},
	}, nil
}
