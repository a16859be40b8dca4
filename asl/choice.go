package asl

import (
	"fmt"
	"strings"
	"time"
)

// choiceRule is a Choice rule: a top-level rule (with Next) or a nested
// one inside And/Or/Not.
type choiceRule struct {
	loc    string
	next   string
	assign *tmpl
	output *tmpl

	cond *jexpr // JSONata Condition

	op          string // And, Or, Not, or a comparison operator
	subs        []*choiceRule
	variable    *jpath
	operand     any
	operandPath *jpath
}

// comparison operators and the operand type each takes.
var comparisonOps = map[string]string{
	"StringEquals": "string", "StringLessThan": "string", "StringGreaterThan": "string",
	"StringLessThanEquals": "string", "StringGreaterThanEquals": "string", "StringMatches": "string",
	"NumericEquals": "number", "NumericLessThan": "number", "NumericGreaterThan": "number",
	"NumericLessThanEquals": "number", "NumericGreaterThanEquals": "number",
	"BooleanEquals":   "boolean",
	"TimestampEquals": "timestamp", "TimestampLessThan": "timestamp", "TimestampGreaterThan": "timestamp",
	"TimestampLessThanEquals": "timestamp", "TimestampGreaterThanEquals": "timestamp",
	"IsNull": "boolean", "IsPresent": "boolean", "IsNumeric": "boolean", "IsString": "boolean",
	"IsBoolean": "boolean", "IsTimestamp": "boolean",
}

func isTypeTest(op string) bool { return strings.HasPrefix(op, "Is") }

// compileChoiceRule validates and compiles one rule (JSONPath mode).
func compileChoiceRule(raw any, loc string, top bool, d *diags) *choiceRule {
	m, ok := raw.(map[string]any)
	if !ok {
		d.schema(loc, "A Choice rule must be an object")
		return nil
	}
	r := &choiceRule{loc: loc}
	var ops []string
	for k := range m {
		switch k {
		case "Next", "Comment", "Assign", "Variable":
		case "And", "Or", "Not":
			ops = append(ops, k)
		default:
			base := strings.TrimSuffix(k, "Path")
			if _, ok := comparisonOps[k]; ok {
				ops = append(ops, k)
			} else if _, ok := comparisonOps[base]; ok && !isTypeTest(base) {
				ops = append(ops, k)
			} else if k == "Condition" || k == "Output" {
				d.schema(loc, "The QueryLanguage is set to 'JSONPath', but field '%s' is only supported for the 'JSONata' QueryLanguage", k)
			} else {
				d.schema(loc, "Field '%s' is not supported", k)
			}
		}
	}
	if top {
		if n, ok := m["Next"].(string); ok {
			r.next = n
		} else {
			d.schema(loc, "These fields are required: [Next]")
		}
		if a, ok := m["Assign"]; ok {
			r.assign = compileAssign(a, loc+"/Assign", LangJSONPath, d)
		}
	} else {
		if _, ok := m["Next"]; ok {
			d.schema(loc+"/Next", "Field 'Next' is only allowed in a top-level Choice rule")
		}
		if _, ok := m["Assign"]; ok {
			d.schema(loc+"/Assign", "Field 'Assign' is only allowed in a top-level Choice rule")
		}
	}
	if len(ops) != 1 {
		if len(ops) == 0 {
			d.schema(loc, "A Choice rule must have exactly one comparison operator or And, Or, Not")
		} else {
			d.schema(loc, "A Choice rule must have exactly one comparison operator, found %s", strings.Join(sortedStrings(ops), ", "))
		}
		return r
	}
	op := ops[0]
	r.op = op
	switch op {
	case "And", "Or":
		arr, ok := m[op].([]any)
		if !ok || len(arr) == 0 {
			d.schema(loc+"/"+op, "The value of '%s' must be a non-empty array of Choice rules", op)
			return r
		}
		for i, s := range arr {
			if c := compileChoiceRule(s, fmt.Sprintf("%s/%s/%d", loc, op, i), false, d); c != nil {
				r.subs = append(r.subs, c)
			}
		}
		if _, ok := m["Variable"]; ok {
			d.schema(loc+"/Variable", "Field 'Variable' cannot be used with '%s'", op)
		}
		return r
	case "Not":
		if c := compileChoiceRule(m[op], loc+"/Not", false, d); c != nil {
			r.subs = append(r.subs, c)
		}
		if _, ok := m["Variable"]; ok {
			d.schema(loc+"/Variable", "Field 'Variable' cannot be used with 'Not'")
		}
		return r
	}
	v, ok := m["Variable"].(string)
	if !ok {
		d.schema(loc, "These fields are required: [Variable]")
		return r
	}
	p, err := compilePath(v, true)
	if err != nil {
		d.schema(loc+"/Variable", "%v", err)
	}
	r.variable = p
	val := m[op]
	if strings.HasSuffix(op, "Path") {
		s, ok := val.(string)
		if !ok {
			d.schema(loc+"/"+op, "The value of '%s' must be a path string", op)
			return r
		}
		pp, err := compilePath(s, true)
		if err != nil {
			d.schema(loc+"/"+op, "%v", err)
		}
		r.operandPath = pp
		return r
	}
	want := comparisonOps[op]
	switch want {
	case "string":
		if _, ok := val.(string); !ok {
			d.schema(loc+"/"+op, "The value of '%s' must be a string", op)
		}
	case "number":
		if !isNumber(val) {
			d.schema(loc+"/"+op, "The value of '%s' must be a number", op)
		}
	case "boolean":
		if _, ok := val.(bool); !ok {
			d.schema(loc+"/"+op, "The value of '%s' must be a boolean", op)
		}
	case "timestamp":
		s, _ := val.(string)
		if _, ok := parseTimestamp(s); !ok {
			d.schema(loc+"/"+op, "The value of '%s' must be an ISO-8601 timestamp", op)
		}
	}
	r.operand = val
	return r
}

