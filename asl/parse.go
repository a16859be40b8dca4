package asl

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/scones/scones/asl/intrinsic"
)

// diags collects diagnostics.
type diags struct{ list []Diagnostic }

func (d *diags) add(code, loc, format string, args ...any) {
	d.list = append(d.list, Diagnostic{Severity: SeverityError, Code: code, Message: fmt.Sprintf(format, args...), Location: loc})
}

func (d *diags) schema(loc, format string, args ...any) {
	d.add(CodeSchemaValidationFailed, loc, format, args...)
}

// MaxDefinitionBytes is AWS's limit on a definition's size (1 MB).
const MaxDefinitionBytes = 1 << 20

// Parse parses and validates a state machine definition. On failure the
// error is a *ValidationError listing every problem found (with AWS's
// codes and "/States/Name/Field" locations); Parse never panics.
func Parse(definition []byte) (sm *StateMachine, err error) {
	defer func() {
		if r := recover(); r != nil {
			sm = nil
			err = &ValidationError{Diagnostics: []Diagnostic{{Severity: SeverityError, Code: CodeSchemaValidationFailed, Message: fmt.Sprintf("internal error while validating the definition: %v", r)}}}
		}
	}()
	d := &diags{}
	if len(definition) > MaxDefinitionBytes {
		d.schema("", "The definition is larger than %d bytes", MaxDefinitionBytes)
		return nil, &ValidationError{Diagnostics: d.list}
	}
	raw, derr := decodeJSON(definition)
	if derr != nil {
		d.add(CodeInvalidJSONDescription, "", "The definition is not valid JSON: %v", derr)
		return nil, &ValidationError{Diagnostics: d.list}
	}
	if dup := duplicateKey(definition); dup != "" {
		d.add(CodeInvalidJSONDescription, "", "Duplicate field %s", dup)
	}
	top, ok := raw.(map[string]any)
	if !ok {
		d.add(CodeInvalidJSONDescription, "", "The definition must be a JSON object")
		return nil, &ValidationError{Diagnostics: d.list}
	}
	sm = &StateMachine{QueryLanguage: LangJSONPath}
	for k := range top {
		switch k {
		case "StartAt", "States", "Comment", "Version", "TimeoutSeconds", "QueryLanguage":
		default:
			d.schema("", "Field '%s' is not supported", k)
		}
	}
	if c, ok := top["Comment"]; ok {
		s, ok := c.(string)
		if !ok {
			d.schema("/Comment", "The value of 'Comment' must be a string")
		}
		sm.Comment = s
	}
	if v, ok := top["Version"]; ok {
		if s, _ := v.(string); s != "1.0" {
			d.schema("/Version", "The value of 'Version' must be \"1.0\"")
		}
	}
	if v, ok := top["TimeoutSeconds"]; ok {
		n, ok := intValue(v)
		if !ok || n <= 0 || n > 99999999 {
			d.schema("/TimeoutSeconds", "The value of 'TimeoutSeconds' must be a positive integer no larger than 99999999")
		}
		sm.TimeoutSeconds = n
	}
	if v, ok := top["QueryLanguage"]; ok {
		s, _ := v.(string)
		if s != LangJSONPath && s != LangJSONata {
			d.schema("/QueryLanguage", "The value of 'QueryLanguage' must be one of [JSONPath, JSONata]")
		} else {
			sm.QueryLanguage = s
		}
	}
	p := &parser{d: d, topLang: sm.QueryLanguage, names: map[string]string{}}
	sm.root = p.machine(top, "", sm.QueryLanguage)
	var errs, warns []Diagnostic
	for _, x := range d.list {
		if x.Severity == SeverityWarning {
			warns = append(warns, x)
		} else {
			errs = append(errs, x)
		}
	}
	if len(errs) > 0 {
		return nil, &ValidationError{Diagnostics: append(errs, warns...)}
	}
	sm.Warnings = warns
	return sm, nil
}

