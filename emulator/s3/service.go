package s3

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/scones/scones/emulator/awsapi"
	"github.com/scones/scones/emulator/store"
)

// Service is the emulated S3. It is safe for concurrent use.
type Service struct {
	env     awsapi.Env
	st      store.Store
	h       *hashes
	ownerID string
}

// New builds the S3 service over env.Store and removes data left staged by
// uploads that were cut off when the process last stopped.
func New(env awsapi.Env) (*Service, error) {
	if env.Store == nil {
		return nil, errors.New("s3: awsapi.Env.Store is nil")
	}
	if env.Now == nil {
		env.Now = time.Now
	}
	if env.Region == "" {
		env.Region = "us-east-1"
	}
	if env.Logger == nil {
		env.Logger = slog.New(slog.DiscardHandler)
	}
	sum := sha256.Sum256([]byte("scones-s3-owner/" + env.AccountID))
	s := &Service{env: env, st: env.Store, h: newHashes(), ownerID: hex.EncodeToString(sum[:])}
	if err := s.recoverStaging(); err != nil {
		return nil, fmt.Errorf("s3: recovering staged uploads: %w", err)
	}
	return s, nil
}

// Name is the SigV4 signing name the edge routes on.
func (s *Service) Name() string { return "s3" }

func (s *Service) now() time.Time { return s.env.Now() }

// request is one parsed S3 request.
type request struct {
	r      *http.Request
	bucket string
	key    string
	q      [][2]string // query parameters (name, value), in order
	sub    string      // the sub-resource named in the query, "" for none
	op     string      // operation name, for messages and fault rules
	faults awsapi.FaultChecker
	// qArr backs q for the usual few parameters, so that parsing the
	// query costs no allocation of its own (url.Values is a map).
	qArr [4][2]string
}

// parseQuery appends the parameters of a raw query string to q, as
// url.ParseQuery reads them (split on &, a ; is an error, names and values
// query-unescaped), in order and duplicates kept.
func parseQuery(q [][2]string, raw string) ([][2]string, error) {
	for raw != "" {
		var kv string
		kv, raw, _ = strings.Cut(raw, "&")
		if strings.Contains(kv, ";") {
			return q, errors.New("invalid semicolon separator in query")
		}
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		k, err := url.QueryUnescape(k)
		if err != nil {
			return q, err
		}
		if v, err = url.QueryUnescape(v); err != nil {
			return q, err
		}
		q = append(q, [2]string{k, v})
	}
	return q, nil
}

// Query keys fall in three groups: sub-resources this emulator serves,
// sub-resources it refuses, and parameters of operations.
const (
	kindUnknown = iota
	kindSub
	kindRefused
	kindParam
	kindIgnored
)

func queryKind(k string) int {
	switch k {
	case "location", "tagging", "uploads", "uploadId", "delete", "versioning":
		return kindSub
	case "acl", "policy", "policyStatus", "notification", "versions", "lifecycle", "cors", "website",
		"encryption", "object-lock", "retention", "legal-hold", "torrent", "restore", "select", "select-type",
		"attributes", "logging", "replication", "requestPayment", "accelerate", "analytics", "inventory",
		"metrics", "intelligent-tiering", "ownershipControls", "publicAccessBlock", "renameObject",
		"metadataTable", "metadataConfiguration", "metadataInventoryTable", "metadataJournalTable",
		"session", "abac", "uploadIdMarker", "mtime":
		return kindRefused
	case "prefix", "delimiter", "marker", "max-keys", "list-type", "continuation-token", "start-after",
		"encoding-type", "fetch-owner", "key-marker", "upload-id-marker", "max-uploads", "max-parts",
		"part-number-marker", "partNumber", "versionId", "max-buckets", "bucket-region",
		"response-content-type", "response-content-language", "response-expires", "response-cache-control",
		"response-content-disposition", "response-content-encoding":
		return kindParam
	case "x-id", "AWSAccessKeyId", "Signature", "Expires":
		// x-id is the SDKs' operation hint; the others are SigV2 presigned
		// URL parameters (AWS CLI v1's `s3 presign`), which the edge's
		// signature checking owns.
		return kindIgnored
	}
	if len(k) > 6 && strings.EqualFold(k[:6], "x-amz-") {
		return kindIgnored // presigned URL parameters, checked by the edge
	}
	return kindUnknown
}

