package asl

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"regexp"
	"strings"
	"sync"

	jsonata "github.com/blues/jsonata-go"
	"github.com/google/uuid"
	"github.com/scones/scones/asl/intrinsic"
)

// jexpr is a JSONata expression from a "{% %}" string or a Condition.
//
// The expression is compiled once at Parse time to reject syntax errors
// (InvalidDefinition) and compiled again for every evaluation, because
// jsonata-go's RegisterVars mutates the compiled *Expr and so one Expr
// cannot serve concurrent executions. Compilation costs a few
// microseconds.
type jexpr struct {
	src   string
	field string
	loc   string // AWS-style field location, e.g. "Output/v"; set by the parser
}

// unsupported JSONata 2.x operators jsonata-go v1.5.4 lacks; a clearer
// message than the library's parse error.
var jsonata2Hints = []string{"??", "?:"}

// bindingOps finds JSONata 1.6+'s "@$" and "#$" binding operators, which
// jsonata-go v1.5.4 lacks.
var bindingOps = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`[#@]\s*\$[A-Za-z_]`) })

// missingFuncs are JSONata 1.6+/2.x functions jsonata-go v1.5.4 lacks: a
// call to one is rejected at Parse time rather than failing at run time.
var missingFuncs = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\$(formatInteger|parseInteger|eval|assert)\s*\(`) })

// funcBinding finds "$name := function(" (or λ) bindings, to detect
// recursive functions: jsonata-go has no recursion limit, and a Go stack
// overflow is fatal to the whole process, so a recursive function is
// rejected at Parse time instead of risking the emulator.
var funcBinding = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`\$([A-Za-z_][A-Za-z0-9_]*)\s*:=\s*(?:function|λ)\s*\(`)
})

func recursiveFunction(src string) string {
	for _, m := range funcBinding().FindAllStringSubmatchIndex(src, -1) {
		name := src[m[2]:m[3]]
		call := regexp.MustCompile(`\$` + regexp.QuoteMeta(name) + `\s*\(`)
		if call.MatchString(src[m[1]:]) {
			return name
		}
	}
	return ""
}

// maxJSONataNesting bounds bracket nesting so the library's recursive
// parser cannot overflow the stack on a hostile definition.
const maxJSONataNesting = 500

func nestingDepth(src string) int {
	depth, max := 0, 0
	for _, c := range src {
		switch c {
		case '(', '[', '{':
			depth++
			if depth > max {
				max = depth
			}
		case ')', ']', '}':
			depth--
		}
	}
	return max
}

func compileJexpr(src, field string) (*jexpr, error) {
	if nestingDepth(src) > maxJSONataNesting {
		return nil, fmt.Errorf("the JSONata expression in the field '%s' nests brackets more than %d deep", field, maxJSONataNesting)
	}
	if name := recursiveFunction(src); name != "" {
		return nil, fmt.Errorf("the JSONata expression '%s' in the field '%s' defines the recursive function $%s; recursion is not supported by this engine (its JSONata library has no recursion limit)", src, field, name)
	}
	if m := missingFuncs().FindStringSubmatch(src); m != nil && !strings.Contains(src, "$"+m[1]+" :=") && !strings.Contains(src, "$"+m[1]+":=") {
		return nil, fmt.Errorf("the JSONata expression '%s' in the field '%s' calls $%s, which this engine's JSONata (1.x) does not provide", src, field, m[1])
	}
	if m := bindingOps().FindString(src); m != "" {
		return nil, fmt.Errorf("the JSONata expression '%s' in the field '%s' uses the %q binding operator (JSONata 1.6+), which this engine's JSONata (1.x) does not support", src, field, m[:1])
	}
	if _, err := jsonata.Compile(src); err != nil {
		for _, h := range jsonata2Hints {
			if strings.Contains(src, h) {
				return nil, fmt.Errorf("the JSONata expression '%s' in the field '%s' uses the operator %s, which this engine's JSONata (1.x) does not support: %v", src, field, h, err)
			}
		}
		return nil, fmt.Errorf("the JSONata expression '%s' in the field '%s' is invalid: %v", src, field, err)
	}
	return &jexpr{src: src, field: field}, nil
}

// eval evaluates the expression with $states and the workflow variables
// registered. Undefined results and evaluation errors are
// States.QueryEvaluationError.
func (e *jexpr) eval(states map[string]any, vars *scope) (any, *Error) {
	v, err := e.evalRaw(states, vars)
	if err != nil {
		err.location = e.loc
		if err.location == "" {
			err.location = e.field
		}
	}
	return v, err
}

func (e *jexpr) evalRaw(states map[string]any, vars *scope) (any, *Error) {
	x, err := jsonata.Compile(e.src)
	if err != nil {
		return nil, errorf(ErrQueryEvaluationError, "The JSONata expression '%s' specified for the field '%s' could not be compiled: %v", e.src, e.field, err)
	}
	if err := x.RegisterExts(awsExtensions()); err != nil {
		return nil, errorf(ErrQueryEvaluationError, "registering AWS JSONata functions: %v", err)
	}
	reg := map[string]any{}
	if vars != nil {
		for k, v := range vars.all() {
			reg[k] = toJSONata(v)
		}
	}
	st := map[string]any{}
	for k, v := range states {
		st[k] = toJSONata(v)
	}
	reg["states"] = st
	if err := x.RegisterVars(reg); err != nil {
		return nil, errorf(ErrQueryEvaluationError, "registering variables: %v", err)
	}
	v, err := evalRecover(x)
	if err != nil {
		if errors.Is(err, jsonata.ErrUndefined) {
			return nil, errorf(ErrQueryEvaluationError, "The JSONata expression '%s' specified for the field '%s' returned nothing (undefined).", e.src, e.field)
		}
		return nil, errorf(ErrQueryEvaluationError, "An error occurred while evaluating the JSONata expression '%s' specified for the field '%s': %v", e.src, e.field, err)
	}
	out, cerr := fromJSONata(v)
	if cerr != nil {
		return nil, errorf(ErrQueryEvaluationError, "The JSONata expression '%s' specified for the field '%s' returned a value that is not JSON: %v", e.src, e.field, cerr)
	}
	return out, nil
}

// evalRecover guards against panics inside the JSONata library: a bad
// expression must fail the state, never the process.
func evalRecover(x *jsonata.Expr) (v any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("JSONata evaluation panicked: %v", r)
		}
	}()
	return x.Eval(nil)
}

// awsExtensions are the functions Step Functions adds to JSONata.
func awsExtensions() map[string]jsonata.Extension {
	return map[string]jsonata.Extension{
		"partition": {Func: jsonataPartition},
		"range":     {Func: jsonataRange},
		"hash":      {Func: jsonataHash},
		"random":    {Func: jsonataRandom},
		"uuid":      {Func: func() string { return uuid.NewString() }},
		"parse":     {Func: jsonataParse},
	}
}

func jsonataPartition(arr []any, size float64) ([]any, error) {
	if size < 1 || size != math.Trunc(size) {
		return nil, fmt.Errorf("$partition: the chunk size must be a positive integer, got %v", size)
	}
	n := int(size)
	out := []any{}
	for i := 0; i < len(arr); i += n {
		j := min(i+n, len(arr))
		chunk := make([]any, j-i)
		copy(chunk, arr[i:j])
		out = append(out, chunk)
	}
	return out, nil
}

func jsonataRange(start, end, step float64) ([]any, error) {
	if step == 0 || math.IsNaN(step) {
		return nil, fmt.Errorf("$range: the step must not be 0")
	}
	out := []any{}
	for v := start; (step > 0 && v <= end) || (step < 0 && v >= end); v += step {
		if len(out) >= 1000 {
			return nil, fmt.Errorf("$range: the result would have more than 1000 items")
		}
		out = append(out, v)
	}
	return out, nil
}

func jsonataHash(data, alg string) (string, error) {
	sum, ok := intrinsic.Hash(data, alg)
	if !ok {
		return "", fmt.Errorf("$hash: unsupported algorithm %q (use %s)", alg, intrinsic.HashAlgorithms)
	}
	return sum, nil
}

func jsonataRandom(seed ...float64) float64 {
	if len(seed) > 0 {
		r := mrand.New(mrand.NewPCG(uint64(int64(seed[0])), 0x5eed))
		return r.Float64()
	}
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return mrand.Float64()
	}
	return float64(binary.BigEndian.Uint64(b[:])>>11) / (1 << 53)
}

func jsonataParse(s string) (any, error) {
	v, err := decodeJSON([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("$parse: invalid JSON: %w", err)
	}
	return toJSONata(v), nil
}
