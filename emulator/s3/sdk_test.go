package s3_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"fmt"
	"hash/crc64"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/scones/scones/emulator"
)

func TestBuckets(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.bucket(t, "alpha")
	e.bucket(t, "beta.with.dots")

	// us-east-1 answers 200 to the owner re-creating a bucket; other
	// regions answer BucketAlreadyOwnedByYou.
	if _, err := e.c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("alpha")}); err != nil {
		t.Fatalf("re-create in us-east-1: %v", err)
	}
	eu := newClient(startServer(t, emulator.Options{Region: "eu-west-1"}).URL(), func(o *s3.Options) { o.Region = "eu-west-1" })
	euIn := &s3.CreateBucketInput{Bucket: aws.String("gamma"), CreateBucketConfiguration: &types.CreateBucketConfiguration{LocationConstraint: "eu-west-1"}}
	if _, err := eu.CreateBucket(ctx, euIn); err != nil {
		t.Fatal(err)
	}
	_, err := eu.CreateBucket(ctx, euIn)
	wantCode(t, err, "BucketAlreadyOwnedByYou")

	if _, err := e.c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("alpha")}); err != nil {
		t.Fatal(err)
	}
	_, err = e.c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("missing")})
	wantCode(t, err, "NotFound")

	lb, err := e.c.ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(lb.Buckets) != 2 || *lb.Buckets[0].Name != "alpha" || *lb.Buckets[1].Name != "beta.with.dots" || lb.Buckets[0].CreationDate == nil {
		t.Fatalf("ListBuckets = %+v", lb.Buckets)
	}
	if lb.Owner == nil || aws.ToString(lb.Owner.ID) == "" {
		t.Fatalf("ListBuckets owner missing")
	}

	loc, err := e.c.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String("alpha")})
	if err != nil || loc.LocationConstraint != "" {
		t.Fatalf("GetBucketLocation = %q, %v; want empty for us-east-1", loc.LocationConstraint, err)
	}
	v, err := e.c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String("alpha")})
	if err != nil || v.Status != "" {
		t.Fatalf("GetBucketVersioning = %+v, %v", v, err)
	}

	for _, bad := range []string{"ab", "Upper", "has_underscore", "-dash", "dash-", "a..b", "192.168.1.1", "xn--abc", "abc-s3alias", strings.Repeat("a", 64)} {
		_, err := e.c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bad)})
		wantCode(t, err, "InvalidBucketName")
	}

	if _, err := e.c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("alpha"), Key: aws.String("k"), Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}
	_, err = e.c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("alpha")})
	wantCode(t, err, "BucketNotEmpty")
	e.c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("alpha"), Key: aws.String("k")})
	if _, err := e.c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("alpha")}); err != nil {
		t.Fatal(err)
	}
	_, err = e.c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("alpha")})
	wantCode(t, err, "NoSuchBucket")
	_, err = e.c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("alpha"), Key: aws.String("k")})
	wantCode(t, err, "NoSuchBucket")
}

func TestPutGetRoundTrip(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	b := e.bucket(t, "rtrip")
	for _, tc := range []struct {
		name   string
		c      *s3.Client
		size   int
		stream bool
	}{
		{"http", e.c, 3000, false},
		{"http-empty", e.c, 0, false},
		{"http-2MiB", e.c, 2<<20 + 17, false},
		{"https-chunked", e.tls, 3000, false},
		{"https-chunked-nonseekable", e.tls, 1<<20 + 5, true},
		{"https-chunked-empty", e.tls, 0, false},
		{"https-chunked-3MiB", e.tls, 3<<20 + 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := randBytes(tc.size, uint64(tc.size))
			var body io.Reader = bytes.NewReader(data)
			if tc.stream {
				body = io.MultiReader(bytes.NewReader(data)) // not seekable
			}
			expires := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
			key := "dir/" + tc.name + " key+é"
			put, err := tc.c.PutObject(ctx, &s3.PutObjectInput{
				Bucket: aws.String(b), Key: aws.String(key), Body: body, ContentLength: aws.Int64(int64(tc.size)),
				ContentType: aws.String("image/png"), ContentEncoding: aws.String("identity"),
				ContentDisposition: aws.String(`attachment; filename="x.png"`), CacheControl: aws.String("max-age=60"),
				Expires: &expires, Metadata: map[string]string{"Owner": "me", "trace-id": "abc 123"},
			})
			if err != nil {
				t.Fatal(err)
			}
			wantETag := `"` + md5hex(data) + `"`
			if aws.ToString(put.ETag) != wantETag {
				t.Fatalf("PutObject ETag %s, want %s", aws.ToString(put.ETag), wantETag)
			}
			get, err := tc.c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled})
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(get.Body)
			get.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, data) {
				t.Fatalf("GetObject returned %d bytes, want %d identical", len(got), len(data))
			}
			if aws.ToString(get.ETag) != wantETag || aws.ToString(get.ContentType) != "image/png" ||
				aws.ToString(get.ContentEncoding) != "identity" || aws.ToString(get.ContentDisposition) != `attachment; filename="x.png"` ||
				aws.ToString(get.CacheControl) != "max-age=60" || get.Metadata["owner"] != "me" || get.Metadata["trace-id"] != "abc 123" ||
				aws.ToInt64(get.ContentLength) != int64(tc.size) {
				t.Fatalf("GetObject attributes wrong: etag %s type %s enc %s disp %s cc %s meta %v len %d",
					aws.ToString(get.ETag), aws.ToString(get.ContentType), aws.ToString(get.ContentEncoding), aws.ToString(get.ContentDisposition),
					aws.ToString(get.CacheControl), get.Metadata, aws.ToInt64(get.ContentLength))
			}
			if get.ExpiresString == nil || *get.ExpiresString != expires.Format(http.TimeFormat) {
				t.Fatalf("Expires = %v", get.ExpiresString)
			}
			// The SDK sends CRC32 (a header over HTTP, a trailer over HTTPS).
			sum, sumName := get.ChecksumCRC32, "CRC32"
			if aws.ToString(sum) == "" || get.ChecksumType != types.ChecksumTypeFullObject {
				t.Fatalf("GetObject with checksum mode ENABLED returned %s %q type %q", sumName, aws.ToString(sum), get.ChecksumType)
			}
			head, err := tc.c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled})
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToString(head.ETag) != wantETag || aws.ToInt64(head.ContentLength) != int64(tc.size) || aws.ToString(head.ChecksumCRC32) != aws.ToString(get.ChecksumCRC32) ||
				aws.ToString(head.ChecksumCRC64NVME) != aws.ToString(get.ChecksumCRC64NVME) || head.LastModified == nil {
				t.Fatalf("HeadObject = etag %s len %d crc %s", aws.ToString(head.ETag), aws.ToInt64(head.ContentLength), aws.ToString(head.ChecksumCRC32))
			}
			// Without checksum mode no checksum is sent.
			h2, _ := tc.c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String(key)})
			if h2.ChecksumCRC32 != nil || h2.ChecksumCRC64NVME != nil {
				t.Fatalf("checksum returned without x-amz-checksum-mode")
			}
		})
	}
	_, err := e.c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("nope")})
	wantCode(t, err, "NoSuchKey")
	_, err = e.c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("nope")})
	wantCode(t, err, "NotFound")
}

