package monitor

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// DefaultOutDir is where the CLI writes the report unless told otherwise.
const DefaultOutDir = "scones-out"

// Report file names, in the order WriteReport writes them.
const (
	ChartPNG    = "monitor.png"
	ChartSVG    = "monitor.svg"
	SummaryJSON = "summary.json"
)

// WriteReport writes the report for ds and its summary s into dir
// (created if needed): monitor.png and monitor.svg (the figure, at
// s.Threshold) and summary.json (s, indented). Each file is written to a
// temporary name and renamed into place, so a failed report never leaves
// a truncated file that looks complete. It returns the paths written.
func WriteReport(dir string, ds *Dataset, s Summary) (files []string, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("report dir: %w", err)
	}
	for _, f := range []struct {
		name   string
		render func(*bytes.Buffer) error
	}{
		{ChartPNG, func(b *bytes.Buffer) error { return WriteChart(b, "png", ds, s) }},
		{ChartSVG, func(b *bytes.Buffer) error { return WriteChart(b, "svg", ds, s) }},
		{SummaryJSON, func(b *bytes.Buffer) error {
			enc := json.NewEncoder(b)
			enc.SetIndent("", "  ")
			if err := enc.Encode(s); err != nil {
				return fmt.Errorf("encoding summary: %w", err)
			}
			return nil
		}},
	} {
		var buf bytes.Buffer
		if err := f.render(&buf); err != nil {
			return files, err
		}
		path := filepath.Join(dir, f.name)
		if err := writeFileAtomic(path, buf.Bytes()); err != nil {
			return files, err
		}
		files = append(files, path)
	}
	return files, nil
}

// writeFileAtomic writes data to a temporary file in path's directory and
// renames it to path.
func writeFileAtomic(path string, data []byte) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
