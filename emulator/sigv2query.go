package emulator

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/scones/scones/emulator/awsapi"
)

// The query protocol's Signature Version 2 (IAM, STS). botocore's "v2"
// signer, which a boto3 client made with signature_version="v2" uses,
// adds AWSAccessKeyId, SignatureVersion=2, SignatureMethod, Timestamp and
// Signature to the form parameters of the POST body:
//
//	StringToSign = Method + "\n" + Host + "\n" + Path + "\n" + CanonicalQuery
//	Signature    = Base64(HMAC-SHA256 or HMAC-SHA1(secret, StringToSign))
//
// CanonicalQuery is every parameter but Signature, sorted by name, each
// name and value percent-encoded except RFC 3986's unreserved characters,
// joined by "&". The request has no credential scope to route by: the
// edge routes it by its Version parameter, the API version of the
// query-protocol service it is for (queryService).

// maxQuerySkew is how far a Timestamp may be from the emulator's clock.
const maxQuerySkew = 15 * time.Minute

// queryService returns the query-protocol service a request without a
// credential scope is for, by its Version parameter, or nil. Only a
// form-encoded POST can be one; S3, where such requests go otherwise,
// takes no form-encoded bodies. It parses the form, which the service then
// reads again from r.PostForm.
func (s *Server) queryService(r *http.Request) awsapi.Service {
	if r.Method != http.MethodPost || !isFormEncoded(r) || r.ParseForm() != nil {
		return nil
	}
	v := r.PostForm.Get("Version")
	if v == "" {
		return nil
	}
	for _, svc := range s.order {
		if q, ok := svc.(awsapi.QueryService); ok && q.APIVersion() == v {
			return svc
		}
	}
	return nil
}

// verifyQuerySigV2 checks a query-protocol SigV2 request against creds.
func verifyQuerySigV2(r *http.Request, creds map[string]string, now time.Time) error {
	p := r.PostForm
	if v := p.Get("SignatureVersion"); v != "2" {
		return sigErr(http.StatusBadRequest, "InvalidParameterValue", "SignatureVersion "+v+" is not supported: sign with Signature Version 4, or 2")
	}
	var mac func() hash.Hash
	switch m := p.Get("SignatureMethod"); m {
	case "HmacSHA256":
		mac = sha256.New
	case "HmacSHA1":
		mac = sha1.New
	default:
		return sigErr(http.StatusBadRequest, "InvalidParameterValue", "SignatureMethod "+m+" is not supported: use HmacSHA256 or HmacSHA1")
	}
	sig := p.Get("Signature")
	if sig == "" {
		return sigErr(http.StatusBadRequest, "MissingParameter", "The request must contain the parameter Signature")
	}
	if err := checkQueryTime(p, now); err != nil {
		return err
	}
	// Query-protocol services (IAM, STS) are never S3, so an unknown key
	// is their InvalidClientTokenId.
	secret, err := secretFor(creds, p.Get("AWSAccessKeyId"), "")
	if err != nil {
		return err
	}
	h := hmac.New(mac, []byte(secret))
	h.Write([]byte(stringToSignQueryV2(r.Method, r.Host, r.URL.Path, p)))
	want := base64.StdEncoding.EncodeToString(h.Sum(nil))
	if !hmac.Equal([]byte(want), []byte(sig)) {
		return mismatch()
	}
	return nil
}

// checkQueryTime refuses a request whose Timestamp is more than
// maxQuerySkew from now, or whose Expires has passed.
func checkQueryTime(p url.Values, now time.Time) error {
	if ts := p.Get("Timestamp"); ts != "" {
		t, err := time.Parse(time.RFC3339, ts)
		if err != nil {
			return sigErr(http.StatusBadRequest, "InvalidParameterValue", "Timestamp "+ts+" is not an ISO 8601 time such as 2026-11-26T09:00:00Z")
		}
		if d := now.Sub(t); d > maxQuerySkew || d < -maxQuerySkew {
			return sigErr(http.StatusBadRequest, "RequestExpired", "Request timestamp "+ts+" is more than 15 minutes from the server's time "+now.UTC().Format(time.RFC3339))
		}
		return nil
	}
	if ex := p.Get("Expires"); ex != "" {
		t, err := time.Parse(time.RFC3339, ex)
		if err != nil {
			return sigErr(http.StatusBadRequest, "InvalidParameterValue", "Expires "+ex+" is not an ISO 8601 time such as 2026-11-26T09:00:00Z")
		}
		if now.After(t) {
			return sigErr(http.StatusBadRequest, "RequestExpired", "Request has expired: Expires "+ex)
		}
		return nil
	}
	return sigErr(http.StatusBadRequest, "MissingParameter", "The request must contain the parameter Timestamp or Expires")
}

// stringToSignQueryV2 is the StringToSign of a query-protocol SigV2
// request: its method, host, path and the canonical query of its
// parameters p.
func stringToSignQueryV2(method, host, path string, p url.Values) string {
	keys := make([]string, 0, len(p))
	for k := range p {
		if k != "Signature" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	if path == "" {
		path = "/"
	}
	b.WriteString(method + "\n" + host + "\n" + path + "\n")
	for i, k := range keys {
		for j, v := range p[k] {
			if i > 0 || j > 0 {
				b.WriteByte('&')
			}
			b.WriteString(awsapi.PercentEncode(k) + "=" + awsapi.PercentEncode(v))
		}
	}
	return b.String()
}
