package intrinsic

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

const statesPrefix = "States."

type parser struct {
	src string
	pos int
}

func (p *parser) errAt(off int, msg string) *ParseError {
	return &ParseError{Expr: p.src, Offset: off, Msg: msg}
}

func (p *parser) peek() byte {
	if p.pos < len(p.src) {
		return p.src[p.pos]
	}
	return 0
}

func (p *parser) eof() bool { return p.pos >= len(p.src) }

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func (p *parser) skipSpace() {
	for p.pos < len(p.src) && isSpace(p.src[p.pos]) {
		p.pos++
	}
}

// describeHere names what is at the current position, for messages.
func (p *parser) describeHere() string {
	if p.eof() {
		return "end of expression"
	}
	r, _ := utf8.DecodeRuneInString(p.src[p.pos:])
	return fmt.Sprintf("%q", r)
}

func isIdentByte(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// call parses States.Name(args) at p.pos; depth is its nesting level.
func (p *parser) call(depth int) (*Call, error) {
	start := p.pos
	if depth > MaxNesting {
		return nil, p.errAt(start, fmt.Sprintf("intrinsic functions are nested more than %d levels deep", MaxNesting))
	}
	if !strings.HasPrefix(p.src[p.pos:], statesPrefix) {
		return nil, p.errAt(start, `an intrinsic function call must start with "States."`)
	}
	p.pos += len(statesPrefix)
	nameStart := p.pos
	for p.pos < len(p.src) && isIdentByte(p.src[p.pos]) {
		p.pos++
	}
	if p.pos == nameStart {
		return nil, p.errAt(nameStart, `missing function name after "States."`)
	}
	name := p.src[start:p.pos]
	spec, ok := lookup(name)
	if !ok {
		return nil, p.errAt(start, fmt.Sprintf("unknown intrinsic function %s", name))
	}
	p.skipSpace()
	if p.peek() != '(' {
		return nil, p.errAt(p.pos, fmt.Sprintf("expected '(' after %s, found %s", name, p.describeHere()))
	}
	open := p.pos
	p.pos++
	c := &Call{Name: name, Offset: start}
	p.skipSpace()
	if p.peek() == ')' {
		p.pos++
	} else {
		for {
			if p.eof() {
				return nil, p.errAt(p.pos, fmt.Sprintf("unbalanced parentheses: missing ')' to close %s( opened at offset %d", name, open))
			}
			a, err := p.arg(depth)
			if err != nil {
				return nil, err
			}
			c.Args = append(c.Args, a)
			p.skipSpace()
			if p.eof() {
				return nil, p.errAt(p.pos, fmt.Sprintf("unbalanced parentheses: missing ')' to close %s( opened at offset %d", name, open))
			}
			if p.peek() == ')' {
				p.pos++
				break
			}
			if p.peek() != ',' {
				return nil, p.errAt(p.pos, fmt.Sprintf("expected ',' or ')' after argument %d of %s, found %s", len(c.Args), name, p.describeHere()))
			}
			comma := p.pos
			p.pos++
			p.skipSpace()
			if p.peek() == ')' {
				return nil, p.errAt(comma, fmt.Sprintf("trailing comma after argument %d of %s", len(c.Args), name))
			}
		}
	}
	if len(c.Args) < spec.minArgs || (spec.maxArgs >= 0 && len(c.Args) > spec.maxArgs) {
		return nil, p.errAt(start, fmt.Sprintf("%s takes %s, got %d", name, spec.arity(), len(c.Args)))
	}
	if err := p.staticCheck(c); err != nil {
		return nil, err
	}
	return c, nil
}

// staticCheck validates what is certain at parse time beyond arity.
func (p *parser) staticCheck(c *Call) error {
	if c.Name != "States.Format" {
		return nil
	}
	// A placeholder count that does not match the arguments is left to Eval:
	// AWS's own documentation shows such a call (three {} and two values)
	// as a valid definition.
	t := c.Args[0]
	switch t.Kind {
	case NumberArg, BoolArg, NullArg:
		return p.errAt(t.Offset, "the first argument of States.Format (the template) must be a string")
	}
	return nil
}

// arg parses one argument at p.pos.
func (p *parser) arg(depth int) (Arg, error) {
	start := p.pos
	c := p.peek()
	switch {
	case c == '\'':
		return p.stringLit()
	case c == '$':
		return p.path()
	case c == '-' || isDigit(c):
		return p.number()
	case strings.HasPrefix(p.src[p.pos:], statesPrefix):
		sub, err := p.call(depth + 1)
		if err != nil {
			return Arg{}, err
		}
		return Arg{Kind: CallArg, Call: sub, Offset: start}, nil
	case isIdentByte(c):
		for p.pos < len(p.src) && isIdentByte(p.src[p.pos]) {
			p.pos++
		}
		word := p.src[start:p.pos]
		switch word {
		case "true":
			return Arg{Kind: BoolArg, Value: true, Offset: start}, nil
		case "false":
			return Arg{Kind: BoolArg, Value: false, Offset: start}, nil
		case "null":
			return Arg{Kind: NullArg, Value: nil, Offset: start}, nil
		}
		if word == "States" {
			return Arg{}, p.errAt(start, `expected "States.<Function>(" for a nested intrinsic function`)
		}
		return Arg{}, p.errAt(start, fmt.Sprintf("unexpected identifier %q: an argument must be a quoted string, a number, true, false, null, a path ($..., $$..., $variable) or an intrinsic function call", word))
	default:
		return Arg{}, p.errAt(start, fmt.Sprintf("unexpected %s: an argument must be a quoted string, a number, true, false, null, a path ($..., $$..., $variable) or an intrinsic function call", p.describeHere()))
	}
}

// stringLit parses a single-quoted literal with the four intrinsic escapes.
func (p *parser) stringLit() (Arg, error) {
	start := p.pos
	p.pos++ // opening quote
	var b strings.Builder
	var ph []int
	for {
		if p.eof() {
			return Arg{}, p.errAt(start, "unterminated string literal: missing closing '")
		}
		ch := p.src[p.pos]
		switch ch {
		case '\'':
			p.pos++
			return Arg{Kind: StringArg, Value: b.String(), Offset: start, placeholders: ph}, nil
		case '\\':
			if p.pos+1 >= len(p.src) {
				return Arg{}, p.errAt(p.pos, "unterminated escape: a backslash ends the expression")
			}
			switch n := p.src[p.pos+1]; n {
			case '\'', '{', '}', '\\':
				b.WriteByte(n)
				p.pos += 2
			default:
				r, _ := utf8.DecodeRuneInString(p.src[p.pos+1:])
				return Arg{}, p.errAt(p.pos, fmt.Sprintf(`invalid escape sequence \%c in string literal: only \', \{, \} and \\ are allowed`, r))
			}
		case '{':
			if p.pos+1 < len(p.src) && p.src[p.pos+1] == '}' {
				ph = append(ph, b.Len())
				b.WriteString("{}")
				p.pos += 2
			} else {
				b.WriteByte('{')
				p.pos++
			}
		default:
			b.WriteByte(ch)
			p.pos++
		}
	}
}

// number parses a JSON number literal.
func (p *parser) number() (Arg, error) {
	start := p.pos
	bad := func() (Arg, error) {
		end := p.pos
		for end < len(p.src) && !isArgEnd(p.src[end]) {
			end++
		}
		return Arg{}, p.errAt(start, fmt.Sprintf("malformed number %q", p.src[start:end]))
	}
	if p.peek() == '-' {
		p.pos++
	}
	switch {
	case p.peek() == '0':
		p.pos++
	case isDigit(p.peek()):
		for isDigit(p.peek()) {
			p.pos++
		}
	default:
		return bad()
	}
	if p.peek() == '.' {
		p.pos++
		if !isDigit(p.peek()) {
			return bad()
		}
		for isDigit(p.peek()) {
			p.pos++
		}
	}
	if c := p.peek(); c == 'e' || c == 'E' {
		p.pos++
		if c := p.peek(); c == '+' || c == '-' {
			p.pos++
		}
		if !isDigit(p.peek()) {
			return bad()
		}
		for isDigit(p.peek()) {
			p.pos++
		}
	}
	if !p.eof() && !isArgEnd(p.peek()) {
		return bad()
	}
	return Arg{Kind: NumberArg, Value: json.Number(p.src[start:p.pos]), Offset: start}, nil
}

func isArgEnd(c byte) bool { return c == ',' || c == ')' || isSpace(c) }

// path scans a path argument: $, $.a.b, $['x, y'][0], $$.Execution.Id,
// $var.field. Brackets may contain anything, including quoted strings with
// commas and parentheses; outside brackets the path ends at whitespace, ','
// or ')'.
func (p *parser) path() (Arg, error) {
	start := p.pos
	p.pos++ // $
	context := false
	if p.peek() == '$' {
		context = true
		p.pos++
	}
	switch c := p.peek(); {
	case p.eof() || isArgEnd(c) || c == '.' || c == '[':
	case !context && (c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')):
		for p.pos < len(p.src) && isIdentByte(p.src[p.pos]) {
			p.pos++
		}
	default:
		what := "$"
		if context {
			what = "$$"
		}
		return Arg{}, p.errAt(p.pos, fmt.Sprintf("malformed path: %s must be followed by '.', '[' or the end of the path (or a variable name after a single $), found %s", what, p.describeHere()))
	}
	for !p.eof() {
		c := p.peek()
		if isArgEnd(c) {
			break
		}
		switch c {
		case '[':
			if err := p.bracket(); err != nil {
				return Arg{}, err
			}
			continue
		case ']':
			return Arg{}, p.errAt(p.pos, "malformed path: ']' without a matching '['")
		case '(', '\'':
			return Arg{}, p.errAt(p.pos, fmt.Sprintf("malformed path: unexpected %s outside brackets", p.describeHere()))
		case '.':
			if p.pos+1 >= len(p.src) || isArgEnd(p.src[p.pos+1]) {
				return Arg{}, p.errAt(p.pos, "malformed path: it ends with '.'")
			}
		}
		_, size := utf8.DecodeRuneInString(p.src[p.pos:])
		p.pos += size
	}
	return Arg{Kind: PathArg, Path: p.src[start:p.pos], Offset: start}, nil
}

// bracket skips a balanced [...] group, honouring quoted strings inside.
func (p *parser) bracket() error {
	open := p.pos
	depth := 0
	for !p.eof() {
		switch c := p.src[p.pos]; c {
		case '[':
			depth++
		case ']':
			depth--
			if depth == 0 {
				p.pos++
				return nil
			}
		case '\'', '"':
			q := p.pos
			p.pos++
			for !p.eof() && p.src[p.pos] != c {
				if p.src[p.pos] == '\\' {
					p.pos++
				}
				p.pos++
			}
			if p.eof() {
				return p.errAt(q, "malformed path: unterminated quoted name inside brackets")
			}
		}
		p.pos++
	}
	return p.errAt(open, "malformed path: '[' without a matching ']'")
}
