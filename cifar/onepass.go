package cifar

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
)

// ErrNotOnePass is returned by StreamOnce for sources it cannot read in a
// single pass: folders and the binary version (whose file names need the
// label names before the first record).
var ErrNotOnePass = errors.New("cifar: this source cannot be read in one pass")

// OpenOnePass is Open without the up-front scan, for StreamOnce: a local
// archive file (or a downloaded URL) is only checked to exist. Meta and
// Format are unknown until StreamOnce has run.
func OpenOnePass(ctx context.Context, source string, opts ...Option) (*Archive, error) {
	a, dir, err := locate(ctx, source, opts)
	if err != nil {
		return nil, err
	}
	if dir {
		return nil, ErrNotOnePass
	}
	return a, nil
}

// StreamOnce reads a python-version archive opened with OpenOnePass in a
// single pass: records of train and test go to fn as their pickles are met
// in the archive, and the label names are read from meta wherever it
// stands. Open + Records decompress the archive twice, because meta is the
// last member of the published archive and records are handed out only
// after it was read; StreamOnce halves that, at a price the caller must
// pay: the records' label indices are checked against the published
// bounds (100 fine, 20 coarse) only, so the caller must check them against
// the returned Meta before it acts on them for good.
//
// It returns ErrNotOnePass, before any record was handed out, for the
// binary version; the caller then uses Open + Records.
func (a *Archive) StreamOnce(ctx context.Context, fn func(Record) error) (Meta, error) {
	tr, raw, closeFn, err := a.openStream()
	if err != nil {
		return Meta{}, err
	}
	defer closeFn()
	bounded := func(r Record) error {
		if r.FineLabel >= NumFine || r.CoarseLabel >= NumCoarse {
			return fmt.Errorf("row %d has labels %d/%d beyond CIFAR-100's %d fine and %d coarse labels", r.Row, r.FineLabel, r.CoarseLabel, NumFine, NumCoarse)
		}
		return fn(r)
	}
	seen := map[string]string{}
	var names []string
	var meta Meta
	for i := 0; ; i++ {
		if err := ctx.Err(); err != nil {
			return Meta{}, err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Meta{}, a.streamErr(err, "reading the tar headers")
		}
		f, role, name := roleOf(hdr)
		names = append(names, hdr.Name)
		if role == "" {
			continue
		}
		if f == FormatBinary {
			if len(seen) > 0 {
				return Meta{}, fmt.Errorf("%s: holds both the python and the binary version; give one", a.describe())
			}
			return Meta{}, ErrNotOnePass
		}
		if prev, dup := seen[role]; dup {
			return Meta{}, fmt.Errorf("%s: has both %s and %s", a.describe(), prev, name)
		}
		seen[role] = name
		a.format = FormatPython
		switch role {
		case roleMeta:
			if hdr.Size > maxMetaSize {
				return Meta{}, fmt.Errorf("%s: %s is %d bytes, too big for a label file", a.describe(), hdr.Name, hdr.Size)
			}
			if meta, err = DecodePickleMeta(ctx, tr); err != nil {
				return Meta{}, fmt.Errorf("%s: %s: %w", a.describe(), hdr.Name, err)
			}
		case roleTrain, roleTest:
			rows, err := DecodePickleBatch(ctx, tr, role, a.tempDir, bounded)
			if err != nil {
				if errors.Is(err, io.ErrUnexpectedEOF) {
					return Meta{}, a.streamErr(err, hdr.Name)
				}
				return Meta{}, fmt.Errorf("%s: %s: %w", a.describe(), hdr.Name, err)
			}
			if rows == 0 {
				return Meta{}, fmt.Errorf("%s: %s has no records", a.describe(), hdr.Name)
			}
		}
	}
	var missing []string
	for _, m := range expectedMembers(FormatPython) {
		if _, role := memberRole(m); seen[role] == "" {
			missing = append(missing, folderName(FormatPython)+"/"+m)
		}
	}
	if len(missing) > 0 {
		if len(names) > 8 {
			names = append(names[:8:8], "...")
		}
		return Meta{}, fmt.Errorf("%s: not a CIFAR-100 archive: missing %s (found: %s)", a.describe(), strings.Join(missing, ", "), listOrNone(names))
	}
	if _, err := io.Copy(io.Discard, raw); err != nil {
		return Meta{}, a.streamErr(err, "reading to the end of the archive")
	}
	a.meta = meta
	return meta, nil
}
