package classifier

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tgzEntry is one member of a test archive: a regular file unless typ is
// set (link entries point at "elsewhere").
type tgzEntry struct {
	name string
	typ  byte
	data string
}

func modelTarGz(t testing.TB, entries ...tgzEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: 0o644, Typeflag: e.typ}
		switch e.typ {
		case 0:
			h.Typeflag, h.Size = tar.TypeReg, int64(len(e.data))
		case tar.TypeSymlink, tar.TypeLink:
			h.Linkname = "elsewhere"
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			tw.Write([]byte(e.data))
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	return buf.Bytes()
}

// LoadModelDir falls back to the model.tar.gz a training job uploads, and
// finds the model file at any depth in it.
func TestLoadModelDirFromTarGz(t *testing.T) {
	m, _ := trainSmall(t, 3)
	var model bytes.Buffer
	if err := m.Save(&model); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tgz := modelTarGz(t, tgzEntry{name: "model/", typ: tar.TypeDir}, tgzEntry{name: "model/" + ModelFileName, data: model.String()})
	if err := os.WriteFile(filepath.Join(dir, "model.tar.gz"), tgz, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := LoadModelDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := m.MarshalBinary()
	b, _ := got.MarshalBinary()
	if !bytes.Equal(a, b) {
		t.Fatal("the model loaded from model.tar.gz differs from the one saved")
	}

	// A damaged archive is named, with what is wrong with it.
	if err := os.WriteFile(filepath.Join(dir, "model.tar.gz"), tgz[:len(tgz)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadModelDir(dir); err == nil || !strings.Contains(err.Error(), "model.tar.gz") || !strings.Contains(err.Error(), "corrupt") {
		t.Fatalf("half an archive: %v", err)
	}
}

func TestExtractFromTarGzErrors(t *testing.T) {
	name := ModelFileName
	good := modelTarGz(t, tgzEntry{name: "a/" + name, data: "weights"})
	// A header that claims more bytes than the archive holds.
	var short bytes.Buffer
	zw := gzip.NewWriter(&short)
	tw := tar.NewWriter(zw)
	tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Typeflag: tar.TypeReg, Size: 100})
	tw.Write([]byte("only this"))
	tw.Flush() // writes the short data without the padding Close would check
	zw.Close()

	for _, tc := range []struct {
		what string
		data []byte
		want string // in the error; "" for success
	}{
		{"nested", good, ""},
		{"not gzip", []byte("PK\x03\x04 a zip"), "not gzip data"},
		{"empty", nil, "not gzip data"},
		{"missing", modelTarGz(t, tgzEntry{name: "other", data: "x"}), "archive has no " + name + " (1 entries)"},
		{"links and directories of that name do not count", modelTarGz(t, tgzEntry{name: name, typ: tar.TypeSymlink}, tgzEntry{name: "h/" + name, typ: tar.TypeLink}, tgzEntry{name: "d/" + name + "/", typ: tar.TypeDir}), "archive has no"},
		{"truncated gzip", good[:len(good)-12], "truncated or corrupt"},
		{"entry shorter than its header", short.Bytes(), `entry "` + name + `": truncated or corrupt after 9 of 100 bytes`},
	} {
		got, err := extractFromTarGz(tc.data, name)
		switch {
		case tc.want == "" && (err != nil || string(got) != "weights"):
			t.Errorf("%s: %q, %v", tc.what, got, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: error %v, want it to say %q", tc.what, err, tc.want)
		}
	}
}

// FuzzExtractFromTarGz feeds the model.tar.gz reader arbitrary bytes: it
// must never panic, and what it returns must be a regular entry of that
// name in the archive, read whole.
func FuzzExtractFromTarGz(f *testing.F) {
	f.Add(modelTarGz(f, tgzEntry{name: "model/" + ModelFileName, data: "weights"}))
	f.Add(modelTarGz(f, tgzEntry{name: ModelFileName, typ: tar.TypeSymlink}, tgzEntry{name: "x/" + ModelFileName, data: "w"}))
	f.Add(modelTarGz(f, tgzEntry{name: "other", data: "x"}))
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := extractFromTarGz(data, ModelFileName)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		// An independent scan: the first regular entry of that name.
		zr, zerr := gzip.NewReader(bytes.NewReader(data))
		if zerr != nil {
			t.Fatalf("accepted what is not gzip: %v", zerr)
		}
		tr := tar.NewReader(zr)
		for {
			h, err := tr.Next()
			if err != nil {
				t.Fatalf("returned %d bytes but a plain scan finds no such entry: %v", len(got), err)
			}
			if h.Typeflag == tar.TypeReg && filepath.Base(filepath.Clean(h.Name)) == ModelFileName {
				want, err := io.ReadAll(tr)
				if err != nil || !bytes.Equal(want, got) {
					t.Fatalf("returned %q, the entry %q holds %q (%v)", got, h.Name, want, err)
				}
				return
			}
		}
	})
}
