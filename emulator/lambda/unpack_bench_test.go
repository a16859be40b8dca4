package lambda

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/scones/scones/lambdapkg"
)

// BenchmarkUnpack measures what a cold start with new code pays before
// the process can start: inflating and writing the test function's zip (a
// Go bootstrap of about 6 MB), by the service and, as the floor, by
// Info-ZIP's unzip on the same file.
func BenchmarkUnpack(b *testing.B) {
	zipPath, _, err := lambdapkg.Build(context.Background(), lambdapkg.Options{Function: "./emulator/lambda/testdata/testfn", OutDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	data, err := os.ReadFile(zipPath)
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	b.Run("service", func(b *testing.B) {
		s := &Service{}
		for b.Loop() {
			if _, err := s.unpack("bench", data, filepath.Join(fresh(b, dir), "code")); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("unzip", func(b *testing.B) {
		unzip, err := exec.LookPath("unzip")
		if err != nil {
			b.Skip("unzip is not installed")
		}
		for b.Loop() {
			if out, err := exec.Command(unzip, "-q", zipPath, "-d", fresh(b, dir)).CombinedOutput(); err != nil {
				b.Fatalf("%v: %s", err, out)
			}
		}
	})
}

// fresh returns a new empty directory under dir.
func fresh(b *testing.B, dir string) string {
	d, err := os.MkdirTemp(dir, "")
	if err != nil {
		b.Fatal(err)
	}
	return d
}