// duplicateKey finds a JSON object key written twice (encoding/json keeps
// the last silently; AWS rejects the definition).
func duplicateKey(b []byte) string {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	type frame struct {
		obj  bool
		keys map[string]bool
		want bool // next string token is a key
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.obj && top.want {
			if k, ok := tok.(string); ok {
				if top.keys[k] {
					return fmt.Sprintf("%q", k)
				}
				top.keys[k] = true
				top.want = false
				continue
			}
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{obj: true, keys: map[string]bool{}, want: true})
			continue
		case json.Delim('['):
			stack = append(stack, &frame{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		if len(stack) > 0 && stack[len(stack)-1].obj {
			stack[len(stack)-1].want = true
		}
	}
}

type parser struct {
	d       *diags
	topLang string
	names   map[string]string // state name -> location, across the whole definition
}

// fields each state type accepts (besides Type, Comment, QueryLanguage).
var stateFields = map[string][]string{
	TypePass:     {"Next", "End", "InputPath", "OutputPath", "Parameters", "ResultPath", "Result", "Assign", "Output"},
	TypeTask:     {"Next", "End", "Resource", "InputPath", "OutputPath", "Parameters", "ResultSelector", "ResultPath", "Retry", "Catch", "TimeoutSeconds", "TimeoutSecondsPath", "HeartbeatSeconds", "HeartbeatSecondsPath", "Assign", "Output", "Arguments", "Credentials"},
	TypeChoice:   {"Choices", "Default", "InputPath", "OutputPath", "Assign", "Output"},
	TypeWait:     {"Next", "End", "Seconds", "SecondsPath", "Timestamp", "TimestampPath", "InputPath", "OutputPath", "Assign", "Output"},
	TypeSucceed:  {"InputPath", "OutputPath", "Output"},
	TypeFail:     {"Error", "ErrorPath", "Cause", "CausePath"},
	TypeParallel: {"Next", "End", "Branches", "InputPath", "OutputPath", "Parameters", "ResultSelector", "ResultPath", "Retry", "Catch", "Assign", "Output", "Arguments"},
	TypeMap:      {"Next", "End", "Iterator", "ItemProcessor", "ItemsPath", "Items", "ItemSelector", "Parameters", "ItemReader", "ItemBatcher", "ResultWriter", "MaxConcurrency", "MaxConcurrencyPath", "ToleratedFailurePercentage", "ToleratedFailurePercentagePath", "ToleratedFailureCount", "ToleratedFailureCountPath", "Label", "InputPath", "OutputPath", "ResultSelector", "ResultPath", "Retry", "Catch", "Assign", "Output"},
}

var jsonPathOnly = map[string]bool{"InputPath": true, "OutputPath": true, "Parameters": true, "ResultSelector": true, "ResultPath": true, "Result": true, "ItemsPath": true, "SecondsPath": true, "TimestampPath": true, "ErrorPath": true, "CausePath": true, "TimeoutSecondsPath": true, "HeartbeatSecondsPath": true, "MaxConcurrencyPath": true, "ToleratedFailurePercentagePath": true, "ToleratedFailureCountPath": true}

var jsonataOnly = map[string]bool{"Output": true, "Arguments": true, "Items": true}

func (p *parser) machine(m map[string]any, loc, lang string) *machine {
	d := p.d
	mc := &machine{states: map[string]*state{}, loc: loc}
	start, ok := m["StartAt"].(string)
	if !ok {
		if _, present := m["StartAt"]; present {
			d.schema(loc+"/StartAt", "The value of 'StartAt' must be a string")
		} else {
			d.schema(loc, "These fields are required: [StartAt]")
		}
	}
	mc.startAt = start
	states, ok := m["States"].(map[string]any)
	if !ok {
		if _, present := m["States"]; present {
			d.schema(loc+"/States", "The value of 'States' must be an object")
		} else {
			d.schema(loc, "These fields are required: [States]")
		}
		return mc
	}
	if len(states) == 0 {
		d.schema(loc+"/States", "'States' must contain at least one state")
		return mc
	}
	mc.names = sortedKeys(states)
	for _, name := range mc.names {
		sloc := loc + "/States/" + name
		if len(name) > 80 || name == "" {
			d.schema(sloc, "State names must be 1 to 80 characters long")
		}
		if prev, dup := p.names[name]; dup {
			d.add(CodeDuplicateStateName, sloc, "Duplicate State name: %s (also at %s)", name, prev)
		}
		p.names[name] = sloc
		raw, ok := states[name].(map[string]any)
		if !ok {
			d.schema(sloc, "A state must be an object")
			continue
		}
		if st := p.state(name, sloc, raw, lang); st != nil {
			mc.states[name] = st
		}
	}
	if start != "" {
		if _, ok := states[start]; !ok {
			d.add(CodeMissingTransitionTarget, loc+"/StartAt", "Missing 'StartAt' target: %s", start)
		}
	}
	p.graph(mc, states)
	return mc
}

// graph checks transitions, reachability and terminal states.
func (p *parser) graph(mc *machine, raw map[string]any) {
	d := p.d
	edges := map[string][]string{}
	terminal := false
	missing := false
	for _, name := range mc.names {
		st := mc.states[name]
		if st == nil {
			continue
		}
		check := func(target, loc, field string) {
			if target == "" {
				return
			}
			if _, ok := raw[target]; !ok {
				d.add(CodeMissingTransitionTarget, loc, "Missing '%s' target: %s", field, target)
				missing = true
				return
			}
			edges[name] = append(edges[name], target)
		}
		if st.next != "" {
			check(st.next, st.loc+"/Next", "Next")
		}
		if st.end || st.typ == TypeSucceed || st.typ == TypeFail {
			terminal = true
		}
		for i, c := range st.choices {
			check(c.next, fmt.Sprintf("%s/Choices/%d/Next", st.loc, i), "Next")
		}
		check(st.deflt, st.loc+"/Default", "Default")
		for i, c := range st.catch {
			check(c.next, fmt.Sprintf("%s/Catch/%d/Next", st.loc, i), "Next")
		}
	}
	if _, ok := raw[mc.startAt]; ok {
		seen := map[string]bool{mc.startAt: true}
		queue := []string{mc.startAt}
		for len(queue) > 0 {
			n := queue[0]
			queue = queue[1:]
			for _, t := range edges[n] {
				if !seen[t] {
					seen[t] = true
					queue = append(queue, t)
				}
			}
		}
		for _, name := range mc.names {
			if !seen[name] {
				d.add(CodeMissingTransitionTarget, mc.loc+"/States/"+name, "State \"%s\" is not reachable.", name)
			}
		}
	}
	// A missing target already explains a machine that cannot end.
	if !terminal && !missing && len(mc.names) > 0 {
		d.add(CodeMissingEndState, mc.loc, "Workflow has no terminal state")
	}
}

func (p *parser) state(name, loc string, m map[string]any, parentLang string) *state {
	d := p.d
	typ, ok := m["Type"].(string)
	if !ok {
		if _, present := m["Type"]; present {
			d.schema(loc+"/Type", "The value of 'Type' must be a string")
		} else {
			d.schema(loc, "These fields are required: [Type]")
		}
		return nil
	}
	allowed, known := stateFields[typ]
	if !known {
		d.schema(loc+"/Type", "The value for the field 'Type' must be one of [Pass, Task, Choice, Wait, Succeed, Fail, Parallel, Map], got '%s'", typ)
		return nil
	}
	st := &state{name: name, typ: typ, loc: loc, lang: parentLang}
	if v, ok := m["QueryLanguage"]; ok {
		s, _ := v.(string)
		switch {
		case s != LangJSONPath && s != LangJSONata:
			d.schema(loc+"/QueryLanguage", "The value of 'QueryLanguage' must be one of [JSONPath, JSONata]")
		case s == LangJSONPath && p.topLang == LangJSONata:
			d.schema(loc, "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine")
		default:
			st.lang = s
		}
	}
	allow := map[string]bool{"Type": true, "Comment": true, "QueryLanguage": true}
	for _, f := range allowed {
		allow[f] = true
	}
	for _, k := range sortedKeys(m) {
		if !allow[k] {
			d.schema(loc, "Field '%s' is not supported", k)
			continue
		}
		if st.lang == LangJSONata && jsonPathOnly[k] {
			d.schema(loc, "The QueryLanguage is set to 'JSONata', but field '%s' is only supported for the 'JSONPath' QueryLanguage", k)
		}
		if st.lang == LangJSONPath && jsonataOnly[k] {
			d.schema(loc, "The QueryLanguage is set to 'JSONPath', but field '%s' is only supported for the 'JSONata' QueryLanguage", k)
		}
	}
	if c, ok := m["Comment"]; ok {
		if _, ok := c.(string); !ok {
			d.schema(loc+"/Comment", "The value of 'Comment' must be a string")
		}
	}
	jp := st.lang == LangJSONPath

	// Transitions.
	if typ != TypeChoice && typ != TypeSucceed && typ != TypeFail {
		next, hasNext := m["Next"]
		end, hasEnd := m["End"]
		if hasNext {
			s, ok := next.(string)
			if !ok || s == "" {
				d.schema(loc+"/Next", "The value of 'Next' must be a non-empty string")
			}
			st.next = s
		}
		if hasEnd {
			b, ok := end.(bool)
			if !ok {
				d.schema(loc+"/End", "The value of 'End' must be a boolean")
			}
			st.end = b
		}
		switch {
		case hasNext && hasEnd && st.end:
			d.schema(loc, "Field 'Next' cannot be used together with 'End': true")
		case !hasNext && !st.end:
			d.schema(loc, "Either 'Next' or 'End': true is required")
		}
	}

	// Input/output processing.
	if jp {
		st.input = p.optPath(m, "InputPath", loc)
		if typ != TypeFail {
			st.output = p.optPath(m, "OutputPath", loc)
		}
		if v, ok := m["Parameters"]; ok && typ != TypeMap {
			if _, isObj := v.(map[string]any); !isObj && typ != TypePass {
				d.schema(loc+"/Parameters", "The value of 'Parameters' must be an object")
			}
			st.params = compileJSONPathTemplate(v, loc+"/Parameters", d)
		}
		if v, ok := m["ResultSelector"]; ok {
			if _, isObj := v.(map[string]any); !isObj {
				d.schema(loc+"/ResultSelector", "The value of 'ResultSelector' must be an object")
			}
			st.resultSelector = compileJSONPathTemplate(v, loc+"/ResultSelector", d)
		}
		if v, ok := m["ResultPath"]; ok {
			st.hasResultPath = true
			st.resultPath, st.resultPathNull = p.resultPath(v, loc+"/ResultPath")
		}
	} else {
		if v, ok := m["Arguments"]; ok {
			st.params = compileJSONataTemplate(v, loc+"/Arguments", "Arguments", d)
			if s, isStr := v.(string); isStr {
				if _, isExpr := jsonataSource(s); !isExpr {
					d.schema(loc+"/Arguments", "The value of 'Arguments' must be an object or a JSONata expression")
				}
			} else if _, isObj := v.(map[string]any); !isObj {
				d.schema(loc+"/Arguments", "The value of 'Arguments' must be an object or a JSONata expression")
			}
		}
		if v, ok := m["Output"]; ok {
			st.outputTmpl = compileJSONataTemplate(v, loc+"/Output", "Output", d)
		}
	}
	if v, ok := m["Assign"]; ok {
		st.assign = compileAssign(v, loc+"/Assign", st.lang, d)
	}

	switch typ {
	case TypePass:
		if v, ok := m["Result"]; ok {
			st.result, st.hasResult = v, true
		}
	case TypeTask:
		p.task(st, m)
	case TypeChoice:
		p.choice(st, m)
	case TypeWait:
		p.wait(st, m)
	case TypeFail:
		p.fail(st, m)
	case TypeParallel:
		arr, ok := m["Branches"].([]any)
		if !ok || len(arr) == 0 {
			d.schema(loc, "These fields are required: [Branches] (a non-empty array)")
		}
		for i, b := range arr {
			bm, ok := b.(map[string]any)
			bloc := fmt.Sprintf("%s/Branches/%d", loc, i)
			if !ok {
				d.schema(bloc, "A branch must be an object")
				continue
			}
			p.checkContainerFields(bm, bloc)
			st.branches = append(st.branches, p.machine(bm, bloc, st.lang))
		}
	case TypeMap:
		p.mapState(st, m)
	}
	if typ == TypeTask || typ == TypeParallel || typ == TypeMap {
		st.retry = p.retry(m["Retry"], loc+"/Retry", m)
		st.catch = p.catch(m["Catch"], loc+"/Catch", st.lang, m)
	}
	if st.lang == LangJSONata {
		p.checkStatesRefs(st)
	}
	return st
}

var (
	reStatesResult      = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\$states\.result\b`) })
	reStatesErrorOutput = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\$states\.errorOutput\b`) })
)

