package asl

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/scones/scones/asl/intrinsic"
)

// tmplKind is the kind of a payload template node.
type tmplKind int

const (
	tLiteral tmplKind = iota
	tObject
	tArray
	tPath
	tIntrinsic
	tJSONata
)

// tmpl is a compiled payload template: Parameters, ResultSelector,
// ItemSelector, Assign and Credentials in JSONPath states ("key.$" fields
// hold paths or intrinsic calls), and Arguments, Output, Assign and the
// like in JSONata states (strings "{% expr %}" hold expressions).
type tmpl struct {
	kind   tmplKind
	lit    any
	fields []tfield
	items  []*tmpl
	path   *jpath
	call   *intrinsic.Call
	expr   *jexpr
	src    string // the path or intrinsic text, for messages
	key    string // the "name.$" key holding a path, for messages
}

type tfield struct {
	key string // output key (".$" removed)
	raw string // key as written
	val *tmpl
}

// compileJSONPathTemplate compiles a JSONPath-mode payload template.
func compileJSONPathTemplate(v any, loc string, d *diags) *tmpl {
	switch x := v.(type) {
	case map[string]any:
		t := &tmpl{kind: tObject}
		keys := sortedKeys(x)
		seen := map[string]string{}
		for _, k := range keys {
			val := x[k]
			out := k
			if strings.HasSuffix(k, ".$") {
				out = strings.TrimSuffix(k, ".$")
				s, ok := val.(string)
				if !ok {
					d.schema(loc+"/"+k, "The value for the field '%s' must be a STRING that contains a JSONPath or an intrinsic function", k)
					continue
				}
				var n *tmpl
				switch {
				case intrinsic.IsIntrinsic(s):
					c, err := intrinsic.Parse(s)
					if err != nil {
						d.schema(loc+"/"+k, "The value for the field '%s' must be a valid intrinsic function: %v", k, err)
						continue
					}
					n = &tmpl{kind: tIntrinsic, call: c, src: s}
				default:
					p, err := compilePath(s, true)
					if err != nil {
						d.schema(loc+"/"+k, "The value for the field '%s' must be a valid JSONPath or a valid intrinsic function call: %v", k, err)
						continue
					}
					n = &tmpl{kind: tPath, path: p, src: s, key: k}
				}
				if prev, dup := seen[out]; dup {
					d.schema(loc+"/"+k, "The field '%s' collides with the field '%s'", k, prev)
				}
				seen[out] = k
				t.fields = append(t.fields, tfield{key: out, raw: k, val: n})
				continue
			}
			if prev, dup := seen[out]; dup {
				d.schema(loc+"/"+k, "The field '%s' collides with the field '%s'", k, prev)
			}
			seen[out] = k
			t.fields = append(t.fields, tfield{key: out, raw: k, val: compileJSONPathTemplate(val, loc+"/"+k, d)})
		}
		return t
	case []any:
		t := &tmpl{kind: tArray}
		for i, e := range x {
			t.items = append(t.items, compileJSONPathTemplate(e, fmt.Sprintf("%s/%d", loc, i), d))
		}
		return t
	}
	return &tmpl{kind: tLiteral, lit: v}
}

// compileJSONataTemplate compiles a JSONata-mode template: every string of
// the form "{% expr %}", at any depth, is an expression.
func compileJSONataTemplate(v any, loc, field string, d *diags) *tmpl {
	switch x := v.(type) {
	case string:
		if src, ok := jsonataSource(x); ok {
			e, err := compileJexpr(src, field)
			if err != nil {
				d.schema(loc, "%v", err)
				return &tmpl{kind: tLiteral, lit: v}
			}
			e.loc = awsLocation(loc)
			return &tmpl{kind: tJSONata, expr: e, src: x}
		}
		return &tmpl{kind: tLiteral, lit: v}
	case map[string]any:
		t := &tmpl{kind: tObject}
		for _, k := range sortedKeys(x) {
			t.fields = append(t.fields, tfield{key: k, raw: k, val: compileJSONataTemplate(x[k], loc+"/"+k, field, d)})
		}
		return t
	case []any:
		t := &tmpl{kind: tArray}
		for i, e := range x {
			t.items = append(t.items, compileJSONataTemplate(e, fmt.Sprintf("%s/%d", loc, i), field, d))
		}
		return t
	}
	return &tmpl{kind: tLiteral, lit: v}
}

