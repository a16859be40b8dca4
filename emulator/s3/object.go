package s3

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/scones/scones/emulator/awsapi"
	"github.com/scones/scones/emulator/store"
)

// maxObjectSize is S3's limit for one PUT (and one part).
const maxObjectSize = 5 << 30

// maxMetadataSize is S3's limit for user metadata (names plus values).
const maxMetadataSize = 2 << 10

// metaFromHeaders reads the object attributes a PUT, a copy with REPLACE or
// CreateMultipartUpload sets: standard headers, x-amz-meta-* and
// x-amz-tagging. Headers asking for features the emulator does not have
// are refused rather than ignored.
func metaFromHeaders(h http.Header) (*record, error) {
	rec := &record{
		ContentType:        header(h, "Content-Type"),
		ContentDisposition: header(h, "Content-Disposition"),
		ContentLanguage:    header(h, "Content-Language"),
		CacheControl:       header(h, "Cache-Control"),
		Expires:            header(h, "Expires"),
	}
	if ce := header(h, "Content-Encoding"); ce != "" {
		var keep []string
		for _, p := range strings.Split(ce, ",") {
			if p = strings.TrimSpace(p); p != "" && !strings.EqualFold(p, "aws-chunked") {
				keep = append(keep, p)
			}
		}
		rec.ContentEncoding = strings.Join(keep, ",")
	}
	if rec.ContentType == "" {
		rec.ContentType = "binary/octet-stream"
	}
	var meta map[string]string
	size := 0
	for k, vs := range h {
		// net/http canonicalises incoming names (X-Amz-Meta-Foo); only
		// the x-amz-* ones are looked at further.
		if len(k) < 6 || !strings.EqualFold(k[:6], "x-amz-") {
			continue
		}
		if len(k) >= len("x-amz-meta-") && strings.EqualFold(k[:len("x-amz-meta-")], "x-amz-meta-") {
			name := strings.ToLower(k[len("x-amz-meta-"):])
			if meta == nil {
				meta = map[string]string{}
			}
			v := strings.Join(vs, ",")
			meta[name] = v
			size += len(name) + len(v)
			continue
		}
		// Lower-cased on the stack: most x-amz-* headers of a PUT (the
		// signature's, the checksums') are only compared here.
		var lbuf [64]byte
		lk := lowerInto(lbuf[:], k)
		switch string(lk) {
		case "x-amz-storage-class":
			if v := h.Get(k); v != "STANDARD" {
				return nil, notImplemented("Storage class %q is not implemented by the scones emulator; use STANDARD.", v)
			}
		case "x-amz-server-side-encryption":
			if v := h.Get(k); v != "AES256" {
				return nil, notImplemented("Server-side encryption %q is not implemented by the scones emulator (only AES256 is accepted).", v)
			}
		case "x-amz-acl":
			if v := h.Get(k); v != "private" && v != "bucket-owner-full-control" {
				return nil, notImplemented("Canned ACL %q is not implemented by the scones emulator.", v)
			}
		case "x-amz-website-redirect-location", "x-amz-object-lock-mode", "x-amz-object-lock-retain-until-date",
			"x-amz-object-lock-legal-hold", "x-amz-server-side-encryption-customer-algorithm",
			"x-amz-server-side-encryption-aws-kms-key-id", "x-amz-grant-read", "x-amz-grant-full-control",
			"x-amz-grant-read-acp", "x-amz-grant-write-acp", "x-amz-write-offset-bytes":
			return nil, notImplemented("The header %s is not implemented by the scones emulator.", string(lk))
		}
	}
	if size > maxMetadataSize {
		return nil, awsapi.Errorf(http.StatusBadRequest, "MetadataTooLarge", "Your metadata headers exceed the maximum allowed metadata size: %d bytes, limit %d.", size, maxMetadataSize)
	}
	rec.Meta = sortedPairs(meta)
	if t := header(h, "X-Amz-Tagging"); t != "" {
		tags, err := parseTagHeader(t)
		if err != nil {
			return nil, err
		}
		rec.Tags = tags
	}
	return rec, nil
}

