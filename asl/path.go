package asl

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/theory/jsonpath"
)

// pathRoot says which document a path reads.
type pathRoot int

const (
	rootInput   pathRoot = iota // $ : the state's input (or result, per field)
	rootContext                 // $$ : the context object
	rootVar                     // $name : a workflow variable
)

// jpath is a compiled ASL path. ASL paths are JSONPath with three
// additions handled here before github.com/theory/jsonpath (RFC 9535)
// sees them: "$$" addresses the context object, "$name" a variable, and
// dot-names that RFC 9535 does not allow (AWS's Jayway parser accepts
// "$.detail.request-id") are rewritten to bracket form.
type jpath struct {
	raw      string
	root     pathRoot
	varName  string
	q        *jsonpath.Path
	singular bool
	ref      []refSeg // set when the path is a simple reference path
	fn       string   // a trailing Jayway function: length, min, max, avg, sum, stddev
}

// jaywayFuncs are the trailing path functions AWS's Jayway-based JSONPath
// accepts ("$.items.length()"); they apply to the array the path selects.
var jaywayFuncs = []string{"length", "min", "max", "avg", "sum", "stddev"}

// refSeg is one step of a reference path: a member name or an index.
type refSeg struct {
	name  string
	index int
	isIdx bool
}

func isNameFirst(r rune) bool {
	return r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || r >= 0x80
}

func isNameChar(r rune) bool { return isNameFirst(r) || (r >= '0' && r <= '9') }

func rfcName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if i == 0 && !isNameFirst(r) {
			return false
		}
		if !isNameChar(r) {
			return false
		}
	}
	return true
}

