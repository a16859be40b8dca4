package main

import (
	"bytes"
	"context"
	"crypto/md5"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
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
