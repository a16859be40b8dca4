package s3_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// cliEnv is the environment for the AWS CLI and boto3: static test
// credentials, one attempt, and no AWS_CA_BUNDLE (the machine sets one).
func cliEnv(dir string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "AWS_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_DEFAULT_REGION=us-east-1",
		"AWS_MAX_ATTEMPTS=1", "AWS_CONFIG_FILE="+filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "credentials"))
}

func TestAWSCLI(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("AWS CLI (aws) not installed: skipping the cross-check against the AWS CLI")
	}
	if testing.Short() {
		t.Skip("slow: runs the AWS CLI")
	}
	srv := startServer(t, emulatorOptions())
	dir := t.TempDir()
	env := cliEnv(dir)
	run := func(stdin []byte, args ...string) string {
		t.Helper()
		cmd := exec.Command("aws", append([]string{"--endpoint-url", srv.URL()}, args...)...)
		cmd.Env = env
		cmd.Dir = dir
		if stdin != nil {
			cmd.Stdin = bytes.NewReader(stdin)
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	write := func(rel string, b []byte) string {
		p := filepath.Join(dir, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	same := func(path string, want []byte) {
		t.Helper()
		got, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s: %d bytes differ from the %d uploaded (%v)", path, len(got), len(want), err)
		}
	}

	run(nil, "s3", "mb", "s3://cli-bucket")
	small := randBytes(3000, 1)
	big := randBytes(20<<20, 2) // multipart with the CLI's 8 MB parts
	run(nil, "s3", "cp", write("small.bin", small), "s3://cli-bucket/small.bin")
	run(nil, "s3", "cp", write("big.bin", big), "s3://cli-bucket/big.bin")
	run([]byte("from stdin\n"), "s3", "cp", "-", "s3://cli-bucket/stdin.txt")
	run(nil, "s3", "cp", "s3://cli-bucket/big.bin", filepath.Join(dir, "big.down"))
	same(filepath.Join(dir, "big.down"), big)
	run(nil, "s3", "cp", "s3://cli-bucket/small.bin", filepath.Join(dir, "small.down"))
	same(filepath.Join(dir, "small.down"), small)
	if out := run(nil, "s3", "cp", "s3://cli-bucket/stdin.txt", "-"); out != "from stdin\n" {
		t.Fatalf("cp to stdout: %q", out)
	}
	ls := run(nil, "s3", "ls", "s3://cli-bucket/")
	for _, k := range []string{"small.bin", "big.bin", "stdin.txt"} {
		if !strings.Contains(ls, k) {
			t.Fatalf("ls misses %s:\n%s", k, ls)
		}
	}
	head := run(nil, "s3api", "head-object", "--bucket", "cli-bucket", "--key", "big.bin")
	if !strings.Contains(head, `-3\"`) || !strings.Contains(head, "20971520") {
		t.Fatalf("head-object of a 3-part upload:\n%s", head)
	}

	if out := run(nil, "s3api", "head-object", "--bucket", "cli-bucket", "--key", "small.bin", "--checksum-mode", "ENABLED"); !strings.Contains(out, `"Checksum`) {
		t.Fatalf("head-object --checksum-mode ENABLED shows no checksum:\n%s", out)
	}
	run(nil, "s3api", "get-object", "--bucket", "cli-bucket", "--key", "small.bin", "--range", "bytes=100-199", filepath.Join(dir, "range.out"))
	same(filepath.Join(dir, "range.out"), small[100:200])
	if out := run(nil, "s3api", "list-objects-v2", "--bucket", "cli-bucket", "--max-items", "2"); !strings.Contains(out, "NextToken") {
		t.Fatalf("list-objects-v2 --max-items 2 has no NextToken:\n%s", out)
	}

	// sync up, then down, and compare.
	files := map[string][]byte{"tree/a.txt": []byte("a"), "tree/sub/b.bin": randBytes(70000, 3), "tree/sub/deeper/c c.txt": []byte("spaces"), "tree/d+e.txt": []byte("plus")}
	for rel, b := range files {
		write(rel, b)
	}
	run(nil, "s3", "sync", filepath.Join(dir, "tree"), "s3://cli-bucket/synced")
	if out := run(nil, "s3", "sync", filepath.Join(dir, "tree"), "s3://cli-bucket/synced"); strings.Contains(out, "upload:") {
		t.Fatalf("second sync uploaded again:\n%s", out)
	}
	run(nil, "s3", "sync", "s3://cli-bucket/synced", filepath.Join(dir, "back"))
	for rel, b := range files {
		same(filepath.Join(dir, "back", strings.TrimPrefix(rel, "tree/")), b)
	}

	run(nil, "s3api", "put-object", "--bucket", "cli-bucket", "--key", "meta.txt", "--body", write("meta.txt", []byte("m")),
		"--metadata", "color=blue,size=large", "--content-type", "text/plain")
	head = run(nil, "s3api", "head-object", "--bucket", "cli-bucket", "--key", "meta.txt")
	if !strings.Contains(head, `"color": "blue"`) || !strings.Contains(head, "text/plain") {
		t.Fatalf("head-object metadata:\n%s", head)
	}

	url := strings.TrimSpace(run(nil, "s3", "presign", "s3://cli-bucket/small.bin"))
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(got, small) {
		t.Fatalf("presigned GET: %d, %d bytes", resp.StatusCode, len(got))
	}

	run(nil, "s3", "rm", "--recursive", "s3://cli-bucket/")
	if out := run(nil, "s3", "ls", "--recursive", "s3://cli-bucket/"); strings.TrimSpace(out) != "" {
		t.Fatalf("left after rm --recursive:\n%s", out)
	}
	run(nil, "s3", "rb", "s3://cli-bucket")
}

// awsCLI runs the AWS CLI with env in dir and returns its trimmed output.
func awsCLI(t *testing.T, env []string, dir string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("aws", args...)
	cmd.Env = env
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// fetch GETs u with c and returns the status and body.
func fetch(t *testing.T, c *http.Client, u string) (int, []byte) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

// wantS3Error checks an S3 REST-XML error answer.
func wantS3Error(t *testing.T, what string, status int, body []byte, code, message string) {
	t.Helper()
	if status != http.StatusForbidden || !strings.Contains(string(body), "<Code>"+code+"</Code>") || !strings.Contains(string(body), message) {
		t.Fatalf("%s: want 403 %s (%q), got %d:\n%s", what, code, message, status, body)
	}
}

// With signature checking on, the URLs AWS CLI v1's `s3 presign` makes
// (S3 SigV2 query authentication: AWSAccessKeyId, Expires, Signature) are
// served, path-style and virtual-host-style, and a tampered, expired or
// foreign one is refused with S3's error codes.
func TestAWSCLIPresignVerified(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("AWS CLI (aws) not installed: skipping the SigV2 presigned-URL check against the AWS CLI")
	}
	if testing.Short() {
		t.Skip("slow: runs the AWS CLI")
	}
	srv := startServer(t, emulatorOptionsVerify())
	ctx := context.Background()
	c := newClient(srv.URL())
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("presign-bucket")}); err != nil {
		t.Fatal(err)
	}
	const key = "dir/a b+c.bin" // a space and a plus: the path is signed as sent, percent-encoded
	data := randBytes(5000, 7)
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("presign-bucket"), Key: aws.String(key), Body: bytes.NewReader(data)}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	env := cliEnv(dir)
	presign := func(env []string, endpoint string, args ...string) *url.URL {
		t.Helper()
		out, err := awsCLI(t, env, dir, append([]string{"--endpoint-url", endpoint, "s3", "presign", "s3://presign-bucket/" + key}, args...)...)
		if err != nil {
			t.Fatalf("aws s3 presign: %v\n%s", err, out)
		}
		u, err := url.Parse(out)
		if err != nil {
			t.Fatalf("aws s3 presign printed %q: %v", out, err)
		}
		if q := u.Query(); q.Get("AWSAccessKeyId") == "" || q.Get("Signature") == "" || q.Get("Expires") == "" || q.Has("X-Amz-Signature") {
			t.Fatalf("aws s3 presign no longer makes a SigV2 URL, which this test is about: %s", u)
		}
		return u
	}

	u := presign(env, srv.URL())
	if status, body := fetch(t, http.DefaultClient, u.String()); status != 200 || !bytes.Equal(body, data) {
		t.Fatalf("presigned GET: %d, %d bytes (want 200, %d bytes):\n%.300s", status, len(body), len(data), body)
	}

	// Virtual-host style (<bucket>.localhost): the bucket comes from the
	// Host into the signed resource. The client dials the emulator for
	// any name, as *.localhost need not resolve here.
	cfg := filepath.Join(dir, "virtual.cfg")
	if err := os.WriteFile(cfg, []byte("[default]\ns3 =\n    addressing_style = virtual\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := strings.TrimPrefix(srv.URL(), "http://")
	_, port, _ := net.SplitHostPort(addr)
	vu := presign(append(env[:len(env):len(env)], "AWS_CONFIG_FILE="+cfg), "http://localhost:"+port)
	if vu.Host != "presign-bucket.localhost:"+port {
		t.Fatalf("virtual-host presign gave host %q", vu.Host)
	}
	dialEmulator := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}}
	if status, body := fetch(t, dialEmulator, vu.String()); status != 200 || !bytes.Equal(body, data) {
		t.Fatalf("virtual-host presigned GET: %d, %d bytes:\n%.300s", status, len(body), body)
	}

	// Tampering: another signature, another object, a later expiry.
	edit := func(u *url.URL, f func(u *url.URL, q url.Values)) string {
		v := *u
		q := v.Query()
		f(&v, q)
		v.RawQuery = q.Encode()
		return v.String()
	}
	status, body := fetch(t, http.DefaultClient, edit(u, func(_ *url.URL, q url.Values) {
		sig := []byte(q.Get("Signature"))
		sig[0] ^= 1
		q.Set("Signature", string(sig))
	}))
	wantS3Error(t, "tampered signature", status, body, "SignatureDoesNotMatch", "does not match")
	status, body = fetch(t, http.DefaultClient, edit(u, func(u *url.URL, _ url.Values) {
		u.Path, u.RawPath = "/presign-bucket/dir/other.bin", ""
	}))
	wantS3Error(t, "signature moved to another key", status, body, "SignatureDoesNotMatch", "does not match")
	status, body = fetch(t, http.DefaultClient, edit(u, func(_ *url.URL, q url.Values) {
		exp, _ := strconv.ParseInt(q.Get("Expires"), 10, 64)
		q.Set("Expires", strconv.FormatInt(exp+3600, 10))
	}))
	wantS3Error(t, "extended expiry", status, body, "SignatureDoesNotMatch", "does not match")
	status, body = fetch(t, http.DefaultClient, edit(u, func(_ *url.URL, q url.Values) { q.Set("Expires", "tomorrow") }))
	wantS3Error(t, "malformed Expires", status, body, "AccessDenied", "Invalid date (should be seconds since epoch): tomorrow")

	// A key the emulator does not know.
	foreign := presign(append(env[:len(env):len(env)], "AWS_ACCESS_KEY_ID=AKIDNOTKNOWN"), srv.URL())
	status, body = fetch(t, http.DefaultClient, foreign.String())
	wantS3Error(t, "unknown access key", status, body, "InvalidAccessKeyId", "does not exist")

	// Expiry: a one-second URL, fetched once its Expires has passed.
	short := presign(env, srv.URL(), "--expires-in", "1")
	exp, err := strconv.ParseInt(short.Query().Get("Expires"), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(time.Unix(exp+1, 0)))
	status, body = fetch(t, http.DefaultClient, short.String())
	wantS3Error(t, "expired URL", status, body, "AccessDenied", "Request has expired")
}