func TestChecksumAlgorithms(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	b := e.bucket(t, "sums")
	data := randBytes(10000, 7)
	for _, algo := range []types.ChecksumAlgorithm{types.ChecksumAlgorithmCrc32, types.ChecksumAlgorithmCrc32c, types.ChecksumAlgorithmSha1, types.ChecksumAlgorithmSha256, types.ChecksumAlgorithmCrc64nvme} {
		for name, c := range map[string]*s3.Client{"http": e.c, "https": e.tls} {
			key := string(algo) + "-" + name
			if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String(key), Body: bytes.NewReader(data), ChecksumAlgorithm: algo}); err != nil {
				t.Fatalf("%s: %v", key, err)
			}
			get, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled})
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(get.Body) // the SDK validates the checksum while reading
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("%s: read %d bytes, %v", key, len(got), err)
			}
			var v *string
			switch algo {
			case types.ChecksumAlgorithmCrc32:
				v = get.ChecksumCRC32
			case types.ChecksumAlgorithmCrc32c:
				v = get.ChecksumCRC32C
			case types.ChecksumAlgorithmSha1:
				v = get.ChecksumSHA1
			case types.ChecksumAlgorithmSha256:
				v = get.ChecksumSHA256
			case types.ChecksumAlgorithmCrc64nvme:
				v = get.ChecksumCRC64NVME
			}
			if aws.ToString(v) == "" {
				t.Fatalf("%s: checksum not returned", key)
			}
		}
	}
	// A wrong checksum header is BadDigest and stores nothing.
	_, err := e.c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("bad"), Body: bytes.NewReader(data), ChecksumCRC32: aws.String("AAAAAA==")})
	wantCode(t, err, "BadDigest")
	_, err = e.c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("bad")})
	wantCode(t, err, "NotFound")
}

func TestRangeGet(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	b := e.bucket(t, "ranges")
	data := randBytes(3<<20+100, 3) // spans several 1 MiB chunks
	if _, err := e.c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("obj"), Body: bytes.NewReader(data)}); err != nil {
		t.Fatal(err)
	}
	n := int64(len(data))
	for _, tc := range []struct {
		rng        string
		start, end int64
	}{
		{"bytes=0-4", 0, 4},
		{"bytes=1048570-2097160", 1048570, 2097160},
		{"bytes=100-", 100, n - 1},
		{"bytes=-10", n - 10, n - 1},
		{"bytes=5-999999999", 5, n - 1},
	} {
		// Checksum mode ENABLED: a 206 must carry no full-object checksum,
		// or the SDK's validation would fail.
		out, err := e.c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("obj"), Range: aws.String(tc.rng), ChecksumMode: types.ChecksumModeEnabled})
		if err != nil {
			t.Fatalf("%s: %v", tc.rng, err)
		}
		got, err := io.ReadAll(out.Body)
		out.Body.Close()
		if err != nil {
			t.Fatalf("%s: %v", tc.rng, err)
		}
		if !bytes.Equal(got, data[tc.start:tc.end+1]) {
			t.Fatalf("%s: wrong bytes (%d)", tc.rng, len(got))
		}
		want := fmt.Sprintf("bytes %d-%d/%d", tc.start, tc.end, n)
		if aws.ToString(out.ContentRange) != want || out.ChecksumCRC32 != nil {
			t.Fatalf("%s: Content-Range %q (want %q), checksum %v", tc.rng, aws.ToString(out.ContentRange), want, out.ChecksumCRC32)
		}
	}
	_, err := e.c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("obj"), Range: aws.String(fmt.Sprintf("bytes=%d-", n))})
	wantCode(t, err, "InvalidRange")
	resp, body := raw(t, "GET", e.url+"/ranges/obj", nil, map[string]string{"Range": fmt.Sprintf("bytes=%d-%d", n+5, n+10)})
	wantXMLError(t, resp, body, 416, "InvalidRange")
	if got := resp.Header.Get("Content-Range"); got != fmt.Sprintf("bytes */%d", n) {
		t.Fatalf("416 Content-Range %q", got)
	}
}

