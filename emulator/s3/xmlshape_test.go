package s3_test

import (
	"encoding/xml"
	"net/http"
	"strings"
	"testing"
	"time"
)

// node is a generic XML element, for checking response shapes field by
// field without reusing the package's own types.
type node struct {
	XMLName xml.Name
	Content string `xml:",chardata"`
	Nodes   []node `xml:",any"`
}

func parseNode(t *testing.T, body []byte) node {
	t.Helper()
	var n node
	if err := xml.Unmarshal(body, &n); err != nil {
		t.Fatalf("not XML: %v\n%s", err, body)
	}
	if !strings.HasPrefix(string(body), `<?xml version="1.0" encoding="UTF-8"?>`) {
		t.Fatalf("missing XML declaration: %s", body)
	}
	return n
}

func (n node) child(t *testing.T, path ...string) node {
	t.Helper()
	cur := n
outer:
	for _, p := range path {
		for _, c := range cur.Nodes {
			if c.XMLName.Local == p {
				cur = c
				continue outer
			}
		}
		t.Fatalf("<%s> has no <%s> (path %v)", cur.XMLName.Local, p, path)
	}
	return cur
}

func (n node) text(t *testing.T, path ...string) string {
	t.Helper()
	return strings.TrimSpace(n.child(t, path...).Content)
}

func (n node) has(name string) bool {
	for _, c := range n.Nodes {
		if c.XMLName.Local == name {
			return true
		}
	}
	return false
}

func (n node) all(name string) []node {
	var out []node
	for _, c := range n.Nodes {
		if c.XMLName.Local == name {
			out = append(out, c)
		}
	}
	return out
}

const s3ns = "http://s3.amazonaws.com/doc/2006-03-01/"

func wantRoot(t *testing.T, n node, name string) {
	t.Helper()
	if n.XMLName.Local != name || n.XMLName.Space != s3ns {
		t.Fatalf("root {%s}%s, want {%s}%s", n.XMLName.Space, n.XMLName.Local, s3ns, name)
	}
}

func wantISOTime(t *testing.T, s string) {
	t.Helper()
	if _, err := time.Parse("2006-01-02T15:04:05.000Z", s); err != nil {
		t.Fatalf("time %q is not ISO 8601 with milliseconds: %v", s, err)
	}
}

