package monitor

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// CaptureExt is the file extension of capture files; a Lister reports
// other files under its root as ignored.
const CaptureExt = ".jsonl"

// HourSlack is how far before the --since hour a Lister still reads hour
// folders. SageMaker files a capture file under the hour it was opened
// (the file name is the minute, second and millisecond of that moment),
// and a file opened just before the hour can hold records from after it,
// so the hour folder before the one holding since is read too and its
// records filtered by inferenceTime.
const HourSlack = time.Hour

// Lister is where capture files come from: S3 (S3Lister) or a local
// directory tree (DirLister).
type Lister interface {
	// List returns the capture files that can hold records at or after
	// since (the zero time: all of them), in key order. It may skip whole
	// hour folders of the capture key layout that end before since, less
	// HourSlack; it never skips anything else.
	List(ctx context.Context, since time.Time) (*Listing, error)
	// Open opens one listed capture file.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	// String names the source for messages and the summary, e.g.
	// "s3://bucket/data_capture/".
	String() string
}

// Listing is what a Lister found.
type Listing struct {
	// Keys are the capture files (*.jsonl) to read, in key order.
	Keys []string
	// Ignored are files under the root that are not capture files.
	Ignored []string
	// SkippedHours counts the hour folders skipped by key as outside the
	// window (DirLister), or the jumps over them (S3Lister).
	SkippedHours int
	// Requests counts the list requests made (S3Lister; 0 for DirLister).
	Requests int
}

// keyHour parses a key relative to the prefix in the data-capture layout
// <group>yyyy/mm/dd/hh/<file>, where group is "<endpoint>/<variant>/" (or
// whatever precedes the date folders, with its trailing slash): it returns
// the group and the hour of the hour folder.
func keyHour(key string) (group string, hour time.Time, ok bool) {
	i := strings.LastIndexByte(key, '/')
	if i < 0 || i == len(key)-1 {
		return "", time.Time{}, false
	}
	return dirHour(key[:i])
}

// dirHour parses a directory path ending in yyyy/mm/dd/hh: what precedes
// the date folders (with its trailing slash) and the hour.
func dirHour(dir string) (group string, hour time.Time, ok bool) {
	const n = len("yyyy/mm/dd/hh")
	if len(dir) < n || (len(dir) > n && dir[len(dir)-n-1] != '/') {
		return "", time.Time{}, false
	}
	if hour, ok = parseHour(dir[len(dir)-n:]); !ok {
		return "", time.Time{}, false
	}
	return dir[:len(dir)-n], hour, true
}

// parseHour parses yyyy/mm/dd/hh, all digits, refusing out-of-range fields.
func parseHour(s string) (time.Time, bool) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && !(c == '/' && (i == 4 || i == 7 || i == 10)) {
			return time.Time{}, false
		}
	}
	t, err := time.Parse("2006/01/02/15", s)
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}

// cutoffHour is the first hour folder that can hold records at or after
// since; the zero time for a zero since.
func cutoffHour(since time.Time) time.Time {
	if since.IsZero() {
		return time.Time{}
	}
	return since.UTC().Truncate(time.Hour).Add(-HourSlack)
}

// hourPath formats an hour as its folder path.
func hourPath(t time.Time) string { return t.UTC().Format("2006/01/02/15") }

