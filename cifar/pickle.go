package cifar

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
)

// This file holds the restricted, streaming unpickler. See the package
// documentation for why it exists instead of a general pickle library.

// Pickle opcodes understood by the decoder: the protocol-2 set that Python 2
// cPickle writes for CIFAR batches, plus the protocol 3/4 equivalents that
// Python 3 writes when the same objects are re-pickled.
const (
	opProto          = 0x80
	opStop           = '.'
	opMark           = '('
	opEmptyDict      = '}'
	opEmptyList      = ']'
	opEmptyTuple     = ')'
	opBinPut         = 'q'
	opLongBinPut     = 'r'
	opBinGet         = 'h'
	opLongBinGet     = 'j'
	opMemoize        = 0x94
	opFrame          = 0x95
	opShortBinString = 'U'
	opBinString      = 'T'
	opShortBinBytes  = 'C'
	opBinBytes       = 'B'
	opBinUnicode     = 'X'
	opShortBinUni    = 0x8c
	opBinInt1        = 'K'
	opBinInt2        = 'M'
	opBinInt         = 'J'
	opNone           = 'N'
	opNewTrue        = 0x88
	opNewFalse       = 0x89
	opTuple1         = 0x85
	opTuple2         = 0x86
	opTuple3         = 0x87
	opTuple          = 't'
	opGlobal         = 'c'
	opStackGlobal    = 0x93
	opReduce         = 'R'
	opBuild          = 'b'
	opAppend         = 'a'
	opAppends        = 'e'
	opSetItem        = 's'
	opSetItems       = 'u'
)

// Values on the unpickler's stack.
type (
	pyNone  struct{}
	pyBytes []byte // Python 2 str, Python 3 bytes or str
	pyTuple []any
	pyList  struct{ items []any }
	pyDict  struct {
		keys []string
		vals map[string]any
	}
	pyGlobal struct{ module, name string }
	pyDtype  struct{ str string }
	ndarray  struct {
		shape []int
		dtype *pyDtype
		data  []byte // nil when the rows were streamed
		// streamed is set when the data string was streamed to the
		// caller instead of being kept.
		streamed bool
		// spooled is set when the data string was copied to a temporary
		// file (see batchDecoder).
		spooled bool
	}
	// streamedData stands for a data string that was streamed, not kept.
	streamedData struct{ n int64 }
)

// allowedGlobals is the complete list of classes/functions a CIFAR pickle may
// name. Everything else is refused: the decoder never imports or calls.
func allowedGlobal(module, name string) (pyGlobal, bool) {
	switch module + "." + name {
	case "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct",
		"numpy.ndarray", "numpy.dtype":
		return pyGlobal{module, name}, true
	}
	return pyGlobal{}, false
}

func (g pyGlobal) is(name string) bool { return g.name == name }

// PickleError is returned for a pickle the decoder cannot or will not read.
type PickleError struct {
	Offset int64 // byte offset of the offending opcode in the pickle stream
	Msg    string
}

func (e *PickleError) Error() string {
	return fmt.Sprintf("pickle: %s (at byte %d)", e.Msg, e.Offset)
}

// bigStringThreshold is the size above which a string is offered to the
// decoder's hook (so the CIFAR data array can be streamed).
const bigStringThreshold = 1 << 16

// maxPickleString caps a string held in memory. The CIFAR data array (the
// only big string) never is: it is streamed or spooled by the batch hook.
const maxPickleString = 64 << 20