// checkStatesRefs rejects JSONata expressions that read $states.result
// where a state has no result yet (anywhere but the Output and Assign of
// Task, Parallel and Map) and $states.errorOutput outside a catcher.
func (p *parser) checkStatesRefs(st *state) {
	hasResult := st.typ == TypeTask || st.typ == TypeParallel || st.typ == TypeMap
	check := func(t *tmpl, loc string, result, errOut bool) {
		walkExprs(t, func(e *jexpr) {
			if !result && reStatesResult().MatchString(e.src) {
				p.d.schema(loc, "The JSONata expression '%s' in the field '%s' reads $states.result, which is only available in the Output and Assign of Task, Parallel and Map states", e.src, e.field)
			}
			if !errOut && reStatesErrorOutput().MatchString(e.src) {
				p.d.schema(loc, "The JSONata expression '%s' in the field '%s' reads $states.errorOutput, which is only available in a Catch's Output and Assign", e.src, e.field)
			}
		})
	}
	check(st.params, st.loc+"/Arguments", false, false)
	check(st.outputTmpl, st.loc+"/Output", hasResult, false)
	check(st.assign, st.loc+"/Assign", hasResult, false)
	check(st.credentials, st.loc+"/Credentials", false, false)
	check(st.failError, st.loc+"/Error", false, false)
	check(st.failCause, st.loc+"/Cause", false, false)
	check(st.waitTimestamp, st.loc+"/Timestamp", false, false)
	for _, f := range []*numField{st.timeout, st.heartbeat, st.waitSeconds} {
		if f != nil && f.expr != nil {
			check(&tmpl{kind: tJSONata, expr: f.expr}, st.loc+"/"+f.field, false, false)
		}
	}
	for i, c := range st.choices {
		loc := fmt.Sprintf("%s/Choices/%d", st.loc, i)
		if c.cond != nil {
			check(&tmpl{kind: tJSONata, expr: c.cond}, loc+"/Condition", false, false)
		}
		check(c.assign, loc+"/Assign", false, false)
		check(c.output, loc+"/Output", false, false)
	}
	for i, c := range st.catch {
		loc := fmt.Sprintf("%s/Catch/%d", st.loc, i)
		check(c.assign, loc+"/Assign", false, true)
		check(c.output, loc+"/Output", false, true)
	}
	if ms := st.mapSpec; ms != nil {
		check(ms.items, st.loc+"/Items", false, false)
		check(ms.itemSelector, st.loc+"/ItemSelector", false, false)
		for _, f := range []*numField{ms.maxConc, ms.tolPct, ms.tolCount} {
			if f != nil && f.expr != nil {
				check(&tmpl{kind: tJSONata, expr: f.expr}, st.loc+"/"+f.field, false, false)
			}
		}
	}
}

