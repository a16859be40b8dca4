package intrinsic

import (
	"encoding/json"
	"errors"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// isNumber reports whether v is a number this package accepts.
func isNumber(v any) bool {
	switch v.(type) {
	case float64, float32, json.Number, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return true
	}
	return false
}

// toFloat converts a number to float64; ok is false for non-numbers and
// for json.Number text that is not a number.
func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case json.Number:
		f, err := strconv.ParseFloat(string(n), 64)
		if err != nil {
			// ParseFloat reports out-of-range values with ±Inf and an error.
			var ne *strconv.NumError
			if errors.As(err, &ne) && ne.Err == strconv.ErrRange {
				return f, true
			}
			return 0, false
		}
		return f, true
	case int:
		return float64(n), true
	case int8:
		return float64(n), true
	case int16:
		return float64(n), true
	case int32:
		return float64(n), true
	case int64:
		return float64(n), true
	case uint:
		return float64(n), true
	case uint8:
		return float64(n), true
	case uint16:
		return float64(n), true
	case uint32:
		return float64(n), true
	case uint64:
		return float64(n), true
	}
	return 0, false
}

// exactInt returns v as an int64 when v is an integer-typed value or an
// integer json.Number that fits, without going through float64.
func exactInt(v any) (int64, bool) {
	switch n := v.(type) {
	case json.Number:
		i, err := strconv.ParseInt(string(n), 10, 64)
		return i, err == nil
	case int:
		return int64(n), true
	case int8:
		return int64(n), true
	case int16:
		return int64(n), true
	case int32:
		return int64(n), true
	case int64:
		return n, true
	case uint:
		if uint64(n) <= math.MaxInt64 {
			return int64(n), true
		}
	case uint8:
		return int64(n), true
	case uint16:
		return int64(n), true
	case uint32:
		return int64(n), true
	case uint64:
		if n <= math.MaxInt64 {
			return int64(n), true
		}
	}
	return 0, false
}

// javaRound rounds like Java's Math.round(double): to the nearest integer,
// halves towards positive infinity (2.5 -> 3, -2.5 -> -2). AWS's MathAdd was
// recorded doing exactly this.
func javaRound(f float64) float64 {
	fl := math.Floor(f)
	if f-fl >= 0.5 {
		return fl + 1
	}
	return fl
}

// intArg converts an argument to int64. With round, non-integers are
// rounded with javaRound; without, they are rejected. The string result is
// empty on success, else what is wrong.
func intArg(v any, round bool) (int64, string) {
	if i, ok := exactInt(v); ok {
		return i, ""
	}
	f, ok := toFloat(v)
	if !ok {
		return 0, "not a number"
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, "not a finite number"
	}
	if round {
		f = javaRound(f)
	} else if f != math.Trunc(f) {
		return 0, "not an integer"
	}
	if f < -9.223372036854775808e18 || f >= 9.223372036854775808e18 {
		return 0, "out of the 64-bit integer range"
	}
	return int64(f), ""
}

func intNumber(i int64) json.Number { return json.Number(strconv.FormatInt(i, 10)) }

// floatText renders a float64: integral values (below 1e21) as integers,
// others as Java doubles.
func floatText(f float64) (string, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "", errNonFinite
	}
	if f == 0 {
		return "0", nil // also -0, as for the integer literal -0
	}
	if f == math.Trunc(f) && math.Abs(f) < 1e21 {
		return strconv.FormatFloat(f, 'f', 0, 64), nil
	}
	return javaDouble(f), nil
}

var errNonFinite = errors.New("NaN and infinite numbers have no JSON representation")

// javaDouble renders f as Java's Double.toString does (shortest digits):
// "1.0", "100.0", "0.001", "1.0E-4", "1.0E7", "1.23456789E7". AWS's JSON
// serializer (Jackson) writes non-integer numbers this way.
func javaDouble(f float64) string {
	if f == 0 {
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	var b strings.Builder
	if f < 0 {
		b.WriteByte('-')
		f = -f
	}
	plain := f >= 1e-3 && f < 1e7
	e := strconv.FormatFloat(f, 'e', -1, 64) // shortest digits: d.ddde±XX
	if !plain && !strings.Contains(e, ".") {
		// In E notation Java prints at least two significant digits,
		// choosing the closest: 5e-324 is "4.9E-324", 1e22 is "1.0E22".
		e = strconv.FormatFloat(f, 'e', 1, 64)
	}
	mant, expText, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expText)
	digits := strings.Replace(mant, ".", "", 1)
	if plain {
		if exp >= 0 {
			for len(digits) < exp+2 {
				digits += "0"
			}
			b.WriteString(digits[:exp+1])
			b.WriteByte('.')
			b.WriteString(digits[exp+1:])
		} else {
			b.WriteString("0.")
			b.WriteString(strings.Repeat("0", -exp-1))
			b.WriteString(digits)
		}
		return b.String()
	}
	b.WriteByte(digits[0])
	b.WriteByte('.')
	if len(digits) > 1 {
		b.WriteString(digits[1:])
	} else {
		b.WriteByte('0')
	}
	b.WriteByte('E')
	b.WriteString(strconv.Itoa(exp))
	return b.String()
}

