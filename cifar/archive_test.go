package cifar_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scones/scones/cifar"
	"github.com/scones/scones/fixtures"
)

func writeArchive(t testing.TB, ds *fixtures.Dataset, f cifar.Format) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), fmt.Sprintf("cifar-100-%s.tar.gz", f))
	if err := fixtures.WriteArchiveFile(p, ds, f, gzip.BestSpeed); err != nil {
		t.Fatal(err)
	}
	return p
}

func collect(t testing.TB, a *cifar.Archive) []cifar.Record {
	t.Helper()
	var recs []cifar.Record
	if err := a.Records(context.Background(), func(r cifar.Record) error {
		recs = append(recs, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return recs
}

// checkAgainst compares records with the dataset they were written from.
func checkAgainst(t *testing.T, recs []cifar.Record, ds *fixtures.Dataset, f cifar.Format) {
	t.Helper()
	want := ds.Train.Len() + ds.Test.Len()
	if len(recs) != want {
		t.Fatalf("got %d records, want %d", len(recs), want)
	}
	for i, r := range recs {
		sp, split, row := &ds.Train, cifar.SplitTrain, i
		if i >= ds.Train.Len() {
			sp, split, row = &ds.Test, cifar.SplitTest, i-ds.Train.Len()
		}
		var px [cifar.PixelBytes]byte
		sp.Pixels(row, &px)
		name := sp.Filenames[row]
		if f == cifar.FormatBinary {
			name = fmt.Sprintf("%s_%s_%d.png", ds.Meta.FineLabelNames[sp.Fine[row]], split, row)
		}
		if r.Split != split || r.Row != row || r.FineLabel != sp.Fine[row] || r.CoarseLabel != sp.Coarse[row] || r.Filename != name {
			t.Fatalf("record %d = %s/%d fine %d coarse %d %q, want %s/%d fine %d coarse %d %q",
				i, r.Split, r.Row, r.FineLabel, r.CoarseLabel, r.Filename, split, row, sp.Fine[row], sp.Coarse[row], name)
		}
		if r.Pixels != px {
			t.Fatalf("record %d (%s): pixels differ", i, name)
		}
	}
}

func TestCommittedArchives(t *testing.T) {
	ds := fixtures.MiniDataset()
	for _, tc := range []struct {
		name string
		f    cifar.Format
	}{{fixtures.MiniPython, cifar.FormatPython}, {fixtures.MiniBinary, cifar.FormatBinary}} {
		t.Run(tc.f.String(), func(t *testing.T) {
			p, err := fixtures.WriteCommitted(t.TempDir(), tc.name)
			if err != nil {
				t.Fatal(err)
			}
			a, err := cifar.Open(context.Background(), p)
			if err != nil {
				t.Fatal(err)
			}
			if a.Format() != tc.f {
				t.Fatalf("format %v, want %v", a.Format(), tc.f)
			}
			m := a.Meta()
			if len(m.FineLabelNames) != 100 || len(m.CoarseLabelNames) != 20 || m.FineLabelNames[8] != "bicycle" || m.FineLabelNames[48] != "motorcycle" || m.CoarseLabelNames[18] != "vehicles_1" {
				t.Fatalf("bad meta: %d fine, %d coarse", len(m.FineLabelNames), len(m.CoarseLabelNames))
			}
			recs := collect(t, a)
			checkAgainst(t, recs, ds, tc.f)
			// Enough for a toy classifier, and other labels to filter out.
			count := map[string]int{}
			for _, r := range recs {
				switch r.FineLabel {
				case 8, 48:
					count[r.Split+m.FineLabelNames[r.FineLabel]]++
				default:
					count[r.Split+"other"]++
				}
			}
			if count["trainbicycle"] < 100 || count["trainmotorcycle"] < 100 || count["testbicycle"] < 20 || count["testmotorcycle"] < 20 || count["trainother"] == 0 || count["testother"] == 0 {
				t.Fatalf("class counts %v", count)
			}
			// A second pass gives the same records.
			if again := collect(t, a); len(again) != len(recs) || again[7] != recs[7] {
				t.Fatal("second Records pass differs")
			}
		})
	}
}

func TestFoldersAndPlainTar(t *testing.T) {
	ds := fixtures.Synthetic(fixtures.TinySpec())
	for _, f := range []cifar.Format{cifar.FormatPython, cifar.FormatBinary} {
		t.Run(f.String(), func(t *testing.T) {
			dir := t.TempDir()
			if err := fixtures.WriteFolder(dir, ds, f); err != nil {
				t.Fatal(err)
			}
			sub := filepath.Join(dir, "cifar-100-"+f.String())
			for _, src := range []string{dir, sub} {
				a, err := cifar.Open(context.Background(), src)
				if err != nil {
					t.Fatal(err)
				}
				if a.Format() != f {
					t.Fatalf("%s: format %v", src, a.Format())
				}
				checkAgainst(t, collect(t, a), ds, f)
			}
			// Uncompressed tar.
			var gz bytes.Buffer
			if err := fixtures.WriteArchive(&gz, ds, f, gzip.BestSpeed); err != nil {
				t.Fatal(err)
			}
			zr, err := gzip.NewReader(&gz)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := io.ReadAll(zr)
			if err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(dir, "plain.tar")
			if err := os.WriteFile(p, raw, 0o644); err != nil {
				t.Fatal(err)
			}
			a, err := cifar.Open(context.Background(), p)
			if err != nil {
				t.Fatal(err)
			}
			checkAgainst(t, collect(t, a), ds, f)
		})
	}
}

func TestSplitAndEarlyStop(t *testing.T) {
	ds := fixtures.Synthetic(fixtures.TinySpec())
	for _, f := range []cifar.Format{cifar.FormatPython, cifar.FormatBinary} {
		a, err := cifar.Open(context.Background(), writeArchive(t, ds, f))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		if err := a.Split(context.Background(), cifar.SplitTest, func(r cifar.Record) error {
			if r.Split != cifar.SplitTest {
				t.Fatalf("got a %s record", r.Split)
			}
			n++
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if n != ds.Test.Len() {
			t.Fatalf("%v: %d test records, want %d", f, n, ds.Test.Len())
		}
		stop := errors.New("stop")
		err = a.Records(context.Background(), func(r cifar.Record) error {
			if r.Row == 3 {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) {
			t.Fatalf("%v: callback error not returned: %v", f, err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := a.Records(ctx, func(cifar.Record) error { return nil }); !errors.Is(err, context.Canceled) {
			t.Fatalf("%v: cancelled context: %v", f, err)
		}
		if err := a.Split(context.Background(), "validation", func(cifar.Record) error { return nil }); err == nil {
			t.Fatal("unknown split accepted")
		}
	}
}

// TestRealRoundTrip builds archives from the real images, reads them back,
// and checks pixels, classes and file names against the originals.
func TestRealRoundTrip(t *testing.T) {
	if testing.Short() {
		// 27 s under -race (CI's -race -short step), where it finds
		// nothing: the reader starts no goroutines. go test ./... runs it.
		t.Skip("-short: the real-data round trip runs without -short")
	}
	dir, err := fixtures.RealDir()
	if err != nil {
		t.Skipf("skipping the real-data round trip: %v", err)
	}
	ds, err := fixtures.RealDataset(dir, fixtures.RealOptions{FillerEvery: 10})
	if err != nil {
		t.Fatal(err)
	}
	pixels := map[string][cifar.PixelBytes]byte{} // original RGB by split/file, from the python pass
	for _, f := range []cifar.Format{cifar.FormatPython, cifar.FormatBinary} {
		t.Run(f.String(), func(t *testing.T) {
			a, err := cifar.Open(context.Background(), writeArchive(t, ds, f))
			if err != nil {
				t.Fatal(err)
			}
			labels, err := cifar.ResolveLabels(a.Meta(), cifar.DefaultLabels())
			if err != nil {
				t.Fatal(err)
			}
			set := cifar.NewLabelSet(labels)
			got := map[string][]cifar.ManifestEntry{}
			pngs := map[string][]byte{}
			filtered := 0
			if err := a.Records(context.Background(), func(r cifar.Record) error {
				c, ok := set.Class(r.FineLabel)
				if !ok {
					filtered++
					return nil
				}
				got[r.Split] = append(got[r.Split], cifar.ManifestEntry{Row: r.Row, Class: c, Filename: r.Filename})
				b, err := cifar.EncodePNG(&r.Pixels)
				if err != nil {
					return err
				}
				pngs[r.Split+"/"+r.Filename] = b
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if filtered == 0 {
				t.Fatal("no filler records were filtered out")
			}
			for _, split := range []string{"train", "test"} {
				lf, err := os.Open(filepath.Join(dir, split+".lst"))
				if err != nil {
					t.Fatal(err)
				}
				want, err := cifar.ParseManifest(lf)
				lf.Close()
				if err != nil {
					t.Fatal(err)
				}
				if len(got[split]) != len(want) {
					t.Fatalf("%s: %d entries, want %d", split, len(got[split]), len(want))
				}
				for i, w := range want {
					g := got[split][i]
					if g.Class != w.Class {
						t.Fatalf("%s entry %d: class %d, want %d", split, i, g.Class, w.Class)
					}
					if f == cifar.FormatPython && g.Filename != w.Filename {
						t.Fatalf("%s entry %d: file %q, want %q", split, i, g.Filename, w.Filename)
					}
					if _, ok := pixels[split+"/"+w.Filename]; ok && f == cifar.FormatBinary {
						// Pixels were compared with the python version's
						// round trip; check the binary records match them.
						if pixels[split+"/"+w.Filename] != pngPixels(t, pngs[split+"/"+g.Filename]) {
							t.Fatalf("%s/%s: binary record pixels differ", split, w.Filename)
						}
						continue
					}
					// The PNG we wrote decodes to exactly the original RGB.
					orig, err := os.ReadFile(filepath.Join(dir, split, w.Filename))
					if err != nil {
						t.Fatal(err)
					}
					op := pngPixels(t, orig)
					if op != pngPixels(t, pngs[split+"/"+g.Filename]) {
						t.Fatalf("%s/%s: pixels differ from the original PNG", split, w.Filename)
					}
					pixels[split+"/"+w.Filename] = op
				}
				var buf bytes.Buffer
				if err := cifar.WriteManifest(&buf, got[split]); err != nil {
					t.Fatal(err)
				}
				if f == cifar.FormatPython {
					// Same lines as the real manifest but for the row numbers.
					wantLines := strings.Split(strings.TrimSpace(string(must(os.ReadFile(filepath.Join(dir, split+".lst"))))), "\n")
					gotLines := strings.Split(strings.TrimSpace(buf.String()), "\n")
					for i := range wantLines {
						if after(wantLines[i]) != after(gotLines[i]) {
							t.Fatalf("%s.lst line %d: %q, want %q (ignoring the row)", split, i+1, gotLines[i], wantLines[i])
						}
					}
				}
			}
			t.Logf("%v: %d train + %d test real images round-tripped, %d filler records filtered", f, len(got["train"]), len(got["test"]), filtered)
		})
	}
}

// pngPixels decodes a PNG with the standard library alone and returns its
// R, G, B planes (the real PNGs are RGBA with alpha 255: alpha is checked
// and dropped).
func pngPixels(t *testing.T, b []byte) [cifar.PixelBytes]byte {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var p [cifar.PixelBytes]byte
	if img.Bounds() != image.Rect(0, 0, 32, 32) {
		t.Fatalf("bounds %v", img.Bounds())
	}
	for y := 0; y < 32; y++ {
		for x := 0; x < 32; x++ {
			c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			if c.A != 255 {
				t.Fatalf("pixel (%d,%d) has alpha %d", x, y, c.A)
			}
			p[y*32+x], p[1024+y*32+x], p[2048+y*32+x] = c.R, c.G, c.B
		}
	}
	return p
}

func after(line string) string {
	_, rest, _ := strings.Cut(line, "\t")
	return rest
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestRealPNGsAreRGBA documents the input the round trip starts from.
func TestRealPNGsAreRGBA(t *testing.T) {
	dir, err := fixtures.RealDir()
	if err != nil {
		t.Skipf("skipping: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "train", "bicycle_s_000017.png"))
	if err != nil {
		t.Skipf("skipping: %v", err)
	}
	if b[25] != 6 {
		t.Fatalf("colour type %d, want 6 (RGBA)", b[25])
	}
}

func tarGz(t testing.TB, files map[string][]byte, order []string) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, name := range order {
		b := files[name]
		if err := tw.WriteHeader(&tar.Header{Name: name, Size: int64(len(b)), Mode: 0o644, Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write(b)
	}
	tw.Close()
	gz.Close()
	return buf.Bytes()
}

func writeTemp(t testing.TB, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func openAndRead(p string) error {
	a, err := cifar.Open(context.Background(), p)
	if err != nil {
		return err
	}
	return a.Records(context.Background(), func(cifar.Record) error { return nil })
}

func wantErr(t *testing.T, err error, subs ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one containing %q", subs)
	}
	for _, s := range subs {
		if !strings.Contains(err.Error(), s) {
			t.Fatalf("error %q does not contain %q", err, s)
		}
	}
	t.Logf("error (as wanted): %v", err)
}

func TestBadArchives(t *testing.T) {
	full, err := fixtures.Committed(fixtures.MiniPython)
	if err != nil {
		t.Fatal(err)
	}
	tiny := fixtures.Synthetic(fixtures.TinySpec())
	meta := fixtures.PickleMeta(tiny.Meta)
	train := fixtures.PickleBatch(&tiny.Train, "training batch 1 of 1")
	test := fixtures.PickleBatch(&tiny.Test, "testing batch 1 of 1")

	t.Run("truncated gzip", func(t *testing.T) {
		for _, cut := range []int{len(full) / 2, len(full) - 5, 100} {
			wantErr(t, openAndRead(writeTemp(t, "cut.tar.gz", full[:cut])), "truncated or corrupt")
		}
	})
	t.Run("corrupt gzip", func(t *testing.T) {
		bad := bytes.Clone(full)
		bad[len(bad)-6] ^= 0xff // CRC32 trailer
		wantErr(t, openAndRead(writeTemp(t, "crc.tar.gz", bad)), "corrupt")
	})
	t.Run("not an archive", func(t *testing.T) {
		wantErr(t, openAndRead(writeTemp(t, "x.tar.gz", []byte("hello, world"))), "not a gzip-compressed or plain tar")
	})
	t.Run("missing members", func(t *testing.T) {
		p := writeTemp(t, "m.tar.gz", tarGz(t, map[string][]byte{"cifar-100-python/train": train, "cifar-100-python/readme": []byte("x")},
			[]string{"cifar-100-python/train", "cifar-100-python/readme"}))
		wantErr(t, openAndRead(p), "missing cifar-100-python/test, cifar-100-python/meta", "found: cifar-100-python/train, cifar-100-python/readme")
		p = writeTemp(t, "e.tar.gz", tarGz(t, nil, nil))
		wantErr(t, openAndRead(p), "missing", "found: nothing")
	})
	t.Run("cifar-10", func(t *testing.T) {
		p := writeTemp(t, "c10.tar.gz", tarGz(t, map[string][]byte{"cifar-10-batches-py/data_batch_1": []byte("x")}, []string{"cifar-10-batches-py/data_batch_1"}))
		wantErr(t, openAndRead(p), "CIFAR-10, not CIFAR-100")
	})
	t.Run("bad member", func(t *testing.T) {
		bad := bytes.Clone(test)
		i := bytes.Index(bad, []byte("M\x00\x0c\x86")) // shape (N, 3072)
		bad[i+1] = 0x01                                // (N, 3073)
		p := writeTemp(t, "s.tar.gz", tarGz(t, map[string][]byte{"c/train": train, "c/test": bad, "c/meta": meta}, []string{"c/train", "c/test", "c/meta"}))
		wantErr(t, openAndRead(p), "c/test", "shape (11, 3073), want (N, 3072)")
	})
	t.Run("binary size", func(t *testing.T) {
		dir := t.TempDir()
		if err := fixtures.WriteFolder(dir, tiny, cifar.FormatBinary); err != nil {
			t.Fatal(err)
		}
		f, _ := os.OpenFile(filepath.Join(dir, "cifar-100-binary", "test.bin"), os.O_APPEND|os.O_WRONLY, 0)
		f.Write([]byte("12345"))
		f.Close()
		wantErr(t, openAndRead(dir), "test.bin", "not a multiple of the 3074-byte record size")
	})
	t.Run("bad label file", func(t *testing.T) {
		dir := t.TempDir()
		if err := fixtures.WriteFolder(dir, tiny, cifar.FormatBinary); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, "cifar-100-binary", "coarse_label_names.txt"), []byte("a\nb\n"), 0o644)
		wantErr(t, openAndRead(dir), "coarse_label_names.txt: 2 names, want 20")
	})
	t.Run("missing source", func(t *testing.T) {
		wantErr(t, openAndRead(filepath.Join(t.TempDir(), "nope.tar.gz")), "not a URL", "no such file")
	})
}
