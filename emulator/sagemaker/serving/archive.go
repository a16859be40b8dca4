package serving

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// SafeJoin joins a relative (slash-separated) path under dir, refusing
// paths that would escape it.
func SafeJoin(dir, rel string) (string, error) {
	clean := path.Clean("/" + rel)
	if clean == "/" {
		return "", errors.New("empty path")
	}
	return filepath.Join(dir, filepath.FromSlash(clean[1:])), nil
}

// ExtractTarGz unpacks regular files and directories under dir, refusing
// paths that escape it; links and other entry types are skipped. Errors
// name what was wrong and the entry it was found in.
func ExtractTarGz(data []byte, dir string) error {
	gz, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("model archive: not gzip data: %w", err)
	}
	tr := tar.NewReader(gz)
	for n := 0; ; n++ {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("model archive: truncated or corrupt after %d entries: %w", n, err)
		}
		if strings.Trim(hdr.Name, "./") == "" {
			continue
		}
		if err := extractEntry(tr, hdr, dir); err != nil {
			return fmt.Errorf("model archive: entry %q: %w", hdr.Name, err)
		}
	}
}

func extractEntry(tr *tar.Reader, hdr *tar.Header, dir string) error {
	dst, err := SafeJoin(dir, hdr.Name)
	if err != nil {
		return err
	}
	switch hdr.Typeflag {
	case tar.TypeDir:
		return os.MkdirAll(dst, 0o755)
	case tar.TypeReg:
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		f, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
		if err != nil {
			return err
		}
		_, err = io.Copy(f, tr)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return err
	}
	return nil
}