func TestConditionals(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	b := e.bucket(t, "cond")
	put, err := e.c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("k"), Body: strings.NewReader("v1")})
	if err != nil {
		t.Fatal(err)
	}
	etag := aws.ToString(put.ETag)
	get := func(in *s3.GetObjectInput) error {
		in.Bucket, in.Key = aws.String(b), aws.String("k")
		out, err := e.c.GetObject(ctx, in)
		if err == nil {
			out.Body.Close()
		}
		return err
	}
	if err := get(&s3.GetObjectInput{IfMatch: aws.String(etag)}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, get(&s3.GetObjectInput{IfMatch: aws.String(`"nope"`)}), "PreconditionFailed")
	wantCode(t, get(&s3.GetObjectInput{IfNoneMatch: aws.String(etag)}), "NotModified")
	past, future := time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	wantCode(t, get(&s3.GetObjectInput{IfModifiedSince: &future}), "NotModified")
	if err := get(&s3.GetObjectInput{IfModifiedSince: &past}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, get(&s3.GetObjectInput{IfUnmodifiedSince: &past}), "PreconditionFailed")
	_, err = e.c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("k"), IfNoneMatch: aws.String(etag)})
	wantCode(t, err, "NotModified")
	resp, _ := raw(t, "GET", e.url+"/cond/k", nil, map[string]string{"If-None-Match": etag})
	if resp.StatusCode != 304 || resp.Header.Get("ETag") != etag {
		t.Fatalf("304 response: %d etag %q", resp.StatusCode, resp.Header.Get("ETag"))
	}

	// Conditional writes.
	_, err = e.c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("k"), Body: strings.NewReader("v2"), IfNoneMatch: aws.String("*")})
	wantCode(t, err, "PreconditionFailed")
	if _, err := e.c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("new"), Body: strings.NewReader("v"), IfNoneMatch: aws.String("*")}); err != nil {
		t.Fatal(err)
	}
	_, err = e.c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("k"), Body: strings.NewReader("v2"), IfMatch: aws.String(`"0123"`)})
	wantCode(t, err, "PreconditionFailed")
	_, err = e.c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("absent"), Body: strings.NewReader("v2"), IfMatch: aws.String(etag)})
	wantCode(t, err, "NoSuchKey")
	if _, err := e.c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("k"), Body: strings.NewReader("v2"), IfMatch: aws.String(etag)}); err != nil {
		t.Fatal(err)
	}
	out, _ := e.c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("k")})
	got, _ := io.ReadAll(out.Body)
	if string(got) != "v2" {
		t.Fatalf("after If-Match put: %q", got)
	}
}

func TestCopyObject(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	b := e.bucket(t, "src")
	d := e.bucket(t, "dst")
	data := randBytes(1<<20+300, 11)
	if _, err := e.c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("a b/c+d.bin"), Body: bytes.NewReader(data),
		ContentType: aws.String("text/x-test"), Metadata: map[string]string{"m": "1"}, Tagging: aws.String("t=1")}); err != nil {
		t.Fatal(err)
	}
	cp, err := e.c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(d), Key: aws.String("copy"), CopySource: aws.String("src/a b/c+d.bin")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(cp.CopyObjectResult.ETag) != `"`+md5hex(data)+`"` || cp.CopyObjectResult.LastModified == nil {
		t.Fatalf("CopyObjectResult %+v", cp.CopyObjectResult)
	}
	get, err := e.c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(d), Key: aws.String("copy"), ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(get.Body)
	if !bytes.Equal(got, data) || aws.ToString(get.ContentType) != "text/x-test" || get.Metadata["m"] != "1" || aws.ToInt32(get.TagCount) != 1 {
		t.Fatalf("copy: %d bytes, type %s, meta %v tags %d", len(got), aws.ToString(get.ContentType), get.Metadata, aws.ToInt32(get.TagCount))
	}
	// REPLACE metadata.
	if _, err := e.c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(d), Key: aws.String("copy"), CopySource: aws.String("dst/copy"),
		MetadataDirective: types.MetadataDirectiveReplace, ContentType: aws.String("a/b"), Metadata: map[string]string{"n": "2"}}); err != nil {
		t.Fatal(err)
	}
	h, _ := e.c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(d), Key: aws.String("copy")})
	if aws.ToString(h.ContentType) != "a/b" || h.Metadata["n"] != "2" || h.Metadata["m"] != "" || aws.ToInt64(h.ContentLength) != int64(len(data)) {
		t.Fatalf("after REPLACE: %s %v", aws.ToString(h.ContentType), h.Metadata)
	}
	_, err = e.c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(d), Key: aws.String("copy"), CopySource: aws.String("dst/copy")})
	wantCode(t, err, "InvalidRequest")
	_, err = e.c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(d), Key: aws.String("x"), CopySource: aws.String("src/missing")})
	wantCode(t, err, "NoSuchKey")
	_, err = e.c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(d), Key: aws.String("x"), CopySource: aws.String("src/a b/c+d.bin"), CopySourceIfMatch: aws.String(`"abc"`)})
	wantCode(t, err, "PreconditionFailed")
}

func TestDeleteObjects(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	b := e.bucket(t, "del")
	var ids []types.ObjectIdentifier
	for i := range 50 {
		k := fmt.Sprintf("k%03d", i)
		if _, err := e.c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String(k), Body: strings.NewReader(k)}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, types.ObjectIdentifier{Key: aws.String(k)})
	}
	ids = append(ids, types.ObjectIdentifier{Key: aws.String("never-existed")})
	out, err := e.c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(b), Delete: &types.Delete{Objects: ids}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Deleted) != 51 || len(out.Errors) != 0 {
		t.Fatalf("DeleteObjects: %d deleted, %d errors", len(out.Deleted), len(out.Errors))
	}
	l, _ := e.c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b)})
	if aws.ToInt32(l.KeyCount) != 0 {
		t.Fatalf("%d keys left", aws.ToInt32(l.KeyCount))
	}
	// Quiet mode reports nothing.
	e.c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("q"), Body: strings.NewReader("q")})
	out, err = e.c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(b), Delete: &types.Delete{Objects: ids[:1], Quiet: aws.Bool(true)}})
	if err != nil || len(out.Deleted) != 0 {
		t.Fatalf("quiet: %v %v", out.Deleted, err)
	}
	if _, err := e.c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String("q")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String("q")}); err != nil {
		t.Fatalf("deleting a missing key: %v", err)
	}
}

