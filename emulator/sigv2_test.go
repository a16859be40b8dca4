package emulator

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/scones/scones/emulator/awsapi"
)

// The example credentials of AWS's SigV2 page ("Signing and authenticating
// REST requests", Authentication examples).
const (
	docAccessKey = "AKIAIOSFODNN7EXAMPLE"
	docSecret    = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)

// sigV2Example is one worked example from AWS's page: the request, the
// StringToSign and the signature the page prints.
type sigV2Example struct {
	name, method, target, host string
	headers                    [][2]string
	stringToSign, signature    string
}

// The page's signatures were computed for the bucket "johnsmith", the name
// the page used until it was renamed awsexamplebucket1 (the signatures were
// not recomputed then), so the examples use johnsmith. Virtual-host-style
// hosts are written the emulator's way (<bucket>.localhost): SigV2 signs
// the bucket a Host names, not the Host itself, so the golden values hold.
var sigV2DocExamples = []sigV2Example{
	{
		name: "Object GET", method: "GET", target: "/photos/puppy.jpg", host: "johnsmith.localhost",
		headers:      [][2]string{{"Date", "Tue, 27 Mar 2007 19:36:42 +0000"}},
		stringToSign: "GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/johnsmith/photos/puppy.jpg",
		signature:    "bWq2s1WEIj+Ydj0vQ697zp+IXMU=",
	},
	{
		name: "Object PUT", method: "PUT", target: "/photos/puppy.jpg", host: "johnsmith.localhost",
		headers:      [][2]string{{"Content-Type", "image/jpeg"}, {"Content-Length", "94328"}, {"Date", "Tue, 27 Mar 2007 21:15:45 +0000"}},
		stringToSign: "PUT\n\nimage/jpeg\nTue, 27 Mar 2007 21:15:45 +0000\n/johnsmith/photos/puppy.jpg",
		signature:    "MyyxeRY7whkBe+bq8fHCL/2kKUg=",
	},
	{
		name: "List", method: "GET", target: "/?prefix=photos&max-keys=50&marker=puppy", host: "johnsmith.localhost",
		headers:      [][2]string{{"User-Agent", "Mozilla/5.0"}, {"Date", "Tue, 27 Mar 2007 19:42:41 +0000"}},
		stringToSign: "GET\n\n\nTue, 27 Mar 2007 19:42:41 +0000\n/johnsmith/",
		signature:    "htDYFYduRNen8P9ZfE/s9SuKy0U=",
	},
	{
		name: "Fetch ?acl", method: "GET", target: "/?acl", host: "johnsmith.localhost",
		headers:      [][2]string{{"Date", "Tue, 27 Mar 2007 19:44:46 +0000"}},
		stringToSign: "GET\n\n\nTue, 27 Mar 2007 19:44:46 +0000\n/johnsmith/?acl",
		signature:    "c2WLPFtWHVgbEmeEG93a4cG37dM=",
	},
	{
		// The page's CNAME-style host static.johnsmith.net:8080, as the
		// emulator spells a virtual host.
		name: "Upload with x-amz-* headers", method: "PUT", target: "/db-backup.dat.gz", host: "static.johnsmith.net.localhost:8080",
		headers: [][2]string{
			{"User-Agent", "curl/7.15.5"}, {"Date", "Tue, 27 Mar 2007 21:06:08 +0000"},
			{"x-amz-acl", "public-read"}, {"content-type", "application/x-download"},
			{"Content-MD5", "4gJE4saaMU4BqNR0kLY+lw=="},
			{"X-Amz-Meta-ReviewedBy", "joe@johnsmith.net"}, {"X-Amz-Meta-ReviewedBy", "jane@johnsmith.net"},
			{"X-Amz-Meta-FileChecksum", "0x02661779"}, {"X-Amz-Meta-ChecksumAlgorithm", "crc32"},
			{"Content-Disposition", "attachment; filename=database.dat"}, {"Content-Encoding", "gzip"},
			{"Content-Length", "5913339"},
		},
		stringToSign: "PUT\n4gJE4saaMU4BqNR0kLY+lw==\napplication/x-download\nTue, 27 Mar 2007 21:06:08 +0000\n" +
			"x-amz-acl:public-read\nx-amz-meta-checksumalgorithm:crc32\nx-amz-meta-filechecksum:0x02661779\n" +
			"x-amz-meta-reviewedby:joe@johnsmith.net,jane@johnsmith.net\n/static.johnsmith.net/db-backup.dat.gz",
		signature: "ilyl83RwaSoYIEdixDQcA4OnAnc=",
	},
	{
		name: "List all my buckets", method: "GET", target: "/", host: "s3.localhost",
		headers:      [][2]string{{"Date", "Wed, 28 Mar 2007 01:29:59 +0000"}},
		stringToSign: "GET\n\n\nWed, 28 Mar 2007 01:29:59 +0000\n/",
		signature:    "qGdzdERIC03wnaRNKh6OqZehG9s=",
	},
	{
		name: "Unicode keys, path-style", method: "GET", target: "/dictionary/fran%C3%A7ais/pr%c3%a9f%c3%a8re", host: "s3.localhost",
		headers:      [][2]string{{"Date", "Wed, 28 Mar 2007 01:49:49 +0000"}},
		stringToSign: "GET\n\n\nWed, 28 Mar 2007 01:49:49 +0000\n/dictionary/fran%C3%A7ais/pr%c3%a9f%c3%a8re",
		signature:    "DNEZGsoieTZ92F3bUfSPQcbGmlM=",
	},
}

