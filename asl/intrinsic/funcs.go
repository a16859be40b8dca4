package intrinsic

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Limits documented by AWS.
const (
	maxRangeItems = 1000   // States.ArrayRange
	maxInputChars = 10_000 // States.Base64Encode, States.Base64Decode, States.Hash
)

type funcSpec struct {
	minArgs, maxArgs int // maxArgs < 0: unlimited
	fn               func(c *Call, args []any) (any, error)
}

func (s funcSpec) arity() string {
	switch {
	case s.maxArgs < 0:
		return fmt.Sprintf("at least %d argument(s)", s.minArgs)
	case s.minArgs == s.maxArgs && s.minArgs == 1:
		return "exactly 1 argument"
	case s.minArgs == s.maxArgs:
		return fmt.Sprintf("exactly %d arguments", s.minArgs)
	default:
		return fmt.Sprintf("%d to %d arguments", s.minArgs, s.maxArgs)
	}
}

// lookup returns the specification of a function by its full name. It is a
// switch rather than a map so the package holds no mutable state.
func lookup(name string) (funcSpec, bool) {
	switch name {
	case "States.Format":
		return funcSpec{1, -1, fnFormat}, true
	case "States.StringToJson":
		return funcSpec{1, 1, fnStringToJSON}, true
	case "States.JsonToString":
		return funcSpec{1, 1, fnJSONToString}, true
	case "States.Array":
		return funcSpec{0, -1, fnArray}, true
	case "States.ArrayPartition":
		return funcSpec{2, 2, fnArrayPartition}, true
	case "States.ArrayContains":
		return funcSpec{2, 2, fnArrayContains}, true
	case "States.ArrayRange":
		return funcSpec{3, 3, fnArrayRange}, true
	case "States.ArrayGetItem":
		return funcSpec{2, 2, fnArrayGetItem}, true
	case "States.ArrayLength":
		return funcSpec{1, 1, fnArrayLength}, true
	case "States.ArrayUnique":
		return funcSpec{1, 1, fnArrayUnique}, true
	case "States.Base64Encode":
		return funcSpec{1, 1, fnBase64Encode}, true
	case "States.Base64Decode":
		return funcSpec{1, 1, fnBase64Decode}, true
	case "States.Hash":
		return funcSpec{2, 2, fnHash}, true
	case "States.JsonMerge":
		return funcSpec{3, 3, fnJSONMerge}, true
	case "States.MathRandom":
		return funcSpec{2, 3, fnMathRandom}, true
	case "States.MathAdd":
		return funcSpec{2, 2, fnMathAdd}, true
	case "States.StringSplit":
		return funcSpec{2, 2, fnStringSplit}, true
	case "States.UUID":
		return funcSpec{0, 0, fnUUID}, true
	}
	return funcSpec{}, false
}

// badArg is the IntrinsicFailure for an argument of the wrong type or value.
func badArg(c *Call, i int, role, want string, got any) *Error {
	return failf("Invalid arguments in %s: argument %d (%s) must be %s, got %s", c.Name, i+1, role, want, describe(got))
}

// tooLarge is the error for text beyond the payload quota.
func tooLarge(c *Call) *Error {
	return &Error{Name: ErrDataLimitExceeded, Cause: fmt.Sprintf("%s: the result is larger than the %d-byte payload size quota", c.Name, maxPayloadBytes)}
}

func stringArg(c *Call, args []any, i int, role string) (string, *Error) {
	s, ok := args[i].(string)
	if !ok {
		return "", badArg(c, i, role, "a string", args[i])
	}
	return s, nil
}

func arrayArg(c *Call, args []any, i int, role string) ([]any, *Error) {
	a, ok := args[i].([]any)
	if !ok {
		return nil, badArg(c, i, role, "an array", args[i])
	}
	return a, nil
}

func objectArg(c *Call, args []any, i int, role string) (map[string]any, *Error) {
	m, ok := args[i].(map[string]any)
	if !ok {
		return nil, badArg(c, i, role, "a JSON object", args[i])
	}
	return m, nil
}

// roundedIntArg reads an integer argument, rounding non-integers the way
// AWS does for MathAdd, ArrayRange and MathRandom.
func roundedIntArg(c *Call, args []any, i int, role string) (int64, *Error) {
	n, why := intArg(args[i], true)
	switch why {
	case "":
	case "not a number":
		return 0, badArg(c, i, role, "an integer", args[i])
	default:
		return 0, badArg(c, i, role, "an integer ("+why+")", args[i])
	}
	return n, nil
}

