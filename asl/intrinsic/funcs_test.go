package intrinsic

import (
	"encoding/json"
	"errors"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// Cases marked "AWS doc" are the examples of the Step Functions developer
// guide; "AWS recorded" are results recorded from real Step Functions
// executions (published execution-history snapshots).

func TestFormat(t *testing.T) {
	runEvalCases(t, []evalCase{
		{name: "AWS doc literal template", expr: "States.Format('Hello, my name is {}.', $.name)",
			input: `{"name":"Arnav","template":"Hello, my name is {}."}`, want: `"Hello, my name is Arnav."`},
		{name: "AWS doc template from path", expr: "States.Format($.template, $.name)",
			input: `{"name":"Arnav","template":"Hello, my name is {}."}`, want: `"Hello, my name is Arnav."`},
		{name: "ASL spec example", expr: "States.Format('Your name is {}, we are in the year {}', $.name, 2020)",
			input: `{"name":"Foo"}`, want: `"Your name is Foo, we are in the year 2020"`},
		{name: "no placeholders", expr: "States.Format('plain')", want: `"plain"`},
		{name: "escapes", expr: `States.Format('it\'s \{literal\} and {} and \\ \{}', 'x')`, want: `"it's {literal} and x and \\ {}"`},
		{name: "unescaped lone braces are literal", expr: `States.Format('{ {} }', 1)`, want: `"{ 1 }"`},
		{name: "AWS recorded numbers", expr: "States.Format('fst={} and snd={}.', $.i, $.f)",
			input: `{"i":1,"f":1.1}`, want: `"fst=1 and snd=1.1."`},
		{name: "AWS recorded null", expr: "States.Format('v={}', $.n)", input: `{"n":null}`, want: `"v=null"`},
		{name: "booleans", expr: "States.Format('{} {}', true, $.b)", input: `{"b":false}`, want: `"true false"`},
		{name: "AWS recorded empty and blank strings", expr: "States.Format('[{}][{}]', $.e, $.s)", input: `{"e":"","s":" "}`, want: `"[][ ]"`},
		{name: "AWS recorded JSON text stays verbatim", expr: "States.Format('{}', $.s)",
			input: `{"s":"{\"Arg1\": 1, \"Arg2\": []}"}`, want: `"{\"Arg1\": 1, \"Arg2\": []}"`},
		{name: "AWS recorded object is Java Map toString", expr: "States.Format('fst={}.', $.o)",
			input: `{"o":{"Arg1":1,"Arg2":[]}}`, want: `"fst={Arg1=1, Arg2=[]}."`},
		{name: "nested arrays and objects", expr: "States.Format('{}', $.a)",
			input: `{"a":[1,"two",null,{"k":[true]},[]]}`, want: `"[1, two, null, {k=[true]}, []]"`},
		{name: "numbers as Jackson writes them", expr: "States.Format('{} {} {} {} {}', 1.50, -0, 1e2, 3.4e-05, 12345678901234567890)",
			want: `"1.5 0 100.0 3.4E-5 12345678901234567890"`},
		{name: "path template does no escape processing", expr: "States.Format($.t, 1, 2)",
			input: `{"t":"\\{} and {}"}`, want: `"\\1 and 2"`},
		{name: "nested call", expr: "States.Format('id-{}', States.MathAdd(1, 2))", want: `"id-3"`},
		{name: "template not a string", expr: "States.Format($.t)", input: `{"t":5}`,
			errHas: []string{"States.Format", "argument 1 (template) must be a string", "number 5"}},
		{name: "literal template with too few values", expr: "States.Format('{} {}', 1)",
			errHas: []string{"2 {} placeholder(s) but 1 value argument(s)"}},
		{name: "literal template with too many values", expr: `States.Format('\{}', 1)`,
			errHas: []string{"0 {} placeholder(s) but 1 value argument(s)"}},
		{name: "AWS doc nine-function example has 3 {} and 2 values",
			expr:   "States.Format('{}.{}.{}', States.ArrayGetItem(States.StringSplit(States.ArrayGetItem(States.StringSplit($.ImageRecipe.Arn, '/'), 2), '.'), 0), States.ArrayGetItem(States.StringSplit(States.ArrayGetItem(States.StringSplit($.ImageRecipe.Arn, '/'), 2), '.'), 1))",
			input:  `{"ImageRecipe":{"Arn":"arn:aws:imagebuilder:us-east-1:123456789012:image-recipe/my-recipe/1.2.3"}}`,
			errHas: []string{"3 {} placeholder(s) but 2 value argument(s)"}},
		{name: "the same with two placeholders",
			expr:  "States.Format('{}.{}', States.ArrayGetItem(States.StringSplit(States.ArrayGetItem(States.StringSplit($.ImageRecipe.Arn, '/'), 2), '.'), 0), States.ArrayGetItem(States.StringSplit(States.ArrayGetItem(States.StringSplit($.ImageRecipe.Arn, '/'), 2), '.'), 1))",
			input: `{"ImageRecipe":{"Arn":"arn:aws:imagebuilder:us-east-1:123456789012:image-recipe/my-recipe/1.2.3"}}`,
			want:  `"1.2"`},
		{name: "placeholder count mismatch at run time", expr: "States.Format($.t, 1)", input: `{"t":"{} {}"}`,
			errHas: []string{"States.Format", "2 {} placeholder(s) but 1 value argument(s)"}},
	})
}

func TestStringToJSON(t *testing.T) {
	runEvalCases(t, []evalCase{
		{name: "AWS doc", expr: "States.StringToJson($.escapedJsonString)",
			input: `{"escapedJsonString":"{\"foo\": \"bar\"}"}`, want: `{"foo":"bar"}`},
		{name: "ASL spec", expr: "States.StringToJson($.someString)",
			input: `{"someString":"{\"number\": 20}"}`, want: `{"number":20}`},
		{name: "AWS recorded empty string is null", expr: "States.StringToJson($.s)", input: `{"s":""}`, want: `null`},
		{name: "AWS recorded blank string is null", expr: "States.StringToJson($.s)", input: `{"s":" "}`, want: `null`},
		{name: "AWS recorded null", expr: "States.StringToJson('null')", want: `null`},
		{name: "AWS recorded -0 is 0", expr: "States.StringToJson('-0')", want: `0`},
		{name: "AWS recorded 1.1", expr: "States.StringToJson('1.1')", want: `1.1`},
		{name: "AWS recorded true", expr: "States.StringToJson('true')", want: `true`},
		{name: "AWS recorded string", expr: `States.StringToJson('"HelloWorld"')`, want: `"HelloWorld"`},
		{name: "AWS recorded array", expr: `States.StringToJson('[1, 2, "HelloWorld"]')`, want: `[1,2,"HelloWorld"]`},
		{name: "literal with braces (AWS recorded)", expr: `States.StringToJson('{"constant_in_literal": "false"}')`, want: `{"constant_in_literal":"false"}`},
		{name: "big integers keep precision", expr: `States.StringToJson('[12345678901234567890, 1.0]')`, want: `[12345678901234567890,1.0]`},
		{name: "invalid JSON", expr: "States.StringToJson('{nope')", errHas: []string{"States.StringToJson", "not valid JSON"}},
		{name: "trailing text", expr: "States.StringToJson('{} x')", errHas: []string{"text after the JSON value"}},
		{name: "not a string", expr: "States.StringToJson($.o)", input: `{"o":{"a":1}}`,
			errHas: []string{"argument 1 (JSON text) must be a string", `object {"a":1}`}},
	})
}

func TestJSONToString(t *testing.T) {
	runEvalCases(t, []evalCase{
		{name: "AWS doc", expr: "States.JsonToString($.unescapedJson)",
			input: `{"unescapedJson":{"foo":"bar"}}`, want: `"{\"foo\":\"bar\"}"`},
		{name: "ASL spec", expr: "States.JsonToString($.someJson)",
			input: `{"someJson":{"name":"Foo","year":2020}}`, want: `"{\"name\":\"Foo\",\"year\":2020}"`},
		{name: "AWS recorded object", expr: "States.JsonToString($.o)", input: `{"o":{"Arg1":1,"Arg2":[]}}`, want: `"{\"Arg1\":1,\"Arg2\":[]}"`},
		{name: "AWS recorded array", expr: "States.JsonToString($.a)", input: `{"a":[1,2,"HelloWorld"]}`, want: `"[1,2,\"HelloWorld\"]"`},
		{name: "AWS recorded string", expr: "States.JsonToString($.s)", input: `{"s":"HelloWorld"}`, want: `"\"HelloWorld\""`},
		{name: "AWS recorded scalars", expr: "States.Array(States.JsonToString($.n), States.JsonToString($.i), States.JsonToString($.f), States.JsonToString($.b))",
			input: `{"n":null,"i":1,"f":1.1,"b":true}`, want: `["null","1","1.1","true"]`},
		{name: "escaping like Jackson", expr: "States.JsonToString($.s)", input: `{"s":"a\"b\\c\n\t\u0001 <&> é"}`,
			want: `"\"a\\\"b\\\\c\\n\\t\\u0001 <&> é\""`},
		{name: "literal argument", expr: "States.JsonToString(States.Array(1, 'x'))", want: `"[1,\"x\"]"`},
		{name: "doubles as Jackson writes them", expr: "States.JsonToString($.a)", input: `{"a":[0.95,1.50,1e2,3.4e-05,-0,1e7,1.0]}`,
			want: `"[0.95,1.5,100.0,3.4E-5,0,1.0E7,1.0]"`, numberOnly: true},
		{name: "integral float64 prints as an integer", expr: "States.JsonToString($.a)", input: `{"a":[0.95,1e2,3.4e-05,-0]}`,
			want: `"[0.95,100,3.4E-5,0]"`, floatOnly: true},
	})
}

func TestArray(t *testing.T) {
	runEvalCases(t, []evalCase{
		{name: "AWS doc", expr: "States.Array($.Id)", input: `{"Id":123456}`, want: `[123456]`},
		{name: "ASL spec", expr: "States.Array('Foo', 2020, $.someJson, null)",
			input: `{"someJson":{"random":"abcdefg"}}`, want: `["Foo",2020,{"random":"abcdefg"},null]`},
		{name: "empty", expr: "States.Array()", want: `[]`},
		{name: "nested", expr: "States.Array(States.Array(), States.Array(true, false))", want: `[[],[true,false]]`},
	})
}

func TestArrayPartition(t *testing.T) {
	runEvalCases(t, []evalCase{
		{name: "AWS doc", expr: "States.ArrayPartition($.inputArray,4)",
			input: `{"inputArray":[1,2,3,4,5,6,7,8,9]}`, want: `[[1,2,3,4],[5,6,7,8],[9]]`},
		{name: "AWS recorded empty array", expr: "States.ArrayPartition($.a, 2)", input: `{"a":[]}`, want: `[]`},
		{name: "AWS recorded chunk larger than array", expr: "States.ArrayPartition($.a, 5)", input: `{"a":[0]}`, want: `[[0]]`},
		{name: "exact multiple", expr: "States.ArrayPartition($.a, 2)", input: `{"a":[0,1,2,3]}`, want: `[[0,1],[2,3]]`},
		{name: "chunk size 1", expr: "States.ArrayPartition($.a, 1)", input: `{"a":["x",{"k":1}]}`, want: `[["x"],[{"k":1}]]`},
		{name: "integral float chunk", expr: "States.ArrayPartition($.a, 2.0)", input: `{"a":[1,2,3]}`, want: `[[1,2],[3]]`},
		{name: "zero chunk", expr: "States.ArrayPartition($.a, 0)", input: `{"a":[1]}`,
			errHas: []string{"States.ArrayPartition", "argument 2 (chunk size) must be a non-zero, positive integer", "number 0"}},
		{name: "negative chunk", expr: "States.ArrayPartition($.a, -1)", input: `{"a":[1]}`, errHas: []string{"non-zero, positive integer"}},
		{name: "fractional chunk", expr: "States.ArrayPartition($.a, 1.5)", input: `{"a":[1]}`, errHas: []string{"non-zero, positive integer"}},
		{name: "string chunk", expr: "States.ArrayPartition($.a, '2')", input: `{"a":[1]}`, errHas: []string{"chunk size", `string "2"`}},
		{name: "not an array", expr: "States.ArrayPartition($.a, 2)", input: `{"a":"abc"}`,
			errHas: []string{"argument 1 (array) must be an array", `string "abc"`}},
	})
}

func TestArrayContains(t *testing.T) {
	runEvalCases(t, []evalCase{
		{name: "AWS doc", expr: "States.ArrayContains($.inputArray, $.lookingFor)",
			input: `{"inputArray":[1,2,3,4,5,6,7,8,9],"lookingFor":5}`, want: `true`},
		{name: "missing", expr: "States.ArrayContains($.a, 10)", input: `{"a":[1,2,3]}`, want: `false`},
		{name: "empty array", expr: "States.ArrayContains($.a, null)", input: `{"a":[]}`, want: `false`},
		{name: "null element", expr: "States.ArrayContains($.a, null)", input: `{"a":[1,null]}`, want: `true`},
		{name: "nested array", expr: "States.ArrayContains($.a, $.v)", input: `{"a":[[1,2,3],2],"v":[1,2,3]}`, want: `true`},
		{name: "object deep equality", expr: "States.ArrayContains($.a, $.v)", input: `{"a":[{"x":1,"y":[]}],"v":{"y":[],"x":1}}`, want: `true`},
		{name: "object differs", expr: "States.ArrayContains($.a, $.v)", input: `{"a":[{"x":1}],"v":{"x":2}}`, want: `false`},
		{name: "booleans", expr: "States.ArrayContains($.a, false)", input: `{"a":[true,false]}`, want: `true`},
		{name: "numbers by value", expr: "States.ArrayContains($.a, 1)", input: `{"a":[1.0]}`, want: `true`},
		{name: "string is not number", expr: "States.ArrayContains($.a, 1)", input: `{"a":["1"]}`, want: `false`},
		{name: "not an array", expr: "States.ArrayContains($.a, 1)", input: `{"a":{"k":1}}`, errHas: []string{"States.ArrayContains", "must be an array"}},
	})
}

func TestArrayRange(t *testing.T) {
	runEvalCases(t, []evalCase{
		{name: "AWS doc", expr: "States.ArrayRange(1, 9, 2)", want: `[1,3,5,7,9]`},
		{name: "AWS recorded 0 9 3", expr: "States.ArrayRange(0, 9, 3)", want: `[0,3,6,9]`},
		{name: "AWS recorded end not reached", expr: "States.ArrayRange(0, 10, 3)", want: `[0,3,6,9]`},
		{name: "AWS recorded step past end", expr: "States.ArrayRange(1, 9, 9)", want: `[1]`},
		{name: "from paths", expr: "States.ArrayRange($.a, $.b, $.c)", input: `{"a":1,"b":3,"c":1}`, want: `[1,2,3]`},
		{name: "single", expr: "States.ArrayRange(5, 5, 1)", want: `[5]`},
		{name: "negative step", expr: "States.ArrayRange(9, 1, -2)", want: `[9,7,5,3,1]`},
		{name: "moving away from end", expr: "States.ArrayRange(9, 1, 2)", want: `[]`},
		{name: "negative step moving away", expr: "States.ArrayRange(1, 9, -1)", want: `[]`},
		{name: "negative numbers", expr: "States.ArrayRange(-3, 0, 1)", want: `[-3,-2,-1,0]`},
		{name: "non-integers are rounded (Java Math.round)", expr: "States.ArrayRange(0.5, 2.5, 1.4)", want: `[1,2,3]`},
		{name: "negative half rounds up", expr: "States.ArrayRange(-1.5, 0, 1)", want: `[-1,0]`},
		{name: "exactly 1000 items", expr: "States.ArrayLength(States.ArrayRange(1, 1000, 1))", want: `1000`},
		{name: "1001 items", expr: "States.ArrayRange(0, 1000, 1)", errHas: []string{"States.ArrayRange", "has 1001 items; the limit is 1000"}},
		{name: "huge range", expr: "States.ArrayRange(-9223372036854775808, 9223372036854775807, 1)", errHas: []string{"the limit is 1000"}},
		{name: "huge negative step range", expr: "States.ArrayRange(9223372036854775807, -9223372036854775808, -9223372036854775808)", want: `[9223372036854775807,-1]`},
		{name: "step zero", expr: "States.ArrayRange(1, 9, 0)", errHas: []string{"argument 3 (step) must be a non-zero integer"}},
		{name: "step rounds to zero", expr: "States.ArrayRange(1, 9, 0.4)", errHas: []string{"non-zero integer"}},
		{name: "string argument", expr: "States.ArrayRange('1', 9, 1)", errHas: []string{"argument 1 (first element) must be an integer", `string "1"`}},
		{name: "null argument", expr: "States.ArrayRange(1, null, 1)", errHas: []string{"argument 2 (last element)", "null"}},
		{name: "out of 64-bit range", expr: "States.ArrayRange(1e30, 1, 1)", errHas: []string{"out of the 64-bit integer range"}},
	})
}

func TestArrayGetItem(t *testing.T) {
	runEvalCases(t, []evalCase{
		{name: "AWS doc", expr: "States.ArrayGetItem($.inputArray, $.index)",
			input: `{"inputArray":[1,2,3,4,5,6,7,8,9],"index":5}`, want: `6`},
		{name: "first", expr: "States.ArrayGetItem($.a, 0)", input: `{"a":[{"k":"v"}]}`, want: `{"k":"v"}`},
		{name: "integral float index", expr: "States.ArrayGetItem($.a, 1.0)", input: `{"a":[1,2]}`, want: `2`},
		{name: "AWS doc nested example", expr: "States.ArrayGetItem(States.StringSplit(States.ArrayGetItem(States.StringSplit($.Arn, '/'), 2), '.'), 0)",
			input: `{"Arn":"arn:aws:imagebuilder:us-east-1:123:image-recipe/my-recipe/1.2.3"}`, want: `"1"`},
		{name: "out of range", expr: "States.ArrayGetItem($.a, 3)", input: `{"a":[1,2,3]}`,
			errHas: []string{"States.ArrayGetItem", "argument 2 (index) must be an integer within the array bounds [0, 2], got 3"}},
		{name: "negative", expr: "States.ArrayGetItem($.a, -1)", input: `{"a":[1,2,3]}`, errHas: []string{"within the array bounds"}},
		{name: "empty array", expr: "States.ArrayGetItem($.a, 0)", input: `{"a":[]}`, errHas: []string{"the array is empty"}},
		{name: "fractional index", expr: "States.ArrayGetItem($.a, 0.5)", input: `{"a":[1]}`, errHas: []string{"argument 2 (index) must be an integer"}},
		{name: "not an array", expr: "States.ArrayGetItem($.a, 0)", input: `{"a":"abc"}`, errHas: []string{"argument 1 (array) must be an array"}},
	})
}

func TestArrayLength(t *testing.T) {
	runEvalCases(t, []evalCase{
		{name: "AWS doc", expr: "States.ArrayLength($.inputArray)", input: `{"inputArray":[1,2,3,4,5,6,7,8,9]}`, want: `9`},
		{name: "AWS recorded mixed", expr: "States.ArrayLength($.a)",
			input: `{"a":[null,null,true,true,false,false,1,1,1.1,0,0,"HelloWorld","HelloWorld",[],[],[null],[null],{"a":1,"b":2},{"a":1,"b":2},{"a":1,"b":1}]}`, want: `20`},
		{name: "empty", expr: "States.ArrayLength(States.Array())", want: `0`},
		{name: "not an array", expr: "States.ArrayLength($.a)", input: `{"a":{"0":1}}`, errHas: []string{"States.ArrayLength", "must be an array", "object"}},
	})
}

func TestArrayUnique(t *testing.T) {
	runEvalCases(t, []evalCase{
		{name: "AWS doc", expr: "States.ArrayUnique($.inputArray)", input: `{"inputArray":[1,2,3,3,3,3,3,3,4]}`, want: `[1,2,3,4]`},
		{name: "all JSON kinds", expr: "States.ArrayUnique($.a)",
			input: `{"a":[null,null,true,true,false,false,1,1,1.1,0,-0,"HelloWorld","HelloWorld",[],[],[null],[null],{"a":1,"b":2},{"b":2,"a":1},{"a":1,"b":1}]}`,
			want:  `[null,true,false,1,1.1,0,"HelloWorld",[],[null],{"a":1,"b":2},{"a":1,"b":1}]`},
		{name: "keeps first occurrence order", expr: "States.ArrayUnique($.a)", input: `{"a":["b","a","b","c","a"]}`, want: `["b","a","c"]`},
		{name: "numbers by value", expr: "States.ArrayUnique($.a)", input: `{"a":[1,1.0,1e0,2]}`, want: `[1,2]`},
		{name: "string vs number", expr: "States.ArrayUnique($.a)", input: `{"a":[1,"1"]}`, want: `[1,"1"]`},
		{name: "empty", expr: "States.ArrayUnique($.a)", input: `{"a":[]}`, want: `[]`},
		{name: "not an array", expr: "States.ArrayUnique($.a)", input: `{"a":null}`, errHas: []string{"States.ArrayUnique", "must be an array, got null"}},
	})
}

func TestBase64(t *testing.T) {
	long := strings.Repeat("a", 10000)
	runEvalCases(t, []evalCase{
		{name: "AWS doc encode", expr: "States.Base64Encode($.input)", input: `{"input":"Data to encode"}`, want: `"RGF0YSB0byBlbmNvZGU="`},
		{name: "AWS doc decode", expr: "States.Base64Decode($.base64)", input: `{"base64":"RGF0YSB0byBlbmNvZGU="}`, want: `"Data to encode"`},
		{name: "AWS recorded empty encode", expr: "States.Base64Encode('')", want: `""`},
		{name: "AWS recorded empty decode", expr: "States.Base64Decode('')", want: `""`},
		{name: "UTF-8", expr: "States.Base64Encode('héllo ✓')", want: `"aMOpbGxvIOKckw=="`},
		{name: "round trip", expr: "States.Base64Decode(States.Base64Encode('héllo ✓'))", want: `"héllo ✓"`},
		{name: "long output has no line breaks", expr: "States.Base64Encode($.s)", input: `{"s":"` + strings.Repeat("x", 60) + `"}`,
			want: `"` + strings.Repeat("eHh4", 20) + `"`},
		{name: "decode without padding", expr: "States.Base64Decode('QQ')", want: `"A"`},
		{name: "MIME decode ignores line breaks and other characters", expr: "States.Base64Decode($.s)", input: `{"s":"RGF0YSB0\r\nbyBlbmNv ZGU="}`, want: `"Data to encode"`},
		{name: "invalid UTF-8 becomes U+FFFD", expr: "States.Base64Decode('/w==')", want: `"\ufffd"`},
		{name: "encode at the limit", expr: "States.ArrayLength(States.StringSplit(States.Base64Encode($.s), '='))", input: `{"s":"` + long + `"}`, want: `1`},
		{name: "encode over the limit", expr: "States.Base64Encode($.s)", input: `{"s":"` + long + `b"}`,
			errHas: []string{"States.Base64Encode", "argument 1 (data) has 10001 characters; the limit is 10000"}},
		{name: "limit counts UTF-16 units", expr: "States.Base64Encode($.s)", input: `{"s":"` + strings.Repeat("a", 9999) + `😀"}`,
			errHas: []string{"has 10001 characters"}},
		{name: "decode over the limit", expr: "States.Base64Decode($.s)", input: `{"s":"` + strings.Repeat("QUFB", 2500) + `QQ=="}`,
			errHas: []string{"States.Base64Decode", "has 10004 characters"}},
		{name: "truncated", expr: "States.Base64Decode('QUFBQ')", errHas: []string{"truncated"}},
		{name: "data after padding", expr: "States.Base64Decode('QQ==QQ==')", errHas: []string{"data after '=' padding"}},
		{name: "wrong padding", expr: "States.Base64Decode('QQ=')", errHas: []string{"incorrect '=' padding"}},
		{name: "encode non-string", expr: "States.Base64Encode(1)", errHas: []string{"argument 1 (data) must be a string, got number 1"}},
		{name: "decode non-string", expr: "States.Base64Decode($.a)", input: `{"a":[]}`, errHas: []string{"must be a string, got array []"}},
	})
}

func TestHash(t *testing.T) {
	runEvalCases(t, []evalCase{
		{name: "AWS doc SHA-1", expr: "States.Hash($.Data, $.Algorithm)", input: `{"Data":"input data","Algorithm":"SHA-1"}`,
			want: `"aaff4a450a104cd177d28d18d74485e8cae074b7"`},
		{name: "MD5", expr: "States.Hash('input data', 'MD5')", want: `"812f45842bc6d66ee14572ce20db8e86"`},
		{name: "SHA-256", expr: "States.Hash('input data', 'SHA-256')", want: `"b4a697a057313163aee33cd8d40c66e9f0f177e00cac2de32475ffff6169c3e3"`},
		{name: "SHA-384", expr: "States.Hash('', 'SHA-384')", want: `"38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b"`},
		{name: "SHA-512", expr: "States.Hash('', 'SHA-512')", want: `"cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"`},
		{name: "at the limit", expr: "States.Hash($.s, 'MD5')", input: `{"s":"` + strings.Repeat("a", 10000) + `"}`, want: `"0d0c9c4db6953fee9e03f528cafd7d3e"`},
		{name: "over the limit", expr: "States.Hash($.s, 'MD5')", input: `{"s":"` + strings.Repeat("a", 10001) + `"}`,
			errHas: []string{"States.Hash", "has 10001 characters; the limit is 10000"}},
		{name: "unknown algorithm", expr: "States.Hash('x', 'SHA1')", errHas: []string{"argument 2 (algorithm) must be one of MD5, SHA-1, SHA-256, SHA-384, SHA-512", `string "SHA1"`}},
		{name: "algorithm is case-sensitive", expr: "States.Hash('x', 'md5')", errHas: []string{"must be one of"}},
		{name: "data not a string", expr: "States.Hash($.o, 'MD5')", input: `{"o":{"a":1}}`, errHas: []string{"argument 1 (data) must be a string"}},
	})
}

func TestJSONMerge(t *testing.T) {
	runEvalCases(t, []evalCase{
		{name: "AWS doc", expr: "States.JsonMerge($.json1, $.json2, false)",
			input: `{"json1":{"a":{"a1":1,"a2":2},"b":2},"json2":{"a":{"a3":1,"a4":2},"c":3}}`,
			want:  `{"a":{"a3":1,"a4":2},"b":2,"c":3}`},
		{name: "AWS recorded", expr: "States.JsonMerge($.fst, $.snd, false)",
			input: `{"fst":{"a":{"a1":1,"a2":2},"b":2,"d":3},"snd":{"a":{"a3":1,"a4":2},"c":3,"d":4}}`,
			want:  `{"a":{"a3":1,"a4":2},"b":2,"c":3,"d":4}`},
		{name: "AWS recorded with StringToJson literal", expr: `States.JsonMerge(States.StringToJson('{"constant_in_literal": "false"}'), $.input_field, false)`,
			input: `{"input_field":{"constant_input_field":"constant_value"}}`,
			want:  `{"constant_in_literal":"false","constant_input_field":"constant_value"}`},
		{name: "empty objects", expr: "States.JsonMerge($.a, $.a, false)", input: `{"a":{}}`, want: `{}`},
		{name: "deep merge rejected", expr: "States.JsonMerge($.a, $.a, true)", input: `{"a":{}}`,
			errHas: []string{"States.JsonMerge", "argument 3 (deep merge flag) must be false"}},
		{name: "flag not boolean", expr: "States.JsonMerge($.a, $.a, 'false')", input: `{"a":{}}`,
			errHas: []string{"argument 3 (deep merge flag) must be the boolean false", `string "false"`}},
		{name: "first not object", expr: "States.JsonMerge($.x, $.a, false)", input: `{"a":{},"x":[1]}`,
			errHas: []string{"argument 1 (first object) must be a JSON object, got array [1]"}},
		{name: "second not object", expr: "States.JsonMerge($.a, 'x', false)", input: `{"a":{}}`,
			errHas: []string{"argument 2 (second object) must be a JSON object"}},
	})
	// The merge must not modify its inputs.
	in := decode(t, `{"a":{"k":1},"b":{"k":2,"j":3}}`)
	c, _ := Parse("States.JsonMerge($.a, $.b, false)")
	if _, err := c.Eval(docResolver(in, nil, nil)); err != nil {
		t.Fatal(err)
	}
	if got := canon(t, in); got != `{"a":{"k":1},"b":{"j":3,"k":2}}` {
		t.Fatalf("input modified: %s", got)
	}
}

func TestMathAdd(t *testing.T) {
	runEvalCases(t, []evalCase{
		{name: "AWS doc", expr: "States.MathAdd($.value1, $.step)", input: `{"value1":111,"step":-1}`, want: `110`},
		// Recorded on AWS: each argument is rounded like Java's Math.round.
		{name: "AWS recorded -9+3", expr: "States.MathAdd(-9, 3)", want: `-6`},
		{name: "AWS recorded 1.49+1.50", expr: "States.MathAdd(1.49, 1.50)", want: `3`},
		{name: "AWS recorded 1.50+1.51", expr: "States.MathAdd(1.50, 1.51)", want: `4`},
		{name: "AWS recorded -1.49+-1.50", expr: "States.MathAdd(-1.49, -1.50)", want: `-2`},
		{name: "AWS recorded -1.50+-1.51", expr: "States.MathAdd(-1.50, -1.51)", want: `-3`},
		{name: "AWS recorded -1.51", expr: "States.MathAdd(-1.51, 0)", want: `-2`},
		{name: "AWS recorded 0.5", expr: "States.MathAdd(0.5, 0)", want: `1`},
		{name: "AWS recorded 1.5", expr: "States.MathAdd(1.5, 0)", want: `2`},
		{name: "AWS recorded 2.5", expr: "States.MathAdd(2.5, 0)", want: `3`},
		{name: "AWS recorded 3.5", expr: "States.MathAdd(3.5, 0)", want: `4`},
		{name: "AWS recorded -0.5+0.5", expr: "States.MathAdd(-0.5, 0.5)", want: `1`},
		{name: "AWS recorded -0.5", expr: "States.MathAdd(-0.5, 0)", want: `0`},
		{name: "AWS recorded -1.5", expr: "States.MathAdd(-1.5, 0)", want: `-1`},
		{name: "AWS recorded -2.5", expr: "States.MathAdd(-2.5, 0)", want: `-2`},
		{name: "from paths as floats", expr: "States.MathAdd($.a, $.b)", input: `{"a":2.5,"b":-3.5}`, want: `0`},
		{name: "large exact integers", expr: "States.MathAdd(9007199254740993, 1)", want: `9007199254740994`},
		{name: "exponent literal", expr: "States.MathAdd(1e3, 0)", want: `1000`},
		{name: "overflow", expr: "States.MathAdd(9223372036854775807, 1)", errHas: []string{"States.MathAdd", "overflows a 64-bit integer"}},
		{name: "negative overflow", expr: "States.MathAdd(-9223372036854775808, -1)", errHas: []string{"overflows"}},
		{name: "string", expr: "States.MathAdd('1', 1)", errHas: []string{"argument 1 (first number) must be an integer, got", `string "1"`}},
		{name: "null", expr: "States.MathAdd(1, $.n)", input: `{"n":null}`, errHas: []string{"argument 2 (second number)", "got null"}},
	})
}

func TestMathRandom(t *testing.T) {
	runEvalCases(t, []evalCase{
		// 0 + java.util.Random(3).nextInt(1000)
		{name: "seeded is deterministic", expr: "States.MathRandom(0, 999, 3)", want: `734`},
		{name: "single value range", expr: "States.MathRandom(5, 5)", want: `5`},
		{name: "rounded bounds", expr: "States.MathRandom(4.5, 5.4)", want: `5`},
		{name: "start above end", expr: "States.MathRandom(10, 1)", errHas: []string{"States.MathRandom", "start 10 is greater than end 1"}},
		{name: "string bound", expr: "States.MathRandom('1', 10)", errHas: []string{"argument 1 (start) must be an integer"}},
		{name: "string seed", expr: "States.MathRandom(1, 10, 'x')", errHas: []string{"argument 3 (seed) must be an integer"}},
	})
	t.Run("AWS doc range, all values in bounds, both ends reached", func(t *testing.T) {
		c, err := Parse("States.MathRandom($.start, $.end)")
		if err != nil {
			t.Fatal(err)
		}
		resolve := docResolver(decode(t, `{"start":1,"end":3}`), nil, nil)
		seen := map[string]bool{}
		for i := 0; i < 2000; i++ {
			v, err := c.Eval(resolve)
			if err != nil {
				t.Fatal(err)
			}
			n, ok := v.(json.Number)
			if !ok {
				t.Fatalf("result %T, want json.Number", v)
			}
			seen[string(n)] = true
		}
		if len(seen) != 3 || !seen["1"] || !seen["2"] || !seen["3"] {
			t.Fatalf("values seen %v, want exactly 1, 2 and 3", seen)
		}
	})
	t.Run("same seed same number; full 64-bit range", func(t *testing.T) {
		for _, expr := range []string{
			"States.MathRandom(1, 999, 42)",
			"States.MathRandom(-9223372036854775808, 9223372036854775807, 7)",
			"States.MathRandom(0, 9007199254740992, 7)",
		} {
			c, _ := Parse(expr)
			a, err1 := c.Eval(nil)
			b, err2 := c.Eval(nil)
			if err1 != nil || err2 != nil || a != b {
				t.Fatalf("%s: %v %v / %v %v", expr, a, err1, b, err2)
			}
		}
		c, _ := Parse("States.MathRandom(-9223372036854775808, 9223372036854775807)")
		if _, err := c.Eval(nil); err != nil {
			t.Fatal(err)
		}
	})
}

// TestJavaRandom checks the java.util.Random port against values printed
// by a real JVM (OpenJDK: new Random(seed).nextInt(bound)).
func TestJavaRandom(t *testing.T) {
	if got := newJavaRandom(42).next(32); got != -1170105035 {
		t.Fatalf("new Random(42).nextInt() = %d, want -1170105035", got)
	}
	golden := `0 1 0|0 2 1|0 10 0|0 999 672|0 1000 360|0 1024 748|0 65536 47904|0 2147483647 1569741360|0 1073741825 516548029|` +
		`1 10 5|1 999 105|1 1000 985|1 2147483647 1569548985|1 1073741825 215764588|` +
		`3 10 4|3 999 239|3 1000 734|3 1073741825 152454210|` +
		`42 10 0|42 999 125|42 1000 130|42 1024 745|42 65536 47681|42 2147483647 1562431130|42 1073741825 117392763|` +
		`-7 2 0|-7 10 2|-7 999 175|-7 1024 275|-7 65536 17637|-7 1073741825 577934662|` +
		`123456789 10 5|123456789 999 403|123456789 2147483647 1426010965|123456789 1073741825 981296483|` +
		`9223372036854775807 10 3|9223372036854775807 999 41|9223372036854775807 1073741825 577549913|` +
		`-9223372036854775808 999 672|-9223372036854775808 2147483647 1569741360`
	for _, row := range strings.Split(golden, "|") {
		f := strings.Fields(row)
		seed, _ := strconv.ParseInt(f[0], 10, 64)
		bound, _ := strconv.ParseInt(f[1], 10, 32)
		want, _ := strconv.ParseInt(f[2], 10, 32)
		if got := newJavaRandom(seed).nextInt(int32(bound)); int64(got) != want {
			t.Errorf("new Random(%d).nextInt(%d) = %d, want %d", seed, bound, got, want)
		}
	}
}

func TestJavaRound(t *testing.T) {
	// Values printed by a real JVM's Math.round.
	for in, want := range map[float64]float64{
		0.5: 1, 1.5: 2, 2.5: 3, -0.5: 0, -1.5: -1, -2.5: -2,
		0.49999999999999994: 0, -0.49999999999999994: 0, 1.49: 1, -1.51: -2,
		4503599627370497: 4503599627370497,
	} {
		if got := javaRound(in); got != want {
			t.Errorf("javaRound(%v) = %v, want %v", in, got, want)
		}
	}
}

func TestStringSplit(t *testing.T) {
	runEvalCases(t, []evalCase{
		{name: "AWS doc comma", expr: "States.StringSplit($.inputString, $.splitter)", input: `{"inputString":"1,2,3,4,5","splitter":","}`,
			want: `["1","2","3","4","5"]`},
		{name: "AWS doc every delimiter character", expr: "States.StringSplit($.inputString, $.splitter)",
			input: `{"inputString":"This.is+a,test=string","splitter":".+,="}`, want: `["This","is","a","test","string"]`},
		{name: "AWS recorded newline", expr: "States.StringSplit('Hello\nWorld', '\n')", want: `["Hello","World"]`},
		{name: "empty pieces dropped", expr: "States.StringSplit(',a,,b,', ',')", want: `["a","b"]`},
		{name: "multi-character delimiter is a set", expr: "States.StringSplit('a--b-c', '--')", want: `["a","b","c"]`},
		{name: "empty input", expr: "States.StringSplit('', ',')", want: `[]`},
		{name: "only delimiters", expr: "States.StringSplit(',,,', ',')", want: `[]`},
		{name: "empty delimiter", expr: "States.StringSplit('a,b', '')", want: `["a,b"]`},
		{name: "no delimiter present", expr: "States.StringSplit('abc', '/')", want: `["abc"]`},
		{name: "unicode delimiters", expr: "States.StringSplit('a→b→c', '→')", want: `["a","b","c"]`},
		{name: "escaped reserved delimiter", expr: `States.StringSplit('a{b}c\'d', '\{\}\'')`, want: `["a","b","c","d"]`},
		{name: "not a string", expr: "States.StringSplit($.n, ',')", input: `{"n":123}`, errHas: []string{"States.StringSplit", "argument 1 (string) must be a string, got number 123"}},
		{name: "delimiter not a string", expr: "States.StringSplit('a', 1)", errHas: []string{"argument 2 (delimiter characters) must be a string"}},
	})
}

func TestUUID(t *testing.T) {
	c, err := Parse("States.UUID()")
	if err != nil {
		t.Fatal(err)
	}
	v4 := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[any]bool{}
	for i := 0; i < 100; i++ {
		v, err := c.Eval(nil)
		if err != nil {
			t.Fatal(err)
		}
		s, _ := v.(string)
		if !v4.MatchString(s) {
			t.Fatalf("%q is not a v4 UUID", s)
		}
		if seen[v] {
			t.Fatalf("duplicate UUID %s", s)
		}
		seen[v] = true
	}
}

// TestNumbersAreJSONNumber pins the representation the engine relies on.
func TestNumbersAreJSONNumber(t *testing.T) {
	for _, expr := range []string{
		"States.ArrayLength(States.Array(1))",
		"States.MathAdd(1, 2)",
		"States.MathRandom(1, 2)",
		"States.ArrayGetItem(States.ArrayRange(1, 3, 1), 0)",
		"States.StringToJson('5')",
		"States.ArrayGetItem(States.Array(7), 0)",
	} {
		c, err := Parse(expr)
		if err != nil {
			t.Fatal(err)
		}
		v, err := c.Eval(nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := v.(json.Number); !ok {
			t.Errorf("%s = %#v (%T), want json.Number", expr, v, v)
		}
	}
}

func TestOtherGoValues(t *testing.T) {
	// Hand-built inputs with other Go types still work.
	in := map[string]any{"strs": []string{"a", "b"}, "n": 3, "f32": float32(1.5), "m": map[string]int{"k": 1}}
	resolve := docResolver(in, nil, nil)
	for expr, want := range map[string]string{
		"States.JsonToString($.strs)":                `"[\"a\",\"b\"]"`,
		"States.Format('{} {} {}', $.n, $.f32, $.m)": `"3 1.5 {k=1}"`,
		"States.MathAdd($.n, $.f32)":                 `5`,
	} {
		c, err := Parse(expr)
		if err != nil {
			t.Fatal(err)
		}
		v, err := c.Eval(resolve)
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		if got := canon(t, v); got != want {
			t.Errorf("%s = %s, want %s", expr, got, want)
		}
	}
	// NaN has no JSON form: a clean IntrinsicFailure, not a panic.
	c, _ := Parse("States.JsonToString($.x)")
	_, err := c.Eval(func(string) (any, error) { return []any{1.0, nanValue()}, nil })
	var e *Error
	if !errors.As(err, &e) || e.Name != ErrIntrinsicFailure {
		t.Fatalf("got %v", err)
	}
}

func nanValue() float64 {
	zero := 0.0
	return zero / zero
}

// TestJavaDouble checks javaDouble against a real JVM's Double.toString.
func TestJavaDouble(t *testing.T) {
	for in, want := range map[float64]string{
		1.0: "1.0", 1.5: "1.5", 100: "100.0", 0.001: "0.001", 0.0001: "1.0E-4",
		1.2e-5: "1.2E-5", 3.4e-05: "3.4E-5", 9999999.0: "9999999.0", 1e7: "1.0E7",
		12345678.9: "1.23456789E7", 0.95: "0.95", 0.30000000000000004: "0.30000000000000004",
		1e21: "1.0E21", 1e22: "1.0E22", 123.456: "123.456", -0.5: "-0.5", 0.002: "0.002",
		5e-324: "4.9E-324", 1.7976931348623157e308: "1.7976931348623157E308",
		4.35e100: "4.35E100", 0.9537000000000001: "0.9537000000000001",
	} {
		if got := javaDouble(in); got != want {
			t.Errorf("javaDouble(%v) = %q, want %q", in, got, want)
		}
	}
	if got := javaDouble(math.Copysign(0, -1)); got != "-0.0" {
		t.Errorf("javaDouble(-0) = %q", got)
	}
	if got := javaDouble(0); got != "0.0" {
		t.Errorf("javaDouble(0) = %q", got)
	}
}

// TestPayloadLimit: nested calls can repeat one value exponentially often;
// building more than the 256 KiB payload quota fails fast with
// States.DataLimitExceeded instead of exhausting memory.
func TestPayloadLimit(t *testing.T) {
	doc := decode(t, `{"s":"`+strings.Repeat("x", 1000)+`"}`)
	blowup := func(fn string) string {
		e := "$.s"
		for i := 0; i < 9; i++ { // 2^9 copies of a 1000-byte string
			e = "States.Array(" + e + ", " + e + ")"
		}
		return fn + "(" + e + ")"
	}
	for _, expr := range []string{
		blowup("States.JsonToString"),
		blowup("States.ArrayLength"),
		"States.JsonMerge(States.StringToJson(States.Format('\\{\"a\": {}\\}', States.JsonToString($.big))), States.StringToJson(States.Format('\\{\"b\": {}\\}', States.JsonToString($.big))), false)",
		"States.Format('{}{}', $.big, $.big)",
		"States.JsonToString(States.Array($.big, $.big))",
		"States.ArrayUnique(States.Array(States.Array($.big, $.big)))",
	} {
		c, err := Parse(expr)
		if err != nil {
			t.Fatal(err)
		}
		in := map[string]any{"s": doc.(map[string]any)["s"], "big": strings.Repeat("y", 140*1024)}
		_, err = c.Eval(docResolver(in, nil, nil))
		var e *Error
		if !errors.As(err, &e) || e.Name != ErrDataLimitExceeded || !strings.Contains(e.Cause, "262144-byte payload size quota") {
			t.Errorf("%.80s...: got %v", expr, err)
		}
	}
	// Just under the quota is fine.
	c, _ := Parse("States.JsonToString(States.Array($.big))")
	v, err := c.Eval(docResolver(map[string]any{"big": strings.Repeat("y", 256*1024-10)}, nil, nil))
	if err != nil || len(v.(string)) != 256*1024-10+4 {
		t.Fatalf("got %v", err)
	}
}