// compileJSONataChoice compiles a JSONata-mode top-level rule.
func compileJSONataChoice(raw any, loc string, d *diags) *choiceRule {
	m, ok := raw.(map[string]any)
	if !ok {
		d.schema(loc, "A Choice rule must be an object")
		return nil
	}
	r := &choiceRule{loc: loc}
	for k := range m {
		switch k {
		case "Next", "Comment", "Assign", "Output", "Condition":
		default:
			if _, isOp := comparisonOps[strings.TrimSuffix(k, "Path")]; isOp || k == "Variable" || k == "And" || k == "Or" || k == "Not" {
				d.schema(loc, "The QueryLanguage is set to 'JSONata', but field '%s' is only supported for the 'JSONPath' QueryLanguage", k)
			} else {
				d.schema(loc, "Field '%s' is not supported", k)
			}
		}
	}
	if n, ok := m["Next"].(string); ok {
		r.next = n
	} else {
		d.schema(loc, "These fields are required: [Next]")
	}
	switch c := m["Condition"].(type) {
	case string:
		src, ok := jsonataSource(c)
		if !ok {
			d.schema(loc+"/Condition", "The value of 'Condition' must be a JSONata expression enclosed in {%% %%}")
			break
		}
		e, err := compileJexpr(src, "Condition")
		if err != nil {
			d.schema(loc+"/Condition", "%v", err)
		} else {
			e.loc = awsLocation(loc + "/Condition")
		}
		r.cond = e
	case bool:
		r.operand = c
	case nil:
		d.schema(loc, "These fields are required: [Condition]")
	default:
		d.schema(loc+"/Condition", "The value of 'Condition' must be a boolean or a JSONata expression")
	}
	if a, ok := m["Assign"]; ok {
		r.assign = compileAssign(a, loc+"/Assign", LangJSONata, d)
	}
	if o, ok := m["Output"]; ok {
		r.output = compileJSONataTemplate(o, loc+"/Output", "Output", d)
	}
	return r
}

