package cifar

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Official download locations of CIFAR-100.
const (
	PythonURL = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
	BinaryURL = "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz"
)

// Checksum is what a downloaded file must be. A zero field is not checked.
type Checksum struct {
	Size int64  // bytes
	MD5  string // lower-case hex
}

// IsZero reports whether nothing is to be checked.
func (c Checksum) IsZero() bool { return c.Size == 0 && c.MD5 == "" }

func (c Checksum) String() string {
	var parts []string
	if c.MD5 != "" {
		parts = append(parts, "md5 "+c.MD5)
	}
	if c.Size != 0 {
		parts = append(parts, strconv.FormatInt(c.Size, 10)+" bytes")
	}
	return strings.Join(parts, ", ")
}

// KnownChecksum returns the published size and MD5 of the official archives
// (https://www.cs.toronto.edu/~kriz/cifar.html; the same figures are in
// torchvision's CIFAR100 class and in datalad's CIFAR-100 mirror).
func KnownChecksum(rawURL string) (Checksum, bool) {
	u := strings.TrimPrefix(strings.TrimPrefix(rawURL, "https://"), "http://")
	switch u {
	case strings.TrimPrefix(PythonURL, "https://"):
		return Checksum{Size: 169001437, MD5: "eb9058c3a382ffc7106e4002c42a8d85"}, true
	case strings.TrimPrefix(BinaryURL, "https://"):
		return Checksum{Size: 168513733, MD5: "03b5dce01913d631647c71ecec9e9cb8"}, true
	}
	return Checksum{}, false
}

// ErrChecksum is wrapped by errors about a file whose size or MD5 is not the
// expected one.
var ErrChecksum = errors.New("checksum mismatch")

// DefaultCacheDir returns os.UserCacheDir()/scones.
func DefaultCacheDir() (string, error) {
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory: %w", err)
	}
	return filepath.Join(d, "scones"), nil
}

// Downloader fetches archives into a cache directory.
//
// A download goes to <name>.part next to its final name and is renamed when
// complete and verified. An interrupted download (network error, or the
// process stopped) leaves the .part file, and the next attempt asks the
// server for the rest with an HTTP Range request (with If-Range, so a changed
// file starts over). A file that fails verification is deleted and the call
// fails with ErrChecksum; a cached file that no longer verifies is deleted
// and fetched again. Nothing unverified is ever reused when a checksum is
// known. Two processes downloading the same URL at once are not coordinated.
type Downloader struct {
	Client      *http.Client            // nil: http.DefaultClient
	CacheDir    string                  // "": DefaultCacheDir()
	Progress    func(done, total int64) // called as bytes arrive; total is -1 when unknown
	MaxAttempts int                     // requests per call when the connection drops (0: 3)
}

// Download fetches rawURL into cacheDir (DefaultCacheDir() when empty) and
// returns the local path. See Downloader. expect may be zero; the official
// URLs then use KnownChecksum.
func Download(ctx context.Context, rawURL, cacheDir string, expect Checksum, progress func(done, total int64)) (string, error) {
	d := Downloader{CacheDir: cacheDir, Progress: progress}
	return d.Download(ctx, rawURL, expect)
}

// CachePath returns where a download of rawURL is cached: the official
// archives under their own names, other URLs under their base name prefixed
// with a hash of the URL (so different URLs never share a file).
func CachePath(cacheDir, rawURL string) string {
	if _, ok := KnownChecksum(rawURL); ok {
		return filepath.Join(cacheDir, path.Base(rawURL))
	}
	base := "download"
	if u, err := url.Parse(rawURL); err == nil && path.Base(u.Path) != "/" && path.Base(u.Path) != "." {
		base = sanitizeName(strings.TrimSuffix(path.Base(u.Path), ".tar.gz"))
		if strings.HasSuffix(u.Path, ".tar.gz") {
			base += ".tar.gz"
		}
	}
	h := sha256.Sum256([]byte(rawURL))
	return filepath.Join(cacheDir, hex.EncodeToString(h[:6])+"-"+base)
}