// walkExprs calls fn for every JSONata expression in t.
func walkExprs(t *tmpl, fn func(*jexpr)) {
	if t == nil {
		return
	}
	if t.expr != nil {
		fn(t.expr)
	}
	for _, f := range t.fields {
		walkExprs(f.val, fn)
	}
	for _, it := range t.items {
		walkExprs(it, fn)
	}
}

func (p *parser) checkContainerFields(m map[string]any, loc string) {
	for k := range m {
		switch k {
		case "StartAt", "States", "Comment":
		case "ProcessorConfig":
			if !strings.HasSuffix(loc, "/ItemProcessor") {
				p.d.schema(loc, "Field '%s' is not supported", k)
			}
		default:
			p.d.schema(loc, "Field '%s' is not supported", k)
		}
	}
}

func (p *parser) optPath(m map[string]any, field, loc string) *optPath {
	v, ok := m[field]
	if !ok {
		return nil
	}
	if v == nil {
		return &optPath{null: true}
	}
	s, ok := v.(string)
	if !ok {
		p.d.schema(loc+"/"+field, "The value of '%s' must be a path string or null", field)
		return nil
	}
	jp, err := compilePath(s, true)
	if err != nil {
		p.d.schema(loc+"/"+field, "%v", err)
		return nil
	}
	return &optPath{p: jp}
}

func (p *parser) resultPath(v any, loc string) (*jpath, bool) {
	if v == nil {
		return nil, true
	}
	s, ok := v.(string)
	if !ok {
		p.d.schema(loc, "The value of 'ResultPath' must be a reference path string or null")
		return nil, false
	}
	jp, err := compileRefPath(s, false)
	if err != nil {
		p.d.schema(loc, "%v", err)
		return nil, false
	}
	if jp.root != rootInput {
		p.d.schema(loc, "The ResultPath '%s' must refer to the state input ($)", s)
	}
	return jp, false
}

// compileAssign compiles an Assign block: an object whose keys are
// variable names (JSONPath: "name.$" for a path or intrinsic value).
func compileAssign(v any, loc, lang string, d *diags) *tmpl {
	m, ok := v.(map[string]any)
	if !ok {
		d.schema(loc, "The value of 'Assign' must be an object")
		return nil
	}
	for k := range m {
		name := strings.TrimSuffix(k, ".$")
		if lang == LangJSONata {
			name = k
		}
		if !validVarName(name) {
			d.schema(loc+"/"+k, "The variable name '%s' is invalid: it must start with a letter or underscore and contain only letters, digits and underscores (at most 80 characters)", name)
		}
		if name == "states" {
			d.schema(loc+"/"+k, "The variable name 'states' is reserved")
		}
	}
	if lang == LangJSONata {
		return compileJSONataTemplate(v, loc, "Assign", d)
	}
	return compileJSONPathTemplate(v, loc, d)
}

// numberField reads an integer field given literally, as a "...Path"
// (JSONPath), or as a JSONata expression.
func (p *parser) numberField(m map[string]any, field, loc, lang string, minV, maxV int64) *numField {
	d := p.d
	v, has := m[field]
	pv, hasPath := m[field+"Path"]
	if has && hasPath {
		d.schema(loc, "Fields '%s' and '%sPath' are mutually exclusive", field, field)
	}
	switch {
	case has:
		if s, ok := v.(string); ok && lang == LangJSONata {
			src, isExpr := jsonataSource(s)
			if !isExpr {
				d.schema(loc+"/"+field, "The value of '%s' must be an integer or a JSONata expression", field)
				return nil
			}
			e, err := compileJexpr(src, field)
			if err != nil {
				d.schema(loc+"/"+field, "%v", err)
				return nil
			}
			e.loc = awsLocation(loc + "/" + field)
			return &numField{expr: e, field: field}
		}
		n, ok := intValue(v)
		if !ok || n < minV || n > maxV {
			d.schema(loc+"/"+field, "The value of '%s' must be an integer between %d and %d", field, minV, maxV)
			return nil
		}
		return &numField{lit: n, field: field}
	case hasPath:
		s, ok := pv.(string)
		if !ok {
			d.schema(loc+"/"+field+"Path", "The value of '%sPath' must be a reference path", field)
			return nil
		}
		jp, err := compileRefPath(s, true)
		if err != nil {
			d.schema(loc+"/"+field+"Path", "%v", err)
			return nil
		}
		return &numField{path: jp, field: field + "Path"}
	}
	return nil
}

