package cifar

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/klauspost/compress/gzip"
)

// Format is the version of the CIFAR-100 distribution.
type Format int

// Formats.
const (
	FormatPython Format = iota + 1 // cifar-100-python: pickled dicts
	FormatBinary                   // cifar-100-binary: 3,074-byte records
)

func (f Format) String() string {
	switch f {
	case FormatPython:
		return "python"
	case FormatBinary:
		return "binary"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// Member roles and the file names that carry them.
const (
	roleTrain  = "train"
	roleTest   = "test"
	roleMeta   = "meta"
	roleFine   = "fine"
	roleCoarse = "coarse"
)

func memberRole(base string) (Format, string) {
	switch base {
	case "train":
		return FormatPython, roleTrain
	case "test":
		return FormatPython, roleTest
	case "meta":
		return FormatPython, roleMeta
	case "train.bin":
		return FormatBinary, roleTrain
	case "test.bin":
		return FormatBinary, roleTest
	case "fine_label_names.txt":
		return FormatBinary, roleFine
	case "coarse_label_names.txt":
		return FormatBinary, roleCoarse
	}
	return 0, ""
}

func expectedMembers(f Format) []string {
	if f == FormatBinary {
		return []string{"train.bin", "test.bin", "fine_label_names.txt", "coarse_label_names.txt"}
	}
	return []string{"train", "test", "meta"}
}

func folderName(f Format) string {
	if f == FormatBinary {
		return "cifar-100-binary"
	}
	return "cifar-100-python"
}

// maxMetaSize caps the label files read into memory.
const maxMetaSize = 1 << 20

type member struct {
	name string // path inside the archive, or file path for folders
	size int64
	idx  int // position in the archive
}

// Archive is an opened CIFAR-100 source. It holds the label names; records
// are streamed from the file or folder on each call to Records.
type Archive struct {
	source  string
	path    string // local archive file or folder
	dir     bool
	format  Format
	meta    Meta
	members map[string]member
	tempDir string
}

type options struct {
	dl       Downloader
	expect   Checksum
	tempDir  string
	progress func(done, total int64)
}

// Option configures Open.
type Option func(*options)

// WithCacheDir sets the download cache directory (default: DefaultCacheDir).
func WithCacheDir(dir string) Option { return func(o *options) { o.dl.CacheDir = dir } }

// WithChecksum sets the size and MD5 a downloaded archive must have. The
// official URLs have built-in checksums; for other URLs nothing is verified
// unless this option is given.
func WithChecksum(c Checksum) Option { return func(o *options) { o.expect = c } }

// WithProgress sets a download progress callback (total is -1 when unknown).
func WithProgress(fn func(done, total int64)) Option {
	return func(o *options) { o.dl.Progress = fn }
}

// WithHTTPClient sets the HTTP client used for downloads.
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.dl.Client = c } }

// WithTempDir sets where a data array is spooled when a pickle holds its
// labels after its data (default os.TempDir()).
func WithTempDir(dir string) Option { return func(o *options) { o.tempDir = dir } }

// Open opens a CIFAR-100 source: an http(s) URL (downloaded into the cache,
// verified, and resumed if a previous download was interrupted), a local
// archive (.tar.gz or .tar), or a local folder of extracted files (the
// cifar-100-python or cifar-100-binary folder, or its parent). The format is
// detected from the contents. Open reads the label names and checks that all
// expected members exist; records are read by Records.
func Open(ctx context.Context, source string, opts ...Option) (*Archive, error) {
	a, dir, err := locate(ctx, source, opts)
	if err != nil {
		return nil, err
	}
	if dir {
		a.dir = true
		err = a.scanDir()
	} else {
		err = a.scanArchive(ctx)
	}
	if err != nil {
		return nil, err
	}
	return a, nil
}

