package s3_test

import (
	"bytes"
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
	do := func(method, path string, body []byte) int {
		req := httptest.NewRequest(method, path, bytes.NewReader(body))
		if method == "PUT" && body != nil {
			req.Header.Set("X-Amz-Checksum-Crc32", sum)
			req.Header.Set("X-Amz-Sdk-Checksum-Algorithm", "CRC32")
		}
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=test/20261125/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0")
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