func (p *parser) task(st *state, m map[string]any) {
	d := p.d
	r, ok := m["Resource"].(string)
	if !ok {
		d.schema(st.loc, "These fields are required: [Resource]")
		return
	}
	if _, _, _, ok := classifyResource(r); !ok {
		d.add(CodeInvalidResource, st.loc+"/Resource", "Value is not a valid resource ARN or is not supported by this engine: %s (supported: arn:aws:states:::service:action integrations, Lambda function ARNs, activity ARNs)", r)
	}
	st.resource = r
	st.timeout = p.numberField(m, "TimeoutSeconds", st.loc, st.lang, 1, 99999999)
	st.heartbeat = p.numberField(m, "HeartbeatSeconds", st.loc, st.lang, 1, 99999999)
	if st.timeout != nil && st.heartbeat != nil && st.timeout.path == nil && st.heartbeat.path == nil &&
		st.timeout.expr == nil && st.heartbeat.expr == nil && st.heartbeat.lit >= st.timeout.lit {
		d.schema(st.loc+"/HeartbeatSeconds", "HeartbeatSeconds must be smaller than TimeoutSeconds")
	}
	if v, ok := m["Credentials"]; ok {
		if st.lang == LangJSONata {
			st.credentials = compileJSONataTemplate(v, st.loc+"/Credentials", "Credentials", d)
		} else {
			st.credentials = compileJSONPathTemplate(v, st.loc+"/Credentials", d)
		}
	}
}

func (p *parser) choice(st *state, m map[string]any) {
	d := p.d
	arr, ok := m["Choices"].([]any)
	if !ok || len(arr) == 0 {
		d.schema(st.loc, "These fields are required: [Choices] (a non-empty array)")
	}
	for i, c := range arr {
		cloc := fmt.Sprintf("%s/Choices/%d", st.loc, i)
		var r *choiceRule
		if st.lang == LangJSONata {
			r = compileJSONataChoice(c, cloc, d)
		} else {
			r = compileChoiceRule(c, cloc, true, d)
		}
		if r != nil {
			st.choices = append(st.choices, r)
		}
	}
	if v, ok := m["Default"]; ok {
		s, ok := v.(string)
		if !ok || s == "" {
			d.schema(st.loc+"/Default", "The value of 'Default' must be a state name")
		}
		st.deflt = s
	}
}

func (p *parser) wait(st *state, m map[string]any) {
	d := p.d
	n := 0
	for _, f := range []string{"Seconds", "SecondsPath", "Timestamp", "TimestampPath"} {
		if _, ok := m[f]; ok {
			n++
		}
	}
	if n != 1 {
		d.schema(st.loc, "A Wait state must have exactly one of Seconds, SecondsPath, Timestamp, TimestampPath")
	}
	if _, ok := m["Seconds"]; ok {
		st.waitSeconds = p.numberField(m, "Seconds", st.loc, st.lang, 0, 99999999)
	} else if _, ok := m["SecondsPath"]; ok {
		st.waitSeconds = p.numberField(m, "Seconds", st.loc, st.lang, 0, 99999999)
	}
	if v, ok := m["Timestamp"]; ok {
		s, isStr := v.(string)
		if st.lang == LangJSONata && isStr {
			if _, isExpr := jsonataSource(s); isExpr {
				st.waitTimestamp = compileJSONataTemplate(s, st.loc+"/Timestamp", "Timestamp", d)
				return
			}
		}
		if _, ok := parseTimestamp(s); !ok || !isStr {
			d.schema(st.loc+"/Timestamp", "The value of 'Timestamp' must be an ISO-8601 timestamp such as 2016-03-14T01:59:00Z")
		}
		st.waitTimestamp = &tmpl{kind: tLiteral, lit: s}
	}
	if v, ok := m["TimestampPath"]; ok {
		s, _ := v.(string)
		jp, err := compileRefPath(s, true)
		if err != nil {
			d.schema(st.loc+"/TimestampPath", "%v", err)
		}
		st.waitTSPath = jp
	}
}

func (p *parser) fail(st *state, m map[string]any) {
	d := p.d
	for _, f := range []string{"Error", "Cause"} {
		v, has := m[f]
		pv, hasPath := m[f+"Path"]
		if has && hasPath {
			d.schema(st.loc, "Fields '%s' and '%sPath' are mutually exclusive", f, f)
		}
		var t *tmpl
		var ref *valueRef
		if has {
			s, ok := v.(string)
			if !ok {
				d.schema(st.loc+"/"+f, "The value of '%s' must be a string", f)
				continue
			}
			if st.lang == LangJSONata {
				t = compileJSONataTemplate(s, st.loc+"/"+f, f, d)
			} else {
				t = &tmpl{kind: tLiteral, lit: s}
			}
		}
		if hasPath {
			s, ok := pv.(string)
			if !ok {
				d.schema(st.loc+"/"+f+"Path", "The value of '%sPath' must be a reference path or an intrinsic function", f)
				continue
			}
			if intrinsic.IsIntrinsic(s) {
				c, err := intrinsic.Parse(s)
				if err != nil {
					d.schema(st.loc+"/"+f+"Path", "%v", err)
					continue
				}
				ref = &valueRef{call: c}
			} else {
				jp, err := compileRefPath(s, true)
				if err != nil {
					d.schema(st.loc+"/"+f+"Path", "%v", err)
					continue
				}
				ref = &valueRef{path: jp}
			}
		}
		if f == "Error" {
			st.failError, st.failErrorPath = t, ref
		} else {
			st.failCause, st.failCausePath = t, ref
		}
	}
}