// Download fetches rawURL; see the type's documentation.
func (d *Downloader) Download(ctx context.Context, rawURL string, expect Checksum) (string, error) {
	if expect.IsZero() {
		expect, _ = KnownChecksum(rawURL)
	}
	expect.MD5 = strings.ToLower(expect.MD5)
	dir := d.CacheDir
	if dir == "" {
		var err error
		if dir, err = DefaultCacheDir(); err != nil {
			return "", err
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("download cache: %w", err)
	}
	final := CachePath(dir, rawURL)
	if _, err := os.Stat(final); err == nil {
		if expect.IsZero() {
			return final, nil
		}
		if err := verifyFile(final, expect); err == nil {
			return final, nil
		} else if !errors.Is(err, ErrChecksum) {
			return "", err
		}
		// A corrupted cache entry: fetch it again.
		if err := os.Remove(final); err != nil {
			return "", fmt.Errorf("removing bad cached file: %w", err)
		}
	}
	part := final + ".part"
	validator := part + ".validator"
	attempts := d.MaxAttempts
	if attempts <= 0 {
		attempts = 3
	}
	var lastErr error
	for attempt := 1; attempt <= attempts; attempt++ {
		if attempt > 1 {
			select {
			case <-ctx.Done():
				return "", ctx.Err()
			case <-time.After(time.Duration(attempt-1) * 200 * time.Millisecond):
			}
		}
		done, err := d.fetch(ctx, rawURL, part, validator, expect)
		if err == nil {
			lastErr = nil
			break
		}
		var se *statusError
		if ctx.Err() != nil || errors.As(err, &se) || errors.Is(err, ErrChecksum) {
			return "", err
		}
		lastErr = fmt.Errorf("download %s interrupted after %d bytes (the partial file is kept; run again to resume): %w", rawURL, done, err)
	}
	if lastErr != nil {
		return "", lastErr
	}
	if err := verifyFile(part, expect); err != nil {
		os.Remove(part)
		os.Remove(validator)
		return "", fmt.Errorf("download %s: %w (the download was deleted)", rawURL, err)
	}
	if err := os.Rename(part, final); err != nil {
		return "", fmt.Errorf("download %s: %w", rawURL, err)
	}
	os.Remove(validator)
	return final, nil
}

type statusError struct {
	url    string
	status string
	body   string
}

func (e *statusError) Error() string {
	s := fmt.Sprintf("download %s: server answered %s", e.url, e.status)
	if e.body != "" {
		s += ": " + e.body
	}
	return s
}

// fetch makes one request, appending to part. It returns the bytes in part.
func (d *Downloader) fetch(ctx context.Context, rawURL, part, validator string, expect Checksum) (int64, error) {
	var off int64
	if fi, err := os.Stat(part); err == nil {
		off = fi.Size()
	}
	if expect.Size > 0 && off > expect.Size {
		off = 0 // longer than the real file: start over
	}
	if expect.Size > 0 && off == expect.Size {
		return off, nil // complete; verified by the caller
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return off, fmt.Errorf("download %s: %w", rawURL, err)
	}
	if off > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", off))
		if v, err := os.ReadFile(validator); err == nil && len(v) > 0 {
			req.Header.Set("If-Range", string(v))
		}
	}
	client := d.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return off, err
	}
	defer resp.Body.Close()
	total := int64(-1)
	flags := os.O_WRONLY | os.O_CREATE
	switch resp.StatusCode {
	case http.StatusOK:
		off = 0
		flags |= os.O_TRUNC
		total = resp.ContentLength
		v := resp.Header.Get("ETag")
		if v == "" || strings.HasPrefix(v, "W/") {
			v = resp.Header.Get("Last-Modified")
		}
		if err := os.WriteFile(validator, []byte(v), 0o644); err != nil {
			return 0, fmt.Errorf("download cache: %w", err)
		}
	case http.StatusPartialContent:
		start, size, err := parseContentRange(resp.Header.Get("Content-Range"))
		if err != nil || start != off {
			// Not the part we asked for: start over on the next attempt.
			os.Remove(part)
			return 0, fmt.Errorf("server sent range %q for a request from byte %d", resp.Header.Get("Content-Range"), off)
		}
		total = size
		flags |= os.O_APPEND
	case http.StatusRequestedRangeNotSatisfiable:
		os.Remove(part)
		return 0, fmt.Errorf("server refused to resume from byte %d (416); starting over", off)
	default:
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
		return off, &statusError{url: rawURL, status: resp.Status, body: strings.TrimSpace(string(b))}
	}
	if expect.Size > 0 && total >= 0 && total != expect.Size {
		os.Remove(part)
		return 0, fmt.Errorf("download %s: server offers %d bytes, want %d: %w", rawURL, total, expect.Size, ErrChecksum)
	}
	if total < 0 && expect.Size > 0 {
		total = expect.Size
	}
	f, err := os.OpenFile(part, flags, 0o644)
	if err != nil {
		return off, fmt.Errorf("download cache: %w", err)
	}
	done := off
	buf := make([]byte, 256<<10)
	if d.Progress != nil {
		d.Progress(done, total)
	}
	for {
		n, rerr := resp.Body.Read(buf)
		if n > 0 {
			if _, err := f.Write(buf[:n]); err != nil {
				f.Close()
				return done, fmt.Errorf("download cache: %w", err)
			}
			done += int64(n)
			if d.Progress != nil {
				d.Progress(done, total)
			}
			if expect.Size > 0 && done > expect.Size {
				f.Close()
				os.Remove(part)
				return 0, fmt.Errorf("download %s: more than the expected %d bytes: %w", rawURL, expect.Size, ErrChecksum)
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			f.Close()
			if ctx.Err() != nil {
				return done, ctx.Err()
			}
			return done, rerr
		}
	}
	if err := f.Close(); err != nil {
		return done, fmt.Errorf("download cache: %w", err)
	}
	if total >= 0 && done != total {
		return done, fmt.Errorf("connection closed at byte %d of %d: %w", done, total, io.ErrUnexpectedEOF)
	}
	return done, nil
}