type countingReader struct {
	r *bufio.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (c *countingReader) ReadByte() (byte, error) {
	b, err := c.r.ReadByte()
	if err == nil {
		c.n++
	}
	return b, err
}

type unpickler struct {
	ctx   context.Context
	r     *countingReader
	stack []any
	marks []int
	memo  map[uint64]any
	op    int64 // offset of the current opcode
	// hook is offered every string longer than bigStringThreshold before it
	// is read. If it returns handled, it has consumed exactly n bytes from
	// the reader and v replaces the string on the stack.
	hook func(u *unpickler, n int64) (v any, handled bool, err error)
}

func newUnpickler(ctx context.Context, r io.Reader) *unpickler {
	return &unpickler{
		ctx:  ctx,
		r:    &countingReader{r: bufio.NewReaderSize(r, 1<<16)},
		memo: map[uint64]any{},
	}
}

func (u *unpickler) errf(format string, args ...any) error {
	return &PickleError{Offset: u.op, Msg: fmt.Sprintf(format, args...)}
}

func (u *unpickler) readFull(p []byte) error {
	if _, err := io.ReadFull(u.r, p); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return u.errf("truncated: stream ended inside an opcode argument")
		}
		return fmt.Errorf("pickle: read: %w", err)
	}
	return nil
}

func (u *unpickler) readUint(n int) (uint64, error) {
	var b [8]byte
	if err := u.readFull(b[:n]); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b[:]), nil
}

// readBytes reads n bytes into memory. Large strings are read
// incrementally, so a forged length fails at end of input instead of making
// the decoder allocate what the input does not hold.
func (u *unpickler) readBytes(n int64) ([]byte, error) {
	if n < 0 || n > maxPickleString {
		return nil, u.errf("string of %d bytes is larger than any CIFAR pickle holds in memory (limit %d)", n, int64(maxPickleString))
	}
	if n <= 1<<20 {
		b := make([]byte, n)
		return b, u.readFull(b)
	}
	var buf bytes.Buffer
	if _, err := io.CopyN(&buf, u.r, n); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, u.errf("truncated: stream ended inside a %d-byte string", n)
		}
		return nil, fmt.Errorf("pickle: read: %w", err)
	}
	return buf.Bytes(), nil
}

func (u *unpickler) push(v any) { u.stack = append(u.stack, v) }

func (u *unpickler) pop() (any, error) {
	if len(u.stack) == 0 || (len(u.marks) > 0 && len(u.stack) <= u.marks[len(u.marks)-1]) {
		return nil, u.errf("stack underflow")
	}
	v := u.stack[len(u.stack)-1]
	u.stack = u.stack[:len(u.stack)-1]
	return v, nil
}

func (u *unpickler) top() (any, error) {
	if len(u.stack) == 0 || (len(u.marks) > 0 && len(u.stack) <= u.marks[len(u.marks)-1]) {
		return nil, u.errf("stack underflow")
	}
	return u.stack[len(u.stack)-1], nil
}

// popMark pops everything down to the last MARK and returns it.
func (u *unpickler) popMark() ([]any, error) {
	if len(u.marks) == 0 {
		return nil, u.errf("MARK expected but none on the stack")
	}
	m := u.marks[len(u.marks)-1]
	u.marks = u.marks[:len(u.marks)-1]
	items := append([]any(nil), u.stack[m:]...)
	u.stack = u.stack[:m]
	return items, nil
}

func opName(op byte) string {
	if op >= 0x20 && op < 0x7f {
		return fmt.Sprintf("0x%02x %q", op, rune(op))
	}
	return fmt.Sprintf("0x%02x", op)
}

func (u *unpickler) pushString(n int64) error {
	if n > bigStringThreshold && u.hook != nil {
		v, handled, err := u.hook(u, n)
		if err != nil {
			return err
		}
		if handled {
			u.push(v)
			return nil
		}
	}
	b, err := u.readBytes(n)
	if err != nil {
		return err
	}
	u.push(pyBytes(b))
	return nil
}

func (u *unpickler) memoPut(idx uint64) error {
	v, err := u.top()
	if err != nil {
		return err
	}
	u.memo[idx] = v
	return nil
}