func TestList2000Keys(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	b := e.bucket(t, "many")
	var want []string
	for i := range 2000 {
		want = append(want, fmt.Sprintf("key/%05d", i))
	}
	s := e.srv.S3
	for _, k := range want {
		if _, err := s.PutObject(ctx, b, k, []byte("x"), ""); err != nil {
			t.Fatal(err)
		}
	}
	for _, max := range []int32{0, 1000, 500, 999, 7} {
		in := &s3.ListObjectsV2Input{Bucket: aws.String(b)}
		if max > 0 {
			in.MaxKeys = aws.Int32(max)
		}
		p := s3.NewListObjectsV2Paginator(e.c, in)
		var got []string
		pages := 0
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			if len(out.Contents) == 0 {
				t.Fatalf("max %d: empty page %d", max, pages)
			}
			if int(aws.ToInt32(out.KeyCount)) != len(out.Contents) {
				t.Fatalf("KeyCount %d for %d keys", aws.ToInt32(out.KeyCount), len(out.Contents))
			}
			for _, o := range out.Contents {
				got = append(got, aws.ToString(o.Key))
			}
		}
		eff := int(max)
		if eff == 0 {
			eff = 1000
		}
		if len(got) != 2000 || !sort.StringsAreSorted(got) || got[0] != want[0] || got[1999] != want[1999] || pages != (2000+eff-1)/eff {
			t.Fatalf("max %d: %d keys in %d pages", max, len(got), pages)
		}
	}
	// ListObjects V1 with Marker/NextMarker.
	var got []string
	marker := ""
	for {
		out, err := e.c.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String(b), Marker: aws.String(marker), MaxKeys: aws.Int32(600)})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range out.Contents {
			got = append(got, aws.ToString(o.Key))
		}
		if !aws.ToBool(out.IsTruncated) {
			break
		}
		marker = aws.ToString(out.NextMarker)
		if marker != got[len(got)-1] {
			t.Fatalf("NextMarker %q, last key %q", marker, got[len(got)-1])
		}
	}
	if len(got) != 2000 {
		t.Fatalf("V1 listed %d keys", len(got))
	}
}

func TestListDelimiterPrefix(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	b := e.bucket(t, "tree")
	keys := []string{"a.txt", "photos/2020/x.jpg", "photos/2020/y.jpg", "photos/2021/z.jpg", "photos/top.jpg", "videos/v.mp4", "z"}
	for _, k := range keys {
		if _, err := e.c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String(k), Body: strings.NewReader(k)}); err != nil {
			t.Fatal(err)
		}
	}
	out, err := e.c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b), Delimiter: aws.String("/")})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Contents) != 2 || len(out.CommonPrefixes) != 2 || aws.ToString(out.CommonPrefixes[0].Prefix) != "photos/" || aws.ToInt32(out.KeyCount) != 4 {
		t.Fatalf("root listing: %d keys %d prefixes KeyCount %d", len(out.Contents), len(out.CommonPrefixes), aws.ToInt32(out.KeyCount))
	}
	out, _ = e.c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b), Prefix: aws.String("photos/"), Delimiter: aws.String("/")})
	if len(out.Contents) != 1 || aws.ToString(out.Contents[0].Key) != "photos/top.jpg" || len(out.CommonPrefixes) != 2 {
		t.Fatalf("photos/: %+v %+v", out.Contents, out.CommonPrefixes)
	}
	// Pagination over common prefixes, one item per page.
	var items []string
	p := s3.NewListObjectsV2Paginator(e.c, &s3.ListObjectsV2Input{Bucket: aws.String(b), Delimiter: aws.String("/"), MaxKeys: aws.Int32(1)})
	for p.HasMorePages() {
		pg, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range pg.Contents {
			items = append(items, aws.ToString(o.Key))
		}
		for _, c := range pg.CommonPrefixes {
			items = append(items, aws.ToString(c.Prefix))
		}
	}
	if strings.Join(items, ",") != "a.txt,photos/,videos/,z" {
		t.Fatalf("paged delimiter listing: %v", items)
	}
	out, _ = e.c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b), StartAfter: aws.String("photos/2021/z.jpg")})
	if len(out.Contents) != 3 || aws.ToString(out.Contents[0].Key) != "photos/top.jpg" {
		t.Fatalf("StartAfter: %d keys", len(out.Contents))
	}
	// encoding-type=url encodes keys; the SDK hands them back encoded.
	e.c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("sp ace/ü+"), Body: strings.NewReader("")})
	out, _ = e.c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b), Prefix: aws.String("sp "), EncodingType: types.EncodingTypeUrl})
	if len(out.Contents) != 1 || aws.ToString(out.Contents[0].Key) != "sp+ace/%C3%BC%2B" || out.EncodingType != types.EncodingTypeUrl {
		t.Fatalf("encoded key %q", aws.ToString(out.Contents[0].Key))
	}
	_, err = e.c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("nobucket")})
	wantCode(t, err, "NoSuchBucket")
}

