package cifar_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/nlpodyssey/gopickle/pickle"
	"github.com/nlpodyssey/gopickle/types"

	"github.com/scones/scones/cifar"
	"github.com/scones/scones/fixtures"
)

func decodeAll(b []byte) ([]cifar.Record, error) {
	var recs []cifar.Record
	_, err := cifar.DecodePickleBatch(context.Background(), bytes.NewReader(b), "train", "", func(r cifar.Record) error {
		recs = append(recs, r)
		return nil
	})
	return recs, err
}

func TestPickleKeyOrders(t *testing.T) {
	ds := fixtures.Synthetic(fixtures.TinySpec())
	want, err := decodeAll(fixtures.PickleBatch(&ds.Train, "training batch 1 of 1"))
	if err != nil {
		t.Fatal(err)
	}
	if len(want) != ds.Train.Len() {
		t.Fatalf("%d records, want %d", len(want), ds.Train.Len())
	}
	for _, order := range [][]string{
		{"data", "filenames", "batch_label", "fine_labels", "coarse_labels"}, // spooled
		{"fine_labels", "data", "coarse_labels", "filenames", "batch_label"}, // spooled
		{"coarse_labels", "fine_labels", "filenames", "data", "batch_label"}, // streamed
	} {
		got, err := decodeAll(fixtures.PickleBatchKeys(&ds.Train, "training batch 1 of 1", order))
		if err != nil {
			t.Fatalf("%v: %v", order, err)
		}
		if len(got) != len(want) {
			t.Fatalf("%v: %d records", order, len(got))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%v: record %d differs", order, i)
			}
		}
	}
}