// load runs the pickle machine until STOP and returns the top-level object.
func (u *unpickler) load() (any, error) {
	for steps := 0; ; steps++ {
		if steps&1023 == 0 {
			if err := u.ctx.Err(); err != nil {
				return nil, err
			}
		}
		u.op = u.r.n
		op, err := u.r.ReadByte()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil, u.errf("truncated: stream ended before STOP")
			}
			return nil, fmt.Errorf("pickle: read: %w", err)
		}
		switch op {
		case opProto:
			v, err := u.readUint(1)
			if err != nil {
				return nil, err
			}
			if v < 2 || v > 4 {
				return nil, u.errf("unsupported pickle protocol %d (want 2, as CIFAR's Python 2 files use, up to 4)", v)
			}
		case opFrame:
			if _, err := u.readUint(8); err != nil {
				return nil, err
			}
		case opStop:
			if len(u.marks) != 0 {
				return nil, u.errf("STOP with an open MARK")
			}
			if len(u.stack) != 1 {
				return nil, u.errf("STOP with %d objects on the stack, want 1", len(u.stack))
			}
			return u.stack[0], nil
		case opMark:
			u.marks = append(u.marks, len(u.stack))
		case opEmptyDict:
			u.push(&pyDict{vals: map[string]any{}})
		case opEmptyList:
			u.push(&pyList{})
		case opEmptyTuple:
			u.push(pyTuple{})
		case opBinPut:
			i, err := u.readUint(1)
			if err != nil {
				return nil, err
			}
			if err := u.memoPut(i); err != nil {
				return nil, err
			}
		case opLongBinPut:
			i, err := u.readUint(4)
			if err != nil {
				return nil, err
			}
			if err := u.memoPut(i); err != nil {
				return nil, err
			}
		case opMemoize:
			if err := u.memoPut(uint64(len(u.memo))); err != nil {
				return nil, err
			}
		case opBinGet, opLongBinGet:
			n := 1
			if op == opLongBinGet {
				n = 4
			}
			i, err := u.readUint(n)
			if err != nil {
				return nil, err
			}
			v, ok := u.memo[i]
			if !ok {
				return nil, u.errf("memo key %d not found", i)
			}
			u.push(v)
		case opShortBinString, opShortBinBytes, opShortBinUni:
			n, err := u.readUint(1)
			if err != nil {
				return nil, err
			}
			if err := u.pushString(int64(n)); err != nil {
				return nil, err
			}
		case opBinString, opBinBytes, opBinUnicode:
			n, err := u.readUint(4)
			if err != nil {
				return nil, err
			}
			if op == opBinString && n > math.MaxInt32 {
				return nil, u.errf("BINSTRING with negative length")
			}
			if err := u.pushString(int64(n)); err != nil {
				return nil, err
			}
		case opBinInt1:
			v, err := u.readUint(1)
			if err != nil {
				return nil, err
			}
			u.push(int(v))
		case opBinInt2:
			v, err := u.readUint(2)
			if err != nil {
				return nil, err
			}
			u.push(int(v))
		case opBinInt:
			v, err := u.readUint(4)
			if err != nil {
				return nil, err
			}
			u.push(int(int32(uint32(v))))
		case opNone:
			u.push(pyNone{})
		case opNewTrue:
			u.push(true)
		case opNewFalse:
			u.push(false)
		case opTuple1, opTuple2, opTuple3:
			n := int(op - opTuple1 + 1)
			if len(u.stack) < n || (len(u.marks) > 0 && len(u.stack)-n < u.marks[len(u.marks)-1]) {
				return nil, u.errf("stack underflow")
			}
			t := append(pyTuple(nil), u.stack[len(u.stack)-n:]...)
			u.stack = u.stack[:len(u.stack)-n]
			u.push(t)
		case opTuple:
			items, err := u.popMark()
			if err != nil {
				return nil, err
			}
			u.push(pyTuple(items))
		case opGlobal:
			module, err := u.readLine()
			if err != nil {
				return nil, err
			}
			name, err := u.readLine()
			if err != nil {
				return nil, err
			}
			if err := u.pushGlobal(module, name); err != nil {
				return nil, err
			}
		case opStackGlobal:
			nv, err := u.pop()
			if err != nil {
				return nil, err
			}
			mv, err := u.pop()
			if err != nil {
				return nil, err
			}
			name, ok1 := nv.(pyBytes)
			module, ok2 := mv.(pyBytes)
			if !ok1 || !ok2 {
				return nil, u.errf("STACK_GLOBAL needs two strings")
			}
			if err := u.pushGlobal(string(module), string(name)); err != nil {
				return nil, err
			}
		case opReduce:
			if err := u.reduce(); err != nil {
				return nil, err
			}
		case opBuild:
			if err := u.build(); err != nil {
				return nil, err
			}
		case opAppend:
			v, err := u.pop()
			if err != nil {
				return nil, err
			}
			l, err := u.top()
			if err != nil {
				return nil, err
			}
			pl, ok := l.(*pyList)
			if !ok {
				return nil, u.errf("APPEND to a %s, not a list", typeName(l))
			}
			pl.items = append(pl.items, v)
		case opAppends:
			items, err := u.popMark()
			if err != nil {
				return nil, err
			}
			l, err := u.top()
			if err != nil {
				return nil, err
			}
			pl, ok := l.(*pyList)
			if !ok {
				return nil, u.errf("APPENDS to a %s, not a list", typeName(l))
			}
			pl.items = append(pl.items, items...)
		case opSetItem:
			v, err := u.pop()
			if err != nil {
				return nil, err
			}
			k, err := u.pop()
			if err != nil {
				return nil, err
			}
			if err := u.setItems([]any{k, v}); err != nil {
				return nil, err
			}
		case opSetItems:
			items, err := u.popMark()
			if err != nil {
				return nil, err
			}
			if len(items)%2 != 0 {
				return nil, u.errf("SETITEMS with an odd number of stack items")
			}
			if err := u.setItems(items); err != nil {
				return nil, err
			}
		default:
			return nil, u.errf("unsupported opcode %s: not one a CIFAR pickle uses", opName(op))
		}
	}
}