func TestMultipart(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	b := e.bucket(t, "mpu")
	for name, c := range map[string]*s3.Client{"http": e.c, "https": e.tls} {
		t.Run(name, func(t *testing.T) {
			key := "big/" + name
			part1 := randBytes(5<<20, 1)
			part2 := randBytes(1234, 2)
			cr, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(b), Key: aws.String(key),
				ContentType: aws.String("application/x-tar"), Metadata: map[string]string{"k": "v"}, ChecksumAlgorithm: types.ChecksumAlgorithmCrc32})
			if err != nil {
				t.Fatal(err)
			}
			id := cr.UploadId
			up1, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(b), Key: aws.String(key), UploadId: id, PartNumber: aws.Int32(1), Body: bytes.NewReader(part1), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32})
			if err != nil {
				t.Fatal(err)
			}
			up2, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(b), Key: aws.String(key), UploadId: id, PartNumber: aws.Int32(2), Body: bytes.NewReader(part2), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32})
			if err != nil {
				t.Fatal(err)
			}
			lp, err := c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String(b), Key: aws.String(key), UploadId: id})
			if err != nil || len(lp.Parts) != 2 || aws.ToInt64(lp.Parts[1].Size) != 1234 || aws.ToString(lp.Parts[0].ETag) != aws.ToString(up1.ETag) {
				t.Fatalf("ListParts %+v %v", lp, err)
			}
			lu, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(b)})
			if err != nil || len(lu.Uploads) != 1 || aws.ToString(lu.Uploads[0].UploadId) != aws.ToString(id) {
				t.Fatalf("ListMultipartUploads %+v %v", lu, err)
			}
			parts := []types.CompletedPart{
				{PartNumber: aws.Int32(1), ETag: up1.ETag, ChecksumCRC32: up1.ChecksumCRC32},
				{PartNumber: aws.Int32(2), ETag: up2.ETag, ChecksumCRC32: up2.ChecksumCRC32},
			}
			// Order and ETag errors.
			_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(b), Key: aws.String(key), UploadId: id,
				MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{parts[1], parts[0]}}})
			wantCode(t, err, "InvalidPartOrder")
			_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(b), Key: aws.String(key), UploadId: id,
				MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: aws.String(`"00"`)}}}})
			wantCode(t, err, "InvalidPart")
			_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(b), Key: aws.String(key), UploadId: id,
				MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(3), ETag: up1.ETag}}}})
			wantCode(t, err, "InvalidPart")
			comp, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(b), Key: aws.String(key), UploadId: id,
				MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
			if err != nil {
				t.Fatal(err)
			}
			m1, m2 := md5.Sum(part1), md5.Sum(part2)
			wantETag := `"` + md5hex(append(m1[:], m2[:]...)) + `-2"`
			if aws.ToString(comp.ETag) != wantETag || !strings.HasSuffix(aws.ToString(comp.ChecksumCRC32), "-2") || comp.ChecksumType != types.ChecksumTypeComposite {
				t.Fatalf("Complete ETag %s (want %s) crc %s type %s", aws.ToString(comp.ETag), wantETag, aws.ToString(comp.ChecksumCRC32), comp.ChecksumType)
			}
			head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled})
			if err != nil || aws.ToString(head.ETag) != wantETag || aws.ToInt64(head.ContentLength) != int64(len(part1)+len(part2)) ||
				aws.ToString(head.ContentType) != "application/x-tar" || head.Metadata["k"] != "v" || aws.ToString(head.ChecksumCRC32) != aws.ToString(comp.ChecksumCRC32) {
				t.Fatalf("HeadObject after complete: %+v %v", head, err)
			}
			get, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled})
			if err != nil {
				t.Fatal(err)
			}
			all, err := io.ReadAll(get.Body)
			if err != nil || !bytes.Equal(all, append(append([]byte{}, part1...), part2...)) || aws.ToString(get.ETag) != wantETag {
				t.Fatalf("GetObject after complete: %d bytes, etag %s, %v", len(all), aws.ToString(get.ETag), err)
			}
			lo, _ := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b), StartAfter: aws.String(key[:len(key)-1]), MaxKeys: aws.Int32(1)})
			if len(lo.Contents) != 1 || aws.ToString(lo.Contents[0].Key) != key || aws.ToString(lo.Contents[0].ETag) != wantETag {
				t.Fatalf("listing ETag %+v", lo.Contents)
			}
			// Part GET: the part's bytes with its own checksum (validated by the SDK).
			pg, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String(key), PartNumber: aws.Int32(2), ChecksumMode: types.ChecksumModeEnabled})
			if err != nil {
				t.Fatal(err)
			}
			p2, err := io.ReadAll(pg.Body)
			if err != nil || !bytes.Equal(p2, part2) || aws.ToInt32(pg.PartsCount) != 2 || aws.ToString(pg.ContentRange) != fmt.Sprintf("bytes %d-%d/%d", len(part1), len(part1)+len(part2)-1, len(part1)+len(part2)) {
				t.Fatalf("part GET: %d bytes parts %d range %s %v", len(p2), aws.ToInt32(pg.PartsCount), aws.ToString(pg.ContentRange), err)
			}
			_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String(key), PartNumber: aws.Int32(3)})
			wantCode(t, err, "InvalidPartNumber")
			_, err = c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(b), Key: aws.String(key), UploadId: id, PartNumber: aws.Int32(1), Body: bytes.NewReader(part2)})
			wantCode(t, err, "NoSuchUpload")
		})
	}

	// EntityTooSmall, Abort, NoSuchUpload.
	cr, _ := e.c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("small")})
	u1, _ := e.c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(b), Key: aws.String("small"), UploadId: cr.UploadId, PartNumber: aws.Int32(1), Body: strings.NewReader("tiny")})
	u2, _ := e.c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(b), Key: aws.String("small"), UploadId: cr.UploadId, PartNumber: aws.Int32(2), Body: strings.NewReader("tiny")})
	_, err := e.c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("small"), UploadId: cr.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: u1.ETag}, {PartNumber: aws.Int32(2), ETag: u2.ETag}}}})
	wantCode(t, err, "EntityTooSmall")
	// A single small part is fine (the last part may be small).
	one, err := e.c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("small"), UploadId: cr.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(2), ETag: u2.ETag}}}})
	if err != nil || !strings.HasSuffix(aws.ToString(one.ETag), `-1"`) {
		t.Fatalf("one-part complete: %v %v", one, err)
	}
	cr2, _ := e.c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("aborted")})
	if _, err := e.c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("aborted"), UploadId: cr2.UploadId}); err != nil {
		t.Fatal(err)
	}
	_, err = e.c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("aborted"), UploadId: cr2.UploadId})
	wantCode(t, err, "NoSuchUpload")
	_, err = e.c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String(b), Key: aws.String("aborted"), UploadId: cr2.UploadId})
	wantCode(t, err, "NoSuchUpload")

	// UploadPartCopy with a range.
	src := randBytes(6<<20, 9)
	e.c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("copysrc"), Body: bytes.NewReader(src)})
	cr3, _ := e.c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("copied")})
	pc1, err := e.c.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String(b), Key: aws.String("copied"), UploadId: cr3.UploadId, PartNumber: aws.Int32(1),
		CopySource: aws.String("mpu/copysrc"), CopySourceRange: aws.String("bytes=0-5242879")})
	if err != nil {
		t.Fatal(err)
	}
	pc2, err := e.c.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String(b), Key: aws.String("copied"), UploadId: cr3.UploadId, PartNumber: aws.Int32(2),
		CopySource: aws.String("mpu/copysrc"), CopySourceRange: aws.String("bytes=5242880-6291455")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("copied"), UploadId: cr3.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: pc1.CopyPartResult.ETag}, {PartNumber: aws.Int32(2), ETag: pc2.CopyPartResult.ETag}}}}); err != nil {
		t.Fatal(err)
	}
	g, _ := e.c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("copied")})
	gb, _ := io.ReadAll(g.Body)
	if !bytes.Equal(gb, src) {
		t.Fatalf("UploadPartCopy result differs (%d bytes)", len(gb))
	}
}