// parseContentRange parses "bytes start-end/size" (size may be "*").
func parseContentRange(s string) (start, size int64, err error) {
	rest, ok := strings.CutPrefix(s, "bytes ")
	if !ok {
		return 0, 0, fmt.Errorf("bad Content-Range %q", s)
	}
	rng, sz, ok := strings.Cut(rest, "/")
	if !ok {
		return 0, 0, fmt.Errorf("bad Content-Range %q", s)
	}
	a, _, ok := strings.Cut(rng, "-")
	if !ok {
		return 0, 0, fmt.Errorf("bad Content-Range %q", s)
	}
	if start, err = strconv.ParseInt(a, 10, 64); err != nil {
		return 0, 0, fmt.Errorf("bad Content-Range %q", s)
	}
	size = -1
	if sz != "*" {
		if size, err = strconv.ParseInt(sz, 10, 64); err != nil {
			return 0, 0, fmt.Errorf("bad Content-Range %q", s)
		}
	}
	return start, size, nil
}

// FileMD5 returns the size and MD5 of a file.
func FileMD5(name string) (Checksum, error) {
	f, err := os.Open(name)
	if err != nil {
		return Checksum{}, err
	}
	defer f.Close()
	h := md5.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return Checksum{}, err
	}
	return Checksum{Size: n, MD5: hex.EncodeToString(h.Sum(nil))}, nil
}

func verifyFile(name string, expect Checksum) error {
	if expect.IsZero() {
		return nil
	}
	fi, err := os.Stat(name)
	if err != nil {
		return err
	}
	if expect.Size > 0 && fi.Size() != expect.Size {
		return fmt.Errorf("%s is %d bytes, want %d: %w", name, fi.Size(), expect.Size, ErrChecksum)
	}
	if expect.MD5 == "" {
		return nil
	}
	got, err := FileMD5(name)
	if err != nil {
		return err
	}
	if got.MD5 != expect.MD5 {
		return fmt.Errorf("%s has md5 %s, want %s: %w", name, got.MD5, expect.MD5, ErrChecksum)
	}
	return nil
}
