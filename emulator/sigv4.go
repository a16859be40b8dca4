package emulator

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/scones/scones/emulator/awsapi"
)

const amzDateFormat = "20060102T150405Z"

// verifySignature checks a request's signature: SigV4 in the
// Authorization header or a presigned URL, or S3's SigV2 in either form
// (sigv2.go). SigV4 is recomputed with the SDK's own signer over a copy of
// the request with only the signed headers, so what the client did not
// sign cannot change the outcome. Chunk signatures inside aws-chunked
// bodies are not checked; the seed signature over the headers is.
func verifySignature(r *http.Request, creds map[string]string, now time.Time) error {
	auth := r.Header.Get("Authorization")
	q := r.URL.Query()
	v4Query, v2Query := q.Get("X-Amz-Signature") != "", isSigV2Query(q)
	if (auth != "" && (v4Query || v2Query)) || (v4Query && v2Query) {
		return sigErr(http.StatusBadRequest, "InvalidArgument", "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified")
	}
	switch {
	case isSigV2Header(auth), v2Query:
		return verifySigV2(r, q, creds, now)
	case auth != "":
		return verifyHeaderSignature(r, creds)
	case v4Query:
		return verifyPresigned(r, q, creds, now)
	case isSigV2Query(r.PostForm): // a query-protocol form body, parsed by queryService
		return verifyQuerySigV2(r, creds, now)
	}
	return &awsapi.Error{Status: http.StatusForbidden, Code: "AccessDenied", Message: "Anonymous requests are refused: this emulator checks signatures (--verify-signatures)"}
}

// secretFor looks up the secret of an access key, refusing an unknown key
// as the service does: S3 with InvalidAccessKeyId, the others with
// InvalidClientTokenId.
func secretFor(creds map[string]string, accessKey, service string) (string, error) {
	if secret, ok := creds[accessKey]; ok {
		return secret, nil
	}
	if service == "s3" {
		return "", sigErr(http.StatusForbidden, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records: "+accessKey)
	}
	return "", sigErr(http.StatusForbidden, "InvalidClientTokenId", "The security token included in the request is invalid: unknown access key "+accessKey)
}

// expired refuses a presigned URL (SigV4 or SigV2) past its expiry.
func expired() *awsapi.Error {
	return sigErr(http.StatusForbidden, "AccessDenied", "Request has expired")
}

type authHeader struct {
	accessKey, date, region, service string
	signedHeaders                    []string
	signature                        string
}

func parseAuthorization(h string) (authHeader, error) {
	var a authHeader
	algo, rest, ok := strings.Cut(h, " ")
	if !ok || algo != "AWS4-HMAC-SHA256" {
		return a, sigErr(http.StatusBadRequest, "IncompleteSignature", "Authorization header algorithm must be AWS4-HMAC-SHA256 (or, for S3, \"AWS AccessKeyId:Signature\")")
	}
	for _, part := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Credential":
			scope, ok := parseScope(v)
			if !ok || scope[4] != "aws4_request" {
				return a, sigErr(http.StatusBadRequest, "IncompleteSignature", "Credential must be AKID/date/region/service/aws4_request, got "+v)
			}
			a.accessKey, a.date, a.region, a.service = scope[0], scope[1], scope[2], scope[3]
		case "SignedHeaders":
			a.signedHeaders = strings.Split(v, ";")
		case "Signature":
			a.signature = v
		}
	}
	if a.accessKey == "" || len(a.signedHeaders) == 0 || a.signature == "" {
		return a, sigErr(http.StatusBadRequest, "IncompleteSignature", "Authorization header needs Credential, SignedHeaders and Signature")
	}
	return a, nil
}

func sigErr(status int, code, msg string) *awsapi.Error {
	return &awsapi.Error{Status: status, Code: code, Message: msg}
}

