package intrinsic

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestIsIntrinsic(t *testing.T) {
	for s, want := range map[string]bool{
		"States.Format('x')": true,
		"States.UUID()":      true,
		"States.":            true,
		"$.a":                false,
		" States.UUID()":     false,
		"states.UUID()":      false,
		"":                   false,
	} {
		if got := IsIntrinsic(s); got != want {
			t.Errorf("IsIntrinsic(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestParseStructure(t *testing.T) {
	c, err := Parse(`States.Array('a\'b \{x\} {} \\', $.name, $$.Execution.Id, $myVar.x, 12, -1.5e3, true, false, null, States.Array(), $, $$, $['a, b'][0])`)
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "States.Array" || len(c.Args) != 13 {
		t.Fatalf("got %s with %d args", c.Name, len(c.Args))
	}
	want := []struct {
		kind  ArgKind
		value any
		path  string
	}{
		{StringArg, `a'b {x} {} \`, ""},
		{PathArg, nil, "$.name"},
		{PathArg, nil, "$$.Execution.Id"},
		{PathArg, nil, "$myVar.x"},
		{NumberArg, json.Number("12"), ""},
		{NumberArg, json.Number("-1.5e3"), ""},
		{BoolArg, true, ""},
		{BoolArg, false, ""},
		{NullArg, nil, ""},
		{CallArg, nil, ""},
		{PathArg, nil, "$"},
		{PathArg, nil, "$$"},
		{PathArg, nil, "$['a, b'][0]"},
	}
	for i, w := range want {
		a := c.Args[i]
		if a.Kind != w.kind || a.Path != w.path || (w.kind != CallArg && w.kind != PathArg && a.Value != w.value) {
			t.Errorf("arg %d = %+v, want kind %v value %v path %q", i, a, w.kind, w.value, w.path)
		}
	}
	if c.Args[9].Call == nil || c.Args[9].Call.Name != "States.Array" {
		t.Errorf("nested call not parsed: %+v", c.Args[9])
	}
	if got := c.Args[0].placeholders; !reflect.DeepEqual(got, []int{8}) {
		t.Errorf("placeholders = %v, want [8] (only the unescaped {})", got)
	}
	if got := c.Paths(); !reflect.DeepEqual(got, []string{"$.name", "$$.Execution.Id", "$myVar.x", "$", "$$", "$['a, b'][0]"}) {
		t.Errorf("Paths() = %q", got)
	}
}

func TestParseWhitespaceAndNesting(t *testing.T) {
	for _, expr := range []string{
		"States.Array( 1 ,\t2,\n3 )",
		"States.Array ()",
		"States.Format('{}', States.Format('{}', States.Array(1)))",
		"States.Array() ",
		// The documented nine-function example (it has three {} but two
		// values, so it parses and fails only when evaluated).
		"States.Format('{}.{}.{}', States.ArrayGetItem(States.StringSplit(States.ArrayGetItem(States.StringSplit($.ImageRecipe.Arn, '/'), 2), '.'), 0), States.ArrayGetItem(States.StringSplit(States.ArrayGetItem(States.StringSplit($.ImageRecipe.Arn, '/'), 2), '.'), 1))",
		"States.Format('a\nb {}', 1)", // a raw newline inside a literal is allowed
		"States.StringToJson('{\"constant_in_literal\": \"false\"}')",
		nest(MaxNesting),
	} {
		if _, err := Parse(expr); err != nil {
			t.Errorf("Parse(%q): %v", expr, err)
		}
	}
}

func nest(depth int) string {
	return strings.Repeat("States.Array(", depth) + strings.Repeat(")", depth)
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		expr   string
		offset int
		msg    string
	}{
		{"", 0, `must start with "States."`},
		{"$.a", 0, `must start with "States."`},
		{"States.", 7, "missing function name"},
		{"States.Foo(1)", 0, "unknown intrinsic function States.Foo"},
		{"States.format('x')", 0, "unknown intrinsic function States.format"},
		{"States.Array", 12, "expected '(' after States.Array"},
		{"States.Array(1, 2", 17, "unbalanced parentheses: missing ')' to close States.Array( opened at offset 12"},
		{"States.Array(", 13, "unbalanced parentheses"},
		{"States.Array(1))", 15, `unexpected ')' after the end of States.Array(...)`},
		{"States.Array(1) x", 16, `unexpected 'x'`},
		{"States.Array(1,)", 14, "trailing comma after argument 1"},
		{"States.Array(,1)", 13, "unexpected ','"},
		{"States.Array(1 2)", 15, "expected ',' or ')' after argument 1"},
		{"States.UUID(1)", 0, "States.UUID takes exactly 0 arguments, got 1"},
		{"States.ArrayLength()", 0, "States.ArrayLength takes exactly 1 argument, got 0"},
		{"States.ArrayRange(1, 2)", 0, "States.ArrayRange takes exactly 3 arguments, got 2"},
		{"States.MathRandom(1)", 0, "States.MathRandom takes 2 to 3 arguments, got 1"},
		{"States.MathRandom(1, 2, 3, 4)", 0, "2 to 3 arguments, got 4"},
		{"States.Format()", 0, "States.Format takes at least 1 argument(s), got 0"},
		{"States.JsonMerge($.a, $.b)", 0, "exactly 3 arguments, got 2"},
		{"States.Format(1)", 14, "template) must be a string"},
		{"States.Array('abc)", 13, "unterminated string literal"},
		{`States.Array('a\n')`, 15, `invalid escape sequence \n`},
		{`States.Array('a\"')`, 15, `invalid escape sequence \"`},
		{`States.Array('a\`, 15, "unterminated escape"},
		{"States.Array(01)", 13, `malformed number "01"`},
		{"States.Array(1.)", 13, "malformed number"},
		{"States.Array(-)", 13, "malformed number"},
		{"States.Array(1e)", 13, "malformed number"},
		{"States.Array(.5)", 13, "unexpected '.'"},
		{"States.Array(+1)", 13, "unexpected '+'"},
		{"States.Array(1abc)", 13, "malformed number"},
		{"States.Array(True)", 13, `unexpected identifier "True"`},
		{"States.Array(undefined)", 13, `unexpected identifier "undefined"`},
		{"States.Array(States)", 13, `expected "States.<Function>("`},
		{"States.Array(States.Nope())", 13, "unknown intrinsic function States.Nope"},
		{"States.Array(\"x\")", 13, `unexpected '"'`},
		{"States.Array($.)", 14, "ends with '.'"},
		{"States.Array($.a[0)", 16, "'[' without a matching ']'"},
		{"States.Array($.a])", 16, "']' without a matching '['"},
		{"States.Array($!)", 14, "malformed path"},
		{"States.Array($$x)", 15, "malformed path"},
		{"States.Array($.a(1))", 16, "unexpected '(' outside brackets"},
		{"States.Array($['a)", 15, "unterminated quoted name"},
		{nest(MaxNesting + 1), 130, "nested more than 10 levels deep"},
	}
	for _, tc := range cases {
		_, err := Parse(tc.expr)
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("Parse(%q): error %v (%T), want *ParseError", tc.expr, err, err)
			continue
		}
		if pe.Offset != tc.offset || !strings.Contains(pe.Msg, tc.msg) {
			t.Errorf("Parse(%q):\n got  offset %d: %s\n want offset %d: ...%s...", tc.expr, pe.Offset, pe.Msg, tc.offset, tc.msg)
		}
		if pe.Expr != tc.expr || !strings.Contains(pe.Error(), "offset") {
			t.Errorf("Parse(%q): Error() = %q lacks the expression or offset", tc.expr, pe.Error())
		}
	}
}

func TestStringRoundTrip(t *testing.T) {
	for _, expr := range []string{
		`States.Format('a\'b \{x\} {} \\ {"k":1}', $.name)`,
		`States.Array(1, -2.5e3, true, false, null, $, $$.a, $v['x, y'], States.UUID())`,
	} {
		c, err := Parse(expr)
		if err != nil {
			t.Fatal(err)
		}
		s := c.String()
		c2, err := Parse(s)
		if err != nil {
			t.Fatalf("Parse(String()) of %q = %q: %v", expr, s, err)
		}
		if s2 := c2.String(); s2 != s {
			t.Fatalf("String not stable: %q then %q", s, s2)
		}
		if !reflect.DeepEqual(stripOffsets(c), stripOffsets(c2)) {
			t.Fatalf("round trip changed the call: %q -> %q", expr, s)
		}
	}
}

// stripOffsets copies a call without source offsets, for comparisons.
func stripOffsets(c *Call) *Call {
	out := &Call{Name: c.Name}
	for _, a := range c.Args {
		a.Offset = 0
		if a.Call != nil {
			a.Call = stripOffsets(a.Call)
		}
		out.Args = append(out.Args, a)
	}
	return out
}

func TestResolverErrors(t *testing.T) {
	c, err := Parse("States.Format('{}', $.missing)")
	if err != nil {
		t.Fatal(err)
	}
	// *Error from the resolver passes through unchanged.
	_, err = c.Eval(docResolver(map[string]any{}, nil, nil))
	var e *Error
	if !errors.As(err, &e) || e.Name != "States.Runtime" || !strings.Contains(e.Cause, "$.missing") {
		t.Fatalf("got %v", err)
	}
	// Other errors become States.Runtime.
	_, err = c.Eval(func(string) (any, error) { return nil, errors.New("boom") })
	if !errors.As(err, &e) || e.Name != ErrRuntime || e.Cause != "boom" {
		t.Fatalf("got %v", err)
	}
	// No resolver.
	_, err = c.Eval(nil)
	if !errors.As(err, &e) || e.Name != ErrRuntime {
		t.Fatalf("got %v", err)
	}
	// Errors in nested calls propagate.
	c, _ = Parse("States.Array(States.ArrayLength('x'))")
	_, err = c.Eval(nil)
	if !errors.As(err, &e) || e.Name != ErrIntrinsicFailure || !strings.Contains(e.Cause, "States.ArrayLength") {
		t.Fatalf("got %v", err)
	}
}

func TestPathsReachResolver(t *testing.T) {
	c, err := Parse(`States.Array($, $$, $.a.b, $$.Execution.Id, $myVar, $myVar.f, $.list[1], $['k'])`)
	if err != nil {
		t.Fatal(err)
	}
	input := decode(t, `{"a":{"b":"ab"},"list":[10,20],"k":"bracket"}`)
	ctx := decode(t, `{"Execution":{"Id":"arn:exec"}}`)
	vars := map[string]any{"myVar": decode(t, `{"f":"field"}`)}
	got, err := c.Eval(docResolver(input, ctx, vars))
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"a":{"b":"ab"},"k":"bracket","list":[10,20]},{"Execution":{"Id":"arn:exec"}},"ab","arn:exec",{"f":"field"},"field",20,"bracket"]`
	if g := canon(t, got); g != want {
		t.Fatalf("got  %s\nwant %s", g, want)
	}
}

func TestHandBuiltCall(t *testing.T) {
	// A Call built by hand (not via Parse) still evaluates, and reports a
	// bad name or arity as IntrinsicFailure rather than panicking.
	c := &Call{Name: "States.MathAdd", Args: []Arg{{Kind: NumberArg, Value: 1}, {Kind: NumberArg, Value: 2.0}}}
	if got, err := c.Eval(nil); err != nil || got != json.Number("3") {
		t.Fatalf("got %v, %v", got, err)
	}
	for _, bad := range []*Call{{Name: "States.Nope"}, {Name: "States.MathAdd"}, {Name: "States.Array", Args: []Arg{{Kind: CallArg}}}} {
		var e *Error
		if _, err := bad.Eval(nil); !errors.As(err, &e) || e.Name != ErrIntrinsicFailure {
			t.Errorf("%+v: got %v", bad, err)
		}
	}
}
