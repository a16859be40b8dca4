package s3_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/scones/scones/emulator"
	"github.com/scones/scones/emulator/faults"
)

// Fault rules name S3 operations as AWS does, and apply once per request.
func TestFaultsByOperation(t *testing.T) {
	srv := startServer(t, emulator.Options{})
	c := newClient(srv.URL(), func(o *s3.Options) { o.RetryMaxAttempts = 1 })
	ctx := context.Background()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("faulty")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("faulty"), Key: aws.String("k"), Body: bytes.NewReader([]byte("x"))}); err != nil {
		t.Fatal(err)
	}
	if err := srv.Faults().Set([]faults.Rule{{Service: "s3", Operation: "PutObject", Rate: 1, Code: "SlowDown", Status: 503}}); err != nil {
		t.Fatal(err)
	}
	_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("faulty"), Key: aws.String("k"), Body: bytes.NewReader([]byte("y"))})
	wantCode(t, err, "SlowDown")
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("faulty"), Key: aws.String("k")})
	if err != nil {
		t.Fatalf("GetObject under a PutObject fault: %v", err)
	}
	out.Body.Close()
	if n := srv.Faults().Injected()["s3:PutObject"]; n != 1 {
		t.Errorf("s3:PutObject faults injected = %d, want 1 (one check per request)", n)
	}
	// A service-wide rule applies to every operation, still once.
	srv.Faults().Set([]faults.Rule{{Service: "s3", Rate: 1, Code: "ServiceUnavailable"}})
	_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("faulty"), Key: aws.String("k")})
	if err == nil {
		t.Fatal("HeadObject succeeded under a service-wide fault")
	}
	if n := srv.Faults().Injected()["s3:HeadObject"]; n != 1 {
		t.Errorf("s3:HeadObject faults injected = %d, want 1", n)
	}
}
