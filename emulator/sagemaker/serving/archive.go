package serving

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
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
// paths that escape it.
func ExtractTarGz(data []byte, dir string) error {
	gz, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return err
	}
	tr := tar.NewReader(gz)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if strings.Trim(hdr.Name, "./") == "" {
			continue
		}
		dst, err := SafeJoin(dir, hdr.Name)
		if err != nil {
			return err
		}
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return err
			}
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
			if err != nil {
				return err
			}
		}
	}
}
