package emulator

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/scones/scones/emulator/s3"
)

// S3's Signature Version 2, as AWS's "Signing and authenticating REST
// requests (AWS signature version 2)" page defines it. AWS CLI v1 (`aws s3
// presign`) and botocore with signature_version "s3" still speak it, in two
// forms:
//
//	Authorization: AWS AccessKeyId:Signature             (header form)
//	?AWSAccessKeyId=...&Expires=...&Signature=...         (query form)
//
// Signature = Base64(HMAC-SHA1(secret, StringToSign)), where
//
//	StringToSign = Verb "\n" Content-MD5 "\n" Content-Type "\n" Date "\n"
//	               CanonicalizedAmzHeaders CanonicalizedResource
//
// and the query form puts Expires in the Date slot. SigV2 has no credential
// scope, so a request signed in either of these forms is S3's. (IAM and
// STS take SigV2 in their form bodies instead: sigv2query.go.)

// sigV2Subresources are the query parameters that belong in a
// CanonicalizedResource: the sub-resources AWS's page lists (acl,
// lifecycle, location, logging, notification, partNumber, policy,
// requestPayment, torrent, uploadId, uploads, versionId, versioning,
// versions, website), delete, the response-* header overrides, and the
// sub-resources added since that clients sign the same way (botocore's
// HmacV1Auth list). Every other parameter is left out of the signature.
var sigV2Subresources = map[string]bool{
	"acl": true, "lifecycle": true, "location": true, "logging": true, "notification": true,
	"partNumber": true, "policy": true, "requestPayment": true, "torrent": true, "uploadId": true,
	"uploads": true, "versionId": true, "versioning": true, "versions": true, "website": true,
	"delete": true, "response-content-type": true, "response-content-language": true, "response-expires": true,
	"response-cache-control": true, "response-content-disposition": true, "response-content-encoding": true,
	"accelerate": true, "cors": true, "defaultObjectAcl": true, "tagging": true, "restore": true,
	"storageClass": true, "replication": true, "analytics": true, "metrics": true, "inventory": true,
	"select": true, "select-type": true, "object-lock": true,
}

// sigV2 is what a SigV2-signed request claims.
type sigV2 struct {
	accessKey, signature string
	// query is true for the query form; expires is then its Expires value.
	query   bool
	expires string
}

// isSigV2Header tells "AWS AKID:sig" from "AWS4-HMAC-SHA256 ...".
func isSigV2Header(auth string) bool { return strings.HasPrefix(auth, "AWS ") }

// isSigV2Query reports whether a query string carries SigV2 parameters.
func isSigV2Query(q url.Values) bool { return q.Has("Signature") || q.Has("AWSAccessKeyId") }

// parseSigV2 reads the access key, signature and (query form) Expires of a
// SigV2 request, refusing an incomplete one with S3's error.
func parseSigV2(r *http.Request, q url.Values) (sigV2, error) {
	if auth := r.Header.Get("Authorization"); auth != "" {
		ak, sig, ok := strings.Cut(strings.TrimSpace(strings.TrimPrefix(auth, "AWS ")), ":")
		ak, sig = strings.TrimSpace(ak), strings.TrimSpace(sig)
		if !isSigV2Header(auth) || !ok || ak == "" || sig == "" {
			return sigV2{}, sigErr(http.StatusBadRequest, "InvalidArgument", "AWS authorization header is invalid.  Expected AwsAccessKeyId:signature")
		}
		return sigV2{accessKey: ak, signature: sig}, nil
	}
	a := sigV2{accessKey: q.Get("AWSAccessKeyId"), signature: q.Get("Signature"), query: true, expires: q.Get("Expires")}
	if a.accessKey == "" || a.signature == "" || a.expires == "" {
		return sigV2{}, sigErr(http.StatusForbidden, "AccessDenied", "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters")
	}
	return a, nil
}