func TestFullObjectMultipartChecksum(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	b := e.bucket(t, "full")
	p1, p2 := randBytes(5<<20, 4), randBytes(100, 5)
	cr, err := e.c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("k"),
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc64nvme, ChecksumType: types.ChecksumTypeFullObject})
	if err != nil {
		t.Fatal(err)
	}
	var parts []types.CompletedPart
	for i, p := range [][]byte{p1, p2} {
		u, err := e.c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(b), Key: aws.String("k"), UploadId: cr.UploadId, PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(p), ChecksumAlgorithm: types.ChecksumAlgorithmCrc64nvme})
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: u.ETag})
	}
	// The client may send the full-object checksum on Complete: it is
	// checked against the assembled object.
	_, err = e.c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("k"), UploadId: cr.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}, ChecksumCRC64NVME: aws.String("AAAAAAAAAAA="), ChecksumType: types.ChecksumTypeFullObject})
	wantCode(t, err, "BadDigest")
	h := crc64.New(crc64.MakeTable(0x9a6c9329ac4bc9b5))
	h.Write(p1)
	h.Write(p2)
	full := base64.StdEncoding.EncodeToString(h.Sum(nil))
	comp, err := e.c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("k"), UploadId: cr.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}, ChecksumCRC64NVME: aws.String(full), ChecksumType: types.ChecksumTypeFullObject})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(comp.ChecksumCRC64NVME) != full {
		t.Fatalf("Complete CRC64NVME %q, want %q", aws.ToString(comp.ChecksumCRC64NVME), full)
	}
	if comp.ChecksumType != types.ChecksumTypeFullObject || aws.ToString(comp.ChecksumCRC64NVME) == "" || strings.Contains(aws.ToString(comp.ChecksumCRC64NVME), "-") {
		t.Fatalf("full-object checksum %q type %s", aws.ToString(comp.ChecksumCRC64NVME), comp.ChecksumType)
	}
	// The SDK validates the full-object CRC64NVME of the whole body.
	g, err := e.c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("k"), ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := io.ReadAll(g.Body); err != nil || len(got) != len(p1)+len(p2) {
		t.Fatalf("read: %d %v", len(got), err)
	}
}

func TestTagging(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	b := e.bucket(t, "tags")
	data := randBytes(4096, 8)
	e.c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("o"), Body: bytes.NewReader(data)})
	before, _ := e.c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("o")})
	for _, name := range []string{"http", "https"} {
		c := map[string]*s3.Client{"http": e.c, "https": e.tls}[name]
		if _, err := c.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String(b), Key: aws.String("o"),
			Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("env"), Value: aws.String(name)}, {Key: aws.String("team"), Value: aws.String("ml")}}}}); err != nil {
			t.Fatal(err)
		}
	}
	gt, err := e.c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(b), Key: aws.String("o")})
	if err != nil || len(gt.TagSet) != 2 || aws.ToString(gt.TagSet[0].Key) != "env" || aws.ToString(gt.TagSet[0].Value) != "https" {
		t.Fatalf("GetObjectTagging %+v %v", gt, err)
	}
	// Tagging must not touch the body, ETag or Last-Modified.
	g, _ := e.c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("o")})
	got, _ := io.ReadAll(g.Body)
	if !bytes.Equal(got, data) || aws.ToString(g.ETag) != aws.ToString(before.ETag) || aws.ToInt32(g.TagCount) != 2 || !g.LastModified.Equal(*before.LastModified) {
		t.Fatalf("PutObjectTagging changed the object: %d bytes etag %s", len(got), aws.ToString(g.ETag))
	}
	if _, err := e.c.DeleteObjectTagging(ctx, &s3.DeleteObjectTaggingInput{Bucket: aws.String(b), Key: aws.String("o")}); err != nil {
		t.Fatal(err)
	}
	gt, _ = e.c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(b), Key: aws.String("o")})
	if len(gt.TagSet) != 0 {
		t.Fatalf("tags after delete: %+v", gt.TagSet)
	}
	_, err = e.c.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String(b), Key: aws.String("missing"), Tagging: &types.Tagging{TagSet: []types.Tag{}}})
	wantCode(t, err, "NoSuchKey")

	_, err = e.c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String(b)})
	wantCode(t, err, "NoSuchTagSet")
	if _, err := e.c.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: aws.String(b), Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("project"), Value: aws.String("scones")}}}}); err != nil {
		t.Fatal(err)
	}
	bt, err := e.c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String(b)})
	if err != nil || len(bt.TagSet) != 1 || aws.ToString(bt.TagSet[0].Value) != "scones" {
		t.Fatalf("GetBucketTagging %+v %v", bt, err)
	}
	if _, err := e.c.DeleteBucketTagging(ctx, &s3.DeleteBucketTaggingInput{Bucket: aws.String(b)}); err != nil {
		t.Fatal(err)
	}
	_, err = e.c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String(b)})
	wantCode(t, err, "NoSuchTagSet")
	// Tags set at upload time.
	e.c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("t"), Body: strings.NewReader("x"), Tagging: aws.String("a=1&b=two%20words")})
	gt, _ = e.c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(b), Key: aws.String("t")})
	if len(gt.TagSet) != 2 || aws.ToString(gt.TagSet[1].Value) != "two words" {
		t.Fatalf("x-amz-tagging: %+v", gt.TagSet)
	}
}