// isIntegerLiteral reports whether a JSON number text has no fraction or
// exponent (Jackson reads those as integers, everything else as double).
func isIntegerLiteral(s string) bool { return !strings.ContainsAny(s, ".eE") }

// numberText renders a number as AWS writes it: integer literals as
// written (-0 as 0), other numbers as Java doubles ("1.50" -> "1.5",
// "1e2" -> "100.0", "3.4e-05" -> "3.4E-5"). A float64 that is integral is
// taken to come from an integer literal.
func numberText(v any) (string, error) {
	switch n := v.(type) {
	case json.Number:
		s := string(n)
		if !validJSONNumber(s) {
			return "", errors.New("invalid number " + strconv.Quote(s))
		}
		if isIntegerLiteral(s) {
			if s == "-0" {
				return "0", nil
			}
			return s, nil
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsInf(f, 0) {
			return "", errNonFinite
		}
		return javaDouble(f), nil
	case float64:
		return floatText(n)
	case float32:
		return floatText(float64(n))
	}
	if i, ok := exactInt(v); ok {
		return strconv.FormatInt(i, 10), nil
	}
	if u, ok := v.(uint64); ok {
		return strconv.FormatUint(u, 10), nil
	}
	if u, ok := v.(uint); ok {
		return strconv.FormatUint(uint64(u), 10), nil
	}
	return "", errors.New("not a number")
}

// validJSONNumber reports whether s is JSON number syntax.
func validJSONNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && isDigit(s[i]):
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	default:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if i >= len(s) || !isDigit(s[i]) {
			return false
		}
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i >= len(s) || !isDigit(s[i]) {
			return false
		}
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	return i == len(s)
}

// typeName names the JSON type of v for error messages.
func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case bool:
		return "boolean"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	if isNumber(v) {
		return "number"
	}
	return "unsupported Go value"
}

// describe renders v briefly for error messages: its type and JSON text,
// shortened.
func describe(v any) string {
	const max = 80
	w := &textWriter{limit: max}
	if err := writeJSON(w, v); err != nil && !errors.Is(err, errTooLarge) {
		return typeName(v)
	}
	s := w.String()
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "..."
	}
	return typeName(v) + " " + s
}

// maxPayloadBytes is AWS's payload size quota (256 KiB). Text an intrinsic
// builds (States.JsonToString, States.Format, equality keys) is capped at
// it: nested States.Array calls can share one value many times, and writing
// that out could otherwise take exponential memory.
const maxPayloadBytes = 256 * 1024

var errTooLarge = errors.New("text too large")

// exceedsPayload reports whether v, written as JSON, would clearly exceed
// maxPayloadBytes. It walks at most about that many bytes' worth of values
// without building any text, so it is cheap even for values that share
// sub-values many times. String sizes ignore escaping.
func exceedsPayload(v any) bool {
	budget := maxPayloadBytes
	var walk func(any) bool
	walk = func(v any) bool {
		switch x := v.(type) {
		case string:
			budget -= len(x) + 2
		case []any:
			budget -= 2 + len(x)
			for _, e := range x {
				if budget < 0 || walk(e) {
					return true
				}
			}
		case map[string]any:
			budget -= 2 + len(x)
			for k, e := range x {
				budget -= len(k) + 3
				if budget < 0 || walk(e) {
					return true
				}
			}
		case json.Number:
			budget -= len(x)
		default:
			budget -= 4
		}
		return budget < 0
	}
	return walk(v)
}

// textWriter accumulates text up to limit bytes; canonical selects number
// normalisation for equality keys.
type textWriter struct {
	strings.Builder
	limit     int
	canonical bool
}

func (w *textWriter) check() error {
	if w.Len() > w.limit {
		return errTooLarge
	}
	return nil
}