// locate resolves a source to a local file or folder: a URL is downloaded
// (cached, verified, resumed), anything else must exist.
func locate(ctx context.Context, source string, opts []Option) (a *Archive, dir bool, err error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	a = &Archive{source: source, tempDir: o.tempDir}
	if strings.HasPrefix(source, "http://") || strings.HasPrefix(source, "https://") {
		p, err := o.dl.Download(ctx, source, o.expect)
		if err != nil {
			return nil, false, err
		}
		a.path = p
	} else {
		a.path = source
	}
	fi, err := os.Stat(a.path)
	if err != nil {
		return nil, false, fmt.Errorf("cifar source %q: not a URL, and %w", source, err)
	}
	return a, fi.IsDir(), nil
}

// Meta returns the archive's label names.
func (a *Archive) Meta() Meta {
	return Meta{
		FineLabelNames:   append([]string(nil), a.meta.FineLabelNames...),
		CoarseLabelNames: append([]string(nil), a.meta.CoarseLabelNames...),
	}
}

// Format returns the detected format.
func (a *Archive) Format() Format { return a.format }

// Path returns the local archive file or folder records are read from (for
// a URL, the cached download).
func (a *Archive) Path() string { return a.path }

// Records streams every record of both splits, train then test, each in row
// order, to fn. It stops at the first error, from the archive or from fn
// (returned as is, so errors.Is works). At most one record is in memory at a
// time (see the package documentation for the python version's details).
// Records may be called more than once; each call reads the source again.
func (a *Archive) Records(ctx context.Context, fn func(Record) error) error {
	return a.splits(ctx, []string{SplitTrain, SplitTest}, fn)
}

// Split streams the records of one split (SplitTrain or SplitTest).
func (a *Archive) Split(ctx context.Context, split string, fn func(Record) error) error {
	if split != SplitTrain && split != SplitTest {
		return fmt.Errorf("unknown split %q (want %q or %q)", split, SplitTrain, SplitTest)
	}
	return a.splits(ctx, []string{split}, fn)
}

func (a *Archive) splits(ctx context.Context, splits []string, fn func(Record) error) error {
	if a.dir {
		for _, s := range splits {
			if err := a.readDirSplit(ctx, s, fn); err != nil {
				return err
			}
		}
		return nil
	}
	// One pass per run of splits that appear in archive order.
	for len(splits) > 0 {
		n := 1
		for n < len(splits) && a.members[splits[n]].idx > a.members[splits[n-1]].idx {
			n++
		}
		if err := a.readArchiveSplits(ctx, splits[:n], fn); err != nil {
			return err
		}
		splits = splits[n:]
	}
	return nil
}

func (a *Archive) decodeSplit(ctx context.Context, r io.Reader, size int64, split string, fn func(Record) error) error {
	var rows int
	var err error
	if a.format == FormatPython {
		rows, err = DecodePickleBatch(ctx, r, split, a.tempDir, a.checked(fn))
	} else {
		rows, err = DecodeBinary(ctx, r, size, split, a.meta, fn)
	}
	if err != nil {
		return fmt.Errorf("%s: %s: %w", a.describe(), a.members[split].name, err)
	}
	if rows == 0 {
		return fmt.Errorf("%s: %s has no records", a.describe(), a.members[split].name)
	}
	return nil
}

// checked validates python-version labels against the archive's meta.
func (a *Archive) checked(fn func(Record) error) func(Record) error {
	nf, nc := len(a.meta.FineLabelNames), len(a.meta.CoarseLabelNames)
	return func(r Record) error {
		if r.FineLabel >= nf || r.CoarseLabel >= nc {
			return fmt.Errorf("row %d has labels %d/%d beyond the meta's %d fine and %d coarse names", r.Row, r.FineLabel, r.CoarseLabel, nf, nc)
		}
		return fn(r)
	}
}

func (a *Archive) describe() string {
	if a.dir {
		return "folder " + a.path
	}
	if a.path != a.source {
		return fmt.Sprintf("archive %s (from %s)", a.path, a.source)
	}
	return "archive " + a.path
}