func TestNotImplementedSubresources(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	b := e.bucket(t, "nib")
	e.c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("o"), Body: strings.NewReader("body")})

	_, err := e.c.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: aws.String(b), NotificationConfiguration: &types.NotificationConfiguration{}})
	wantCode(t, err, "NotImplemented")
	_, err = e.c.PutObjectAcl(ctx, &s3.PutObjectAclInput{Bucket: aws.String(b), Key: aws.String("o"), ACL: types.ObjectCannedACLPublicRead})
	wantCode(t, err, "NotImplemented")
	_, err = e.c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(b), VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}})
	wantCode(t, err, "NotImplemented")
	_, err = e.c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(b)})
	wantCode(t, err, "NotImplemented")
	_, err = e.c.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: aws.String(b), Key: aws.String("o"), ObjectAttributes: []types.ObjectAttributes{types.ObjectAttributesEtag}})
	wantCode(t, err, "NotImplemented")

	for _, q := range []string{"acl", "policy", "notification", "versions", "lifecycle", "cors", "website", "encryption", "object-lock",
		"retention", "legal-hold", "torrent", "restore", "select&select-type=2", "attributes", "replication", "logging", "ownershipControls",
		"publicAccessBlock", "unknownthing", "tagging&acl"} {
		for _, path := range []string{"/nib/o", "/nib"} {
			for _, m := range []string{"GET", "PUT", "POST", "DELETE"} {
				resp, body := raw(t, m, e.url+path+"?"+q, strings.NewReader("<Overwrite/>"), nil)
				wantXMLError(t, resp, body, 501, "NotImplemented")
			}
		}
	}
	// Parameters that do not belong to the operation are refused too.
	resp, body := raw(t, "PUT", e.url+"/nib/o?prefix=x", strings.NewReader("overwrite"), nil)
	wantXMLError(t, resp, body, 501, "NotImplemented")
	g, _ := e.c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("o")})
	got, _ := io.ReadAll(g.Body)
	if string(got) != "body" {
		t.Fatalf("refused requests changed the object: %q", got)
	}
	resp, body = raw(t, "POST", e.url+"/nib/o", nil, nil)
	wantXMLError(t, resp, body, 405, "MethodNotAllowed")
}

func TestPresigned(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	b := e.bucket(t, "pre")
	pc := s3.NewPresignClient(e.c)
	data := randBytes(5000, 12)
	put, err := pc.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("p/obj"), ContentType: aws.String("image/png")})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(put.Method, put.URL, bytes.NewReader(data))
	for k, v := range put.SignedHeader {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("ETag") != `"`+md5hex(data)+`"` {
		t.Fatalf("presigned PUT: %d etag %s", resp.StatusCode, resp.Header.Get("ETag"))
	}
	get, err := pc.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("p/obj")})
	if err != nil {
		t.Fatal(err)
	}
	resp2, err := http.Get(get.URL)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp2.Body)
	resp2.Body.Close()
	if resp2.StatusCode != 200 || !bytes.Equal(got, data) || resp2.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("presigned GET: %d, %d bytes, %s", resp2.StatusCode, len(got), resp2.Header.Get("Content-Type"))
	}
	// With signature checking on, a presigned URL still works.
	srv := startServer(t, emulatorOptionsVerify())
	c := newClient(srv.URL())
	c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("vvv")})
	c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("vvv"), Key: aws.String("k"), Body: bytes.NewReader(data)})
	get, _ = s3.NewPresignClient(c).PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("vvv"), Key: aws.String("k")})
	resp3, err := http.Get(get.URL)
	if err != nil {
		t.Fatal(err)
	}
	got, _ = io.ReadAll(resp3.Body)
	resp3.Body.Close()
	if resp3.StatusCode != 200 || !bytes.Equal(got, data) {
		t.Fatalf("presigned GET with verification: %d %s", resp3.StatusCode, got)
	}
}

func TestVirtualHostStyle(t *testing.T) {
	srv := startServer(t, emulatorOptions())
	_, port, _ := strings.Cut(strings.TrimPrefix(srv.URL(), "http://"), ":")
	ctx := context.Background()
	c := newClient("http://localhost:"+port, func(o *s3.Options) {
		o.UsePathStyle = false
		o.HTTPClient = localhostClient(port)
	})
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("vh.bucket")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("vh.bucket"), Key: aws.String("dir/a b"), Body: strings.NewReader("hello")}); err != nil {
		t.Fatal(err)
	}
	out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("vh.bucket")})
	if err != nil || len(out.Contents) != 1 || aws.ToString(out.Contents[0].Key) != "dir/a b" {
		t.Fatalf("virtual-host list: %+v %v", out, err)
	}
	// The same object is visible path-style.
	g, err := newClient(srv.URL()).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("vh.bucket"), Key: aws.String("dir/a b")})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(g.Body)
	if string(got) != "hello" {
		t.Fatalf("path-style read of virtual-host write: %q", got)
	}
	// Raw virtual-host request without a port in Host.
	req, _ := http.NewRequest("GET", srv.URL()+"/dir/a%20b", nil)
	req.Host = "vh.bucket.localhost"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "hello" {
		t.Fatalf("Host vh.bucket.localhost: %d %q", resp.StatusCode, body)
	}
}