func fnFormat(c *Call, args []any) (any, error) {
	tmpl, ok := args[0].(string)
	if !ok {
		return nil, badArg(c, 0, "template", "a string", args[0])
	}
	// Placeholder positions: from the parsed literal (which knows escaped
	// braces) or, for a template from a path, every "{}" in the value.
	var ph []int
	if c.Args[0].Kind == StringArg {
		ph = c.Args[0].placeholders
	} else {
		for i := 0; i+1 < len(tmpl); i++ {
			if tmpl[i] == '{' && tmpl[i+1] == '}' {
				ph = append(ph, i)
				i++
			}
		}
	}
	values := args[1:]
	if len(ph) != len(values) {
		return nil, failf("Invalid arguments in %s: the template has %d {} placeholder(s) but %d value argument(s) were given", c.Name, len(ph), len(values))
	}
	w := &textWriter{limit: maxPayloadBytes}
	w.Grow(len(tmpl) + 16*len(values))
	prev := 0
	for i, at := range ph {
		w.WriteString(tmpl[prev:at])
		if err := writeFormatValue(w, values[i]); err != nil {
			if errors.Is(err, errTooLarge) {
				return nil, tooLarge(c)
			}
			return nil, badArg(c, i+1, "value", "a JSON value", values[i])
		}
		prev = at + 2
	}
	w.WriteString(tmpl[prev:])
	if w.check() != nil {
		return nil, tooLarge(c)
	}
	return w.String(), nil
}