func mismatch() *awsapi.Error {
	return sigErr(http.StatusForbidden, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.")
}

func verifyHeaderSignature(r *http.Request, creds map[string]string) error {
	a, err := parseAuthorization(r.Header.Get("Authorization"))
	if err != nil {
		return err
	}
	secret, err := secretFor(creds, a.accessKey, a.service)
	if err != nil {
		return err
	}
	signTime, err := time.Parse(amzDateFormat, r.Header.Get("X-Amz-Date"))
	if err != nil {
		return sigErr(http.StatusBadRequest, "IncompleteSignature", "X-Amz-Date header missing or not in "+amzDateFormat+" format")
	}
	payloadHash := r.Header.Get("X-Amz-Content-Sha256")
	if payloadHash == "" {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return sigErr(http.StatusBadRequest, "IncompleteBody", "reading body: "+err.Error())
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		sum := sha256.Sum256(body)
		payloadHash = hex.EncodeToString(sum[:])
	}
	clone, err := signedCopy(r, a.signedHeaders)
	if err != nil {
		return err
	}
	signer := v4.NewSigner(func(o *v4.SignerOptions) {
		o.DisableURIPathEscaping = a.service == "s3"
	})
	if err := signer.SignHTTP(context.Background(), aws.Credentials{AccessKeyID: a.accessKey, SecretAccessKey: secret}, clone, payloadHash, a.service, a.region, signTime); err != nil {
		return sigErr(http.StatusBadRequest, "IncompleteSignature", err.Error())
	}
	got, err := parseAuthorization(clone.Header.Get("Authorization"))
	if err != nil || !hmac.Equal([]byte(got.signature), []byte(a.signature)) {
		return mismatch()
	}
	return nil
}

// signedCopy rebuilds r with only the headers the client signed.
func signedCopy(r *http.Request, signed []string) (*http.Request, error) {
	u := *r.URL
	u.Scheme, u.Host = "http", r.Host
	clone, err := http.NewRequest(r.Method, u.String(), nil)
	if err != nil {
		return nil, sigErr(http.StatusBadRequest, "InvalidRequest", err.Error())
	}
	clone.URL.RawPath = r.URL.RawPath
	clone.URL.Path = r.URL.Path
	clone.URL.RawQuery = r.URL.RawQuery
	for _, h := range signed {
		switch h {
		case "host":
			clone.Host = r.Host
		case "content-length":
			clone.ContentLength = r.ContentLength
		default:
			if vs, ok := r.Header[http.CanonicalHeaderKey(h)]; ok {
				clone.Header[http.CanonicalHeaderKey(h)] = vs
			}
		}
	}
	return clone, nil
}

// verifyPresigned checks a presigned SigV4 URL; q is r.URL.Query(), which
// it consumes.
func verifyPresigned(r *http.Request, q url.Values, creds map[string]string, now time.Time) error {
	scope, ok := parseScope(q.Get("X-Amz-Credential"))
	if !ok {
		return sigErr(http.StatusBadRequest, "AuthorizationQueryParametersError", "X-Amz-Credential must be AKID/date/region/service/aws4_request")
	}
	secret, err := secretFor(creds, scope[0], scope[3])
	if err != nil {
		return err
	}
	signTime, err := time.Parse(amzDateFormat, q.Get("X-Amz-Date"))
	if err != nil {
		return sigErr(http.StatusBadRequest, "AuthorizationQueryParametersError", "X-Amz-Date must be in "+amzDateFormat+" format")
	}
	if exp := q.Get("X-Amz-Expires"); exp != "" {
		secs, err := strconv.Atoi(exp)
		if err != nil || secs < 0 || secs > 604800 {
			return sigErr(http.StatusBadRequest, "AuthorizationQueryParametersError", "X-Amz-Expires must be a number of seconds between 0 and 604800")
		}
		if now.After(signTime.Add(time.Duration(secs) * time.Second)) {
			return expired()
		}
	}
	sent := q.Get("X-Amz-Signature")
	signed := strings.Split(q.Get("X-Amz-SignedHeaders"), ";")
	for _, k := range []string{"X-Amz-Signature", "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Security-Token"} {
		q.Del(k)
	}
	stripped := *r
	u := *r.URL
	u.RawQuery = q.Encode()
	stripped.URL = &u
	clone, err := signedCopy(&stripped, signed)
	if err != nil {
		return err
	}
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = scope[3] == "s3" })
	signedURL, _, err := signer.PresignHTTP(context.Background(), aws.Credentials{AccessKeyID: scope[0], SecretAccessKey: secret}, clone, "UNSIGNED-PAYLOAD", scope[3], scope[2], signTime)
	if err != nil {
		return sigErr(http.StatusBadRequest, "AuthorizationQueryParametersError", err.Error())
	}
	pu, err := url.Parse(signedURL)
	if err != nil || !hmac.Equal([]byte(pu.Query().Get("X-Amz-Signature")), []byte(sent)) {
		return mismatch()
	}
	return nil
}