// normalizeDots rewrites dot-notation names that RFC 9535 rejects into
// bracket notation. Text inside brackets (filters, quoted names) is left
// alone.
func normalizeDots(s string) string {
	var b strings.Builder
	depth := 0
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if quote != 0 {
			b.WriteByte(c)
			if c == '\\' && i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			} else if c == quote {
				quote = 0
			}
			continue
		}
		switch {
		case c == '\'' || c == '"':
			if depth > 0 {
				quote = c
			}
			b.WriteByte(c)
		case c == '[':
			depth++
			b.WriteByte(c)
		case c == ']':
			depth--
			b.WriteByte(c)
		case c == '.' && depth == 0:
			b.WriteByte('.')
			if i+1 < len(s) && s[i+1] == '.' {
				b.WriteByte('.')
				i++
			}
			j := i + 1
			for j < len(s) && s[j] != '.' && s[j] != '[' {
				j++
			}
			name := s[i+1 : j]
			if name == "" || name == "*" || rfcName(name) {
				b.WriteString(name)
			} else {
				// ".name" becomes "['name']": drop the dot we wrote.
				str := b.String()
				if strings.HasSuffix(str, "..") {
					b.WriteString("['")
				} else {
					b.Reset()
					b.WriteString(str[:len(str)-1])
					b.WriteString("['")
				}
				b.WriteString(strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(name))
				b.WriteString("']")
			}
			i = j - 1
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// compilePath compiles an ASL path: "$...", "$$...", or (when vars is
// true) "$name...".
func compilePath(raw string, vars bool) (*jpath, error) {
	p := &jpath{raw: raw}
	rest := raw
	switch {
	case strings.HasPrefix(raw, "$$"):
		p.root = rootContext
		rest = raw[1:]
	case raw == "$" || strings.HasPrefix(raw, "$.") || strings.HasPrefix(raw, "$["):
		p.root = rootInput
	case strings.HasPrefix(raw, "$") && vars:
		j := 1
		for j < len(raw) && raw[j] != '.' && raw[j] != '[' {
			j++
		}
		name := raw[1:j]
		if !validVarName(name) {
			return nil, fmt.Errorf("invalid variable name %q in path %q", name, raw)
		}
		p.root = rootVar
		p.varName = name
		rest = "$" + raw[j:]
	default:
		return nil, fmt.Errorf("the path %q must start with '$'", raw)
	}
	if nestingDepth(rest) > maxJSONataNesting {
		return nil, fmt.Errorf("the path %q nests brackets more than %d deep", raw, maxJSONataNesting)
	}
	for _, f := range jaywayFuncs {
		if strings.HasSuffix(rest, "."+f+"()") && len(rest) > len(f)+3 {
			p.fn = f
			rest = strings.TrimSuffix(rest, "."+f+"()")
			break
		}
	}
	q, err := jsonpath.Parse(normalizeDots(rest))
	if err != nil {
		return nil, fmt.Errorf("invalid JSONPath %q: %w", raw, err)
	}
	p.q = q
	p.singular = q.Query().Singular() != nil
	if segs, ok := parseRefSegs(rest); ok && p.fn == "" {
		p.ref = segs
	}
	if p.fn != "" {
		// A function yields one value whatever the path selects.
		p.singular = true
	}
	return p, nil
}

// applyFunc applies a trailing Jayway function to what the path selected.
func applyFunc(fn string, v any) (any, bool) {
	arr, ok := v.([]any)
	if !ok {
		return nil, false
	}
	if fn == "length" {
		return json.Number(strconv.Itoa(len(arr))), true
	}
	if len(arr) == 0 {
		return nil, false
	}
	nums := make([]float64, len(arr))
	for i, e := range arr {
		f, ok := toFloat(e)
		if !ok {
			return nil, false
		}
		nums[i] = f
	}
	var out float64
	switch fn {
	case "min", "max":
		out = nums[0]
		for _, f := range nums[1:] {
			if (fn == "min" && f < out) || (fn == "max" && f > out) {
				out = f
			}
		}
	case "sum", "avg", "stddev":
		sum := 0.0
		for _, f := range nums {
			sum += f
		}
		out = sum
		if fn != "sum" {
			out = sum / float64(len(nums))
		}
		if fn == "stddev" {
			mean, sq := out, 0.0
			for _, f := range nums {
				sq += (f - mean) * (f - mean)
			}
			out = math.Sqrt(sq / float64(len(nums)))
		}
	}
	return floatNumber(out), true
}

// compileRefPath compiles a Reference Path: singular, made only of member
// names and array indexes (what ResultPath and Choice Variables accept).
func compileRefPath(raw string, vars bool) (*jpath, error) {
	p, err := compilePath(raw, vars)
	if err != nil {
		return nil, err
	}
	if !p.singular || p.ref == nil {
		return nil, fmt.Errorf("the path %q is not a valid reference path (it must identify a single node)", raw)
	}
	return p, nil
}

func validVarName(name string) bool {
	if name == "" || len(name) > 80 {
		return false
	}
	for i, r := range name {
		if !(r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || r >= 0x80 || (i > 0 && r >= '0' && r <= '9')) {
			return false
		}
	}
	return true
}

// parseRefSegs parses "$", "$.a.b[0]['c d']" into segments.
func parseRefSegs(s string) ([]refSeg, bool) {
	if !strings.HasPrefix(s, "$") {
		return nil, false
	}
	segs := []refSeg{}
	i := 1
	for i < len(s) {
		switch s[i] {
		case '.':
			j := i + 1
			for j < len(s) && s[j] != '.' && s[j] != '[' {
				j++
			}
			name := s[i+1 : j]
			if name == "" || name == "*" {
				return nil, false
			}
			segs = append(segs, refSeg{name: name})
			i = j
		case '[':
			if i+1 >= len(s) {
				return nil, false
			}
			if q := s[i+1]; q == '\'' || q == '"' {
				var b strings.Builder
				j := i + 2
				closed := false
				for j < len(s) {
					c := s[j]
					if c == '\\' && j+1 < len(s) {
						b.WriteByte(s[j+1])
						j += 2
						continue
					}
					if c == q {
						closed = true
						break
					}
					b.WriteByte(c)
					j++
				}
				if !closed || j+1 >= len(s) || s[j+1] != ']' {
					return nil, false
				}
				segs = append(segs, refSeg{name: b.String()})
				i = j + 2
				continue
			}
			j := strings.IndexByte(s[i:], ']')
			if j < 0 {
				return nil, false
			}
			n, err := strconv.Atoi(strings.TrimSpace(s[i+1 : i+j]))
			if err != nil || n < 0 {
				return nil, false
			}
			segs = append(segs, refSeg{index: n, isIdx: true})
			i += j + 1
		default:
			return nil, false
		}
	}
	return segs, true
}

// selectIn applies the path to doc. A singular path yields its one value
// (found=false when nothing matches); any other path yields the array of
// matches, which may be empty.
func (p *jpath) selectIn(doc any) (any, bool) {
	if p.fn != "" {
		nodes := p.q.Select(doc)
		var v any
		if p.q.Query().Singular() != nil {
			if len(nodes) == 0 {
				return nil, false
			}
			v = nodes[0]
		} else {
			v = []any(nodes)
		}
		return applyFunc(p.fn, v)
	}
	if p.ref != nil {
		// Fast path, and exact for documents holding json.Number.
		cur := doc
		for _, s := range p.ref {
			if s.isIdx {
				a, ok := cur.([]any)
				if !ok || s.index >= len(a) {
					return nil, false
				}
				cur = a[s.index]
			} else {
				m, ok := cur.(map[string]any)
				if !ok {
					return nil, false
				}
				v, ok := m[s.name]
				if !ok {
					return nil, false
				}
				cur = v
			}
		}
		return cur, true
	}
	nodes := p.q.Select(doc)
	if p.singular {
		if len(nodes) == 0 {
			return nil, false
		}
		return nodes[0], true
	}
	out := make([]any, len(nodes))
	copy(out, nodes)
	return out, true
}

// pathEnv is what a path can read.
type pathEnv struct {
	input any
	ctx   any
	vars  *scope
}

// eval resolves the path in env. Errors are *Error with the given name
// and a cause naming the path.
func (p *jpath) eval(env pathEnv) (any, bool, error) {
	var doc any
	switch p.root {
	case rootInput:
		doc = env.input
	case rootContext:
		doc = env.ctx
	case rootVar:
		v, ok := env.vars.get(p.varName)
		if !ok {
			return nil, false, errorf(ErrRuntime, "The variable '$%s' is not defined", p.varName)
		}
		doc = v
	}
	v, ok := p.selectIn(doc)
	return v, ok, nil
}

// setPath returns a copy of doc with value placed at the reference path
// segs; maps along the path are copied, never mutated. Missing
// intermediate objects are created. It fails when the path crosses a
// value that is not an object (or array, for an index).
func setPath(doc any, segs []refSeg, value any) (any, error) {
	if len(segs) == 0 {
		return value, nil
	}
	s := segs[0]
	if s.isIdx {
		a, ok := doc.([]any)
		if !ok || s.index >= len(a) {
			return nil, fmt.Errorf("index [%d] is not in an array of sufficient length", s.index)
		}
		child, err := setPath(a[s.index], segs[1:], value)
		if err != nil {
			return nil, err
		}
		c := make([]any, len(a))
		copy(c, a)
		c[s.index] = child
		return c, nil
	}
	var m map[string]any
	switch d := doc.(type) {
	case map[string]any:
		m = d
	case nil:
		if doc != nil {
			return nil, fmt.Errorf("cannot set field %q", s.name)
		}
		m = nil
	default:
		return nil, fmt.Errorf("cannot set field %q on a %s", s.name, typeName(doc))
	}
	var cur any
	if m != nil {
		cur = m[s.name]
	}
	if len(segs) > 1 {
		if _, isMap := cur.(map[string]any); !isMap && !segs[1].isIdx {
			if cur != nil {
				return nil, fmt.Errorf("field %q is a %s, not an object", s.name, typeName(cur))
			}
			cur = map[string]any{}
		}
	}
	child, err := setPath(cur, segs[1:], value)
	if err != nil {
		return nil, err
	}
	c := make(map[string]any, len(m)+1)
	for k, v := range m {
		c[k] = v
	}
	c[s.name] = child
	return c, nil
}

// jaywayString renders the path the way AWS's (Jayway) error messages do:
// bracket notation with single quotes, e.g. $['detail']['request-id'][0].
func (p *jpath) jaywayString() string {
	if p.ref == nil {
		return p.q.String()
	}
	var b strings.Builder
	b.WriteString("$")
	for _, s := range p.ref {
		if s.isIdx {
			b.WriteString("[" + strconv.Itoa(s.index) + "]")
		} else {
			b.WriteString("['" + strings.ReplaceAll(s.name, "'", "\\'") + "']")
		}
	}
	return b.String()
}
