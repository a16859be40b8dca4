package emulator

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/scones/scones/emulator/awsapi"
)

// AWS's worked example of a query-protocol SigV2 signature (General
// Reference, "Signature Version 2 signing process"), with the example
// credentials.
func TestStringToSignQueryV2(t *testing.T) {
	p := url.Values{"Action": {"DescribeJobFlows"}, "Version": {"2009-03-31"}, "AWSAccessKeyId": {docAccessKey},
		"SignatureVersion": {"2"}, "SignatureMethod": {"HmacSHA256"}, "Timestamp": {"2011-10-03T15:19:30"}}
	got := stringToSignQueryV2("GET", "elasticmapreduce.amazonaws.com", "/", p)
	want := "GET\nelasticmapreduce.amazonaws.com\n/\nAWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Action=DescribeJobFlows&SignatureMethod=HmacSHA256&SignatureVersion=2&Timestamp=2011-10-03T15%3A19%3A30&Version=2009-03-31"
	if got != want {
		t.Fatalf("StringToSign\n%q\nwant\n%q", got, want)
	}
	h := hmac.New(sha256.New, []byte(docSecret))
	h.Write([]byte(got))
	if sig := base64.StdEncoding.EncodeToString(h.Sum(nil)); sig != "i91nKc4PWAt0JJIdXwz9HxZCJDdiy6cf/Mj6vPxyYIs=" {
		t.Fatalf("signature %s", sig)
	}
}

// The checks before the signature's: each refusal names its reason.
func TestVerifyQuerySigV2Refusals(t *testing.T) {
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	creds := map[string]string{"test": "test"}
	base := "Action=GetCallerIdentity&Version=2011-06-15&AWSAccessKeyId=test&SignatureVersion=2&SignatureMethod=HmacSHA256&Signature=x"
	for _, c := range []struct {
		form, code, msg string
	}{
		{base + "&Timestamp=2026-11-26T08:40:00Z", "RequestExpired", "more than 15 minutes"},
		{base + "&Timestamp=2026-11-26T09:20:00Z", "RequestExpired", "more than 15 minutes"},
		{base + "&Timestamp=yesterday", "InvalidParameterValue", "not an ISO 8601 time"},
		{base + "&Expires=2026-11-26T08:59:00Z", "RequestExpired", "has expired"},
		{base, "MissingParameter", "Timestamp or Expires"},
		{strings.Replace(base, "SignatureVersion=2", "SignatureVersion=1", 1) + "&Timestamp=2026-11-26T09:00:00Z", "InvalidParameterValue", "SignatureVersion 1"},
		{strings.Replace(base, "HmacSHA256", "HmacMD5", 1) + "&Timestamp=2026-11-26T09:00:00Z", "InvalidParameterValue", "SignatureMethod HmacMD5"},
		{strings.Replace(base, "&Signature=x", "", 1) + "&Timestamp=2026-11-26T09:00:00Z", "MissingParameter", "Signature"},
		{strings.Replace(base, "AWSAccessKeyId=test", "AWSAccessKeyId=nobody", 1) + "&Timestamp=2026-11-26T09:00:00Z", "InvalidClientTokenId", "unknown access key nobody"},
		{base + "&Timestamp=2026-11-26T09:00:00Z", "SignatureDoesNotMatch", "signature we calculated"},
	} {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(c.form))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if err := r.ParseForm(); err != nil {
			t.Fatal(err)
		}
		err := verifyQuerySigV2(r, creds, now)
		var ae *awsapi.Error
		if !errors.As(err, &ae) || ae.Code != c.code || !strings.Contains(ae.Message, c.msg) {
			t.Errorf("%s: %v, want %s (%q)", c.form, err, c.code, c.msg)
		}
	}
}