// S3API is the part of *s3.Client that S3Lister uses.
type S3API interface {
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// S3Lister lists capture files in an S3 bucket under a prefix (the data
// capture destination, e.g. "data_capture"), paging through ListObjectsV2
// with ContinuationToken. With a since time, it jumps over the hour
// folders before it: on meeting a key of <group>yyyy/mm/dd/hh/ older than
// the cutoff, it restarts the listing with StartAfter set to that group's
// cutoff hour folder, so those folders are never listed.
type S3Lister struct {
	Client S3API
	Bucket string
	// Prefix is the key prefix; a slash is added when it lacks one, so
	// "data_capture" does not also match "data_capture_old/".
	Prefix string
	// PageSize is MaxKeys per list request; 0 leaves it to S3 (1,000).
	PageSize int32
}

// NewS3Lister returns an S3Lister for s3://bucket/prefix.
func NewS3Lister(client S3API, bucket, prefix string) *S3Lister {
	return &S3Lister{Client: client, Bucket: bucket, Prefix: prefix}
}

// ParseS3URI splits s3://bucket/prefix into bucket and prefix.
func ParseS3URI(uri string) (bucket, prefix string, err error) {
	u, err := url.Parse(uri)
	if err != nil {
		return "", "", fmt.Errorf("s3 uri %q: %w", uri, err)
	}
	if u.Scheme != "s3" || u.Host == "" {
		return "", "", fmt.Errorf("s3 uri %q: want s3://bucket/prefix", uri)
	}
	return u.Host, strings.TrimPrefix(u.Path, "/"), nil
}

func (l *S3Lister) prefix() string {
	p := strings.TrimPrefix(l.Prefix, "/")
	if p != "" && !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p
}

func (l *S3Lister) String() string { return "s3://" + l.Bucket + "/" + l.prefix() }

// List implements Lister.
func (l *S3Lister) List(ctx context.Context, since time.Time) (*Listing, error) {
	cutoff := cutoffHour(since)
	prefix := l.prefix()
	out := &Listing{}
	in := &s3.ListObjectsV2Input{Bucket: aws.String(l.Bucket), Prefix: aws.String(prefix)}
	if l.PageSize > 0 {
		in.MaxKeys = aws.Int32(l.PageSize)
	}
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		page, err := l.Client.ListObjectsV2(ctx, in)
		out.Requests++
		if err != nil {
			return nil, fmt.Errorf("listing %s: %w", l, err)
		}
		jump := ""
		for _, obj := range page.Contents {
			key := aws.ToString(obj.Key)
			if !cutoff.IsZero() {
				if group, hour, ok := keyHour(key); ok && hour.Before(cutoff) {
					if to := group + hourPath(cutoff); to > key {
						jump = to
						break
					}
					continue
				}
			}
			if strings.HasSuffix(key, CaptureExt) {
				out.Keys = append(out.Keys, key)
			} else {
				out.Ignored = append(out.Ignored, key)
			}
		}
		switch {
		case jump != "":
			// Everything between key and jump shares key's group and
			// is an older hour folder: restart after it.
			out.SkippedHours++
			in.ContinuationToken = nil
			in.StartAfter = aws.String(jump)
		case aws.ToBool(page.IsTruncated):
			tok := aws.ToString(page.NextContinuationToken)
			if tok == "" {
				return nil, fmt.Errorf("listing %s: truncated page without NextContinuationToken", l)
			}
			in.ContinuationToken = aws.String(tok)
			in.StartAfter = nil // the token says where to go on
		default:
			return out, nil
		}
	}
}

// Open implements Lister.
func (l *S3Lister) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	obj, err := l.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(l.Bucket), Key: aws.String(key)})
	if err != nil {
		return nil, fmt.Errorf("getting s3://%s/%s: %w", l.Bucket, key, err)
	}
	return obj.Body, nil
}

// DirLister lists capture files in a local directory tree laid out like
// the S3 capture destination (e.g. a `aws s3 sync` of it), or a single
// file. Keys are slash-separated paths relative to Root (a single file's
// key is its base name). With a since time, hour folders
// (.../yyyy/mm/dd/hh) before the cutoff are not descended into.
type DirLister struct {
	Root string
}

// NewDirLister returns a DirLister for root.
func NewDirLister(root string) *DirLister { return &DirLister{Root: root} }

func (l *DirLister) String() string { return l.Root }

// List implements Lister.
func (l *DirLister) List(ctx context.Context, since time.Time) (*Listing, error) {
	info, err := os.Stat(l.Root)
	if err != nil {
		return nil, fmt.Errorf("capture directory: %w", err)
	}
	out := &Listing{}
	if !info.IsDir() {
		out.Keys = []string{filepath.Base(l.Root)}
		return out, nil
	}
	cutoff := cutoffHour(since)
	err = filepath.WalkDir(l.Root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(l.Root, path)
		if err != nil {
			return err
		}
		if rel == "." {
			return nil
		}
		key := filepath.ToSlash(rel)
		if d.IsDir() {
			if !cutoff.IsZero() {
				if _, hour, ok := dirHour(key); ok && hour.Before(cutoff) {
					out.SkippedHours++
					return fs.SkipDir
				}
			}
			return nil
		}
		if !d.Type().IsRegular() {
			out.Ignored = append(out.Ignored, key)
			return nil
		}
		if strings.HasSuffix(key, CaptureExt) {
			out.Keys = append(out.Keys, key)
		} else {
			out.Ignored = append(out.Ignored, key)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", l.Root, err)
	}
	sort.Strings(out.Keys)
	sort.Strings(out.Ignored)
	return out, nil
}

// Open implements Lister.
func (l *DirLister) Open(_ context.Context, key string) (io.ReadCloser, error) {
	path := l.Root
	if info, err := os.Stat(l.Root); err == nil && info.IsDir() {
		if !fs.ValidPath(key) {
			return nil, fmt.Errorf("opening %q: not a key under %s", key, l.Root)
		}
		path = filepath.Join(l.Root, filepath.FromSlash(key))
	} else if key != filepath.Base(l.Root) {
		return nil, fmt.Errorf("opening %q: %s is a single file", key, l.Root)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening capture file: %w", err)
	}
	return f, nil
}
