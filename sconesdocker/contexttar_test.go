package sconesdocker

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestContextTar(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if err := os.WriteFile(bin, []byte("\x7fELF program"), 0o600); err != nil {
		t.Fatal(err)
	}
	write := func() ([]byte, string) {
		var buf bytes.Buffer
		ct := NewContextTar(&buf)
		if err := ct.Bytes("Dockerfile", 0o644, []byte("FROM scratch\n")); err != nil {
			t.Fatal(err)
		}
		if err := ct.Dir("rootfs/tmp/", 0o1777); err != nil {
			t.Fatal(err)
		}
		if err := ct.File("rootfs/bin/p", 0o755, bin); err != nil {
			t.Fatal(err)
		}
		sum, err := ct.Close()
		if err != nil {
			t.Fatal(err)
		}
		return buf.Bytes(), sum
	}
	data, sum := write()
	if h := sha256.Sum256(data); hex.EncodeToString(h[:]) != sum {
		t.Errorf("sum %s is not the SHA-256 of the bytes written", sum)
	}
	// The file's own time and mode do not reach the tar.
	os.Chmod(bin, 0o777)
	os.Chtimes(bin, time.Now().Add(-time.Hour), time.Now().Add(-time.Hour))
	if again, sum2 := write(); sum2 != sum || !bytes.Equal(again, data) {
		t.Error("the same entries gave other bytes")
	}
	type entry struct {
		typ        byte
		mode       int64
		body       string
		uid, epoch bool
	}
	want := map[string]entry{
		"Dockerfile":   {tar.TypeReg, 0o644, "FROM scratch\n", true, true},
		"rootfs/tmp/":  {tar.TypeDir, 0o1777, "", true, true},
		"rootfs/bin/p": {tar.TypeReg, 0o755, "\x7fELF program", true, true},
	}
	tr := tar.NewReader(bytes.NewReader(data))
	n := 0
	for ; ; n++ {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(tr)
		got := entry{h.Typeflag, h.Mode, string(body), h.Uid == 0 && h.Gid == 0, h.ModTime.Unix() == 0}
		if got != want[h.Name] {
			t.Errorf("%s: %+v, want %+v", h.Name, got, want[h.Name])
		}
	}
	if n != len(want) {
		t.Errorf("%d entries, want %d", n, len(want))
	}
	if err := NewContextTar(io.Discard).File("x", 0o755, filepath.Join(dir, "missing")); err == nil {
		t.Error("a missing file was added")
	}
}
