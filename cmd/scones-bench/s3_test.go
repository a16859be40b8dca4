package main

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/scones/scones/emulator"
)

// The AWS-work floor must satisfy the SDK with its default checksum
// settings (or the bench would count errors), and must refuse what S3
// refuses, or it would not be doing the work it stands for.
func TestAWSFloor(t *testing.T) {
	srv := httptest.NewServer(awsFloorHandler())
	defer srv.Close()
	ctx := context.Background()
	c := s3Client(srv.URL)
	body := bytes.Repeat([]byte("scones!"), 500)
	put, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("b"), Key: aws.String("k"), Body: bytes.NewReader(body)})
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf(`"%x"`, md5.Sum(body)); aws.ToString(put.ETag) != want {
		t.Fatalf("ETag %q", aws.ToString(put.ETag))
	}
	get, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("b"), Key: aws.String("k"), ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(get.Body)
	if err != nil || !bytes.Equal(got, body) || aws.ToString(get.ETag) != aws.ToString(put.ETag) || aws.ToString(get.ChecksumCRC32) == "" {
		t.Fatalf("GetObject: %d bytes, ETag %q, CRC32 %q, %v", len(got), aws.ToString(get.ETag), aws.ToString(get.ChecksumCRC32), err)
	}
	for name, h := range map[string][2]string{
		"wrong SHA-256": {"X-Amz-Content-Sha256", strings.Repeat("0", 64)},
		"wrong CRC32":   {"X-Amz-Checksum-Crc32", "AAAAAA=="},
	} {
		req, _ := http.NewRequest(http.MethodPut, srv.URL+"/b/bad", strings.NewReader("data"))
		req.Header.Set(h[0], h[1])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d", name, resp.StatusCode)
		}
	}
}

func TestParseStat(t *testing.T) {
	// A command name may hold spaces and parentheses; utime 250 and
	// stime 50 ticks are 3 s.
	line := "4242 (a (b) c) S 17 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0 1000 1000000 300 18446744073709551615"
	pid, ppid, comm, cpu, ok := parseStat(line)
	if !ok || pid != 4242 || ppid != 17 || comm != "a (b) c" || cpu != 3*time.Second {
		t.Fatalf("parseStat = %d %d %q %v %v", pid, ppid, comm, cpu, ok)
	}
	if _, _, _, _, ok := parseStat("4242 (x) S 1"); ok {
		t.Fatal("short line parsed")
	}
}

// BenchmarkHandlers runs a 3 KB PutObject and GetObject, with the headers
// aws-sdk-go-v2 sends, through each server's handler with no network: the
// bare floor, the AWS-work floor and the emulator. The difference between
// the last two is the emulator's own work per request.
func BenchmarkHandlers(b *testing.B) {
	srv, err := emulator.New(emulator.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	data := bytes.Repeat([]byte("scones!"), objectSize/7+1)[:objectSize]
	var c [4]byte
	binary.BigEndian.PutUint32(c[:], crc32.ChecksumIEEE(data))
	crc := base64.StdEncoding.EncodeToString(c[:])
	sha := sha256.Sum256(data)
	do := func(h http.Handler, method, path string, body []byte) int {
		req := httptest.NewRequest(method, path, bytes.NewReader(body))
		hd := req.Header
		hd.Set("User-Agent", "aws-sdk-go-v2/1.41.0 ua/2.1 os/linux lang/go#1.26.8 md/GOOS#linux md/GOARCH#amd64 api/s3#1.95.0 m/E,Z,g")
		hd.Set("Accept-Encoding", "identity")
		hd.Set("Amz-Sdk-Invocation-Id", "8c3e6f5a-9f0e-4d59-a0a4-0e7c2b1d3f4a")
		hd.Set("Amz-Sdk-Request", "attempt=1; max=3")
		hd.Set("X-Amz-Date", "20261125T120000Z")
		hd.Set("X-Amz-Content-Sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
		if method == http.MethodPut && body != nil {
			hd.Set("Content-Type", "application/octet-stream")
			hd.Set("X-Amz-Checksum-Crc32", crc)
			hd.Set("X-Amz-Sdk-Checksum-Algorithm", "CRC32")
			hd.Set("X-Amz-Content-Sha256", hex.EncodeToString(sha[:]))
		}
		if method == http.MethodGet {
			hd.Set("X-Amz-Checksum-Mode", "ENABLED")
		}
		hd.Set("Authorization", "AWS4-HMAC-SHA256 Credential=test/20261125/us-east-1/s3/aws4_request, SignedHeaders=accept-encoding;amz-sdk-invocation-id;amz-sdk-request;content-length;content-type;host;x-amz-checksum-crc32;x-amz-content-sha256;x-amz-date;x-amz-sdk-checksum-algorithm, Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w.Code
	}
	for _, t := range []struct {
		name string
		h    http.Handler
	}{{"floor", floorHandler()}, {"aws-floor", awsFloorHandler()}, {"emulator", srv.Handler()}} {
		if code := do(t.h, http.MethodPut, "/hbench", nil); code != http.StatusOK && t.name == "emulator" {
			b.Fatalf("CreateBucket: %d", code)
		}
		if code := do(t.h, http.MethodPut, "/hbench/k", data); code != http.StatusOK {
			b.Fatalf("%s PutObject: %d", t.name, code)
		}
		for _, op := range []string{http.MethodPut, http.MethodGet} {
			body := data
			if op == http.MethodGet {
				body = nil
			}
			b.Run(t.name+"/"+op, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if code := do(t.h, op, "/hbench/k", body); code != http.StatusOK {
						b.Fatalf("%d", code)
					}
				}
			})
		}
	}
}
