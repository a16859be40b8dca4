package serving

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tarGz builds a model.tar.gz from (name, type, body) entries.
func tarGz(tb testing.TB, entries ...[3]string) []byte {
	tb.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		h := &tar.Header{Name: e[0], Typeflag: e[1][0], Mode: 0o644, Size: int64(len(e[2]))}
		switch h.Typeflag {
		case tar.TypeSymlink, tar.TypeLink:
			h.Linkname, h.Size = e[2], 0
		case tar.TypeDir:
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			tb.Fatal(err)
		}
		if h.Size > 0 {
			tw.Write([]byte(e[2]))
		}
	}
	tw.Close()
	gz.Close()
	return buf.Bytes()
}

// FuzzExtractTarGz unpacks arbitrary archives: it must not panic, and
// whatever the archive holds (absolute names, "..", links), nothing may be
// written outside the directory it unpacks into.
func FuzzExtractTarGz(f *testing.F) {
	reg, dir, sym, hard := string(rune(tar.TypeReg)), string(rune(tar.TypeDir)), string(rune(tar.TypeSymlink)), string(rune(tar.TypeLink))
	f.Add(tarGz(f, [3]string{"model/", dir, ""}, [3]string{"model/params.json", reg, `{"w":[1,2]}`}))
	f.Add(tarGz(f, [3]string{"../evil", reg, "x"}, [3]string{"/abs/evil", reg, "y"}, [3]string{"a/../../evil2", reg, "z"}))
	f.Add(tarGz(f, [3]string{"link", sym, "../../outside"}, [3]string{"link/through", reg, "w"}, [3]string{"hard", hard, "/etc/passwd"}))
	f.Add(tarGz(f, [3]string{"./", dir, ""}, [3]string{".", reg, "dot"}))
	f.Add([]byte("\x1f\x8b not really gzip"))
	f.Fuzz(func(t *testing.T, data []byte) {
		root := t.TempDir()
		into := filepath.Join(root, "model")
		if err := os.Mkdir(into, 0o755); err != nil {
			t.Fatal(err)
		}
		ExtractTarGz(data, into)
		err := filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
			if err != nil {
				return err
			}
			if p != root && p != into && !strings.HasPrefix(p, into+string(filepath.Separator)) {
				t.Errorf("written outside the model directory: %s", p)
			}
			if info.Mode()&os.ModeSymlink != 0 {
				t.Errorf("a link was made: %s", p)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// Malformed archives are refused with an error that says what is wrong
// and, past the gzip header, in which entry.
func TestExtractTarGzErrors(t *testing.T) {
	good := tarGz(t, [3]string{"model/params.json", string(rune(tar.TypeReg)), strings.Repeat("w", 5000)})
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"not gzip", []byte("PK\x03\x04"), "gzip"},
		{"truncated", good[:len(good)/2], ""},
	} {
		err := ExtractTarGz(c.data, t.TempDir())
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "model archive") {
			t.Errorf("%s: %v, want an error naming the model archive and %q", c.name, err, c.want)
		}
	}
	if err := ExtractTarGz(good, t.TempDir()); err != nil {
		t.Fatalf("a good archive: %v", err)
	}
}