func fnStringToJSON(c *Call, args []any) (any, error) {
	s, err := stringArg(c, args, 0, "JSON text")
	if err != nil {
		return nil, err
	}
	if strings.TrimLeft(s, " \t\r\n") == "" {
		return nil, nil // AWS returns null for empty or blank text
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if derr := dec.Decode(&v); derr != nil {
		return nil, failf("Invalid arguments in %s: argument 1 (JSON text) is not valid JSON: %v", c.Name, derr)
	}
	if _, terr := dec.Token(); terr != io.EOF {
		return nil, failf("Invalid arguments in %s: argument 1 (JSON text) has text after the JSON value", c.Name)
	}
	return normalizeNegativeZero(v), nil
}

// normalizeNegativeZero turns the integer -0 into 0, as AWS's parser does.
func normalizeNegativeZero(v any) any {
	switch x := v.(type) {
	case json.Number:
		if x == "-0" {
			return json.Number("0")
		}
	case []any:
		for i, e := range x {
			x[i] = normalizeNegativeZero(e)
		}
	case map[string]any:
		for k, e := range x {
			x[k] = normalizeNegativeZero(e)
		}
	}
	return v
}

func fnJSONToString(c *Call, args []any) (any, error) {
	w := &textWriter{limit: maxPayloadBytes}
	if err := writeJSON(w, args[0]); err != nil {
		if errors.Is(err, errTooLarge) {
			return nil, tooLarge(c)
		}
		return nil, failf("Invalid arguments in %s: argument 1 cannot be written as JSON: %v", c.Name, err)
	}
	return w.String(), nil
}

func fnArray(c *Call, args []any) (any, error) {
	out := make([]any, len(args))
	copy(out, args)
	// Arguments can repeat one value; nested calls could multiply it.
	if exceedsPayload(out) {
		return nil, tooLarge(c)
	}
	return out, nil
}

func fnArrayPartition(c *Call, args []any) (any, error) {
	arr, err := arrayArg(c, args, 0, "array")
	if err != nil {
		return nil, err
	}
	size, why := intArg(args[1], false)
	if why != "" || size <= 0 {
		return nil, badArg(c, 1, "chunk size", "a non-zero, positive integer", args[1])
	}
	out := make([]any, 0, int64(len(arr))/size+1)
	for i := 0; i < len(arr); {
		end := len(arr)
		if int64(end-i) > size {
			end = i + int(size)
		}
		chunk := make([]any, end-i)
		copy(chunk, arr[i:end])
		out = append(out, chunk)
		i = end
	}
	return out, nil
}

func fnArrayContains(c *Call, args []any) (any, error) {
	arr, err := arrayArg(c, args, 0, "array")
	if err != nil {
		return nil, err
	}
	want, kerr := equalityKey(args[1])
	if kerr != nil {
		if errors.Is(kerr, errTooLarge) {
			return nil, tooLarge(c)
		}
		return nil, badArg(c, 1, "value to look for", "a JSON value", args[1])
	}
	for _, e := range arr {
		k, kerr := equalityKey(e)
		if kerr != nil {
			if errors.Is(kerr, errTooLarge) {
				return nil, tooLarge(c)
			}
			return nil, badArg(c, 0, "array", "an array of JSON values", args[0])
		}
		if k == want {
			return true, nil
		}
	}
	return false, nil
}

func fnArrayRange(c *Call, args []any) (any, error) {
	start, err := roundedIntArg(c, args, 0, "first element")
	if err != nil {
		return nil, err
	}
	end, err := roundedIntArg(c, args, 1, "last element")
	if err != nil {
		return nil, err
	}
	step, err := roundedIntArg(c, args, 2, "step")
	if err != nil {
		return nil, err
	}
	if step == 0 {
		return nil, badArg(c, 2, "step", "a non-zero integer", args[2])
	}
	// Count the items in uint64 arithmetic: end-start cannot overflow there.
	// steps is the item count minus one; it cannot overflow, the count can.
	var count, steps uint64
	switch {
	case step > 0 && start <= end:
		steps = (uint64(end) - uint64(start)) / uint64(step)
		count = steps + 1
	case step < 0 && start >= end:
		steps = (uint64(start) - uint64(end)) / (uint64(-(step + 1)) + 1)
		count = steps + 1
	}
	if steps >= maxRangeItems {
		return nil, failf("Invalid arguments in %s: the range from %d to %d by %d has %s items; the limit is %d", c.Name, start, end, step, uint64Text(steps), maxRangeItems)
	}
	out := make([]any, count)
	v := start
	for i := range out {
		out[i] = intNumber(v)
		if uint64(i)+1 < count {
			v += step // stays within [start, end] by construction
		}
	}
	return out, nil
}

// uint64Text renders steps+1 without overflowing.
func uint64Text(steps uint64) string {
	if steps == math.MaxUint64 {
		return "18446744073709551616"
	}
	return strconv.FormatUint(steps+1, 10)
}

func fnArrayGetItem(c *Call, args []any) (any, error) {
	arr, err := arrayArg(c, args, 0, "array")
	if err != nil {
		return nil, err
	}
	idx, why := intArg(args[1], false)
	if why != "" {
		return nil, badArg(c, 1, "index", "an integer", args[1])
	}
	if idx < 0 || idx >= int64(len(arr)) {
		if len(arr) == 0 {
			return nil, failf("Invalid arguments in %s: argument 2 (index) is %d but the array is empty", c.Name, idx)
		}
		return nil, failf("Invalid arguments in %s: argument 2 (index) must be an integer within the array bounds [0, %d], got %d", c.Name, len(arr)-1, idx)
	}
	return arr[idx], nil
}

func fnArrayLength(c *Call, args []any) (any, error) {
	arr, err := arrayArg(c, args, 0, "array")
	if err != nil {
		return nil, err
	}
	return intNumber(int64(len(arr))), nil
}

func fnArrayUnique(c *Call, args []any) (any, error) {
	arr, err := arrayArg(c, args, 0, "array")
	if err != nil {
		return nil, err
	}
	seen := make(map[string]struct{}, len(arr))
	out := make([]any, 0, len(arr))
	for _, e := range arr {
		k, kerr := equalityKey(e)
		if kerr != nil {
			if errors.Is(kerr, errTooLarge) {
				return nil, tooLarge(c)
			}
			return nil, badArg(c, 0, "array", "an array of JSON values", args[0])
		}
		if _, dup := seen[k]; dup {
			continue
		}
		seen[k] = struct{}{}
		out = append(out, e)
	}
	return out, nil
}

func limitedString(c *Call, args []any, i int, role string) (string, *Error) {
	s, err := stringArg(c, args, i, role)
	if err != nil {
		return "", err
	}
	if n := javaLength(s); n > maxInputChars {
		return "", failf("Invalid arguments in %s: argument %d (%s) has %d characters; the limit is %d", c.Name, i+1, role, n, maxInputChars)
	}
	return s, nil
}

func fnBase64Encode(c *Call, args []any) (any, error) {
	s, err := limitedString(c, args, 0, "data")
	if err != nil {
		return nil, err
	}
	return base64.StdEncoding.EncodeToString([]byte(s)), nil
}

func fnBase64Decode(c *Call, args []any) (any, error) {
	s, err := limitedString(c, args, 0, "Base64 data")
	if err != nil {
		return nil, err
	}
	// MIME decoding: characters outside the alphabet are ignored; '='
	// padding ends the data and is optional.
	data := make([]byte, 0, len(s))
	pad := 0
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == '=':
			pad++
		case (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '+' || ch == '/':
			if pad > 0 {
				return nil, failf("Invalid arguments in %s: argument 1 (Base64 data) has data after '=' padding", c.Name)
			}
			data = append(data, ch)
		}
	}
	if len(data)%4 == 1 {
		return nil, failf("Invalid arguments in %s: argument 1 (Base64 data) is truncated: %d Base64 characters cannot encode whole bytes", c.Name, len(data))
	}
	if pad > 0 && (pad > 2 || (len(data)+pad)%4 != 0) {
		return nil, failf("Invalid arguments in %s: argument 1 (Base64 data) has incorrect '=' padding", c.Name)
	}
	raw, derr := base64.RawStdEncoding.DecodeString(string(data))
	if derr != nil {
		return nil, failf("Invalid arguments in %s: argument 1 (Base64 data) is not valid Base64: %v", c.Name, derr)
	}
	out := string(raw)
	if !utf8.ValidString(out) {
		out = strings.ToValidUTF8(out, "\uFFFD")
	}
	return out, nil
}

