package pipeline

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/scones/scones/cifar"
)

// StageOptions adjust stage.
type StageOptions struct {
	// Source is a URL, an archive file or a folder of extracted files;
	// empty means the official python-version URL.
	Source string
	// Prefix is prepended to every key (train/..., test/..., *.lst).
	Prefix string
	// Labels are fine labels by index or name; empty means bicycle and
	// motorcycle. Classes are numbered 0.. in this order.
	Labels []string
	// Concurrency bounds parallel uploads (default 16).
	Concurrency int
	// CacheDir holds downloads (default: the user's cache dir).
	CacheDir string
	// CreateBucket creates (and tags) the bucket when it does not exist.
	CreateBucket bool
	// Progress shows download and upload progress.
	Progress bool
}

// StageResult summarises a stage run.
type StageResult struct {
	Format     string
	Labels     []string
	Counts     map[string][]int // split -> per-class image counts
	Uploaded   int
	Unchanged  int
	Bytes      int64
	Manifests  []string
	Duration   time.Duration
	Downloaded bool
}

// Stage decodes a CIFAR-100 archive, keeps the selected labels, and writes
// each image as a 32x32 PNG to <prefix>train/<file>.png or test/, then the
// manifests train.lst and test.lst. Objects already there with the same
// content are not uploaded again. The manifests are written last, and only
// when every image is in place, so a failed run never leaves manifests
// pointing at missing images.
func Stage(ctx context.Context, e *Env, o StageOptions) (*StageResult, error) {
	start := time.Now()
	if o.Source == "" {
		o.Source = cifar.PythonURL
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 16
	}
	if o.Prefix != "" && !strings.HasSuffix(o.Prefix, "/") {
		o.Prefix += "/"
	}
	if len(o.Labels) == 0 {
		o.Labels = cifar.DefaultLabels()
	}
	if err := e.ensureBucket(ctx, o.CreateBucket); err != nil {
		return nil, err
	}
	opts := []cifar.Option{}
	if o.CacheDir != "" {
		opts = append(opts, cifar.WithCacheDir(o.CacheDir))
	}
	if o.Progress {
		opts = append(opts, cifar.WithProgress(downloadProgress(e.Out)))
	}
	// The python version is read in one pass (cifar.StreamOnce): label
	// names are resolved against the published CIFAR-100 names first and
	// checked against the archive's own meta once it has been read, before
	// any manifest is written. Other sources are opened and then read.
	meta := cifar.StandardMeta()
	var read func(fn func(cifar.Record) error) error
	var archive *cifar.Archive
	onePass, err := cifar.OpenOnePass(ctx, o.Source, opts...)
	switch {
	case err == nil:
		archive = onePass
		read = func(fn func(cifar.Record) error) error {
			m, err := onePass.StreamOnce(ctx, fn)
			if err == nil {
				meta = m
			}
			return err
		}
	case errors.Is(err, cifar.ErrNotOnePass):
	default:
		return nil, err
	}
	openFull := func() error {
		a, err := cifar.Open(ctx, o.Source, opts...)
		if err != nil {
			return err
		}
		archive, meta = a, a.Meta()
		read = func(fn func(cifar.Record) error) error { return a.Records(ctx, fn) }
		return nil
	}
	if read == nil {
		if err := openFull(); err != nil {
			return nil, err
		}
	}
	fine, err := cifar.ResolveLabels(meta, o.Labels)
	if err != nil && onePass != nil && archive == onePass {
		// A name the published CIFAR-100 does not have may be in this
		// archive's own meta: read the meta first, the two-pass way.
		if err = openFull(); err == nil {
			fine, err = cifar.ResolveLabels(meta, o.Labels)
		}
	}
	if err != nil {
		return nil, err
	}
	labels := cifar.NewLabelSet(fine)
	// Labels and Format are known for sure only once the archive is read.
	res := &StageResult{Counts: map[string][]int{}}
	existing, err := e.listETags(ctx, o.Prefix)
	if err != nil {
		return nil, err
	}

	// The reader only decodes records; PNG encoding happens in the upload
	// workers, so decompression and encoding use both cores.
	type upload struct {
		key    string
		pixels [cifar.PixelBytes]byte
		split  string
		row    int
	}
	jobs := make(chan upload, o.Concurrency*2)
	var uploaded, unchanged atomic.Int64
	var bytesUp atomic.Int64
	var upErr error
	var errOnce sync.Once
	uctx, cancel := context.WithCancel(ctx)
	defer cancel()
	fail := func(err error) {
		errOnce.Do(func() { upErr = err; cancel() })
	}
	bar := newProgress(e.Out, o.Progress, -1, "images uploaded")
	var wg sync.WaitGroup
	for range o.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				if uctx.Err() != nil {
					continue
				}
				png, err := cifar.EncodePNG(&j.pixels)
				if err != nil {
					fail(fmt.Errorf("%s row %d: %w", j.split, j.row, err))
					continue
				}
				if err := e.putIfChanged(uctx, j.key, png, "image/png", existing, &uploaded, &unchanged, &bytesUp); err != nil {
					fail(err)
					continue
				}
				bar.Add(1)
			}
		}()
	}

	manifests := map[string][]cifar.ManifestEntry{}
	seen := map[string]bool{}
	visit := func(r cifar.Record) error {
		class, ok := labels.Class(r.FineLabel)
		if !ok {
			return nil
		}
		key := o.Prefix + r.Split + "/" + r.Filename
		if seen[key] {
			return fmt.Errorf("archive has two %s images named %s", r.Split, r.Filename)
		}
		seen[key] = true
		if res.Counts[r.Split] == nil {
			res.Counts[r.Split] = make([]int, len(fine))
		}
		res.Counts[r.Split][class]++
		manifests[r.Split] = append(manifests[r.Split], cifar.ManifestEntry{Row: r.Row, Class: class, Filename: r.Filename})
		select {
		case jobs <- upload{key: key, pixels: r.Pixels, split: r.Split, row: r.Row}:
			return nil
		case <-uctx.Done():
			return uctx.Err()
		}
	}
	readErr := read(visit)
	if errors.Is(readErr, cifar.ErrNotOnePass) {
		// The binary version: nothing was handed out yet; read it the
		// two-pass way, with its own label names.
		if readErr = openFull(); readErr == nil {
			if fine, readErr = cifar.ResolveLabels(meta, o.Labels); readErr == nil {
				labels = cifar.NewLabelSet(fine)
				readErr = read(visit)
			}
		}
	}
	close(jobs)
	wg.Wait()
	bar.Finish()
	if upErr != nil {
		return nil, fmt.Errorf("upload: %w (no manifests written)", upErr)
	}
	if readErr != nil {
		return nil, fmt.Errorf("reading %s: %w (no manifests written)", o.Source, readErr)
	}
	// Labels given by name must mean the same in this archive's meta as in
	// the published names they were first resolved against.
	if check, err := cifar.ResolveLabels(meta, o.Labels); err != nil {
		return nil, fmt.Errorf("%w (no manifests written)", err)
	} else if fmt.Sprint(check) != fmt.Sprint(fine) {
		return nil, fmt.Errorf("labels %s are fine labels %v in this archive's meta, not %v as in CIFAR-100: give the labels by index (no manifests written)", strings.Join(o.Labels, ","), check, fine)
	}
	for _, f := range fine {
		res.Labels = append(res.Labels, meta.FineName(f))
	}
	res.Format = archive.Format().String()
	if len(manifests) == 0 {
		return nil, fmt.Errorf("the archive has no images of labels %s", strings.Join(res.Labels, ", "))
	}
	splits := make([]string, 0, len(manifests))
	for s := range manifests {
		splits = append(splits, s)
	}
	sort.Strings(splits)
	for _, split := range splits {
		var buf bytes.Buffer
		if err := cifar.WriteManifest(&buf, manifests[split]); err != nil {
			return nil, err
		}
		key := o.Prefix + split + ".lst"
		if err := e.putIfChanged(ctx, key, buf.Bytes(), "text/plain", existing, &uploaded, &unchanged, &bytesUp); err != nil {
			return nil, fmt.Errorf("writing manifest %s: %w", key, err)
		}
		res.Manifests = append(res.Manifests, key)
	}
	res.Uploaded, res.Unchanged, res.Bytes = int(uploaded.Load()), int(unchanged.Load()), bytesUp.Load()
	res.Duration = time.Since(start)
	return res, nil
}

