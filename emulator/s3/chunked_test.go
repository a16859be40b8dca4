package s3_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func crc32b64(b []byte) string {
	v := crc32.ChecksumIEEE(b)
	return base64.StdEncoding.EncodeToString([]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// chunkedBody frames data as aws-chunked with chunks of size n, optional
// chunk signatures and trailers.
func chunkedBody(data []byte, n int, signed bool, trailers ...string) []byte {
	var b bytes.Buffer
	ext := func() string {
		if signed {
			return ";chunk-signature=" + strings.Repeat("0", 64)
		}
		return ""
	}
	for off := 0; off < len(data); off += n {
		end := min(off+n, len(data))
		fmt.Fprintf(&b, "%x%s\r\n", end-off, ext())
		b.Write(data[off:end])
		b.WriteString("\r\n")
	}
	fmt.Fprintf(&b, "0%s\r\n", ext())
	for _, t := range trailers {
		b.WriteString(t + "\r\n")
	}
	b.WriteString("\r\n")
	return b.Bytes()
}

func putChunked(t *testing.T, url string, framed []byte, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	return raw(t, "PUT", url, bytes.NewReader(framed), hdr)
}

func TestAWSChunkedRaw(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.bucket(t, "chunky")
	data := randBytes(200000, 21)
	sum := crc32b64(data)
	base := func(sha string, decoded int) map[string]string {
		return map[string]string{"Content-Encoding": "aws-chunked", "X-Amz-Content-Sha256": sha, "X-Amz-Decoded-Content-Length": strconv.Itoa(decoded)}
	}
	check := func(key string, want []byte, wantEnc string) {
		t.Helper()
		g, err := e.c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("chunky"), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled})
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(g.Body)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s: stored %d bytes, want %d (%v)", key, len(got), len(want), err)
		}
		if aws.ToString(g.ContentEncoding) != wantEnc {
			t.Fatalf("%s: stored Content-Encoding %q, want %q", key, aws.ToString(g.ContentEncoding), wantEnc)
		}
	}

	// Unsigned with a trailing checksum (what the SDKs send over HTTPS).
	h := base("STREAMING-UNSIGNED-PAYLOAD-TRAILER", len(data))
	h["X-Amz-Trailer"] = "x-amz-checksum-crc32"
	resp, b := putChunked(t, e.url+"/chunky/unsigned", chunkedBody(data, 65536, false, "x-amz-checksum-crc32:"+sum), h)
	if resp.StatusCode != 200 || resp.Header.Get("x-amz-checksum-crc32") != sum {
		t.Fatalf("unsigned trailer: %d %s", resp.StatusCode, b)
	}
	check("unsigned", data, "")

	// Signed chunks, no trailer; content encoding gzip kept.
	h = base("STREAMING-AWS4-HMAC-SHA256-PAYLOAD", len(data))
	h["Content-Encoding"] = "aws-chunked,gzip"
	resp, b = putChunked(t, e.url+"/chunky/signed", chunkedBody(data, 8192, true), h)
	if resp.StatusCode != 200 {
		t.Fatalf("signed: %d %s", resp.StatusCode, b)
	}
	check("signed", data, "gzip")

	// Signed chunks with trailer and trailer signature.
	h = base("STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", len(data))
	h["X-Amz-Trailer"] = "x-amz-checksum-crc32"
	resp, b = putChunked(t, e.url+"/chunky/signed-trailer", chunkedBody(data, 100000, true, "x-amz-checksum-crc32:"+sum, "x-amz-trailer-signature:"+strings.Repeat("1", 64)), h)
	if resp.StatusCode != 200 {
		t.Fatalf("signed trailer: %d %s", resp.StatusCode, b)
	}
	check("signed-trailer", data, "")

	// Empty body.
	h = base("STREAMING-UNSIGNED-PAYLOAD-TRAILER", 0)
	h["X-Amz-Trailer"] = "x-amz-checksum-crc32"
	resp, b = putChunked(t, e.url+"/chunky/empty", chunkedBody(nil, 10, false, "x-amz-checksum-crc32:"+crc32b64(nil)), h)
	if resp.StatusCode != 200 {
		t.Fatalf("empty: %d %s", resp.StatusCode, b)
	}
	check("empty", []byte{}, "")

	// Wrong trailing checksum.
	h = base("STREAMING-UNSIGNED-PAYLOAD-TRAILER", len(data))
	h["X-Amz-Trailer"] = "x-amz-checksum-crc32"
	resp, b = putChunked(t, e.url+"/chunky/bad", chunkedBody(data, 65536, false, "x-amz-checksum-crc32:AAAAAA=="), h)
	wantXMLError(t, resp, b, 400, "BadDigest")

	// Truncated bodies at every interesting point: IncompleteBody, and
	// nothing stored.
	full := chunkedBody(data, 65536, false, "x-amz-checksum-crc32:"+sum)
	for _, cut := range []int{1, 5, 100, 65536, 65545, len(full) - 40, len(full) - 3, len(full) - 1} {
		resp, b = putChunked(t, e.url+"/chunky/trunc", full[:cut], h)
		wantXMLError(t, resp, b, 400, "IncompleteBody")
	}
	// Decoded length that disagrees with the stream.
	h2 := base("STREAMING-UNSIGNED-PAYLOAD-TRAILER", len(data)+1)
	resp, b = putChunked(t, e.url+"/chunky/trunc", chunkedBody(data, 65536, false), h2)
	wantXMLError(t, resp, b, 400, "IncompleteBody")
	// Garbage framing.
	resp, b = putChunked(t, e.url+"/chunky/trunc", []byte("zz\r\nhello\r\n0\r\n\r\n"), base("STREAMING-UNSIGNED-PAYLOAD-TRAILER", 5))
	wantXMLError(t, resp, b, 400, "InvalidRequest")
	_, err := e.c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("chunky"), Key: aws.String("trunc")})
	wantCode(t, err, "NotFound")
	// A trailer announced but missing.
	resp, b = putChunked(t, e.url+"/chunky/trunc", chunkedBody(data, 65536, false), h)
	wantXMLError(t, resp, b, 400, "MalformedTrailerError")
}