func fnHash(c *Call, args []any) (any, error) {
	data, err := limitedString(c, args, 0, "data")
	if err != nil {
		return nil, err
	}
	alg, err := stringArg(c, args, 1, "algorithm")
	if err != nil {
		return nil, err
	}
	sum, ok := Hash(data, alg)
	if !ok {
		return nil, badArg(c, 1, "algorithm", "one of MD5, SHA-1, SHA-256, SHA-384, SHA-512", args[1])
	}
	return sum, nil
}

// HashAlgorithms are the algorithms States.Hash and JSONata's $hash take.
const HashAlgorithms = "MD5, SHA-1, SHA-256, SHA-384 or SHA-512"

// Hash returns the lower-case hex digest of data with one of
// HashAlgorithms, or false for another algorithm name.
func Hash(data, alg string) (string, bool) {
	var h hash.Hash
	switch alg {
	case "MD5":
		h = md5.New()
	case "SHA-1":
		h = sha1.New()
	case "SHA-256":
		h = sha256.New()
	case "SHA-384":
		h = sha512.New384()
	case "SHA-512":
		h = sha512.New()
	default:
		return "", false
	}
	h.Write([]byte(data))
	return hex.EncodeToString(h.Sum(nil)), true
}

func fnJSONMerge(c *Call, args []any) (any, error) {
	a, err := objectArg(c, args, 0, "first object")
	if err != nil {
		return nil, err
	}
	b, err := objectArg(c, args, 1, "second object")
	if err != nil {
		return nil, err
	}
	deep, ok := args[2].(bool)
	if !ok {
		return nil, badArg(c, 2, "deep merge flag", "the boolean false", args[2])
	}
	if deep {
		return nil, failf("Invalid arguments in %s: argument 3 (deep merge flag) must be false: only shallow merging is supported", c.Name)
	}
	out := make(map[string]any, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	if exceedsPayload(out) {
		return nil, tooLarge(c)
	}
	return out, nil
}

func fnMathAdd(c *Call, args []any) (any, error) {
	x, err := roundedIntArg(c, args, 0, "first number")
	if err != nil {
		return nil, err
	}
	y, err := roundedIntArg(c, args, 1, "second number")
	if err != nil {
		return nil, err
	}
	if (y > 0 && x > math.MaxInt64-y) || (y < 0 && x < math.MinInt64-y) {
		return nil, failf("Invalid arguments in %s: %d + %d overflows a 64-bit integer", c.Name, x, y)
	}
	return intNumber(x + y), nil
}

func fnMathRandom(c *Call, args []any) (any, error) {
	start, err := roundedIntArg(c, args, 0, "start")
	if err != nil {
		return nil, err
	}
	end, err := roundedIntArg(c, args, 1, "end")
	if err != nil {
		return nil, err
	}
	if start > end {
		return nil, failf("Invalid arguments in %s: start %d is greater than end %d", c.Name, start, end)
	}
	span := uint64(end) - uint64(start) + 1 // 0 means the full 2^64 range
	if len(args) == 2 {
		var off uint64
		if span == 0 {
			off = rand.Uint64()
		} else {
			off = rand.Uint64N(span)
		}
		return intNumber(int64(uint64(start) + off)), nil
	}
	seed, err := roundedIntArg(c, args, 2, "seed")
	if err != nil {
		return nil, err
	}
	var off uint64
	switch {
	case span == 0:
		off = rand.New(rand.NewPCG(uint64(seed), 0)).Uint64()
	case span <= math.MaxInt32:
		off = uint64(newJavaRandom(seed).nextInt(int32(span)))
	default:
		off = rand.New(rand.NewPCG(uint64(seed), 0)).Uint64N(span)
	}
	return intNumber(int64(uint64(start) + off)), nil
}

func fnStringSplit(c *Call, args []any) (any, error) {
	s, err := stringArg(c, args, 0, "string")
	if err != nil {
		return nil, err
	}
	delims, err := stringArg(c, args, 1, "delimiter characters")
	if err != nil {
		return nil, err
	}
	parts := strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(delims, r) })
	out := make([]any, len(parts))
	for i, p := range parts {
		out[i] = p
	}
	return out, nil
}

func fnUUID(c *Call, _ []any) (any, error) {
	u, err := uuid.NewRandom()
	if err != nil {
		return nil, failf("%s: cannot generate a UUID: %v", c.Name, err)
	}
	return u.String(), nil
}