func notImplemented(format string, args ...any) *awsapi.Error {
	return awsapi.Errorf(http.StatusNotImplemented, "NotImplemented", format, args...)
}

func methodNotAllowed(r *http.Request, what string) *awsapi.Error {
	return awsapi.Errorf(http.StatusMethodNotAllowed, "MethodNotAllowed", "The specified method %s is not allowed against %s.", r.Method, what)
}

// ServeHTTP serves the S3 REST API, path-style (/bucket/key) and
// virtual-host-style (bucket.localhost[:port]/key).
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header()["X-Amz-Request-Id"] = []string{awsapi.NewRequestID()}
	if err := s.serve(w, r); err != nil {
		s.writeError(w, r, err)
	}
}

func (s *Service) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var ae *awsapi.Error
	if !errors.As(err, &ae) {
		s.env.Logger.Error("s3: internal error", "method", r.Method, "path", r.URL.Path, "err", err)
		ae = &awsapi.Error{Status: http.StatusInternalServerError, Code: "InternalError", Message: "We encountered an internal error. Please try again. (" + err.Error() + ")", Fault: true}
	}
	awsapi.WriteXMLError(w, r, ae)
}

// BucketFromHost returns the bucket of a virtual-host-style request
// (<bucket>.localhost or <bucket>.s3.localhost, with or without a port),
// or "" for path-style hosts (127.0.0.1, localhost, s3.localhost, ...).
// The edge uses it too, for SigV2's canonical resource.
func BucketFromHost(host string) string {
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.HasSuffix(host, "]") {
		host = host[:i]
	}
	host = strings.ToLower(host)
	b, ok := strings.CutSuffix(host, ".localhost")
	if !ok || b == "s3" {
		return ""
	}
	return strings.TrimSuffix(b, ".s3")
}

func (s *Service) parse(r *http.Request) (*request, error) {
	req := &request{r: r, faults: s.env.Faults}
	p := r.URL.Path
	if b := BucketFromHost(r.Host); b != "" {
		req.bucket = b
		req.key = strings.TrimPrefix(p, "/")
	} else {
		p = strings.TrimPrefix(p, "/")
		req.bucket, req.key, _ = strings.Cut(p, "/")
	}
	if r.URL.RawQuery != "" {
		q, err := parseQuery(req.qArr[:0], r.URL.RawQuery)
		if err != nil {
			return nil, awsapi.Errorf(http.StatusBadRequest, "InvalidArgument", "malformed query string: %v", err)
		}
		req.q = q
		for _, kv := range q {
			k := kv[0]
			switch queryKind(k) {
			case kindSub:
				if req.sub != "" && req.sub != k {
					a, b := req.sub, k
					if a > b {
						a, b = b, a
					}
					return nil, notImplemented("The request names two sub-resources, ?%s and ?%s; this emulator serves neither combination.", a, b)
				}
				req.sub = k
			case kindRefused:
				return nil, notImplemented("The S3 sub-resource ?%s is not implemented by the scones emulator.", k)
			case kindUnknown:
				return nil, notImplemented("The query parameter %q is not an S3 parameter the scones emulator implements.", k)
			}
		}
	}
	return req, nil
}

// allow refuses query parameters that the chosen operation does not take,
// so that a parameter is never silently ignored. Every operation calls it
// once its name is known, so it is also where injected faults apply (see
// InjectsFaults).
func (req *request) allow(params ...string) error {
	if err := req.allowParams(params); err != nil {
		return err
	}
	if req.faults != nil {
		if e := req.faults.Check(req.r.Context(), "s3", req.op); e != nil {
			return e
		}
	}
	return nil
}

// InjectsFaults tells the edge that S3 applies fault rules itself, by
// operation name (PutObject, GetObject, ...), which only S3 knows.
func (s *Service) InjectsFaults() bool { return true }