// The SDK over HTTPS sends aws-chunked bodies with trailing CRC32; the
// stored object must be the payload, never the framing.
func TestAWSChunkedSDK(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.bucket(t, "sdkchunk")
	data := []byte("hello, seekable world\n")
	for name, body := range map[string]io.Reader{"seekable": bytes.NewReader(data), "stream": io.MultiReader(bytes.NewReader(data))} {
		out, err := e.tls.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("sdkchunk"), Key: aws.String(name), Body: body, ContentLength: aws.Int64(int64(len(data)))})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(out.ChecksumCRC32) != crc32b64(data) {
			t.Fatalf("%s: PutObject CRC32 %q, want %q", name, aws.ToString(out.ChecksumCRC32), crc32b64(data))
		}
		h, err := e.c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("sdkchunk"), Key: aws.String(name)})
		if err != nil || aws.ToInt64(h.ContentLength) != int64(len(data)) || h.ContentEncoding != nil {
			t.Fatalf("%s: stored length %d encoding %v (%v)", name, aws.ToInt64(h.ContentLength), h.ContentEncoding, err)
		}
	}
	// Non-seekable with no length: Transfer-Encoding chunked + aws-chunked.
	if _, err := e.tls.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("sdkchunk"), Key: aws.String("nolen"), Body: io.MultiReader(bytes.NewReader(data))}); err != nil {
		t.Fatal(err)
	}
	g, err := e.tls.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("sdkchunk"), Key: aws.String("nolen"), ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := io.ReadAll(g.Body); !bytes.Equal(got, data) {
		t.Fatalf("no-length upload stored %q", got)
	}
}