// end checks that nothing follows STOP: trailing bytes would otherwise be
// silently ignored.
func (u *unpickler) end() error {
	if _, err := u.r.r.ReadByte(); err == nil {
		return &PickleError{Offset: u.r.n, Msg: "data after STOP"}
	} else if !errors.Is(err, io.EOF) {
		return fmt.Errorf("pickle: read: %w", err)
	}
	return nil
}

func (u *unpickler) readLine() (string, error) {
	var b []byte
	for {
		c, err := u.r.ReadByte()
		if err != nil {
			return "", u.errf("truncated: stream ended inside GLOBAL")
		}
		if c == '\n' {
			return string(b), nil
		}
		if len(b) >= 256 {
			return "", u.errf("GLOBAL name too long")
		}
		b = append(b, c)
	}
}

func (u *unpickler) pushGlobal(module, name string) error {
	g, ok := allowedGlobal(module, name)
	if !ok {
		return u.errf("refusing global %s (a CIFAR pickle may only name numpy.core.multiarray._reconstruct, numpy.ndarray and numpy.dtype; nothing is imported or called)",
			strconv.Quote(module+"."+name))
	}
	u.push(g)
	return nil
}

func (u *unpickler) setItems(items []any) error {
	d, err := u.top()
	if err != nil {
		return err
	}
	pd, ok := d.(*pyDict)
	if !ok {
		return u.errf("SETITEM(S) on a %s, not a dict", typeName(d))
	}
	for i := 0; i < len(items); i += 2 {
		k, ok := items[i].(pyBytes)
		if !ok {
			return u.errf("dict key is a %s, not a string", typeName(items[i]))
		}
		ks := string(k)
		if _, dup := pd.vals[ks]; !dup {
			pd.keys = append(pd.keys, ks)
		}
		pd.vals[ks] = items[i+1]
	}
	return nil
}