// jsonataSource reports whether s is a "{% ... %}" expression string.
func jsonataSource(s string) (string, bool) {
	if strings.HasPrefix(s, "{%") && strings.HasSuffix(s, "%}") && len(s) >= 4 {
		return strings.TrimSpace(s[2 : len(s)-2]), true
	}
	return "", false
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// evalEnv is everything a template can read.
type evalEnv struct {
	pathEnv
	field   string // the field being evaluated, for messages
	pathErr string // error name for a path that matches nothing
	states  map[string]any
}

// eval evaluates the template. Path failures use env.pathErr; intrinsic
// failures keep their own names; JSONata failures are
// States.QueryEvaluationError.
func (t *tmpl) eval(env *evalEnv) (any, *Error) {
	switch t.kind {
	case tLiteral:
		return t.lit, nil
	case tObject:
		m := make(map[string]any, len(t.fields))
		for _, f := range t.fields {
			v, err := f.val.eval(env)
			if err != nil {
				return nil, err
			}
			m[f.key] = v
		}
		return m, nil
	case tArray:
		a := make([]any, len(t.items))
		for i, it := range t.items {
			v, err := it.eval(env)
			if err != nil {
				return nil, err
			}
			a[i] = v
		}
		return a, nil
	case tPath:
		v, ok, err := t.path.eval(env.pathEnv)
		if err != nil {
			return nil, asError(err, false)
		}
		if !ok && indexPastEnd(t.path, env.pathEnv) {
			// Jayway (AWS) resolves an array index past the end to null.
			return nil, nil
		}
		if !ok {
			name := env.pathErr
			if name == "" {
				name = ErrRuntime
			}
			field := t.key
			if field == "" {
				field = env.field
			}
			return nil, errorf(name, "The JSONPath '%s' specified for the field '%s' could not be found in the input '%s'", t.src, field, mustJSON(docFor(t.path, env.pathEnv)))
		}
		return v, nil
	case tIntrinsic:
		v, err := evalIntrinsic(t.call, env.pathEnv)
		if err != nil {
			return nil, err
		}
		return v, nil
	case tJSONata:
		return t.expr.eval(env.states, env.vars)
	}
	return nil, errorf(ErrRuntime, "unknown template node")
}

// indexPastEnd reports whether a reference path failed only because its
// last step is an index beyond the end of an existing array.
func indexPastEnd(p *jpath, env pathEnv) bool {
	if len(p.ref) == 0 || !p.ref[len(p.ref)-1].isIdx {
		return false
	}
	parent := &jpath{raw: p.raw, root: p.root, varName: p.varName, ref: p.ref[:len(p.ref)-1], singular: true}
	v, ok, err := parent.eval(env)
	if err != nil || !ok {
		return false
	}
	_, isArr := v.([]any)
	return isArr
}

func docFor(p *jpath, env pathEnv) any {
	switch p.root {
	case rootContext:
		return env.ctx
	case rootVar:
		v, _ := env.vars.get(p.varName)
		return v
	}
	return env.input
}

// evalIntrinsic runs an intrinsic function call. Its path arguments
// resolve against env; a path that matches nothing is States.Runtime.
func evalIntrinsic(c *intrinsic.Call, env pathEnv) (any, *Error) {
	v, err := c.Eval(func(raw string) (any, error) {
		p, err := compilePath(raw, true)
		if err != nil {
			return nil, &intrinsic.Error{Name: ErrIntrinsicFailure, Cause: err.Error()}
		}
		v, ok, err := p.eval(env)
		if err != nil {
			e := asError(err, false)
			return nil, &intrinsic.Error{Name: e.Name, Cause: e.Cause}
		}
		if !ok {
			return nil, &intrinsic.Error{Name: ErrRuntime, Cause: fmt.Sprintf("The JSONPath %s in the intrinsic function %s could not be found in the input", raw, c.Name)}
		}
		return v, nil
	})
	if err != nil {
		if ie, ok := err.(*intrinsic.Error); ok {
			return nil, &Error{Name: ie.Name, Cause: ie.Cause, internal: true}
		}
		return nil, asError(err, false)
	}
	return v, nil
}

// scope holds workflow variables. A Parallel branch or Map iteration gets
// a child scope: it reads the outer scope's variables but its assignments
// stay in the child (AWS: outer variables are read-only inside branches,
// and a branch's variables are not visible outside it).
type scope struct {
	parent *scope
	mu     sync.RWMutex
	vars   map[string]any
}

func newScope(parent *scope) *scope { return &scope{parent: parent, vars: map[string]any{}} }

func (s *scope) get(name string) (any, bool) {
	for c := s; c != nil; c = c.parent {
		c.mu.RLock()
		v, ok := c.vars[name]
		c.mu.RUnlock()
		if ok {
			return v, true
		}
	}
	return nil, false
}

func (s *scope) setAll(m map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, v := range m {
		s.vars[k] = v
	}
}

// all returns every visible variable, inner scopes winning.
func (s *scope) all() map[string]any {
	out := map[string]any{}
	var chain []*scope
	for c := s; c != nil; c = c.parent {
		chain = append(chain, c)
	}
	for i := len(chain) - 1; i >= 0; i-- {
		c := chain[i]
		c.mu.RLock()
		for k, v := range c.vars {
			out[k] = v
		}
		c.mu.RUnlock()
	}
	return out
}

// awsLocation turns a definition pointer such as
// "/States/P/Output/values/0" into the field location AWS reports in
// EvaluationFailed events: "Output/values[0]" (relative to the state).
func awsLocation(ptr string) string {
	parts := strings.Split(strings.TrimPrefix(ptr, "/"), "/")
	// Drop everything up to and including the innermost ".../States/<name>".
	start := 0
	for i := 0; i+1 < len(parts); i++ {
		if parts[i] == "States" {
			start = i + 2
		}
	}
	var b strings.Builder
	for _, p := range parts[start:] {
		if _, err := strconv.Atoi(p); err == nil {
			b.WriteString("[" + p + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('/')
		}
		b.WriteString(p)
	}
	return b.String()
}