func (p *parser) errorEquals(v any, loc string, i, n int) []string {
	d := p.d
	arr, ok := v.([]any)
	if !ok || len(arr) == 0 {
		d.schema(loc, "These fields are required: [ErrorEquals] (a non-empty array of error names)")
		return nil
	}
	var out []string
	for _, e := range arr {
		s, ok := e.(string)
		if !ok || s == "" {
			d.schema(loc+"/ErrorEquals", "Error names must be non-empty strings")
			continue
		}
		if s == ErrAll && (len(arr) != 1 || i != n-1) {
			d.schema(loc+"/ErrorEquals", "States.ALL must appear alone in ErrorEquals and in the last %s", map[bool]string{true: "retrier", false: "catcher"}[strings.Contains(loc, "/Retry/")])
		}
		out = append(out, s)
	}
	return out
}

func (p *parser) retry(v any, loc string, _ map[string]any) []*retrier {
	if v == nil {
		return nil
	}
	d := p.d
	arr, ok := v.([]any)
	if !ok {
		d.schema(loc, "The value of 'Retry' must be an array")
		return nil
	}
	var out []*retrier
	for i, e := range arr {
		rloc := fmt.Sprintf("%s/%d", loc, i)
		m, ok := e.(map[string]any)
		if !ok {
			d.schema(rloc, "A retrier must be an object")
			continue
		}
		r := &retrier{interval: 1, maxAttempts: 3, backoff: 2}
		for _, k := range sortedKeys(m) {
			val := m[k]
			switch k {
			case "ErrorEquals":
				r.errorEquals = p.errorEquals(val, rloc, i, len(arr))
			case "Comment":
			case "IntervalSeconds":
				n, ok := intValue(val)
				if !ok || n < 1 || n > 99999999 {
					d.schema(rloc+"/IntervalSeconds", "The value of 'IntervalSeconds' must be a positive integer")
				}
				r.interval = float64(n)
			case "MaxAttempts":
				n, ok := intValue(val)
				if !ok || n < 0 || n > 99999999 {
					d.schema(rloc+"/MaxAttempts", "The value of 'MaxAttempts' must be a non-negative integer")
				}
				r.maxAttempts = int(n)
			case "BackoffRate":
				f, ok := toFloat(val)
				if !ok || f < 1 {
					d.schema(rloc+"/BackoffRate", "The value of 'BackoffRate' must be a number not less than 1.0")
				}
				r.backoff = f
			case "MaxDelaySeconds":
				n, ok := intValue(val)
				if !ok || n < 1 || n > 31622400 {
					d.schema(rloc+"/MaxDelaySeconds", "The value of 'MaxDelaySeconds' must be an integer between 1 and 31622400")
				}
				r.maxDelay = float64(n)
			case "JitterStrategy":
				s, _ := val.(string)
				switch s {
				case "FULL":
					r.jitterFull = true
				case "NONE":
				default:
					d.schema(rloc+"/JitterStrategy", "The value of 'JitterStrategy' must be one of [FULL, NONE]")
				}
			default:
				d.schema(rloc, "Field '%s' is not supported", k)
			}
		}
		if _, ok := m["ErrorEquals"]; !ok {
			d.schema(rloc, "These fields are required: [ErrorEquals]")
		}
		out = append(out, r)
	}
	return out
}

func (p *parser) catch(v any, loc, lang string, _ map[string]any) []*catcher {
	if v == nil {
		return nil
	}
	d := p.d
	arr, ok := v.([]any)
	if !ok {
		d.schema(loc, "The value of 'Catch' must be an array")
		return nil
	}
	var out []*catcher
	for i, e := range arr {
		cloc := fmt.Sprintf("%s/%d", loc, i)
		m, ok := e.(map[string]any)
		if !ok {
			d.schema(cloc, "A catcher must be an object")
			continue
		}
		c := &catcher{}
		for _, k := range sortedKeys(m) {
			val := m[k]
			switch k {
			case "ErrorEquals":
				c.errorEquals = p.errorEquals(val, cloc, i, len(arr))
			case "Comment":
			case "Next":
				s, ok := val.(string)
				if !ok || s == "" {
					d.schema(cloc+"/Next", "The value of 'Next' must be a state name")
				}
				c.next = s
			case "ResultPath":
				if lang == LangJSONata {
					d.schema(cloc, "The QueryLanguage is set to 'JSONata', but field 'ResultPath' is only supported for the 'JSONPath' QueryLanguage")
					continue
				}
				c.hasResultPath = true
				c.resultPath, c.resultPathNull = p.resultPath(val, cloc+"/ResultPath")
			case "Assign":
				c.assign = compileAssign(val, cloc+"/Assign", lang, d)
			case "Output":
				if lang != LangJSONata {
					d.schema(cloc, "The QueryLanguage is set to 'JSONPath', but field 'Output' is only supported for the 'JSONata' QueryLanguage")
					continue
				}
				c.output = compileJSONataTemplate(val, cloc+"/Output", "Output", d)
			default:
				d.schema(cloc, "Field '%s' is not supported", k)
			}
		}
		if _, ok := m["ErrorEquals"]; !ok {
			d.schema(cloc, "These fields are required: [ErrorEquals]")
		}
		if _, ok := m["Next"]; !ok {
			d.schema(cloc, "These fields are required: [Next]")
		}
		out = append(out, c)
	}
	return out
}