func docRequest(ex sigV2Example, auth string) *http.Request {
	r := httptest.NewRequest(ex.method, ex.target, nil)
	r.Host = ex.host
	for _, h := range ex.headers {
		r.Header.Add(h[0], h[1])
	}
	if auth != "" {
		r.Header.Set("Authorization", auth)
	}
	return r
}

func wantAPIError(t *testing.T, err error, status int, code string) *awsapi.Error {
	t.Helper()
	var ae *awsapi.Error
	if !errors.As(err, &ae) || ae.Code != code || ae.Status != status {
		t.Fatalf("error = %v, want %d %s", err, status, code)
	}
	return ae
}

// TestSigV2DocExamples checks the StringToSign, the signature and the whole
// verification of the header form against AWS's worked examples.
func TestSigV2DocExamples(t *testing.T) {
	creds := map[string]string{docAccessKey: docSecret}
	now := time.Date(2007, 3, 28, 0, 0, 0, 0, time.UTC)
	for _, ex := range sigV2DocExamples {
		t.Run(ex.name, func(t *testing.T) {
			r := docRequest(ex, "AWS "+docAccessKey+":"+ex.signature)
			if got := stringToSignV2(r, r.URL.Query(), r.Header.Get("Date"), false); got != ex.stringToSign {
				t.Fatalf("StringToSign\n got %q\nwant %q", got, ex.stringToSign)
			}
			if got := signV2(docSecret, ex.stringToSign); got != ex.signature {
				t.Fatalf("signature %s, want %s", got, ex.signature)
			}
			if SigningService(r) != "s3" {
				t.Fatalf("SigV2 request routed to %q, want s3", SigningService(r))
			}
			if err := verifySignature(r, creds, now); err != nil {
				t.Fatalf("AWS's own example refused: %v", err)
			}
			bad := docRequest(ex, "AWS "+docAccessKey+":"+signV2("not the secret", ex.stringToSign))
			ae := wantAPIError(t, verifySignature(bad, creds, now), 403, "SignatureDoesNotMatch")
			if !strings.Contains(ae.Message, `"`+strings.ReplaceAll(ex.stringToSign, "\n", `\n`)+`"`) {
				t.Fatalf("message does not show the string to sign: %s", ae.Message)
			}
			changed := docRequest(ex, "AWS "+docAccessKey+":"+ex.signature)
			changed.Header.Set("X-Amz-Meta-Added", "after signing")
			wantAPIError(t, verifySignature(changed, creds, now), 403, "SignatureDoesNotMatch")
		})
	}
}

// An earlier edition of the same AWS page signed a DELETE that sets
// x-amz-date (with that edition's example key pair): the Date slot is then
// empty and x-amz-date is signed among the x-amz-* headers.
func TestSigV2DocExampleXAmzDate(t *testing.T) {
	ex := sigV2Example{
		method: "DELETE", target: "/johnsmith/photos/puppy.jpg", host: "s3.localhost",
		headers: [][2]string{{"User-Agent", "dotnet"}, {"Date", "Tue, 27 Mar 2007 21:20:27 +0000"}, {"x-amz-date", "Tue, 27 Mar 2007 21:20:26 +0000"}},
	}
	const key, secret = "0PN5J17HBGZHT7JJ3X82", "uV3F3YluFJax1cknvbcGwgjvx4QpvB+leU8dUj2o"
	const sts = "DELETE\n\n\n\nx-amz-date:Tue, 27 Mar 2007 21:20:26 +0000\n/johnsmith/photos/puppy.jpg"
	r := docRequest(ex, "AWS "+key+":k3nL7gH3+PadhTEVn5Ip83xlYzk=")
	if got := stringToSignV2(r, r.URL.Query(), "", false); got != sts {
		t.Fatalf("StringToSign\n got %q\nwant %q", got, sts)
	}
	if err := verifySignature(r, map[string]string{key: secret}, time.Now()); err != nil {
		t.Fatal(err)
	}
}

