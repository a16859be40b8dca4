// Package intrinsic parses and evaluates the intrinsic functions of the
// Amazon States Language (JSONPath query language): States.Format,
// States.StringToJson, States.JsonToString, States.Array,
// States.ArrayPartition, States.ArrayContains, States.ArrayRange,
// States.ArrayGetItem, States.ArrayLength, States.ArrayUnique,
// States.Base64Encode, States.Base64Decode, States.Hash, States.JsonMerge,
// States.MathRandom, States.MathAdd, States.StringSplit and States.UUID.
//
// # Why this is hand-written
//
// No maintained Go library implements ASL intrinsic functions. The
// semantics here follow the AWS Step Functions developer guide ("Intrinsic
// functions for JSONPath states") and, where the guide is silent, behaviour
// AWS was observed to have (recorded execution histories of real Step
// Functions runs, as published by emulator test suites). Each such quirk is
// noted below and pinned by a test.
//
// # Using it
//
// The engine calls [Parse] once per "key.$" field whose value satisfies
// [IsIntrinsic] (at state machine creation: a *[ParseError] there becomes
// InvalidDefinition), keeps the *[Call], and calls [Call.Eval] at run time
// with a [Resolver] for the path arguments. A *Call is immutable after
// Parse and safe for concurrent Eval.
//
// The expression Parse receives is the JSON-decoded field value: the JSON
// text "States.Format('it\\'s {}', $.x)" arrives as States.Format('it\'s {}', $.x).
//
// # Syntax
//
//   - A call is States.Name(arg, arg, ...). Function names are
//     case-sensitive. Whitespace is allowed between tokens.
//   - String literals are single-quoted. Inside them the reserved characters
//     are escaped with a backslash: \' is ', \{ is {, \} is } and \\ is \.
//     Any other backslash sequence is a parse error (AWS: "an open escape
//     backslash ... will throw an error"). Unescaped { and } are otherwise
//     ordinary characters (States.StringToJson('{"a": 1}') works, as on AWS);
//     only an unescaped "{}" pair is a States.Format placeholder.
//   - Number literals use JSON number syntax (-1, 2.5, 1e3).
//   - true, false and null are literals.
//   - Paths: $ and $.x / $[...] (state input), $$ and $$.x (context object),
//     and $name, $name.x (workflow variables). The path text is handed to the
//     Resolver unchanged; bracket contents may hold commas, spaces and quotes.
//   - Intrinsic calls nest as arguments, up to [MaxNesting] levels deep.
//
// Parse checks syntax, function names, argument counts, and that a literal
// States.Format template is a string. Everything that depends on data is
// checked by Eval, including a "{}" count that does not match the values:
// AWS's documentation itself shows such a call (three {} and two values) as
// a valid definition, so rejecting it at creation would be stricter than
// AWS.
//
// # Values and numbers
//
// Eval consumes and produces decoded JSON: map[string]any, []any, string,
// bool, nil, and numbers. Numbers on input may be float64 or json.Number
// (Go integer and float32 types are accepted too). Every number Eval
// produces is a json.Number: integer results (States.ArrayLength,
// States.ArrayRange, States.MathAdd, States.MathRandom) are exact decimal
// integers, number literals keep their source text, and States.StringToJson
// decodes with json.Decoder.UseNumber. Marshal results with encoding/json
// as usual; json.Number marshals as the bare number.
//
// States.Format and States.JsonToString print numbers as AWS's JSON
// library (Jackson) does: integer literals as written, any number with a
// fraction or exponent as a Java double (Java 19+ Double.toString: 1.50 ->
// "1.5", 1e2 -> "100.0", 3.4e-05 -> "3.4E-5", 1e7 -> "1.0E7"). That needs
// the literal's text, so give Eval values decoded with
// json.Decoder.UseNumber. A float64 cannot tell 1.0 from 1; integral float64
// values print as integers ("1"). Arithmetic and comparisons are the same
// either way.
//
// Results may share nested values with what the Resolver returned (for
// example States.Array($.obj) holds the resolver's map). Treat values as
// immutable.
//
// # Errors
//
// Eval returns *[Error]. Data errors (wrong argument types, out of range,
// bad JSON, bad Base64, placeholder count mismatch, ...) have Name
// "States.IntrinsicFailure" and a Cause naming the function and the
// argument, e.g. "Invalid arguments in States.ArrayGetItem: argument 2
// (index) must be an integer within the array bounds [0, 2], got 5".
// Errors returned by the Resolver are passed through unchanged when they are
// *Error (so the engine decides, e.g. States.Runtime for a path that is not
// in the input, as AWS does); any other resolver error is wrapped as
// States.Runtime.
//
// Text or values an intrinsic builds are capped at AWS's 256 KiB payload
// quota: States.JsonToString, States.Format, States.Array, States.JsonMerge
// (and the equality keys of ArrayContains/ArrayUnique) fail with
// "States.DataLimitExceeded" beyond it. Without the cap, nested calls that
// repeat a large value (States.Array($, $, ...) nested ten deep) would build
// gigabytes. The engine should still enforce the quota on state input and
// output as a whole.
//
// # Function notes (AWS semantics and quirks)
//
//   - States.Format: arguments are rendered as on AWS: strings bare, numbers
//     as described above, true/false/null as words, arrays as "[a, b]" and
//     objects as "{k=v, k2=v2}" (Java's toString, observed on AWS). Object
//     keys are rendered in sorted order (Go maps have no order; AWS keeps
//     input order). A template from a path has no escape processing: every
//     "{}" in it is a placeholder.
//   - States.StringToJson: an empty or all-whitespace string gives null (as
//     on AWS); "-0" gives 0; text after the JSON value is an error (AWS's
//     behaviour there is not documented).
//   - States.JsonToString: compact JSON (no spaces) as Jackson writes it:
//     only '"', '\' and control characters escaped (<>& and non-ASCII kept),
//     numbers as described above; object keys sorted (AWS keeps input
//     order). AWS documents the argument as a path; any argument is
//     accepted here.
//   - States.ArrayPartition: chunk size must be a positive integer; an empty
//     array gives [] (observed on AWS).
//   - States.ArrayContains / States.ArrayUnique: deep JSON equality; numbers
//     compare by value (1 equals 1.0). ArrayUnique keeps first occurrences in
//     order.
//   - States.ArrayRange: end is inclusive when reached ((0, 10, 3) gives
//     [0,3,6,9]); a negative step counts down; a step that moves away from
//     the end gives []; a step of 0 or more than 1000 items is an error.
//   - States.ArrayGetItem: index must be an integer within bounds.
//   - States.MathAdd, States.ArrayRange, States.MathRandom: non-integer
//     numbers are rounded to the nearest integer the way AWS does (Java's
//     Math.round: halves go up, so 2.5 -> 3 and -2.5 -> -2; recorded on AWS
//     for MathAdd). Results are 64-bit; overflow is an error.
//   - States.MathRandom(start, end[, seed]): an integer in [start, end], both
//     ends inclusive; start > end is an error. With a seed the result is
//     deterministic (java.util.Random(seed).nextInt(end-start+1)+start when
//     the range fits in 31 bits). Whether AWS uses that exact formula is not
//     documented, so seeded values may differ from AWS's.
//   - States.Base64Encode: standard Base64 with padding and no line breaks;
//     input at most 10,000 characters (UTF-16 code units, as AWS counts).
//     AWS calls it "MIME Base64"; a Java MIME encoder would break lines every
//     76 characters, which AWS does not document and is not done here.
//   - States.Base64Decode: MIME decoding, as documented: characters outside
//     the Base64 alphabet are ignored, padding is optional; at most 10,000
//     characters. Bytes that are not UTF-8 become U+FFFD.
//   - States.Hash(data, algorithm): data must be a string of at most 10,000
//     characters; algorithm one of MD5, SHA-1, SHA-256, SHA-384, SHA-512
//     (exact spelling); lowercase hex result.
//   - States.JsonMerge(a, b, false): shallow merge, b's keys win. The third
//     argument must be the boolean false: AWS supports only shallow merging.
//   - States.StringSplit(s, delimiters): every character of delimiters is a
//     delimiter (AWS: ".+,=" splits on each of the four), and empty pieces
//     are dropped (java.util.StringTokenizer semantics, which the per-
//     character rule suggests; AWS's examples have no empty pieces):
//     "a,,b" gives ["a","b"], "" gives [].
//   - States.UUID(): a random version 4 UUID string.
package intrinsic
