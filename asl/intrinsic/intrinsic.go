package intrinsic

import (
	"errors"
	"fmt"
	"strings"
)

// Error names used by this package.
const (
	// ErrIntrinsicFailure is the error name of a failed intrinsic function.
	ErrIntrinsicFailure = "States.IntrinsicFailure"
	// ErrRuntime is used for resolver failures that are not already an *Error.
	ErrRuntime = "States.Runtime"
	// ErrDataLimitExceeded is used when text an intrinsic builds exceeds the
	// 256 KiB payload size quota.
	ErrDataLimitExceeded = "States.DataLimitExceeded"
)

// MaxNesting is how deep intrinsic calls may nest: the outermost call is
// level 1. AWS documents "up to 10 intrinsic functions within a field".
const MaxNesting = 10

// Error is a run-time failure of an intrinsic function, shaped like an ASL
// error: Name is the error name a Catch or Retry matches, Cause the message.
type Error struct {
	Name  string
	Cause string
}

func (e *Error) Error() string { return e.Name + ": " + e.Cause }

func failf(format string, args ...any) *Error {
	return &Error{Name: ErrIntrinsicFailure, Cause: fmt.Sprintf(format, args...)}
}

// ParseError reports a malformed intrinsic function expression.
type ParseError struct {
	Expr   string // the whole expression
	Offset int    // 0-based byte offset of the problem in Expr
	Msg    string // what is wrong
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("invalid intrinsic function %q: %s (at offset %d)", e.Expr, e.Msg, e.Offset)
}

// Resolver resolves a JSONPath argument ($.x, $$.x, or $varName) to a value.
type Resolver func(path string) (any, error)

// ArgKind says what an argument of a Call is.
type ArgKind int

// The kinds of argument.
const (
	StringArg ArgKind = iota + 1 // a quoted literal; Value is the unescaped string
	NumberArg                    // Value is a json.Number
	BoolArg                      // Value is a bool
	NullArg                      // Value is nil
	PathArg                      // Path holds the path text
	CallArg                      // Call holds a nested call
)

// Arg is one argument of a Call.
type Arg struct {
	Kind   ArgKind
	Value  any    // literal value for StringArg, NumberArg, BoolArg, NullArg
	Path   string // for PathArg: "$.x", "$$.x", "$name", ...
	Call   *Call  // for CallArg
	Offset int    // byte offset of the argument in the parsed expression

	// placeholders are the offsets in Value (a StringArg) where an
	// unescaped "{}" starts: the States.Format placeholders.
	placeholders []int
}

// Call is a parsed intrinsic function invocation.
type Call struct {
	Name   string // "States.Format", ...
	Args   []Arg
	Offset int // byte offset of the call in the parsed expression
}

// IsIntrinsic reports whether s looks like an intrinsic function invocation
// (starts with "States.").
func IsIntrinsic(s string) bool { return strings.HasPrefix(s, "States.") }

// Parse parses an intrinsic function call expression such as
// `States.Format('x {}', $.a)`. Errors are *ParseError.
func Parse(expr string) (*Call, error) {
	p := &parser{src: expr}
	if !IsIntrinsic(expr) {
		return nil, p.errAt(0, `an intrinsic function call must start with "States."`)
	}
	c, err := p.call(1)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos < len(p.src) {
		return nil, p.errAt(p.pos, fmt.Sprintf("unexpected %s after the end of %s(...)", p.describeHere(), c.Name))
	}
	return c, nil
}

// Eval evaluates the call: nested calls and paths first, left to right,
// then the function. Errors are *Error.
func (c *Call) Eval(resolve Resolver) (any, error) {
	spec, ok := lookup(c.Name)
	if !ok {
		return nil, failf("unknown intrinsic function %s", c.Name)
	}
	if len(c.Args) < spec.minArgs || (spec.maxArgs >= 0 && len(c.Args) > spec.maxArgs) {
		return nil, failf("%s takes %s, got %d", c.Name, spec.arity(), len(c.Args))
	}
	vals := make([]any, len(c.Args))
	for i := range c.Args {
		a := &c.Args[i]
		switch a.Kind {
		case PathArg:
			if resolve == nil {
				return nil, &Error{Name: ErrRuntime, Cause: fmt.Sprintf("no resolver for the path %s in %s", a.Path, c.Name)}
			}
			v, err := resolve(a.Path)
			if err != nil {
				var e *Error
				if errors.As(err, &e) {
					return nil, e
				}
				return nil, &Error{Name: ErrRuntime, Cause: err.Error()}
			}
			vals[i] = v
		case CallArg:
			if a.Call == nil {
				return nil, failf("argument %d of %s is an empty call", i+1, c.Name)
			}
			v, err := a.Call.Eval(resolve)
			if err != nil {
				return nil, err
			}
			vals[i] = v
		default:
			vals[i] = a.Value
		}
	}
	return spec.fn(c, vals)
}

// Paths returns the path arguments of the call and of its nested calls, in
// source order. The engine can use it to check variable references.
func (c *Call) Paths() []string {
	var out []string
	var walk func(*Call)
	walk = func(c *Call) {
		for _, a := range c.Args {
			switch a.Kind {
			case PathArg:
				out = append(out, a.Path)
			case CallArg:
				if a.Call != nil {
					walk(a.Call)
				}
			}
		}
	}
	walk(c)
	return out
}

// String renders the call in canonical form: one space after each comma,
// string literals with every reserved character escaped except the "{}"
// placeholders. Parse(c.String()) yields an equivalent call.
func (c *Call) String() string {
	var b strings.Builder
	c.write(&b)
	return b.String()
}

func (c *Call) write(b *strings.Builder) {
	b.WriteString(c.Name)
	b.WriteByte('(')
	for i, a := range c.Args {
		if i > 0 {
			b.WriteString(", ")
		}
		switch a.Kind {
		case StringArg:
			s, _ := a.Value.(string)
			writeStringLiteral(b, s, a.placeholders)
		case NumberArg:
			b.WriteString(fmt.Sprint(a.Value))
		case BoolArg:
			if v, _ := a.Value.(bool); v {
				b.WriteString("true")
			} else {
				b.WriteString("false")
			}
		case NullArg:
			b.WriteString("null")
		case PathArg:
			b.WriteString(a.Path)
		case CallArg:
			if a.Call != nil {
				a.Call.write(b)
			}
		}
	}
	b.WriteByte(')')
}

func writeStringLiteral(b *strings.Builder, s string, placeholders []int) {
	b.WriteByte('\'')
	next := 0
	for i := 0; i < len(s); i++ {
		if next < len(placeholders) && placeholders[next] == i {
			b.WriteString("{}")
			i++
			next++
			continue
		}
		switch s[i] {
		case '\'', '{', '}', '\\':
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('\'')
}
