package sconesdocker

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"time"
)

// ContextTar writes a Docker build context: a tar whose entries carry a
// fixed time (the Unix epoch) and owner (root), in the order written,
// hashed with SHA-256 as they are written. The same entries in the same
// order always give the same bytes and the same sum, which is what lets an
// image be tagged or labelled by its contents.
type ContextTar struct {
	tw *tar.Writer
	h  hash.Hash
}

// NewContextTar writes a build context to w.
func NewContextTar(w io.Writer) *ContextTar {
	h := sha256.New()
	return &ContextTar{tw: tar.NewWriter(io.MultiWriter(w, h)), h: h}
}

func contextHeader(name string, typ byte, mode, size int64) *tar.Header {
	return &tar.Header{Name: name, Typeflag: typ, Mode: mode, Size: size, ModTime: time.Unix(0, 0).UTC(), Format: tar.FormatPAX}
}

// Dir adds a directory; name ends in "/".
func (c *ContextTar) Dir(name string, mode int64) error {
	return c.tw.WriteHeader(contextHeader(name, tar.TypeDir, mode, 0))
}

// Bytes adds a regular file holding data.
func (c *ContextTar) Bytes(name string, mode int64, data []byte) error {
	if err := c.tw.WriteHeader(contextHeader(name, tar.TypeReg, mode, int64(len(data)))); err != nil {
		return err
	}
	_, err := c.tw.Write(data)
	return err
}

// File adds a regular file with the contents of the file at path.
func (c *ContextTar) File(name string, mode int64, path string) error {
	src, err := os.Open(path)
	if err != nil {
		return err
	}
	defer src.Close()
	fi, err := src.Stat()
	if err != nil {
		return err
	}
	if err := c.tw.WriteHeader(contextHeader(name, tar.TypeReg, mode, fi.Size())); err != nil {
		return err
	}
	if n, err := io.Copy(c.tw, src); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	} else if n != fi.Size() {
		return fmt.Errorf("%s: changed size while read (%d bytes, then %d)", path, fi.Size(), n)
	}
	return nil
}

// Close ends the tar and returns the hex SHA-256 of all it wrote.
func (c *ContextTar) Close() (string, error) {
	if err := c.tw.Close(); err != nil {
		return "", err
	}
	return hex.EncodeToString(c.h.Sum(nil)), nil
}