// verifySigV2 checks a SigV2 request (either form) against creds.
func verifySigV2(r *http.Request, q url.Values, creds map[string]string, now time.Time) error {
	a, err := parseSigV2(r, q)
	if err != nil {
		return err
	}
	secret, err := secretFor(creds, a.accessKey, "s3")
	if err != nil {
		return err
	}
	var date string
	if a.query {
		exp, err := strconv.ParseInt(a.expires, 10, 64)
		if err != nil {
			return sigErr(http.StatusForbidden, "AccessDenied", "Invalid date (should be seconds since epoch): "+a.expires)
		}
		if now.After(time.Unix(exp, 0)) {
			return expired()
		}
		date = a.expires
	} else {
		// With x-amz-date the Date slot is empty: x-amz-date is signed
		// among the x-amz-* headers instead.
		if r.Header.Get("X-Amz-Date") == "" {
			date = strings.TrimSpace(r.Header.Get("Date"))
			if date == "" {
				return sigErr(http.StatusForbidden, "AccessDenied", "AWS authentication requires a valid Date or x-amz-date header")
			}
		}
	}
	sts := stringToSignV2(r, q, date, a.query)
	if !hmac.Equal([]byte(signV2(secret, sts)), []byte(a.signature)) {
		e := mismatch()
		e.Message += " The string to sign was " + strconv.Quote(sts) + "."
		return e
	}
	return nil
}

// signV2 is Base64(HMAC-SHA1(secret, stringToSign)).
func signV2(secret, stringToSign string) string {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write([]byte(stringToSign))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// stringToSignV2 builds the StringToSign of r with date in the Date slot
// (Expires for the query form).
func stringToSignV2(r *http.Request, q url.Values, date string, query bool) string {
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	for _, h := range []string{"Content-MD5", "Content-Type"} {
		v := r.Header.Get(h)
		if v == "" && query {
			// botocore moves these headers into a presigned URL's query.
			v = q.Get(strings.ToLower(h))
		}
		b.WriteString(strings.TrimSpace(v))
		b.WriteByte('\n')
	}
	b.WriteString(date)
	b.WriteByte('\n')
	b.WriteString(canonicalAmzHeadersV2(r.Header, q, query))
	b.WriteString(canonicalResourceV2(s3.BucketFromHost(r.Host), requestPath(r), r.URL.RawQuery))
	return b.String()
}

// canonicalAmzHeadersV2 is every x-amz-* header, lower-cased and sorted,
// as "name:v1,v2\n" with the values trimmed. The query form also signs
// x-amz-* query parameters (where presigned URLs carry, e.g.,
// x-amz-security-token) and never x-amz-date, whose role Expires takes.
func canonicalAmzHeadersV2(h http.Header, q url.Values, query bool) string {
	vals := map[string][]string{}
	add := func(k string, vs []string) {
		lk := strings.ToLower(k)
		if strings.HasPrefix(lk, "x-amz-") && !(query && lk == "x-amz-date") {
			vals[lk] = append(vals[lk], vs...)
		}
	}
	for k, vs := range h {
		add(k, vs)
	}
	if query {
		for k, vs := range q {
			add(k, vs)
		}
	}
	names := make([]string, 0, len(vals))
	for k := range vals {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, k := range names {
		b.WriteString(k)
		b.WriteByte(':')
		for i, v := range vals[k] {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strings.TrimSpace(v))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// canonicalResourceV2 is "/" + bucket (virtual-host style only), the path
// exactly as sent (still percent-encoded), and the sub-resources of the
// raw query sorted by name, their values decoded: "/b/k?acl&versionId=3".
// A path-style request for a bucket alone ("/b") signs "/b/", as a
// virtual-host one does: S3 wants the slash, and botocore signs it.
func canonicalResourceV2(bucket, path, rawQuery string) string {
	var b strings.Builder
	if bucket != "" {
		b.WriteString("/" + bucket)
	}
	if path == "" {
		path = "/"
	}
	b.WriteString(path)
	if bucket == "" && len(path) > 1 && strings.IndexByte(path[1:], '/') < 0 {
		b.WriteByte('/')
	}
	type param struct{ k, v string }
	var subs []param
	for _, kv := range strings.Split(rawQuery, "&") {
		k, v, hasValue := strings.Cut(kv, "=")
		if !sigV2Subresources[k] {
			continue
		}
		if hasValue {
			if dec, err := url.PathUnescape(v); err == nil {
				v = dec
			}
			v = "=" + v
		}
		subs = append(subs, param{k, v})
	}
	sort.SliceStable(subs, func(i, j int) bool { return subs[i].k < subs[j].k })
	for i, p := range subs {
		if i == 0 {
			b.WriteByte('?')
		} else {
			b.WriteByte('&')
		}
		b.WriteString(p.k + p.v)
	}
	return b.String()
}

// requestPath is the path of the Request-URI as the client sent it, not
// decoded: SigV2 signs it literally.
func requestPath(r *http.Request) string {
	if strings.HasPrefix(r.RequestURI, "/") {
		p, _, _ := strings.Cut(r.RequestURI, "?")
		return p
	}
	return r.URL.EscapedPath()
}