func (p *parser) mapState(st *state, m map[string]any) {
	d := p.d
	ms := &mapSpec{}
	st.mapSpec = ms
	loc := st.loc
	_, hasIt := m["Iterator"]
	_, hasIP := m["ItemProcessor"]
	var procRaw map[string]any
	var ploc string
	switch {
	case hasIt && hasIP:
		d.schema(loc, "Fields 'Iterator' and 'ItemProcessor' are mutually exclusive")
	case hasIt:
		procRaw, _ = m["Iterator"].(map[string]any)
		ploc = loc + "/Iterator"
	case hasIP:
		procRaw, _ = m["ItemProcessor"].(map[string]any)
		ploc = loc + "/ItemProcessor"
	default:
		d.schema(loc, "These fields are required: [ItemProcessor]")
	}
	if procRaw == nil && (hasIt || hasIP) {
		d.schema(ploc, "The item processor must be an object")
	}
	if procRaw != nil {
		p.checkContainerFields(procRaw, ploc)
		if _, ok := procRaw["QueryLanguage"]; ok {
			d.schema(ploc, "Field 'QueryLanguage' is not supported")
		}
		if pc, ok := procRaw["ProcessorConfig"]; ok {
			pcm, ok := pc.(map[string]any)
			if !ok {
				d.schema(ploc+"/ProcessorConfig", "The value of 'ProcessorConfig' must be an object")
			}
			for k, v := range pcm {
				switch k {
				case "Mode":
					s, _ := v.(string)
					switch s {
					case "INLINE":
					case "DISTRIBUTED":
						ms.distributed = true
					default:
						d.schema(ploc+"/ProcessorConfig/Mode", "The value of 'Mode' must be one of [INLINE, DISTRIBUTED]")
					}
				case "ExecutionType":
					s, _ := v.(string)
					if s != "STANDARD" && s != "EXPRESS" {
						d.schema(ploc+"/ProcessorConfig/ExecutionType", "The value of 'ExecutionType' must be one of [STANDARD, EXPRESS]")
					}
					ms.executionType = s
				default:
					d.schema(ploc+"/ProcessorConfig", "Field '%s' is not supported", k)
				}
			}
		}
		// States inside the processor inherit the machine's top-level
		// query language, not the Map's (observed on AWS).
		ms.processor = p.machine(procRaw, ploc, p.topLang)
	}
	if ms.distributed && ms.executionType == "" {
		d.schema(ploc+"/ProcessorConfig", "These fields are required: [ExecutionType] for a DISTRIBUTED item processor")
	}
	distOnly := []string{"ItemReader", "ItemBatcher", "ResultWriter", "ToleratedFailurePercentage", "ToleratedFailurePercentagePath", "ToleratedFailureCount", "ToleratedFailureCountPath", "Label"}
	if !ms.distributed {
		for _, f := range distOnly {
			if _, ok := m[f]; ok {
				d.schema(loc, "Field '%s' is only supported by a Map state whose ItemProcessor has Mode DISTRIBUTED", f)
			}
		}
	}
	jp := st.lang == LangJSONPath
	if jp {
		ms.itemsPath = p.optPath(m, "ItemsPath", loc)
		if ms.itemsPath != nil && ms.itemsPath.null {
			d.schema(loc+"/ItemsPath", "The value of 'ItemsPath' must be a reference path")
		}
	} else if v, ok := m["Items"]; ok {
		switch x := v.(type) {
		case []any:
			ms.items = compileJSONataTemplate(x, loc+"/Items", "Items", d)
		case string:
			if _, isExpr := jsonataSource(x); !isExpr {
				d.schema(loc+"/Items", "The value of 'Items' must be an array or a JSONata expression")
			}
			ms.items = compileJSONataTemplate(x, loc+"/Items", "Items", d)
		default:
			d.schema(loc+"/Items", "The value of 'Items' must be an array or a JSONata expression")
		}
	}
	_, hasSel := m["ItemSelector"]
	_, hasParams := m["Parameters"]
	if hasSel && hasParams {
		d.schema(loc, "Fields 'ItemSelector' and 'Parameters' are mutually exclusive")
	}
	for _, f := range []string{"ItemSelector", "Parameters"} {
		v, ok := m[f]
		if !ok {
			continue
		}
		if _, isObj := v.(map[string]any); !isObj {
			if s, isStr := v.(string); !(isStr && !jp && strings.HasPrefix(s, "{%")) {
				d.schema(loc+"/"+f, "The value of '%s' must be an object", f)
			}
		}
		if jp {
			ms.itemSelector = compileJSONPathTemplate(v, loc+"/"+f, d)
		} else {
			ms.itemSelector = compileJSONataTemplate(v, loc+"/"+f, f, d)
		}
	}
	ms.maxConc = p.numberField(m, "MaxConcurrency", loc, st.lang, 0, 99999999)
	ms.tolPct = p.numberField(m, "ToleratedFailurePercentage", loc, st.lang, 0, 100)
	ms.tolCount = p.numberField(m, "ToleratedFailureCount", loc, st.lang, 0, 99999999)
	if v, ok := m["Label"]; ok {
		s, ok := v.(string)
		if !ok || len(s) > 40 || strings.ContainsAny(s, " <>{}[]?*\"#%\\^|~`$&,;:/") {
			d.schema(loc+"/Label", "The value of 'Label' must be a string of at most 40 characters without whitespace or special characters")
		}
		ms.label = s
	}
	if v, ok := m["ItemReader"]; ok {
		ms.reader = p.itemReader(v, loc+"/ItemReader", st.lang)
	}
	if v, ok := m["ItemBatcher"]; ok {
		ms.batcher = p.itemBatcher(v, loc+"/ItemBatcher", st.lang)
	}
	if v, ok := m["ResultWriter"]; ok {
		ms.writer = p.resultWriter(v, loc+"/ResultWriter", st.lang)
	}
}

func (p *parser) params(v any, loc, lang, field string) *tmpl {
	if lang == LangJSONata {
		return compileJSONataTemplate(v, loc, field, p.d)
	}
	return compileJSONPathTemplate(v, loc, p.d)
}

