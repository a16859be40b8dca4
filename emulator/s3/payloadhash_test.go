package s3_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// A hex x-amz-content-sha256 is the SHA-256 of the body the client signed:
// S3 refuses a body that does not match it (XAmzContentSHA256Mismatch) and
// a value that is neither a digest nor one of the unsigned/streaming modes
// (InvalidArgument), for objects and for XML documents alike, and stores
// nothing.
func TestPayloadSHA256(t *testing.T) {
	e := newEnv(t)
	b := e.bucket(t, "payload-sha")
	body := []byte("scones, signed")
	sum := sha256.Sum256(body)
	good := hex.EncodeToString(sum[:])
	other := sha256.Sum256([]byte("something else"))
	wrong := hex.EncodeToString(other[:])
	obj := e.url + "/" + b + "/k"

	resp, out := raw(t, "PUT", obj, bytes.NewReader(body), map[string]string{"x-amz-content-sha256": wrong})
	wantXMLError(t, resp, out, 400, "XAmzContentSHA256Mismatch")
	if _, err := e.c.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("k")}); apiCode(err) != "NotFound" {
		t.Errorf("after a refused PUT, HeadObject: %v, want NotFound", err)
	}
	resp, out = raw(t, "PUT", obj, bytes.NewReader(body), map[string]string{"x-amz-content-sha256": "not-a-digest"})
	wantXMLError(t, resp, out, 400, "InvalidArgument")
	if !strings.Contains(string(out), "valid sha256 value") {
		t.Errorf("InvalidArgument message: %s", out)
	}
	for _, v := range []string{good, "UNSIGNED-PAYLOAD", strings.ToUpper(good)} {
		resp, out = raw(t, "PUT", obj, bytes.NewReader(body), map[string]string{"x-amz-content-sha256": v})
		if resp.StatusCode != 200 {
			t.Errorf("x-amz-content-sha256 %s: %d %s", v, resp.StatusCode, out)
		}
	}

	// Bodies of every shape: empty, longer than one chunk (hashed as they
	// stream into the store), and of unknown length (no Content-Length).
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16+1)
	for name, tc := range map[string]struct {
		body   []byte
		reader func([]byte) io.Reader
	}{
		"empty":          {nil, func(b []byte) io.Reader { return bytes.NewReader(b) }},
		"1 MiB + 16":     {big, func(b []byte) io.Reader { return bytes.NewReader(b) }},
		"unknown length": {body, func(b []byte) io.Reader { return io.MultiReader(bytes.NewReader(b)) }},
	} {
		s := sha256.Sum256(tc.body)
		resp, out = raw(t, "PUT", obj, tc.reader(tc.body), map[string]string{"x-amz-content-sha256": hex.EncodeToString(s[:])})
		if resp.StatusCode != 200 {
			t.Errorf("%s, right digest: %d %s", name, resp.StatusCode, out)
		}
		resp, out = raw(t, "PUT", obj, tc.reader(tc.body), map[string]string{"x-amz-content-sha256": wrong})
		wantXMLError(t, resp, out, 400, "XAmzContentSHA256Mismatch")
	}

	// An XML document (PutBucketTagging) is checked the same way.
	tagging := []byte(`<Tagging><TagSet><Tag><Key>a</Key><Value>b</Value></Tag></TagSet></Tagging>`)
	resp, out = raw(t, "PUT", e.url+"/"+b+"?tagging", bytes.NewReader(tagging), map[string]string{"x-amz-content-sha256": wrong})
	wantXMLError(t, resp, out, 400, "XAmzContentSHA256Mismatch")
	ts := sha256.Sum256(tagging)
	resp, out = raw(t, "PUT", e.url+"/"+b+"?tagging", bytes.NewReader(tagging), map[string]string{"x-amz-content-sha256": hex.EncodeToString(ts[:])})
	if resp.StatusCode != 200 && resp.StatusCode != 204 {
		t.Errorf("PutBucketTagging with the right digest: %d %s", resp.StatusCode, out)
	}
}