// boto3SigV2Script speaks S3 SigV2 in the Authorization header
// (signature_version "s3"), including signed sub-resources (?tagging,
// ?uploads, ?partNumber&uploadId) and a presigned URL with a
// response-content-type override, and checks a wrong secret is refused.
const boto3SigV2Script = `
import boto3, sys
from botocore.config import Config
from botocore.exceptions import ClientError
cfg = Config(signature_version="s3", s3={"addressing_style": "path"})
s3 = boto3.client("s3", endpoint_url=sys.argv[1], config=cfg)
s3.create_bucket(Bucket="v2-bucket")
body = b"sigv2 " * 1000
s3.put_object(Bucket="v2-bucket", Key="dir/a b+c.txt", Body=body, ContentType="text/plain", Metadata={"who": "boto"})
g = s3.get_object(Bucket="v2-bucket", Key="dir/a b+c.txt")
assert g["Body"].read() == body and g["Metadata"] == {"who": "boto"}, g
keys = [o["Key"] for o in s3.list_objects_v2(Bucket="v2-bucket", Prefix="dir/")["Contents"]]
assert keys == ["dir/a b+c.txt"], keys
s3.put_object_tagging(Bucket="v2-bucket", Key="dir/a b+c.txt", Tagging={"TagSet": [{"Key": "a", "Value": "b"}]})
assert s3.get_object_tagging(Bucket="v2-bucket", Key="dir/a b+c.txt")["TagSet"] == [{"Key": "a", "Value": "b"}]
up = s3.create_multipart_upload(Bucket="v2-bucket", Key="mp")
p1 = s3.upload_part(Bucket="v2-bucket", Key="mp", UploadId=up["UploadId"], PartNumber=1, Body=b"x" * (5 << 20))
p2 = s3.upload_part(Bucket="v2-bucket", Key="mp", UploadId=up["UploadId"], PartNumber=2, Body=b"y")
s3.complete_multipart_upload(Bucket="v2-bucket", Key="mp", UploadId=up["UploadId"],
    MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": p1["ETag"]}, {"PartNumber": 2, "ETag": p2["ETag"]}]})
assert s3.head_object(Bucket="v2-bucket", Key="mp")["ContentLength"] == (5 << 20) + 1
bad = boto3.client("s3", endpoint_url=sys.argv[1], config=cfg, aws_access_key_id="test", aws_secret_access_key="wrong")
try:
    bad.list_objects_v2(Bucket="v2-bucket")
    raise SystemExit("a wrong secret was accepted")
except ClientError as e:
    assert e.response["Error"]["Code"] == "SignatureDoesNotMatch", e.response
print(s3.generate_presigned_url("get_object", Params={"Bucket": "v2-bucket", "Key": "dir/a b+c.txt", "ResponseContentType": "application/x-sigv2"}, ExpiresIn=300))
`