func (req *request) allowParams(params []string) error {
	for _, kv := range req.q {
		k := kv[0]
		if queryKind(k) != kindParam {
			continue
		}
		ok := false
		for _, p := range params {
			if k == p || (p == "response-*" && strings.HasPrefix(k, "response-")) {
				ok = true
				break
			}
		}
		if !ok {
			return notImplemented("The query parameter %q is not supported for %s by the scones emulator.", k, req.op)
		}
	}
	return nil
}

// lookup returns the first value of query parameter k, and whether the
// query has k.
func (req *request) lookup(k string) (string, bool) {
	for _, kv := range req.q {
		if kv[0] == k {
			return kv[1], true
		}
	}
	return "", false
}

func (req *request) has(k string) bool { _, ok := req.lookup(k); return ok }

// get returns the first value of query parameter k, or "".
func (req *request) get(k string) string { v, _ := req.lookup(k); return v }

func (s *Service) serve(w http.ResponseWriter, r *http.Request) error {
	req, err := s.parse(r)
	if err != nil {
		return err
	}
	m := r.Method
	switch {
	case req.bucket == "":
		if req.sub != "" {
			return notImplemented("?%s on the service root is not implemented.", req.sub)
		}
		if m != http.MethodGet {
			return methodNotAllowed(r, "the service root")
		}
		req.op = "ListBuckets"
		if err := req.allow("prefix", "max-buckets", "continuation-token", "bucket-region"); err != nil {
			return err
		}
		return s.listBuckets(w, req)
	case req.key == "":
		if err := checkBucketName(req.bucket); err != nil {
			return err
		}
		return s.serveBucket(w, req)
	default:
		if err := checkBucketName(req.bucket); err != nil {
			return err
		}
		if len(req.key) > 1024 {
			return awsapi.Errorf(http.StatusBadRequest, "KeyTooLongError", "Your key is too long: %d bytes, at most 1024 are allowed.", len(req.key))
		}
		return s.serveObject(w, req)
	}
}

func (s *Service) serveBucket(w http.ResponseWriter, req *request) error {
	r, m := req.r, req.r.Method
	switch req.sub {
	case "":
		switch m {
		case http.MethodGet:
			if req.get("list-type") == "2" {
				req.op = "ListObjectsV2"
				if err := req.allow("list-type", "prefix", "delimiter", "max-keys", "continuation-token", "start-after", "encoding-type", "fetch-owner"); err != nil {
					return err
				}
				return s.listObjects(w, req, true)
			}
			req.op = "ListObjects"
			if req.has("list-type") {
				return awsapi.Errorf(http.StatusBadRequest, "InvalidArgument", "list-type must be 2, got %q", req.get("list-type"))
			}
			if err := req.allow("prefix", "delimiter", "max-keys", "marker", "encoding-type"); err != nil {
				return err
			}
			return s.listObjects(w, req, false)
		case http.MethodPut:
			req.op = "CreateBucket"
			if err := req.allow(); err != nil {
				return err
			}
			return s.createBucketHTTP(w, req)
		case http.MethodHead:
			req.op = "HeadBucket"
			if err := req.allow(); err != nil {
				return err
			}
			return s.headBucket(w, req)
		case http.MethodDelete:
			req.op = "DeleteBucket"
			if err := req.allow(); err != nil {
				return err
			}
			return s.deleteBucket(w, req)
		case http.MethodPost:
			return notImplemented("POST object (browser form uploads) is not implemented by the scones emulator.")
		}
		return methodNotAllowed(r, "a bucket")
	case "location":
		if m != http.MethodGet {
			return methodNotAllowed(r, "?location")
		}
		req.op = "GetBucketLocation"
		if err := req.allow(); err != nil {
			return err
		}
		return s.getBucketLocation(w, req)
	case "versioning":
		if m != http.MethodGet {
			return notImplemented("Only GetBucketVersioning is implemented: the scones emulator does not version objects.")
		}
		req.op = "GetBucketVersioning"
		if err := req.allow(); err != nil {
			return err
		}
		return s.getBucketVersioning(w, req)
	case "tagging":
		req.op = "BucketTagging"
		if err := req.allow(); err != nil {
			return err
		}
		switch m {
		case http.MethodGet:
			return s.getBucketTagging(w, req)
		case http.MethodPut:
			return s.putBucketTagging(w, req)
		case http.MethodDelete:
			return s.deleteBucketTagging(w, req)
		}
		return methodNotAllowed(r, "?tagging")
	case "uploads":
		if m != http.MethodGet {
			return methodNotAllowed(r, "?uploads on a bucket")
		}
		req.op = "ListMultipartUploads"
		if err := req.allow("prefix", "delimiter", "key-marker", "upload-id-marker", "max-uploads", "encoding-type"); err != nil {
			return err
		}
		return s.listUploads(w, req)
	case "delete":
		if m != http.MethodPost {
			return methodNotAllowed(r, "?delete")
		}
		req.op = "DeleteObjects"
		if err := req.allow(); err != nil {
			return err
		}
		return s.deleteObjects(w, req)
	}
	return notImplemented("?%s on a bucket is not implemented by the scones emulator.", req.sub)
}

