package cifar_test

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scones/scones/cifar"
	"github.com/scones/scones/fixtures"
)

// The full-size benchmarks write two ~170 MB archives; they run only with
// SCONES_BENCH_FULL=1:
//
//	SCONES_BENCH_FULL=1 go test -run '^$' -bench Full -benchtime 1x ./cifar/
func fullArchives(b *testing.B) map[cifar.Format]string {
	b.Helper()
	if os.Getenv("SCONES_BENCH_FULL") != "1" {
		b.Skip("set SCONES_BENCH_FULL=1 to generate and read full-size (50,000 + 10,000 record) archives")
	}
	dir := b.TempDir()
	out := map[cifar.Format]string{}
	for _, f := range []cifar.Format{cifar.FormatPython, cifar.FormatBinary} {
		p := filepath.Join(dir, "cifar-100-"+f.String()+".tar.gz")
		start := time.Now()
		if err := fixtures.WriteArchiveFile(p, fixtures.Synthetic(fixtures.FullSpec()), f, gzip.DefaultCompression); err != nil {
			b.Fatal(err)
		}
		fi, _ := os.Stat(p)
		b.Logf("generated %s: %d bytes in %v", p, fi.Size(), time.Since(start).Round(time.Millisecond))
		out[f] = p
	}
	return out
}

// memWatch tracks the peak resident set (VmHWM, reset through
// /proc/self/clear_refs) and the peak Go heap (sampled every 2 ms).
type memWatch struct {
	stop     chan struct{}
	wg       sync.WaitGroup
	peakHeap uint64
}

func startMemWatch() *memWatch {
	runtime.GC()
	debug.FreeOSMemory()
	os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) // reset VmHWM (Linux)
	w := &memWatch{stop: make(chan struct{})}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			w.peakHeap = max(w.peakHeap, s[0].Value.Uint64())
			select {
			case <-w.stop:
				return
			case <-t.C:
			}
		}
	}()
	return w
}

func (w *memWatch) report(b *testing.B) {
	close(w.stop)
	w.wg.Wait()
	b.ReportMetric(float64(w.peakHeap)/(1<<20), "peak-heap-MB")
	if hwm := vmHWM(); hwm > 0 {
		b.ReportMetric(float64(hwm)/(1<<20), "peak-RSS-MB")
	}
}

func vmHWM() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return -1
}

func BenchmarkFull(b *testing.B) {
	paths := fullArchives(b)
	for _, f := range []cifar.Format{cifar.FormatPython, cifar.FormatBinary} {
		p := paths[f]
		fi, _ := os.Stat(p)
		b.Run("Records/"+f.String(), func(b *testing.B) {
			b.SetBytes(fi.Size())
			w := startMemWatch()
			for i := 0; i < b.N; i++ {
				a, err := cifar.Open(context.Background(), p)
				if err != nil {
					b.Fatal(err)
				}
				n, sum := 0, 0
				if err := a.Records(context.Background(), func(r cifar.Record) error {
					n++
					sum += int(r.Pixels[0])
					return nil
				}); err != nil {
					b.Fatal(err)
				}
				if n != 60000 {
					b.Fatalf("%d records", n)
				}
			}
			w.report(b)
		})
		b.Run("RecordsPNG/"+f.String(), func(b *testing.B) {
			// What stage does per record, minus the upload.
			b.SetBytes(fi.Size())
			w := startMemWatch()
			for i := 0; i < b.N; i++ {
				a, err := cifar.Open(context.Background(), p)
				if err != nil {
					b.Fatal(err)
				}
				set := cifar.NewLabelSet([]int{8, 48})
				if err := a.Records(context.Background(), func(r cifar.Record) error {
					if _, ok := set.Class(r.FineLabel); !ok {
						return nil
					}
					_, err := cifar.EncodePNG(&r.Pixels)
					return err
				}); err != nil {
					b.Fatal(err)
				}
			}
			w.report(b)
		})
		b.Run("GoGzipFloor/"+f.String(), func(b *testing.B) {
			b.SetBytes(fi.Size())
			w := startMemWatch()
			for i := 0; i < b.N; i++ {
				fh, err := os.Open(p)
				if err != nil {
					b.Fatal(err)
				}
				zr, err := gzip.NewReader(bufio.NewReader(fh))
				if err != nil {
					b.Fatal(err)
				}
				if _, err := io.Copy(io.Discard, zr); err != nil {
					b.Fatal(err)
				}
				fh.Close()
			}
			w.report(b)
		})
		b.Run("GzipCmdFloor/"+f.String(), func(b *testing.B) {
			if _, err := exec.LookPath("gzip"); err != nil {
				b.Skip("no gzip command")
			}
			b.SetBytes(fi.Size())
			for i := 0; i < b.N; i++ {
				cmd := exec.Command("gzip", "-dc", p)
				cmd.Stdout = io.Discard
				if err := cmd.Run(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	// For the package documentation's argument: a general unpickler on the
	// full training pickle.
	b.Run("Gopickle/train", func(b *testing.B) {
		w := startMemWatch()
		for i := 0; i < b.N; i++ {
			fh, err := os.Open(paths[cifar.FormatPython])
			if err != nil {
				b.Fatal(err)
			}
			zr, _ := gzip.NewReader(bufio.NewReader(fh))
			tr := tar.NewReader(zr)
			for {
				h, err := tr.Next()
				if err != nil {
					b.Fatal(err)
				}
				if strings.HasSuffix(h.Name, "/train") {
					break
				}
			}
			v, err := gopickleLoad(bufio.NewReader(tr))
			if err != nil {
				b.Fatal(err)
			}
			runtime.KeepAlive(v)
			fh.Close()
		}
		w.report(b)
	})
}