// TestBoto3SigV2Verified runs boto3 with S3 SigV2 against an emulator that
// checks signatures.
func TestBoto3SigV2Verified(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed: skipping the boto3 SigV2 cross-check")
	}
	if err := exec.Command(py, "-c", "import boto3").Run(); err != nil {
		t.Skip("boto3 not importable by python3: skipping the boto3 SigV2 cross-check")
	}
	if testing.Short() {
		t.Skip("slow: runs boto3")
	}
	srv := startServer(t, emulatorOptionsVerify())
	dir := t.TempDir()
	cmd := exec.Command(py, "-c", boto3SigV2Script, srv.URL())
	cmd.Env = cliEnv(dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("boto3 SigV2 script: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	u, err := url.Parse(lines[len(lines)-1])
	if err != nil || u.Query().Get("Signature") == "" || u.Query().Get("response-content-type") == "" {
		t.Fatalf("boto3 printed no SigV2 presigned URL with an override: %v\n%s", err, out)
	}
	resp, err := http.Get(u.String())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-sigv2" || !bytes.Equal(body, bytes.Repeat([]byte("sigv2 "), 1000)) {
		t.Fatalf("presigned GET with response-content-type: %d %q:\n%.300s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
}

const boto3Script = `
import boto3, hashlib, os, sys
from boto3.s3.transfer import TransferConfig
s3 = boto3.client("s3", endpoint_url=sys.argv[1])
s3.create_bucket(Bucket="boto-bucket")
small = os.urandom(3000)
r = s3.put_object(Bucket="boto-bucket", Key="dir/small", Body=small, Metadata={"k": "v"}, ContentType="image/png")
assert r["ETag"] == '"%s"' % hashlib.md5(small).hexdigest(), r["ETag"]
g = s3.get_object(Bucket="boto-bucket", Key="dir/small", ChecksumMode="ENABLED")
assert g["Body"].read() == small
assert g["Metadata"] == {"k": "v"} and g["ContentType"] == "image/png", g
rg = s3.get_object(Bucket="boto-bucket", Key="dir/small", Range="bytes=10-19")
assert rg["Body"].read() == small[10:20] and rg["ContentRange"] == "bytes 10-19/3000"
for i in range(30):
    s3.put_object(Bucket="boto-bucket", Key="many/%02d" % i, Body=b"x")
keys = []
for page in s3.get_paginator("list_objects_v2").paginate(Bucket="boto-bucket", Prefix="many/", PaginationConfig={"PageSize": 7}):
    keys += [o["Key"] for o in page.get("Contents", [])]
assert keys == ["many/%02d" % i for i in range(30)], keys
keys = []
for page in s3.get_paginator("list_objects").paginate(Bucket="boto-bucket", Prefix="many/", PaginationConfig={"PageSize": 7}):
    keys += [o["Key"] for o in page.get("Contents", [])]
assert len(keys) == 30, keys
# Multipart, by hand and through the transfer manager.
p1, p2 = os.urandom(5 * 1024 * 1024), os.urandom(1000)
up = s3.create_multipart_upload(Bucket="boto-bucket", Key="mp")
e1 = s3.upload_part(Bucket="boto-bucket", Key="mp", UploadId=up["UploadId"], PartNumber=1, Body=p1)["ETag"]
e2 = s3.upload_part(Bucket="boto-bucket", Key="mp", UploadId=up["UploadId"], PartNumber=2, Body=p2)["ETag"]
c = s3.complete_multipart_upload(Bucket="boto-bucket", Key="mp", UploadId=up["UploadId"],
    MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]})
assert c["ETag"].endswith('-2"'), c
assert s3.head_object(Bucket="boto-bucket", Key="mp")["ETag"] == c["ETag"]
assert s3.get_object(Bucket="boto-bucket", Key="mp")["Body"].read() == p1 + p2
big = os.urandom(20 * 1024 * 1024)
path = os.path.join(sys.argv[2], "big")
open(path, "wb").write(big)
cfg = TransferConfig(multipart_threshold=8 * 1024 * 1024, multipart_chunksize=8 * 1024 * 1024)
s3.upload_file(path, "boto-bucket", "big", Config=cfg)
s3.download_file("boto-bucket", "big", path + ".down", Config=cfg)
assert open(path + ".down", "rb").read() == big
s3.put_object_tagging(Bucket="boto-bucket", Key="dir/small", Tagging={"TagSet": [{"Key": "a", "Value": "b"}]})
assert s3.get_object(Bucket="boto-bucket", Key="dir/small")["Body"].read() == small
try:
    s3.get_object(Bucket="boto-bucket", Key="missing")
    raise SystemExit("no error for a missing key")
except s3.exceptions.NoSuchKey:
    pass
print("boto3 ok")
`

func TestBoto3(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed: skipping the boto3 cross-check")
	}
	if err := exec.Command(py, "-c", "import boto3").Run(); err != nil {
		t.Skip("boto3 not importable by python3: skipping the boto3 cross-check")
	}
	if testing.Short() {
		t.Skip("slow: runs boto3")
	}
	srv := startServer(t, emulatorOptions())
	dir := t.TempDir()
	cmd := exec.Command(py, "-c", boto3Script, srv.URL(), dir)
	cmd.Env = cliEnv(dir)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "boto3 ok") {
		t.Fatalf("boto3 script: %v\n%s", err, out)
	}
}
