package s3_test

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
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