func (s *Service) serveObject(w http.ResponseWriter, req *request) error {
	r, m := req.r, req.r.Method
	switch req.sub {
	case "":
		switch m {
		case http.MethodGet, http.MethodHead:
			req.op = "GetObject"
			if m == http.MethodHead {
				req.op = "HeadObject"
			}
			if err := req.allow("partNumber", "versionId", "response-*"); err != nil {
				return err
			}
			return s.getObject(w, req)
		case http.MethodPut:
			if header(r.Header, "X-Amz-Copy-Source") != "" {
				req.op = "CopyObject"
				if err := req.allow(); err != nil {
					return err
				}
				return s.copyObject(w, req)
			}
			req.op = "PutObject"
			if err := req.allow(); err != nil {
				return err
			}
			return s.putObject(w, req)
		case http.MethodDelete:
			req.op = "DeleteObject"
			if err := req.allow("versionId"); err != nil {
				return err
			}
			return s.deleteObject(w, req)
		case http.MethodPost:
			return methodNotAllowed(r, "an object without ?uploads or ?uploadId")
		}
		return methodNotAllowed(r, "an object")
	case "tagging":
		req.op = "ObjectTagging"
		if err := req.allow("versionId"); err != nil {
			return err
		}
		switch m {
		case http.MethodGet:
			return s.getObjectTagging(w, req)
		case http.MethodPut:
			return s.putObjectTagging(w, req)
		case http.MethodDelete:
			return s.deleteObjectTagging(w, req)
		}
		return methodNotAllowed(r, "?tagging")
	case "uploads":
		if m != http.MethodPost {
			return methodNotAllowed(r, "?uploads on an object")
		}
		req.op = "CreateMultipartUpload"
		if err := req.allow(); err != nil {
			return err
		}
		return s.createUpload(w, req)
	case "uploadId":
		switch m {
		case http.MethodPut:
			req.op = "UploadPart"
			if err := req.allow("partNumber"); err != nil {
				return err
			}
			return s.uploadPart(w, req)
		case http.MethodPost:
			req.op = "CompleteMultipartUpload"
			if err := req.allow(); err != nil {
				return err
			}
			return s.completeUpload(w, req)
		case http.MethodDelete:
			req.op = "AbortMultipartUpload"
			if err := req.allow(); err != nil {
				return err
			}
			return s.abortUpload(w, req)
		case http.MethodGet:
			req.op = "ListParts"
			if err := req.allow("max-parts", "part-number-marker", "encoding-type"); err != nil {
				return err
			}
			return s.listParts(w, req)
		}
		return methodNotAllowed(r, "?uploadId")
	}
	return notImplemented("?%s on an object is not implemented by the scones emulator.", req.sub)
}