// openStream opens the archive file as a tar stream, undoing gzip when the
// file starts with the gzip magic.
func (a *Archive) openStream() (*tar.Reader, io.Reader, func() error, error) {
	f, err := os.Open(a.path)
	if err != nil {
		return nil, nil, nil, err
	}
	br := bufio.NewReaderSize(f, 1<<16)
	magic, _ := br.Peek(512)
	var r io.Reader = br
	closer := f.Close
	switch {
	case len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		gz, err := gzip.NewReader(br)
		if err != nil {
			f.Close()
			return nil, nil, nil, fmt.Errorf("%s: bad gzip header: %w", a.describe(), err)
		}
		gz.Multistream(true)
		r = gz
		closer = func() error { gz.Close(); return f.Close() }
	case len(magic) >= 262 && bytes.Equal(magic[257:262], []byte("ustar")):
	default:
		f.Close()
		return nil, nil, nil, fmt.Errorf("%s: not a gzip-compressed or plain tar archive", a.describe())
	}
	return tar.NewReader(r), r, closer, nil
}

func (a *Archive) streamErr(err error, where string) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) || errors.Is(err, tar.ErrHeader) {
		return fmt.Errorf("%s: %s: archive is truncated or corrupt: %w", a.describe(), where, err)
	}
	return fmt.Errorf("%s: %s: %w", a.describe(), where, err)
}

// roleOf maps a tar member to its role, accepting the member at the top or
// in one folder (normally cifar-100-python/ or cifar-100-binary/).
func roleOf(hdr *tar.Header) (Format, string, string) {
	if hdr.Typeflag != tar.TypeReg {
		return 0, "", ""
	}
	name := path.Clean(strings.TrimPrefix(hdr.Name, "./"))
	if strings.Count(name, "/") > 1 {
		return 0, "", name
	}
	f, role := memberRole(path.Base(name))
	return f, role, name
}

func (a *Archive) scanArchive(ctx context.Context) error {
	tr, _, closeFn, err := a.openStream()
	if err != nil {
		return err
	}
	defer closeFn()
	found := map[Format]map[string]member{FormatPython: {}, FormatBinary: {}}
	content := map[string][]byte{}
	var names []string
	for i := 0; ; i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if i == 0 {
				return a.streamErr(err, "reading the first tar header")
			}
			return a.streamErr(err, "reading the tar headers")
		}
		f, role, name := roleOf(hdr)
		names = append(names, hdr.Name)
		switch base := path.Base(name); {
		case strings.HasPrefix(base, "data_batch_") || base == "batches.meta" || base == "batches.meta.txt" || base == "test_batch" || base == "test_batch.bin":
			return fmt.Errorf("%s: has %s: this is CIFAR-10, not CIFAR-100", a.describe(), hdr.Name)
		}
		if role == "" {
			continue
		}
		if prev, dup := found[f][role]; dup {
			return fmt.Errorf("%s: has both %s and %s", a.describe(), prev.name, name)
		}
		found[f][role] = member{name: hdr.Name, size: hdr.Size, idx: i}
		if role == roleMeta || role == roleFine || role == roleCoarse {
			if hdr.Size > maxMetaSize {
				return fmt.Errorf("%s: %s is %d bytes, too big for a label file", a.describe(), hdr.Name, hdr.Size)
			}
			b, err := io.ReadAll(tr)
			if err != nil {
				return a.streamErr(err, "reading "+hdr.Name)
			}
			content[hdr.Name] = b
		}
		if len(found[f]) == len(expectedMembers(f)) {
			break // everything needed is known; Records reads the rest
		}
	}
	return a.settle(ctx, found, func(m member) ([]byte, error) { return content[m.name], nil }, names)
}

