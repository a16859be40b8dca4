package cifar

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// ManifestEntry is one line of a SageMaker image-classification .lst
// manifest: row<TAB>class<TAB>filename.
type ManifestEntry struct {
	Row      int    // the record's index in its CIFAR split
	Class    int    // output class, 0.. in the order of the selected labels
	Filename string // file name (relative to the channel's prefix)
}

// String formats the entry as a manifest line without the newline.
func (e ManifestEntry) String() string {
	return strconv.Itoa(e.Row) + "\t" + strconv.Itoa(e.Class) + "\t" + e.Filename
}

// WriteManifest writes entries as .lst lines, each ending in "\n".
func WriteManifest(w io.Writer, entries []ManifestEntry) error {
	bw := bufio.NewWriter(w)
	for _, e := range entries {
		if strings.ContainsAny(e.Filename, "\t\n\r") || e.Filename == "" {
			return fmt.Errorf("manifest: bad file name %q", e.Filename)
		}
		bw.WriteString(e.String())
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// ParseManifest reads a .lst manifest. Blank lines are skipped.
func ParseManifest(r io.Reader) ([]ManifestEntry, error) {
	var out []ManifestEntry
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			return nil, fmt.Errorf("manifest line %d: %d tab-separated fields, want 3 (row, class, filename)", n, len(f))
		}
		row, err1 := strconv.Atoi(f[0])
		class, err2 := strconv.Atoi(f[1])
		// A carriage return inside the name (only a trailing one ends a
		// line) is one WriteManifest would refuse to write.
		if err1 != nil || err2 != nil || row < 0 || class < 0 || f[2] == "" || strings.ContainsRune(f[2], '\r') {
			return nil, fmt.Errorf("manifest line %d: bad entry %q", n, line)
		}
		out = append(out, ManifestEntry{Row: row, Class: class, Filename: f[2]})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	return out, nil
}