func (p *parser) itemReader(v any, loc, lang string) *itemReader {
	d := p.d
	m, ok := v.(map[string]any)
	if !ok {
		d.schema(loc, "The value of 'ItemReader' must be an object")
		return nil
	}
	r := &itemReader{}
	for _, k := range sortedKeys(m) {
		val := m[k]
		switch k {
		case "Resource":
			s, _ := val.(string)
			switch s {
			case "arn:aws:states:::s3:getObject", "arn:aws:states:::s3:listObjectsV2":
				r.resource = strings.TrimPrefix(s, "arn:aws:states:::")
			default:
				d.schema(loc+"/Resource", "The ItemReader resource '%s' is not supported by this engine (use arn:aws:states:::s3:getObject or arn:aws:states:::s3:listObjectsV2)", s)
			}
		case "Parameters":
			if lang == LangJSONata {
				d.schema(loc, "The QueryLanguage is set to 'JSONata', but field 'Parameters' is only supported for the 'JSONPath' QueryLanguage")
			}
			r.params = p.params(val, loc+"/Parameters", LangJSONPath, "Parameters")
		case "Arguments":
			if lang != LangJSONata {
				d.schema(loc, "The QueryLanguage is set to 'JSONPath', but field 'Arguments' is only supported for the 'JSONata' QueryLanguage")
			}
			r.params = p.params(val, loc+"/Arguments", LangJSONata, "Arguments")
		case "ReaderConfig":
			rc, ok := val.(map[string]any)
			if !ok {
				d.schema(loc+"/ReaderConfig", "The value of 'ReaderConfig' must be an object")
				continue
			}
			for _, rk := range sortedKeys(rc) {
				rv := rc[rk]
				switch rk {
				case "InputType":
					s, _ := rv.(string)
					switch s {
					case "JSON", "JSONL", "CSV":
						r.inputType = s
					default:
						d.schema(loc+"/ReaderConfig/InputType", "The InputType '%v' is not supported by this engine (JSON, JSONL, CSV)", rv)
					}
				case "CSVHeaderLocation":
					s, _ := rv.(string)
					if s != "FIRST_ROW" && s != "GIVEN" {
						d.schema(loc+"/ReaderConfig/CSVHeaderLocation", "The value of 'CSVHeaderLocation' must be one of [FIRST_ROW, GIVEN]")
					}
					r.csvHeaderLoc = s
				case "CSVHeaders":
					arr, ok := rv.([]any)
					if !ok {
						d.schema(loc+"/ReaderConfig/CSVHeaders", "The value of 'CSVHeaders' must be an array of strings")
					}
					for _, h := range arr {
						s, _ := h.(string)
						r.csvHeaders = append(r.csvHeaders, s)
					}
				case "CSVDelimiter":
					s, _ := rv.(string)
					switch s {
					case "COMMA":
						r.csvDelimiter = ","
					case "PIPE":
						r.csvDelimiter = "|"
					case "SEMICOLON":
						r.csvDelimiter = ";"
					case "SPACE":
						r.csvDelimiter = " "
					case "TAB":
						r.csvDelimiter = "\t"
					default:
						d.schema(loc+"/ReaderConfig/CSVDelimiter", "The value of 'CSVDelimiter' must be one of [COMMA, PIPE, SEMICOLON, SPACE, TAB]")
					}
				case "MaxItems", "MaxItemsPath":
					if r.maxItems == nil {
						r.maxItems = p.numberField(rc, "MaxItems", loc+"/ReaderConfig", lang, 0, 100000000)
					}
				default:
					d.schema(loc+"/ReaderConfig", "Field '%s' is not supported", rk)
				}
			}
		default:
			d.schema(loc, "Field '%s' is not supported", k)
		}
	}
	if r.resource == "" {
		d.schema(loc, "These fields are required: [Resource]")
	}
	if r.resource == "s3:getObject" && r.inputType == "" {
		d.schema(loc+"/ReaderConfig", "These fields are required: [InputType] for the s3:getObject ItemReader")
	}
	if r.inputType == "CSV" && r.csvHeaderLoc == "" {
		d.schema(loc+"/ReaderConfig", "These fields are required: [CSVHeaderLocation] for CSV input")
	}
	if r.csvHeaderLoc == "GIVEN" && len(r.csvHeaders) == 0 {
		d.schema(loc+"/ReaderConfig", "These fields are required: [CSVHeaders] when CSVHeaderLocation is GIVEN")
	}
	if r.params == nil {
		d.schema(loc, "These fields are required: [%s]", map[bool]string{true: "Arguments", false: "Parameters"}[lang == LangJSONata])
	}
	return r
}

func (p *parser) itemBatcher(v any, loc, lang string) *itemBatcher {
	d := p.d
	m, ok := v.(map[string]any)
	if !ok {
		d.schema(loc, "The value of 'ItemBatcher' must be an object")
		return nil
	}
	b := &itemBatcher{}
	for _, k := range sortedKeys(m) {
		switch k {
		case "MaxItemsPerBatch", "MaxItemsPerBatchPath", "MaxInputBytesPerBatch", "MaxInputBytesPerBatchPath":
		case "BatchInput":
			b.batchInput = p.params(m[k], loc+"/BatchInput", lang, "BatchInput")
		default:
			d.schema(loc, "Field '%s' is not supported", k)
		}
	}
	b.maxItems = p.numberField(m, "MaxItemsPerBatch", loc, lang, 1, 100000000)
	b.maxBytes = p.numberField(m, "MaxInputBytesPerBatch", loc, lang, 1, 262144)
	if b.maxItems == nil && b.maxBytes == nil {
		d.schema(loc, "An ItemBatcher needs MaxItemsPerBatch or MaxInputBytesPerBatch")
	}
	return b
}

func (p *parser) resultWriter(v any, loc, lang string) *resultWriter {
	d := p.d
	m, ok := v.(map[string]any)
	if !ok {
		d.schema(loc, "The value of 'ResultWriter' must be an object")
		return nil
	}
	w := &resultWriter{}
	for _, k := range sortedKeys(m) {
		switch k {
		case "Resource":
			if s, _ := m[k].(string); s != "arn:aws:states:::s3:putObject" {
				d.schema(loc+"/Resource", "The ResultWriter resource must be arn:aws:states:::s3:putObject")
			}
		case "Parameters", "Arguments":
			w.params = p.params(m[k], loc+"/"+k, lang, k)
		case "WriterConfig":
			d.schema(loc, "Field 'WriterConfig' is not supported by this engine")
		default:
			d.schema(loc, "Field '%s' is not supported", k)
		}
	}
	if w.params == nil {
		d.schema(loc, "These fields are required: [Parameters]")
	}
	return w
}

// StateNames returns the top-level state names, sorted.
func (sm *StateMachine) StateNames() []string {
	names := append([]string(nil), sm.root.names...)
	sort.Strings(names)
	return names
}

// StartAt is the name of the first state.
func (sm *StateMachine) StartAt() string { return sm.root.startAt }