// lowerInto returns s lower-cased, in buf's storage when it fits.
func lowerInto(buf []byte, s string) []byte {
	dst := buf[:0]
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			return append(buf[:0], strings.ToLower(s)...)
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

func parseTagHeader(v string) ([][2]string, error) {
	q, err := url.ParseQuery(v)
	if err != nil {
		return nil, awsapi.Errorf(http.StatusBadRequest, "InvalidArgument", "The x-amz-tagging header is not a valid URL query string: %v", err)
	}
	m := map[string]string{}
	for k, vs := range q {
		if len(vs) != 1 {
			return nil, awsapi.Errorf(http.StatusBadRequest, "InvalidTag", "Cannot provide multiple Tags with the same key: %q", k)
		}
		if err := checkTag(k, vs[0]); err != nil {
			return nil, err
		}
		m[k] = vs[0]
	}
	if len(m) > 10 {
		return nil, awsapi.Errorf(http.StatusBadRequest, "BadRequest", "Object tags cannot be greater than 10")
	}
	return sortedPairs(m), nil
}

// sumPlan is what a request body's integrity is checked against.
type sumPlan struct {
	algos   []string // algorithms to compute over the body
	trailer []string // algorithms announced in x-amz-trailer
	md5     []byte   // Content-MD5, raw
	// expected holds the values sent in x-amz-checksum-* headers (or
	// trailers), by index in checksumAlgorithmList; "" for none.
	expected [len(checksumAlgorithmList)]string
}

var checksumAlgorithmList = checksumAlgorithms()

// algoIndex is algo's index in checksumAlgorithmList, or -1.
func algoIndex(algo string) int {
	for i, a := range checksumAlgorithmList {
		if a == algo {
			return i
		}
	}
	return -1
}

func (p *sumPlan) add(algo string) {
	for _, a := range p.algos {
		if a == algo {
			return
		}
	}
	if p.algos == nil {
		// The usual single algorithm costs no allocation: a one-element
		// slice of the constant list. Its capacity is 1, so a second add
		// appends to a copy, never into the list.
		if i := algoIndex(algo); i >= 0 {
			p.algos = checksumAlgorithmList[i : i+1 : i+1]
			return
		}
	}
	p.algos = append(p.algos, algo)
}

// checksumPlan reads Content-MD5, x-amz-checksum-*, x-amz-trailer and
// x-amz-sdk-checksum-algorithm. extra is computed in addition (an upload's
// algorithm); def is computed only when the request names none.
func checksumPlan(h http.Header, extra, def string) (sumPlan, error) {
	var p sumPlan
	if v := header(h, "Content-Md5"); v != "" {
		b, err := contentMD5(v)
		if err != nil {
			return p, err
		}
		p.md5 = b
	}
	for i, a := range checksumAlgorithmList {
		if v := header(h, canonicalChecksumHeader(a)); v != "" {
			if !validChecksumValue(a, v) {
				return p, invalidChecksumValue(a)
			}
			p.expected[i] = v
			p.add(a)
		}
	}
	if t := header(h, "X-Amz-Trailer"); t != "" {
		for _, name := range strings.Split(t, ",") {
			name = strings.ToLower(strings.TrimSpace(name))
			a, ok := strings.CutPrefix(name, "x-amz-checksum-")
			if !ok || normAlgorithm(a) == "" {
				return p, awsapi.Errorf(http.StatusBadRequest, "InvalidRequest", "The x-amz-trailer header names %q; only x-amz-checksum-{crc32,crc32c,crc64nvme,sha1,sha256} are supported.", name)
			}
			p.trailer = append(p.trailer, normAlgorithm(a))
			p.add(normAlgorithm(a))
		}
	}
	if v := header(h, "X-Amz-Sdk-Checksum-Algorithm"); v != "" {
		a := normAlgorithm(v)
		if a == "" {
			return p, awsapi.Errorf(http.StatusBadRequest, "InvalidRequest", "Checksum algorithm %q is not supported.", v)
		}
		p.add(a)
	}
	if extra != "" {
		p.add(extra)
	}
	if len(p.algos) == 0 && def != "" {
		p.add(def)
	}
	return p, nil
}

// verify checks the body against every value the client sent and returns
// the checksums to store, base64-encoded, in algos order.
func (p *sumPlan) verify(b *body, cr *chunkedReader) ([][2]string, error) {
	if p.md5 != nil && !bytes.Equal(p.md5, b.md5[:]) {
		return nil, awsapi.Errorf(http.StatusBadRequest, "BadDigest", "The Content-MD5 you specified did not match what we received.")
	}
	for _, a := range p.trailer {
		var v string
		if cr != nil {
			v = cr.Trailers[checksumHeader(a)]
		}
		if v == "" {
			return nil, awsapi.Errorf(http.StatusBadRequest, "MalformedTrailerError", "The x-amz-trailer header announced %s but the body carried no such trailer.", checksumHeader(a))
		}
		if !validChecksumValue(a, v) {
			return nil, invalidChecksumValue(a)
		}
		p.expected[algoIndex(a)] = v
	}
	out := make([][2]string, 0, len(p.algos))
	for _, a := range p.algos {
		got := base64.StdEncoding.EncodeToString(b.sum(a))
		if i := algoIndex(a); i >= 0 && p.expected[i] != "" && p.expected[i] != got {
			return nil, badDigest(a)
		}
		out = append(out, [2]string{a, got})
	}
	return out, nil
}

// digested reports whether the request carries a digest of its body that
// verify checks: Content-MD5, an x-amz-checksum-* header or a trailer.
func (p *sumPlan) digested() bool {
	if p.md5 != nil || len(p.trailer) > 0 {
		return true
	}
	for _, v := range p.expected {
		if v != "" {
			return true
		}
	}
	return false
}

// checkPayloadSHA says whether a hex x-amz-content-sha256 is compared with
// the body. It is the payload hash SigV4 signs, so it is checked whenever
// signatures are (--verify-signatures), and otherwise only when it is the
// one digest of the body the request carries (plan has none). The SDKs'
// default CRC32 is checked either way, so a body is never stored unchecked
// against a digest its client sent; what is skipped is the SHA-256 of
// every body, the largest cost of a small PutObject on machines without
// SHA instructions (about 12 µs for 3 KB on the development machine,
// against 5.5 for MD5 and 0.25 for CRC32: BenchmarkDigest3KB,
// docs/BENCHMARKS.md, session 6).
func (s *Service) checkPayloadSHA(plan *sumPlan) bool {
	return s.env.VerifySignatures || !plan.digested()
}

// payload is the body of a PUT as requestBody prepares it for reading.
type payload struct {
	r    io.Reader      // the decoded bytes: the raw body, or the aws-chunked decoder over it
	cr   *chunkedReader // the aws-chunked decoder, nil for a plain body
	hint int64          // the decoded length if known, else -1
	// sha hashes what r gives when the client signed the body's SHA-256
	// (a hex x-amz-content-sha256, wantSHA); nil otherwise.
	sha     hash.Hash
	wantSHA []byte
}

// requestBody returns the decoded payload of a PUT. A hex
// x-amz-content-sha256 is the SHA-256 of the body the client signed, which
// checkSHA256 compares with the body's (hashed as it is read, unless the
// body is read whole). UNSIGNED-PAYLOAD and the
// STREAMING-* modes (aws-chunked framing, whose chunks carry their own
// signatures or checksums) sign no digest; any other value is refused, as
// S3 does.
//
// check says whether to compare the digest at all (see checkPayloadSHA);
// a malformed value is refused either way.
func requestBody(r *http.Request, check bool) (*payload, error) {
	contentSHA := header(r.Header, "X-Amz-Content-Sha256")
	chunked := strings.HasPrefix(contentSHA, "STREAMING-")
	for p := range strings.SplitSeq(header(r.Header, "Content-Encoding"), ",") {
		if strings.EqualFold(strings.TrimSpace(p), "aws-chunked") {
			chunked = true
		}
	}
	p := &payload{r: r.Body, hint: r.ContentLength}
	if contentSHA != "" && contentSHA != "UNSIGNED-PAYLOAD" && !strings.HasPrefix(contentSHA, "STREAMING-") {
		want, err := hex.DecodeString(contentSHA)
		if err != nil || len(want) != sha256.Size {
			return nil, awsapi.Errorf(http.StatusBadRequest, "InvalidArgument", "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER or a valid sha256 value.")
		}
		if check {
			p.wantSHA = want
		}
	}
	if !chunked {
		if p.hint > maxObjectSize {
			return nil, awsapi.Errorf(http.StatusBadRequest, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size of 5 GiB.")
		}
	} else {
		p.hint = -1
		if v := header(r.Header, "X-Amz-Decoded-Content-Length"); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return nil, awsapi.Errorf(http.StatusBadRequest, "InvalidArgument", "X-Amz-Decoded-Content-Length %q is not a length.", v)
			}
			if n > maxObjectSize {
				return nil, awsapi.Errorf(http.StatusBadRequest, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size of 5 GiB.")
			}
			p.hint = n
		}
		p.cr = newChunkedReader(r.Body)
		p.r = p.cr
	}
	if p.wantSHA != nil && !p.whole() {
		p.sha = sha256.New()
		p.r = io.TeeReader(p.r, p.sha)
	}
	return p, nil
}

// whole reports whether the body is plain and short enough that ingest
// reads it into one buffer: its SHA-256 is then taken from that buffer in
// one go, and net/http's Content-Length bounds it, so p.r needs neither a
// hashing tee nor a limit.
func (p *payload) whole() bool { return p.cr == nil && p.hint >= 0 && p.hint <= chunkSize }

// checkSHA256 compares, once r has been read to its end, the SHA-256 of
// the body with the one the client signed, if it signed one. whole is the
// body itself, which is hashed when r had no tee (see whole()).
func (p *payload) checkSHA256(whole []byte) error {
	if p.wantSHA == nil {
		return nil
	}
	var sum []byte
	if p.sha != nil {
		sum = p.sha.Sum(nil)
	} else {
		s := sha256.Sum256(whole)
		sum = s[:]
	}
	if !bytes.Equal(p.wantSHA, sum) {
		return awsapi.Errorf(http.StatusBadRequest, "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.")
	}
	return nil
}

// readPayload reads, hashes and checks a PUT body (PutObject, UploadPart).
func (s *Service) readPayload(ctx context.Context, r *http.Request, extra, def string) (*body, [][2]string, error) {
	plan, err := checksumPlan(r.Header, extra, def)
	if err != nil {
		return nil, nil, err
	}
	p, err := requestBody(r, s.checkPayloadSHA(&plan))
	if err != nil {
		return nil, nil, err
	}
	src := p.r
	if !p.whole() {
		src = io.LimitReader(p.r, maxObjectSize+1)
	}
	b, err := s.ingest(ctx, src, p.hint, plan.algos)
	if err != nil {
		return nil, nil, err
	}
	fail := func(e error) (*body, [][2]string, error) { s.discardStaged(b); return nil, nil, e }
	if p.wantSHA != nil && p.sha == nil && b.staged {
		// whole() promised one buffer; ingest stages only longer bodies.
		return fail(fmt.Errorf("s3: a body of %d bytes was staged, not hashed", b.size))
	}
	if err := p.checkSHA256(b.inline); err != nil {
		return fail(err)
	}
	if b.size > maxObjectSize {
		return fail(awsapi.Errorf(http.StatusBadRequest, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size of 5 GiB."))
	}
	if p.cr != nil && p.hint >= 0 && b.size != p.hint {
		return fail(awsapi.Errorf(http.StatusBadRequest, "IncompleteBody", "The aws-chunked body decoded to %d bytes but X-Amz-Decoded-Content-Length is %d.", b.size, p.hint))
	}
	if p.cr == nil && r.ContentLength >= 0 && b.size != r.ContentLength {
		return fail(errIncompleteBody())
	}
	sums, err := plan.verify(b, p.cr)
	if err != nil {
		return fail(err)
	}
	return b, sums, nil
}

// putConds are the conditional-write headers of PutObject and
// CompleteMultipartUpload.
type putConds struct{ ifMatch, ifNoneMatch string }

func putCondsFrom(h http.Header) (putConds, error) {
	c := putConds{ifMatch: header(h, "If-Match"), ifNoneMatch: header(h, "If-None-Match")}
	if c.ifNoneMatch != "" && strings.TrimSpace(c.ifNoneMatch) != "*" {
		return c, notImplemented("If-None-Match on writes only supports \"*\" (got %q).", c.ifNoneMatch)
	}
	return c, nil
}

func (c putConds) check(old replaced, key string) error {
	if c.ifNoneMatch != "" && old.exists {
		return errPrecondition("If-None-Match: the object already exists")
	}
	if c.ifMatch != "" {
		if !old.exists {
			return errNoSuchKey(key)
		}
		if !etagMatches(c.ifMatch, old.etag) {
			return errPrecondition("If-Match")
		}
	}
	return nil
}

// replaced is what a write over a key needs to know of the object there.
type replaced struct {
	exists bool
	etag   string    // unquoted
	segs   []segment // data to free once the new version is in place
}

// loadReplaced reads the object stored under objKey (bucket + "/" + key),
// if any, for a write that replaces it.
func loadReplaced(tx store.Tx, objKey string) (replaced, error) {
	v, found := tx.Get(tObjects, objKey)
	if !found {
		return replaced{}, nil
	}
	etag, segs, err := unmarshalData(v)
	return replaced{exists: true, etag: etag, segs: segs}, err
}

// commitObject writes rec (whose data is b) under bucket/key in one
// transaction, replacing and freeing any previous version.
func (s *Service) commitObject(bucket, key string, rec *record, b *body, conds putConds) error {
	ok := objectKey(bucket, key)
	// Encoded before the write lock is taken; the store keeps this slice.
	enc := rec.marshal()
	err := s.st.Update(func(tx store.Tx) error {
		if err := bucketExists(tx, bucket); err != nil {
			return err
		}
		old, err := loadReplaced(tx, ok)
		if err != nil {
			return err
		}
		if err := conds.check(old, key); err != nil {
			return err
		}
		if b != nil {
			if err := commitBody(tx, b); err != nil {
				return err
			}
		}
		if err := store.PutOwned(tx, tObjects, ok, enc); err != nil {
			return err
		}
		return deleteSegments(tx, old.segs)
	})
	if err != nil {
		s.discardStaged(b)
	}
	return err
}

func setChecksumHeaders(h http.Header, hv *headerValues, sums [][2]string, typ string) {
	for _, c := range sums {
		h[checksumHeader(c[0])] = hv.one(c[1])
	}
	if typ != "" && len(sums) > 0 {
		if typ == "FULL_OBJECT" {
			h["X-Amz-Checksum-Type"] = checksumTypeFull
		} else {
			h["X-Amz-Checksum-Type"] = []string{typ}
		}
	}
}

func (s *Service) putObject(w http.ResponseWriter, req *request) error {
	r := req.r
	rec, err := metaFromHeaders(r.Header)
	if err != nil {
		return err
	}
	conds, err := putCondsFrom(r.Header)
	if err != nil {
		return err
	}
	// Fail fast on a missing bucket before reading a large body (the
	// commit checks again, so small bodies skip this read).
	if r.ContentLength < 0 || r.ContentLength > chunkSize {
		if err := s.st.View(func(tx store.Tx) error { return bucketExists(tx, req.bucket) }); err != nil {
			return err
		}
	}
	b, sums, err := s.readPayload(r.Context(), r, "", "CRC64NVME")
	if err != nil {
		return err
	}
	s.fillData(rec, b, sums)
	if err := s.commitObject(req.bucket, req.key, rec, b, conds); err != nil {
		return err
	}
	h := w.Header()
	hv := make(headerValues, 0, 1+len(rec.Checksums))
	h["Etag"] = hv.one(`"` + rec.ETag + `"`)
	setChecksumHeaders(h, &hv, rec.Checksums, rec.ChecksumType)
	h["Content-Length"] = contentLengthZero
	w.WriteHeader(http.StatusOK)
	return nil
}

// fillData sets the data fields of a single-part object record.
func (s *Service) fillData(rec *record, b *body, sums [][2]string) {
	rec.Size = b.size
	rec.ETag = b.md5Hex()
	rec.Modified = s.now().UnixNano()
	rec.Checksums = sums
	rec.ChecksumType = ""
	rec.ChecksumAlgorithm = ""
	if len(sums) > 0 {
		rec.ChecksumType = "FULL_OBJECT"
		rec.ChecksumAlgorithm = sums[0][0]
	}
	rec.Multipart = false
	rec.Segments = []segment{{ID: b.id, Size: b.size}}
}

func normETag(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "W/")
	return strings.Trim(s, `"`)
}

// etagMatches evaluates an If-Match / If-None-Match list against etag.
func etagMatches(list, etag string) bool {
	for _, e := range strings.Split(list, ",") {
		e = strings.TrimSpace(e)
		if e == "*" || normETag(e) == etag {
			return true
		}
	}
	return false
}

// readConds evaluates the conditional headers of GET and HEAD (RFC 9110
// precedence, as S3 applies it). It returns 304, or a 412 error, or 0.
func readConds(h http.Header, rec *record) (int, error) {
	lm := time.Unix(0, rec.Modified).Truncate(time.Second)
	if v := header(h, "If-Match"); v != "" {
		if !etagMatches(v, rec.ETag) {
			return 0, errPrecondition("If-Match")
		}
	} else if v := header(h, "If-Unmodified-Since"); v != "" {
		if t, err := http.ParseTime(v); err == nil && lm.After(t) {
			return 0, errPrecondition("If-Unmodified-Since")
		}
	}
	if v := header(h, "If-None-Match"); v != "" {
		if etagMatches(v, rec.ETag) {
			return http.StatusNotModified, nil
		}
	} else if v := header(h, "If-Modified-Since"); v != "" {
		if t, err := http.ParseTime(v); err == nil && !lm.After(t) {
			return http.StatusNotModified, nil
		}
	}
	return 0, nil
}

func (s *Service) loadObject(tx store.Tx, bucket, key string) (*record, error) {
	if err := bucketExists(tx, bucket); err != nil {
		return nil, err
	}
	v, ok := tx.Get(tObjects, objectKey(bucket, key))
	if !ok {
		return nil, errNoSuchKey(key)
	}
	return unmarshalRecord(v)
}

func checkVersionID(v string) error {
	if v != "" && v != "null" {
		return awsapi.Errorf(http.StatusBadRequest, "InvalidArgument", "Invalid version id specified: the scones emulator does not version objects, only versionId=null exists.")
	}
	return nil
}

// objectRead is what getObject learns inside its read transaction. It is
// one value so that the closure passed to View moves one variable to the
// heap, not one per result.
type objectRead struct {
	rec        *record
	notMod     int
	start, end int64
	status     int
	partSum    string  // checksum of the served part, when it is one
	head       []byte  // the first bytes served (up to one chunk)
	buf        *[]byte // head's pooled buffer (getBuf), released after the write
}

// responseOverrides maps GetObject's response-* query parameters to the
// headers they replace.
var responseOverrides = [...][2]string{
	{"response-content-type", "Content-Type"}, {"response-content-language", "Content-Language"},
	{"response-expires", "Expires"}, {"response-cache-control", "Cache-Control"},
	{"response-content-disposition", "Content-Disposition"}, {"response-content-encoding", "Content-Encoding"},
}

func (s *Service) getObject(w http.ResponseWriter, req *request) error {
	r := req.r
	isGet := r.Method == http.MethodGet
	if err := checkVersionID(req.get("versionId")); err != nil {
		return err
	}
	partNumber := 0
	if v := req.get("partNumber"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10000 {
			return awsapi.Errorf(http.StatusBadRequest, "InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive.")
		}
		if header(r.Header, "Range") != "" {
			return awsapi.Errorf(http.StatusBadRequest, "InvalidRequest", "Cannot specify both Range header and partNumber query parameter")
		}
		partNumber = n
	}
	o := &objectRead{status: http.StatusOK}
	err := s.st.View(func(tx store.Tx) error {
		var err error
		if o.rec, err = s.loadObject(tx, req.bucket, req.key); err != nil {
			return err
		}
		rec := o.rec
		if o.notMod, err = readConds(r.Header, rec); err != nil || o.notMod != 0 {
			return err
		}
		o.start, o.end = 0, rec.Size-1
		switch {
		case partNumber > 0:
			if rec.Multipart {
				if partNumber > len(rec.Segments) {
					return awsapi.Errorf(http.StatusRequestedRangeNotSatisfiable, "InvalidPartNumber", "The requested partnumber is not satisfiable")
				}
				for i := 0; i < partNumber-1; i++ {
					o.start += rec.Segments[i].Size
				}
				sg := rec.Segments[partNumber-1]
				o.end = o.start + sg.Size - 1
				o.partSum = sg.Checksum
			} else if partNumber != 1 {
				return awsapi.Errorf(http.StatusRequestedRangeNotSatisfiable, "InvalidPartNumber", "The requested partnumber is not satisfiable")
			}
			if rec.Size > 0 {
				o.status = http.StatusPartialContent
			}
		case header(r.Header, "Range") != "":
			s0, e0, ranged, rerr := parseRange(header(r.Header, "Range"), rec.Size)
			if rerr != nil {
				return rerr
			}
			if ranged {
				o.start, o.end, o.status = s0, e0, http.StatusPartialContent
			}
		}
		if isGet && o.end >= o.start {
			o.buf = getBuf(min(o.end-o.start+1, chunkSize))
			n, err := copyRange(tx, rec.Segments, o.start, *o.buf)
			if err != nil {
				return fmt.Errorf("s3: object %s/%s: %w", req.bucket, req.key, err)
			}
			o.head = (*o.buf)[:n]
		}
		return nil
	})
	// The head buffer goes back to the pool once written (or on failure):
	// http.ResponseWriter.Write, like every io.Writer, keeps no reference.
	defer putBuf(o.buf)
	if err != nil {
		return err
	}
	rec, start, end, status, partSum := o.rec, o.start, o.end, o.status, o.partSum
	h := w.Header()
	hv := make(headerValues, 0, 6)
	h["Last-Modified"] = hv.one(httpTime(rec.Modified))
	h["Etag"] = hv.one(`"` + rec.ETag + `"`)
	if o.notMod != 0 {
		w.WriteHeader(o.notMod)
		return nil
	}
	h["Accept-Ranges"] = acceptRangesBytes
	h["Content-Type"] = hv.one(rec.ContentType)
	set := func(name, v string) {
		if v != "" {
			h[name] = hv.one(v)
		}
	}
	set("Content-Encoding", rec.ContentEncoding)
	set("Content-Disposition", rec.ContentDisposition)
	set("Content-Language", rec.ContentLanguage)
	set("Cache-Control", rec.CacheControl)
	set("Expires", rec.Expires)
	for _, m := range rec.Meta {
		h["x-amz-meta-"+m[0]] = []string{m[1]}
	}
	if len(rec.Tags) > 0 {
		h["X-Amz-Tagging-Count"] = []string{strconv.Itoa(len(rec.Tags))}
	}
	if rec.Multipart && partNumber > 0 {
		h["X-Amz-Mp-Parts-Count"] = []string{strconv.Itoa(len(rec.Segments))}
	}
	if isGet && len(req.q) > 0 {
		for _, ov := range responseOverrides {
			if v := req.get(ov[0]); v != "" {
				h[ov[1]] = []string{v}
			}
		}
	}
	// Checksums describe exactly the bytes served: the whole object, or a
	// whole part. A Range response carries none, so clients don't check a
	// slice against the full object's value.
	if strings.EqualFold(header(r.Header, "X-Amz-Checksum-Mode"), "ENABLED") {
		switch {
		case partNumber > 0 && rec.Multipart:
			if partSum != "" {
				setChecksumHeaders(h, &hv, [][2]string{{rec.ChecksumAlgorithm, partSum}}, "")
			}
		case status == http.StatusOK || partNumber > 0:
			setChecksumHeaders(h, &hv, rec.Checksums, rec.ChecksumType)
		}
	}
	length := end - start + 1
	if status == http.StatusPartialContent {
		h["Content-Range"] = []string{fmt.Sprintf("bytes %d-%d/%d", start, end, rec.Size)}
	}
	h["Content-Length"] = hv.one(strconv.FormatInt(length, 10))
	w.WriteHeader(status)
	if !isGet || length == 0 {
		return nil
	}
	if err := s.streamRange(w, rec.Segments, start, end, o.head); err != nil {
		if errors.Is(err, errDataGone) {
			// The object was replaced mid-read: cut the connection so the
			// client sees a short body, never a mix of two versions.
			panic(http.ErrAbortHandler)
		}
	}
	return nil
}

func (s *Service) deleteObject(w http.ResponseWriter, req *request) error {
	if err := checkVersionID(req.get("versionId")); err != nil {
		return err
	}
	if err := s.removeObject(req.bucket, req.key); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// removeObject deletes an object and its data; a missing key is not an
// error (S3's DeleteObject is idempotent), a missing bucket is.
func (s *Service) removeObject(bucket, key string) error {
	return s.st.Update(func(tx store.Tx) error {
		if err := bucketExists(tx, bucket); err != nil {
			return err
		}
		return deleteObjectTx(tx, bucket, key)
	})
}

func deleteObjectTx(tx store.Tx, bucket, key string) error {
	ok := objectKey(bucket, key)
	old, err := loadReplaced(tx, ok)
	if err != nil || !old.exists {
		return err
	}
	if err := deleteSegments(tx, old.segs); err != nil {
		return err
	}
	return tx.Delete(tObjects, ok)
}

func (s *Service) deleteObjects(w http.ResponseWriter, req *request) error {
	data, err := s.readXMLBody(req.r)
	if err != nil {
		return err
	}
	d, err := parseDelete(data)
	if err != nil {
		return err
	}
	out := deleteResult{}
	err = s.st.Update(func(tx store.Tx) error {
		if err := bucketExists(tx, req.bucket); err != nil {
			return err
		}
		for _, o := range d.Objects {
			key := *o.Key
			switch {
			case key == "" || len(key) > 1024:
				out.Errors = append(out.Errors, deleteErrorXML{Key: key, Code: "InvalidArgument", Message: "Invalid key: keys must be 1 to 1024 bytes."})
			case o.VersionID != "" && o.VersionID != "null":
				out.Errors = append(out.Errors, deleteErrorXML{Key: key, Code: "NoSuchVersion", Message: "The specified version does not exist: the scones emulator does not version objects."})
			default:
				if err := deleteObjectTx(tx, req.bucket, key); err != nil {
					return err
				}
				if !d.Quiet {
					out.Deleted = append(out.Deleted, deletedXML{Key: key})
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	writeXML(w, http.StatusOK, out)
	return nil
}

// objectReader reads bytes [off, end) of an object's data, one store read
// transaction per call.
type objectReader struct {
	s        *Service
	segs     []segment
	off, end int64
}

func (o *objectReader) Read(p []byte) (int, error) {
	if o.off >= o.end {
		return 0, io.EOF
	}
	if int64(len(p)) > o.end-o.off {
		p = p[:o.end-o.off]
	}
	var n int
	err := o.s.st.View(func(tx store.Tx) error {
		var err error
		n, err = copyRange(tx, o.segs, o.off, p)
		return err
	})
	o.off += int64(n)
	if err != nil {
		return n, err
	}
	if n == 0 {
		return 0, errDataGone
	}
	return n, nil
}

// copySource parses x-amz-copy-source: "[/]bucket/key[?versionId=null]",
// URL-encoded.
func copySource(v string) (bucket, key string, err error) {
	src, version, _ := strings.Cut(v, "?")
	if version != "" {
		q, perr := url.ParseQuery(version)
		if perr != nil || len(q) != 1 || !q.Has("versionId") {
			return "", "", awsapi.Errorf(http.StatusBadRequest, "InvalidArgument", "Invalid copy source: %q", v)
		}
		if err := checkVersionID(q.Get("versionId")); err != nil {
			return "", "", err
		}
	}
	src, perr := url.PathUnescape(src)
	if perr != nil {
		return "", "", awsapi.Errorf(http.StatusBadRequest, "InvalidArgument", "Invalid copy source encoding: %q", v)
	}
	src = strings.TrimPrefix(src, "/")
	bucket, key, _ = strings.Cut(src, "/")
	if bucket == "" || key == "" {
		return "", "", awsapi.Errorf(http.StatusBadRequest, "InvalidArgument", "Copy Source must mention the source bucket and key: sourcebucket/sourcekey")
	}
	if err := checkBucketName(bucket); err != nil {
		return "", "", err
	}
	return bucket, key, nil
}

// copyConds evaluates x-amz-copy-source-if-* against the source.
func copyConds(h http.Header, rec *record) error {
	lm := time.Unix(0, rec.Modified).Truncate(time.Second)
	if v := h.Get("X-Amz-Copy-Source-If-Match"); v != "" && !etagMatches(v, rec.ETag) {
		return errPrecondition("x-amz-copy-source-if-match")
	}
	if v := h.Get("X-Amz-Copy-Source-If-None-Match"); v != "" && etagMatches(v, rec.ETag) {
		return errPrecondition("x-amz-copy-source-if-none-match")
	}
	if v := h.Get("X-Amz-Copy-Source-If-Unmodified-Since"); v != "" {
		if t, err := http.ParseTime(v); err == nil && lm.After(t) {
			return errPrecondition("x-amz-copy-source-if-unmodified-since")
		}
	}
	if v := h.Get("X-Amz-Copy-Source-If-Modified-Since"); v != "" {
		if t, err := http.ParseTime(v); err == nil && !lm.After(t) {
			return errPrecondition("x-amz-copy-source-if-modified-since")
		}
	}
	return nil
}

func (s *Service) copyObject(w http.ResponseWriter, req *request) error {
	r := req.r
	sb, sk, err := copySource(r.Header.Get("X-Amz-Copy-Source"))
	if err != nil {
		return err
	}
	metaDir := r.Header.Get("X-Amz-Metadata-Directive")
	tagDir := r.Header.Get("X-Amz-Tagging-Directive")
	for _, d := range []string{metaDir, tagDir} {
		if d != "" && d != "COPY" && d != "REPLACE" {
			return awsapi.Errorf(http.StatusBadRequest, "InvalidArgument", "Unknown directive %q: use COPY or REPLACE.", d)
		}
	}
	if sb == req.bucket && sk == req.key && metaDir != "REPLACE" {
		return awsapi.Errorf(http.StatusBadRequest, "InvalidRequest", "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.")
	}
	newMeta, err := metaFromHeaders(r.Header)
	if err != nil {
		return err
	}
	algo := normAlgorithm(r.Header.Get("X-Amz-Checksum-Algorithm"))
	var src *record
	if err := s.st.View(func(tx store.Tx) error {
		if err := bucketExists(tx, req.bucket); err != nil {
			return err
		}
		var err error
		src, err = s.loadObject(tx, sb, sk)
		return err
	}); err != nil {
		return err
	}
	if err := copyConds(r.Header, src); err != nil {
		return err
	}
	if src.Size > maxObjectSize {
		return awsapi.Errorf(http.StatusBadRequest, "InvalidRequest", "The specified copy source is larger than the maximum allowable size for a copy source: 5 GiB")
	}
	if algo == "" {
		algo = src.ChecksumAlgorithm
		if algo == "" || src.ChecksumType == "COMPOSITE" && algo != "CRC32" && algo != "CRC32C" {
			algo = "CRC64NVME"
		}
	}
	b, err := s.ingest(r.Context(), &objectReader{s: s, segs: src.Segments, end: src.Size}, src.Size, []string{algo})
	if err != nil {
		if errors.Is(err, errDataGone) {
			return errNoSuchKey(sk)
		}
		return err
	}
	rec := newMeta
	if metaDir != "REPLACE" {
		cp := *src
		cp.Tags = rec.Tags
		rec = &cp
	}
	if tagDir != "REPLACE" {
		rec.Tags = src.Tags
	}
	s.fillData(rec, b, [][2]string{{algo, base64.StdEncoding.EncodeToString(b.sum(algo))}})
	if err := s.commitObject(req.bucket, req.key, rec, b, putConds{}); err != nil {
		return err
	}
	out := copyObjectResult{ETag: `"` + rec.ETag + `"`, LastModified: xmlTime(rec.Modified), ChecksumType: rec.ChecksumType}
	out.set(algo, rec.Checksums[0][1])
	writeXML(w, http.StatusOK, out)
	return nil
}

func (s *Service) getObjectTagging(w http.ResponseWriter, req *request) error {
	var rec *record
	if err := s.st.View(func(tx store.Tx) error {
		var err error
		rec, err = s.loadObject(tx, req.bucket, req.key)
		return err
	}); err != nil {
		return err
	}
	writeXML(w, http.StatusOK, taggingOut{TagSet: tagsXML(rec.Tags)})
	return nil
}

// updateObjectMeta rewrites an object's record only; its data is untouched.
func (s *Service) updateObjectMeta(bucket, key string, fn func(*record)) error {
	return s.st.Update(func(tx store.Tx) error {
		rec, err := s.loadObject(tx, bucket, key)
		if err != nil {
			return err
		}
		fn(rec)
		return tx.Put(tObjects, objectKey(bucket, key), rec.marshal())
	})
}

func (s *Service) putObjectTagging(w http.ResponseWriter, req *request) error {
	data, err := s.readXMLBody(req.r)
	if err != nil {
		return err
	}
	tags, err := parseTagging(data, 10)
	if err != nil {
		return err
	}
	if err := s.updateObjectMeta(req.bucket, req.key, func(rec *record) { rec.Tags = tags }); err != nil {
		return err
	}
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Service) deleteObjectTagging(w http.ResponseWriter, req *request) error {
	if err := s.updateObjectMeta(req.bucket, req.key, func(rec *record) { rec.Tags = nil }); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
