package cifar

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// DecodePickleBatch reads one python-version batch pickle (cifar-100-python/
// train or test) from r and calls fn for each record, in row order, with
// Split set to split. It returns the number of records passed to fn.
//
// When the batch dict holds its labels and file names before its data array
// (as CIFAR's own files do), rows are passed to fn while the data string is
// being read, and nothing but the labels and names is retained. Otherwise the
// data string is spooled to a temporary file in tempDir (os.TempDir() when
// empty) and the rows are passed on after the pickle has been read. Either
// way, an error after some rows were passed on means the batch is bad: the
// caller must discard what it got.
func DecodePickleBatch(ctx context.Context, r io.Reader, split, tempDir string, fn func(Record) error) (int, error) {
	b := &batchDecoder{ctx: ctx, split: split, tempDir: tempDir, fn: fn}
	defer b.cleanup()
	u := newUnpickler(ctx, r)
	u.hook = b.hook
	top, err := u.load()
	if err == nil {
		err = u.end()
	}
	if err != nil {
		return b.rows, err
	}
	return b.rows, b.finish(top)
}

type batchLabels struct {
	fine, coarse []int
	names        []string
}

type batchDecoder struct {
	ctx     context.Context
	split   string
	tempDir string
	fn      func(Record) error
	rows    int // records passed to fn
	spool   *os.File
	seen    bool // a data array was handled
}

// spooledData stands for a data string copied to a temporary file.
type spooledData struct {
	f *os.File
	n int64
}

func (b *batchDecoder) cleanup() {
	if b.spool != nil {
		name := b.spool.Name()
		b.spool.Close()
		os.Remove(name)
	}
}

// hook is called for every big string. It recognises the data array's raw
// bytes by the stack layout of numpy's ndarray state, in a dict under the key
// "data":
//
//	... 'data' ndarray MARK 1 shape dtype False <string>
func (b *batchDecoder) hook(u *unpickler, n int64) (any, bool, error) {
	s := u.stack
	L := len(s)
	if L < 6 || len(u.marks) == 0 || u.marks[len(u.marks)-1] != L-4 {
		return nil, false, nil
	}
	key, ok1 := s[L-6].(pyBytes)
	_, ok2 := s[L-5].(*ndarray)
	ver, ok3 := s[L-4].(int)
	shapeT, ok4 := s[L-3].(pyTuple)
	dt, ok5 := s[L-2].(*pyDtype)
	_, ok6 := s[L-1].(bool)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || string(key) != "data" || ver != 1 {
		return nil, false, nil
	}
	shape := make([]int, len(shapeT))
	for i, v := range shapeT {
		d, ok := v.(int)
		if !ok || d < 0 {
			return nil, false, u.errf("data array has a bad shape %v", shapeT)
		}
		shape[i] = d
	}
	rows, err := checkDataArray(shape, dt, n)
	if err != nil {
		return nil, false, u.errf("%v", err)
	}
	if b.seen {
		return nil, false, u.errf("batch has a second data array")
	}
	b.seen = true
	if lb, ok := findLabels(s[:L-6], rows); ok {
		if err := b.stream(u, lb, rows); err != nil {
			return nil, false, err
		}
		return streamedData{n: n}, true, nil
	}
	// Labels come later in the dict: keep the data out of memory.
	f, err := os.CreateTemp(b.tempDir, "cifar-data-*")
	if err != nil {
		return nil, false, fmt.Errorf("spooling data array: %w", err)
	}
	b.spool = f
	if _, err := io.CopyN(f, u.r, n); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, false, u.errf("truncated: stream ended inside the data array")
		}
		return nil, false, fmt.Errorf("spooling data array: %w", err)
	}
	return spooledData{f: f, n: n}, true, nil
}

// checkDataArray checks a data array's shape and dtype against its byte
// length and returns its number of rows.
func checkDataArray(shape []int, dt *pyDtype, n int64) (int, error) {
	if dt == nil || (dt.str != "u1" && dt.str != "|u1" && dt.str != "uint8") {
		s := "?"
		if dt != nil {
			s = dt.str
		}
		return 0, fmt.Errorf("data array has dtype %q, want uint8 (u1)", s)
	}
	if len(shape) != 2 || shape[1] != PixelBytes {
		return 0, fmt.Errorf("data array has shape %s, want (N, %d)", shapeString(shape), PixelBytes)
	}
	if int64(shape[0])*PixelBytes != n {
		return 0, fmt.Errorf("data array of shape %s holds %d bytes, want %d", shapeString(shape), n, int64(shape[0])*PixelBytes)
	}
	return shape[0], nil
}

