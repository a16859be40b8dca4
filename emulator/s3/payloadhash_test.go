package s3_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"hash/crc32"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/scones/scones/emulator"
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

// x-amz-content-sha256 is the payload hash SigV4 signs. Without
// --verify-signatures it is compared with the body only when it is the
// body's one digest: a body that also carries Content-MD5 or an
// x-amz-checksum-* header is checked against those instead (a wrong one is
// still BadDigest, and nothing is stored). With --verify-signatures a
// correctly signed request whose body does not match its signed hash is
// refused whatever else it carries.
func TestPayloadSHA256WithOtherDigest(t *testing.T) {
	body := []byte("scones, checked by CRC32")
	other := sha256.Sum256([]byte("something else"))
	wrong := hex.EncodeToString(other[:])
	var c [4]byte
	binary.BigEndian.PutUint32(c[:], crc32.ChecksumIEEE(body))
	crc := base64.StdEncoding.EncodeToString(c[:])
	m := md5.Sum(body)
	contentMD5 := base64.StdEncoding.EncodeToString(m[:])

	e := newEnv(t)
	b := e.bucket(t, "payload-other")
	obj := e.url + "/" + b + "/k"
	for name, hdr := range map[string]map[string]string{
		"CRC32":       {"x-amz-checksum-crc32": crc},
		"Content-MD5": {"Content-MD5": contentMD5},
	} {
		hdr["x-amz-content-sha256"] = wrong
		resp, out := raw(t, "PUT", obj, bytes.NewReader(body), hdr)
		if resp.StatusCode != 200 {
			t.Fatalf("%s right, SHA-256 wrong, signatures not checked: %d %s, want 200", name, resp.StatusCode, out)
		}
		got, err := e.c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("k")})
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(got.Body)
		got.Body.Close()
		if !bytes.Equal(data, body) {
			t.Errorf("%s: stored %q, want %q", name, data, body)
		}
	}
	resp, out := raw(t, "PUT", e.url+"/"+b+"/k2", bytes.NewReader(body), map[string]string{"x-amz-content-sha256": wrong, "x-amz-checksum-crc32": "AAAAAA=="})
	wantXMLError(t, resp, out, 400, "BadDigest")
	if _, err := e.c.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("k2")}); apiCode(err) != "NotFound" {
		t.Errorf("after a refused PUT, HeadObject: %v, want NotFound", err)
	}

	// With signatures checked: sign for one payload hash, send a body with
	// another and its right CRC32.
	srv := startServer(t, emulator.Options{VerifySignatures: true})
	sc := newClient(srv.URL())
	if _, err := sc.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
		t.Fatal(err)
	}
	right := sha256.Sum256(body)
	for _, tc := range []struct {
		hash string
		want int
	}{{wrong, 400}, {hex.EncodeToString(right[:]), 200}} {
		req, err := http.NewRequest("PUT", srv.URL()+"/"+b+"/k", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("x-amz-checksum-crc32", crc)
		req.Header.Set("x-amz-content-sha256", tc.hash)
		if err := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true }).SignHTTP(context.Background(),
			aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test"}, req, tc.hash, "s3", "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if tc.want == 400 {
			wantXMLError(t, resp, out, 400, "XAmzContentSHA256Mismatch")
		} else if resp.StatusCode != 200 {
			t.Errorf("signed with the right hash: %d %s", resp.StatusCode, out)
		}
	}
}