// Errors other services can test for with errors.As(err, &*awsapi.Error)
// and the Code field.
func errNoSuchBucket(bucket string) *awsapi.Error {
	return awsapi.Errorf(http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist: %s", bucket)
}

func errNoSuchKey(key string) *awsapi.Error {
	return awsapi.Errorf(http.StatusNotFound, "NoSuchKey", "The specified key does not exist: %s", key)
}

func errPrecondition(cond string) *awsapi.Error {
	return awsapi.Errorf(http.StatusPreconditionFailed, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold: %s", cond)
}

func errMalformedXML(err error) *awsapi.Error {
	return awsapi.Errorf(http.StatusBadRequest, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema: %v", err)
}

// checkBucketName applies AWS's general-purpose bucket naming rules.
func checkBucketName(name string) error {
	bad := func(why string) error {
		return awsapi.Errorf(http.StatusBadRequest, "InvalidBucketName", "The specified bucket is not valid: %q %s.", name, why)
	}
	if len(name) < 3 || len(name) > 63 {
		return bad("must be 3 to 63 characters long")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return bad("may contain only lowercase letters, digits, dots and hyphens")
		}
	}
	alnum := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }
	if !alnum(name[0]) || !alnum(name[len(name)-1]) {
		return bad("must begin and end with a letter or digit")
	}
	if strings.Contains(name, "..") || strings.Contains(name, ".-") || strings.Contains(name, "-.") {
		return bad("must not contain two adjacent periods or a period next to a hyphen")
	}
	if isIPv4(name) {
		return bad("must not be formatted as an IP address")
	}
	for _, p := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
		if strings.HasPrefix(name, p) {
			return bad("must not start with " + p)
		}
	}
	for _, sfx := range []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"} {
		if strings.HasSuffix(name, sfx) {
			return bad("must not end with " + sfx)
		}
	}
	return nil
}

func isIPv4(s string) bool {
	if strings.Count(s, ".") != 3 {
		return false
	}
	for range 4 {
		var p string
		p, s, _ = strings.Cut(s, ".")
		if p == "" || len(p) > 3 {
			return false
		}
		for i := 0; i < len(p); i++ {
			if p[i] < '0' || p[i] > '9' {
				return false
			}
		}
	}
	return true
}

// Time formats: HTTP headers use RFC 7231 dates in GMT, XML bodies ISO 8601
// with milliseconds.
func xmlTime(ns int64) string { return time.Unix(0, ns).UTC().Format("2006-01-02T15:04:05.000Z") }

// httpTime formats a Last-Modified date. The last result is kept: reads of
// one object, or of objects written within the same second, format the same
// date, and formatting costs more than the rest of the header.
func httpTime(ns int64) string {
	sec := time.Unix(0, ns).Unix()
	if e := lastHTTPTime.Load(); e != nil && e.sec == sec {
		return e.s
	}
	e := &httpTimeEntry{sec: sec, s: time.Unix(sec, 0).UTC().Format(http.TimeFormat)}
	lastHTTPTime.Store(e)
	return e.s
}

type httpTimeEntry struct {
	sec int64
	s   string
}

var lastHTTPTime atomic.Pointer[httpTimeEntry]

// headerValues carves the one-element value slices of a response's headers
// out of one allocation instead of one each. Every slice it returns has
// capacity 1, so an append to one (Header.Add) copies it rather than
// writing over the next.
type headerValues []string

func (hv *headerValues) one(v string) []string {
	*hv = append(*hv, v)
	n := len(*hv)
	return (*hv)[n-1 : n : n]
}

// Header values that are the same in every response, shared instead of
// allocated per request. This is safe because nothing writes into them:
// handlers assign whole slices, and net/http copies a handler's header
// values before writing the response.
var (
	acceptRangesBytes = []string{"bytes"}
	contentLengthZero = []string{"0"}
	checksumTypeFull  = []string{"FULL_OBJECT"}
)

func sortedPairs(m map[string]string) [][2]string {
	if len(m) == 0 {
		return nil
	}
	p := make([][2]string, 0, len(m))
	for k, v := range m {
		p = append(p, [2]string{k, v})
	}
	sort.Slice(p, func(i, j int) bool { return p[i][0] < p[j][0] })
	return p
}