// ensureBucket checks the bucket exists, creating and tagging it when asked.
func (e *Env) ensureBucket(ctx context.Context, create bool) error {
	_, err := e.Clients.S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(e.Bucket)})
	if err == nil {
		return nil
	}
	if code := apiCode(err); code != "NotFound" && code != "NoSuchBucket" {
		return fmt.Errorf("bucket %s: %w", e.Bucket, err)
	}
	if !create {
		return fmt.Errorf("bucket %s does not exist: create it (scones deploy, or aws s3 mb s3://%s) or pass --create-bucket", e.Bucket, e.Bucket)
	}
	var res DeployResult
	return deployBucket(ctx, e, DeployOptions{}, &res)
}

// listETags maps every key under prefix to its ETag (unquoted).
func (e *Env) listETags(ctx context.Context, prefix string) (map[string]string, error) {
	out := map[string]string{}
	p := s3.NewListObjectsV2Paginator(e.Clients.S3, &s3.ListObjectsV2Input{Bucket: aws.String(e.Bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing s3://%s/%s: %w", e.Bucket, prefix, err)
		}
		for _, o := range page.Contents {
			out[aws.ToString(o.Key)] = strings.Trim(aws.ToString(o.ETag), `"`)
		}
	}
	return out, nil
}

// putIfChanged uploads body unless the key already holds the same bytes
// (a single-part object's ETag is the MD5 of its content).
func (e *Env) putIfChanged(ctx context.Context, key string, body []byte, contentType string, existing map[string]string, uploaded, unchanged, bytesUp *atomic.Int64) error {
	sum := md5.Sum(body)
	if existing[key] == hex.EncodeToString(sum[:]) {
		unchanged.Add(1)
		return nil
	}
	_, err := e.Clients.S3.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(e.Bucket), Key: aws.String(key), Body: bytes.NewReader(body),
		ContentType: aws.String(contentType), ChecksumAlgorithm: s3types.ChecksumAlgorithmCrc32,
	})
	if err != nil {
		return fmt.Errorf("PutObject s3://%s/%s: %w", e.Bucket, key, err)
	}
	uploaded.Add(1)
	bytesUp.Add(int64(len(body)))
	return nil
}