// settle picks the format, checks members and reads the meta.
func (a *Archive) settle(ctx context.Context, found map[Format]map[string]member, read func(member) ([]byte, error), names []string) error {
	py, bin := found[FormatPython], found[FormatBinary]
	switch {
	case len(py) == 3 && len(bin) == 4:
		return fmt.Errorf("%s: holds both the python and the binary version; give one", a.describe())
	case len(py) == 3:
		a.format = FormatPython
	case len(bin) == 4:
		a.format = FormatBinary
	default:
		f := FormatPython
		if len(bin) > len(py) {
			f = FormatBinary
		}
		var missing []string
		for _, m := range expectedMembers(f) {
			if _, role := memberRole(m); found[f][role].name == "" {
				missing = append(missing, folderName(f)+"/"+m)
			}
		}
		if len(names) > 8 {
			names = append(names[:8:8], "...")
		}
		return fmt.Errorf("%s: not a CIFAR-100 archive: missing %s (found: %s)", a.describe(), strings.Join(missing, ", "), listOrNone(names))
	}
	a.members = found[a.format]
	if a.format == FormatPython {
		b, err := read(a.members[roleMeta])
		if err != nil {
			return err
		}
		a.meta, err = DecodePickleMeta(ctx, bytes.NewReader(b))
		if err != nil {
			return fmt.Errorf("%s: %s: %w", a.describe(), a.members[roleMeta].name, err)
		}
		return nil
	}
	for _, x := range []struct {
		role string
		want int
		dst  *[]string
	}{{roleFine, NumFine, &a.meta.FineLabelNames}, {roleCoarse, NumCoarse, &a.meta.CoarseLabelNames}} {
		b, err := read(a.members[x.role])
		if err != nil {
			return err
		}
		if *x.dst, err = ParseLabelNames(b, x.want, a.members[x.role].name); err != nil {
			return fmt.Errorf("%s: %w", a.describe(), err)
		}
	}
	return nil
}

func listOrNone(names []string) string {
	if len(names) == 0 {
		return "nothing"
	}
	return strings.Join(names, ", ")
}

func (a *Archive) readArchiveSplits(ctx context.Context, splits []string, fn func(Record) error) error {
	tr, raw, closeFn, err := a.openStream()
	if err != nil {
		return err
	}
	defer closeFn()
	next := 0
	for next < len(splits) {
		hdr, err := tr.Next()
		if err == io.EOF {
			return fmt.Errorf("%s: %s not found on this read: the archive changed since it was opened", a.describe(), a.members[splits[next]].name)
		}
		if err != nil {
			return a.streamErr(err, "reading the tar headers")
		}
		m := a.members[splits[next]]
		if hdr.Name != m.name || hdr.Typeflag != tar.TypeReg {
			continue
		}
		if err := a.decodeSplit(ctx, tr, hdr.Size, splits[next], fn); err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, gzip.ErrChecksum) {
				return a.streamErr(err, hdr.Name)
			}
			return err
		}
		next++
	}
	// Read to the end so gzip verifies its CRC and length.
	for {
		_, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return a.streamErr(err, "reading to the end of the archive")
		}
	}
	if _, err := io.Copy(io.Discard, raw); err != nil {
		return a.streamErr(err, "reading to the end of the archive")
	}
	return nil
}

func (a *Archive) scanDir() error {
	dir := a.path
	for _, sub := range []string{"cifar-100-python", "cifar-100-binary"} {
		if fi, err := os.Stat(filepath.Join(dir, sub)); err == nil && fi.IsDir() {
			if _, err := os.Stat(filepath.Join(dir, "train")); err != nil {
				dir = filepath.Join(dir, sub)
				break
			}
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("folder %s: %w", dir, err)
	}
	found := map[Format]map[string]member{FormatPython: {}, FormatBinary: {}}
	var names []string
	for i, e := range entries {
		names = append(names, e.Name())
		if strings.HasPrefix(e.Name(), "data_batch_") {
			return fmt.Errorf("folder %s: has %s: this is CIFAR-10, not CIFAR-100", dir, e.Name())
		}
		f, role := memberRole(e.Name())
		if role == "" || !e.Type().IsRegular() {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			return fmt.Errorf("folder %s: %w", dir, err)
		}
		found[f][role] = member{name: filepath.Join(dir, e.Name()), size: fi.Size(), idx: i}
	}
	sort.Strings(names)
	a.path = dir
	return a.settle(context.Background(), found, func(m member) ([]byte, error) {
		if m.size > maxMetaSize {
			return nil, fmt.Errorf("%s is %d bytes, too big for a label file", m.name, m.size)
		}
		return os.ReadFile(m.name)
	}, names)
}

func (a *Archive) readDirSplit(ctx context.Context, split string, fn func(Record) error) error {
	m := a.members[split]
	f, err := os.Open(m.name)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	return a.decodeSplit(ctx, f, fi.Size(), split, fn)
}
