package s3_test

import (
	"bytes"
	"context"
	"io"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// With signature checking on, S3 requests of every body style verify, and
// a wrong secret is refused.
func TestWithSignatureVerification(t *testing.T) {
	srv := startServer(t, emulatorOptionsVerify())
	ts := httptest.NewTLSServer(srv.Handler())
	defer ts.Close()
	ctx := context.Background()
	c := newClient(srv.URL())
	tlsc := newClient(ts.URL, func(o *s3.Options) { o.HTTPClient = ts.Client() })
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("signed")}); err != nil {
		t.Fatal(err)
	}
	data := randBytes(100000, 3)
	for name, cl := range map[string]*s3.Client{"http": c, "https-aws-chunked": tlsc} {
		if _, err := cl.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("signed"), Key: aws.String(name), Body: bytes.NewReader(data)}); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out, err := cl.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("signed"), Key: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(out.Body)
		if !bytes.Equal(got, data) {
			t.Fatalf("%s: %d bytes back", name, len(got))
		}
	}
	bad := newClient(srv.URL(), func(o *s3.Options) { o.Credentials = credentials.NewStaticCredentialsProvider("test", "wrong", "") })
	_, err := bad.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("signed")})
	wantCode(t, err, "SignatureDoesNotMatch")
}