// TestPickleGopickleCrossCheck reads the generator's pickles with an
// independent unpickler (gopickle plus a numpy shim), to check that what the
// generator writes is a valid pickle with the structure CIFAR's has.
func TestPickleGopickleCrossCheck(t *testing.T) {
	ds := fixtures.Synthetic(fixtures.TinySpec())
	b := fixtures.PickleBatch(&ds.Test, "testing batch 1 of 1")
	v, err := gopickleLoad(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	d := v.(*types.Dict)
	var keys []string
	for _, e := range *d {
		keys = append(keys, e.Key.(string))
	}
	if got := strings.Join(keys, ","); got != "filenames,batch_label,fine_labels,coarse_labels,data" {
		t.Fatalf("keys %s", got)
	}
	arr := mustGet(t, d, "data").(*npArray)
	if arr.dtype != "u1" || len(arr.shape) != 2 || arr.shape[0] != ds.Test.Len() || arr.shape[1] != 3072 {
		t.Fatalf("array %+v", arr.shape)
	}
	var px [cifar.PixelBytes]byte
	for i := 0; i < ds.Test.Len(); i++ {
		ds.Test.Pixels(i, &px)
		if !bytes.Equal(arr.data[i*3072:(i+1)*3072], px[:]) {
			t.Fatalf("row %d differs", i)
		}
	}
	fine := mustGet(t, d, "fine_labels").(*types.List)
	names := mustGet(t, d, "filenames").(*types.List)
	if fine.Len() != ds.Test.Len() || names.Get(2).(string) != ds.Test.Filenames[2] || fine.Get(3).(int) != ds.Test.Fine[3] {
		t.Fatal("labels or names differ")
	}
	if mustGet(t, d, "batch_label").(string) != "testing batch 1 of 1" {
		t.Fatal("batch_label")
	}
	mv, err := gopickleLoad(bytes.NewReader(fixtures.PickleMeta(ds.Meta)))
	if err != nil {
		t.Fatal(err)
	}
	fn := mustGet(t, mv.(*types.Dict), "fine_label_names").(*types.List)
	if fn.Len() != 100 || fn.Get(48).(string) != "motorcycle" {
		t.Fatal("meta")
	}
}

func mustGet(t *testing.T, d *types.Dict, k string) any {
	t.Helper()
	v, ok := d.Get(k)
	if !ok {
		t.Fatalf("no key %s", k)
	}
	return v
}

// The numpy shim for gopickle: just enough of _reconstruct, ndarray and
// dtype; FindClass refuses everything else.
type npReconstruct struct{}
type npArray struct {
	shape []int
	dtype string
	data  []byte
}
type npDtypeClass struct{}
type npDtype struct{ str string }

func (npReconstruct) Call(args ...any) (any, error) { return &npArray{}, nil }
func (npDtypeClass) Call(args ...any) (any, error) {
	return &npDtype{str: args[0].(string)}, nil
}
func (d *npDtype) PySetState(any) error { return nil }
func (a *npArray) PySetState(state any) error {
	st := state.(*types.Tuple)
	for _, s := range *st.Get(1).(*types.Tuple) {
		a.shape = append(a.shape, s.(int))
	}
	a.dtype = st.Get(2).(*npDtype).str
	a.data = []byte(st.Get(4).(string))
	return nil
}

func gopickleLoad(r io.Reader) (any, error) {
	u := pickle.NewUnpickler(r)
	u.FindClass = func(module, name string) (any, error) {
		switch module + "." + name {
		case "numpy.core.multiarray._reconstruct":
			return npReconstruct{}, nil
		case "numpy.ndarray":
			return npDtypeClass{}, nil // only passed as an argument
		case "numpy.dtype":
			return npDtypeClass{}, nil
		}
		return nil, fmt.Errorf("refusing %s.%s", module, name)
	}
	return u.Load()
}

// TestPickleLayout pins the exact bytes of the numpy array's encoding: the
// layout Python 2's cPickle writes for numpy.array(..., dtype='uint8').
func TestPickleLayout(t *testing.T) {
	ds := fixtures.Synthetic(fixtures.TinySpec())
	b := fixtures.PickleBatch(&ds.Test, "testing batch 1 of 1")
	if !bytes.HasPrefix(b, []byte("\x80\x02}q\x01(U\x09filenamesq\x02]q\x03(U")) {
		t.Fatalf("prefix %q", b[:40])
	}
	// Memo: 1 dict, 2 'filenames', 3 its list, 4-14 the 11 names,
	// 15-16 batch_label, 17-18 fine_labels, 19-20 coarse_labels, 21 'data'.
	want := "U\x04dataq\x15cnumpy.core.multiarray\n_reconstruct\nq\x16cnumpy\nndarray\nq\x17K\x00\x85U\x01b\x87Rq\x18(K\x01K\x0bM\x00\x0c\x86cnumpy\ndtype\nq\x19U\x02u1K\x00K\x01\x87Rq\x1a(K\x03U\x01|NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb\x89T\x00\x84\x00\x00"
	if !bytes.Contains(b, []byte(want)) {
		i := bytes.Index(b, []byte("U\x04data"))
		t.Fatalf("array encoding:\n got %q\nwant %q", b[i:i+len(want)], want)
	}
	if !bytes.HasSuffix(b, []byte("tbu.")) {
		t.Fatalf("suffix %q", b[len(b)-8:])
	}
}

func TestBadPickles(t *testing.T) {
	ds := fixtures.Synthetic(fixtures.TinySpec())
	good := fixtures.PickleBatch(&ds.Test, "testing batch 1 of 1")
	replace := func(old, new string) []byte {
		if !bytes.Contains(good, []byte(old)) {
			t.Fatalf("fixture lacks %q", old)
		}
		return bytes.Replace(good, []byte(old), []byte(new), 1)
	}
	for _, tc := range []struct {
		name string
		b    []byte
		want []string
	}{
		{"os.system", []byte("\x80\x02cos\nsystem\nq\x01U\x02lsq\x02\x85R."), []string{`refusing global "os.system"`}},
		{"builtins eval via STACK_GLOBAL", []byte("\x80\x04\x8c\x08builtins\x8c\x04eval\x93."), []string{`refusing global "builtins.eval"`}},
		{"foreign class replacing ndarray", replace("cnumpy\nndarray\n", "cnumpy\nmatrix\n\x00"), []string{`numpy.matrix`}},
		{"protocol-0 opcode", []byte("\x80\x02I42\n."), []string{"unsupported opcode 0x49 'I'"}},
		{"INST", []byte("\x80\x02(ios\nsystem\n."), []string{"unsupported opcode 0x69 'i'"}},
		{"protocol 5", []byte("\x80\x05N."), []string{"unsupported pickle protocol 5"}},
		{"wrong shape", replace("M\x00\x0c\x86", "M\x00\x08\x86"), []string{"shape (11, 2048), want (N, 3072)"}},
		{"wrong row count", replace("K\x0bM\x00\x0c", "K\x0cM\x00\x0c"), []string{"shape (12, 3072) holds 33792 bytes, want 36864"}},
		{"wrong dtype", replace("U\x02u1", "U\x02f8"), []string{`dtype "f8", want uint8`}},
		{"fortran", replace("tb\x89T", "tb\x88T"), []string{"Fortran"}},
		{"truncated", good[:len(good)-100], []string{"truncated"}},
		{"no STOP", good[:len(good)-1], []string{"truncated: stream ended before STOP"}},
		{"trailing data", append(bytes.Clone(good), 'x'), []string{"data after STOP"}},
		{"not a dict", []byte("\x80\x02K\x01."), []string{"batch is a int, want a dict"}},
		{"no data", []byte("\x80\x02}U\x01aK\x01s."), []string{"no data"}},
		{"cifar-10", replace("U\x0bfine_labels", "U\x06labels"), []string{"this is CIFAR-10"}},
		{"bad label", replace("coarse_labels", "coarse_labelz"), []string{"no coarse_labels"}},
		{"path in filename", replace(ds.Test.Filenames[0], "../../"+ds.Test.Filenames[0][6:]), []string{"is not a plain file name"}},
		{"memo miss", []byte("\x80\x02h\x05."), []string{"memo key 5 not found"}},
		{"huge string", []byte("\x80\x02T\xff\xff\xff\x7f"), []string{"larger than any CIFAR pickle"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeAll(tc.b)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("error %q lacks %q", err, w)
				}
			}
			t.Logf("%v", err)
		})
	}
	var pe *cifar.PickleError
	_, err := decodeAll([]byte("\x80\x02cos\nsystem\n."))
	if !errors.As(err, &pe) || pe.Offset != 2 {
		t.Fatalf("want a PickleError at byte 2, got %v", err)
	}
}

func TestPickleMeta(t *testing.T) {
	m, err := cifar.DecodePickleMeta(context.Background(), bytes.NewReader(fixtures.PickleMeta(cifar.StandardMeta())))
	if err != nil {
		t.Fatal(err)
	}
	if m.FineLabelNames[8] != "bicycle" || m.CoarseLabelNames[19] != "vehicles_2" {
		t.Fatal("bad meta")
	}
	short := cifar.StandardMeta()
	short.FineLabelNames = short.FineLabelNames[:10]
	if _, err := cifar.DecodePickleMeta(context.Background(), bytes.NewReader(fixtures.PickleMeta(short))); err == nil || !strings.Contains(err.Error(), "10 names, want 100") {
		t.Fatalf("short meta: %v", err)
	}
}
