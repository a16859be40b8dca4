package asl

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/big"
	"strconv"
)

// decodeJSON decodes one JSON value with UseNumber, so numbers are
// json.Number and keep their exact text. Trailing data is an error.
func decodeJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("unexpected data after the JSON value")
	}
	return v, nil
}

// encodeJSON renders v as compact JSON without HTML escaping (AWS does not
// escape <, > and &). Values come from decodeJSON or the engine, so an error
// can only be a non-finite float from JSONata; it is reported.
func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// mustJSON is encodeJSON for values known to be encodable; on failure it
// returns a JSON string describing the problem rather than panicking.
func mustJSON(v any) string {
	b, err := encodeJSON(v)
	if err != nil {
		return strconv.Quote("<unencodable: " + err.Error() + ">")
	}
	return string(b)
}

// toFloat reports v as a float64 if it is a JSON number.
func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case json.Number:
		f, err := n.Float64()
		if err != nil {
			// Out of float64 range: still a number.
			if bf, ok := new(big.Float).SetString(string(n)); ok {
				f, _ = bf.Float64()
				return f, true
			}
			return 0, false
		}
		return f, true
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	}
	return 0, false
}

func isNumber(v any) bool {
	_, ok := toFloat(v)
	return ok
}

// numCompare compares two JSON numbers exactly when both are json.Number
// (so big integers compare correctly), else as float64.
func numCompare(a, b any) int {
	an, aok := a.(json.Number)
	bn, bok := b.(json.Number)
	if aok && bok {
		ra, ok1 := new(big.Rat).SetString(string(an))
		rb, ok2 := new(big.Rat).SetString(string(bn))
		if ok1 && ok2 {
			return ra.Cmp(rb)
		}
	}
	fa, _ := toFloat(a)
	fb, _ := toFloat(b)
	switch {
	case fa < fb:
		return -1
	case fa > fb:
		return 1
	}
	return 0
}

// intValue returns v as an int64 if it is an integral JSON number.
func intValue(v any) (int64, bool) {
	if n, ok := v.(json.Number); ok {
		if i, err := n.Int64(); err == nil {
			return i, true
		}
	}
	f, ok := toFloat(v)
	if !ok || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, false
	}
	return int64(f), true
}

// toJSONata converts engine values (json.Number) to what jsonata-go
// understands (float64). Large integers lose precision here: JSONata's
// numbers are doubles in every implementation.
func toJSONata(v any) any {
	switch x := v.(type) {
	case nil:
		// jsonata-go represents JSON null as a nil *interface{}; a plain
		// nil is undefined there.
		return jsonataNull()
	case json.Number:
		f, _ := toFloat(x)
		return f
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = toJSONata(e)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = toJSONata(e)
		}
		return s
	}
	return v
}

func jsonataNull() any { return (*any)(nil) }

// fromJSONata normalises a JSONata result to engine values: numbers become
// json.Number, other Go types are round-tripped through encoding/json.
func fromJSONata(v any) (any, error) {
	switch x := v.(type) {
	case nil, string, bool, json.Number:
		return x, nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("the number %v cannot be represented in JSON", x)
		}
		return floatNumber(x), nil
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			c, err := fromJSONata(e)
			if err != nil {
				return nil, err
			}
			m[k] = c
		}
		return m, nil
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			c, err := fromJSONata(e)
			if err != nil {
				return nil, err
			}
			s[i] = c
		}
		return s, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return decodeJSON(b)
}

// floatNumber renders f as a json.Number the way JavaScript prints numbers
// for integral values (no exponent below 1e21).
func floatNumber(f float64) json.Number {
	if f == math.Trunc(f) && math.Abs(f) < 1e21 {
		return json.Number(strconv.FormatFloat(f, 'f', -1, 64))
	}
	return json.Number(strconv.FormatFloat(f, 'g', -1, 64))
}

// typeName names a JSON value's type the way error causes do.
func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case bool:
		return "boolean"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	}
	if isNumber(v) {
		return "number"
	}
	return fmt.Sprintf("%T", v)
}