func shapeString(shape []int) string {
	s := make([]string, len(shape))
	for i, d := range shape {
		s[i] = strconv.Itoa(d)
	}
	if len(s) == 1 {
		return "(" + s[0] + ",)"
	}
	return "(" + strings.Join(s, ", ") + ")"
}

// findLabels looks for fine_labels, coarse_labels and filenames among the
// dict entries already on the stack (the dict itself and the key/value
// pairs pending a SETITEMS).
func findLabels(s []any, rows int) (batchLabels, bool) {
	vals := map[string]any{}
	for i, v := range s {
		if d, ok := v.(*pyDict); ok {
			for k, dv := range d.vals {
				vals[k] = dv
			}
			continue
		}
		if k, ok := v.(pyBytes); ok && i+1 < len(s) {
			switch string(k) {
			case "fine_labels", "coarse_labels", "filenames":
				vals[string(k)] = s[i+1]
			}
		}
	}
	lb, err := labelsFrom(vals, rows)
	return lb, err == nil
}

func labelsFrom(vals map[string]any, rows int) (batchLabels, error) {
	var lb batchLabels
	var err error
	if lb.fine, err = intList(vals, "fine_labels", rows, NumFine); err != nil {
		return lb, err
	}
	if lb.coarse, err = intList(vals, "coarse_labels", rows, NumCoarse); err != nil {
		return lb, err
	}
	v, ok := vals["filenames"]
	if !ok {
		return lb, fmt.Errorf("batch has no filenames")
	}
	l, ok := v.(*pyList)
	if !ok {
		return lb, fmt.Errorf("filenames is a %s, want a list", typeName(v))
	}
	if len(l.items) != rows {
		return lb, fmt.Errorf("filenames has %d entries for %d rows", len(l.items), rows)
	}
	lb.names = make([]string, rows)
	for i, it := range l.items {
		s, ok := it.(pyBytes)
		if !ok {
			return lb, fmt.Errorf("filenames[%d] is a %s, want a string", i, typeName(it))
		}
		if !validFilename(string(s)) {
			return lb, fmt.Errorf("filenames[%d] = %q is not a plain file name", i, string(s))
		}
		lb.names[i] = string(s)
	}
	return lb, nil
}

func intList(vals map[string]any, key string, rows, limit int) ([]int, error) {
	v, ok := vals[key]
	if !ok {
		if key == "fine_labels" {
			if _, c10 := vals["labels"]; c10 {
				return nil, fmt.Errorf("batch has labels but no fine_labels: this is CIFAR-10, not CIFAR-100")
			}
		}
		return nil, fmt.Errorf("batch has no %s", key)
	}
	l, ok := v.(*pyList)
	if !ok {
		return nil, fmt.Errorf("%s is a %s, want a list", key, typeName(v))
	}
	if len(l.items) != rows {
		return nil, fmt.Errorf("%s has %d entries for %d rows", key, len(l.items), rows)
	}
	out := make([]int, rows)
	for i, it := range l.items {
		n, ok := it.(int)
		if !ok || n < 0 || n >= limit {
			return nil, fmt.Errorf("%s[%d] = %v is not a label in [0, %d)", key, i, it, limit)
		}
		out[i] = n
	}
	return out, nil
}

// stream reads rows of the data string straight from the pickle stream and
// passes them on.
func (b *batchDecoder) stream(u *unpickler, lb batchLabels, rows int) error {
	var rec Record
	for i := 0; i < rows; i++ {
		if _, err := io.ReadFull(u.r, rec.Pixels[:]); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return u.errf("truncated: stream ended inside the data array at row %d of %d", i, rows)
			}
			return fmt.Errorf("pickle: read: %w", err)
		}
		if err := b.emit(&rec, lb, i); err != nil {
			return err
		}
	}
	return nil
}

func (b *batchDecoder) emit(rec *Record, lb batchLabels, i int) error {
	if err := b.ctx.Err(); err != nil {
		return err
	}
	rec.Split, rec.Row = b.split, i
	rec.FineLabel, rec.CoarseLabel, rec.Filename = lb.fine[i], lb.coarse[i], lb.names[i]
	b.rows++
	return b.fn(*rec)
}

