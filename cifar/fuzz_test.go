package cifar_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/scones/scones/cifar"
	"github.com/scones/scones/fixtures"
)

func tinySplits() *fixtures.Dataset {
	return fixtures.Synthetic(fixtures.SyntheticSpec{Seed: 3, Train: map[int]int{8: 1, 48: 1}, Test: map[int]int{8: 1}, Noise: 8, Block: 8, Coarse: true})
}

func FuzzPickle(f *testing.F) {
	ds := tinySplits()
	f.Add(fixtures.PickleBatch(&ds.Train, "training batch 1 of 1"))
	f.Add(fixtures.PickleBatch(&ds.Test, "testing batch 1 of 1"))
	f.Add(fixtures.PickleBatchKeys(&ds.Train, "b", []string{"data", "fine_labels", "coarse_labels", "filenames", "batch_label"}))
	f.Add(fixtures.PickleMeta(ds.Meta))
	f.Add([]byte("\x80\x02cos\nsystem\nq\x01U\x02lsq\x02\x85R."))
	f.Add([]byte("\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00}\x94(\x8c\x01a\x94K\x01u."))
	tmp := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		n := 0
		rows, err := cifar.DecodePickleBatch(context.Background(), bytes.NewReader(b), "train", tmp, func(r cifar.Record) error {
			if r.Row != n || r.FineLabel < 0 || r.FineLabel >= 100 || r.CoarseLabel < 0 || r.CoarseLabel >= 20 || r.Filename == "" {
				t.Fatalf("bad record %d: %+v", n, r.Row)
			}
			n++
			return nil
		})
		if rows != n {
			t.Fatalf("returned %d rows, delivered %d", rows, n)
		}
		_ = err
		if m, err := cifar.DecodePickleMeta(context.Background(), bytes.NewReader(b)); err == nil {
			if len(m.FineLabelNames) != 100 || len(m.CoarseLabelNames) != 20 {
				t.Fatalf("meta accepted with %d/%d names", len(m.FineLabelNames), len(m.CoarseLabelNames))
			}
		}
	})
}

func FuzzBinary(f *testing.F) {
	ds := tinySplits()
	f.Add(fixtures.BinaryFile(&ds.Train), true)
	f.Add(fixtures.BinaryFile(&ds.Test), false)
	f.Add([]byte{18, 8, 1, 2, 3}, true)
	f.Add([]byte{}, false)
	meta := cifar.StandardMeta()
	f.Fuzz(func(t *testing.T, b []byte, sized bool) {
		size := int64(-1)
		if sized {
			size = int64(len(b))
		}
		n := 0
		rows, err := cifar.DecodeBinary(context.Background(), bytes.NewReader(b), size, "test", meta, func(r cifar.Record) error {
			if r.Row != n || r.FineLabel >= 100 || r.CoarseLabel >= 20 {
				t.Fatalf("bad record %d", n)
			}
			n++
			return nil
		})
		if rows != n {
			t.Fatalf("returned %d rows, delivered %d", rows, n)
		}
		if err == nil && len(b) != n*cifar.RecordBytes {
			t.Fatalf("accepted %d bytes as %d records", len(b), n)
		}
		if err != nil && len(b)%cifar.RecordBytes == 0 && b != nil {
			// Only a bad label can fail a well-sized file.
			ok := false
			for i := 0; i+1 < len(b); i += cifar.RecordBytes {
				if b[i] >= 20 || b[i+1] >= 100 {
					ok = true
				}
			}
			if !ok {
				t.Fatalf("rejected a valid file: %v", err)
			}
		}
	})
}

// FuzzManifest parses arbitrary .lst text: no panic, and a manifest it
// accepts writes back and parses again to the same entries.
func FuzzManifest(f *testing.F) {
	for _, s := range []string{"0\t1\ttest/bicycle_s_000001.png\n1\t0\tx.png\r\n\n", "1 0 x.png\n", "-1\t0\tx\n", "1\t2\t\n", "1\t2\ta\tb\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		es, err := cifar.ParseManifest(bytes.NewReader(in))
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := cifar.WriteManifest(&buf, es); err != nil {
			t.Fatalf("accepted %q, cannot write it back: %v", in, err)
		}
		again, err := cifar.ParseManifest(&buf)
		if err != nil || len(again) != len(es) {
			t.Fatalf("round trip of %q: %v, %d entries, want %d", in, err, len(again), len(es))
		}
		for i := range es {
			if again[i] != es[i] {
				t.Fatalf("round trip of %q: entry %d %+v, want %+v", in, i, again[i], es[i])
			}
		}
	})
}
