package classifier

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// LSTEntry is one line of a SageMaker/MXNet .lst manifest:
// index<TAB>label<TAB>relative/path.
type LSTEntry struct {
	Index int64
	Label int
	Path  string
	Line  int // 1-based line number, for error messages
}

// ParseLST reads a .lst manifest. Blank lines are skipped. Labels may be
// written as integers or as floats with an integral value ("1.000000", as
// im2rec writes them). Multi-label lines (more than one label column) are
// refused. name is used in error messages.
func ParseLST(r io.Reader, name string) ([]LSTEntry, error) {
	var out []LSTEntry
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	ln := 0
	for sc.Scan() {
		ln++
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) < 3 {
			return nil, fmt.Errorf("%s:%d: want index<TAB>label<TAB>path, got %d tab-separated field(s): %q", name, ln, len(f), line)
		}
		if len(f) > 3 {
			return nil, fmt.Errorf("%s:%d: %d label columns; multi-label .lst files are not supported", name, ln, len(f)-2)
		}
		idx, err := strconv.ParseInt(strings.TrimSpace(f[0]), 10, 64)
		if err != nil {
			fv, ferr := strconv.ParseFloat(strings.TrimSpace(f[0]), 64)
			if ferr != nil || fv != math.Trunc(fv) {
				return nil, fmt.Errorf("%s:%d: bad index %q", name, ln, f[0])
			}
			idx = int64(fv)
		}
		lv, err := strconv.ParseFloat(strings.TrimSpace(f[1]), 64)
		if err != nil || lv != math.Trunc(lv) || lv < 0 || lv > 1e6 {
			return nil, fmt.Errorf("%s:%d: bad label %q (want a non-negative integer)", name, ln, f[1])
		}
		p := strings.TrimSpace(f[2])
		if p == "" {
			return nil, fmt.Errorf("%s:%d: empty image path", name, ln)
		}
		out = append(out, LSTEntry{Index: idx, Label: int(lv), Path: p, Line: ln})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no entries (empty .lst file)", name)
	}
	return out, nil
}

// LoadLST reads the manifest at lstPath and decodes every image it names,
// relative to imageDir. Any missing or undecodable image is an error naming
// the file and the manifest line.
func LoadLST(lstPath, imageDir string) ([]Example, error) {
	f, err := os.Open(lstPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	entries, err := ParseLST(f, lstPath)
	if err != nil {
		return nil, err
	}
	return LoadEntries(entries, imageDir, lstPath)
}

// LoadEntries decodes the images named by entries, relative to imageDir.
func LoadEntries(entries []LSTEntry, imageDir, lstName string) ([]Example, error) {
	root, err := filepath.Abs(imageDir)
	if err != nil {
		return nil, err
	}
	out := make([]Example, 0, len(entries))
	for _, e := range entries {
		rel := filepath.FromSlash(e.Path)
		if filepath.IsAbs(rel) || !filepath.IsLocal(rel) {
			return nil, fmt.Errorf("%s:%d: image path %q must be relative and inside the channel", lstName, e.Line, e.Path)
		}
		p := filepath.Join(root, rel)
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", lstName, e.Line, err)
		}
		img, err := DecodeImage("application/x-image", b)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: image %s: %w", lstName, e.Line, p, err)
		}
		out = append(out, Example{Image: img, Label: e.Label, Name: e.Path})
	}
	return out, nil
}