// The page's query-string example: Expires takes the Date slot.
func TestSigV2DocQueryExample(t *testing.T) {
	creds := map[string]string{docAccessKey: docSecret}
	target := "/photos/puppy.jpg?AWSAccessKeyId=" + docAccessKey + "&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D&Expires=1175139620"
	req := func(target string) *http.Request {
		r := httptest.NewRequest("GET", target, nil)
		r.Host = "johnsmith.localhost"
		return r
	}
	r := req(target)
	if got, want := stringToSignV2(r, r.URL.Query(), "1175139620", true), "GET\n\n\n1175139620\n/johnsmith/photos/puppy.jpg"; got != want {
		t.Fatalf("StringToSign\n got %q\nwant %q", got, want)
	}
	if SigningService(r) != "s3" {
		t.Fatalf("SigV2 query request routed to %q, want s3", SigningService(r))
	}
	before := time.Unix(1175139620, 0)
	if err := verifySignature(r, creds, before); err != nil {
		t.Fatalf("AWS's own example refused: %v", err)
	}
	ae := wantAPIError(t, verifySignature(r, creds, before.Add(time.Second)), 403, "AccessDenied")
	if ae.Message != "Request has expired" {
		t.Fatalf("expired: %s", ae.Message)
	}
	wantAPIError(t, verifySignature(req(strings.Replace(target, "NpgC", "NpgD", 1)), creds, before), 403, "SignatureDoesNotMatch")
	wantAPIError(t, verifySignature(req(strings.Replace(target, "1175139620", "1175139621", 1)), creds, before), 403, "SignatureDoesNotMatch")
	wantAPIError(t, verifySignature(req(target+"&x-amz-meta-added=1"), creds, before), 403, "SignatureDoesNotMatch")
	// Parameters that are not sub-resources are not signed.
	if err := verifySignature(req(target+"&x-id=GetObject"), creds, before); err != nil {
		t.Fatalf("unsigned parameter changed the outcome: %v", err)
	}
}

func TestSigV2Errors(t *testing.T) {
	creds := map[string]string{"test": "test"}
	now := time.Unix(2000000000, 0)
	get := func(target, auth string) *http.Request {
		r := httptest.NewRequest("GET", target, nil)
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		return r
	}
	for _, c := range []struct {
		name, target, auth string
		status             int
		code, message      string
	}{
		{"unknown key, query", "/b/k?AWSAccessKeyId=nobody&Signature=x&Expires=2000000001", "", 403, "InvalidAccessKeyId", "does not exist"},
		{"unknown key, header", "/b/k", "AWS nobody:x", 403, "InvalidAccessKeyId", "does not exist"},
		{"no Expires", "/b/k?AWSAccessKeyId=test&Signature=x", "", 403, "AccessDenied", "requires the Signature, Expires and AWSAccessKeyId"},
		{"no Signature", "/b/k?AWSAccessKeyId=test&Expires=2000000001", "", 403, "AccessDenied", "requires the Signature, Expires and AWSAccessKeyId"},
		{"Expires not a number", "/b/k?AWSAccessKeyId=test&Signature=x&Expires=tomorrow", "", 403, "AccessDenied", "Invalid date (should be seconds since epoch): tomorrow"},
		{"Expires past", "/b/k?AWSAccessKeyId=test&Signature=x&Expires=1999999999", "", 403, "AccessDenied", "Request has expired"},
		{"header without colon", "/b/k", "AWS test", 400, "InvalidArgument", "Expected AwsAccessKeyId:signature"},
		{"header without signature", "/b/k", "AWS test:", 400, "InvalidArgument", "Expected AwsAccessKeyId:signature"},
		{"header without date", "/b/k", "AWS test:x", 403, "AccessDenied", "Date or x-amz-date"},
		{"two mechanisms", "/b/k?AWSAccessKeyId=test&Signature=x&Expires=2000000001", "AWS test:x", 400, "InvalidArgument", "Only one auth mechanism"},
		{"SigV2 and SigV4 query", "/b/k?Signature=x&X-Amz-Signature=y", "", 400, "InvalidArgument", "Only one auth mechanism"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ae := wantAPIError(t, verifySignature(get(c.target, c.auth), creds, now), c.status, c.code)
			if !strings.Contains(ae.Message, c.message) {
				t.Fatalf("message %q lacks %q", ae.Message, c.message)
			}
		})
	}
}