// reduce implements REDUCE for exactly two callables: numpy's
// _reconstruct(ndarray, (0,), b'b') and dtype(str, 0, 1).
func (u *unpickler) reduce() error {
	argsV, err := u.pop()
	if err != nil {
		return err
	}
	fnV, err := u.pop()
	if err != nil {
		return err
	}
	g, ok := fnV.(pyGlobal)
	args, ok2 := argsV.(pyTuple)
	if !ok || !ok2 {
		return u.errf("REDUCE of a %s with %s arguments: only numpy globals can be called", typeName(fnV), typeName(argsV))
	}
	switch {
	case g.is("_reconstruct"):
		if len(args) != 3 {
			return u.errf("_reconstruct takes 3 arguments, got %d", len(args))
		}
		if c, ok := args[0].(pyGlobal); !ok || !c.is("ndarray") {
			return u.errf("_reconstruct of a %s, want numpy.ndarray", typeName(args[0]))
		}
		u.push(&ndarray{})
	case g.is("dtype"):
		if len(args) < 1 {
			return u.errf("dtype without arguments")
		}
		s, ok := args[0].(pyBytes)
		if !ok {
			return u.errf("dtype of a %s, want a string", typeName(args[0]))
		}
		u.push(&pyDtype{str: string(s)})
	default:
		return u.errf("refusing to call %s.%s", g.module, g.name)
	}
	return nil
}

// build implements BUILD (__setstate__) for numpy dtypes and arrays.
func (u *unpickler) build() error {
	stateV, err := u.pop()
	if err != nil {
		return err
	}
	objV, err := u.top()
	if err != nil {
		return err
	}
	state, ok := stateV.(pyTuple)
	if !ok {
		return u.errf("BUILD with a %s state, want a tuple", typeName(stateV))
	}
	switch obj := objV.(type) {
	case *pyDtype:
		// (version, byteorder, subarray, names, fields, elsize, alignment, flags)
		if len(state) < 2 {
			return u.errf("dtype state too short")
		}
		if bo, ok := state[1].(pyBytes); ok && string(bo) != "|" && string(bo) != "=" {
			obj.str = string(bo) + obj.str
		}
		return nil
	case *ndarray:
		// (version, shape, dtype, is_fortran, rawdata)
		if len(state) != 5 {
			return u.errf("ndarray state has %d fields, want 5", len(state))
		}
		shapeT, ok := state[1].(pyTuple)
		if !ok {
			return u.errf("ndarray shape is a %s, want a tuple", typeName(state[1]))
		}
		shape := make([]int, len(shapeT))
		for i, s := range shapeT {
			n, ok := s.(int)
			if !ok || n < 0 {
				return u.errf("ndarray shape has a bad dimension %v", s)
			}
			shape[i] = n
		}
		dt, ok := state[2].(*pyDtype)
		if !ok {
			return u.errf("ndarray dtype is a %s", typeName(state[2]))
		}
		if f, ok := state[3].(bool); !ok || f {
			return u.errf("ndarray is Fortran-ordered or has a bad order flag; CIFAR arrays are C-ordered")
		}
		obj.shape, obj.dtype = shape, dt
		switch d := state[4].(type) {
		case pyBytes:
			obj.data = d
		case streamedData:
			obj.streamed = true
		case spooledData:
			obj.spooled = true
		default:
			return u.errf("ndarray data is a %s, want raw bytes", typeName(state[4]))
		}
		return nil
	default:
		return u.errf("BUILD on a %s: only numpy dtypes and arrays can be built", typeName(objV))
	}
}

func typeName(v any) string {
	switch v := v.(type) {
	case nil:
		return "nothing"
	case pyNone:
		return "None"
	case int:
		return "int"
	case bool:
		return "bool"
	case pyBytes:
		return "string"
	case pyTuple:
		return fmt.Sprintf("%d-tuple", len(v))
	case *pyList:
		return "list"
	case *pyDict:
		return "dict"
	case pyGlobal:
		return "global " + v.module + "." + v.name
	case *pyDtype:
		return "numpy.dtype"
	case *ndarray:
		return "numpy.ndarray"
	case streamedData:
		return "streamed array data"
	case spooledData:
		return "spooled array data"
	}
	return fmt.Sprintf("%T", v)
}
