package intrinsic

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

var fuzzSeeds = []string{
	"States.Format('Hello, my name is {}.', $.name)",
	"States.Format($.template, $.name)",
	`States.Format('it\'s \{x\} {} \\', $.a)`,
	"States.StringToJson($.s)",
	"States.JsonToString($.o)",
	"States.Array('Foo', 2020, $.o, null, true, false, -1.5e3)",
	"States.ArrayPartition($.arr, 4)",
	"States.ArrayContains($.arr, 5)",
	"States.ArrayRange(1, 9, 2)",
	"States.ArrayRange(9, 1, -2)",
	"States.ArrayGetItem($.arr, 5)",
	"States.ArrayLength($.arr)",
	"States.ArrayUnique($.arr)",
	"States.Base64Encode($.name)",
	"States.Base64Decode('RGF0YSB0byBlbmNvZGU=')",
	"States.Hash($.name, 'SHA-256')",
	"States.JsonMerge($.o, $.o, false)",
	"States.MathRandom(1, 999)",
	"States.MathRandom(1, 999, 3)",
	"States.MathAdd($.n, -1)",
	"States.StringSplit('This.is+a,test=string', '.+,=')",
	"States.UUID()",
	"States.Format('{}.{}', States.ArrayGetItem(States.StringSplit($.name, 'a'), 0), $$.Execution.Id)",
	"States.Array($['a, b'][0], $myVar.x, $$)",
	"States.Array(States.Array(States.Array(States.Array())))",
	"States.Array(1,",
	"States.Array('abc)",
	`States.Array('\n')`,
	"States.Nope()",
}

const fuzzDoc = `{"name":"Arnav","template":"Hello, my name is {}.","s":"{\"foo\": [1, 2.5, null]}","o":{"a":{"b":1},"c":[true]},"arr":[1,2,3,3,4,5,6,7,8,9],"n":111}`

// fuzzResolver resolves $ and $$ to doc and $.key / $$.key / $key to a
// top-level member; anything else is a States.Runtime error.
func fuzzResolver(doc any) Resolver {
	return func(path string) (any, error) {
		key := strings.TrimLeft(path, "$")
		key = strings.TrimPrefix(key, ".")
		if key == "" {
			return doc, nil
		}
		if m, ok := doc.(map[string]any); ok {
			if v, ok := m[key]; ok {
				return v, nil
			}
		}
		return nil, &Error{Name: ErrRuntime, Cause: "path " + path + " not found"}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		c, err := Parse(expr)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q) error %v is %T, want *ParseError", expr, err, err)
			}
			if pe.Offset < 0 || pe.Offset > len(expr) || pe.Msg == "" {
				t.Fatalf("Parse(%q): bad error %+v", expr, pe)
			}
			return
		}
		if !IsIntrinsic(expr) {
			t.Fatalf("Parse accepted %q but IsIntrinsic says no", expr)
		}
		s := c.String()
		c2, err := Parse(s)
		if err != nil {
			t.Fatalf("Parse(%q) ok, but its String() %q does not parse: %v", expr, s, err)
		}
		if s2 := c2.String(); s2 != s {
			t.Fatalf("String() unstable for %q: %q then %q", expr, s, s2)
		}
	})
}

func FuzzEval(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s, fuzzDoc)
	}
	f.Add("States.StringToJson($.s)", `{"s":"-0"}`)
	f.Add("States.JsonToString($)", `[1e400, "\u0000", {"":{}}]`)
	f.Add("States.Format('{} {}', $, $.x)", `{"x":[[],{}]}`)
	f.Add("States.JsonToString(States.Array(States.Array(States.Array(States.Array(States.Array(States.Array(States.Array($,$,$,$,$,$),$,$,$,$,$),$,$,$,$,$),$,$,$,$,$),$,$,$,$,$),$,$,$,$,$),$,$,$,$,$))", fuzzDoc)
	f.Fuzz(func(t *testing.T, expr, docText string) {
		c, err := Parse(expr)
		if err != nil {
			return
		}
		dec := json.NewDecoder(strings.NewReader(docText))
		dec.UseNumber()
		var doc any
		if dec.Decode(&doc) != nil {
			doc = map[string]any{}
		}
		v, err := c.Eval(fuzzResolver(doc))
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || !strings.HasPrefix(e.Name, "States.") || e.Cause == "" {
				t.Fatalf("Eval(%q) error %v (%T) is not a States.* *Error", expr, err, err)
			}
			return
		}
		// Results are JSON values: they marshal, and JsonToString of them
		// parses back (StringToJson) to an equal value.
		b := &textWriter{limit: 4 * maxPayloadBytes}
		if err := writeJSON(b, v); err != nil {
			if errors.Is(err, errTooLarge) {
				t.Fatalf("Eval(%q) returned a value over %d bytes of JSON", expr, b.limit)
			}
			return // e.g. a number too large for float64
		}
		if _, err := json.Marshal(v); err != nil {
			t.Fatalf("Eval(%q) = %#v does not marshal: %v", expr, v, err)
		}
		back, err := fnStringToJSON(&Call{Name: "States.StringToJson"}, []any{b.String()})
		if err != nil {
			t.Fatalf("JsonToString output %q of %q does not parse back: %v", b.String(), expr, err)
		}
		k1, err1 := equalityKey(v)
		k2, err2 := equalityKey(back)
		if err1 != nil || err2 != nil || k1 != k2 {
			t.Fatalf("round trip of %q changed the value: %s vs %s (%v %v)", expr, k1, k2, err1, err2)
		}
	})
}
