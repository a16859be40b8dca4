package emulator

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scones/scones/emulator/awsapi"
)

// FuzzSigV2 feeds arbitrary Authorization headers, query strings, paths,
// hosts and dates to the signature check: it must answer with an AWS error
// (a 4xx *awsapi.Error) or accept, never panic. A request it accepts must
// be refused once its signature changes, and a request re-signed with the
// StringToSign the check computed must be accepted.
func FuzzSigV2(f *testing.F) {
	f.Add("", "AWSAccessKeyId=test&Signature=uCFlQQDXIKqoq%2FC%2BKo1n4ghII0w%3D&Expires=1795657116", "/cli-bucket/dir/a%20b%2Bc.txt", "127.0.0.1:4566", "", "GET")
	f.Add("AWS test:bWq2s1WEIj+Ydj0vQ697zp+IXMU=", "acl&versionId=3&uploadId=%zz", "/photos/puppy.jpg", "johnsmith.localhost", "Tue, 27 Mar 2007 19:36:42 +0000", "PUT")
	f.Add("AWS :", "Expires=-1&AWSAccessKeyId=&Signature=", "", "[::1]:80", "", "DELETE")
	f.Add("AWS test", "Expires=99999999999999999999&AWSAccessKeyId=test&Signature=x&x-amz-date=1", "/", ".localhost", "", "HEAD")
	f.Add("AWS4-HMAC-SHA256 Credential=test", "Signature=x", "/b", "s3.localhost", "", "GET")
	f.Add("", "AWSAccessKeyId=test&AWSAccessKeyId=other&Signature=%&Expires=+5&response-content-type=a%2Fb&x-amz-security-token=t", "/b/k", "b.s3.localhost:1", "", "GET")
	creds := map[string]string{"test": "test"}
	now := time.Unix(1700000000, 0)
	f.Fuzz(func(t *testing.T, auth, rawQuery, path, host, date, method string) {
		req := func(auth, rawQuery string) *http.Request {
			r := &http.Request{
				Method:     method,
				URL:        &url.URL{Path: path, RawQuery: rawQuery},
				Host:       host,
				RequestURI: path + "?" + rawQuery,
				Header:     http.Header{},
			}
			if auth != "" {
				r.Header.Set("Authorization", auth)
			}
			if date != "" {
				r.Header.Set("Date", date)
			}
			return r
		}
		r := req(auth, rawQuery)
		_ = SigningService(r)
		err := verifySignature(r, creds, now)
		if err != nil {
			var ae *awsapi.Error
			if !errors.As(err, &ae) || ae.Status < 400 || ae.Status > 499 || ae.Code == "" {
				t.Fatalf("not a 4xx AWS error: %#v", err)
			}
		}
		isV2 := isSigV2Header(auth) || (auth == "" && isSigV2Query(r.URL.Query()))
		if err == nil && isV2 {
			// Accepted: a different signature must not be.
			if isSigV2Header(auth) {
				if verifySignature(req(auth+"x", rawQuery), creds, now) == nil {
					t.Fatalf("accepted %q and %q", auth, auth+"x")
				}
			}
			return
		}
		var ae *awsapi.Error
		if !isV2 || !errors.As(err, &ae) || ae.Code != "SignatureDoesNotMatch" {
			return
		}
		// The request reached the signature comparison: signing the
		// StringToSign the check reported must satisfy it.
		_, quoted, _ := strings.Cut(ae.Message, "The string to sign was ")
		sts, uerr := strconv.Unquote(strings.TrimSuffix(quoted, "."))
		if uerr != nil {
			t.Fatalf("message does not end with a quoted StringToSign: %q", ae.Message)
		}
		sig := signV2("test", sts)
		again := req("AWS test:"+sig, rawQuery)
		if !isSigV2Header(auth) {
			// Signature is not signed itself; the first value counts.
			again = req("", "Signature="+url.QueryEscape(sig)+"&"+rawQuery)
		}
		if err := verifySignature(again, creds, now); err != nil {
			t.Fatalf("re-signed request refused: %v\nStringToSign %q", err, sts)
		}
	})
}
