package s3_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkHandler measures the server side alone (edge router plus S3,
// no network, no SDK): a 3 KB PUT and GET through srv.Handler().
func BenchmarkHandler(b *testing.B) {
	srv := startServer(b, emulatorOptions())
	h := srv.Handler()
	data := randBytes(3072, 1)
	sum := crc32b64(data)
	sha := sha256.Sum256(data)
	// The headers aws-sdk-go-v2 sends with a PutObject or GetObject over
	// plain HTTP.
	do := func(method, path string, body []byte) int {
		req := httptest.NewRequest(method, path, bytes.NewReader(body))
		hd := req.Header
		hd.Set("User-Agent", "aws-sdk-go-v2/1.41.0 ua/2.1 os/linux lang/go#1.26.8 md/GOOS#linux md/GOARCH#amd64 api/s3#1.95.0 m/E,Z,g")
		hd.Set("Accept-Encoding", "identity")
		hd.Set("Amz-Sdk-Invocation-Id", "8c3e6f5a-9f0e-4d59-a0a4-0e7c2b1d3f4a")
		hd.Set("Amz-Sdk-Request", "attempt=1; max=3")
		hd.Set("X-Amz-Date", "20261125T120000Z")
		hd.Set("X-Amz-Content-Sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
		if method == "PUT" && body != nil {
			hd.Set("Content-Type", "application/octet-stream")
			hd.Set("X-Amz-Checksum-Crc32", sum)
			hd.Set("X-Amz-Sdk-Checksum-Algorithm", "CRC32")
			hd.Set("X-Amz-Content-Sha256", hex.EncodeToString(sha[:]))
		}
		if method == "GET" {
			hd.Set("X-Amz-Checksum-Mode", "ENABLED")
		}
		hd.Set("Authorization", "AWS4-HMAC-SHA256 Credential=test/20261125/us-east-1/s3/aws4_request, SignedHeaders=accept-encoding;amz-sdk-invocation-id;amz-sdk-request;content-length;content-type;host;x-amz-checksum-crc32;x-amz-content-sha256;x-amz-date;x-amz-sdk-checksum-algorithm, Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w.Code
	}
	if c := do("PUT", "/hbench", nil); c != 200 {
		b.Fatal(c)
	}
	b.Run("put3KB", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if c := do("PUT", "/hbench/k?x-id=PutObject", data); c != 200 {
				b.Fatal(c)
			}
		}
	})
	b.Run("get3KB", func(b *testing.B) {
		// Its own object, so that it runs without put3KB (-bench Handler/get).
		if c := do("PUT", "/hbench/k?x-id=PutObject", data); c != 200 {
			b.Fatal(c)
		}
		b.ReportAllocs()
		for b.Loop() {
			if c := do("GET", "/hbench/k?x-id=GetObject", nil); c != 200 {
				b.Fatal(c)
			}
		}
	})
	// The same harness around a handler that does nothing but read the
	// body and answer, for scale.
	floor := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("ETag", `"x"`)
		if r.Method == http.MethodGet {
			w.Header().Set("Content-Length", "3072")
			w.Write(data)
		}
	})
	b.Run("floor-put3KB", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			req := httptest.NewRequest("PUT", "/hbench/k?x-id=PutObject", bytes.NewReader(data))
			floor.ServeHTTP(httptest.NewRecorder(), req)
		}
	})
	b.Run("floor-get3KB", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			req := httptest.NewRequest("GET", "/hbench/k?x-id=GetObject", nil)
			floor.ServeHTTP(httptest.NewRecorder(), req)
		}
	})
}
