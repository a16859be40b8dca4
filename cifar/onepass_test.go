package cifar_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/scones/scones/cifar"
	"github.com/scones/scones/fixtures"
)

// StreamOnce hands out the same records and meta as Open + Records.
func TestStreamOnceMatchesRecords(t *testing.T) {
	ctx := context.Background()
	path, err := fixtures.WriteCommitted(t.TempDir(), fixtures.MiniPython)
	if err != nil {
		t.Fatal(err)
	}
	full, err := cifar.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	var want []cifar.Record
	if err := full.Records(ctx, func(r cifar.Record) error { want = append(want, r); return nil }); err != nil {
		t.Fatal(err)
	}
	one, err := cifar.OpenOnePass(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	var got []cifar.Record
	meta, err := one.StreamOnce(ctx, func(r cifar.Record) error { got = append(got, r); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(meta, full.Meta()) {
		t.Error("meta differs from Open's")
	}
	if len(got) != len(want) || !reflect.DeepEqual(got, want) {
		t.Fatalf("StreamOnce: %d records, Records: %d (or contents differ)", len(got), len(want))
	}
	if one.Format() != cifar.FormatPython {
		t.Errorf("format = %v", one.Format())
	}
}

func TestStreamOnceRefusals(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	bin, err := fixtures.WriteCommitted(dir, fixtures.MiniBinary)
	if err != nil {
		t.Fatal(err)
	}
	a, err := cifar.OpenOnePass(ctx, bin)
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	if _, err := a.StreamOnce(ctx, func(cifar.Record) error { calls++; return nil }); !errors.Is(err, cifar.ErrNotOnePass) || calls != 0 {
		t.Errorf("binary version: %v after %d records, want ErrNotOnePass before any", err, calls)
	}
	if _, err := cifar.OpenOnePass(ctx, dir); !errors.Is(err, cifar.ErrNotOnePass) {
		t.Errorf("folder: %v, want ErrNotOnePass", err)
	}
	py, _ := fixtures.Committed(fixtures.MiniPython)
	trunc := filepath.Join(dir, "truncated.tar.gz")
	os.WriteFile(trunc, py[:len(py)/2], 0o644)
	a, err = cifar.OpenOnePass(ctx, trunc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.StreamOnce(ctx, func(cifar.Record) error { return nil }); err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("truncated archive: %v", err)
	}
}