// finish validates the whole batch and passes on rows not yet streamed.
func (b *batchDecoder) finish(top any) error {
	d, ok := top.(*pyDict)
	if !ok {
		return fmt.Errorf("pickle: batch is a %s, want a dict", typeName(top))
	}
	dv, ok := d.vals["data"]
	if !ok {
		return fmt.Errorf("pickle: batch dict has no data (keys: %q)", d.keys)
	}
	arr, ok := dv.(*ndarray)
	if !ok {
		return fmt.Errorf("pickle: batch data is a %s, want a numpy array", typeName(dv))
	}
	var n int64
	switch {
	case arr.streamed:
		if len(arr.shape) > 0 {
			n = int64(arr.shape[0]) * PixelBytes
		}
	case arr.data != nil:
		n = int64(len(arr.data))
	}
	var spooled *spooledData
	if arr.spooled && b.spool != nil {
		spooled = &spooledData{f: b.spool}
		fi, err := b.spool.Stat()
		if err != nil {
			return fmt.Errorf("spooled data: %w", err)
		}
		n = fi.Size()
	}
	rows, err := checkDataArray(arr.shape, arr.dtype, n)
	if err != nil {
		return fmt.Errorf("pickle: %w", err)
	}
	lb, err := labelsFrom(d.vals, rows)
	if err != nil {
		return fmt.Errorf("pickle: %w", err)
	}
	if arr.streamed {
		if b.rows != rows {
			return fmt.Errorf("pickle: streamed %d rows, array has %d", b.rows, rows)
		}
		return nil
	}
	var rec Record
	if spooled != nil {
		if _, err := spooled.f.Seek(0, io.SeekStart); err != nil {
			return fmt.Errorf("spooled data: %w", err)
		}
		for i := 0; i < rows; i++ {
			if _, err := io.ReadFull(spooled.f, rec.Pixels[:]); err != nil {
				return fmt.Errorf("spooled data: %w", err)
			}
			if err := b.emit(&rec, lb, i); err != nil {
				return err
			}
		}
		return nil
	}
	for i := 0; i < rows; i++ {
		copy(rec.Pixels[:], arr.data[i*PixelBytes:])
		if err := b.emit(&rec, lb, i); err != nil {
			return err
		}
	}
	return nil
}

// DecodePickleMeta reads the python version's meta pickle.
func DecodePickleMeta(ctx context.Context, r io.Reader) (Meta, error) {
	u := newUnpickler(ctx, r)
	top, err := u.load()
	if err == nil {
		err = u.end()
	}
	if err != nil {
		return Meta{}, err
	}
	d, ok := top.(*pyDict)
	if !ok {
		return Meta{}, fmt.Errorf("pickle: meta is a %s, want a dict", typeName(top))
	}
	if _, ok := d.vals["label_names"]; ok {
		if _, ok := d.vals["fine_label_names"]; !ok {
			return Meta{}, fmt.Errorf("pickle: meta has label_names but no fine_label_names: this is CIFAR-10, not CIFAR-100")
		}
	}
	var m Meta
	if m.FineLabelNames, err = stringList(d.vals, "fine_label_names", NumFine); err != nil {
		return Meta{}, err
	}
	if m.CoarseLabelNames, err = stringList(d.vals, "coarse_label_names", NumCoarse); err != nil {
		return Meta{}, err
	}
	return m, nil
}

func stringList(vals map[string]any, key string, want int) ([]string, error) {
	v, ok := vals[key]
	if !ok {
		return nil, fmt.Errorf("pickle: meta has no %s", key)
	}
	l, ok := v.(*pyList)
	if !ok {
		return nil, fmt.Errorf("pickle: meta %s is a %s, want a list", key, typeName(v))
	}
	if len(l.items) != want {
		return nil, fmt.Errorf("pickle: meta %s has %d names, want %d", key, len(l.items), want)
	}
	out := make([]string, len(l.items))
	for i, it := range l.items {
		s, ok := it.(pyBytes)
		if !ok || len(s) == 0 {
			return nil, fmt.Errorf("pickle: meta %s[%d] is not a non-empty string", key, i)
		}
		out[i] = string(s)
	}
	return out, nil
}