func TestContentMD5(t *testing.T) {
	e := newEnv(t)
	e.bucket(t, "md5")
	body := "hello world"
	sum := md5.Sum([]byte(body))
	good := base64.StdEncoding.EncodeToString(sum[:])
	resp, b := raw(t, "PUT", e.url+"/md5/k", strings.NewReader(body), map[string]string{"Content-MD5": good})
	if resp.StatusCode != 200 {
		t.Fatalf("good Content-MD5: %d %s", resp.StatusCode, b)
	}
	resp, b = raw(t, "PUT", e.url+"/md5/k", strings.NewReader(body+"!"), map[string]string{"Content-MD5": good})
	wantXMLError(t, resp, b, 400, "BadDigest")
	resp, b = raw(t, "PUT", e.url+"/md5/k", strings.NewReader(body), map[string]string{"Content-MD5": "not-base64!"})
	wantXMLError(t, resp, b, 400, "InvalidDigest")
	resp, b = raw(t, "PUT", e.url+"/md5/k", strings.NewReader(body), map[string]string{"Content-MD5": "AAAA"})
	wantXMLError(t, resp, b, 400, "InvalidDigest")
	resp, b = raw(t, "PUT", e.url+"/md5/k", strings.NewReader(body), map[string]string{"x-amz-checksum-sha256": "AAAA"})
	wantXMLError(t, resp, b, 400, "InvalidRequest")
}

func TestMalformedXML(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.bucket(t, "xml")
	e.c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("xml"), Key: aws.String("o"), Body: strings.NewReader("x")})
	cr, _ := e.c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("xml"), Key: aws.String("m")})
	for _, tc := range []struct{ method, path, body string }{
		{"POST", "/xml?delete", "<Delete><Object><Key>a</Key></Object>"},
		{"POST", "/xml?delete", "not xml"},
		{"POST", "/xml?delete", "<Delete></Delete>"},
		{"POST", "/xml?delete", "<Other/>"},
		{"PUT", "/xml/o?tagging", "<Tagging><TagSet><Tag><Key>a</Key>"},
		{"PUT", "/xml/o?tagging", "<Tagging/>"},
		{"PUT", "/xml?tagging", ""},
		{"POST", "/xml/m?uploadId=" + aws.ToString(cr.UploadId), "<CompleteMultipartUpload></CompleteMultipartUpload>"},
		{"POST", "/xml/m?uploadId=" + aws.ToString(cr.UploadId), "<CompleteMultipartUpload><Part><PartNumber>x</PartNumber></Part></CompleteMultipartUpload>"},
		{"PUT", "/newbucket", "<CreateBucketConfiguration><LocationConstraint>"},
	} {
		resp, b := raw(t, tc.method, e.url+tc.path, strings.NewReader(tc.body), nil)
		wantXMLError(t, resp, b, 400, "MalformedXML")
	}
}

func TestObjectsInProcessAPI(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	s := e.srv.S3
	if err := s.CreateBucket(ctx, "inproc"); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateBucket(ctx, "inproc"); err != nil {
		t.Fatalf("CreateBucket must be idempotent in-process: %v", err)
	}
	big := randBytes(2<<20+3, 5)
	etag, err := s.PutObject(ctx, "inproc", "a/big", big, "application/x-npy")
	if err != nil || etag != `"`+md5hex(big)+`"` {
		t.Fatalf("PutObject %s %v", etag, err)
	}
	if _, err := s.PutObject(ctx, "inproc", "a/small", []byte("s"), ""); err != nil {
		t.Fatal(err)
	}
	data, info, err := s.GetObject(ctx, "inproc", "a/big")
	if err != nil || !bytes.Equal(data, big) || info.ContentType != "application/x-npy" || info.ETag != etag || info.Size != int64(len(big)) {
		t.Fatalf("GetObject: %d bytes %+v %v", len(data), info, err)
	}
	// SDK clients see what the Go API wrote, with a checksum they validate.
	g, err := e.c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("inproc"), Key: aws.String("a/big"), ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := io.ReadAll(g.Body); err != nil || !bytes.Equal(got, big) || g.ChecksumCRC64NVME == nil {
		t.Fatalf("SDK read of in-process write: %d %v", len(got), err)
	}
	list, err := s.ListObjects(ctx, "inproc", "a/")
	if err != nil || len(list) != 2 || list[0].Key != "a/big" || list[1].Key != "a/small" {
		t.Fatalf("ListObjects %+v %v", list, err)
	}
	if err := s.DeleteObject(ctx, "inproc", "a/big"); err != nil {
		t.Fatal(err)
	}
	_, err = s.HeadObject(ctx, "inproc", "a/big")
	assertCode(t, err, "NoSuchKey")
	_, _, err = s.GetObject(ctx, "nope", "x")
	assertCode(t, err, "NoSuchBucket")
	_, err = s.ListObjects(ctx, "nope", "")
	assertCode(t, err, "NoSuchBucket")
	assertCode(t, s.CreateBucket(ctx, "Bad_Name"), "InvalidBucketName")
}

func TestPersistence(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	srv := startServer(t, emulatorOptionsDir(dir))
	c := newClient(srv.URL())
	c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("keep")})
	small := randBytes(3000, 1)
	big := randBytes(3<<20+7, 2)
	c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("keep"), Key: aws.String("small"), Body: bytes.NewReader(small), Metadata: map[string]string{"a": "b"}})
	c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("keep"), Key: aws.String("big"), Body: bytes.NewReader(big)})
	cr, _ := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("keep"), Key: aws.String("pending")})
	c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("keep"), Key: aws.String("pending"), UploadId: cr.UploadId, PartNumber: aws.Int32(1), Body: bytes.NewReader(small)})
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}

	srv2 := startServer(t, emulatorOptionsDir(dir))
	c2 := newClient(srv2.URL())
	for key, want := range map[string][]byte{"small": small, "big": big} {
		g, err := c2.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("keep"), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled})
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(g.Body)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s after restart: %d bytes %v", key, len(got), err)
		}
		if key == "small" && g.Metadata["a"] != "b" {
			t.Fatalf("metadata lost: %v", g.Metadata)
		}
	}
	lp, err := c2.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("keep"), Key: aws.String("pending"), UploadId: cr.UploadId})
	if err != nil || len(lp.Parts) != 1 {
		t.Fatalf("upload after restart: %+v %v", lp, err)
	}
}
