package intrinsic

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// decode parses JSON text keeping numbers as json.Number.
func decode(t testing.TB, s string) any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("bad test JSON %q: %v", s, err)
	}
	return v
}

// decodeFloat parses JSON text with numbers as float64 (the other decoding
// the engine may use).
func decodeFloat(t testing.TB, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("bad test JSON %q: %v", s, err)
	}
	return v
}

// canon renders a value as JSON with sorted keys for comparisons.
func canon(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("cannot marshal %#v: %v", v, err)
	}
	return string(b)
}

// docResolver resolves $ paths against input, $$ against ctx and $name
// against vars, supporting .field and [index] steps: enough for tests.
func docResolver(input, ctx any, vars map[string]any) Resolver {
	return func(path string) (any, error) {
		var root any
		var rest string
		switch {
		case strings.HasPrefix(path, "$$"):
			root, rest = ctx, path[2:]
		case len(path) > 1 && path[1] != '.' && path[1] != '[':
			name := path[1:]
			if i := strings.IndexAny(name, ".["); i >= 0 {
				name, rest = name[:i], name[i:]
			}
			v, ok := vars[name]
			if !ok {
				return nil, &Error{Name: "States.Runtime", Cause: "variable " + name + " is not defined"}
			}
			root = v
		default:
			root, rest = input, path[1:]
		}
		cur := root
		for rest != "" {
			switch rest[0] {
			case '.':
				rest = rest[1:]
				end := strings.IndexAny(rest, ".[")
				if end < 0 {
					end = len(rest)
				}
				key := rest[:end]
				rest = rest[end:]
				m, ok := cur.(map[string]any)
				if !ok {
					return nil, &Error{Name: "States.Runtime", Cause: "path " + path + " not found"}
				}
				if cur, ok = m[key]; !ok {
					return nil, &Error{Name: "States.Runtime", Cause: "path " + path + " not found"}
				}
			case '[':
				end := strings.IndexByte(rest, ']')
				inner := rest[1:end]
				rest = rest[end+1:]
				if strings.HasPrefix(inner, "'") {
					m, _ := cur.(map[string]any)
					v, ok := m[strings.Trim(inner, "'")]
					if !ok {
						return nil, &Error{Name: "States.Runtime", Cause: "path " + path + " not found"}
					}
					cur = v
					continue
				}
				i, err := strconv.Atoi(inner)
				a, ok := cur.([]any)
				if err != nil || !ok || i < 0 || i >= len(a) {
					return nil, &Error{Name: "States.Runtime", Cause: "path " + path + " not found"}
				}
				cur = a[i]
			default:
				return nil, fmt.Errorf("test resolver cannot handle %q", path)
			}
		}
		return cur, nil
	}
}

// evalCase is one Eval table row: expr evaluated against input (JSON).
// Exactly one of want (JSON text) or errHas (substrings of the cause) is set.
type evalCase struct {
	name   string
	expr   string
	input  string
	want   string
	errHas []string
	// numberOnly / floatOnly: run only with json.Number / float64 input.
	numberOnly, floatOnly bool
}

func runEvalCases(t *testing.T, cases []evalCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse(tc.expr)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.expr, err)
			}
			in := "{}"
			if tc.input != "" {
				in = tc.input
			}
			if !tc.floatOnly {
				got, err := c.Eval(docResolver(decode(t, in), nil, nil))
				checkResult(t, tc, got, err)
			}
			if !tc.numberOnly {
				// The same with float64 numbers on input.
				got, err := c.Eval(docResolver(decodeFloat(t, in), nil, nil))
				checkResult(t, tc, got, err)
			}
		})
	}
}

func checkResult(t *testing.T, tc evalCase, got any, err error) {
	t.Helper()
	if len(tc.errHas) > 0 {
		if err == nil {
			t.Fatalf("%s: want error containing %q, got %s", tc.expr, tc.errHas, canon(t, got))
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("%s: error %v is %T, want *Error", tc.expr, err, err)
		}
		if e.Name != ErrIntrinsicFailure {
			t.Fatalf("%s: error name %q, want %q (%v)", tc.expr, e.Name, ErrIntrinsicFailure, e)
		}
		for _, s := range tc.errHas {
			if !strings.Contains(e.Cause, s) {
				t.Fatalf("%s: cause %q does not contain %q", tc.expr, e.Cause, s)
			}
		}
		return
	}
	if err != nil {
		t.Fatalf("%s: unexpected error: %v", tc.expr, err)
	}
	want := canon(t, decode(t, tc.want))
	if g := canon(t, got); g != want {
		t.Fatalf("%s:\n got  %s\n want %s", tc.expr, g, want)
	}
}