// Rules of the CanonicalizedResource beyond the page's examples: only
// sub-resources are kept, sorted by name, values decoded, "=" kept as sent.
func TestCanonicalResourceV2(t *testing.T) {
	for _, c := range []struct{ bucket, path, query, want string }{
		{"", "/b/k", "", "/b/k"},
		{"b", "", "", "/b/"},
		{"", "/b/a%20b%2Bc.txt", "x-id=GetObject", "/b/a%20b%2Bc.txt"},
		{"", "/b/k", "uploadId=abc&partNumber=2&foo=bar&response-content-type=text%2Fplain&versions&prefix=p",
			"/b/k?partNumber=2&response-content-type=text/plain&uploadId=abc&versions"},
		{"", "/b", "tagging=&delete", "/b/?delete&tagging="},
		{"", "/b/", "", "/b/"},
		{"", "/", "", "/"},
		{"", "/b/k", "versionId=%zz", "/b/k?versionId=%zz"},
	} {
		if got := canonicalResourceV2(c.bucket, c.path, c.query); got != c.want {
			t.Errorf("canonicalResourceV2(%q, %q, %q) = %q, want %q", c.bucket, c.path, c.query, got, c.want)
		}
	}
}

// A presigned URL (as botocore makes them) carries x-amz-* headers such as
// x-amz-security-token in its query; they are signed as headers.
func TestSigV2QueryAmzParameters(t *testing.T) {
	creds := map[string]string{"test": "test"}
	sts := "GET\n\n\n2000000001\nx-amz-security-token:tok\n/b/k"
	q := url.Values{"AWSAccessKeyId": {"test"}, "Expires": {"2000000001"}, "Signature": {signV2("test", sts)}, "x-amz-security-token": {"tok"}}
	r := httptest.NewRequest("GET", "/b/k?"+q.Encode(), nil)
	r.Header.Set("X-Amz-Date", "ignored by the query form")
	if err := verifySignature(r, creds, time.Unix(2000000000, 0)); err != nil {
		t.Fatal(err)
	}
}

// An unknown access key is refused with the code the service uses: S3's
// InvalidAccessKeyId (SigV2 and SigV4 alike), InvalidClientTokenId elsewhere.
func TestSecretFor(t *testing.T) {
	creds := map[string]string{"test": "test"}
	if s, err := secretFor(creds, "test", "s3"); err != nil || s != "test" {
		t.Fatalf("known key: %q, %v", s, err)
	}
	_, err := secretFor(creds, "nobody", "s3")
	wantAPIError(t, err, 403, "InvalidAccessKeyId")
	_, err = secretFor(creds, "nobody", "sts")
	wantAPIError(t, err, 403, "InvalidClientTokenId")
}

// signedGet is a GET of /b/k with this Authorization header (none if "")
// and query.
func signedGet(auth, query string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/b/k?"+query, nil)
	if auth != "" {
		r.Header.Set("Authorization", auth)
	}
	return r
}

func TestSigningService(t *testing.T) {
	for _, c := range []struct {
		auth, query, want string
	}{
		{"AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=0", "", "lambda"},
		{"AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/s3/aws4_request,SignedHeaders=host,Signature=0", "Signature=x", "s3"},
		{"AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/aws4_request, Signature=0", "", ""},
		{"AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/s3/aws4_request/x, Signature=0", "", ""},
		{"AWS4-HMAC-SHA256 Signature=0", "AWSAccessKeyId=a&Signature=b", ""},
		{"AWS AKID:c2ln", "", "s3"},
		{"", "X-Amz-Credential=AKID%2F20240101%2Fus-east-1%2Fsts%2Faws4_request&X-Amz-Signature=0", "sts"},
		{"", "X-Amz-Credential=AKID%2F20240101", ""},
		{"", "AWSAccessKeyId=a&Signature=b&Expires=1", "s3"},
		{"", "list-type=2", ""},
		{"", "", ""},
	} {
		r := signedGet(c.auth, c.query)
		if got := SigningService(r); got != c.want {
			t.Errorf("SigningService(Authorization %q, query %q) = %q, want %q", c.auth, c.query, got, c.want)
		}
	}
}

// TestMalformedScope checks that a credential scope without exactly five
// parts, ending aws4_request in the header form, is refused with AWS's
// error for each form.
func TestMalformedScope(t *testing.T) {
	creds := map[string]string{"test": "test"}
	for _, c := range []struct{ auth, query, code string }{
		{"AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/s3, SignedHeaders=host, Signature=0", "", "IncompleteSignature"},
		{"AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/s3/aws4_request/x, SignedHeaders=host, Signature=0", "", "IncompleteSignature"},
		{"AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/s3/other, SignedHeaders=host, Signature=0", "", "IncompleteSignature"},
		{"", "X-Amz-Credential=test%2F20240101%2Fus-east-1&X-Amz-Signature=0", "AuthorizationQueryParametersError"},
		{"", "X-Amz-Credential=test%2F20240101%2Fus-east-1%2Fs3%2Faws4_request%2Fx&X-Amz-Signature=0", "AuthorizationQueryParametersError"},
	} {
		r := signedGet(c.auth, c.query)
		err := verifySignature(r, creds, time.Now())
		var ae *awsapi.Error
		if !errors.As(err, &ae) || ae.Code != c.code {
			t.Errorf("Authorization %q, query %q: %v, want %s", c.auth, c.query, err, c.code)
		}
	}
}
