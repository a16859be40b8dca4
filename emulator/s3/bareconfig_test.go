package s3_test

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// A client built from a bare aws.Config leaves RequestChecksumCalculation
// unset and then sends no request checksum at all; the emulator stores a
// CRC64NVME instead, as S3 does, and the SDK validates it on the way back.
func TestBareConfigClient(t *testing.T) {
	srv := startServer(t, emulatorOptions())
	ctx := context.Background()
	c := s3.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")},
		func(o *s3.Options) { o.BaseEndpoint = aws.String(srv.URL()); o.UsePathStyle = true })
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bare")}); err != nil {
		t.Fatal(err)
	}
	data := randBytes(3000, 6)
	put, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bare"), Key: aws.String("k"), Body: bytes.NewReader(data)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(put.ChecksumCRC64NVME) == "" || aws.ToString(put.ETag) != `"`+md5hex(data)+`"` {
		t.Fatalf("PutObject: crc64nvme %q etag %s", aws.ToString(put.ChecksumCRC64NVME), aws.ToString(put.ETag))
	}
	g, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bare"), Key: aws.String("k"), ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(g.Body)
	if err != nil || !bytes.Equal(got, data) || aws.ToString(g.ChecksumCRC64NVME) != aws.ToString(put.ChecksumCRC64NVME) {
		t.Fatalf("GetObject: %d bytes, crc %q, %v", len(got), aws.ToString(g.ChecksumCRC64NVME), err)
	}
}