func TestXMLShapes(t *testing.T) {
	e := newEnv(t)
	u := e.url
	ok := func(method, path, body string, hdr map[string]string) (*http.Response, node) {
		t.Helper()
		resp, b := raw(t, method, u+path, strings.NewReader(body), hdr)
		if resp.StatusCode != 200 {
			t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
		}
		if resp.Header.Get("x-amz-request-id") == "" {
			t.Fatalf("%s %s: no x-amz-request-id", method, path)
		}
		if len(b) == 0 {
			return resp, node{}
		}
		return resp, parseNode(t, b)
	}
	ok("PUT", "/shapes", "", nil)
	resp, _ := ok("PUT", "/shapes/a%20b/c.txt", "hello", map[string]string{"Content-Type": "text/plain"})
	etag := resp.Header.Get("ETag")
	if etag != `"5d41402abc4b2a76b9719d911017c592"` {
		t.Fatalf("PUT ETag %s", etag)
	}
	ok("PUT", "/shapes/d/e", "x", nil)
	ok("PUT", "/shapes/f", "y", nil)

	// Headers of GET: GMT dates, request id.
	resp, _ = raw(t, "GET", u+"/shapes/f", nil, nil)
	if lm := resp.Header.Get("Last-Modified"); !strings.HasSuffix(lm, " GMT") {
		t.Fatalf("Last-Modified %q", lm)
	} else if _, err := time.Parse(http.TimeFormat, lm); err != nil {
		t.Fatalf("Last-Modified %q: %v", lm, err)
	}

	_, n := ok("GET", "/", "", nil)
	wantRoot(t, n, "ListAllMyBucketsResult")
	if n.text(t, "Owner", "ID") == "" || n.text(t, "Buckets", "Bucket", "Name") != "shapes" {
		t.Fatalf("ListAllMyBucketsResult %+v", n)
	}
	wantISOTime(t, n.text(t, "Buckets", "Bucket", "CreationDate"))

	_, n = ok("GET", "/shapes?list-type=2&delimiter=/&max-keys=2", "", nil)
	wantRoot(t, n, "ListBucketResult")
	if n.text(t, "Name") != "shapes" || n.text(t, "KeyCount") != "2" || n.text(t, "MaxKeys") != "2" || n.text(t, "IsTruncated") != "true" ||
		n.text(t, "Delimiter") != "/" || n.text(t, "NextContinuationToken") == "" || n.has("Marker") || !n.has("Prefix") {
		t.Fatalf("ListObjectsV2 page: %+v", n)
	}
	if len(n.all("CommonPrefixes")) != 2 || n.text(t, "CommonPrefixes", "Prefix") != "a b/" || len(n.all("Contents")) != 0 {
		t.Fatalf("ListObjectsV2 prefixes: %+v", n)
	}
	_, n = ok("GET", "/shapes?list-type=2&prefix=f", "", nil)
	c := n.child(t, "Contents")
	if c.text(t, "Key") != "f" || c.text(t, "ETag") != `"415290769594460e2e485922904f345d"` || c.text(t, "Size") != "1" ||
		c.text(t, "StorageClass") != "STANDARD" || c.has("Owner") || n.text(t, "KeyCount") != "1" || n.text(t, "IsTruncated") != "false" {
		t.Fatalf("ListObjectsV2 contents: %+v", c)
	}
	wantISOTime(t, c.text(t, "LastModified"))
	_, n = ok("GET", "/shapes?list-type=2&fetch-owner=true&prefix=f", "", nil)
	if n.text(t, "Contents", "Owner", "ID") == "" {
		t.Fatal("fetch-owner=true without Owner")
	}

	_, n = ok("GET", "/shapes?max-keys=1", "", nil)
	wantRoot(t, n, "ListBucketResult")
	if !n.has("Marker") || n.text(t, "NextMarker") != "a b/c.txt" || n.has("KeyCount") || n.text(t, "Contents", "Owner", "ID") == "" {
		t.Fatalf("ListObjects V1: %+v", n)
	}
	_, n = ok("GET", "/shapes?encoding-type=url&prefix=a%20", "", nil)
	if n.text(t, "EncodingType") != "url" || n.text(t, "Contents", "Key") != "a+b/c.txt" || n.text(t, "Prefix") != "a+" {
		t.Fatalf("encoding-type=url: %+v", n)
	}

	_, n = ok("GET", "/shapes?location", "", nil)
	wantRoot(t, n, "LocationConstraint")
	if n.Content != "" {
		t.Fatalf("LocationConstraint %q, want empty for us-east-1", n.Content)
	}
	_, n = ok("GET", "/shapes?versioning", "", nil)
	wantRoot(t, n, "VersioningConfiguration")

	_, n = ok("PUT", "/shapes/copy", "", map[string]string{"x-amz-copy-source": "/shapes/a%20b/c.txt"})
	wantRoot(t, n, "CopyObjectResult")
	if n.text(t, "ETag") != etag {
		t.Fatalf("CopyObjectResult ETag %q", n.text(t, "ETag"))
	}
	wantISOTime(t, n.text(t, "LastModified"))

	_, n = ok("POST", "/shapes/mp?uploads", "", nil)
	wantRoot(t, n, "InitiateMultipartUploadResult")
	id := n.text(t, "UploadId")
	if n.text(t, "Bucket") != "shapes" || n.text(t, "Key") != "mp" || id == "" {
		t.Fatalf("InitiateMultipartUploadResult %+v", n)
	}
	resp, _ = ok("PUT", "/shapes/mp?partNumber=1&uploadId="+id, "part", nil)
	pe := resp.Header.Get("ETag")
	_, n = ok("GET", "/shapes/mp?uploadId="+id, "", nil)
	wantRoot(t, n, "ListPartsResult")
	if n.text(t, "Part", "PartNumber") != "1" || n.text(t, "Part", "ETag") != pe || n.text(t, "Part", "Size") != "4" || n.text(t, "UploadId") != id {
		t.Fatalf("ListPartsResult %+v", n)
	}
	_, n = ok("GET", "/shapes?uploads", "", nil)
	wantRoot(t, n, "ListMultipartUploadsResult")
	if n.text(t, "Upload", "Key") != "mp" || n.text(t, "Upload", "UploadId") != id || n.text(t, "Bucket") != "shapes" {
		t.Fatalf("ListMultipartUploadsResult %+v", n)
	}
	_, n = ok("POST", "/shapes/mp?uploadId="+id, `<CompleteMultipartUpload xmlns="`+s3ns+`"><Part><PartNumber>1</PartNumber><ETag>`+pe+`</ETag></Part></CompleteMultipartUpload>`, nil)
	wantRoot(t, n, "CompleteMultipartUploadResult")
	if n.text(t, "Bucket") != "shapes" || n.text(t, "Key") != "mp" || !strings.HasSuffix(n.text(t, "ETag"), `-1"`) || !strings.HasSuffix(n.text(t, "Location"), "/shapes/mp") {
		t.Fatalf("CompleteMultipartUploadResult %+v", n)
	}

	_, n = ok("POST", "/shapes?delete", `<Delete><Object><Key>f</Key></Object><Object><Key>x</Key><VersionId>v1</VersionId></Object></Delete>`, nil)
	wantRoot(t, n, "DeleteResult")
	if n.text(t, "Deleted", "Key") != "f" || n.text(t, "Error", "Key") != "x" || n.text(t, "Error", "Code") != "NoSuchVersion" || n.text(t, "Error", "Message") == "" {
		t.Fatalf("DeleteResult %+v", n)
	}

	ok("PUT", "/shapes/d/e?tagging", `<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>`, nil)
	_, n = ok("GET", "/shapes/d/e?tagging", "", nil)
	wantRoot(t, n, "Tagging")
	if n.text(t, "TagSet", "Tag", "Key") != "k" || n.text(t, "TagSet", "Tag", "Value") != "v" {
		t.Fatalf("Tagging %+v", n)
	}

	r, b := raw(t, "GET", u+"/shapes/nope", nil, nil)
	wantXMLError(t, r, b, 404, "NoSuchKey")
	if n := parseNode(t, b); n.text(t, "Resource") != "/shapes/nope" {
		t.Fatalf("Error Resource %q", n.text(t, "Resource"))
	}
	r, b = raw(t, "HEAD", u+"/shapes/nope", nil, nil)
	if r.StatusCode != 404 || len(b) != 0 || r.Header.Get("x-amz-request-id") == "" {
		t.Fatalf("HEAD missing key: %d, %d body bytes", r.StatusCode, len(b))
	}
	r, b = raw(t, "GET", u+"/Bad_Bucket/k", nil, nil)
	wantXMLError(t, r, b, 400, "InvalidBucketName")
}