// match evaluates the rule against the state input (JSONPath) or $states
// (JSONata).
func (r *choiceRule) match(env *evalEnv) (bool, *Error) {
	if r.cond != nil {
		v, err := r.cond.eval(env.states, env.vars)
		if err != nil {
			return false, err
		}
		b, ok := v.(bool)
		if !ok {
			e := errorf(ErrQueryEvaluationError, "The JSONata expression '%s' specified for the field 'Condition' returned a %s, not a boolean", r.cond.src, typeName(v))
			e.location = r.cond.loc
			return false, e
		}
		return b, nil
	}
	switch r.op {
	case "":
		b, _ := r.operand.(bool)
		return b, nil
	case "And":
		for _, s := range r.subs {
			ok, err := s.match(env)
			if err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	case "Or":
		for _, s := range r.subs {
			ok, err := s.match(env)
			if err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	case "Not":
		ok, err := r.subs[0].match(env)
		return !ok && err == nil, err
	}
	v, found, err := r.variable.eval(env.pathEnv)
	if err != nil {
		return false, asError(err, false)
	}
	if r.op == "IsPresent" {
		want, _ := r.operand.(bool)
		return found == want, nil
	}
	if !found {
		return false, errorf(ErrRuntime, "Invalid path '%s': The choice state's condition path references an invalid value.", r.variable.raw)
	}
	op := r.op
	operand := r.operand
	if r.operandPath != nil {
		op = strings.TrimSuffix(op, "Path")
		o, ok, err := r.operandPath.eval(env.pathEnv)
		if err != nil {
			return false, asError(err, false)
		}
		if !ok {
			return false, errorf(ErrRuntime, "Invalid path '%s': The choice state's condition path references an invalid value.", r.operandPath.raw)
		}
		operand = o
	}
	return compare(op, v, operand), nil
}

// compare applies a comparison operator. Values of the wrong type never
// match (ASL: "the comparison operators ... return false" on type
// mismatch).
func compare(op string, v, operand any) bool {
	switch op {
	case "IsNull":
		return (v == nil) == asBool(operand)
	case "IsNumeric":
		return isNumber(v) == asBool(operand)
	case "IsString":
		_, ok := v.(string)
		return ok == asBool(operand)
	case "IsBoolean":
		_, ok := v.(bool)
		return ok == asBool(operand)
	case "IsTimestamp":
		s, ok := v.(string)
		if ok {
			_, ok = parseTimestamp(s)
		}
		return ok == asBool(operand)
	case "BooleanEquals":
		a, ok1 := v.(bool)
		b, ok2 := operand.(bool)
		return ok1 && ok2 && a == b
	}
	switch comparisonOps[op] {
	case "string":
		a, ok1 := v.(string)
		b, ok2 := operand.(string)
		if !ok1 || !ok2 {
			return false
		}
		if op == "StringMatches" {
			return stringMatches(a, b)
		}
		return ordered(op, strings.Compare(a, b))
	case "number":
		if !isNumber(v) || !isNumber(operand) {
			return false
		}
		return ordered(op, numCompare(v, operand))
	case "timestamp":
		a, ok1 := v.(string)
		b, ok2 := operand.(string)
		if !ok1 || !ok2 {
			return false
		}
		ta, ok1 := parseTimestamp(a)
		tb, ok2 := parseTimestamp(b)
		if !ok1 || !ok2 {
			return false
		}
		return ordered(op, ta.Compare(tb))
	}
	return false
}

func asBool(v any) bool { b, _ := v.(bool); return b }

func ordered(op string, c int) bool {
	switch {
	case strings.HasSuffix(op, "GreaterThanEquals"):
		return c >= 0
	case strings.HasSuffix(op, "LessThanEquals"):
		return c <= 0
	case strings.HasSuffix(op, "GreaterThan"):
		return c > 0
	case strings.HasSuffix(op, "LessThan"):
		return c < 0
	case strings.HasSuffix(op, "Equals"):
		return c == 0
	}
	return false
}

// stringMatches implements StringMatches: "*" matches any run of
// characters, "\*" a literal star and "\\" a literal backslash.
func stringMatches(s, pattern string) bool {
	type tok struct {
		star bool
		ch   rune
	}
	var toks []tok
	rs := []rune(pattern)
	for i := 0; i < len(rs); i++ {
		switch {
		case rs[i] == '\\' && i+1 < len(rs):
			i++
			toks = append(toks, tok{ch: rs[i]})
		case rs[i] == '*':
			toks = append(toks, tok{star: true})
		default:
			toks = append(toks, tok{ch: rs[i]})
		}
	}
	in := []rune(s)
	// Iterative wildcard matching with backtracking to the last star.
	pi, si, starP, starS := 0, 0, -1, 0
	for si < len(in) {
		if pi < len(toks) && !toks[pi].star && toks[pi].ch == in[si] {
			pi++
			si++
		} else if pi < len(toks) && toks[pi].star {
			starP, starS = pi, si
			pi++
		} else if starP >= 0 {
			pi = starP + 1
			starS++
			si = starS
		} else {
			return false
		}
	}
	for pi < len(toks) && toks[pi].star {
		pi++
	}
	return pi == len(toks)
}

// parseTimestamp parses the ISO-8601 timestamps ASL accepts (RFC 3339 with
// an upper-case T separator and a zone).
func parseTimestamp(s string) (time.Time, bool) {
	if strings.ContainsAny(s, "tz ") {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}

func sortedStrings(s []string) []string {
	out := append([]string(nil), s...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}