func downloadProgress(w io.Writer) func(done, total int64) {
	var last time.Time
	return func(done, total int64) {
		if time.Since(last) < time.Second && done != total {
			return
		}
		last = time.Now()
		if total > 0 {
			fmt.Fprintf(w, "  downloaded %.1f / %.1f MB\n", float64(done)/1e6, float64(total)/1e6)
		} else {
			fmt.Fprintf(w, "  downloaded %.1f MB\n", float64(done)/1e6)
		}
	}
}

// PrintStage writes the stage summary: counts per split and class, bytes,
// time.
func PrintStage(w io.Writer, r *StageResult) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "SPLIT\t%s\tTOTAL\n", strings.Join(r.Labels, "\t"))
	for _, split := range []string{"train", "test"} {
		counts := r.Counts[split]
		if counts == nil {
			continue
		}
		total := 0
		cells := make([]string, len(counts))
		for i, c := range counts {
			cells[i] = fmt.Sprint(c)
			total += c
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\n", split, strings.Join(cells, "\t"), total)
	}
	tw.Flush()
	fmt.Fprintf(w, "%s archive: %d objects uploaded (%.1f KB), %d already there unchanged, manifests %s, in %s\n",
		r.Format, r.Uploaded, float64(r.Bytes)/1024, r.Unchanged, strings.Join(r.Manifests, ", "), r.Duration.Round(time.Millisecond))
}