// writeJSON writes v as compact JSON the way AWS's serializer (Jackson)
// does: no insignificant whitespace, only '"', '\\' and control characters
// escaped. Object keys are sorted. It stops with errTooLarge past w.limit.
func writeJSON(w *textWriter, v any) error {
	if err := w.check(); err != nil {
		return err
	}
	switch x := v.(type) {
	case nil:
		w.WriteString("null")
	case bool:
		if x {
			w.WriteString("true")
		} else {
			w.WriteString("false")
		}
	case string:
		writeJSONString(&w.Builder, x)
	case []any:
		w.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				w.WriteByte(',')
			}
			if err := writeJSON(w, e); err != nil {
				return err
			}
		}
		w.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		w.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				w.WriteByte(',')
			}
			writeJSONString(&w.Builder, k)
			w.WriteByte(':')
			if err := writeJSON(w, x[k]); err != nil {
				return err
			}
		}
		w.WriteByte('}')
	default:
		if isNumber(v) {
			var s string
			var err error
			if w.canonical {
				s, err = canonicalNumber(v)
			} else {
				s, err = numberText(v)
			}
			if err != nil {
				return err
			}
			w.WriteString(s)
			break
		}
		plain, err := plainJSON(v)
		if err != nil {
			return err
		}
		return writeJSON(w, plain)
	}
	return w.check()
}

// plainJSON turns some other Go value (e.g. []string from a hand-built
// input) into plain decoded JSON through encoding/json.
func plainJSON(v any) (any, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var plain any
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	if err := dec.Decode(&plain); err != nil {
		return nil, err
	}
	return plain, nil
}

const hexDigits = "0123456789ABCDEF"

func writeJSONString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch c {
			case '"':
				b.WriteString(`\"`)
			case '\\':
				b.WriteString(`\\`)
			case '\n':
				b.WriteString(`\n`)
			case '\r':
				b.WriteString(`\r`)
			case '\t':
				b.WriteString(`\t`)
			case '\b':
				b.WriteString(`\b`)
			case '\f':
				b.WriteString(`\f`)
			default:
				if c < 0x20 {
					b.WriteString(`\u00`)
					b.WriteByte(hexDigits[c>>4])
					b.WriteByte(hexDigits[c&0xF])
				} else {
					b.WriteByte(c)
				}
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteString("\uFFFD")
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	b.WriteByte('"')
}

// canonicalNumber normalises a number so that numerically equal values
// (1, 1.0, 1e0, float64(1)) give the same text.
func canonicalNumber(v any) (string, error) {
	if i, ok := exactInt(v); ok {
		return strconv.FormatInt(i, 10), nil
	}
	f, ok := toFloat(v)
	if !ok {
		return "", errors.New("not a number")
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "", errNonFinite
	}
	if f == math.Trunc(f) && f >= -9.223372036854775808e18 && f < 9.223372036854775808e18 {
		return strconv.FormatInt(int64(f), 10), nil
	}
	return strconv.FormatFloat(f, 'g', -1, 64), nil
}

// equalityKey returns a string that is equal for deeply equal JSON values.
func equalityKey(v any) (string, error) {
	w := &textWriter{limit: maxPayloadBytes, canonical: true}
	if err := writeJSON(w, v); err != nil {
		return "", err
	}
	return w.String(), nil
}

// writeFormatValue renders a States.Format argument the way AWS does:
// strings bare, numbers as Jackson prints them, arrays and objects in
// Java's List/Map toString style ("[a, b]", "{k=v}").
func writeFormatValue(w *textWriter, v any) error {
	if err := w.check(); err != nil {
		return err
	}
	switch x := v.(type) {
	case nil:
		w.WriteString("null")
	case bool:
		if x {
			w.WriteString("true")
		} else {
			w.WriteString("false")
		}
	case string:
		w.WriteString(x)
	case []any:
		w.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				w.WriteString(", ")
			}
			if err := writeFormatValue(w, e); err != nil {
				return err
			}
		}
		w.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		w.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				w.WriteString(", ")
			}
			w.WriteString(k)
			w.WriteByte('=')
			if err := writeFormatValue(w, x[k]); err != nil {
				return err
			}
		}
		w.WriteByte('}')
	default:
		if isNumber(v) {
			s, err := numberText(v)
			if err != nil {
				return err
			}
			w.WriteString(s)
			break
		}
		plain, err := plainJSON(v)
		if err != nil {
			return err
		}
		return writeFormatValue(w, plain)
	}
	return w.check()
}

// javaLength is the length of s in UTF-16 code units, which is how AWS
// (Java) counts the characters of its 10,000-character limits.
func javaLength(s string) int {
	n := 0
	for _, r := range s {
		if r > 0xFFFF {
			n += 2
		} else {
			n++
		}
	}
	return n
}
